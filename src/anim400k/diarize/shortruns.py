"""Short speech runs re-scored on their own audio (issue 15; docs/diarization.md, *Short lines*).

A short line (under ~1 s) between two other speakers' lines is embedded by the diarizer's 1.5 s
windows only together with its neighbours' voices (or, in a speech region under the shortest window,
not at all: its frames take the nearest window's scores), and the re-segmentation gives it to a
neighbour. After the re-segmentation, each *run* (a stretch of one speaker's speech bounded by
pauses or speaker changes) shorter than ``max_len`` that is not the whole of its speaker's turn is
embedded on its own audio and compared with each speaker's centroid from their confident, long
windows (:func:`centroid_windows`); the run is given to another speaker who fits clearly better
(:func:`relabel`). This module holds the parts that need no model: finding the runs, choosing the
windows for the centroids and deciding the labels; :mod:`.embedded` embeds the runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .base import Turn


@dataclass(frozen=True)
class Run:
    """A stretch of one speaker's speech (seconds) and the speech of the turn it belongs to."""

    start: float
    end: float
    speaker: str
    #: seconds of speech of the turn (runs of the speaker with no other speaker between) holding the run
    turn_speech: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def quiet_spans(level: np.ndarray, hop: float, below_db: float, min_len: float = 0.15,
                loud_percentile: float = 95.0) -> list[tuple[float, float]]:
    """Stretches (seconds) of at least ``min_len`` s where the level track ``level`` (dB, one frame every
    ``hop`` s) stays more than ``below_db`` under its loud level (the ``loud_percentile`` of the frames):
    the pauses inside speech regions that the VAD bridges (music left in the separated speech)."""
    if level.size == 0:
        return []
    quiet = np.concatenate([[False], level < np.percentile(level, loud_percentile) - below_db, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    keep = (ends - starts) * hop >= min_len - 1e-9
    return [(float(a * hop), float(b * hop)) for a, b in zip(starts[keep], ends[keep], strict=True)]


def speech_runs(pieces: Sequence[Turn], pause: float = 0.05, chain: float = 1.0,
                pauses: Sequence[tuple[float, float]] = ()) -> list[Run]:
    """The runs of ``pieces`` (non-overlapping turns, e.g. the re-segmentation's, each inside one speech
    region), cut at the ``pauses`` (seconds; e.g. :func:`quiet_spans`): consecutive pieces of one speaker
    less than ``pause`` s apart joined; each with the speech of its turn, the runs of that speaker that
    follow one another with no other speaker's run between and at most ``chain`` s of pause between two
    of them."""
    ordered = sorted(p for p in _cut(pieces, pauses) if p.end > p.start)
    spans: list[list] = []  # [start, end, speaker]
    for p in ordered:
        if spans and spans[-1][2] == p.speaker and p.start - spans[-1][1] < pause:
            spans[-1][1] = max(spans[-1][1], p.end)
        else:
            spans.append([p.start, p.end, p.speaker])
    out: list[Run] = []
    i = 0
    while i < len(spans):
        j = i + 1
        while j < len(spans) and spans[j][2] == spans[i][2] and spans[j][0] - spans[j - 1][1] <= chain:
            j += 1
        speech = sum(s[1] - s[0] for s in spans[i:j])
        out.extend(Run(float(s[0]), float(s[1]), str(s[2]), float(speech)) for s in spans[i:j])
        i = j
    return out


def short_runs(runs: Sequence[Run], max_len: float = 1.2, min_len: float = 0.25,
               whole: bool = False) -> list[Run]:
    """The runs of ``min_len`` to ``max_len`` s that are not the whole of their turn's speech (``whole``:
    those too)."""
    return [r for r in runs if min_len <= r.duration < max_len
            and (whole or r.turn_speech > r.duration + 1e-6)]


def centroid_windows(windows: np.ndarray, pieces: Sequence[Turn], k: int, window: float,
                     min_confidence: float = 0.5, cover: float = 0.9,
                     exclude: Sequence[Run] = ()) -> np.ndarray:
    """Each window's speaker index (``c<i>`` -> ``i``) where the window is a confident, long one of that
    speaker, else -1: at least ``0.99 window`` s long, at least ``cover`` of it under pieces of one
    speaker whose (time-weighted) confidence is at least ``min_confidence``, and not touching any of the
    ``exclude`` runs (those being re-scored). A speaker left with no such window gets all the windows
    mostly under their pieces."""
    n = len(windows)
    share = np.zeros((n, k))
    conf = np.zeros((n, k))
    for p in pieces:
        i = _index(p.speaker, k)
        if i is None:
            continue
        ov = np.clip(np.minimum(windows[:, 1], p.end) - np.maximum(windows[:, 0], p.start), 0.0, None)
        share[:, i] += ov
        conf[:, i] += ov * (1.0 if p.confidence is None else p.confidence)
    length = np.maximum(windows[:, 1] - windows[:, 0], 1e-9)
    best = share.argmax(axis=1) if k else np.zeros(n, int)
    own = share[np.arange(n), best] if k else np.zeros(n)
    mean_conf = conf[np.arange(n), best] / np.maximum(own, 1e-9) if k else np.zeros(n)
    free = np.ones(n, bool)
    for r in exclude:
        free &= (windows[:, 1] <= r.start) | (windows[:, 0] >= r.end)
    mostly = free & (own >= 0.5 * length)
    strict = mostly & (length >= 0.99 * window) & (own >= cover * length) & (mean_conf >= min_confidence)
    out = np.where(strict, best, -1)
    for i in range(k):
        if not np.any(out == i):
            out[mostly & (best == i)] = i
    return out


def speaker_scores(vec: np.ndarray, cent: np.ndarray, pitch: np.ndarray | None = None,
                   spk_pitch: np.ndarray | None = None, pitch_weight: float = 1.0) -> np.ndarray:
    """``(runs, speakers)`` cosine of each run's vector ``vec`` to each speaker's centroid ``cent`` (rows
    of unit length, in one centred space), minus ``pitch_weight`` x the distance in octaves of the run's
    median log2 F0 ``pitch`` from each speaker's ``spk_pitch`` (capped at 1 octave, as the
    re-segmentation; no term where either is unknown). A speaker whose centroid is all zeros (no window to
    take it from: :func:`centroid_windows` found none) scores ``-inf``: nothing is known of their voice, and a
    cosine of 0 would beat a run's own speaker wherever that is negative."""
    s = vec @ cent.T
    if pitch is not None and spk_pitch is not None and pitch_weight > 0:
        d = np.minimum(np.abs(pitch[:, None] - spk_pitch[None, :]), 1.0)
        s = s - pitch_weight * np.nan_to_num(d, nan=0.0)
    return np.where(np.any(cent != 0, axis=1)[None, :], s, -np.inf)


def relabel(runs: Sequence[Run], scores: np.ndarray, margin: float, k: int,
            allowed: np.ndarray | None = None) -> list[Turn]:
    """A turn for each run whose best speaker by ``scores`` (``(runs, k)``) is not its own and beats
    its own by more than ``margin`` (``allowed[i]`` False: run ``i`` is left alone); the turn's
    confidence is ``1 - exp(-(gain - margin) / 0.4)``. A run of nobody (speaker ``""``: speech no turn
    covers) gets its best speaker, the confidence from that speaker's lead over the runner-up. A speaker
    scored ``-inf`` (unknown: :func:`speaker_scores`) gets no run, and a run of such a speaker is left alone."""
    out: list[Turn] = []
    for i, r in enumerate(runs):
        if allowed is not None and not allowed[i]:
            continue
        known = np.isfinite(scores[i])
        if not known.any():
            continue
        best = int(np.argmax(np.where(known, scores[i], -np.inf)))
        if r.speaker == "":
            others = np.delete(scores[i], best)
            others = others[np.isfinite(others)]
            second = others.max() if others.size else scores[i, best] - 1.0
            gain, margin_i = float(scores[i, best] - second), 0.0
        else:
            own = _index(r.speaker, k)
            if own is None or best == own or not known[own]:
                continue
            gain, margin_i = float(scores[i, best] - scores[i, own]), margin
        if gain > margin_i:
            out.append(Turn(r.start, r.end, f"c{best}", float(1.0 - np.exp(-(gain - margin_i) / 0.4))))
    return out


def unlabelled(regions: np.ndarray, pieces: Sequence[Turn], min_len: float = 0.25) -> list[Run]:
    """Speech regions (``(n, 2)`` s) of at least ``min_len`` s that no piece touches, as runs of nobody."""
    out = []
    for a, b in np.asarray(regions, dtype=float).reshape(-1, 2):
        if b - a >= min_len and not any(p.start < b and p.end > a for p in pieces):
            out.append(Run(float(a), float(b), "", 0.0))
    return out


def near_edges(runs: Sequence[Run], edges: np.ndarray, radius: float) -> np.ndarray:
    """Per run: some time of ``edges`` (e.g. subtitle event starts and ends) lies within ``radius`` s of the
    run's start or end."""
    e = np.sort(np.asarray(edges, dtype=float).ravel())
    out = np.zeros(len(runs), bool)
    if e.size == 0:
        return out
    for i, r in enumerate(runs):
        for t in (r.start, r.end):
            j = np.searchsorted(e, t)
            near = [e[m] for m in (j - 1, j) if 0 <= m < len(e)]
            out[i] |= any(abs(x - t) <= radius for x in near)
    return out


def tiled(audio: np.ndarray, spans: Sequence[tuple[float, float]], sr: int, length: float,
          gap: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Each span of ``audio`` repeated end to end up to ``length`` s (a span as long or longer is cut to
    ``length``), the pieces laid one after another ``gap`` s apart: ``(samples, windows)``, the windows
    ``(n, 2)`` s giving each piece's place in the samples (for a window embedding model)."""
    n = int(round(length * sr))
    g = int(round(gap * sr))
    out = np.zeros(len(spans) * (n + g), np.float32)
    wins = np.zeros((len(spans), 2))
    for i, (a, b) in enumerate(spans):
        seg = np.asarray(audio[int(a * sr): max(int(b * sr), int(a * sr) + 1)], dtype=np.float32)
        reps = -(-n // max(len(seg), 1))
        piece = np.tile(seg, reps)[:n] if seg.size else np.zeros(n, np.float32)
        o = i * (n + g)
        out[o: o + n] = piece
        wins[i] = (o / sr, (o + n) / sr)
    return out, wins


def _cut(pieces: Sequence[Turn], spans: Sequence[tuple[float, float]]) -> list[Turn]:
    """``pieces`` (sorted or not) with the time of the ``spans`` (sorted, not overlapping) taken out."""
    if not spans:
        return list(pieces)
    sp = np.asarray(spans, dtype=float).reshape(-1, 2)
    out: list[Turn] = []
    for p in pieces:
        t = p.start
        lo = int(np.searchsorted(sp[:, 1], p.start, side="right"))
        for a, b in sp[lo:]:
            if a >= p.end:
                break
            if a > t:
                out.append(Turn(t, float(a), p.speaker, p.confidence))
            t = max(t, float(b))
        if p.end > t:
            out.append(Turn(t, p.end, p.speaker, p.confidence))
    return out


def _index(speaker: str, k: int) -> int | None:
    """``c<i>`` -> ``i`` when ``0 <= i < k``, else None."""
    if not speaker.startswith("c") or not speaker[1:].isdigit():
        return None
    i = int(speaker[1:])
    return i if i < k else None
