"""The music-and-effects (M&E) stem: chords, percussion and noise effects (numpy/scipy DSP).

The stem is shared by both language mixes of an episode, as in a real dub.
It varies over time (sections with different density and level, one-off effects)
so that pieces of it are unique, which makes cross-correlation meaningful.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

_PAD_DECIMATION = 4
_CHORDS = (  # semitone offsets of triads/sevenths relative to the key root
    (0, 4, 7),
    (5, 9, 12),
    (7, 11, 14),
    (9, 12, 16),
    (2, 5, 9),
    (4, 7, 11),
    (0, 4, 7, 11),
    (5, 9, 12, 16),
)


def _note_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _add(dst: np.ndarray, start: int, sig: np.ndarray) -> None:
    if start >= len(dst) or start + len(sig) <= 0:
        return
    a, b = max(0, start), min(len(dst), start + len(sig))
    dst[a:b] += sig[a - start : b - start]


def _pad(rng: np.random.Generator, freqs: list[float], n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    vib = 2 * np.pi * t * (1 + 0.002 * np.sin(2 * np.pi * 5 * t))
    out = np.zeros(n)
    for f in freqs:
        ph = rng.uniform(0, 2 * np.pi)
        for h, amp in ((1, 1.0), (2, 0.35), (3, 0.18)):
            out += amp * np.sin(f * h * vib + ph * h)
    att, rel = min(n // 4, int(0.08 * sr)), min(n // 3, int(0.3 * sr))
    env = np.ones(n)
    env[:att] = np.linspace(0, 1, att)
    env[n - rel :] = np.linspace(1, 0, rel)
    return out * env / max(1, len(freqs))


def _kick(sr: int) -> np.ndarray:
    n = int(0.25 * sr)
    t = np.arange(n) / sr
    freq = 45 + 90 * np.exp(-t * 30)
    return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 14)


def _noise_hit(
    rng: np.random.Generator, sr: int, dur: float, lo: float, hi: float, decay: float
) -> np.ndarray:
    n = max(16, int(dur * sr))
    sos = butter(2, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    x = sosfilt(sos, rng.standard_normal(n))
    return x * np.exp(-np.arange(n) / sr * decay)


def synth_backing(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A music-and-effects stem of ``n`` samples (float64, unnormalised)."""
    out = np.zeros(n)
    # the chord pads have no energy above ~2 kHz: synthesise them at a quarter rate
    low_sr = sr // _PAD_DECIMATION
    pads = np.zeros(n // _PAD_DECIMATION + 1)
    dur = n / sr
    bpm = float(rng.uniform(84, 132))
    beat = 60.0 / bpm
    root = int(rng.integers(45, 57))
    kick, t = _kick(sr), 0.0
    # sections: 4 to 12 s long, each with its own instrumentation and level
    while t < dur:
        sec_len = float(rng.uniform(4, 12))
        level = float(rng.uniform(0.4, 1.0))
        has_drums = rng.random() < 0.75
        has_hats = rng.random() < 0.6
        bar = 4 * beat
        tb = t
        while tb < min(dur, t + sec_len):
            chord = _CHORDS[int(rng.integers(len(_CHORDS)))]
            freqs = [_note_hz(root + c) for c in chord] + [_note_hz(root - 12 + chord[0])]
            _add(pads, int(tb * low_sr), 0.5 * level * _pad(rng, freqs, int(bar * low_sr), low_sr))
            for k in range(4):
                tt = tb + k * beat
                if has_drums and (k % 2 == 0 or rng.random() < 0.2):
                    _add(out, int(tt * sr), 0.9 * level * kick)
                if has_drums and k % 2 == 1:
                    _add(out, int(tt * sr), 0.35 * level * _noise_hit(rng, sr, 0.18, 900, 5000, 22))
                if has_hats:
                    for half in (0.0, 0.5):
                        if rng.random() < 0.8:
                            hit = _noise_hit(rng, sr, 0.05, 6000, 16000, 70)
                            _add(out, int((tt + half * beat) * sr), 0.15 * level * hit)
            tb += bar
        t += sec_len
    out += resample_poly(pads, _PAD_DECIMATION, 1)[:n]
    # effects: noise swells/bursts (whooshes, impacts) at random moments
    for _ in range(int(rng.poisson(dur / 6.0)) + 1):
        at = float(rng.uniform(0, dur))
        length = float(rng.uniform(0.3, 1.8))
        lo = float(rng.uniform(150, 2000))
        hit = _noise_hit(rng, sr, length, lo, lo * float(rng.uniform(2, 6)), float(rng.uniform(1, 6)))
        m = len(hit)
        swell = np.sin(np.pi * np.arange(m) / m) ** 2 if rng.random() < 0.5 else np.ones(m)
        _add(out, int(at * sr), float(rng.uniform(0.3, 0.8)) * hit * swell)
    return out
