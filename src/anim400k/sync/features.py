"""Long media, coarse stage: log-mel band features and the drift-aware windowed cross-correlation."""

from __future__ import annotations

import math

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import uniform_filter1d

from .gcc import parabolic_peak
from .params import DRIFT_STEP, FEATURE_RATE, N_BANDS


def band_features(x: np.ndarray, sr: int) -> tuple[np.ndarray, float, float]:
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


def coarse_matches(
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
            frac = parabolic_peak(ncc, k)
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
