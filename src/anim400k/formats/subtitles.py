"""Subtitles: SRT/VTT/ASS files (pysubs2) and text subtitle streams inside media (PyAV).

Events come back as :class:`anim400k.model.Subtitle` with plain text (ASS override tags
removed, line breaks turned into spaces), empty events dropped, sorted by time.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from ..errors import InputError
from ..fsutil import atomic_path
from ..model import Subtitle

SUBTITLE_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa", ".sub")
TEXT_SUBTITLE_CODECS = ("subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text")
_LANG_ALIASES = {
    "en": "eng", "eng": "eng", "english": "eng",
    "ja": "jpn", "jp": "jpn", "jpn": "jpn", "japanese": "jpn",
}
_SPACES = re.compile(r"\s+")


def plain_text(ass_text: str) -> str:
    """Strip ASS override tags (``{\\i1}``), turn ``\\N``/newlines into spaces, collapse whitespace."""
    import pysubs2

    text = pysubs2.SSAEvent(text=ass_text).plaintext
    return _SPACES.sub(" ", text).strip()


def _finish(events: Iterable[Subtitle]) -> list[Subtitle]:
    kept = [e for e in events if e.text]
    kept.sort(key=lambda e: (e.start, e.end))
    return kept


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes, path: str | Path) -> str:
    """Decode a subtitle file's bytes: UTF-8, or UTF-8/UTF-16/UTF-32 with a byte-order mark.

    Text that does not decode raises :class:`InputError` naming the file and the byte.
    """
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom):], name
            break
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = encoding.upper().replace("-LE", "").replace("-BE", "")
        raise InputError(f"not {label} text ({exc.reason} at byte {exc.start})", path) from exc


def read_subtitles(path: str | Path) -> list[Subtitle]:
    """Read an SRT/VTT/ASS/SSA file (format detected by pysubs2) into sorted plain-text events.

    The file is UTF-8, or UTF-8/UTF-16/UTF-32 with a byte-order mark. An empty file (no cues)
    gives no events. Comments and empty events are dropped. A file that does not parse, or an event that
    ends before it starts, raises :class:`InputError` naming the file.
    """
    import pysubs2

    path = Path(path)
    if not path.is_file():
        raise InputError("subtitle file not found", path)
    text = decode_text(path.read_bytes(), path)
    if not text.strip():
        return []  # a file with no cues is a valid file with no subtitles
    try:
        subs = pysubs2.SSAFile.from_string(text)
    except Exception as exc:  # pysubs2 raises several exception types for unknown formats
        raise InputError(f"not a subtitle file pysubs2 can read ({exc})", path) from exc
    events = []
    for i, ev in enumerate(subs.events):
        if ev.is_comment:
            continue
        if ev.end < ev.start:
            raise InputError(
                f"subtitle event {i + 1}: end {ev.end / 1000:.3f} before start {ev.start / 1000:.3f}", path
            )
        events.append(Subtitle(ev.start / 1000.0, ev.end / 1000.0, plain_text(ev.text)))
    return _finish(events)


def _select_subtitle_stream(container, stream: str | int, path: Path):  # type: ignore[no-untyped-def]
    streams = list(container.streams.subtitles)
    if not streams:
        raise InputError("has no subtitle stream", path)
    if isinstance(stream, int) or (isinstance(stream, str) and stream.isdigit()):
        k = int(stream)
        if not 0 <= k < len(streams):
            raise InputError(f"subtitle stream {k} does not exist (it has {len(streams)})", path)
        return streams[k]
    want = _LANG_ALIASES.get(stream.lower(), stream.lower())
    for st in streams:
        lang = (st.metadata.get("language") or "").lower()
        if _LANG_ALIASES.get(lang, lang) == want:
            return st
    langs = ", ".join(st.metadata.get("language") or "?" for st in streams)
    raise InputError(f"no subtitle stream in language '{stream}' (streams: {langs})", path)


def read_subtitle_stream(media_path: str | Path, stream: str | int = 0) -> list[Subtitle]:
    """Read a text subtitle stream (SRT/ASS/WebVTT/mov_text) from a media file such as an MKV.

    ``stream`` is the index among the file's *subtitle* streams or a language tag
    (``eng``/``en``/``english``, ``jpn``/``ja``). Packets are demuxed with PyAV and decoded
    by FFmpeg (which turns every text format into ASS dialogue lines); timings come from the
    packets. Bitmap subtitles (PGS, DVD) need OCR and raise :class:`InputError`.
    """
    import av

    path = Path(media_path)
    if not path.is_file():
        raise InputError("media file not found", path)
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot open media ({exc})", path) from exc
    with container:
        st = _select_subtitle_stream(container, stream, path)
        codec = st.codec_context.name
        if codec not in TEXT_SUBTITLE_CODECS:
            raise InputError(
                f"subtitle stream is '{codec}' (a bitmap format); only text subtitles are read", path
            )
        tb = float(st.time_base)
        events = []
        for packet in container.demux(st):
            if packet.size == 0 or packet.pts is None:
                continue
            start = packet.pts * tb
            end = start + (packet.duration or 0) * tb
            texts = []
            for sub in st.codec_context.decode(packet):
                if getattr(sub, "type", b"") == b"ass":
                    texts.append(plain_text(sub.dialogue.decode("utf-8", "replace")))
                elif getattr(sub, "type", b"") == b"text":
                    texts.append(plain_text(sub.text.decode("utf-8", "replace")))
            events.append(Subtitle(round(start, 3), round(end, 3), " ".join(t for t in texts if t)))
    return _finish(events)


class TimedText(Protocol):
    """Anything with ``start``/``end`` seconds and ``text`` (a :class:`Subtitle`, a truth subtitle...)."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def text(self) -> str: ...


def write_srt(path: str | Path, subtitles: Sequence[TimedText]) -> None:
    """Write events as an SRT file (atomically), in the order given: the package's one SRT writer."""
    import pysubs2

    ssa = pysubs2.SSAFile()
    for sub in subtitles:
        start, end = int(round(sub.start * 1000)), int(round(sub.end * 1000))
        ssa.events.append(pysubs2.SSAEvent(start=start, end=end, text=sub.text))
    with atomic_path(path) as tmp:
        ssa.save(str(tmp), format_="srt", encoding="utf-8")
