"""A map that is not sample-precise for EN re-timed with pitch correction (a PAL speed-up by a phase vocoder).

The fine stage (:mod:`.refine`) resamples 8 s JP segments by the speed factor, which shifts their pitch
by the speed change against EN's corrected pitch, so their GCC-PHAT phases do not line up. Short JP
segments left *unresampled* keep the pitch that a time-stretch preserves, and drift across themselves by
only ``|drift| x length`` (40 ms over 1 s at 4 %); their GCC-PHAT lags, at the segments' centres, scatter
around the true line by the stretch's grain jitter (~10 ms). A robust line through many of them is the map,
within a few ms, but no better than :data:`~.params.STRETCH_TOLERANCE` per point: it is marked as not
sample-precise (``TimeMap.precision_ms``), so the dual-track separation does not use it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .gcc import gcc_phat_score
from .line import ransac_line
from .params import (
    FINE_LOW_RATE,
    STRETCH_MIN_AGREEMENT,
    STRETCH_MIN_MATCHES,
    STRETCH_MIN_SCORE,
    STRETCH_SEARCH,
    STRETCH_SEGMENT,
    STRETCH_SEGMENTS,
    STRETCH_SLOPE,
    STRETCH_TOLERANCE,
)
from .result import peak_quality, window_agreement


class StretchFit(NamedTuple):
    """A line ``t_en = a + b t_jp`` through short unresampled segment matches ``(t_jp, t_en, inlier)``.

    ``tested``: segments located (each with a lag); ``clear``: how many of them have a peak that stood
    out (:data:`STRETCH_MIN_SCORE`), the candidates of the line; ``agreement``: the inliers' share of
    the clear ones; ``precision_ms``: the map's error bound claimed (see :func:`stretch_line`);
    ``accepted``: enough clear matches agree.
    """

    a: float
    b: float
    matches: list[tuple[float, float, bool]]
    tested: int
    clear: int
    agreement: float
    precision_ms: float
    accepted: bool


def stretch_line(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float) -> StretchFit | None:
    """The line from short unresampled JP segments located in EN around the coarse line ``(a, b)``.

    Up to :data:`STRETCH_SEGMENTS` segments of :data:`STRETCH_SEGMENT` s, spread evenly over the JP
    stretch the line maps inside EN, are located by GCC-PHAT at :data:`FINE_LOW_RATE` (the M&E band)
    within ±:data:`STRETCH_SEARCH` s of the line, referenced to their centres. Those whose peak stands
    out (:data:`STRETCH_MIN_SCORE` robust sigmas) get a RANSAC line (slope within
    ±:data:`STRETCH_SLOPE` of ``b``, tolerance :data:`STRETCH_TOLERANCE`) and least squares on its
    inliers. Accepted when at least :data:`STRETCH_MIN_MATCHES` and :data:`STRETCH_MIN_AGREEMENT` of the
    clear matches are inliers. ``precision_ms`` is the inliers' robust scatter about the line (1.4826 x
    their median absolute deviation, at least 1 ms): the line through many of them is closer to the
    truth than that (docs/sync.md). None when fewer than two segments were located.
    """
    import soxr

    fr = min(FINE_LOW_RATE, sr)
    xj = soxr.resample(jp, sr, fr) if sr != fr else jp
    xe = soxr.resample(en, sr, fr) if sr != fr else en
    dur_j, dur_e = xj.size / fr, xe.size / fr
    seg, search = STRETCH_SEGMENT, STRETCH_SEARCH
    lo = max(0.0, (search - a) / b)
    hi = min(dur_j, (dur_e - search - seg * b - a) / b) - seg
    if hi <= lo:
        return None
    starts = np.linspace(lo, hi, int(np.clip((hi - lo) / seg, 2, STRETCH_SEGMENTS)))
    n_seg, n_lags = int(seg * fr), int(2 * search * fr) + 1
    xs, ys, scores = [], [], []
    for js in starts:
        i0 = int(js * fr)
        e0 = int((a + b * i0 / fr - search) * fr)
        sj = xj[i0 : i0 + n_seg]
        se = xe[e0 : e0 + n_seg + n_lags - 1]
        if e0 < 0 or sj.size < n_seg or se.size < n_seg + n_lags - 1 or not np.any(sj) or not np.any(se):
            continue
        lag, score = gcc_phat_score(sj, se, n_lags)
        xs.append(i0 / fr + 0.5 * seg)
        ys.append(e0 / fr + lag / fr + 0.5 * seg)
        scores.append(score)
    if len(xs) < 2:
        return None
    x, y, s = np.array(xs), np.array(ys), np.array(scores)
    clear = s >= STRETCH_MIN_SCORE
    inl = np.zeros(x.size, dtype=bool)
    a2, b2 = a, b
    if clear.sum() >= 2:
        fit = ransac_line(x[clear], y[clear], s[clear], STRETCH_TOLERANCE,
                          slope_range=(b - STRETCH_SLOPE, b + STRETCH_SLOPE))
        if fit is not None:
            a2, b2, inl_clear = fit
            inl[np.flatnonzero(clear)[inl_clear]] = True
    n_in, n_clear = int(inl.sum()), int(clear.sum())
    agreement = n_in / n_clear if n_clear else 0.0
    resid = y[inl] - (a2 + b2 * x[inl])
    scatter = 1.4826 * float(np.median(np.abs(resid - np.median(resid)))) if n_in else STRETCH_TOLERANCE
    accepted = n_in >= STRETCH_MIN_MATCHES and agreement >= STRETCH_MIN_AGREEMENT
    matches = [(float(p), float(q), bool(i)) for p, q, i in zip(x, y, inl, strict=True)]
    precision_ms = max(1.0, round(1000.0 * scatter, 1))
    return StretchFit(float(a2), float(b2), matches, int(x.size), n_clear, agreement, precision_ms, accepted)


def fine_scatter(fine: list[tuple[float, float, bool]], a: float, b: float) -> float:
    """The median absolute residual (s) of the fine stage's inlier matches about its line ``(a, b)``.

    Resampled audio matches to ~0.01-0.07 ms; a pitch-corrected stretch, whose grains jitter, to ~0.6-1.3
    ms even when enough of the 8 s segments fall within the 2 ms tolerance for the stage to pass.
    """
    res = [abs(q - (a + b * p)) for p, q, inlier in fine if inlier]
    return float(np.median(res)) if res else 0.0


def stretch_confidence(fit: StretchFit, inlier_fraction: float, peak_ratio: float) -> float:
    """Confidence of a stretch line: the window agreement and peak scores of
    :func:`~.result.window_confidence` times its own agreement score, ``clip((agreement - m) / m)`` with
    ``m`` = :data:`STRETCH_MIN_AGREEMENT` (unrelated tracks: 0.13-0.15 of the clear matches; the
    pitch-corrected pairs: 0.7-0.85); 0 when not accepted."""
    if not fit.accepted:
        return 0.0
    agree, peak = window_agreement(inlier_fraction), peak_quality(peak_ratio)
    own = float(np.clip((fit.agreement - STRETCH_MIN_AGREEMENT) / STRETCH_MIN_AGREEMENT, 0.0, 1.0))
    return round(agree * peak * own, 4)
