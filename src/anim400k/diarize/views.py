"""The other language's track as a second view of each speaker (dual-track diarization).

In a dub each character has one JP actor and one EN actor, and the lines sit at (nearly) the
same times in both tracks. Two characters whose JP voices are confusable are rarely confusable
in EN as well, so the embedded diarizer can embed the EN speech under each JP window and
combine the two views: affinities, cluster similarities and re-segmentation scores are the
weighted mean of the JP and EN ones wherever the EN track has speech under the window, and
the JP ones alone elsewhere (EN silent there, or no EN track at all). A cluster whose halves the
EN track voices with two actors is cut in two (:func:`split_by_other`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import clustering

#: windows with the other track's speech a cluster needs for its other-view centroid
MIN_OTHER_WINDOWS = 3


@dataclass
class OtherView:
    """Window embeddings and pitch of the other track at the JP windows.

    ``valid[i]`` says the other track has speech under most of window ``i``; ``emb`` and ``pitch``
    of invalid windows are not used.
    """

    emb: np.ndarray
    pitch: np.ndarray
    f0: np.ndarray
    valid: np.ndarray
    #: the embedding model's own vectors when ``emb`` also holds spectral features (cluster merging)
    raw: np.ndarray | None = None

    @property
    def raw_emb(self) -> np.ndarray:
        """``raw`` when set, else ``emb``."""
        return self.emb if self.raw is None else self.raw


def covered_fraction(windows: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Share of each window (``(n, 2)`` seconds) covered by the (disjoint) ``regions``."""
    out = np.zeros(len(windows))
    for a, b in regions:
        out += np.clip(np.minimum(windows[:, 1], b) - np.maximum(windows[:, 0], a), 0, None)
    return out / np.maximum(windows[:, 1] - windows[:, 0], 1e-9)


def level_gate(windows: np.ndarray, other_power: np.ndarray, jp_power: np.ndarray, frame: float,
               valid: np.ndarray, gate_db: float) -> np.ndarray:
    """Windows where the other track's speech is loud enough, next to the JP speech, to be its own.

    Per window, the level difference (dB) of the other track's speech over the JP speech (mean frame
    powers ``other_power`` / ``jp_power``, one per ``frame`` seconds); True where it is at least the
    median difference over the ``valid`` windows minus ``gate_db``. A dialogue-free stretch of the
    other track carries only what its separation leaked of the JP voice, well under its own
    dialogue's level, while each track's dialogue sits at its mix's level.
    """
    def level(power: np.ndarray) -> np.ndarray:
        c = np.concatenate([[0.0], np.cumsum(power, dtype=np.float64)])
        a = np.clip((windows[:, 0] / frame).astype(int), 0, len(power))
        b = np.clip(np.ceil(windows[:, 1] / frame).astype(int), 0, len(power))
        mean = (c[b] - c[a]) / np.maximum(b - a, 1)
        return 10.0 * np.log10(mean + 1e-12)

    diff = level(other_power) - level(jp_power)
    if not np.any(valid):
        return np.ones(len(windows), bool)
    return diff >= float(np.median(diff[valid])) - gate_db


def combined_affinity(aff: np.ndarray, view: OtherView | None, emb_weight: float, pitch_weight: float) -> np.ndarray:
    """``aff`` (JP fused affinity) averaged with the other view's fused affinity (weight
    ``emb_weight``) on the pairs of windows where both have other-track speech."""
    if view is None or view.valid.sum() < 3 or emb_weight <= 0:
        return aff
    idx = np.nonzero(view.valid)[0]
    other = clustering.fused_affinity(view.emb[idx], view.pitch[idx], pitch_weight)
    out = aff.copy()
    sub = np.ix_(idx, idx)
    out[sub] = (1.0 - emb_weight) * aff[sub] + emb_weight * other
    return out


def joint_count(combined: np.ndarray, jp: np.ndarray, min_speakers: int = 1, max_speakers: int = 8) -> int:
    """Speaker count: the larger of the NME eigengap counts of the ``combined`` (JP + other view)
    and the ``jp``-only affinity. The mean with the other view can blur two JP voices whose other-track
    actors sound alike; the clusters merge again afterwards when they are one speaker in both views."""
    return max(view_counts(combined, jp, min_speakers, max_speakers))


def view_counts(combined: np.ndarray, jp: np.ndarray, min_speakers: int = 1, max_speakers: int = 8,
                count: Callable[[np.ndarray, int, int], int] | None = None) -> tuple[int, int]:
    """The speaker counts of the ``combined`` and of the ``jp``-only affinity: ``count(affinity, min, max)``,
    by default NME's eigengap count."""
    if count is None:
        def count(a: np.ndarray, lo: int, hi: int) -> int:
            return clustering.nme_count(a, lo, hi)
    return count(combined, min_speakers, max_speakers), count(jp, min_speakers, max_speakers)


def centred_scores(emb: np.ndarray, labels: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """Cosine of each window's centred embedding to each speaker's centred centroid, computed over the
    ``valid`` windows (rows of other windows are 0; a speaker with no valid window scores 0)."""
    out = np.zeros((len(emb), k))
    rows = np.asarray(valid, dtype=bool)
    if not rows.any():
        return out
    cwin = clustering.l2_normalize(emb[rows] - emb[rows].mean(axis=0))
    cent, counts = clustering.centred_centroids(emb, labels, k, rows)
    out[rows] = cwin @ cent.T
    out[:, counts == 0] = 0.0
    return out


def other_speech(other_mix: np.ndarray, sr: int, n: int, backing: np.ndarray | None = None,
                 time_map: object | None = None) -> np.ndarray:
    """The other language's speech on this track's timeline: ``other_mix`` (its own timeline) mapped
    through ``time_map`` (a :class:`anim400k.model.TimeMap`, identity when None; piecewise for an
    edited EN medium) to ``n`` samples, minus ``backing`` (the music and effects both tracks share,
    on this timeline) when given. Where the other track has no counterpart (outside it, or a span
    cut from it) the view is silent: no speech of the other language there."""
    from ..model import TimeMap
    from ..separate.dualtrack import align_reference, covered_spans

    tm = time_map if isinstance(time_map, TimeMap) else TimeMap(0.0, 0.0, 1.0)
    aligned, _, _, _ = align_reference(np.asarray(other_mix, np.float32), sr, tm, n)
    if backing is not None:
        for a, b in covered_spans(len(other_mix), sr, tm, n):
            b = min(b, len(backing))
            if b > a:
                aligned[a:b] -= backing[a:b]
    return aligned


def dual_track_speech(audio: np.ndarray, other_mix: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray | None]:
    """This track's speech and the other track's speech on its timeline, from the two mixes.

    The dual-track separator estimates the time map and the shared backing (music and effects);
    both mixes minus that backing are returned. When it falls back to one track (the other
    track is out of sync, another cut or silent) the mix itself and None are returned.
    """
    from ..separate import get_separator

    x = np.asarray(audio, np.float32)
    sep = get_separator("dualtrack").separate(x, sr, reference=np.asarray(other_mix, np.float32))
    if sep.fallback:
        return x, None
    backing = np.asarray(sep.backing[: len(x)], np.float32)
    speech = x.copy()
    speech[: len(backing)] -= backing
    return speech, other_speech(other_mix, sr, len(x), backing, sep.time_map)


def cluster_half_scores(emb: np.ndarray, labels: np.ndarray, view: OtherView, jp_weight: float = 0.0,
                        min_share: float = 0.2, min_windows: int = 10,
                        min_other: int = 3) -> Iterator[tuple[int, np.ndarray, np.ndarray, float]]:
    """The split test of each cluster, largest first: ``(cluster, its window indices, 2-means halves, score)``.

    Each cluster of at least ``min_windows`` windows is cut by 2-means on its windows' centred
    features ``emb``; clusters whose halves hold under ``min_share`` of the windows or under
    ``min_other`` windows with other-track speech are left out. The score is the cosine of the
    halves' other-view centroids (centred over the episode's valid windows), plus ``jp_weight``
    times the cosine of the halves' centroids of ``emb`` (centred over the episode). A generator:
    a caller that stops early skips the remaining clusters' 2-means.
    """
    from sklearn.cluster import KMeans

    centred = emb - emb.mean(axis=0)
    x = clustering.l2_normalize(centred)
    ov = view.emb
    mu = ov[view.valid].mean(axis=0)
    for c in np.argsort(-np.bincount(labels)):
        idx = np.nonzero(labels == c)[0]
        if len(idx) < min_windows:
            continue
        half = KMeans(2, n_init=5, random_state=0).fit_predict(x[idx])
        if min(half.sum(), len(half) - half.sum()) < min_share * len(idx):
            continue
        a, b = idx[(half == 0) & view.valid[idx]], idx[(half == 1) & view.valid[idx]]
        if min(len(a), len(b)) < min_other:
            continue
        ca, cb = clustering.l2_normalize(np.stack([ov[a].mean(axis=0) - mu, ov[b].mean(axis=0) - mu]))
        score = float(ca @ cb)
        if jp_weight:
            ja, jb = clustering.l2_normalize(np.stack([centred[idx[half == 0]].mean(axis=0),
                                                       centred[idx[half == 1]].mean(axis=0)]))
            score += jp_weight * float(ja @ jb)
        yield int(c), idx, half, score


def split_by_other(emb: np.ndarray, labels: np.ndarray, view: OtherView, max_cos: float,
                   max_speakers: int, jp_weight: float = 0.0, jp_max: float | None = None,
                   neighbour_max: float | None = None, min_other: int = 3,
                   same_actor: float | None = None) -> np.ndarray:
    """Labels with clusters cut in two where the other language's track says they hold two characters.

    Each cluster (largest first, each once) whose :func:`cluster_half_scores` score is below
    ``max_cos`` gives its second half a new label, up to ``max_speakers`` speakers. One JP voice
    split by what its lines say has halves that one EN actor speaks (cosine high); two characters
    with confusable JP voices usually have two EN actors. Two guards keep a cut from splitting one
    voice whose EN view is noisy: ``jp_max``, the halves' centred JP centroids must be less alike
    than this; ``neighbour_max``, neither half's centred EN centroid may be this alike to another
    cluster's (with >= :data:`MIN_OTHER_WINDOWS` EN-voiced windows): such a half heard a neighbour's
    EN line, not an actor of its own (None: no guard). ``min_other``: the fewest windows with
    other-track speech in each half. ``same_actor``: the halves' other-view centroids of the embedding model's
    own vectors (``view.raw_emb``, not centred) must be less alike than this; at or above it both halves are
    one EN actor, however apart centring puts them (None: no guard).

    One cluster is never cut: every centroid is centred over the episode, whose mean is then that cluster's own, so
    any two halves of one voice point apart (cosine near -1 in both views) and were taken for two actors (an
    outside tester, 2026-12-07: one-character episodes diarized as 2-3 speakers, DER ~50 %).
    """
    out = labels.copy()
    if len(labels) == 0 or int(labels.max()) < 1:
        return out
    centred = emb - emb.mean(axis=0)
    ov, valid = view.emb, view.valid
    mu = ov[valid].mean(axis=0)
    k = int(labels.max()) + 1
    theirs, voiced = clustering.centred_centroids(ov, labels, k, valid)  # each cluster's EN voice, once
    for c, idx, half, score in cluster_half_scores(emb, labels, view, jp_weight, min_other=min_other):
        if int(out.max()) + 1 >= max_speakers:
            break
        if score >= max_cos:
            continue
        if jp_max is not None:
            ja, jb = clustering.l2_normalize(np.stack([centred[idx[half == h]].mean(axis=0) for h in (0, 1)]))
            if float(ja @ jb) >= jp_max:
                continue
        if same_actor is not None:  # the halves' EN voices, not centred: one actor's
            ra, rb = clustering.l2_normalize(np.stack([view.raw_emb[idx[(half == h) & valid[idx]]].mean(axis=0)
                                                       for h in (0, 1)]))
            if float(ra @ rb) >= same_actor:
                continue
        if neighbour_max is not None:  # a half that sounds like another cluster's EN actor heard its line
            others = (voiced >= MIN_OTHER_WINDOWS) & (np.arange(k) != c)
            halves = clustering.l2_normalize(np.stack([ov[idx[(half == h) & valid[idx]]].mean(axis=0) - mu
                                                       for h in (0, 1)]))
            if others.any() and float((halves @ theirs[others].T).max()) >= neighbour_max:
                continue
        out[idx[half == 1]] = int(out.max()) + 1
    return out
