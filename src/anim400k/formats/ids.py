"""Deterministic clip/picture IDs and their ID-foldered paths (FORMAT.md section 2)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from ..fsutil.paths import under

NAMESPACE = uuid.UUID("5b0f7f0e-3c0a-5d6e-9a40-0a1d4e400000")
_NAMESPACE_BYTES = NAMESPACE.bytes
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ID_RE = re.compile(rf"^(?P<folder>[0-9a-f]{{1,2}})/(?P<uuid>{_UUID})$")


def uuid5_str(name: str) -> str:
    """``str(uuid.uuid5(NAMESPACE, name))``, computed straight from SHA-1 (RFC 4122 section 4.3).

    A build makes four IDs per clip (millions at paper scale); this skips the ``UUID`` object
    and is ~3x faster. Tests check it against :func:`uuid.uuid5`.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def make_id(*parts: object) -> str:
    """A release ID ``"{uuid[:2]}/{uuid}"`` from a UUIDv5 over ``parts`` joined by '/'."""
    u = uuid5_str("/".join(str(p) for p in parts))
    return f"{u[:2]}/{u}"


def clip_id(show_key: str, episode: str, kind: str, start: float, end: float) -> str:
    """ID of a clip's media (``kind`` is ``jp``, ``en``, ``backing`` or ``video``); same input, same ID."""
    return make_id(show_key, episode, kind, f"{round(start * 1000)}-{round(end * 1000)}")


def parse_id(value: str) -> tuple[str, str]:
    """Split ``"F/UUID"`` into (folder, uuid); raise ValueError if it is not of that form.

    The folder must be the first one or two characters of the UUID.
    """
    m = _ID_RE.match(value)
    if not m or not m.group("uuid").startswith(m.group("folder")):
        raise ValueError(f"not an Anim-400K ID of the form 'F/UUID': {value!r}")
    return m.group("folder"), m.group("uuid")


def is_id(value: str) -> bool:
    """Whether ``value`` is an ID of the form ``"F/UUID"`` (:func:`parse_id` accepts it)."""
    try:
        parse_id(value)
    except ValueError:
        return False
    return True


def id_path(root: str | Path, archive: str, value: str, ext: str) -> Path:
    """Path of an ID's file inside a release: ``root/archive/F/UUID.ext``."""
    folder, u = parse_id(value)
    return under(root, archive, folder, f"{u}.{ext.lstrip('.')}")


AUDIO_ARCHIVE = "anim400k_audio_clips"
VIDEO_ARCHIVE = "anim400k_video_clips"
PICS_ARCHIVE = "anim400k_character_pics"
FRAMES_ARCHIVE = "anim400k_frames"
ANNOTATIONS_FILE = "anim400k_annotations.json"


def id_files(values: Iterable[object], ext: str) -> set[str]:
    """``F/UUID.ext`` for each ID of ``values``: its file relative to its media folder (malformed IDs left out)."""
    files: set[str] = set()
    for value in values:
        try:
            folder, uuid = parse_id(str(value))
        except ValueError:
            continue
        files.add(f"{folder}/{uuid}.{ext}")
    return files
