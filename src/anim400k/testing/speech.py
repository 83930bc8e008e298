"""Speech test signals: espeak-ng speech (the ASR tests and benchmarks) and a harmonic stand-in for dialogue."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def espeak(text: str, voice: str = "en-us", speed: int = 150) -> np.ndarray:
    """``text`` spoken by espeak-ng, trimmed to its audible extent, mono float32 at 16 kHz."""
    from ..signal import prepare_audio

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                       check=True, capture_output=True)
        x, sr = sf.read(wav, dtype="float32")
    x = prepare_audio(x, sr, SR)
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0] : loud[-1] + 1] if loud.size else x


def speech_track(sentences: list[str], voice: str = "en-us", gap: float = 1.5, lead: float = 0.7):
    """Sentences separated by ``gap`` s of silence after ``lead`` s; returns (audio, [(start, end)])."""
    parts = [np.zeros(int(lead * SR), np.float32)]
    truth = []
    t = lead
    for k, text in enumerate(sentences):
        x = espeak(text, voice)
        truth.append((t, t + x.size / SR))
        parts.append(x)
        t += x.size / SR
        pad = gap if k < len(sentences) - 1 else lead
        parts.append(np.zeros(int(pad * SR), np.float32))
        t += int(pad * SR) / SR
    return np.concatenate(parts), truth


def harmonic_voice(n: int, sr: int, f0: float, seed: int, level: float, on_fraction: float = 0.5) -> np.ndarray:
    """A harmonic "dialogue" of ``n`` samples at ``sr``: 11 harmonics of ``f0`` with vibrato, on in about
    ``on_fraction`` of 0.25 s blocks, rms ``level`` (float32); seeded, so the same arguments give the same signal."""
    r = np.random.default_rng(seed)
    on = np.repeat(r.random(n // (sr // 4) + 1) > 1.0 - on_fraction, sr // 4)[:n]
    tt = np.arange(n) / sr
    ph = 2 * np.pi * f0 * np.cumsum(1 + 0.08 * np.sin(2 * np.pi * (2 + r.random()) * tt)) / sr
    v = on * sum(np.sin(h * ph) / h for h in range(1, 12))
    return (v / v.std() * level).astype(np.float32)
