"""The translation Protocol (one EN line per speech segment) and the backend registry."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import AnimError
from ..model import Segment


@dataclass
class Line:
    """The translation of one segment: ``text`` (None when there is none), optional source text,
    and ``problem`` saying why a line is missing or doubtful."""

    text: str | None
    source_text: str | None = None
    problem: str | None = None


@runtime_checkable
class Translator(Protocol):
    """``translate(segments, audio, sr) -> [Line]``: one line per segment, same order.

    ``audio`` is the source speech (separated vocals or the mix) at ``sr`` for backends that
    listen; text-based backends ignore it.
    """

    name: str

    def translate(self, segments: Sequence[Segment], audio: np.ndarray | None, sr: int) -> list[Line]: ...


_REGISTRY: dict[str, str] = {
    "subtitles": "anim400k.translate.subtitles:SubtitleTranslator",
    "whisper": "anim400k.translate.whisper:WhisperTranslator",
    "text": "anim400k.translate.text:TextTranslator",
}


def available_translators() -> list[str]:
    """Names accepted by :func:`get_translator`."""
    return sorted(_REGISTRY)


def get_translator(name: str, **options: Any) -> Translator:
    """Build the translation backend ``name`` (``subtitles``, ``whisper``, ``text``) with ``options``."""
    if name not in _REGISTRY:
        raise AnimError(f"unknown translator {name!r}; choose one of {', '.join(available_translators())}")
    module, cls = _REGISTRY[name].split(":")
    factory: Callable[..., Translator] = getattr(importlib.import_module(module), cls)
    return factory(**options)
