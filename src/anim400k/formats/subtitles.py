"""Subtitles: SRT, WebVTT, ASS/SSA files and text subtitle streams inside media (PyAV).

Files are read by the format's own parser: SRT by the ``srt`` package, WebVTT by ``webvtt-py``,
ASS/SSA (and MicroDVD, MPL2, TMP) by pysubs2. Events come back as
:class:`anim400k.model.Subtitle` with plain text (markup removed per format,
:mod:`anim400k.formats.subtitle_text`; line breaks turned into spaces), empty events dropped,
events with the same start, end and plain text (one line drawn on several ASS layers) kept once,
sorted by time. SRT/WebVTT captions written word by word (YouTube rolling auto-captions, openai-whisper
``--highlight_words``) are read once per spoken line (:mod:`anim400k.formats.wordcues`;
:func:`parse_subtitle_words` keeps their word times). ASS/SSA times are read as libass and FFmpeg read them
(the fraction is centiseconds whatever its digits: :func:`_ass_times`), and their fields in the order the
script's ``Format:`` lines declare, as libass reads them (:mod:`anim400k.formats.ass_format`).
ASS/SSA events that are signs or songs (:mod:`anim400k.formats.signs`: a karaoke effect or karaoke tags, a
sign or song style, positioned text outside a dialogue style) are left out unless ``keep_signs=True``;
:func:`read_subtitles_counted` also tells how many were, by style. An event keeps the speaker its file
names (:attr:`anim400k.model.Subtitle.speaker`): an ASS/SSA event's Name (Actor) field or a WebVTT cue's
voice span (``<v Roger Bingham>``, :func:`anim400k.formats.subtitle_text.vtt_voice`), else a speaker label
in capitals opening the text (SDH, ``KYON:``; :func:`anim400k.formats.sdh.speaker_label`); the text stays
as written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

from ..errors import InputError
from ..fsutil.atomic import atomic_path
from ..fsutil.sniffers import sniffed_text
from ..media.av_path import av_path
from ..model import Subtitle
from .ass_format import canonical_field_order
from .encoding import bom_encoding, decode_bom_text, encoding_label, legacy_encoding
from .sdh import speaker_label
from .signs import dialogue_styles, non_dialogue
from .subtitle_text import srt_text, vtt_text, vtt_voice
from .ttml import is_ttml, parse_ttml
from .ttml_times import normalise_ttml_times
from .wordcues import Cue, SpokenCue, spoken_cues

SUBTITLE_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa", ".sub")
#: Suffixes of media containers (a Matroska subtitle or audio file, MPEG-TS, Ogg...): given as subtitles,
#: such a file is read through its subtitle stream (:func:`is_media_file` also tells containers by content).
MEDIA_SUFFIXES = (
    ".mkv", ".mks", ".mka", ".webm", ".mp4", ".m4v", ".m4a", ".mov", ".3gp", ".avi", ".ts", ".m2ts",
    ".mts", ".ogg", ".ogv", ".oga", ".ogm", ".flv", ".wmv", ".asf",
)
#: An SRT timing line (a negative time included, so that it is refused with its line number); before
#: the milliseconds any separator the ``srt`` package reads (``,`` ``.`` ``:`` and their full-width forms).
_SRT_TIMING = re.compile(r"^[ \t]*-?\d+:\d+:\d+(?:[,.:，．。：]\d+)?[ \t]*-->", re.MULTILINE)
#: Part of a timing line (``323 --> 00:00:03:631``) in the text of a cue that pysubs2 read, or a YouTube SBV
#: timing line it could not read (``0:00:03.000,0:00:0x.000``: a time, a comma and more, opening a line).
_TIMING_IN_TEXT = re.compile(r"\d[ \t]*-->[ \t]*-?\d|(?:^|\n|\\N)[ \t]*\d+:\d{1,2}:\d{1,2}[.,]\d+[ \t]*,")
#: A section heading as pysubs2 tells one (``[Events]``; a lowercase letter inside, unlike uuencoded font data).
_ASS_SECTION = re.compile(r"^.{,3}\[(?=[^]a-z]*[a-z])[^]]*]")  # the lookahead scans once: no quadratic backtracking
#: A minimal style section for ASS/SSA files that have none (mpv and FFmpeg read such files).
_DEFAULT_STYLES = (
    "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
    "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
    "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\nStyle: Default,Arial,20,&H00FFFFFF,&H000000FF,"
    "&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1\n\n"
)


class SubtitleRead(NamedTuple):
    """What :func:`read_subtitles_counted` and :func:`read_subtitle_stream_counted` read: the events, and
    the ASS/SSA events left out as signs or songs, counted by style name (lines drawn on several layers
    counted once; empty with ``keep_signs=True`` and for SRT/WebVTT)."""

    events: list[Subtitle]
    left_out: dict[str, int]


def _by_style(left_out: set[tuple[str, Subtitle]]) -> dict[str, int]:
    """How many of the ``(style, event)`` left out each style has, by style name."""
    return dict(sorted(Counter(style for style, _ in left_out).items()))


def left_out_note(left_out: dict[str, int], source: str | Path, how_to_keep: str) -> str | None:
    """One line saying how many ASS events of ``source`` were left out as signs/songs and of which styles
    (the 5 most frequent), and ``how_to_keep`` them; None when none were."""
    if not left_out:
        return None
    total = sum(left_out.values())
    ranked = sorted(left_out.items(), key=lambda kv: (-kv[1], kv[0]))
    styles = ", ".join(f"{name or '(no style)'} {n}" for name, n in ranked[:5])
    more = f", {len(ranked) - 5} more" if len(ranked) > 5 else ""
    return (f"{source}: {total} ASS subtitle event(s) left out as signs/songs (styles: {styles}{more}); "
            f"{how_to_keep} to keep them")


def plain_text(ass_text: str) -> str:
    """Plain text of an ASS event (:func:`anim400k.formats.subtitle_text.ass_text`): override tags
    and drawings removed, ``\\N``/newlines turned into spaces, whitespace collapsed."""
    from .subtitle_text import ass_text as _ass_text

    return _ass_text(ass_text)


def _finish(events: Iterable[Subtitle]) -> list[Subtitle]:
    """``events`` sorted by time, empty ones dropped and copies collapsed into one; an event with no
    speaker takes the SDH speaker label that opens its text, if any (:func:`anim400k.formats.sdh.speaker_label`).

    A copy has the same start, end and plain text as an earlier event: fansub ASS draws a line
    twice on two layers (a border layer under the fill, a blurred glow copy), which is one line
    of dialogue, not two to be spoken or stored twice.
    """
    kept = list(dict.fromkeys(e for e in events if e.text))
    kept = [e if e.speaker else Subtitle(e.start, e.end, e.text, speaker_label(e.text)) for e in kept]
    kept.sort(key=lambda e: (e.start, e.end))
    return kept


def ass_name(name: str) -> str | None:
    """The speaker an ASS/SSA event's Name (Actor) field gives: the field stripped, None when empty."""
    name = " ".join(name.split())
    return name or None


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


#: PGS segment types (Blu-ray ``.sup``): palette, object, presentation composition, window, end of display set
_PGS_SEGMENTS = (0x14, 0x15, 0x16, 0x17, 0x80)


def bitmap_subtitle_format(head: bytes) -> str | None:
    """The bitmap subtitle file that a file's first bytes show, or None: a VobSub ``.sub`` (DVD subpictures in an
    MPEG program stream: a pack header ``00 00 01 BA`` and a private stream 1 packet ``00 00 01 BD``), its
    ``.idx`` index (text: ``# VobSub index file``), or a PGS ``.sup`` (Blu-ray: ``PG`` and a segment type).
    Pictures of text: read as text they were refused as ``not UTF-8 text (invalid start byte at byte 3)``
    (VobSub, PGS) or as no format pysubs2 knows (the index)."""
    if head.startswith(b"\x00\x00\x01\xba") and b"\x00\x00\x01\xbd" in head:
        return "VobSub (DVD bitmap subtitle)"
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"# VobSub index file"):
        return "VobSub index (DVD bitmap subtitles, in the .sub beside it)"
    if head.startswith(b"PG") and len(head) > 10 and head[10] in _PGS_SEGMENTS:
        return "PGS (Blu-ray bitmap subtitle)"
    return None


def container_format(head: bytes) -> str | None:
    """The media container that a file's first bytes (1 KiB is enough) show, or None (not one that is known).

    Told by the container's own signature: EBML (Matroska, WebM, ``.mks``/``.mka``), an ISO media
    ``ftyp`` box (MP4, QuickTime, 3GP), ``OggS``, ``RIFF....AVI``, the ASF GUID, ``FLV``, or an MPEG-TS
    sync byte every 188 bytes (every 192 for M2TS/AVCHD); also an audio-only file (WAV, FLAC, MP3:
    :func:`_audio_format`), which is a media file with no subtitle stream. No text file starts that way.
    """
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "Matroska"
    if head[4:8] == b"ftyp":
        return "MP4/QuickTime"
    if head.startswith(b"OggS"):
        return "Ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "ASF"
    if head.startswith(b"FLV\x01"):
        return "FLV"
    if (_sync_every(head, 0, 188) or _sync_every(head, 4, 192)) and _binary(head):
        return "MPEG-TS"
    return _audio_format(head)


def _audio_format(head: bytes) -> str | None:
    """The audio-only file a file's first bytes show (WAV incl. RF64/BW64, AIFF, CAF, FLAC, MP3/MPEG audio), or None.

    Such a file has no subtitle stream: given as subtitles or a transcript it used to be read as text
    and refused as ``not UTF-8 text (invalid start byte at byte 20)``, an encoding problem it does not have.
    An MPEG audio frame starts with 11 set bits (``FF Ex``-``FF Fx``); ``FF FE`` (UTF-16/32 LE byte-order
    mark) and ``FF FF`` are left out, and so is text that reads as BOM-less UTF-16.
    """
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "WAV"  # little- or big-endian RIFF, and the 64-bit RF64/BW64 of long broadcast recordings
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if head.startswith(b"caff\x00\x01"):
        return "CAF"
    if head.startswith(b"fLaC"):
        return "FLAC"
    if head.startswith(b"ID3") and len(head) > 4 and head[3] in (2, 3, 4) and head[4] < 0xFF:
        return "MP3"
    if (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] not in (0xFE, 0xFF)
            and _bomless_utf16(head) is None):
        return "MPEG audio"
    return None


def _sync_every(head: bytes, first: int, size: int) -> bool:
    """Whether ``head`` has an MPEG-TS sync byte (``G``) at ``first`` and every ``size`` bytes, 4 times."""
    return len(head) > first + 3 * size and all(head[first + k * size] == 0x47 for k in range(4))


def _binary(head: bytes) -> bool:
    """Whether ``head`` holds NUL bytes that no text encoding read here explains (UTF-16/32 text has them)."""
    return b"\x00" in head and bom_encoding(head) is None and _bomless_utf16(head) is None


def is_media_file(path: str | Path) -> bool:
    """Whether ``path`` is a media container (by its content, else by its suffix, :data:`MEDIA_SUFFIXES`),
    whose subtitles are a stream to demux, rather than a subtitle text file."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(1024)
    except OSError:
        head = b""
    return container_format(head) is not None or p.suffix.lower() in MEDIA_SUFFIXES


def decode_text(data: bytes, path: str | Path) -> str:
    """Decode a subtitle or transcript file's bytes, its line endings made ``\\n``.

    UTF-8, UTF-8/UTF-16/UTF-32 with a byte-order mark, or UTF-16 without one (told by where its
    NUL bytes fall). Text that does not decode raises :class:`InputError` naming the file and
    the byte; other encodings (Shift-JIS, ...) are refused that way, to be converted to UTF-8 first (the
    message says which legacy encoding the bytes read as, :func:`~.encoding.legacy_encoding`, and gives the
    ``iconv`` command), and a media container (:func:`container_format`) is refused as one. CRLF and lone CR (classic
    Mac) line endings become LF, so that every parser sees the same lines (with lone CRs no line of
    an SRT or ASS file matched, and every cue was lost).
    """
    bitmap = bitmap_subtitle_format(data[:1024])
    if bitmap is not None:
        from ..media.probe import BITMAP_ADVICE

        raise InputError(f"is a {bitmap} file: {BITMAP_ADVICE}", path)
    container = container_format(data[:1024])
    if container is not None:
        raise InputError(f"is a media file ({container}), not a text file", path)
    if bom_encoding(data) is None and (bomless := _bomless_utf16(data)) is not None:
        try:
            text = data.decode(bomless)
        except UnicodeDecodeError as exc:
            raise InputError(f"not {encoding_label(bomless)} text ({exc.reason} at byte {exc.start})", path) from exc
        return text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        return decode_bom_text(data, path)
    except InputError:
        guess = None if bom_encoding(data) is not None else legacy_encoding(data)
        if guess is None:
            raise
        # the same one line, with what the bytes look like and how to convert them (they are not guessed at:
        # Windows-1252 decodes nearly any bytes, so a wrong guess would put mojibake into the release)
        name, iconv = guess
        return decode_bom_text(data, path, f"it reads as {name}: save it as UTF-8 (e.g. "
                                           f"iconv -f {iconv} -t UTF-8 {Path(path).name} > {Path(path).stem}.utf8"
                                           f"{Path(path).suffix})")


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


def _parse_srt(text: str, path: Path) -> list[Cue]:
    """SRT cues (payloads as written) by the ``srt`` package: a cue it cannot read is an error with its
    line number."""
    import srt

    try:
        cues = list(srt.parse(text))
    except srt.SRTParseError as exc:
        first = _line_of(text, exc.expected_start + len(exc.unmatched_content) - len(exc.unmatched_content.lstrip()))
        line, what = _srt_bad_line(text.splitlines(), first)
        raise InputError(f"malformed SRT cue at line {line}: {what}", path) from exc
    events = []
    for k, cue in enumerate(cues):
        start, end = cue.start.total_seconds(), cue.end.total_seconds()
        if end < start:
            raise InputError(_srt_order_problem(text, k, cue.index, start, end), path)
        events.append(Cue(start, end, _ORPHAN_CUE_NUMBER.sub("", cue.content)))
    return events


#: A cue number alone after a blank line at the end of a cue's text: the start of a cue that the file lost (cut
#: off after its number), which the ``srt`` package appends to the cue before (``Two\n\n3``: read ``Two 3``)
_ORPHAN_CUE_NUMBER = re.compile(r"\n[ \t]*\n\s*\d+\s*$")


#: A well-formed SRT timing line (times ``H:MM:SS,mmm``; ``.`` taken for ``,``), cue settings after it.
_SRT_STRICT_TIMING = re.compile(r"^\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-->\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}(?:\s|$)")


def _srt_order_problem(text: str, k: int, index: int, start: float, end: float) -> str:
    """The message for the ``k``-th cue (number ``index``) whose end the ``srt`` package read before its start:
    the timing line itself when it is malformed (``00:00:0X,000`` reads as 0 and ``X,000`` as cue settings),
    else the times as read."""
    timing = [(n, line) for n, line in enumerate(text.splitlines(), 1) if "-->" in line]
    if k < len(timing) and not _SRT_STRICT_TIMING.match(timing[k][1]):
        n, line = timing[k]
        return f"subtitle {index} (line {n}): not a valid timing line {line.strip()[:60]!r}"
    return f"subtitle {index}: end {end:.3f} before start {start:.3f}"


def _parse_vtt(text: str, path: Path) -> list[Cue]:
    """WebVTT cues (payloads as written) by ``webvtt-py`` (identifiers, NOTE, STYLE and REGION blocks
    skipped by it).

    webvtt-py skips a block it cannot read as a cue; a block with a ``-->`` line that did not
    become a cue is reported with that line instead of being lost.
    """
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

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
        events.append(Cue(start, end, cap.raw_text))
    return events


def _vtt_timing_ok(line: str) -> bool:
    """Whether webvtt-py reads ``line`` as a cue's timing line."""
    import webvtt
    from webvtt.errors import MalformedCaptionError

    try:
        return len(webvtt.WebVTT.from_string(f"WEBVTT\n\n{line}\nx\n").captions) == 1
    except MalformedCaptionError:
        return False


def _ass_event_lines(text: str) -> list[int]:
    """Line numbers (1-based) of the lines that pysubs2 reads as ASS/SSA events, in order: ``Dialogue:``
    and ``Comment:`` lines outside the script info, Aegisub, font and picture sections."""
    numbers, skip = [], False
    for n, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if _ASS_SECTION.match(line):
            skip = any(name in line for name in ("Info", "Aegisub", "Fonts", "Graphics"))
        elif not skip and line.startswith(("Dialogue:", "Comment:")):
            numbers.append(n)
    return numbers


#: The Start and End of an ASS/SSA event line as FFmpeg's ASS demuxer reads them (``%*[^,],%d:%d:%d%*c%d,...``:
#: the second and third fields, ``H:MM:SS`` then any one character and the fraction).
_ASS_TIMES = re.compile(r"^\s*(?:Dialogue|Comment)\s*:[^,]*,\s*([^,]*?)\s*,\s*([^,]*?)\s*,")
_ASS_TIME = re.compile(r"^(-?)(\d+):(\d+):(\d+)(?:[^\d](\d+))?$")


def _ass_times(line: str, start_ms: int, end_ms: int, where: str, path: Path) -> tuple[int, int]:
    """Start and end (ms) of the ASS event ``line``, its fractions read as libass and FFmpeg read them.

    ASS times are ``H:MM:SS.cc``: libass (``string2timecode``: ``ms * 10``) and FFmpeg's ASS demuxer
    take the digits after the dot as a count of centiseconds whatever their number, so ``0:00:01.5``
    is shown at 1.05 s and ``0:00:03.456`` at 7.56 s, and an MKV muxed from the script holds those
    times; pysubs2 read a decimal fraction (1.5 s, 3.456 s), so a script and the same script in an MKV
    disagreed. A time without a fraction (``0:00:05``: FFmpeg drops the line, libass shows it at 0)
    is refused in one line. ``start_ms``/``end_ms`` (pysubs2's) are kept when the line is not one
    FFmpeg reads.
    """
    m = _ASS_TIMES.match(line)
    if m is None:
        return start_ms, end_ms
    out = []
    for field, ms in zip(m.groups(), (start_ms, end_ms), strict=True):
        t = _ASS_TIME.match(field)
        if t is None:
            out.append(ms)
            continue
        sign, h, mnt, sec, frac = t.groups()
        if frac is None:
            raise InputError(f"{where}: time {field!r} has no centiseconds (ASS times are H:MM:SS.cc; "
                             "players drop or misplace such a line)", path)
        value = ((int(h) * 60 + int(mnt)) * 60 + int(sec)) * 1000 + int(frac) * 10
        out.append(-value if sign else value)
    return out[0], out[1]


class UnknownSubtitleFormat(InputError):
    """A text that no subtitle reader recognises (pysubs2 found no format, or no cue in the one it guessed),
    as against a subtitle file whose format is known and whose content is broken (a plain :class:`InputError`
    that says what is wrong: a transcript reader passes that one on instead of "not a known format")."""


def _parse_pysubs2(text: str, path: Path, keep_signs: bool = False) -> SubtitleRead:
    """ASS/SSA (and MicroDVD, MPL2, TMP) events by pysubs2; comments dropped, and signs and songs
    (:func:`anim400k.formats.signs.non_dialogue`) unless ``keep_signs``."""
    import pysubs2

    text = canonical_field_order(text)  # fields in the order the Format lines give, as libass reads them
    try:
        text = normalise_ttml_times(text)  # TTML/DFXP tick and frame times as clock times, which pysubs2 reads
    except ValueError as exc:  # a rate that is no positive integer
        raise InputError(str(exc), path) from None
    try:
        subs = pysubs2.SSAFile.from_string(text)
    except Exception as exc:  # pysubs2 raises several exception types for unknown formats
        lower = text.lower()
        unknown = UnknownSubtitleFormat if isinstance(exc, pysubs2.exceptions.FormatAutodetectionError) else InputError
        if "[events]" in lower and "styles]" not in lower:
            try:  # a style section is all it lacks: mpv and FFmpeg read such files too
                at = lower.index("[events]")
                subs = pysubs2.SSAFile.from_string(text[:at] + _DEFAULT_STYLES + text[at:])
            except Exception:
                raise InputError(f"not a subtitle file pysubs2 can read ({exc})", path) from exc
        else:
            raise unknown(f"not a subtitle file pysubs2 can read ({exc})", path) from exc
    ass = subs.format in ("ass", "ssa")
    lines = _ass_event_lines(text) if ass else []
    raw_lines = text.split("\n")
    kept_styles = dialogue_styles((ev.style, ev.effect, ev.text) for ev in subs.events if not ev.is_comment)
    events = []
    left_out: set[tuple[str, Subtitle]] = set()
    for i, ev in enumerate(subs.events):
        if ev.is_comment:
            continue
        numbered = len(lines) == len(subs.events)
        where = f"subtitle event {i + 1}" + (f" (line {lines[i]})" if numbered else "")
        start_ms, end_ms = ev.start, ev.end
        if ass and numbered:
            start_ms, end_ms = _ass_times(raw_lines[lines[i] - 1], ev.start, ev.end, where, path)
        for name, ms in (("start", start_ms), ("end", end_ms)):
            if ms < 0:  # pysubs2 reads '-0:00:01.00' as -1000 ms; FFmpeg and the SRT reader refuse such times
                raise InputError(f"{where}: negative {name} time {ms / 1000:.3f}", path)
        if end_ms < start_ms:
            raise InputError(f"{where}: end {end_ms / 1000:.3f} before start {start_ms / 1000:.3f}", path)
        if not ass and _TIMING_IN_TEXT.search(ev.text):
            # pysubs2 cut a timing line it does not read in two (its SRT and TMP readers)
            raise InputError(f"{where}: a timing line that could not be read "
                             f"({ev.text.strip()[:60]!r}) was taken for text", path)
        event = Subtitle(start_ms / 1000.0, end_ms / 1000.0, plain_text(ev.text), ass_name(ev.name) if ass else None)
        if ass and not keep_signs and non_dialogue(ev.style, ev.effect, ev.text, kept_styles):
            if event.text:  # a drawing has no text: dropped as an empty event, not counted
                left_out.add((ev.style, event))
            continue
        events.append(event)
    if not ass and not any(e.text for e in events):
        # a format that pysubs2 guessed (SRT, MPL2, TMP, ...) where the content sniffing found none:
        # zero cues from a file that is not empty means that its cues were not recognised
        raise UnknownSubtitleFormat(f"no subtitle cue could be read (pysubs2 took it for {subs.format.upper()}); "
                                    "expected SRT, WebVTT or ASS/SSA", path)
    return SubtitleRead(events, _by_style(left_out))


def read_subtitles(path: str | Path, stream: str | int | None = None, *, keep_signs: bool = False) -> list[Subtitle]:
    """Read an SRT, WebVTT or ASS/SSA file (format told by its content) into sorted plain-text events.

    A media container (:func:`is_media_file`: a Matroska subtitle file ``.mks``, an MKV, an MPEG-TS...)
    is read through its subtitle stream ``stream`` (:func:`read_subtitle_stream`); by default (None) the
    English dialogue stream (:func:`anim400k.media.probe.select_en_subtitle_stream`: of the streams tagged
    ``eng`` not a forced, signs-and-songs or SDH one, else the first untagged text stream), not the first.

    The file is UTF-8, UTF-8/UTF-16/UTF-32 with a byte-order mark, or UTF-16 without one, with
    LF, CRLF or CR line endings. An empty file (nothing but white space), a WebVTT file with its
    header only, or an ASS/SSA file without Dialogue lines gives no events. Comments and empty
    events are dropped. A file that does not parse, a file with text in which no cue is recognised,
    a cue that cannot be read (a bad or negative time, a truncated cue), or an event that ends
    before it starts raises :class:`InputError` naming the file (and the line, for SRT and ASS/SSA).

    ASS/SSA events that are signs or songs (:mod:`anim400k.formats.signs`) are left out, unless
    ``keep_signs``; SRT and WebVTT cues are all kept. :func:`read_subtitles_counted` also says how
    many were left out.
    """
    return read_subtitles_counted(path, stream, keep_signs=keep_signs).events


def read_subtitles_counted(path: str | Path, stream: str | int | None = None, *,
                           keep_signs: bool = False) -> SubtitleRead:
    """:func:`read_subtitles`, with the ASS/SSA events left out as signs or songs counted by style."""
    return read_subtitles_noted(path, stream, keep_signs=keep_signs, describe=False)[0]


def read_subtitles_noted(path: str | Path, stream: str | int | None = None, option: str | None = None, *,
                         keep_signs: bool = False, describe: bool = True) -> tuple[SubtitleRead, str | None]:
    """:func:`read_subtitles_counted`, and for a media file which subtitle stream was read
    (``read subtitle stream 2: eng 'Full'``, with the note on the choice:
    :func:`anim400k.media.probe.subtitle_stream_choice`; ``describe=False``: the note only); None for a
    subtitle text file. ``option`` names the command's stream setting in messages (None: it has none).

    A subtitle text file has one stream: a ``stream`` other than None or 0 is refused
    (:func:`refuse_text_file_stream`) rather than ignored."""
    path = Path(path)
    if not path.is_file():
        raise InputError("subtitle file not found", path)
    if is_media_file(path):
        read, _, note = read_subtitle_stream_chosen(path, stream, option, keep_signs=keep_signs, describe=describe)
        return read, note
    refuse_text_file_stream(path, stream, option)
    return _parse_counted(decode_text(path.read_bytes(), path), path, keep_signs), None


def refuse_text_file_stream(path: str | Path, stream: str | int | None, option: str | None = None) -> None:
    """Raise :class:`InputError` naming ``path``, a subtitle text file (SRT, WebVTT, ASS/SSA), when a subtitle
    stream other than its one (None or 0) is asked for: the setting (``option``, e.g. ``--subtitle-stream``)
    picks among a media file's streams and was silently ignored."""
    if stream is None or str(stream).strip() == "0":
        return
    setting = (option or "a subtitle stream").rstrip(":")
    raise InputError(f"a text subtitle file with one stream; {setting} applies to media files", path)


def parse_subtitles(text: str, path: str | Path, *, keep_signs: bool = False) -> list[Subtitle]:
    """:func:`read_subtitles` of a file's decoded ``text`` (``path`` names it in errors)."""
    return _parse_counted(text, Path(path), keep_signs).events


def _spoken_counted(text: str, path: Path, keep_signs: bool) -> tuple[list[SpokenCue], dict[str, int]]:
    """The spoken lines of a file's text (in file order, not yet sorted or collapsed) and the ASS/SSA
    events left out as signs or songs by style: SRT and WebVTT cues through
    :func:`anim400k.formats.wordcues.spoken_cues` (YouTube rolling and Whisper highlight captions read
    once, with their word times), ASS/SSA and pysubs2's other formats one event each, without words."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return [], {}  # a file with no cues is a valid file with no subtitles
    form = subtitle_format(text)
    if form == "srt":
        return spoken_cues(_parse_srt(text, path), srt_text), {}
    if form == "vtt":
        return spoken_cues(_parse_vtt(text, path), vtt_text, vtt_voice), {}
    if is_ttml(text):  # TTML 1's timing (nested divs, timed spans, any namespace): not pysubs2's body/div/p
        cues = parse_ttml(text, path)
        if not any(c.text for c in cues):
            raise UnknownSubtitleFormat("no subtitle cue could be read from this TTML/DFXP document (no <p> with "
                                        "a begin and an end or a dur, nor a timed <span>)", path)
        return [SpokenCue(c) for c in cues], {}
    events, left_out = _parse_pysubs2(text, path, keep_signs)
    return [SpokenCue(e) for e in events], left_out


def _parse_counted(text: str, path: Path, keep_signs: bool) -> SubtitleRead:
    spoken, left_out = _spoken_counted(text, path, keep_signs)
    return SubtitleRead(_finish(s.subtitle for s in spoken), left_out)


def parse_subtitle_words(text: str, path: str | Path) -> list[SpokenCue]:
    """The events of a subtitle file's decoded ``text`` (as :func:`parse_subtitles`: sorted, empty ones
    dropped, copies kept once, signs and songs left out) with their word times where the file has them
    (YouTube rolling auto-captions, Whisper ``--highlight_words``; :mod:`anim400k.formats.wordcues`):
    what a subtitle file read as a transcript gives."""
    spoken, _ = _spoken_counted(text, Path(path), False)
    kept: dict[Subtitle, SpokenCue] = {}
    for s in spoken:
        if s.subtitle.text and s.subtitle not in kept:
            kept[s.subtitle] = s
    return sorted(kept.values(), key=lambda s: (s.subtitle.start, s.subtitle.end))


def _select_subtitle_stream(container, stream: str | int | None, path: Path,  # type: ignore[no-untyped-def]
                            option: str | None = "subtitle_stream:", describe: bool = False):
    """The subtitle stream of ``container`` for ``stream`` (:func:`anim400k.media.probe.select_subtitle_stream`;
    None: the English one, :func:`anim400k.media.probe.select_en_subtitle_stream`) and the note on the choice
    (None when plain; ``describe``: :func:`anim400k.media.probe.subtitle_stream_choice`, which stream it is and
    the note)."""
    from ..media.probe import (
        MediaInfo,
        _stream_info,
        select_en_subtitle_stream,
        select_subtitle_stream,
        subtitle_stream_choice,
    )

    info = MediaInfo(path=str(path), format=container.format.name, duration=None, start_time=0.0,
                     streams=[_stream_info(s) for s in container.streams])
    if stream is None:
        chosen, note = select_en_subtitle_stream(info, option)
    else:
        chosen, note = select_subtitle_stream(info, stream, option)
    if describe:
        note = subtitle_stream_choice(info, chosen, note)
    return container.streams[chosen.index], note


def _open_media(path: Path):  # type: ignore[no-untyped-def]
    """``path`` opened with PyAV (a context manager); a missing or unreadable file is one :class:`InputError`."""
    import av

    if not path.is_file():
        raise InputError("media file not found", path)
    try:
        return av.open(av_path(path))
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot open media ({exc})", path) from exc


def _text_subtitle_stream(container, stream: str | int | None, path: Path,  # type: ignore[no-untyped-def]
                          option: str | None = "subtitle_stream:", describe: bool = False):
    """The subtitle stream ``stream`` of ``container`` and the note on the choice; :class:`InputError` if it
    is missing or a bitmap format."""
    from ..media.probe import BITMAP_ADVICE, TEXT_SUBTITLE_CODECS

    st, note = _select_subtitle_stream(container, stream, path, option, describe)
    codec = st.codec_context.name
    if codec not in TEXT_SUBTITLE_CODECS:
        raise InputError(f"subtitle stream is '{codec}' (a bitmap format): {BITMAP_ADVICE}", path)
    return st, note


def check_subtitle_stream(media_path: str | Path, stream: str | int | None = None,
                          option: str | None = "subtitle_stream:") -> None:
    """Raise :class:`InputError`, as :func:`read_subtitle_stream` would, when ``media_path`` has no such text
    subtitle stream; reads the headers only (the build's probe stage checks before the costly stages).
    ``option`` names the setting that picks another stream in messages (None: there is none)."""
    pick_subtitle_stream(media_path, stream, option)


def pick_subtitle_stream(media_path: str | Path, stream: str | int | None = 0,
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


def read_subtitle_stream(media_path: str | Path, stream: str | int | None = 0,
                         option: str | None = "subtitle_stream:", *, keep_signs: bool = False) -> list[Subtitle]:
    """Read a text subtitle stream (SRT/ASS/WebVTT/mov_text) from a media file such as an MKV.

    ``stream`` is the index among the file's *subtitle* streams or a language tag
    (``eng``/``en``/``english``, ``jpn``/``ja``); of several streams tagged with the language the one
    :func:`pick_subtitle_stream` names is read (not a forced or signs-and-songs track); None: the English
    dialogue stream (:func:`anim400k.media.probe.select_en_subtitle_stream`). Packets are
    demuxed with PyAV and decoded by FFmpeg (which turns every text format into ASS dialogue lines);
    timings come from the packets, on the timeline of :func:`anim400k.media.decode_audio` (time 0 is
    the container's start time: a file whose streams start at 1.5 s has its first audio sample and its
    subtitles counted from there). The SRT and WebVTT streams of a Matroska/WebM file are read from the cue
    text the packets hold instead, with the file reader's rules (:data:`_RAW_CUE_CODECS`), so a cue reads the
    same in a file and muxed. Bitmap subtitles (PGS, DVD) need OCR and raise :class:`InputError`;
    ``option`` names the setting in the error's suggestion.

    In an ASS/SSA stream, events that are signs or songs (:mod:`anim400k.formats.signs`, told by
    the style, Effect and text of each event) are left out unless ``keep_signs``; the events of
    SRT, WebVTT and mov_text streams (which FFmpeg hands over as ``Default``-style ASS) are all kept.
    """
    return read_subtitle_stream_counted(media_path, stream, option, keep_signs=keep_signs).events


def _ass_fields(line: str) -> tuple[str, str, str]:
    """Style, Effect and Text of an ASS event as FFmpeg decodes it: ``ReadOrder,Layer,Style,Name,MarginL,
    MarginR,MarginV,Effect,Text`` (older FFmpeg: a whole ``Dialogue: Layer,Start,End,...`` line)."""
    if line.startswith("Dialogue:"):
        fields = line[len("Dialogue:"):].split(",", 9)
        return (fields[3].strip(), fields[8], fields[9]) if len(fields) == 10 else ("", "", line)
    fields = line.split(",", 8)
    return (fields[2].strip(), fields[7], fields[8]) if len(fields) == 9 else ("", "", line)


def _ass_name_field(line: str) -> str:
    """The Name (Actor) field of an ASS event as FFmpeg decodes it (:func:`_ass_fields`); "" when the line
    has not that shape."""
    if line.startswith("Dialogue:"):
        fields = line[len("Dialogue:"):].split(",", 9)
        return fields[4] if len(fields) == 10 else ""
    fields = line.split(",", 8)
    return fields[3] if len(fields) == 9 else ""


def read_subtitle_stream_counted(media_path: str | Path, stream: str | int | None = 0,
                                 option: str | None = "subtitle_stream:", *,
                                 keep_signs: bool = False) -> SubtitleRead:
    """:func:`read_subtitle_stream`, with the ASS/SSA events left out as signs or songs counted by style."""
    return read_subtitle_stream_chosen(media_path, stream, option, keep_signs=keep_signs)[0]


def read_subtitle_stream_chosen(media_path: str | Path, stream: str | int | None = 0,
                                option: str | None = "subtitle_stream:", *, keep_signs: bool = False,
                                describe: bool = False) -> tuple[SubtitleRead, int, str | None]:
    """:func:`read_subtitle_stream_counted`, with the subtitle-stream index read and the note on the choice
    (as :func:`pick_subtitle_stream` gives them; ``describe``: always a note, which stream was read and why,
    :func:`anim400k.media.probe.subtitle_stream_choice`), from one opening of the file."""
    from ..media.probe import container_origin

    path = Path(media_path)
    with _open_media(path) as container:
        st, note = _text_subtitle_stream(container, stream, path, option, describe)
        index = list(container.streams.subtitles).index(st)
        codec = st.codec_context.name
        classify = not keep_signs and codec in ("ass", "ssa")
        raw_cues = codec in _RAW_CUE_CODECS and "matroska" in container.format.name
        tb = float(st.time_base)
        origin = container_origin(container)
        cues: list[Cue] = []  # SRT and WebVTT streams: the cue payloads as written
        # (style, effect, raw, name, text)
        packets: list[tuple[float, float, list[tuple[str, str, str, str, str]]]] = []
        for packet in container.demux(st):
            if packet.size == 0 or packet.pts is None:
                continue
            start = packet.pts * tb - origin
            end = start + (packet.duration or 0) * tb
            if raw_cues:
                cues.append(Cue(round(start, 3), round(end, 3), bytes(packet).decode("utf-8", "replace")))
                continue
            texts = []
            for sub in st.codec_context.decode(packet):
                if getattr(sub, "type", b"") == b"ass":
                    line = sub.ass.decode("utf-8", "replace")
                    style, effect, raw = _ass_fields(line)
                    # the event's Text field read as the file reader reads it (libass's braces and escapes):
                    # PyAV's dialogue text dropped what follows a lone '{' and turned '\{braces\}' into '\'
                    text = plain_text(raw) if raw is not line else plain_text(sub.dialogue.decode("utf-8", "replace"))
                    texts.append((style, effect, raw, _ass_name_field(line), text))
                elif getattr(sub, "type", b"") == b"text":
                    texts.append(("", "", "", "", plain_text(sub.text.decode("utf-8", "replace"))))
            packets.append((round(start, 3), round(end, 3), texts))
    if cues:
        spoken = spoken_cues(cues, _RAW_CUE_CODECS[codec], vtt_voice if codec == "webvtt" else None)
        return SubtitleRead(_finish(s.subtitle for s in spoken), {}), index, note
    kept_styles = dialogue_styles((style, effect, raw) for _, _, texts in packets for style, effect, raw, _, _ in texts)
    events = []
    left_out: set[tuple[str, Subtitle]] = set()
    for start, end, texts in packets:
        kept = []
        for style, effect, raw, name, text in texts:
            if classify and non_dialogue(style, effect, raw, kept_styles):
                if text:
                    left_out.add((style, Subtitle(start, end, text)))
                continue
            if text:
                kept.append((text, ass_name(name)))
        names = {n for _, n in kept}
        speaker = names.pop() if len(names) == 1 else None  # one packet holding two named speakers: none
        events.append(Subtitle(start, end, " ".join(t for t, _ in kept), speaker))
    return SubtitleRead(_finish(events), _by_style(left_out)), index, note


#: Text subtitle codecs whose Matroska/WebM packets hold the cue text as written (SRT, WebVTT), read with
#: the file reader's rules (FFmpeg's WebVTT decoder kept ruby readings, ``<rt>``, that the file reader drops),
#: and through :func:`anim400k.formats.wordcues.spoken_cues` as files are.
_RAW_CUE_CODECS = {"webvtt": vtt_text, "subrip": srt_text}


class TimedText(Protocol):
    """Anything with ``start``/``end`` seconds and ``text`` (a :class:`Subtitle`, a truth subtitle...)."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def text(self) -> str: ...


def is_srt_file(path: str | Path) -> bool:
    """Whether ``path`` is an SRT file (UTF-8) of at least one cue that reads without a problem: what
    ``dub --srt`` may replace (:func:`~anim400k.fsutil.no_clobber.refuse_foreign_output`). A file whose first line is
    not a cue number is not read further."""
    text = sniffed_text(path, _starts_with_cue_number)
    if text is None:
        return False
    try:
        return subtitle_format(text) == "srt" and bool(_parse_srt(text, Path(path)))
    except (ValueError, InputError):
        return False


def _starts_with_cue_number(start: bytes) -> bool:
    """Whether a file's first bytes begin with an SRT cue number."""
    first = start.split(maxsplit=1)
    return bool(first) and first[0].isdigit()


def write_srt(path: str | Path, subtitles: Sequence[TimedText]) -> None:
    """Write events as an SRT file (atomically), in the order given, numbered from 1: the package's one
    SRT writer.

    Texts are written verbatim by the ``srt`` package (only a blank line inside a text, which would
    end its cue, is dropped): ``{laughs}`` stays as it was spoken (pysubs2's SRT writer took ``{...}``
    for an ASS override block and deleted it). Times are rounded to the millisecond.
    """
    from datetime import timedelta

    import srt

    def at(seconds: float) -> timedelta:
        return timedelta(milliseconds=round(seconds * 1000))

    cues = [srt.Subtitle(k, at(sub.start), at(sub.end), sub.text) for k, sub in enumerate(subtitles, 1)]
    text = srt.compose(cues, reindex=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
