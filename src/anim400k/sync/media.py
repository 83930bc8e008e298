"""Media-level sync: decode the JP and EN streams and estimate the map between them."""

from __future__ import annotations

from pathlib import Path

from ..signal import ANALYSIS_SR
from .estimate import analyze_sync
from .result import SyncResult


def sync_media(
    jp_media: str | Path,
    en_media: str | Path,
    jp_stream: str | int = "jpn",
    en_stream: str | int = "eng",
    sr: int = ANALYSIS_SR,
) -> SyncResult:
    """Decode both streams (mono, ``sr`` Hz) and return :func:`analyze_sync`'s result."""
    from ..media import decode_audio

    jp = decode_audio(jp_media, jp_stream, sr=sr)
    en = decode_audio(en_media, en_stream, sr=sr)
    return analyze_sync(jp, en, sr)
