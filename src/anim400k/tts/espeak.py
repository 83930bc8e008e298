"""The embedded TTS backend: espeak-ng (Debian package) run as a subprocess.

Each speaker gets a voice from a pool of distinguishable espeak-ng voice + variant pairs,
chosen from the speaker's index (and, when the source pitch is known, from a lower or
higher pool), so one speaker keeps one voice for the whole episode. The speaker's pitch
range is passed as SSML ``<prosody range>``; the median pitch is matched afterwards by
:mod:`anim400k.dub.voice`.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from xml.sax.saxutils import escape

import numpy as np

from ..errors import BackendUnavailable
from ..signal import resample, to_mono
from .base import UnspeakableText, VoiceProfile, clean_text

# (voice+variant, espeak pitch 0-99). Lower voices first, then higher ones. Every entry has a
# pitch librosa.pyin can track (needed to match the source pitch): en-us+m1's creaky voice has
# none, and espeak-ng 1.51's plain en-gb ignores variants (en-gb+f5 is the en-gb male voice).
LOW_VOICES: tuple[tuple[str, int], ...] = (
    ("en-us+m3", 50),
    ("en-gb-x-rp+m7", 45),
    ("en-us+m2", 45),
    ("en-gb-x-rp+m2", 55),
    ("en-us+m4", 60),
    ("en-gb-scotland+m5", 50),
)
HIGH_VOICES: tuple[tuple[str, int], ...] = (
    ("en-us+f3", 55),
    ("en-gb-x-rp+f3", 60),
    ("en-us+f2", 50),
    ("en-gb-x-rp+f4", 65),
    ("en-us+f1", 45),
)
#: Source speakers whose median F0 is at or above this (Hz) get a voice from HIGH_VOICES.
HIGH_VOICE_F0 = 165.0
#: espeak-ng's own pitch range (10th..90th percentile) in semitones, measured on en-us.
ESPEAK_RANGE_SEMITONES = 4.8
DEFAULT_WPM = 175


class EspeakSynthesizer:
    """espeak-ng speech: ``synthesize(text, voice, sr, speed)`` -> float32 mono at ``sr``."""

    name = "espeak"

    def __init__(self, executable: str | None = None, max_chars: int = 400, timeout: float = 30.0) -> None:
        exe = executable or shutil.which("espeak-ng") or shutil.which("espeak")
        if exe is None:
            raise BackendUnavailable("espeak", None, "install the espeak-ng system package")
        self.executable = exe
        self.max_chars = max_chars
        self.timeout = timeout

    def voice_for(self, voice: VoiceProfile | None) -> tuple[str, int]:
        """The espeak voice name and base pitch used for ``voice`` (stable per speaker index)."""
        if voice is None:
            return LOW_VOICES[0]
        if voice.f0_median is None:  # unknown pitch: alternate pools so neighbours sound different
            pool = HIGH_VOICES if voice.index % 2 else LOW_VOICES
        else:
            pool = HIGH_VOICES if voice.f0_median >= HIGH_VOICE_F0 else LOW_VOICES
        # entry `index` of its pool: speakers 0..4 of an episode never share a voice
        return pool[voice.index % len(pool)]

    def voice_name(self, voice: VoiceProfile | None) -> str:
        """``voice+variant pPITCH``: the espeak-ng setting used for ``voice``."""
        name, pitch = self.voice_for(voice)
        return f"{name} p{pitch}"

    def synthesize(self, text: str, voice: VoiceProfile | None, sr: int, speed: float = 1.0) -> np.ndarray:
        """Speak ``text``; raises :class:`UnspeakableText` for empty/unpronounceable/too-long text."""
        import soundfile as sf

        line = clean_text(text, self.max_chars)
        name, pitch = self.voice_for(voice)
        range_pct = 100
        if voice is not None and voice.f0_range_semitones is not None:
            range_pct = int(np.clip(100 * voice.f0_range_semitones / ESPEAK_RANGE_SEMITONES, 25, 300))
        ssml = f'<speak><prosody range="{range_pct}%">{escape(line)}</prosody></speak>'
        wpm = int(np.clip(round(DEFAULT_WPM * speed), 80, 450))
        cmd = [self.executable, "-m", "-z", "-v", name, "-p", str(pitch), "-s", str(wpm), "--stdout", ssml]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise UnspeakableText(f"espeak-ng took longer than {self.timeout:.0f} s") from exc
        if proc.returncode != 0 or not proc.stdout:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise UnspeakableText(f"espeak-ng failed (exit {proc.returncode}): {err[:200]}")
        audio, native_sr = sf.read(io.BytesIO(proc.stdout), dtype="float32")
        audio = _trim_silence(to_mono(audio))
        if audio.size == 0:
            raise UnspeakableText(f"espeak-ng produced no sound for {line[:40]!r}")
        if native_sr != sr:
            audio = resample(audio, native_sr, sr, "soxr_hq")
        return np.ascontiguousarray(audio, dtype=np.float32)


def _trim_silence(audio: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """Drop leading/trailing samples quieter than ``threshold`` (espeak pads with silence)."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    return audio[loud[0] : loud[-1] + 1]
