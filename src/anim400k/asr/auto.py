"""The ``auto`` backend: the best embedded backend per language.

English goes to ``pocketsphinx`` (words with timings); every other language to ``vad``
(timed, untranscribed segments), since no offline ASR for Japanese ships with a package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import Transcript
from .pocketsphinx_backend import PocketsphinxTranscriber
from .vad import VadTranscriber


@dataclass
class AutoTranscriber:
    """Dispatch by language: ``en`` -> pocketsphinx, others -> vad."""

    name: str = field(default="auto", init=False)
    _english: PocketsphinxTranscriber = field(default_factory=PocketsphinxTranscriber, init=False)
    _other: VadTranscriber = field(default_factory=VadTranscriber, init=False)

    def backend_for(self, language: str) -> PocketsphinxTranscriber | VadTranscriber:
        """The backend used for ``language``."""
        return self._english if language.split("-")[0].lower() in ("en", "eng", "english") else self._other

    @property
    def config(self) -> dict[str, Any]:
        return {"backend": self.name, "en": self._english.config, "other": self._other.config}

    def transcribe(self, audio: np.ndarray, sr: int, language: str) -> Transcript:
        """Transcribe with the language's backend; ``source`` names it (``auto:pocketsphinx``)."""
        backend = self.backend_for(language)
        t = backend.transcribe(audio, sr, language)
        t.language = "en" if backend is self._english else language
        t.source = f"{self.name}:{backend.name}"
        return t
