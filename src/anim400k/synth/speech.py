"""Speech for synthetic episodes: espeak-ng renders with fixed parameters, cached per process.

Each synthetic speaker has one Japanese and one English espeak-ng voice (voice +
variant + pitch), so a speaker sounds consistent within each language and speakers
are distinguishable from each other.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from ..errors import BackendUnavailable

ESPEAK_RATE = 22050
"""espeak-ng's native output rate (Hz)."""


@dataclass(frozen=True, slots=True)
class Voice:
    """One espeak-ng voice setting: ``-v name -p pitch``; speed is chosen per line."""

    name: str
    pitch: int
    speed: int = 160


@dataclass(frozen=True, slots=True)
class SpeakerVoices:
    """A synthetic speaker's JP and EN voices."""

    speaker: str
    jp: Voice
    en: Voice


# Distinct voice variants and pitches; speaker i uses entry i (cycled, with a pitch
# shift per cycle, beyond the table).
_VOICE_TABLE: tuple[tuple[str, str, int, int], ...] = (
    ("ja+m3", "en-us+m3", 40, 165),
    ("ja+f3", "en-gb+f3", 72, 170),
    ("ja+m1", "en-us+m1", 22, 150),
    ("ja+f5", "en-gb-x-rp+f5", 85, 175),
    ("ja+m7", "en-us+m7", 55, 160),
    ("ja+f2", "en-029+f2", 62, 165),
)


def speaker_voices(n_speakers: int) -> list[SpeakerVoices]:
    """The voices of speakers ``spk0 .. spk{n-1}`` (deterministic)."""
    out = []
    for i in range(n_speakers):
        jp, en, pitch, speed = _VOICE_TABLE[i % len(_VOICE_TABLE)]
        pitch = min(99, pitch + 9 * (i // len(_VOICE_TABLE)))
        out.append(SpeakerVoices(f"spk{i}", Voice(jp, pitch, speed - 10), Voice(en, pitch, speed)))
    return out


def _espeak_binary() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise BackendUnavailable(
            "espeak-ng", hint="install the espeak-ng system package (apt install espeak-ng)"
        )
    return exe


@functools.lru_cache(maxsize=256)
def _render_cached(text: str, voice: str, speed: int, pitch: int, sr: int) -> np.ndarray:
    raw = subprocess.run(
        [
            _espeak_binary(),
            "-v",
            voice,
            "-s",
            str(speed),
            "-p",
            str(pitch),
            "-a",
            "100",
            "-g",
            "0",
            "--stdout",
            text,
        ],
        check=True,
        capture_output=True,
    ).stdout
    # --stdout writes a streaming WAV header (44 bytes) with bogus sizes: read the PCM directly.
    if raw[:4] != b"RIFF" or len(raw) < 46:
        raise RuntimeError(f"espeak-ng produced no audio for voice {voice!r} and text {text!r}")
    pcm = np.frombuffer(raw[44 : 44 + (len(raw) - 44) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    pcm = _trim_silence(pcm, ESPEAK_RATE)
    g = np.gcd(sr, ESPEAK_RATE)
    out = resample_poly(pcm.astype(np.float64), sr // g, ESPEAK_RATE // g).astype(np.float32)
    ms = sr // 1000
    out = out[: max(ms, len(out) // ms * ms)]  # a whole number of milliseconds
    fade = min(len(out) // 4, sr // 200)  # 5 ms fades: no clicks at the cut points
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    out.setflags(write=False)
    return out


def _trim_silence(x: np.ndarray, sr: int, rel: float = 0.02, pad_s: float = 0.01) -> np.ndarray:
    """Cut leading/trailing near-silence so a line's truth times hug its audible speech."""
    if x.size == 0:
        return x
    thr = rel * float(np.max(np.abs(x)))
    idx = np.flatnonzero(np.abs(x) > thr)
    if idx.size == 0:
        return x
    pad = int(pad_s * sr)
    return x[max(0, idx[0] - pad) : idx[-1] + pad + 1]


def render(text: str, voice: Voice, speed: int | None = None, sr: int = 48000) -> np.ndarray:
    """Speak ``text`` with espeak-ng; float32 mono at ``sr``, trimmed, a whole number of ms.

    Same arguments give the same (cached, read-only) array within a process.
    """
    return _render_cached(text, voice.name, int(speed or voice.speed), int(voice.pitch), int(sr))
