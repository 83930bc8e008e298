"""Reads a release: :func:`load` returns a :class:`Dataset` over a folder or an annotations file.

The file (ours or the original Anim-400K one) is stream-parsed one *show* at a time with
``ijson`` (C backend), so memory is bounded by the largest show, not the dataset; without
``ijson`` it falls back to ``json.load`` of the whole file. Media are never loaded:
:meth:`Dataset.audio_path` and friends only build paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, one_line
from ..formats import ids
from ..model import Clip
from .records import EpisodeRecord, Show


class KeyCheckedDict(dict):  # type: ignore[type-arg]
    """A JSON object that remembers the keys it was given twice (JSON parsers keep the last).

    ``duplicates`` (set only when there is one; read it with :func:`duplicate_keys`) lists
    each repeated key once per repetition. Used by the validator, which must see what a
    plain ``dict`` silently drops.
    """

    __slots__ = ("duplicates",)

    def __setitem__(self, key: Any, value: Any) -> None:
        if key in self:
            try:
                self.duplicates.append(key)
            except AttributeError:
                self.duplicates = [key]
        dict.__setitem__(self, key, value)


def duplicate_keys(obj: Any) -> list[Any]:
    """The keys that a :class:`KeyCheckedDict` was given more than once (``[]`` for anything else)."""
    return list(getattr(obj, "duplicates", ())) if isinstance(obj, KeyCheckedDict) else []


def _checked_pairs(pairs: list[tuple[Any, Any]]) -> KeyCheckedDict:
    """``json`` ``object_pairs_hook``: a :class:`KeyCheckedDict` of the pairs, duplicates noted."""
    d = KeyCheckedDict()
    for k, v in pairs:
        d[k] = v
    return d


class _CountingReader:
    """A binary file whose ``read`` reports the bytes it returns to ``on_read`` (for progress bars)."""

    def __init__(self, f: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._f = f
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        """Read as the file does; report the length read."""
        data = self._f.read(size)
        if data:
            self._on_read(len(data))
        return data


def _iter_raw_shows(
    path: Path, check_duplicates: bool = False, on_read: Callable[[int], None] | None = None
) -> Iterator[tuple[str, Any]]:
    """``(show_key, show_value)`` pairs of an annotations file, one show in memory at a time.

    ``on_read``: called with the number of bytes of each read of the file (progress).

    With ``check_duplicates`` every JSON object below the top level is a :class:`KeyCheckedDict`
    (slower; for the validator). Duplicate show keys come out as separate pairs either way
    (with the ``ijson`` parser).
    """
    try:
        import ijson
    except ImportError:  # pragma: no cover - ijson is a declared dependency
        ijson = None
    errors: tuple[type[Exception], ...] = (json.JSONDecodeError,)
    if ijson is not None:
        errors += (ijson.JSONError, ijson.IncompleteJSONError)
    try:
        with path.open("rb") as f:
            if ijson is None:
                data = json.load(f, object_pairs_hook=_checked_pairs if check_duplicates else None)
                if not isinstance(data, dict):
                    raise InputError("the annotations file must hold one JSON object keyed by show", path)
                yield from data.items()
                return
            first = _first_char(f)
            if first in (b"\xff", b"\xfe", b"\x00") or (first and f.read(2)[1:] == b"\x00"):
                raise InputError("not UTF-8 text (it reads as UTF-16: save it as UTF-8, as JSON must be)", path)
            f.seek(0)
            if _first_char(f) != b"{":
                raise InputError("the annotations file must hold one JSON object keyed by show", path)
            src: Any = f if on_read is None else _CountingReader(f, on_read)
            yield from ijson.kvitems(src, "", use_float=True, map_type=KeyCheckedDict if check_duplicates else None)
    except errors as exc:
        raise InputError(f"not valid JSON: {_json_error_text(exc)}", path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply", path) from exc
    except MemoryError as exc:  # ijson builds a value nested 100,000 deep in memory quadratic in the depth
        raise InputError("JSON too large or nested too deeply to read in this memory (a release's values are "
                         "nested a few levels deep)", path) from exc


def _json_error_text(exc: Exception) -> str:
    """A JSON error on one line: ijson's yajl message (bytes, over lines: the error, then the text around it,
    then a ``(right here) ---^`` pointer) as ``ERROR, near 'TEXT'``, so that a bad value in a big file is found
    (``lexical error: invalid char in json text, near '..."mixing_ratio":NaN,...'``)."""
    raw = exc.args[0] if exc.args else exc
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    lines = [line.strip() for line in text.strip().splitlines()]
    if not lines or not lines[0]:
        return type(exc).__name__
    first = lines[0].rstrip(".")
    near = lines[1] if len(lines) > 2 and "(right here)" in lines[2] else ""
    return one_line(f"{first}, near {near[:80]!r}" if near else first, 200)


def _first_char(f: IO[bytes]) -> bytes:
    while True:
        c = f.read(1)
        if c == b"\xef":  # UTF-8 BOM
            f.read(2)
            continue
        if not c or not c.isspace():
            f.seek(f.tell() - len(c))
            return c


class Dataset:
    """A release on disk. Iterating re-reads the annotations file; media are never loaded.

    :attr:`on_read`, if set, is called with the number of bytes of each read of the
    annotations file by any pass over it (a progress bar's ``update``).
    """

    def __init__(self, root: Path, annotations: Path) -> None:
        self.root = root
        self.annotations = annotations
        self.on_read: Callable[[int], None] | None = None
        self._warned_not_shows = False

    def __repr__(self) -> str:
        return f"Dataset(root={str(self.root)!r}, annotations={str(self.annotations)!r})"

    def iter_raw(self, check_duplicates: bool = False) -> Iterator[tuple[str, Any]]:
        """``(show_key, show_object)`` as parsed from the file (no validation).

        ``check_duplicates``: objects are :class:`KeyCheckedDict` s that note repeated keys
        (see :func:`duplicate_keys`; slower, for the validator).
        """
        shows = _iter_raw_shows(self.annotations, check_duplicates, self.on_read)
        return shows if check_duplicates else self._warn_if_not_shows(shows)  # the validator reports it itself

    def _warn_if_not_shows(self, shows: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
        """``shows``, with one log warning (per :class:`Dataset`) at a show holding no ``episodes``: a show's
        metadata file (or any JSON object) was read as shows named after its keys (``related_anime``,
        ``characters``), 0 clips, without a word."""
        for key, value in shows:
            if not self._warned_not_shows and (not isinstance(value, dict) or "episodes" not in value):
                self._warned_not_shows = True
                import logging

                logging.getLogger("anim400k").warning(
                    "%s: %r holds no \"episodes\": is this an Anim-400K annotations file? (`anim400k validate` "
                    "checks it)", self.annotations, str(key))
            yield key, value

    def shows(self, with_clips: bool = True) -> Iterator[Show]:
        """The shows in file order, one in memory at a time (clips left out unless ``with_clips``)."""
        for key, value in self.iter_raw():
            if isinstance(value, dict):
                yield Show.from_dict(str(key), value, with_clips)

    def episodes(self) -> Iterator[EpisodeRecord]:
        """All episodes (with their clips), show by show."""
        for show in self.shows():
            yield from show.episodes.values()

    def clips(self) -> Iterator[Clip]:
        """All clips, in file order."""
        for show in self.shows():
            yield from show.clips()

    def show(self, key: str) -> Show:
        """One show by key (a pass over the file); KeyError if absent."""
        for s in self.shows():
            if s.key == key:
                return s
        raise KeyError(key)

    def audio_path(self, clip_id: str) -> Path:
        """Path of a clip's audio: ``anim400k_audio_clips/F/UUID.mp3`` (may not exist)."""
        return ids.id_path(self.root, ids.AUDIO_ARCHIVE, clip_id, "mp3")

    def video_path(self, clip_id: str) -> Path:
        """Path of a clip's video: ``anim400k_video_clips/F/UUID.mp4`` (may not exist)."""
        return ids.id_path(self.root, ids.VIDEO_ARCHIVE, clip_id, "mp4")

    def picture_path(self, pic_id: str) -> Path:
        """Path of a character picture: ``anim400k_character_pics/F/UUID.jpg`` (may not exist)."""
        return ids.id_path(self.root, ids.PICS_ARCHIVE, pic_id, "jpg")

    def frame_path(self, frame_id: str) -> Path:
        """Path of a video frame: ``anim400k_frames/F/UUID.jpg`` (may not exist)."""
        return ids.id_path(self.root, ids.FRAMES_ARCHIVE, frame_id, "jpg")

    @property
    def frames_table(self) -> Path:
        """Path of the frames table (``anim400k_frames/frames.parquet``; may not exist)."""
        return self.root / ids.FRAMES_ARCHIVE / "frames.parquet"


def load(path: str | Path) -> Dataset:
    """Open a release: a folder holding ``anim400k_annotations.json`` or an annotations file.

    Media paths resolve against the folder (or the annotations file's folder).
    Raises :class:`InputError` if there is no annotations file, or for a URL (``s3://...``: read as a local
    ``s3:/...`` that did not exist).
    """
    from ..storage import refuse_url

    refuse_url(path, "the release")
    p = Path(path)
    if p.is_dir():
        ann = p / ids.ANNOTATIONS_FILE
        if not ann.is_file():
            raise InputError(f"no {ids.ANNOTATIONS_FILE} in this folder", p)
        return Dataset(p, ann)
    if p.is_file():
        return Dataset(p.parent, p)
    raise InputError("no such release folder or annotations file", p)


