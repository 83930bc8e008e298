"""Numpy test signals for the sync/separation benchmarks: a shared M&E stem plus per-language speech.

The M&E stem comes from :func:`anim400k.synth.music.synth_backing` (the synthetic-episode
generator's music); "speech" is a voiced, formant-filtered pulse train with syllabic
amplitude modulation (no espeak), so long pairs can be made in seconds.
"""

from __future__ import annotations

import numpy as np
import soxr
from scipy.signal import butter, sosfilt


def speech_like(n: int, sr: int, rng: np.random.Generator, density: float = 0.5) -> np.ndarray:
    """Voiced utterances (0.8-3 s) with pauses; roughly ``density`` of the time is speech."""
    out = np.zeros(n)
    t = float(rng.uniform(0.0, 1.0))
    while t < n / sr:
        length = float(rng.uniform(0.8, 3.0))
        a = int(t * sr)
        m = min(n - a, int(length * sr))
        if rng.random() < density and m > 0:
            tt = np.arange(m) / sr
            f0 = rng.uniform(100, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * tt))
            ph = np.cumsum(f0) / sr
            src = sum(np.sin(2 * np.pi * h * ph) / h for h in range(1, 30) if h * f0.max() < sr / 2)
            env = np.abs(np.sin(2 * np.pi * rng.uniform(3, 6) * tt)) ** 0.7
            y = src * env
            for fc in (rng.uniform(400, 900), rng.uniform(1000, 2400)):
                sos = butter(2, [fc * 0.8, fc * 1.2], btype="band", fs=sr, output="sos")
                y = y + 2 * sosfilt(sos, y)
            out[a : a + m] += y / (np.max(np.abs(y)) + 1e-9)
        t += length + float(rng.uniform(0.2, 1.5))
    return out


def warp_to_en(x: np.ndarray, sr: int, offset: float, drift: float, n_out: int) -> np.ndarray:
    """The EN-timeline view of a JP-timeline signal: ``y(t_en) = x((t_en - offset) / (1 + drift))``."""
    up = soxr.resample(x, sr, sr * 4)
    tj = (np.arange(n_out) / sr - offset) / (1 + drift)
    return np.interp(tj * sr * 4, np.arange(up.size), up, left=0.0, right=0.0)


def sparse_envelope(n: int, sr: int, rng: np.random.Generator, quiet: float = 0.05) -> np.ndarray:
    """Sections of 4-12 s, each at full level or at ``quiet`` (about half of them), 0.2 s ramps."""
    from scipy.ndimage import uniform_filter1d

    env = np.zeros(n)
    t = 0
    while t < n:
        length = int(rng.uniform(4, 12) * sr)
        env[t : t + length] = 1.0 if rng.random() < 0.5 else quiet
        t += length
    return uniform_filter1d(env, sr // 5)


def dubbed_pair(
    duration: float,
    sr: int,
    seed: int,
    offset: float = 0.0,
    drift: float = 0.0,
    speech_over_backing_db: float = 12.0,
    density: float = 0.5,
    sparse: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(jp_mix, en_mix, backing, jp_speech)`` with the EN medium offset/drifted; float32.

    ``density``: fraction of the time with speech; ``sparse``: the backing is nearly silent
    (-26 dB) in about half of its 4-12 s sections (a sparse M&E). The dialogue level is
    ``speech_over_backing_db`` over the backing's rms.
    """
    from anim400k.synth.music import synth_backing

    rng = np.random.default_rng(seed)
    n = int(duration * sr)
    backing = synth_backing(n, sr, rng)
    if sparse:
        backing *= sparse_envelope(n, sr, rng)
    backing /= np.std(backing) + 1e-12
    jp_speech = speech_like(n, sr, rng, density)
    level = 10 ** (speech_over_backing_db / 20) / (np.std(jp_speech[jp_speech != 0]) + 1e-12)
    jp_speech *= level
    n_en = max(sr, int((offset + duration * (1 + drift)) * sr))
    en_speech = speech_like(n_en, sr, rng, density) * level
    en_backing = warp_to_en(backing, sr, offset, drift, n_en)
    scale = 0.1
    f = np.float32
    return (
        ((backing + jp_speech) * scale).astype(f),
        ((en_backing + en_speech) * scale).astype(f),
        (backing * scale).astype(f),
        (jp_speech * scale).astype(f),
    )
