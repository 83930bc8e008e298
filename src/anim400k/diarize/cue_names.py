"""Speaker names the subtitles give (per window :func:`.cue_windows.window_names`) as constraints: must-link
and cannot-link amounts, the least speaker count, and a per-speaker score bonus matched one to one."""

from __future__ import annotations

import math

import numpy as np


def name_constraints(names: np.ndarray, link: float, apart: float) -> np.ndarray | None:
    """The affinity change the names ask for (``(n, n)``): ``+link`` for two windows of the same name,
    ``-apart`` for two windows of different names, 0 where either has none (and on the diagonal); None
    when no two windows have names or both amounts are 0."""
    named = names >= 0
    if (link == 0 and apart == 0) or named.sum() < 2:
        return None
    both = named[:, None] & named[None, :]
    same = both & (names[:, None] == names[None, :])
    out = np.where(same, float(link), 0.0) - np.where(both & ~same, float(apart), 0.0)
    np.fill_diagonal(out, 0.0)
    return out


def name_floor(names: np.ndarray, windows: np.ndarray, min_speech: float) -> int:
    """How many names have at least ``min_speech`` s of speech under their windows (the union of the
    windows, ``(n, 2)`` seconds): the least speaker count the names ask for."""
    count = 0
    for k in np.unique(names[names >= 0]):
        spans = windows[names == k]
        spans = spans[np.argsort(spans[:, 0])]
        total, end = 0.0, -math.inf
        for a, b in spans:
            if b > end:
                total += b - max(a, end)
                end = b
        count += total >= min_speech
    return int(count)


def name_scores(names: np.ndarray, labels: np.ndarray, k: int, bonus: float) -> np.ndarray:
    """Per window and speaker (``(n, k)``): ``bonus`` for the speaker matched to the window's name, 0
    elsewhere. Names and speakers (``labels``: each window's, ``0..k-1``) are matched one to one, most
    shared windows first (the assignment that maximises them); a name matched to a speaker holding none
    of its windows gets nothing."""
    from scipy.optimize import linear_sum_assignment

    out = np.zeros((len(names), k))
    ids = np.unique(names[names >= 0])
    if ids.size == 0 or k == 0:
        return out
    counts = np.stack([np.bincount(labels[names == name], minlength=k)[:k] for name in ids])
    for row, col in zip(*linear_sum_assignment(-counts), strict=True):
        if counts[row, col] > 0:
            out[names == ids[row], col] = bonus
    return out
