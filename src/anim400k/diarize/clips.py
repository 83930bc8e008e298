"""Which episode-level speakers are heard in a clip.

A speaker counts as active in a clip when their speech inside the clip lasts at least
``min_overlap`` seconds (default 0.3 s): about one or two syllables, so a speaker whose turn
just grazes a clip boundary (a trailing syllable, a breath, a diarization boundary error of a
couple of frames) is not listed, while a short real interjection ("Eh?", "Hai!") still is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import Turn

DEFAULT_MIN_OVERLAP = 0.3
#: A clip whose speaker-set confidence is below this is counted as uncertain in the build report.
UNCERTAIN_BELOW = 0.5


def speakers_in_interval(turns: Sequence[Turn], start: float, end: float,
                         min_overlap: float = DEFAULT_MIN_OVERLAP) -> list[str]:
    """Speakers with at least ``min_overlap`` seconds of turns inside ``[start, end]``, by first turn.

    ``min_overlap`` is capped at half the interval so very short clips still get their speaker.
    """
    return clip_speakers(turns, np.array([[start, end]], dtype=float), min_overlap)[0]


def clip_speakers(turns: Sequence[Turn], intervals: np.ndarray,
                  min_overlap: float = DEFAULT_MIN_OVERLAP) -> list[list[str]]:
    """:func:`speakers_in_interval` for many clips at once (``intervals``: ``(n, 2)`` seconds).

    Vectorised per speaker: the overlap of each clip with a speaker's (merged) turns is computed
    from the cumulative speech time at the clip edges, ``O((n + m) log m)`` for ``m`` turns.
    """
    iv = np.asarray(intervals, dtype=float).reshape(-1, 2)
    n = len(iv)
    lo, hi = np.minimum(iv[:, 0], iv[:, 1]), np.maximum(iv[:, 0], iv[:, 1])
    need = np.minimum(min_overlap, 0.5 * (hi - lo))
    need = np.where(hi > lo, np.maximum(need, 1e-9), np.inf)
    order: dict[str, float] = {}
    per_speaker: dict[str, list[tuple[float, float]]] = {}
    for t in sorted(turns):
        if t.end > t.start:
            order.setdefault(t.speaker, t.start)
            per_speaker.setdefault(t.speaker, []).append((t.start, t.end))
    result: list[list[str]] = [[] for _ in range(n)]
    for spk in sorted(order, key=lambda s: order[s]):
        segs = _merge(np.array(per_speaker[spk]))
        covered = _covered_before(segs, hi) - _covered_before(segs, lo)
        for i in np.nonzero(covered >= need - 1e-9)[0]:
            result[i].append(spk)
    return result


def clip_confidence(turns: Sequence[Turn], intervals: np.ndarray,
                    min_overlap: float = DEFAULT_MIN_OVERLAP) -> list[float | None]:
    """How sure the diarization is of each clip's speaker set (0..1; ``None`` without turn confidences).

    The product of two terms: the speech-weighted mean confidence of the turns inside the clip
    (how clearly each stretch belongs to its speaker), and, for the speaker closest to the
    ``min_overlap`` threshold, ``|covered - needed| / needed`` capped at 1 (a speaker heard for
    0.31 s where 0.3 s is needed is as likely out as in). A clip with no speech has confidence 1
    when the turns have confidences (no speaker, surely), else ``None``.
    """
    iv = np.asarray(intervals, dtype=float).reshape(-1, 2)
    lo, hi = np.minimum(iv[:, 0], iv[:, 1]), np.maximum(iv[:, 0], iv[:, 1])
    need = np.maximum(np.minimum(min_overlap, 0.5 * (hi - lo)), 1e-9)
    ts = [t for t in turns if t.end > t.start]
    if not ts or all(t.confidence is None for t in ts):
        return [None] * len(iv)
    starts = np.array([t.start for t in ts])
    ends = np.array([t.end for t in ts])
    conf = np.array([np.nan if t.confidence is None else t.confidence for t in ts])
    names = sorted({t.speaker for t in ts})
    spk = np.array([names.index(t.speaker) for t in ts])
    onehot = np.zeros((len(ts), len(names)))
    onehot[np.arange(len(ts)), spk] = 1.0
    known = np.isfinite(conf)
    out: list[float | None] = []
    for a in range(0, len(iv), 256):  # clips x turns overlap matrix, in blocks
        lo_b, h, nd = lo[a : a + 256, None], hi[a : a + 256, None], need[a : a + 256, None]
        ov = np.clip(np.minimum(h, ends[None, :]) - np.maximum(lo_b, starts[None, :]), 0.0, None)
        wk = ov * known[None, :]
        mean_conf = (wk @ np.nan_to_num(conf)) / np.maximum(wk.sum(axis=1), 1e-12)
        mean_conf = np.where(wk.sum(axis=1) > 0, mean_conf, 1.0)
        covered = ov @ onehot
        border = np.where(covered > 0, np.minimum(np.abs(covered - nd) / nd, 1.0), 1.0).min(axis=1)
        out.extend(round(float(c), 3) for c in np.clip(mean_conf * border, 0.0, 1.0))
    return out


def multi_speaker(speakers: Sequence[str]) -> bool:
    """True when more than one speaker is heard in the clip."""
    return len(speakers) > 1


def _merge(segs: np.ndarray) -> np.ndarray:
    segs = segs[np.argsort(segs[:, 0])]
    out = [list(segs[0])]
    for a, b in segs[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.array(out)


def _covered_before(segs: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Seconds of ``segs`` (sorted, disjoint) before each time in ``t``."""
    starts, ends = segs[:, 0], segs[:, 1]
    cum = np.concatenate([[0.0], np.cumsum(ends - starts)])
    k = np.searchsorted(starts, t, side="right")  # segments starting at or before t
    full = cum[np.maximum(k - 1, 0)]
    partial = np.where(k > 0, np.clip(t - starts[np.maximum(k - 1, 0)], 0, None), 0.0)
    partial = np.minimum(partial, np.where(k > 0, (ends - starts)[np.maximum(k - 1, 0)], 0.0))
    return np.where(k > 0, full + partial, 0.0)
