"""Correlation primitives: GCC-PHAT lag of a segment inside a longer one, parabolic sub-sample peak."""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft


def parabolic_peak(y: np.ndarray, k: int) -> float:
    """Sub-sample offset of a peak at ``k`` by parabolic interpolation."""
    if 0 < k < y.size - 1:
        a, b, c = float(y[k - 1]), float(y[k]), float(y[k + 1])
        den = a - 2 * b + c
        if den < 0:
            return float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return 0.0


def _gcc_phat_cc(x: np.ndarray, y: np.ndarray, n_lags: int, beta: float) -> np.ndarray:
    """The GCC-PHAT-beta correlation of the tapered ``x`` inside ``y`` at lags ``[0, n_lags)`` (fewer when
    ``y`` is short)."""
    n = sfft.next_fast_len(x.size + y.size)
    taper = np.hanning(x.size).astype(np.float32)
    X = sfft.rfft(x * taper, n)
    Y = sfft.rfft(y, n)
    R = Y * np.conj(X)
    R /= np.abs(R) ** beta + 1e-12
    return sfft.irfft(R, n)[: min(n_lags, y.size - x.size + 1)]


def gcc_phat(x: np.ndarray, y: np.ndarray, n_lags: int, beta: float = 0.8) -> float | None:
    """Lag (samples, sub-sample precision) of ``x`` inside ``y`` in ``[0, n_lags)`` by GCC-PHAT-beta."""
    cc = _gcc_phat_cc(x, y, n_lags, beta)
    if cc.size < 3:
        return None
    k = int(np.argmax(cc))
    return k + parabolic_peak(cc, k)


def gcc_phat_score(x: np.ndarray, y: np.ndarray, n_lags: int, beta: float = 0.8) -> tuple[float, float]:
    """``(lag, score)`` of ``x`` inside ``y`` as :func:`gcc_phat`, with the peak's height in robust sigmas.

    ``score`` = (peak - median) / (1.4826 x median absolute deviation) of the correlation over
    the lags: ~3-4 for noise over a thousand lags, well above for a real match. ``(0.0, 0.0)``
    when ``y`` is too short.
    """
    cc = _gcc_phat_cc(x, y, n_lags, beta)
    if cc.size < 16:
        return 0.0, 0.0
    k = int(np.argmax(cc))
    med = float(np.median(cc))
    mad = float(np.median(np.abs(cc - med))) * 1.4826 + 1e-12
    return k + parabolic_peak(cc, k), (float(cc[k]) - med) / mad
