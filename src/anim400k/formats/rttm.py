"""NIST RTTM speaker turns: read, write, and convert to/from ``pyannote.core.Annotation``.

One line per turn::

    SPEAKER <file-id> 1 <start> <duration> <NA> <NA> <speaker> <confidence> <NA>

``<confidence>`` is the turn's confidence (0..1) when the diarizer gives one, else ``<NA>``.

Other record types (``SPKR-INFO``, ``LEXEME``, ...) and ``;;`` comments are skipped when reading.
Start and duration must be finite seconds >= 0 and the turn must end by
:data:`~anim400k.model.MAX_TIME_S` (1e7 s); anything else is refused naming the line.
RTTM is the diarization stage's artifact (``work/<show>/<episode>/jp.rttm``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil.atomic import write_text_atomic
from ..fsutil.sniffers import sniffed_text
from ..model import MAX_TIME_S, Turn


def rttm_file_id(name: str) -> str:
    """``name`` as an RTTM file id: every whitespace character (spaces, tabs, the full-width space
    of Japanese file names) and ``/`` turned into ``_``; ``audio`` when nothing is left."""
    return re.sub(r"[\s/]", "_", str(name)) or "audio"


def format_rttm(turns: Iterable[Turn], file_id: str = "audio") -> str:
    """RTTM text for ``turns`` (sorted by start; times with millisecond precision).

    Start and end are rounded to milliseconds first and the duration is their difference, so the
    written end is the turn's end to the millisecond; a turn shorter than that rounds away.
    """
    fid = _token(file_id, "file id")
    lines = []
    for t in sorted(turns):
        start, end = round(t.start * 1000), round(t.end * 1000)
        if end <= start:
            continue
        conf = "<NA>" if t.confidence is None else f"{t.confidence:.3f}"
        lines.append(f"SPEAKER {fid} 1 {start / 1000:.3f} {(end - start) / 1000:.3f} <NA> <NA> "
                     f"{_token(t.speaker, 'speaker label')} {conf} <NA>")
    return "".join(line + "\n" for line in lines)


def write_rttm(path: str | Path, turns: Iterable[Turn], file_id: str | None = None) -> Path:
    """Write ``turns`` to ``path`` atomically; ``file_id`` defaults to the file's stem as an RTTM file id
    (:func:`rttm_file_id`: ``ep.v2.rttm`` -> ``ep.v2``, ``my ep.rttm`` -> ``my_ep``, as ``anim400k diarize`` names
    it; it was the name up to its first dot, and a name with a space was refused)."""
    path = Path(path)
    write_text_atomic(path, format_rttm(turns, file_id or rttm_file_id(path.stem)))
    return path


#: the record types of NIST RTTM (the first field of a line)
RTTM_TYPES = frozenset({"SPEAKER", "SPKR-INFO", "SEGMENT", "NOSCORE", "NO_RT_METADATA", "LEXEME", "NON-LEX",
                        "NON-SPEECH", "FILLER", "EDIT", "IP", "SU", "CB", "A/P", "NOISE"})


def is_rttm_file(path: str | Path) -> bool:
    """Whether ``path`` is an RTTM file: every non-blank line an RTTM record (a known type, at least the 8 fields
    that :func:`parse_rttm` needs of a ``SPEAKER`` line) or a comment (``;;``, ``#``: what it skips), a file that
    :func:`parse_rttm` reads (a UTF-8 BOM and CRLF line ends too). What ``diarize --out`` may replace
    (:func:`~anim400k.fsutil.no_clobber.refuse_foreign_output`); a file whose first line is no record is not read
    further."""
    def starts_right(start: bytes) -> bool:
        first = start.split(maxsplit=1)[:1]
        return bool(first) and (first[0].decode("ascii", "replace") in RTTM_TYPES or _is_comment(first[0]))

    text = sniffed_text(path, starts_right, head=256)
    if text is None:
        return False
    for line in text.splitlines():
        fields = line.split()
        if fields and not _is_comment(fields[0]) and (fields[0] not in RTTM_TYPES or len(fields) < 8):
            return False
    try:
        parse_rttm(text, path)
    except InputError:
        return False
    return True


def _is_comment(field: str | bytes) -> bool:
    """Whether a line starting with ``field`` is a comment that :func:`parse_rttm` skips (``;;`` or ``#``)."""
    return field.startswith((";;", "#")) if isinstance(field, str) else field.startswith((b";;", b"#"))


def parse_rttm(text: str, source: str | Path = "<rttm>") -> dict[str, list[Turn]]:
    """Turns per file id from RTTM ``text``; a malformed line raises ``InputError`` naming the line."""
    out: dict[str, list[Turn]] = {}
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";;") or line.startswith("#"):
            continue
        fields = line.split()
        if fields[0] != "SPEAKER":
            if fields[0].isupper() and fields[0].replace("-", "").isalpha():
                continue  # another RTTM record type
            raise InputError(f"line {no}: not an RTTM record: {line[:60]!r}", source)
        if len(fields) < 8:
            raise InputError(f"line {no}: SPEAKER record needs at least 8 fields, got {len(fields)}", source)
        try:
            start, dur = float(fields[3]), float(fields[4])
        except ValueError:
            raise InputError(f"line {no}: start/duration are not numbers: {_short(fields[3])} "
                             f"{_short(fields[4])}", source) from None
        for name, value, text in (("start", start, fields[3]), ("duration", dur, fields[4])):
            if not (math.isfinite(value) and value <= MAX_TIME_S):
                raise InputError(f"line {no}: invalid {name} {_short(text)} "
                                 f"(times are seconds from 0 to {MAX_TIME_S:.0f})", source)
        if start < 0 or dur < 0:
            raise InputError(f"line {no}: negative start/duration {_short(fields[3])} {_short(fields[4])}", source)
        if start + dur > MAX_TIME_S:
            raise InputError(f"line {no}: invalid duration {_short(fields[4])}: the turn ends after "
                             f"{MAX_TIME_S:.0f} s", source)
        out.setdefault(fields[1], []).append(Turn(start, start + dur, fields[7], _confidence(fields)))
    for turns in out.values():
        turns.sort()
    return out


def _short(text: str, limit: int = 24) -> str:
    """``repr(text)``, cut to ``limit`` characters (an RTTM field can be thousands of digits)."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"


def _confidence(fields: list[str]) -> float | None:
    """The ``<confidence>`` column (9th) as a number in 0..1, or ``None`` (``<NA>``, absent, other)."""
    if len(fields) < 9:
        return None
    try:
        value = float(fields[8])
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def read_rttm_files(path: str | Path) -> dict[str, list[Turn]]:
    """The turns in RTTM file ``path`` per file id (each list sorted by start)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (a Windows editor's) is no part of the first record
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read RTTM: {exc}", path) from None
    return parse_rttm(text, path)


def read_rttm(path: str | Path, file_id: str | None = None) -> list[Turn]:
    """The turns in RTTM file ``path`` (of ``file_id`` only, when given; all file ids otherwise)."""
    path = Path(path)
    per_file = read_rttm_files(path)
    if file_id is not None:
        if per_file and file_id not in per_file:
            raise InputError(f"no turns for file id {file_id!r} (found {', '.join(sorted(per_file))})", path)
        return per_file.get(file_id, [])
    return sorted(t for turns in per_file.values() for t in turns)


def turns_to_annotation(turns: Iterable[Turn], uri: str = "audio") -> Any:
    """A ``pyannote.core.Annotation`` with one track per turn."""
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, t in enumerate(turns):
        if t.end > t.start:
            ann[Segment(float(t.start), float(t.end)), i] = str(t.speaker)
    return ann


def annotation_to_turns(annotation: Any) -> list[Turn]:
    """Turns from a ``pyannote.core.Annotation`` (labels turned into strings, sorted by start)."""
    turns = [Turn(float(seg.start), float(seg.end), str(label))
             for seg, _track, label in annotation.itertracks(yield_label=True)]
    return sorted(t for t in turns if t.end > t.start)


def _token(value: str, what: str) -> str:
    value = str(value)
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"RTTM {what} must be non-empty and contain no whitespace: {value!r}")
    return value
