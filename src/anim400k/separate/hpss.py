"""Single-track fallback separation with librosa: REPET-SIM (default) or HPSS.

``repet-sim`` (Rafii & Pardo, 2012, as in librosa's vocal-separation example): the
repeating backing is estimated per frame as the median of its most similar frames
(``librosa.decompose.nn_filter``, cosine similarity, neighbours at least 2 s apart),
clipped to the mix, and turned into soft masks (margins 2 / 10, power 2).
``hpss``: harmonic/percussive separation (``librosa.decompose.hpss`` with soft masks);
the backing is the percussive part plus the harmonic part outside the voice band
(150 Hz - 4 kHz), a crude but standard single-track baseline.

The mix is processed in blocks (default 30 s plus 2 s context on each side) so memory and
the nearest-neighbour search stay bounded on a 24-minute episode.
"""

from __future__ import annotations

import numpy as np

from ..model import TimeMap
from .base import Separation, to_mono
from .stft import istft, stft


class HpssSeparator:
    """Single-track separator: ``HpssSeparator(algorithm="repet-sim" | "hpss")``."""

    name = "hpss"

    def __init__(self, algorithm: str = "repet-sim", block_seconds: float = 30.0, context_seconds: float = 2.0):
        if algorithm not in ("repet-sim", "hpss"):
            raise ValueError(f"algorithm must be 'repet-sim' or 'hpss', got {algorithm!r}")
        self.algorithm = algorithm
        self.block_seconds = block_seconds
        self.context_seconds = context_seconds

    def separate(
        self,
        audio: np.ndarray,
        sr: int,
        reference: np.ndarray | None = None,
        time_map: TimeMap | None = None,
    ) -> Separation:
        """Separate ``audio`` (``reference``/``time_map`` are ignored)."""
        x = to_mono(audio)
        backing = self.backing(x, sr)
        return Separation(backing=backing, vocals=x - backing, sr=sr, method=f"hpss/{self.algorithm}")

    def backing(self, x: np.ndarray, sr: int) -> np.ndarray:
        """The backing-track estimate of mono ``x`` (same length, float32)."""
        out = np.zeros_like(x, dtype=np.float32)
        block = max(1, int(self.block_seconds * sr))
        ctx = int(self.context_seconds * sr)
        for s in range(0, x.size, block):
            e = min(x.size, s + block)
            a, b = max(0, s - ctx), min(x.size, e + ctx)
            y = _backing_block(x[a:b], sr, self.algorithm)
            out[s:e] = y[s - a : e - a]
        return out


def _backing_block(x: np.ndarray, sr: int, algorithm: str) -> np.ndarray:
    n_fft = 1 << int(round(np.log2(0.128 * sr)))  # ~128 ms: 2048 at 16 kHz
    hop = n_fft // 4
    if x.size < n_fft:
        return np.zeros_like(x)
    if algorithm == "repet-sim":
        X = stft(x, n_fft, hop)
        S = np.abs(X)
        width = int(np.floor(2.0 * sr / hop))  # neighbours at least 2 s apart
        if S.shape[1] <= 2 * width + 2:
            width = max(1, S.shape[1] // 4)
        S_rep = np.minimum(S, repet_sim_filter(S, width))
        mask = softmask(S_rep, 2.0 * (S - S_rep), power=2)
        return istft(X * mask, n_fft, hop, x.size)
    import librosa

    X = librosa.stft(x, n_fft=n_fft, hop_length=hop)
    S = np.abs(X)
    H, P = librosa.decompose.hpss(S, kernel_size=31, mask=True)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    voice = ((freqs >= 150.0) & (freqs <= 4000.0))[:, None]
    mask = P + np.where(voice, 0.0, H)
    return librosa.istft(X * mask, hop_length=hop, n_fft=n_fft, length=x.size).astype(np.float32)


def nearest_frames(S: np.ndarray, width: int, k: int | None = None) -> np.ndarray:
    """REPET-SIM's neighbour frames of each frame (column) of ``S``: ``(frames, k)`` indices, -1 = none.

    As ``librosa.segment.recurrence_matrix(S, metric="cosine", width=width)`` chooses them
    (what the librosa implementation this replaces used): of the ``k + 2 * width`` most
    cosine-similar other frames, those at least ``width`` frames away, the ``k`` earliest.
    ``k`` defaults to ``2 * ceil(sqrt(frames - 2 * width + 1))``. One matrix product and
    one ``argpartition`` replace the nearest-neighbour index and the sparse-matrix loop.
    """
    n = S.shape[1]
    if k is None:
        k = int(2 * np.ceil(np.sqrt(max(1, n - 2 * width + 1))))
    k = max(1, min(k, n - 1))
    m = min(n - 1, k + 2 * width)
    unit = S / np.maximum(np.linalg.norm(S, axis=0, keepdims=True), np.finfo(np.float32).tiny)
    sim = unit.T @ unit
    np.fill_diagonal(sim, -np.inf)
    top = np.argpartition(-sim, m - 1, axis=1)[:, :m]
    far = np.abs(top - np.arange(n)[:, None]) >= width
    top = np.where(far, top, n)  # too close: sorts last
    top.sort(axis=1)
    top = top[:, :k]
    top[top == n] = -1
    return top


def repet_sim_filter(S: np.ndarray, width: int, chunk: int = 16) -> np.ndarray:
    """Per frame, the median magnitude of its neighbour frames (:func:`nearest_frames`): the repeating part.

    Same result as ``librosa.decompose.nn_filter(S, aggregate=np.median, metric="cosine",
    width=width)`` but vectorised: frames are gathered in chunks as ``(chunk, bins, k)``
    and sorted along the contiguous last axis (NumPy's vectorised sort is ~5x faster than
    ``np.partition`` for these short rows), the median read off the middle. A frame with
    fewer neighbours takes their median; one with none keeps its own magnitude.
    """
    idx = nearest_frames(S, width)
    k = idx.shape[1]
    frames = np.ascontiguousarray(S.T)  # (n, bins)
    out = frames.copy()
    full = np.flatnonzero(idx[:, -1] >= 0)
    mid = [k // 2] if k % 2 else [k // 2 - 1, k // 2]
    for a in range(0, full.size, chunk):
        rows = full[a : a + chunk]
        group = np.ascontiguousarray(frames[idx[rows]].transpose(0, 2, 1))  # (c, bins, k)
        group.sort(axis=-1)
        out[rows] = group[..., mid].mean(axis=-1)
    for r in np.flatnonzero((idx[:, -1] < 0) & (idx[:, 0] >= 0)):
        out[r] = np.median(frames[idx[r][idx[r] >= 0]], axis=0)
    return out.T


def softmask(X: np.ndarray, X_ref: np.ndarray, power: float = 2.0) -> np.ndarray:
    """``X**p / (X**p + X_ref**p)``, 0 where both are ~0 (as ``librosa.util.softmask``)."""
    z = np.maximum(X, X_ref)
    bad = z < np.finfo(np.float32).tiny
    z = np.where(bad, 1.0, z)
    a, b = (X / z) ** power, (X_ref / z) ** power
    return np.where(bad, 0.0, a / np.where(bad, 1.0, a + b)).astype(np.float32)
