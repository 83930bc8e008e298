"""Separation quality metrics: SDR and scale-invariant SDR (numpy; formulas below).

``sdr(ref, est) = 10 log10(|ref|^2 / |ref - est|^2)`` (plain signal-to-distortion ratio,
no allowed distortion filter, as in the "new SDR" of the MDX challenge);
``si_sdr(ref, est)`` projects ``est`` on ``ref`` first (Le Roux et al., 2019):
``a = <est, ref> / |ref|^2``, ``si_sdr = 10 log10(|a ref|^2 / |a ref - est|^2)``.
Both in dB; arrays of equal length (the longer is cut), any shape (flattened).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def _pair(ref: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(ref, dtype=np.float64).ravel()
    e = np.asarray(est, dtype=np.float64).ravel()
    n = min(r.size, e.size)
    if n == 0:
        raise ValueError("empty signal")
    return r[:n], e[:n]


def sdr(ref: np.ndarray, est: np.ndarray) -> float:
    """Signal-to-distortion ratio of ``est`` against ``ref`` in dB."""
    r, e = _pair(ref, est)
    return float(10 * np.log10((np.dot(r, r) + _EPS) / (np.dot(r - e, r - e) + _EPS)))


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float:
    """Scale-invariant SDR of ``est`` against ``ref`` in dB."""
    r, e = _pair(ref, est)
    a = np.dot(e, r) / (np.dot(r, r) + _EPS)
    target = a * r
    return float(10 * np.log10((np.dot(target, target) + _EPS) / (np.dot(target - e, target - e) + _EPS)))
