"""Speech for synthetic episodes: neural voices (default) or espeak-ng (quick unit tests).

Each synthetic speaker has one Japanese and one English voice, so a speaker sounds
consistent within each language and speakers are distinguishable from each other.
With ``mode="neural"`` Japanese is spoken by Kokoro-82M's Japanese voices and English by
the neural English pool (hibari's heart and Kokoro's voices; :mod:`anim400k.tts.neural`),
each line cached on disk by (text, voice, speed); with ``mode="espeak"`` both languages
are espeak-ng voices (voice + variant + pitch), cached per process.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from ..errors import BackendUnavailable
from ..signal import resample

ESPEAK_RATE = 22050
"""espeak-ng's native output rate (Hz)."""


#: Voice modes of synthetic episodes: ``neural`` (Kokoro + hibari) or ``espeak`` (espeak-ng, fast).
VOICE_MODES = ("neural", "espeak")


@dataclass(frozen=True, slots=True)
class Voice:
    """One voice setting. ``engine="espeak"``: ``-v name -p pitch``, ``speed`` in words per minute;
    ``engine="neural"``: ``name`` is a neural voice spec (``kokoro:jf_alpha``, ``hibari:heart@0.62``),
    ``language`` ``ja`` or ``en``, ``speed`` a rate factor (1 = natural). Speed is chosen per line."""

    name: str
    pitch: int
    speed: float = 160
    engine: str = "espeak"
    language: str = "en"

    @property
    def label(self) -> str:
        """How the voice is named in ``truth.json``."""
        return self.name if self.engine == "neural" else f"{self.name} -p {self.pitch}"

    def speed_for(self, factor: float) -> float:
        """The speed setting that speaks ``factor`` times faster than the voice's own (bounded)."""
        if self.engine == "neural":
            return round(float(np.clip(self.speed * factor, 0.6, 1.8)), 2)
        return int(np.clip(round(self.speed * factor), 90, 320))


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


def speaker_voices(n_speakers: int, mode: str = "neural") -> list[SpeakerVoices]:
    """The voices of speakers ``spk0 .. spk{n-1}`` (deterministic) in ``mode`` (see :data:`VOICE_MODES`)."""
    if mode not in VOICE_MODES:
        raise ValueError(f"voices must be one of {', '.join(VOICE_MODES)}, got {mode!r}")
    if mode == "neural":
        from ..tts.neural import ENGLISH_POOL, JAPANESE_POOL

        if n_speakers > min(len(JAPANESE_POOL), len(ENGLISH_POOL)):
            raise ValueError(f"neural voices exist for at most {len(JAPANESE_POOL)} speakers, got {n_speakers}")
        return [
            SpeakerVoices(
                f"spk{i}",
                Voice(JAPANESE_POOL[i].name, 0, 1.0, "neural", "ja"),
                Voice(ENGLISH_POOL[i].name, 0, 1.0, "neural", "en"),
            )
            for i in range(n_speakers)
        ]
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
    return _finish(_trim_silence(pcm, ESPEAK_RATE), ESPEAK_RATE, sr)


def _finish(pcm: np.ndarray, rate: int, sr: int) -> np.ndarray:
    """Resample trimmed speech from ``rate`` to ``sr``, cut to whole ms, 5 ms fades, read-only."""
    out = resample(pcm.astype(np.float64), rate, sr)
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


def render(text: str, voice: Voice, speed: float | None = None, sr: int = 48000) -> np.ndarray:
    """Speak ``text`` with ``voice``; float32 mono at ``sr``, trimmed, a whole number of ms.

    Same arguments give the same (cached, read-only) array within a process; neural lines are
    also cached on disk (:func:`anim400k.tts.neural.speak`).
    """
    if voice.engine == "neural":
        return _render_neural(text, voice.name, voice.language, float(speed or voice.speed), int(sr))
    return _render_cached(text, voice.name, int(speed or voice.speed), int(voice.pitch), int(sr))


def natural_ms(text: str, voice: Voice, sr: int = 48000) -> int:
    """About how long (ms) ``voice`` speaks ``text`` at its own speed, cheaply: espeak-ng renders it;
    a neural voice is estimated from hibari's heart (50x faster than real time), whose durations
    are distilled from Kokoro's."""
    if voice.engine == "neural" and voice.language == "en":
        audio = _render_neural(text, "hibari:heart", "en", 1.0, int(sr))
    else:
        audio = render(text, voice, sr=sr)
    return int(len(audio) * 1000 // sr)


@functools.lru_cache(maxsize=256)
def _render_neural(text: str, voice: str, language: str, speed: float, sr: int) -> np.ndarray:
    from ..tts.neural import SAMPLE_RATE, speak

    pcm = speak(text, voice, speed, language)
    if pcm.size == 0:
        raise RuntimeError(f"neural voice {voice!r} produced no audio for {text!r}")
    return _finish(pcm, SAMPLE_RATE, sr)
