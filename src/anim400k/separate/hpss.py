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
    import librosa

    n_fft = 1 << int(round(np.log2(0.128 * sr)))  # ~128 ms: 2048 at 16 kHz
    hop = n_fft // 4
    if x.size < n_fft:
        return np.zeros_like(x)
    X = librosa.stft(x, n_fft=n_fft, hop_length=hop)
    S = np.abs(X)
    if algorithm == "repet-sim":
        width = int(librosa.time_to_frames(2.0, sr=sr, hop_length=hop))
        if S.shape[1] <= 2 * width + 2:
            width = max(1, S.shape[1] // 4)
        S_rep = librosa.decompose.nn_filter(S, aggregate=np.median, metric="cosine", width=width)
        S_rep = np.minimum(S, S_rep)
        mask = librosa.util.softmask(S_rep, 2.0 * (S - S_rep), power=2)
    else:
        H, P = librosa.decompose.hpss(S, kernel_size=31, mask=True)
        freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
        voice = ((freqs >= 150.0) & (freqs <= 4000.0))[:, None]
        mask = P + np.where(voice, 0.0, H)
    return librosa.istft(X * mask, hop_length=hop, n_fft=n_fft, length=x.size).astype(np.float32)
