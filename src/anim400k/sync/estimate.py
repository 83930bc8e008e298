"""The estimators: :func:`analyze_sync` (long and short media paths) and :func:`estimate_sync`."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import numpy as np

from ..model import TimeMap
from ..signal import to_mono
from .features import band_features, coarse_matches
from .line import ransac_line
from .params import (
    COARSE_TOLERANCE,
    COHERENCE_HIGH,
    FINE_WINDOW,
    LONG_COHERENCE_SECONDS,
    LONG_FINE_AGREEMENT,
    MIN_CONFIDENCE,
    SHORT_FALLBACK_SECONDS,
    SHORT_MEDIA_SECONDS,
    VOTE_SLOPE_TOLERANCE,
)
from .refine import fine_passes
from .result import SyncResult, coherence_confidence, failed_result, fine_agreement, window_confidence
from .rival import rival_coherence
from .vote import coherence_index, gcc_vote

log = logging.getLogger(__name__)


def estimate_sync(jp_audio: np.ndarray, en_audio: np.ndarray, sr: int, **options: Any) -> TimeMap:
    """Estimate the JP→EN :class:`TimeMap`; falls back to the identity (with a warning) when unsure.

    ``options`` go to :func:`analyze_sync`. The returned map's ``confidence`` is the
    estimator's confidence either way.
    """
    result = analyze_sync(jp_audio, en_audio, sr, **options)
    if not result.reliable:
        log.warning(
            "sync confidence %.2f < %.2f (%s): using zero offset and no drift",
            result.confidence,
            MIN_CONFIDENCE,
            result.reason or "the tracks do not appear to share a stem",
        )
    return result.usable_time_map()


def analyze_sync(
    jp_audio: np.ndarray,
    en_audio: np.ndarray,
    sr: int,
    *,
    max_offset: float = 30.0,
    max_drift: float = 0.05,
    window: float = 20.0,
    max_windows: int = 24,
    refine: bool = True,
) -> SyncResult:
    """Estimate offset and drift between two mixes sharing a stem, with diagnostics.

    ``jp_audio``/``en_audio``: float arrays at ``sr`` Hz, mono ``(n,)`` or multichannel
    ``(channels, n)`` (averaged to mono). ``max_offset`` (s) and ``max_drift`` (relative)
    bound the search. Never raises on silent or very short tracks: it returns a result
    with confidence 0 and a ``reason``.
    """
    jp = to_mono(jp_audio)
    en = to_mono(en_audio)
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    for name, x in (("JP", jp), ("EN", en)):
        if x.size < sr * 1.0:
            return failed_result(f"{name} track is shorter than 1 s ({x.size / sr:.2f} s)")
        if not np.all(np.isfinite(x)):
            return failed_result(f"{name} track contains NaN or infinite samples")
        if float(np.max(np.abs(x))) < 1e-5:
            return failed_result(f"{name} track is silent")

    fj, rate, t0 = band_features(jp, sr)
    fe, _, _ = band_features(en, sr)
    dur_j = jp.size / sr
    if dur_j <= SHORT_MEDIA_SECONDS:
        return _analyze_short(jp, en, sr, max_offset, max_drift, refine)
    win = min(window, max(1.0, dur_j / 3.0))
    coarse = coarse_matches(fj, fe, rate, t0, win, max_offset, max_drift, max_windows)
    if coarse is None:
        return failed_result("the tracks do not overlap within the offset search range")
    tj, te, scores, psr, d_best = coarse
    fit = ransac_line(tj, te, scores, COARSE_TOLERANCE, max_drift)
    if fit is None:
        return failed_result("no consistent matches between the tracks", n_windows=len(tj))
    a, b, inl = fit
    inlier_fraction = float(inl.mean())
    peak_ratio = float(np.median(psr[inl])) if inl.any() else 0.0
    windows = [(float(x), float(y), float(s), bool(i)) for x, y, s, i in zip(tj, te, scores, inl, strict=True)]

    fine: list[tuple[float, float, bool]] = []
    if refine and inl.sum() >= 1:
        a, b, fine = fine_passes(jp, en, sr, tj[inl], a, b, None, None)

    confidence = window_confidence(inlier_fraction, peak_ratio, fine)
    coherence_note = ""
    if confidence < MIN_CONFIDENCE and fine and fine_agreement(fine) >= LONG_FINE_AGREEMENT:
        # Loud, different dialogue dominates the band-energy windows, so few of them agree even
        # when the fine passes found the line; let the fit's own phase coherence (in excess of
        # the best rival alignment's) vouch for it, as on the short path.
        coherence, rival, rival_offset = _long_coherence(jp, en, sr, a, b, max_offset)
        by_coherence = coherence_confidence(coherence - rival, True)
        coherence_note = (
            f"; coherence index at the estimate {coherence:.1f}, best rival {rival:.1f} "
            f"(offset {rival_offset * 1000:+.0f} ms)"
        )
        log.debug("sync long path: windows %.2f, coherence %s", confidence, coherence_note)
        confidence = max(confidence, by_coherence)
    if confidence < MIN_CONFIDENCE and dur_j <= SHORT_FALLBACK_SECONDS:
        short = _analyze_short(jp, en, sr, max_offset, max_drift, refine)
        if short.confidence > confidence:
            return short
    tm = TimeMap(offset=float(a), drift=float(b - 1.0), confidence=confidence)
    reason = ""
    if confidence < MIN_CONFIDENCE:
        reason = (
            f"only {inl.sum()}/{len(tj)} windows agree and the correlation peaks are weak "
            f"(peak ratio {peak_ratio:.1f}){coherence_note}: the tracks may not share a stem"
        )
    log.debug("sync: drift grid best %.4f, windows %d, inliers %.2f", d_best, len(tj), inlier_fraction)
    return SyncResult(
        time_map=tm,
        confidence=confidence,
        inlier_fraction=inlier_fraction,
        peak_ratio=peak_ratio,
        n_windows=len(tj),
        n_fine=len(fine),
        reason=reason,
        windows=windows,
        fine=fine,
    )


def _long_coherence(
    jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, max_offset: float
) -> tuple[float, float, float]:
    """``(index, rival index, rival offset)`` of a long-path fit ``t_en = a + b t_jp`` on an excerpt.

    The JP excerpt is the middle :data:`LONG_COHERENCE_SECONDS` of the overlap; the EN excerpt
    is its image under the fit plus ``max_offset`` either side, so the rivals are the other
    offsets within ``max_offset`` of the estimate (with at least half its overlap). Bounded
    cost whatever the media length.
    """
    dur_j, dur_e = jp.size / sr, en.size / sr
    lo, hi = max(0.0, -a / b), min(dur_j, (dur_e - a) / b)
    length = min(LONG_COHERENCE_SECONDS, hi - lo)
    if length < 4.0:
        return 0.0, 0.0, a
    j0 = int((0.5 * (lo + hi) - 0.5 * length) * sr)
    j1 = j0 + int(length * sr)
    e0 = max(0, int((a + b * j0 / sr - max_offset) * sr))
    e1 = min(en.size, int((a + b * j1 / sr + max_offset) * sr) + 1)
    xj, xe = jp[j0:j1], en[e0:e1]
    a_local = a + b * j0 / sr - e0 / sr  # the fit in the excerpts' time
    coherence, _ = coherence_index(xj, xe, sr, a_local, b)
    rival, rival_local = rival_coherence(xj, xe, sr, a_local, b, np.inf, min(4.0, 0.5 * length))
    return coherence, rival, rival_local + e0 / sr - b * j0 / sr


class _ShortFit(NamedTuple):
    """A short-media estimate: ``t_en = a + b t_jp``, its fine matches and coherence against its best rival."""

    a: float
    b: float
    fine: list[tuple[float, float, bool]]
    coherence: float
    rival: float
    rival_offset: float

    @property
    def contrast(self) -> float:
        """Coherence index in excess of the most coherent other alignment's (the evidence for ``a``)."""
        return self.coherence - self.rival


def _fit_short(
    jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, max_offset: float, min_overlap: float, refine: bool
) -> _ShortFit:
    """Fine passes from the coarse ``(a, b)``, then the coherence index there and at the best rival alignment."""
    dur_j, dur_e = jp.size / sr, en.size / sr
    overlap = min(dur_j, (dur_e - a) / b) - max(0.0, -a / b)
    fw = float(np.clip(overlap / 3.0, 2.0, FINE_WINDOW))
    fine: list[tuple[float, float, bool]] = []
    if refine and overlap >= min_overlap:
        # the vote's speed factor is within a fraction of its fine drift step: keep the slope there
        slope = (b - VOTE_SLOPE_TOLERANCE, b + VOTE_SLOPE_TOLERANCE)
        a, b, fine = fine_passes(jp, en, sr, np.zeros(0), a, b, fw, slope)
    coherence, _ = coherence_index(jp, en, sr, a, b)
    rival, rival_offset = rival_coherence(jp, en, sr, a, b, max_offset, min_overlap)
    return _ShortFit(float(a), float(b), fine, coherence, rival, rival_offset)


def _analyze_short(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    max_offset: float,
    max_drift: float,
    refine: bool,
) -> SyncResult:
    """Short media: GCC-PHAT vote (coarse), fine matches, confidence from the coherence index's contrast."""
    dur_j, dur_e = jp.size / sr, en.size / sr
    min_overlap = min(4.0, 0.5 * min(dur_j, dur_e))
    match = gcc_vote(jp, en, sr, max_offset, max_drift, min_overlap)
    if match is None:
        return failed_result("the tracks do not overlap within the offset search range")
    a, b, peak, psr = match
    windows = [(0.0, float(a), float(peak), True)]
    fit = _fit_short(jp, en, sr, a, b, max_offset, min_overlap, refine)
    a, b, fine, coherence = fit.a, fit.b, fit.fine, fit.coherence
    confidence = coherence_confidence(fit.contrast, bool(fine))
    reason = ""
    if confidence < MIN_CONFIDENCE:
        if coherence < COHERENCE_HIGH:
            reason = (
                f"the two tracks are not phase-coherent at the best alignment (coherence index "
                f"{coherence:.1f}; ~1 for unrelated tracks): they may not share a stem"
            )
        elif fit.contrast < COHERENCE_HIGH:
            reason = (
                f"another alignment (offset {fit.rival_offset * 1000:+.0f} ms) is about as phase-coherent as "
                f"the estimate or more (coherence index {fit.rival:.1f} vs {coherence:.1f}): stationary or periodic "
                "content makes the offset ambiguous"
            )
        else:
            reason = "the tracks share a stem but the sample-precise matches disagree"
    return SyncResult(
        time_map=TimeMap(offset=float(a), drift=float(b - 1.0), confidence=confidence),
        confidence=confidence,
        inlier_fraction=1.0,
        peak_ratio=float(psr),
        n_windows=1,
        n_fine=len(fine),
        reason=reason,
        windows=windows,
        fine=fine,
    )
