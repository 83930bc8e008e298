"""A small NumPy STFT/ISTFT pair (periodic Hann, centred frames, zero padding), as ``librosa.stft`` does.

Kept here so the single-track separator needs neither librosa's import (~2 s) nor its
per-call overhead; the output matches ``librosa.stft``/``librosa.istft`` with default
arguments to float32 precision (see ``tests/test_separate.py``).
"""

from __future__ import annotations

import numpy as np


def hann(n_fft: int) -> np.ndarray:
    """The periodic Hann window of ``n_fft`` samples (float32)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def stft(x: np.ndarray, n_fft: int, hop: int, single: bool = False) -> np.ndarray:
    """Complex spectrogram ``(1 + n_fft // 2, frames)`` of mono ``x``; frame ``t`` is centred on ``t * hop``.

    ``single``: SciPy's FFT in single precision (faster; equal to float32 precision,
    not bit for bit, so the separators' own outputs keep NumPy's double-precision FFT).
    """
    pad = n_fft // 2
    y = np.pad(np.asarray(x, dtype=np.float32), (pad, pad))
    n_frames = 1 + (y.size - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(
        y, shape=(n_frames, n_fft), strides=(y.strides[0] * hop, y.strides[0]), writeable=False
    )
    if single:
        import scipy.fft

        return scipy.fft.rfft(frames * hann(n_fft), axis=1).T
    return np.fft.rfft(frames * hann(n_fft), axis=1).astype(np.complex64).T


def istft(X: np.ndarray, n_fft: int, hop: int, length: int) -> np.ndarray:
    """Inverse of :func:`stft` (weighted overlap-add), ``length`` samples, float32."""
    window = hann(n_fft)
    frames = np.fft.irfft(X.T, n=n_fft, axis=1).astype(np.float32) * window
    n_frames = frames.shape[0]
    total = n_fft + hop * (n_frames - 1)
    y = np.zeros(total, dtype=np.float32)
    norm = np.zeros(total, dtype=np.float32)
    w2 = window * window
    for t in range(n_frames):
        y[t * hop : t * hop + n_fft] += frames[t]
        norm[t * hop : t * hop + n_fft] += w2
    ok = norm > np.finfo(np.float32).tiny
    y[ok] /= norm[ok]
    pad = n_fft // 2
    y = y[pad : pad + length]
    return np.pad(y, (0, max(0, length - y.size)))
