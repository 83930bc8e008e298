"""Re-segmentation: frame-level speaker labels by Viterbi decoding with a speaker-switch penalty, their turns
and confidence.

Each frame (``step`` seconds) inside a speech region gets a score per speaker: the mean cosine
similarity of the windows covering it to the speaker's centroid, minus a pitch term (distance
in octaves between the frame's F0 and the speaker's median F0, where voiced). Viterbi then picks
the best label sequence, paying ``switch_penalty`` per change, which removes one-window flips
and places boundaries at the frame level rather than the window level.
"""

from __future__ import annotations

import numpy as np

from .base import Turn
from .pitch import FRAME_HOP


def frame_scores(
    frame_times: np.ndarray,
    windows: np.ndarray,
    window_scores: np.ndarray,
) -> np.ndarray:
    """Mean of ``window_scores`` (``(n_windows, k)``) over the windows covering each frame time.

    Frames covered by no window take the scores of the window whose centre is nearest.
    """
    starts, ends = windows[:, 0], windows[:, 1]
    order = np.argsort(starts)
    starts, ends, ws = starts[order], ends[order], window_scores[order]
    k = ws.shape[1]
    csum = np.vstack([np.zeros((1, k)), np.cumsum(ws, axis=0)])
    # windows are sorted by start and all have (nearly) the same length, so the covering set is
    # contiguous: first window with end > t .. last window with start <= t
    lo = np.searchsorted(np.maximum.accumulate(ends), frame_times, side="right")
    hi = np.searchsorted(starts, frame_times, side="right")
    count = hi - lo
    out = np.empty((len(frame_times), k))
    ok = count > 0
    out[ok] = (csum[hi[ok]] - csum[lo[ok]]) / count[ok, None]
    if np.any(~ok):
        centres = 0.5 * (starts + ends)
        nearest = np.abs(frame_times[~ok, None] - centres[None, :]).argmin(axis=1)
        out[~ok] = ws[nearest]
    return out


def pitch_scores(frame_times: np.ndarray, f0: np.ndarray, speaker_pitch: np.ndarray, weight: float) -> np.ndarray:
    """``-weight x |log2 F0(t) - speaker median|`` per frame and speaker (0 where unvoiced/unknown)."""
    idx = np.clip((frame_times / FRAME_HOP).astype(int), 0, max(len(f0) - 1, 0))
    logf = np.log2(f0[idx]) if len(f0) else np.full(len(frame_times), np.nan)
    dist = np.abs(logf[:, None] - speaker_pitch[None, :])
    return -weight * np.nan_to_num(np.minimum(dist, 1.0), nan=0.0)


def viterbi(scores: np.ndarray, switch_penalty: float | np.ndarray) -> np.ndarray:
    """Label sequence maximising ``sum(scores[t, label_t]) - switch_penalty x (number of changes)``.

    ``switch_penalty`` may be one value per frame: the penalty of a change into frame ``t``."""
    n, k = scores.shape
    if n == 0:
        return np.zeros(0, dtype=int)
    pen = np.broadcast_to(np.asarray(switch_penalty, dtype=float), (n,))
    back = np.zeros((n, k), dtype=np.int32)
    acc = scores[0].copy()
    for t in range(1, n):
        best_prev = int(np.argmax(acc))
        stay = acc
        switch = acc[best_prev] - pen[t]
        take_switch = switch > stay
        back[t] = np.where(take_switch, best_prev, np.arange(k))
        acc = np.where(take_switch, switch, stay) + scores[t]
    path = np.empty(n, dtype=int)
    path[-1] = int(np.argmax(acc))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def margin_to_confidence(margin: np.ndarray | float, scale: float) -> np.ndarray | float:
    """``1 - exp(-margin / scale)``, 0 for a margin of 0 or less."""
    return 1.0 - np.exp(-np.maximum(margin, 0.0) / max(scale, 1e-9))


def frame_confidence(scores: np.ndarray, path: np.ndarray, scale: float = 0.1) -> np.ndarray:
    """Per frame, ``1 - exp(-margin / scale)`` where ``margin`` is the chosen speaker's score minus
    the best other speaker's (0 when another speaker scores higher; centred-cosine units)."""
    n, k = scores.shape
    chosen = scores[np.arange(n), path]
    if k < 2:
        return np.ones(n)
    other = scores.copy()
    other[np.arange(n), path] = -np.inf
    return np.asarray(margin_to_confidence(chosen - other.max(axis=1), scale))


def window_labels(windows: np.ndarray, turns: list[Turn], old: np.ndarray) -> np.ndarray:
    """Each window's speaker after re-segmentation (the one covering most of it; ``old`` if none),
    renumbered ``0..k-1`` without speakers left with no window."""
    k = int(old.max()) + 1
    cover = np.zeros((len(windows), k))
    for t in turns:
        i = int(t.speaker[1:])
        cover[:, i] += np.clip(np.minimum(windows[:, 1], t.end) - np.maximum(windows[:, 0], t.start), 0, None)
    labels = np.where(cover.max(axis=1) > 0, cover.argmax(axis=1), old)
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def path_runs(path: np.ndarray, t0: np.ndarray, step: float, lo: float, hi: float,
              conf: np.ndarray | None = None) -> list[Turn]:
    """The turns of a Viterbi ``path`` (one ``c<i>`` turn per run of a label; frame ``i`` starts at ``t0[i]`` and
    lasts ``step`` s; clipped to ``lo``..``hi``), each with the mean of its frames' confidence ``conf``."""
    cut = np.nonzero(np.diff(path))[0] + 1
    bounds = np.concatenate([[0], cut, [len(path)]])
    out = []
    for i, j in zip(bounds[:-1], bounds[1:], strict=True):
        start = max(lo, float(t0[i]))
        end = min(hi, float(t0[j - 1]) + step)
        c = None if conf is None else float(np.mean(conf[i:j]))
        out.append(Turn(start, end, f"c{path[i]}", c))
    return out
