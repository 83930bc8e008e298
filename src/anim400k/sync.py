"""Global offset and linear drift between the JP and EN media of one episode.

The JP and EN mixes of a dubbed episode share their music-and-effects (M&E) stem, so
the map ``t_en = offset + t_jp * (1 + drift)`` (:class:`anim400k.model.TimeMap`) can be
found by cross-correlating the two mixes. Pure: arrays in, a :class:`SyncResult` out.

Algorithm (details and measurements in ``docs/sync.md``), long media (JP > 45 s):

1. **Features.** Both tracks become log-mel band energies at ~20 frames/s
   (32 bands), high-passed in time (minus a 1.5 s moving average) and standardised per band.
   The different dialogue of the two languages only adds noise; the shared M&E stem
   gives the correlation peak.
2. **Coarse, drift-aware search.** Windows of up to 20 s are taken across the JP
   track. Each is time-warped by every candidate speed factor ``1 + d`` on a grid
   (``d`` in ``[-max_drift, max_drift]``, step 0.25 %) and located in the EN features by
   FFT normalised cross-correlation (summed over bands) within the admissible lag range.
   The candidate whose window peaks are highest overall wins; its per-window matches
   ``(t_jp, t_en)`` are fitted by an exhaustive RANSAC line (then least squares on the
   inliers).
3. **Sample-precision refinement** (:func:`_fine_passes`). Around each inlier, a raw-audio
   JP segment (8 s) is resampled by the current speed factor and located in the EN audio by
   GCC-PHAT (parabolic sub-sample peak): at 4 kHz within ±0.5 s, then ±0.05 s, then a
   16 kHz polish within ±2 ms; robust line fits over the matches give offset and drift.
4. **Confidence** in [0, 1]: the product of the inlier fraction score, the fine agreement
   and a peak-quality score (peak-to-sidelobe ratio of the coarse correlations). Unrelated
   tracks (no shared stem) give scattered matches with weak peaks and hence low confidence;
   :func:`estimate_sync` then falls back to the identity map with a warning.

Short media (JP <= 45 s) have too few windows for step 2 and too little material for
band-energy features; instead (:func:`_analyze_short`; also tried for JP <= 120 s when the
long path's confidence is low, and kept if more confident):

1. **GCC-PHAT vote** (:func:`_gcc_vote`) at 2 kHz: for each speed factor on the grid, 3 s
   JP segments are located in the whole EN track by phase correlation and vote for the
   offset; the best speed factor is refined 8 times finer.
2. **Fine passes** as in step 3, with the slope kept within ±0.05 % of the vote's.
3. **Confidence** from the *coherence index* of the two tracks aligned by the estimate
   (:func:`_coherence`: per-bin magnitude of the mean unit cross-spectrum phasor, squared,
   times the number of frames; ~1 for independent tracks, > 100 for dubs sharing a stem),
   kept below :data:`MIN_CONFIDENCE` (x 0.4) when the fine passes disagree.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import uniform_filter1d

from .model import TimeMap
from .signal import ANALYSIS_SR, to_mono

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.5
"""Below this confidence the build ignores the estimate and uses the identity map."""

FEATURE_RATE = 20.0
N_BANDS = 32
DRIFT_STEP = 0.0025
FINE_RATE = ANALYSIS_SR
FINE_WINDOW = 8.0
FINE_SEARCH = 0.25
COARSE_TOLERANCE = 0.12  # seconds: a coarse match agreeing with the line
FINE_TOLERANCE = 0.002  # seconds: a fine match agreeing with the line
SHORT_MEDIA_SECONDS = 45.0  # JP tracks up to this long take the short-media path (_analyze_short)
SHORT_FALLBACK_SECONDS = 120.0  # up to this long, an unreliable long-path result is retried that way
VOTE_RATE = 2000  # Hz: the GCC vote (short media)
FINE_LOW_RATE = 4000  # Hz: the first fine passes and the coherence index (above 2 kHz is mostly dialogue)
VOTE_SEGMENT = 3.0  # seconds: longest vote segment
VOTE_SLOPE_TOLERANCE = 0.0005  # fine slope bounds around the vote's speed factor (its last step is 0.03 %)
COHERENCE_LOW, COHERENCE_HIGH = 3.0, 10.0  # coherence index: ~1 for unrelated tracks, >100 for dubs


@dataclass(slots=True)
class SyncResult:
    """The estimated map with diagnostics.

    ``time_map`` is the estimate itself (even when unreliable); ``reliable`` says whether
    ``confidence >= MIN_CONFIDENCE``; ``reason`` explains a low confidence (e.g. a silent
    track). ``windows`` lists the coarse matches ``(t_jp, t_en, score, inlier)`` and
    ``fine`` the precise ones ``(t_jp, t_en, inlier)``.
    """

    time_map: TimeMap
    confidence: float
    inlier_fraction: float = 0.0
    peak_ratio: float = 0.0
    n_windows: int = 0
    n_fine: int = 0
    reason: str = ""
    windows: list[tuple[float, float, float, bool]] = field(default_factory=list)
    fine: list[tuple[float, float, bool]] = field(default_factory=list)

    @property
    def offset(self) -> float:
        """Estimated offset in seconds."""
        return self.time_map.offset

    @property
    def drift(self) -> float:
        """Estimated relative drift."""
        return self.time_map.drift

    @property
    def reliable(self) -> bool:
        """True when the confidence reaches :data:`MIN_CONFIDENCE`."""
        return self.confidence >= MIN_CONFIDENCE

    def usable_time_map(self) -> TimeMap:
        """The estimate if reliable, else the identity map carrying the (low) confidence."""
        if self.reliable:
            return self.time_map
        return TimeMap(0.0, 0.0, self.confidence)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the contents of a ``sync.json`` artifact)."""
        d = asdict(self)
        d["time_map"] = {
            "offset": self.time_map.offset,
            "drift": self.time_map.drift,
            "confidence": self.time_map.confidence,
        }
        d["reliable"] = self.reliable
        d["offset_ms"] = self.time_map.offset * 1000.0
        d["drift_percent"] = self.time_map.drift * 100.0
        return d


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
            return _failed(f"{name} track is shorter than 1 s ({x.size / sr:.2f} s)")
        if not np.all(np.isfinite(x)):
            return _failed(f"{name} track contains NaN or infinite samples")
        if float(np.max(np.abs(x))) < 1e-5:
            return _failed(f"{name} track is silent")

    fj, rate, t0 = _features(jp, sr)
    fe, _, _ = _features(en, sr)
    dur_j = jp.size / sr
    if dur_j <= SHORT_MEDIA_SECONDS:
        return _analyze_short(jp, en, sr, max_offset, max_drift, refine)
    win = min(window, max(1.0, dur_j / 3.0))
    coarse = _coarse_matches(fj, fe, rate, t0, win, max_offset, max_drift, max_windows)
    if coarse is None:
        return _failed("the tracks do not overlap within the offset search range")
    tj, te, scores, psr, d_best = coarse
    fit = _ransac_line(tj, te, scores, COARSE_TOLERANCE, max_drift)
    if fit is None:
        return _failed("no consistent matches between the tracks", n_windows=len(tj))
    a, b, inl = fit
    inlier_fraction = float(inl.mean())
    peak_ratio = float(np.median(psr[inl])) if inl.any() else 0.0
    windows = [(float(x), float(y), float(s), bool(i)) for x, y, s, i in zip(tj, te, scores, inl, strict=True)]

    fine: list[tuple[float, float, bool]] = []
    if refine and inl.sum() >= 1:
        a, b, fine = _fine_passes(jp, en, sr, tj[inl], a, b, None, None)

    confidence = _confidence(inlier_fraction, peak_ratio, fine)
    if confidence < MIN_CONFIDENCE and dur_j <= SHORT_FALLBACK_SECONDS:
        short = _analyze_short(jp, en, sr, max_offset, max_drift, refine)
        if short.confidence > confidence:
            return short
    tm = TimeMap(offset=float(a), drift=float(b - 1.0), confidence=confidence)
    reason = ""
    if confidence < MIN_CONFIDENCE:
        reason = (
            f"only {inl.sum()}/{len(tj)} windows agree and the correlation peaks are weak "
            f"(peak ratio {peak_ratio:.1f}): the tracks may not share a stem"
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


def _analyze_short(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    max_offset: float,
    max_drift: float,
    refine: bool,
) -> SyncResult:
    """Short media: GCC-PHAT vote (coarse), fine matches, confidence from the coherence index."""
    dur_j, dur_e = jp.size / sr, en.size / sr
    min_overlap = min(4.0, 0.5 * min(dur_j, dur_e))
    match = _gcc_vote(jp, en, sr, max_offset, max_drift, min_overlap)
    if match is None:
        return _failed("the tracks do not overlap within the offset search range")
    a, b, peak, psr = match
    windows = [(0.0, float(a), float(peak), True)]
    overlap = min(dur_j, (dur_e - a) / b) - max(0.0, -a / b)
    fw = float(np.clip(overlap / 3.0, 2.0, FINE_WINDOW))
    fine: list[tuple[float, float, bool]] = []
    if refine and overlap >= min_overlap:
        # the vote's speed factor is within a fraction of its fine drift step: keep the slope there
        slope = (b - VOTE_SLOPE_TOLERANCE, b + VOTE_SLOPE_TOLERANCE)
        a, b, fine = _fine_passes(jp, en, sr, np.zeros(0), a, b, fw, slope)
    coherence, _ = _coherence(jp, en, sr, a, b)
    confidence = _whole_confidence(coherence, bool(fine))
    reason = ""
    if confidence < MIN_CONFIDENCE:
        if coherence < COHERENCE_HIGH:
            reason = (
                f"the two tracks are not phase-coherent at the best alignment (coherence index "
                f"{coherence:.1f}; ~1 for unrelated tracks): they may not share a stem"
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


# --- helpers -------------------------------------------------------------------------


def _failed(reason: str, n_windows: int = 0) -> SyncResult:
    return SyncResult(TimeMap(0.0, 0.0, 0.0), confidence=0.0, reason=reason, n_windows=n_windows)


def _confidence(inlier_fraction: float, peak_ratio: float, fine: list[tuple[float, float, bool]]) -> float:
    """Map window agreement, fine agreement and peak quality to [0, 1] (calibration in docs/sync.md).

    Two points always fit a line, so the fine agreement counts inliers beyond two.
    """
    agree = float(np.clip((inlier_fraction - 0.4) / 0.35, 0.0, 1.0))
    n_fine, n_in = len(fine), sum(1 for f in fine if f[2])
    fine_agree = (n_in - 2) / (n_fine - 2) if n_fine >= 4 else 0.0
    peak = float(np.clip((peak_ratio - 3.0) / 2.0, 0.0, 1.0))
    return round(agree * fine_agree * peak, 4)


def _whole_confidence(coherence: float, fine_ok: bool) -> float:
    """Confidence of a short-media match from its coherence index (calibration in docs/sync.md).

    The index is ~1 for unrelated tracks and > 100 for synthetic dubs; without consistent
    sample-precise matches the estimate stays below :data:`MIN_CONFIDENCE`.
    """
    c = float(np.clip((coherence - COHERENCE_LOW) / (COHERENCE_HIGH - COHERENCE_LOW), 0.0, 1.0))
    return round(c if fine_ok else 0.8 * MIN_CONFIDENCE * c, 4)


def _features(x: np.ndarray, sr: int) -> tuple[np.ndarray, float, float]:
    """Standardised, temporally high-passed log-mel energies: ``(bands, frames)``, rate, t of frame 0."""
    import librosa

    hop = max(1, int(round(sr / FEATURE_RATE)))
    n_fft = 1 << int(math.ceil(math.log2(hop * 1.25)))
    rate = sr / hop
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=N_BANDS, fmin=50.0, fmax=0.47 * sr).astype(np.float32)
    n_frames = 1 + max(0, (x.size - n_fft) // hop)
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop][:n_frames]
    win = np.hanning(n_fft).astype(np.float32)
    out = np.empty((N_BANDS, n_frames), dtype=np.float32)
    chunk = 4096
    for i in range(0, n_frames, chunk):
        spec = sfft.rfft(frames[i : i + chunk] * win, axis=1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        out[:, i : i + chunk] = mel @ power.T
    floor = 1e-4 * float(np.mean(out)) + 1e-12
    feat = np.log(out + floor)
    feat -= uniform_filter1d(feat, size=max(3, int(1.5 * rate)), axis=1, mode="nearest")
    std = feat.std(axis=1, keepdims=True)
    feat /= np.where(std > 1e-9, std, 1.0)
    return feat.astype(np.float32), rate, (n_fft / 2) / sr


def _coarse_matches(
    fj: np.ndarray,
    fe: np.ndarray,
    rate: float,
    t0: float,
    win: float,
    max_offset: float,
    max_drift: float,
    max_windows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float] | None:
    """Locate JP windows in the EN features for every drift candidate; keep the best candidate."""
    nj, ne = fj.shape[1], fe.shape[1]
    wlen = max(8, int(round(win * rate)))
    if nj < wlen or ne < 8:
        return None
    n_win = int(np.clip(3 * nj / wlen, 6, max_windows))
    starts = np.unique(np.linspace(0, nj - wlen, n_win).round().astype(int))
    n_steps = int(round(max_drift / DRIFT_STEP))
    drifts = np.arange(-n_steps, n_steps + 1) * DRIFT_STEP

    # Per window: EN search segment, its band FFTs and sliding norms (shared by all drifts).
    per_drift_scores = np.full((drifts.size, starts.size), -np.inf)
    per_drift_pos = np.zeros((drifts.size, starts.size))
    per_drift_psr = np.zeros((drifts.size, starts.size))
    for wi, s in enumerate(starts):
        tj_start = s / rate  # frame-time of the window start (relative to frame 0)
        lo_t = tj_start * (1 - max_drift) - max_offset
        hi_t = (tj_start + win) * (1 + max_drift) + max_offset
        lo = max(0, int(math.floor(lo_t * rate)))
        hi = min(ne, int(math.ceil(hi_t * rate)) + 1)
        max_wl = int(math.ceil(wlen * (1 + max_drift))) + 1
        if hi - lo < max(8, wlen // 2):
            continue
        seg = fe[:, lo:hi]
        nfft = sfft.next_fast_len(seg.shape[1] + max_wl)
        seg_f = sfft.rfft(seg, nfft, axis=1)
        csum = np.concatenate([[0.0], np.cumsum((seg.astype(np.float64) ** 2).sum(axis=0))])
        src = fj[:, s : s + wlen]
        for di, d in enumerate(drifts):
            m = int(round(wlen * (1 + d)))
            if m < 8 or m > seg.shape[1]:
                continue
            # JP window resampled onto the EN frame grid for speed factor 1 + d
            pos = np.arange(m) / (1 + d)
            pos = np.minimum(pos, wlen - 1)
            i0 = pos.astype(int)
            i1 = np.minimum(i0 + 1, wlen - 1)
            w = (src[:, i0] * (1 - (pos - i0)) + src[:, i1] * (pos - i0)).astype(np.float32)
            wn = float(np.sqrt((w.astype(np.float64) ** 2).sum()))
            if wn <= 0:
                continue
            cc = sfft.irfft((seg_f * np.conj(sfft.rfft(w, nfft, axis=1))).sum(axis=0), nfft)
            n_lags = seg.shape[1] - m + 1
            cc = cc[:n_lags]
            local = np.sqrt(np.maximum(csum[m : m + n_lags] - csum[:n_lags], 1e-9))
            ncc = cc / (wn * local)
            k = int(np.argmax(ncc))
            peak = float(ncc[k])
            # peak-to-sidelobe ratio: exclude +-0.5 s around the peak
            excl = max(2, int(0.5 * rate))
            mask = np.ones(n_lags, dtype=bool)
            mask[max(0, k - excl) : k + excl + 1] = False
            side = ncc[mask]
            psr = (peak - float(side.mean())) / (float(side.std()) + 1e-9) if side.size > 8 else 0.0
            frac = _parabolic(ncc, k)
            per_drift_scores[di, wi] = peak
            per_drift_pos[di, wi] = lo + k + frac
            per_drift_psr[di, wi] = psr
    valid = np.isfinite(per_drift_scores).any(axis=0)
    if not valid.any():
        return None
    total = np.where(np.isfinite(per_drift_scores), per_drift_scores, 0.0)[:, valid].sum(axis=1)
    di = int(np.argmax(total))
    d_best = float(drifts[di])
    ok = np.isfinite(per_drift_scores[di])
    # JP time of the window start and EN time where it matched (both on frame-center times)
    tj = starts[ok] / rate + t0
    te = per_drift_pos[di, ok] / rate + t0
    return tj, te, per_drift_scores[di, ok], per_drift_psr[di, ok], d_best


def _gcc_vote(
    jp: np.ndarray, en: np.ndarray, sr: int, max_offset: float, max_drift: float, min_overlap: float
) -> tuple[float, float, float, float] | None:
    """Coarse ``(a, b, score, psr)`` for short media from phase-coherent (GCC-PHAT) segment votes.

    Both tracks are decimated to :data:`VOTE_RATE`. For every speed factor ``b = 1 + d`` on
    a 0.25 % grid, JP is resampled onto the EN time scale and cut into half-overlapping
    segments (up to 3 s); each segment's GCC-PHAT against the whole EN track (scaled to unit
    noise rms, negative values dropped) votes for the offset ``a`` it implies, on blocks of
    lags as wide as the worst warp error of the grid. With the right ``b`` the segments vote
    for the same ``a``. The best ``b`` is then refined on a grid 8 times finer. ``score`` is
    the winning vote per segment and ``psr`` its peak-to-sidelobe ratio (diagnostics only).
    """
    import soxr

    fr = min(VOTE_RATE, sr)
    xj = soxr.resample(jp, sr, fr) if sr != fr else jp
    xe = soxr.resample(en, sr, fr) if sr != fr else en
    tj, te = xj.size / fr, xe.size / fr
    seg_s = float(np.clip(tj / 4.0, 1.0, VOTE_SEGMENT))
    n_seg = int(np.clip(round(2 * tj / seg_s), 3, 16))
    a_lo = max(-max_offset, -(tj * (1 + max_drift)) + min_overlap)
    a_hi = min(max_offset, te - min_overlap)
    if a_hi <= a_lo:
        return None
    lags = np.arange(int(math.floor(a_lo * fr)), int(math.ceil(a_hi * fr)) + 1)
    step = DRIFT_STEP
    n_steps = int(math.ceil(max_drift / step))
    drifts = np.linspace(-max_drift, max_drift, 2 * n_steps + 1)
    ls = int(seg_s * fr)
    nfft = sfft.next_fast_len(xe.size + ls + 1)
    E = sfft.rfft(xe, nfft)
    taper = np.hanning(ls).astype(np.float32)
    lag0 = lags[0]

    def votes_for(d: float, blk: int) -> np.ndarray | None:
        """Votes on blocks of ``blk`` lags (max within a block, then over neighbouring blocks)."""
        y = soxr.resample(xj, fr, fr * (1.0 + d)) if abs(d) > 1e-9 else xj
        if y.size < ls:
            return None
        n_blocks = lags.size // blk
        lg = lags[: n_blocks * blk]
        votes = np.zeros(n_blocks)
        for s in np.linspace(0, y.size - ls, n_seg).round().astype(int):
            R = E * np.conj(sfft.rfft(y[s : s + ls] * taper, nfft))
            R /= np.abs(R) + 1e-12
            # with a unit-magnitude cross-spectrum the correlation's rms is ~1/sqrt(nfft)
            z = sfft.irfft(R, nfft)[(lg + s) % nfft] * math.sqrt(nfft)
            zb = np.maximum(z, 0.0).reshape(n_blocks, blk).max(axis=1)
            votes += np.maximum(zb, np.maximum(np.roll(zb, 1), np.roll(zb, -1)))
        return votes

    def search(cands: np.ndarray, step: float) -> tuple[float, float, np.ndarray, int, int] | None:
        # a drift error of up to step/2 moves the segments' votes by up to step/4 of the track
        blk = max(1, int(math.ceil((0.25 * step * tj + 0.001) * fr)))
        if lags.size // blk < 3:
            return None
        found = None
        for d in cands:
            votes = votes_for(float(d), blk)
            if votes is None:
                continue
            k = int(np.argmax(votes))
            if found is None or votes[k] > found[0]:
                found = (float(votes[k]), float(d), votes, k, blk)
        return found

    best = search(drifts, step)
    if best is None:
        return None
    fine_step = step / 8
    best = search(best[1] + fine_step * np.arange(-4, 5), fine_step) or best
    peak, d, votes, k, blk = best
    excl = max(2, int(0.05 * fr / blk))
    side = np.concatenate([votes[: max(0, k - excl)], votes[k + excl + 1 :]])
    psr = (peak - float(side.mean())) / (float(side.std()) + 1e-9) if side.size > 8 else 0.0
    return float((lag0 + k * blk + blk // 2) / fr), 1.0 + d, peak / n_seg, psr


def _coherence(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float) -> tuple[float, int]:
    """Mean magnitude-squared coherence (0.1-1.8 kHz) of JP and EN aligned by ``t_en = a + b t_jp``.

    Returns ``(coherence, n_frames)``; for independent tracks the coherence is ~1/n_frames.
    """
    import soxr
    from scipy.signal import stft

    fr = min(FINE_LOW_RATE, sr)
    xj = soxr.resample(jp, sr, fr) if sr != fr else jp
    z = soxr.resample(en, sr, fr / b)
    start = int(round(a * fr / b))  # z index of JP sample 0
    lo, hi = max(0, -start), min(xj.size, z.size - start)
    nper = 256
    if hi - lo < 4 * nper:
        return 0.0, 0
    f, _, J = stft(xj[lo:hi], fs=fr, nperseg=nper)
    _, _, E = stft(z[lo + start : hi + start], fs=fr, nperseg=nper)
    band = (f >= 100.0) & (f <= 1800.0)
    P = J[band] * np.conj(E[band])
    P /= np.abs(P) + 1e-20
    k = P.shape[1]
    return float((np.abs(P.mean(axis=1)) ** 2).mean() * k), k


def _parabolic(y: np.ndarray, k: int) -> float:
    """Sub-sample offset of a peak at ``k`` by parabolic interpolation."""
    if 0 < k < y.size - 1:
        a, b, c = float(y[k - 1]), float(y[k]), float(y[k + 1])
        den = a - 2 * b + c
        if den < 0:
            return float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return 0.0


def _ransac_line(
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
        score = float(weights[np.abs(y - (a + x)) < tol].sum())
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


def _refine(
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
) -> tuple[float, float, list[tuple[float, float, bool]]] | None:
    """Sample-precision matches by GCC-PHAT on raw audio around the coarse line; refit.

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
        lag = _gcc_phat(yj, xe, int(2 * search * fr) + 1)
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
    fit = _ransac_line(x, y, np.ones_like(x), tol, slope_range=slope_range)
    if fit is None:
        return None
    a2, b2, inl = fit
    if inl.sum() < max(3, 0.4 * x.size) or abs(a2 + b2 * x.mean() - (a + b * x.mean())) > 2 * search:
        return None
    return a2, b2, [(float(p), float(q), bool(i)) for p, q, i in zip(x, y, inl, strict=True)]


def _fine_passes(
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
    """
    fine: list[tuple[float, float, bool]] = []
    for tol, search in ((10 * FINE_TOLERANCE, 2 * FINE_SEARCH), (FINE_TOLERANCE, 0.2 * FINE_SEARCH)):
        refined = _refine(jp, en, sr, tj, a, b, tol, search, fw, FINE_LOW_RATE, slope)
        if refined is None:
            return a, b, []
        a, b, fine = refined
    polished = _refine(jp, en, sr, tj, a, b, 0.15 * FINE_TOLERANCE, 0.002, fw, FINE_RATE, slope)
    if polished is not None:
        a, b = polished[0], polished[1]
    return a, b, fine


def _gcc_phat(x: np.ndarray, y: np.ndarray, n_lags: int, beta: float = 0.8) -> float | None:
    """Lag (samples, sub-sample precision) of ``x`` inside ``y`` in ``[0, n_lags)`` by GCC-PHAT-beta."""
    n = sfft.next_fast_len(x.size + y.size)
    taper = np.hanning(x.size).astype(np.float32)
    X = sfft.rfft(x * taper, n)
    Y = sfft.rfft(y, n)
    R = Y * np.conj(X)
    R /= np.abs(R) ** beta + 1e-12
    cc = sfft.irfft(R, n)[: min(n_lags, y.size - x.size + 1)]
    if cc.size < 3:
        return None
    k = int(np.argmax(cc))
    return k + _parabolic(cc, k)


def sync_media(
    jp_media: str | Path,
    en_media: str | Path,
    jp_stream: str | int = "jpn",
    en_stream: str | int = "eng",
    sr: int = ANALYSIS_SR,
) -> SyncResult:
    """Decode both streams (mono, ``sr`` Hz) and return :func:`analyze_sync`'s result."""
    from .media import decode_audio

    jp = decode_audio(jp_media, jp_stream, sr=sr)
    en = decode_audio(en_media, en_stream, sr=sr)
    return analyze_sync(jp, en, sr)
