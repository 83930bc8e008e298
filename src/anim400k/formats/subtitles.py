"""Subtitles: SRT, WebVTT, ASS/SSA files and text subtitle streams inside media (PyAV).

Files are read by the format's own parser: SRT by the ``srt`` package, WebVTT by ``webvtt-py``,
ASS/SSA (and MicroDVD, MPL2, TMP) by pysubs2. Events come back as
:class:`anim400k.model.Subtitle` with plain text (markup removed per format,
:mod:`anim400k.formats.subtitle_text`; line breaks turned into spaces), empty events dropped,
sorted by time.
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
#: An SRT timing line (a negative time included, so that it is refused with its line number).
_SRT_TIMING = re.compile(r"^[ \t]*-?\d+:\d+:\d+(?:[,.]\d+)?[ \t]*-->", re.MULTILINE)
#: A minimal style section for ASS/SSA files that have none (mpv and FFmpeg read such files).
_DEFAULT_STYLES = (
    "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
    "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
    "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\nStyle: Default,Arial,20,&H00FFFFFF,&H000000FF,"
    "&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1\n\n"
)


def plain_text(ass_text: str) -> str:
    """Plain text of an ASS event (:func:`anim400k.formats.subtitle_text.ass_text`): override tags
    and drawings removed, ``\\N``/newlines turned into spaces, whitespace collapsed."""
    from .subtitle_text import ass_text as _ass_text

    return _ass_text(ass_text)


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


def _bomless_utf16(data: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when ``data`` looks like UTF-16 without a byte-order mark.

    Subtitle text is never meant to hold NUL bytes, while UTF-16 puts one beside every ASCII
    character (digits, ``-->``, line breaks), all on the odd bytes (little-endian) or all on the
    even ones (big-endian).
    """
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= 4 * max(even, 1) and odd >= len(head) // 8:
        return "utf-16-le"
    if even >= 4 * max(odd, 1) and even >= len(head) // 8:
        return "utf-16-be"
    return None


def decode_text(data: bytes, path: str | Path) -> str:
    """Decode a subtitle or transcript file's bytes.

    UTF-8, UTF-8/UTF-16/UTF-32 with a byte-order mark, or UTF-16 without one (told by where its
    NUL bytes fall). Text that does not decode raises :class:`InputError` naming the file and
    the byte; other encodings (Shift-JIS, ...) are refused that way, to be converted to UTF-8 first.
    """
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom):], name
            break
    else:
        encoding = _bomless_utf16(data) or encoding
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = encoding.upper().replace("-LE", "").replace("-BE", "")
        raise InputError(f"not {label} text ({exc.reason} at byte {exc.start})", path) from exc


def subtitle_format(text: str) -> str:
    """``"vtt"``, ``"srt"`` or ``"other"`` (ASS/SSA and the formats pysubs2 detects) for a file's text."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("WEBVTT"):
        return "vtt"
    if "[events]" in stripped[:65536].lower():
        return "other"
    return "srt" if _SRT_TIMING.search(stripped[:65536]) else "other"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _srt_bad_line(lines: list[str], first: int) -> tuple[int, str]:
    """The line to name for an SRT cue that does not parse, starting at line ``first`` (1-based).

    Its timing line when the cue has one (a negative or malformed time), else its first line that
    is not a cue number (a cue cut short: half a timestamp; a wrong arrow).
    """
    block = []
    for k in range(first - 1, len(lines)):
        if not lines[k].strip():
            if block:
                break
            continue
        block.append(k)
    if not block:
        return first, "unexpected end of file"
    timing = next((k for k in block if "-->" in lines[k]), None)
    if timing is not None:
        return timing + 1, f"bad timing line {lines[timing].strip()[:60]!r}"
    k = next((k for k in block if not lines[k].strip().isdigit()), block[-1])
    return k + 1, f"expected a timing line ('00:00:01,000 --> 00:00:02,500'), found {lines[k].strip()[:60]!r}"


def _parse_srt(text: str, path: Path) -> list[Subtitle]:
    """SRT cues by the ``srt`` package: a cue it cannot read is an error with its line number."""
    import srt

    from .subtitle_text import srt_text

    try:
        cues = list(srt.parse(text))
    except srt.SRTParseError as exc:
        first = _line_of(text, exc.expected_start + len(exc.unmatched_content) - len(exc.unmatched_content.lstrip()))
        line, what = _srt_bad_line(text.splitlines(), first)
        raise InputError(f"malformed SRT cue at line {line}: {what}", path) from exc
    events = []
    for cue in cues:
        start, end = cue.start.total_seconds(), cue.end.total_seconds()
        if end < start:
            raise InputError(f"subtitle {cue.index}: end {end:.3f} before start {start:.3f}", path)
        events.append(Subtitle(start, end, srt_text(cue.content)))
    return events


def _parse_vtt(text: str, path: Path) -> list[Subtitle]:
    """WebVTT cues by ``webvtt-py`` (identifiers, NOTE, STYLE and REGION blocks skipped by it).

    webvtt-py skips a block it cannot read as a cue; a block with a ``-->`` line that did not
    become a cue is reported with that line instead of being lost.
    """
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    from .subtitle_text import vtt_text

    try:
        captions = webvtt.WebVTT.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise InputError(f"malformed WebVTT ({exc})", path) from exc
    lines = text.splitlines()
    timing_lines = [i for i, line in enumerate(lines) if "-->" in line]
    if len(timing_lines) > len(captions):
        bad = next((i for i in timing_lines if not _vtt_timing_ok(lines[i])), timing_lines[-1])
        raise InputError(f"malformed WebVTT cue at line {bad + 1} ({lines[bad].strip()[:60]!r})", path)
    events = []
    for i, cap in enumerate(captions):
        start, end = cap.start_time.in_milliseconds() / 1000.0, cap.end_time.in_milliseconds() / 1000.0
        if end < start:
            raise InputError(f"cue {i + 1}: end {end:.3f} before start {start:.3f}", path)
        events.append(Subtitle(start, end, vtt_text(cap.raw_text)))
    return events


def _vtt_timing_ok(line: str) -> bool:
    """Whether webvtt-py reads ``line`` as a cue's timing line."""
    import webvtt
    from webvtt.errors import MalformedCaptionError

    try:
        return len(webvtt.WebVTT.from_string(f"WEBVTT\n\n{line}\nx\n").captions) == 1
    except MalformedCaptionError:
        return False


def _parse_pysubs2(text: str, path: Path) -> list[Subtitle]:
    """ASS/SSA (and MicroDVD, MPL2, TMP) events by pysubs2; comments dropped."""
    import pysubs2

    try:
        subs = pysubs2.SSAFile.from_string(text)
    except Exception as exc:  # pysubs2 raises several exception types for unknown formats
        lower = text.lower()
        if "[events]" in lower and "styles]" not in lower:
            try:  # a style section is all it lacks: mpv and FFmpeg read such files too
                at = lower.index("[events]")
                subs = pysubs2.SSAFile.from_string(text[:at] + _DEFAULT_STYLES + text[at:])
            except Exception:
                raise InputError(f"not a subtitle file pysubs2 can read ({exc})", path) from exc
        else:
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
    return events


def read_subtitles(path: str | Path) -> list[Subtitle]:
    """Read an SRT, WebVTT or ASS/SSA file (format told by its content) into sorted plain-text events.

    The file is UTF-8, UTF-8/UTF-16/UTF-32 with a byte-order mark, or UTF-16 without one. An
    empty file (no cues) gives no events. Comments and empty events are dropped. A file that does
    not parse, a cue that cannot be read (a bad or negative time, a truncated cue), or an event
    that ends before it starts raises :class:`InputError` naming the file (and the line, for SRT).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("subtitle file not found", path)
    return parse_subtitles(decode_text(path.read_bytes(), path), path)


def parse_subtitles(text: str, path: str | Path) -> list[Subtitle]:
    """:func:`read_subtitles` of a file's decoded ``text`` (``path`` names it in errors)."""
    if not text.strip():
        return []  # a file with no cues is a valid file with no subtitles
    parse = {"srt": _parse_srt, "vtt": _parse_vtt}.get(subtitle_format(text), _parse_pysubs2)
    return _finish(parse(text, Path(path)))


def _select_subtitle_stream(container, stream: str | int, path: Path,  # type: ignore[no-untyped-def]
                            option: str | None = "subtitle_stream:"):
    """The subtitle stream of ``container`` for ``stream`` (:func:`anim400k.media.probe.select_subtitle_stream`)
    and the note on the choice (None when plain)."""
    from ..media.probe import MediaInfo, _stream_info, select_subtitle_stream

    info = MediaInfo(path=str(path), format=container.format.name, duration=None, start_time=0.0,
                     streams=[_stream_info(s) for s in container.streams])
    chosen, note = select_subtitle_stream(info, stream, option)
    return container.streams[chosen.index], note


def _open_media(path: Path):  # type: ignore[no-untyped-def]
    """``path`` opened with PyAV (a context manager); a missing or unreadable file is one :class:`InputError`."""
    import av

    if not path.is_file():
        raise InputError("media file not found", path)
    try:
        return av.open(str(path))
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot open media ({exc})", path) from exc


def _text_subtitle_stream(container, stream: str | int, path: Path,  # type: ignore[no-untyped-def]
                          option: str | None = "subtitle_stream:"):
    """The subtitle stream ``stream`` of ``container`` and the note on the choice; :class:`InputError` if it
    is missing or a bitmap format."""
    from ..media.probe import TEXT_SUBTITLE_CODECS

    st, note = _select_subtitle_stream(container, stream, path, option)
    codec = st.codec_context.name
    if codec not in TEXT_SUBTITLE_CODECS:
        raise InputError(f"subtitle stream is '{codec}' (a bitmap format); only text subtitles are read", path)
    return st, note


def check_subtitle_stream(media_path: str | Path, stream: str | int = 0) -> None:
    """Raise :class:`InputError`, as :func:`read_subtitle_stream` would, when ``media_path`` has no such text
    subtitle stream; reads the headers only (the build's probe stage checks before the costly stages)."""
    pick_subtitle_stream(media_path, stream)


def pick_subtitle_stream(media_path: str | Path, stream: str | int = 0,
                         option: str | None = "subtitle_stream:") -> tuple[int, str | None]:
    """The subtitle-stream index of ``media_path`` that :func:`read_subtitle_stream` reads for ``stream`` (an
    index, obeyed, or a language tag: :func:`anim400k.media.probe.select_subtitle_stream` passes over forced,
    signs-and-songs and bitmap streams), and the note on the choice (None when plain); ``option`` names
    the setting in the messages. Reads the headers only; raises :class:`InputError` as
    :func:`read_subtitle_stream` would."""
    path = Path(media_path)
    with _open_media(path) as container:
        st, note = _text_subtitle_stream(container, stream, path, option)
        return list(container.streams.subtitles).index(st), note


def read_subtitle_stream(media_path: str | Path, stream: str | int = 0,
                         option: str | None = "subtitle_stream:") -> list[Subtitle]:
    """Read a text subtitle stream (SRT/ASS/WebVTT/mov_text) from a media file such as an MKV.

    ``stream`` is the index among the file's *subtitle* streams or a language tag
    (``eng``/``en``/``english``, ``jpn``/``ja``); of several streams tagged with the language the one
    :func:`pick_subtitle_stream` names is read (not a forced or signs-and-songs track). Packets are
    demuxed with PyAV and decoded by FFmpeg (which turns every text format into ASS dialogue lines);
    timings come from the packets, on the timeline of :func:`anim400k.media.decode_audio` (time 0 is
    the container's start time: a file whose streams start at 1.5 s has its first audio sample and its
    subtitles counted from there). Bitmap subtitles (PGS, DVD) need OCR and raise :class:`InputError`;
    ``option`` names the setting in the error's suggestion.
    """
    from ..media.probe import container_origin

    path = Path(media_path)
    with _open_media(path) as container:
        st, _note = _text_subtitle_stream(container, stream, path, option)
        tb = float(st.time_base)
        origin = container_origin(container)
        events = []
        for packet in container.demux(st):
            if packet.size == 0 or packet.pts is None:
                continue
            start = packet.pts * tb - origin
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
