"""Transcribe one audio stream of a media file into a cached Whisper-style JSON artifact.

The JSON written by :func:`transcribe_track` carries an ``anim400k`` block with the hash of
everything that determines the result: the backend config, language and stream, the media file
(:func:`media_identity`: its resolved path, size, modification time and the SHA-256 of its first
:data:`HEAD_BYTES` bytes) and the backend's model folder
(:func:`model_identity`: name, size and modification time of each file). A later call with the
same inputs reads the file back instead of transcribing again; any difference (another file at the
same name, a file replaced in place, a model file replaced) re-runs the backend and replaces the
file atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..formats.transcripts import read_transcript, write_transcript
from ..model import Transcript
from .base import ASR_SAMPLE_RATE, Transcriber

CACHE_KEY = "anim400k"
#: how much of a media file is hashed for the cache key: all of a small file, the head of a large one (8 MB
#: read in milliseconds; the build hashes inputs up to the same size, ``anim400k.dataset.identity.HASH_LIMIT``)
HEAD_BYTES = 8 * 1024 * 1024


def media_identity(media: str | Path) -> dict[str, Any]:
    """What tells one media file from another for the cache: its resolved path, size, modification
    time (``st_mtime_ns``) and the SHA-256 of its first :data:`HEAD_BYTES` bytes (the whole file when it
    is smaller). A file at another path, or one replaced or edited in place, has another identity; a
    missing file has its path only."""
    p = Path(media)
    ident: dict[str, Any] = {"path": os.path.realpath(p)}
    try:
        st = p.stat()
        if not p.is_file():
            return ident
        h = hashlib.sha256()
        with open(p, "rb") as f:
            left = HEAD_BYTES
            while left > 0:
                block = f.read(min(left, 1 << 20))
                if not block:
                    break
                h.update(block)
                left -= len(block)
    except OSError:
        return ident
    ident.update(size=st.st_size, mtime_ns=st.st_mtime_ns, sha256_head=h.hexdigest())
    return ident


def folder_identity(folder: str | Path) -> dict[str, Any]:
    """A model folder's resolved path and, for each file below it, ``[size, mtime_ns]`` by relative
    name (symbolic links followed, as in a Hugging Face cache snapshot): a file replaced, added or
    removed changes it. Contents are not read (model files are gigabytes)."""
    root = Path(os.path.realpath(folder))
    files: dict[str, list[int]] = {}
    for dirpath, _dirs, names in os.walk(root, followlinks=True):
        for name in names:
            path = Path(dirpath) / name
            try:
                st = path.stat()
            except OSError:
                continue
            files[path.relative_to(root).as_posix()] = [st.st_size, st.st_mtime_ns]
    return {"folder": str(root), "files": dict(sorted(files.items()))}


def model_identity(transcriber: Transcriber, language: str) -> dict[str, Any] | None:
    """The identity (:func:`folder_identity`) of the model folder that ``transcriber`` uses for
    ``language`` (``auto`` dispatches: its backend for the language); None for a backend without one
    (``vad``, ``pocketsphinx``) or one that does not say (``model_folder()`` is how a backend says)."""
    backend_for = getattr(transcriber, "backend_for", None)
    backend = backend_for(language) if callable(backend_for) else transcriber
    model_folder = getattr(backend, "model_folder", None)
    if not callable(model_folder):
        return None
    folder = model_folder()
    return folder_identity(folder) if folder is not None else None


def track_config(
    media: str | Path, stream: str | int, language: str, transcriber: Transcriber
) -> dict[str, Any]:
    """The inputs that determine a track's transcript (hashed for the cache): the media file
    (:func:`media_identity`), stream, language, the backend's config and its model folder's files
    (:func:`model_identity`)."""
    p = Path(media)
    config = getattr(transcriber, "config", None) or {"backend": transcriber.name}
    return {"media": p.name, "media_identity": media_identity(p), "stream": str(stream), "language": language,
            "asr": config, "model_files": model_identity(transcriber, language)}


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
    ``anim400k`` block holds a ``config_hash`` (a user's Whisper or AWS JSON has none). A file that does not start
    like JSON (a video given as ``--out``) is not read beyond its first bytes; a UTF-8 BOM is skipped."""
    from ..fsutil.sniffers import json_file_value

    obj = json_file_value(path)
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
    from ..fsutil.writable import check_output_file

    check_output_file(out_json)  # a folder, or a folder that cannot be written: before the work
    if audio is None:
        from ..media import decode_audio

        audio = decode_audio(media, stream=stream, sr=ASR_SAMPLE_RATE)
        sr = ASR_SAMPLE_RATE
    transcript = transcriber.transcribe(audio, sr, language)
    write_transcript(out_json, transcript, extra={CACHE_KEY: {"config_hash": digest, "config": config}})
    return transcript
