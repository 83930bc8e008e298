"""The text-to-speech Protocol, the voice a line is spoken with, and the backend registry.

A :class:`Synthesizer` turns one line of text into mono float32 samples at a requested
rate. The :class:`VoiceProfile` says whose voice it is: a stable speaker index (so an
embedded backend can pick a distinguishable voice per speaker), the source speaker's
pitch statistics (for backends that can set pitch and range), and optionally a
reference recording (for voice-cloning backends).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import AnimError
from ..registry import SYNTHESIZERS
from ..signal import ANALYSIS_SR


class UnspeakableText(AnimError):
    """The text cannot be spoken (empty, no pronounceable characters, too long)."""


@dataclass
class VoiceProfile:
    """Who speaks a line.

    ``index`` is the speaker's ordinal in the episode (0, 1, ...), stable for the episode.
    ``f0_median``/``f0_low``/``f0_high`` (Hz; low/high are the 10th/90th percentiles) describe
    the source speaker's pitch; ``reference`` is a clean recording of the speaker (mono
    float32 at ``reference_sr``) for voice-cloning backends.
    """

    speaker: str
    index: int = 0
    f0_median: float | None = None
    f0_low: float | None = None
    f0_high: float | None = None
    reference: np.ndarray | None = None
    reference_sr: int = ANALYSIS_SR

    @property
    def f0_range_semitones(self) -> float | None:
        """Width of the speaker's pitch range (10th..90th percentile) in semitones."""
        if not self.f0_low or not self.f0_high or self.f0_high <= self.f0_low:
            return None
        return float(12.0 * np.log2(self.f0_high / self.f0_low))


@runtime_checkable
class Synthesizer(Protocol):
    """A TTS backend: ``synthesize(text, voice, sr, speed=1.0) -> float32 (n,)`` at rate ``sr``,
    and ``voice_name(voice)`` naming the voice used for ``voice``.

    ``speed`` > 1 asks for faster speech (shorter output) where the backend supports it.
    Raises :class:`UnspeakableText` for text it cannot speak.
    """

    name: str

    def synthesize(self, text: str, voice: VoiceProfile | None, sr: int, speed: float = 1.0) -> np.ndarray: ...

    def voice_name(self, voice: VoiceProfile | None) -> str:
        """A short name of the voice ``voice`` is spoken with (for reports; equal names = same voice)."""
        ...


_SPEAKABLE = re.compile(r"[^\W_]", re.UNICODE)


def clean_text(text: str, max_chars: int) -> str:
    """Normalise ``text`` for speaking, or raise :class:`UnspeakableText` saying why not.

    Whitespace is collapsed and subtitle markup (``{\\an8}``, ``<i>``) removed. Text with no
    letter or digit (empty, emoji or punctuation only) and text longer than ``max_chars``
    characters are refused.
    """
    t = re.sub(r"\{[^}]*\}|<[^>]*>", " ", text or "")
    t = unicodedata.normalize("NFKC", t)
    t = " ".join(t.split())
    if not t:
        raise UnspeakableText("empty text")
    letters = [c for c in t if _SPEAKABLE.match(c) and unicodedata.category(c)[0] in "LN"]
    if not letters:
        raise UnspeakableText(f"no speakable characters in {t[:40]!r}")
    if len(t) > max_chars:
        raise UnspeakableText(f"text too long to speak in one line: {len(t)} characters (max {max_chars})")
    return t


def available_synthesizers() -> list[str]:
    """Names accepted by :func:`get_synthesizer`."""
    return SYNTHESIZERS.names()


def get_synthesizer(name: str, **options: Any) -> Synthesizer:
    """Build the TTS backend called ``name`` (``neural``, ``espeak`` or ``xtts``) with ``options``."""
    return SYNTHESIZERS.create(name, **options)  # type: ignore[no-any-return]
