"""Speech test signals made with espeak-ng (shared by the ASR tests and benchmarks)."""

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
