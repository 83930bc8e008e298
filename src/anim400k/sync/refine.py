"""Sample-precision refinement: GCC-PHAT matches of raw-audio segments around a line, refitted in passes."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .gcc import gcc_phat
from .line import ransac_line
from .params import FINE_LOW_RATE, FINE_RATE, FINE_RETRY_INLIERS, FINE_SEARCH, FINE_TOLERANCE, FINE_WINDOW


class FineFit(NamedTuple):
    """A line ``t_en = a + b t_jp`` through GCC-PHAT matches ``(t_jp, t_en, inlier)``.

    ``accepted``: enough of the matches (3 and 40 %) agree and the line stays within the search
    of the line the matches were taken around; otherwise it is only a candidate.
    """

    a: float
    b: float
    matches: list[tuple[float, float, bool]]
    accepted: bool


def refine_matches(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    tj: np.ndarray,
    a: float,
    b: float,
    tol: float,
    search: float,
    fw: float | None = None,
    rate: int = FINE_RATE,
    slope_range: tuple[float, float] | None = None,
    disjoint: bool = False,
) -> FineFit | None:
    """Sample-precision matches by GCC-PHAT on raw audio around the coarse line; refit.

    None when fewer than two segments could be matched; else the refitted line, ``accepted`` or not.

    ``fw``: segment length (s); ``rate``: analysis rate; ``slope_range``: bounds of the
    refitted slope; ``disjoint``: only non-overlapping segments spread over the overlap
    (independent evidence, for short media) instead of the coarse windows plus a spread.
    """
    import soxr

    fr = min(rate, sr)
    if sr != fr:
        # decimate only the needed segments, not the whole tracks
        def seg(x: np.ndarray, t: float, d: float) -> np.ndarray:
            i0, i1 = max(0, int(t * sr)), min(x.size, int((t + d) * sr))
            return soxr.resample(x[i0:i1], sr, fr) if i1 > i0 else np.zeros(0, np.float32)
    else:

        def seg(x: np.ndarray, t: float, d: float) -> np.ndarray:
            i0, i1 = max(0, int(t * sr)), min(x.size, int((t + d) * sr))
            return x[i0:i1]

    dur_j, dur_e = jp.size / sr, en.size / sr
    if fw is None:
        fw = min(FINE_WINDOW, 0.5 * dur_j)
    pts_x, pts_y = [], []
    # centres: the inlier coarse windows' centres plus points spread over the JP stretch
    # that the coarse line maps inside the EN medium
    lo = max(0.0, (search - a) / b) + fw / 2
    hi = min(dur_j, (dur_e - search - a) / b) - fw / 2
    if disjoint:
        n_pts = int(np.clip(np.floor((hi - lo) / fw) + 1, 3, 24))
        centres = np.round(np.linspace(lo, hi, n_pts), 3) if hi > lo else np.zeros(0)
    else:
        spread = np.linspace(lo, hi, int(np.clip((hi - lo) / 4.0, 6, 24))) if hi > lo else np.zeros(0)
        centres = np.unique(np.round(np.concatenate([tj + 0.5 * min(20.0, dur_j / 3.0), spread]), 3))
    for c in centres:
        js = c - fw / 2
        if js < 0 or js + fw > dur_j:
            continue
        es = a + b * js - search
        elen = fw * b + 2 * search
        if es < 0 or es + elen > dur_e:
            continue
        xj = seg(jp, js, fw)
        xe = seg(en, es, elen)
        if xj.size < fr * 0.5:
            continue
        # put the JP segment on the EN time grid (speed factor b); exact sample counts
        yj = soxr.resample(xj, fr, fr * b) if abs(b - 1.0) > 1e-7 else xj
        if xe.size < yj.size:
            continue
        lag = gcc_phat(yj, xe, int(2 * search * fr) + 1)
        if lag is None:
            continue
        # Match the segments' centres (insensitive to a small error in b), accounting for
        # the integer cut positions.
        js_exact = max(0, int(js * sr)) / sr
        es_exact = max(0, int(es * sr)) / sr
        half = 0.5 * (xj.size / fr)
        pts_x.append(js_exact + half)
        pts_y.append(es_exact + lag / fr + half * b)
    if len(pts_x) < 2:
        return None
    x, y = np.array(pts_x), np.array(pts_y)
    fit = ransac_line(x, y, np.ones_like(x), tol, slope_range=slope_range)
    if fit is None:
        return None
    a2, b2, inl = fit
    accepted = inl.sum() >= max(3, 0.4 * x.size) and abs(a2 + b2 * x.mean() - (a + b * x.mean())) <= 2 * search
    return FineFit(a2, b2, [(float(p), float(q), bool(i)) for p, q, i in zip(x, y, inl, strict=True)], accepted)


def fine_passes(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    tj: np.ndarray,
    a: float,
    b: float,
    fw: float | None,
    slope: tuple[float, float] | None,
) -> tuple[float, float, list[tuple[float, float, bool]]]:
    """Refine ``(a, b)`` by GCC-PHAT segment matches: ``(a, b, fine matches)`` (empty if it failed).

    Pass 1 (at :data:`FINE_LOW_RATE`, robust: the band above 2 kHz is mostly dialogue) tolerates
    the coarse speed error; pass 2 resamples with the refined speed factor and keeps only
    tight matches; a sub-sample polish at :data:`FINE_RATE` is kept only if consistent.

    A speed error of the coarse line smears each resampled segment's correlation peak (0.09 %
    is 7 ms over 8 s), so fewer segments match: when pass 1 falls short of 40 % but a line still
    goes through :data:`FINE_RETRY_INLIERS` matches and 25 % of them (e.g. one coarse window in a
    stretch whose M&E differs tilted the coarse line), pass 1 is run once more from that line's
    speed factor and must then pass as usual.
    """
    fine: list[tuple[float, float, bool]] = []
    for tol, search in ((10 * FINE_TOLERANCE, 2 * FINE_SEARCH), (FINE_TOLERANCE, 0.2 * FINE_SEARCH)):
        refined = refine_matches(jp, en, sr, tj, a, b, tol, search, fw, FINE_LOW_RATE, slope)
        if refined is not None and not refined.accepted and search > FINE_SEARCH:
            n_in = sum(1 for m in refined.matches if m[2])
            xm = float(np.mean([m[0] for m in refined.matches]))
            near = abs(refined.a + refined.b * xm - (a + b * xm)) <= 2 * search
            if near and n_in >= max(FINE_RETRY_INLIERS, 0.25 * len(refined.matches)):
                refined = refine_matches(jp, en, sr, tj, refined.a, refined.b, tol, search, fw, FINE_LOW_RATE, slope)
        if refined is None or not refined.accepted:
            return a, b, []
        a, b, fine = refined.a, refined.b, refined.matches
    polished = refine_matches(jp, en, sr, tj, a, b, 0.15 * FINE_TOLERANCE, 0.002, fw, FINE_RATE, slope)
    if polished is not None and polished.accepted:
        a, b = polished.a, polished.b
    return a, b, fine
