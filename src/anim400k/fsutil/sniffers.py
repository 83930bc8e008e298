"""Recognisers of a command's own output files for :func:`~anim400k.fsutil.no_clobber.refuse_foreign_output`: a
file's text read only when it starts like its kind, JSON objects or arrays holding given keys."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_NO_JSON = object()
#: the largest file :func:`_load_json` reads: an output JSON of this project is far smaller; a bigger file
#: (a video given as ``--out``) is not one of them
_MAX_JSON_BYTES = 1 << 30


def sniffed_text(path: str | Path, starts_right: Callable[[bytes], bool], head: int = 64,
                 max_bytes: int | None = None) -> str | None:
    """The UTF-8 text of the file ``path`` when its first ``head`` bytes, a UTF-8 BOM and white space stripped,
    pass ``starts_right`` (and it holds at most ``max_bytes``); ``None`` otherwise, or when it cannot be read or
    is not UTF-8. What the recognisers of :func:`refuse_foreign_output` read: a file that does not start like
    their kind (a video given as ``--out``) is not read beyond its start. A BOM (a file saved by a Windows editor)
    is no part of the text."""
    try:
        with open(path, "rb") as f:
            if not starts_right(f.read(head).lstrip(b"\xef\xbb\xbf \t\r\n")):
                return None
            if max_bytes is not None and os.fstat(f.fileno()).st_size > max_bytes:
                return None
            f.seek(0)
            return f.read().decode("utf-8-sig")
    except (OSError, ValueError):  # unreadable, not UTF-8
        return None


def _load_json(path: Path) -> Any:
    """The JSON value of the file ``path``, or :data:`_NO_JSON` when it is unreadable, not UTF-8, not JSON
    or too big (a file that does not start like a JSON object or array is not read beyond its start)."""
    text = sniffed_text(path, lambda start: start[:1] in (b"{", b"["), max_bytes=_MAX_JSON_BYTES)
    if text is None:
        return _NO_JSON
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, nested too deeply
        return _NO_JSON


def json_file_value(path: str | Path) -> Any:
    """The JSON value of the file ``path`` for a recogniser of :func:`refuse_foreign_output`, ``None`` when it is
    not one (unreadable, not UTF-8, not JSON, over :data:`_MAX_JSON_BYTES`): a file that does not start like a
    JSON object or array (a video given as ``--out``) is not read beyond its first bytes."""
    value = _load_json(Path(path))
    return None if value is _NO_JSON else value


def json_object_with(keys: Iterable[str]) -> Callable[[Path], bool]:
    """A test for :func:`refuse_foreign_output`: the file is a JSON object holding every one of ``keys``."""
    wanted = frozenset(keys)

    def test(path: Path) -> bool:
        obj = _load_json(path)
        return isinstance(obj, dict) and wanted <= obj.keys()

    return test


def json_objects_with(keys: Iterable[str], container: type = list) -> Callable[[Path], bool]:
    """A test for :func:`refuse_foreign_output`: the file is a JSON array (``container`` ``dict``: an object)
    whose items (values) are all objects holding every one of ``keys``; an empty one passes too."""
    wanted = frozenset(keys)

    def test(path: Path) -> bool:
        obj = _load_json(path)
        if not isinstance(obj, container):
            return False
        items = obj.values() if isinstance(obj, dict) else obj
        return all(isinstance(item, dict) and wanted <= item.keys() for item in items)

    return test
