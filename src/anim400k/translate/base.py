"""The translation Protocol (one EN line per speech segment) and the backend registry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..model import Segment
from ..registry import TRANSLATORS


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


def available_translators() -> list[str]:
    """Names accepted by :func:`get_translator`."""
    return TRANSLATORS.names()


def get_translator(name: str, **options: Any) -> Translator:
    """Build the translation backend ``name`` (``subtitles``, ``whisper``, ``text``) with ``options``."""
    return TRANSLATORS.create(name, **options)  # type: ignore[no-any-return]
