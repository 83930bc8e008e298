"""Transcribe one audio stream of a media file into a cached Whisper-style JSON artifact.

The JSON written by :func:`transcribe_track` carries an ``anim400k`` block with the hash of
everything that determines the result (backend config, language, stream, the media file's
name and size). A later call with the same inputs reads the file back instead of
transcribing again; any difference re-runs the backend and replaces the file atomically.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..formats.transcripts import read_transcript, write_transcript
from ..model import Transcript
from .base import ASR_SAMPLE_RATE, Transcriber

CACHE_KEY = "anim400k"


def track_config(
    media: str | Path, stream: str | int, language: str, transcriber: Transcriber
) -> dict[str, Any]:
    """The inputs that determine a track's transcript (hashed for the cache)."""
    p = Path(media)
    size = p.stat().st_size if p.is_file() else None
    config = getattr(transcriber, "config", None) or {"backend": transcriber.name}
    return {"media": p.name, "media_size": size, "stream": str(stream), "language": language, "asr": config}


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 (hex, first 16 chars) of the canonical JSON of ``config``."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def cached_transcript(out_json: str | Path, expected_hash: str) -> Transcript | None:
    """The transcript stored at ``out_json`` if it was made with ``expected_hash``, else None."""
    path = Path(out_json)
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8")).get(CACHE_KEY, {}).get("config_hash")
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        return None
    if stored != expected_hash:
        return None
    return read_transcript(path)


def written_by_transcribe(path: str | Path) -> bool:
    """Whether ``path`` is a transcript that :func:`transcribe_track` wrote: a JSON object whose
    ``anim400k`` block holds a ``config_hash`` (a user's Whisper or AWS JSON has none)."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # unreadable, not UTF-8, not JSON, nested too deeply
        return False
    block = obj.get(CACHE_KEY) if isinstance(obj, dict) else None
    return isinstance(block, dict) and isinstance(block.get("config_hash"), str)


def transcribe_track(
    media: str | Path,
    stream: str | int,
    language: str,
    transcriber: Transcriber,
    out_json: str | Path,
    audio: np.ndarray | None = None,
    sr: int = ASR_SAMPLE_RATE,
) -> Transcript:
    """Transcribe audio stream ``stream`` of ``media`` in ``language``; cache it as ``out_json``.

    ``audio``/``sr`` may hold the stream already decoded (the build decodes each stream
    once); otherwise the stream is decoded here with :func:`anim400k.media.decode_audio`.
    Returns the transcript (read back from ``out_json`` when it is up to date).
    """
    config = track_config(media, stream, language, transcriber)
    digest = config_hash(config)
    cached = cached_transcript(out_json, digest)
    if cached is not None:
        return cached
    if audio is None:
        from ..media import decode_audio

        audio = decode_audio(media, stream=stream, sr=ASR_SAMPLE_RATE)
        sr = ASR_SAMPLE_RATE
    transcript = transcriber.transcribe(audio, sr, language)
    write_transcript(out_json, transcript, extra={CACHE_KEY: {"config_hash": digest, "config": config}})
    return transcript
