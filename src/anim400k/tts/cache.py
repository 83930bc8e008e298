"""On-disk cache of synthesized lines, keyed by everything that determines the audio.

Lines live in ``$ANIM400K_CACHE/tts`` (default ``~/.cache/anim400k/tts``) as 16-bit PCM
``.npy`` files named by the SHA-256 of the key (engine, engine version, voice, text, speed,
...). Writes are atomic (temporary name, then rename), so concurrent workers and interrupted
runs never leave a half-written entry. ``ANIM400K_TTS_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..fsutil.temp_files import temp_prefix

#: Bump when the stored audio of an unchanged key would change (trimming, format).
CACHE_VERSION = 3


def tts_cache_dir() -> Path:
    """Where synthesized lines are cached: ``$ANIM400K_CACHE/tts`` or ``~/.cache/anim400k/tts``."""
    from ..storage import cache_dir

    return cache_dir() / "tts"


def cache_enabled() -> bool:
    """False when ``ANIM400K_TTS_CACHE`` is ``0``/``false``/``no``/``off``."""
    return os.environ.get("ANIM400K_TTS_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_key(**fields: Any) -> str:
    """A stable hex digest of ``fields`` (JSON with sorted keys) plus :data:`CACHE_VERSION`."""
    blob = json.dumps({"v": CACHE_VERSION, **fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cached_audio(key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    """The float32 audio stored under ``key``, or ``make()``'s (stored as 16-bit PCM, then returned
    as read back, so cached and fresh results are identical)."""
    pcm = _to_pcm(make()) if not cache_enabled() else _load_or_make(key, make)
    return pcm.astype(np.float32) / 32767.0


def _to_pcm(audio: np.ndarray) -> np.ndarray:
    return np.round(np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0) * 32767.0).astype(np.int16)


def _load_or_make(key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    path = tts_cache_dir() / key[:2] / f"{key}.npy"
    if path.is_file():
        try:
            pcm = np.load(path, allow_pickle=False)
            if pcm.dtype == np.int16 and pcm.ndim == 1:
                return pcm
        except (OSError, ValueError):  # unreadable entry: make it again and overwrite it
            pass
    pcm = _to_pcm(make())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(key[:16]), suffix=".part.npy", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, pcm, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError:  # a read-only or full cache must not stop synthesis
        pass
    return pcm
