"""Speech recognition backends (see :mod:`anim400k.asr.base` for the list)."""

from __future__ import annotations

from .base import (
    Transcriber,
    available_transcribers,
    get_transcriber,
    register_transcriber,
    transcriber_names,
)
from .track import transcribe_track

__all__ = [
    "Transcriber",
    "available_transcribers",
    "get_transcriber",
    "register_transcriber",
    "transcribe_track",
    "transcriber_names",
]
