"""Re-segmentation: frame-level speaker labels by Viterbi decoding with a speaker-switch penalty.

Each frame (``step`` seconds) inside a speech region gets a score per speaker: the mean cosine
similarity of the windows covering it to the speaker's centroid, minus a pitch term (distance
in octaves between the frame's F0 and the speaker's median F0, where voiced). Viterbi then picks
the best label sequence, paying ``switch_penalty`` per change, which removes one-window flips
and places boundaries at the frame level rather than the window level.
"""

from __future__ import annotations

import numpy as np

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
