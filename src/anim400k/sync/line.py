"""Robust line fit ``t_en = a + b t_jp`` over matches: exhaustive-pair RANSAC, least squares on inliers."""

from __future__ import annotations

import numpy as np


def ransac_line(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    tol: float,
    max_drift: float = 0.05,
    slope_range: tuple[float, float] | None = None,
) -> tuple[float, float, np.ndarray] | None:
    """Exhaustive-pair RANSAC for ``y = a + b x`` with ``|b - 1| <= max_drift``, then LS on inliers.

    ``slope_range`` replaces the slope bounds (the least-squares refit is clipped to them).
    """
    slope_lo, slope_hi = slope_range or (1.0 - max_drift - 0.005, 1.0 + max_drift + 0.005)
    n = x.size
    if n == 0:
        return None
    weights = np.clip(w, 1e-3, None)
    if n == 1:
        return float(y[0] - x[0]), 1.0, np.ones(1, dtype=bool)
    best_score, best = -1.0, (float(np.median(y - x)), 1.0)
    for i in range(n):
        for j in range(i + 1, n):
            dx = x[j] - x[i]
            if abs(dx) < 1e-6:
                continue
            b = (y[j] - y[i]) / dx
            if not slope_lo <= b <= slope_hi:
                continue
            a = y[i] - b * x[i]
            score = float(weights[np.abs(y - (a + b * x)) < tol].sum())
            if score > best_score:
                best_score, best = score, (a, b)
    # also try the mid-range slope through each point (robust for few windows)
    b_mid = 1.0 if slope_range is None else 0.5 * (slope_lo + slope_hi)
    for i in range(n):
        a = y[i] - b_mid * x[i]
        score = float(weights[np.abs(y - (a + b_mid * x)) < tol].sum())
        if score > best_score:
            best_score, best = score, (a, b_mid)
    a, b = best
    inl = np.abs(y - (a + b * x)) < tol
    if inl.sum() >= 2 and np.ptp(x[inl]) > 1e-3:
        b, a = np.polyfit(x[inl], y[inl], 1)
        if not slope_lo <= b <= slope_hi:
            b = float(np.clip(b, slope_lo, slope_hi))
            a = float(np.median(y[inl] - b * x[inl]))
        inl = np.abs(y - (a + b * x)) < tol
    elif inl.sum() >= 1:
        a = float(np.median(y[inl] - b * x[inl]))
    return float(a), float(b), inl


def second_line(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, inl: np.ndarray, b: float, tol: float
) -> tuple[float, np.ndarray] | None:
    """The largest group of the outliers of a fit that agree among themselves on ``y = a2 + b x``.

    Same slope ``b`` as the fit (an edit in one medium moves the offset, not the speed): for
    each outlier, the outliers within ``tol`` of the line of slope ``b`` through it are
    counted (weights ``w``). Returns ``(a2, members)`` (a boolean mask over all the points,
    ``a2`` the members' median offset) or None when fewer than two outliers agree.
    """
    out = np.flatnonzero(~inl)
    if out.size < 2:
        return None
    offs = y[out] - b * x[out]
    weights = np.clip(w[out], 1e-3, None)
    best_score, best = -1.0, None
    for o in offs:
        near = np.abs(offs - o) < tol
        score = float(weights[near].sum())
        if near.sum() >= 2 and score > best_score:
            best_score, best = score, near
    if best is None:
        return None
    a2 = float(np.median(offs[best]))
    members = np.zeros(x.size, dtype=bool)
    members[out] = np.abs(offs - a2) < tol
    return a2, members
