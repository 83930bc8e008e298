"""Open media with PyAV, describe its streams, and pick an audio stream."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DiskFull, InputError, is_disk_full
from .av_path import av_path

# ISO 639-1 / 639-2 (B and T) codes and English names that mean the same language.
_LANGUAGE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("jpn", "ja", "jp", "japanese"),
    ("eng", "en", "english"),
    ("spa", "es", "spanish"),
    ("fre", "fra", "fr", "french"),
    ("ger", "deu", "de", "german"),
    ("ita", "it", "italian"),
    ("por", "pt", "portuguese"),
    ("chi", "zho", "zh", "chinese"),
    ("kor", "ko", "korean"),
    ("rus", "ru", "russian"),
)
_CANONICAL: dict[str, str] = {name: group[0] for group in _LANGUAGE_GROUPS for name in group}
#: The ISO 639-2 codes of the languages above (a stream tagged with one of them is in a known language).
_KNOWN_LANGUAGES = frozenset(group[0] for group in _LANGUAGE_GROUPS)


def normalize_language(tag: str | None) -> str | None:
    """Map a language tag (``ja``, ``jpn``, ``Japanese``, ``en-US`` ...) to its ISO 639-2 code.

    Unknown tags are returned lower-cased; ``None``/``und``/empty give ``None``.
    """
    if not tag:
        return None
    t = tag.strip().lower().replace("_", "-")
    if t in ("", "und", "unknown", "none"):
        return None
    return _CANONICAL.get(t, _CANONICAL.get(t.split("-")[0], t))


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a media file. ``index`` is the container's stream index."""

    index: int
    kind: str  # "audio" | "video" | "subtitle" | "data" | "attachment"
    codec: str
    language: str | None = None
    channels: int | None = None
    sample_rate: int | None = None
    duration: float | None = None
    title: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    default: bool = False
    layout: str | None = None  # audio: FFmpeg's channel layout name ("stereo", "5.1(side)" ...)
    forced: bool = False  # the stream's "forced" disposition (subtitles: signs and foreign parts only)
    hearing_impaired: bool = False  # the "hearing_impaired" disposition (subtitles: SDH / closed captions)


@dataclass(frozen=True)
class MediaInfo:
    """What :func:`probe` found in a file."""

    path: str
    format: str
    duration: float | None
    start_time: float
    streams: list[StreamInfo] = field(default_factory=list)

    @property
    def audio_streams(self) -> list[StreamInfo]:
        """The audio streams, in container order."""
        return [s for s in self.streams if s.kind == "audio"]

    @property
    def video_streams(self) -> list[StreamInfo]:
        """The video streams (cover-art pictures excluded), in container order."""
        return [s for s in self.streams if s.kind == "video"]

    @property
    def subtitle_streams(self) -> list[StreamInfo]:
        """The subtitle streams, in container order."""
        return [s for s in self.streams if s.kind == "subtitle"]


#: Containerless audio formats whose probe may miss a very short file: opened by their extension then.
_RAW_AUDIO_FORMATS = {".mp3": "mp3", ".aac": "aac"}


def _starts_as_mp3(p: Path) -> bool:
    """Whether ``p`` is named ``.mp3`` and starts with an ID3v2 tag or an MPEG audio frame header."""
    from .mp3_gapless import mp3_frame_length

    if p.suffix.lower() != ".mp3":
        return False
    with open(p, "rb") as fh:
        head = fh.read(4)
    return head[:3] == b"ID3" or mp3_frame_length(head) is not None


def _reopen_raw_audio(container: Any, p: Path) -> Any:
    """``p`` opened again as the raw audio format its extension names, where ``container`` found no audio.

    A container with no stream at all is always replaced (a failure to open ``p`` so is raised); one that found
    other streams is kept where ``p`` does not open as that format, or opens without an audio stream.
    """
    import av

    fmt = _RAW_AUDIO_FORMATS[p.suffix.lower()]
    if not container.streams:
        container.close()
        return av.open(av_path(p), "r", format=fmt)
    try:
        forced = av.open(av_path(p), "r", format=fmt)
    except av.FFmpegError:
        return container
    if not forced.streams.audio:
        forced.close()
        return container
    container.close()
    return forced


@contextlib.contextmanager
def open_input(path: str | Path) -> Iterator[Any]:
    """Open ``path`` for reading with PyAV; any failure becomes one :class:`InputError` line."""
    import av

    p = Path(path)
    if not p.exists():
        raise InputError("file not found", p)
    if p.is_dir():
        raise InputError("is a folder, not a media file", p)
    try:
        try:
            container = av.open(av_path(p), "r")
        except av.InvalidDataError:
            if not _starts_as_mp3(p):
                raise
            # a few frames of MP3 whose bytes FFmpeg's probe gives no score at all (seen with noise, 4,000
            # samples of 44.1 kHz stereo, from either LAME): opened as the MP3 its header says it is
            container = av.open(av_path(p), "r", format="mp3")
        if not container.streams.audio and p.suffix.lower() in _RAW_AUDIO_FORMATS:
            # a few hundred bytes of MP3 (a clip of a few frames) score too low in FFmpeg's probe, or score
            # higher as another format (1,000 samples of 44.1 kHz mono at 320k probe as a VVC video stream)
            container = _reopen_raw_audio(container, p)
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        if isinstance(exc, PermissionError):  # not the file's fault: it may well be media
            raise InputError("cannot be read (permission denied)", p) from exc
        raise InputError(f"not a media file PyAV can open: {_reason(exc)}", p) from exc
    try:
        yield container
    except av.FFmpegError as exc:
        if is_disk_full(exc):  # writing an output filled the disk: not the input's fault
            where = getattr(exc, "filename", None)
            raise DiskFull(f"disk full: {_reason(exc)} (while reading {p}"
                           f"{f' and writing {where}' if where and str(where) != str(p) else ''})") from exc
        raise InputError(f"corrupt or undecodable media: {_reason(exc)}", p) from exc
    finally:
        container.close()


#: Bytes of packets (of every stream) :func:`has_audio_stream` reads to find its first audio frame: a muxer
#: interleaves the streams by time, so a medium's audio comes within its first seconds; a file whose audio
#: stream has no packet there (a 4 GB video whose audio track is empty) is not read to its end.
AUDIO_SEARCH_BYTES = 64 << 20


def has_audio_stream(path: str | Path) -> bool:
    """Whether PyAV opens ``path`` as media with at least one audio stream that decodes: an earlier audio or
    video output of a command (a dub, a separated track), which a re-run may replace
    (:func:`~anim400k.fsutil.no_clobber.refuse_foreign_output`). A text file, an SRT (FFmpeg opens one as a subtitle
    stream), a picture or JSON is not, nor a text file FFmpeg's demuxer takes by its name (``notes.flac``): a
    frame of one of its audio streams (not only the first: a dub copies a source's empty or commentary track
    beside its own) must decode within the first :data:`AUDIO_SEARCH_BYTES` of packets."""
    try:
        with open_input(path) as container:
            if not container.streams.audio:
                return False
            read = 0
            for packet in container.demux():  # every stream's packets: what is read is counted, not skipped
                if packet.stream.type == "audio" and any(True for _ in packet.decode()):
                    return True
                read += packet.size
                if read > AUDIO_SEARCH_BYTES:
                    return False
            return False
    except (InputError, ValueError, OSError):
        return False


#: FFmpeg's error codes whose own text says little to a user ("Invalid data found when processing input",
#: "Error number -16976906 occurred"), by the PyAV exception class that carries them, read from a file
_READ_REASONS = {
    "InvalidDataError": "invalid data (corrupt or truncated file)",
    "EOFError": "unexpected end of file (truncated file)",
    "DecoderNotFoundError": "no decoder for this codec in PyAV's FFmpeg",
    "DemuxerNotFoundError": "unknown container format",
    "PatchWelcomeError": "uses a feature that FFmpeg does not implement",
    "BugError": "FFmpeg failed on it (an internal FFmpeg error; the file may be corrupt)",
    "UnknownError": "unknown FFmpeg error (the file may be corrupt)",
}
#: The same, written into an output container (its muxer refused the header or a packet)
_WRITE_REASONS = {
    "InvalidDataError": "the container's muxer cannot store it (invalid data)",
    "ArgumentError": "the container's muxer does not take it (invalid argument)",
    "EncoderNotFoundError": "no encoder for this codec in PyAV's FFmpeg",
    "MuxerNotFoundError": "no muxer for this format in PyAV's FFmpeg",
    "PatchWelcomeError": "the muxer does not implement it",
}
#: Codecs' private error codes that reach PyAV unnamed (libavcodec/ac3_parser_internal.h: AC-3/E-AC-3 frame
#: header errors, -0x1030c0a ... -0x7030c0a): a damaged frame
_AC3_PARSE_ERROR = 0x030C0A


def _reason(exc: BaseException, writing: bool = False) -> str:
    """A short, single-line reason from a PyAV/OS exception, FFmpeg's error codes in words.

    ``writing``: the error came from writing an output (a muxer's refusal), not from reading a file.
    """
    import av

    if isinstance(exc, av.FFmpegError):
        table = _WRITE_REASONS if writing else _READ_REASONS
        name = type(exc).__name__
        if name in table:
            return table[name]
        code = abs(int(getattr(exc, "errno", 0) or 0))
        if name == "UndefinedError":  # a code FFmpeg has no text for ("Error number -N occurred")
            if code & 0xFFFFFF == _AC3_PARSE_ERROR and not writing:
                return _READ_REASONS["InvalidDataError"]
            return f"FFmpeg error -{code} (no description{'' if writing else '; the file may be corrupt'})"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def container_origin(container: Any) -> float:
    """Time (s) of the container timeline's zero: its start time, 0 when unknown."""
    st = container.start_time
    return float(st) / 1_000_000 if st is not None else 0.0


def ends_from_zero(container: Any) -> bool:
    """Whether ``container``'s header durations are end times counted from 0, not from its start time.

    Matroska has no start offset: its Segment Duration and the per-track ``DURATION`` tags that
    FFmpeg writes are the end of the last block, so in a file whose streams start at 2.78 s (remuxed
    from MPEG-TS) they exceed the streams' length by 2.78 s. MP4 and MPEG-TS state the length.
    """
    return "matroska" in (container.format.name or "").split(",")


def timeline_length(container: Any, seconds: float | None) -> float | None:
    """A header duration of ``container`` as a length from its start time (:func:`container_origin`)."""
    if seconds is None or not ends_from_zero(container):
        return seconds
    return max(0.0, seconds - container_origin(container))


def _stream_duration(stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tag = (stream.metadata or {}).get("DURATION") or (stream.metadata or {}).get("duration")
    if tag:  # Matroska writes "HH:MM:SS.nnnnnnnnn" tags: the track's end time
        with contextlib.suppress(ValueError):
            h, m, s = tag.split(":")
            return timeline_length(stream.container, int(h) * 3600 + int(m) * 60 + float(s))
    return None


#: MP4 handler names that name the kind of track or the tool that wrote it, not the track: no title
_GENERIC_HANDLER = re.compile(r"handler|media|\biso\b|gpac|l-smash|mainconcept|apple|google|^\s*(?:sound|video|"
                              r"audio|subtitle|text|data|hint|metadata|timecode)?\s*$", re.IGNORECASE)


def _handler_title(meta: dict[str, str]) -> str | None:
    """An MP4/M4A track's title kept only in its ``handler_name`` (``English (dub)``; an M4A has no other
    place for it), not a generic one (``SoundHandler``, ``Core Media Audio``, ``ISO Media file produced ...``)."""
    handler = (meta.get("handler_name") or "").strip()
    return handler if handler and not _GENERIC_HANDLER.search(handler) else None


def _stream_info(stream: Any) -> StreamInfo:
    meta = stream.metadata or {}
    kind = stream.type
    disp = stream.disposition
    default = bool(disp & disp.__class__.default) if disp is not None else False
    forced = bool(disp & disp.__class__.forced) if disp is not None else False
    hearing_impaired = bool(disp & disp.__class__.hearing_impaired) if disp is not None else False
    if kind == "video" and disp is not None and disp & disp.__class__.attached_pic:
        kind = "attachment"  # cover art is a picture, not a video
    cc = stream.codec_context
    codec = (cc.name if cc is not None else None) or meta.get("codec_name") or "unknown"
    info: dict[str, Any] = {
        "index": stream.index,
        "kind": kind,
        "codec": codec,
        "language": normalize_language(meta.get("language")),
        "duration": _stream_duration(stream),
        "title": meta.get("title") or meta.get("name") or meta.get("filename") or _handler_title(meta) or None,
        "default": default,
        "forced": forced,
        "hearing_impaired": hearing_impaired,
    }
    if kind == "audio" and cc is not None:
        info["channels"] = cc.channels or None
        info["sample_rate"] = cc.sample_rate or None
        layout = getattr(cc, "layout", None)
        info["layout"] = (layout.name if layout is not None and layout.nb_channels else None) or None
    if kind == "video" and cc is not None:
        info["width"] = cc.width or None
        info["height"] = cc.height or None
        rate = stream.average_rate or stream.guessed_rate
        info["frame_rate"] = float(rate) if rate else None
    return StreamInfo(**info)


def probe(path: str | Path) -> MediaInfo:
    """Describe the streams of a media file (no decoding).

    Raises :class:`InputError` naming ``path`` when it is missing or not media PyAV can open.
    """
    with open_input(path) as container:
        streams = [_stream_info(s) for s in container.streams]
        duration = timeline_length(container, float(container.duration) / 1_000_000) \
            if container.duration is not None else None
        if duration is None:
            durations = [s.duration for s in streams if s.duration]
            duration = max(durations) if durations else None
        if not any(s.kind in ("audio", "video") for s in streams):
            raise InputError("not a media file PyAV can open: no audio or video stream", path)
        return MediaInfo(
            path=str(path),
            format=container.format.name,
            duration=duration,
            start_time=container_origin(container),
            streams=streams,
        )


def default_audio_stream(media: str | Path, language: str) -> str | int:
    """The only audio stream of ``media`` (index 0), else the stream tagged with ``language`` (``ja``/``en``).

    An only stream tagged with another known language (``jpn`` when ``en`` is wanted) is refused with
    :class:`InputError`: naming the stream (``--stream 0`` of ``anim400k transcribe``) forces it. An
    untagged (``und``) or unknown-tagged only stream is taken.
    """
    info = probe(media)
    if len(info.audio_streams) == 1:
        tag = info.audio_streams[0].language
        want = normalize_language(language)
        if tag in _KNOWN_LANGUAGES and want is not None and tag != want:
            raise InputError(f"its only audio stream is tagged '{tag}', not {language}: "
                             f"pass --stream 0 to transcribe it as {language} anyway", info.path)
        return 0
    return {"ja": "jpn", "en": "eng"}.get(language, language)


def parse_stream_selector(value: str) -> str | int:
    """A ``--*-stream`` option's value: an audio-stream index (digits) or a language tag."""
    return int(value) if value.strip().isdigit() else value.strip()


def select_audio_stream(info: MediaInfo, selector: str | int) -> StreamInfo:
    """Pick an audio stream by language tag (``jpn``/``ja``/``japanese`` ...) or audio-stream index.

    An ``int`` (or a digit string) is the position among *audio* streams. A language picks the
    first audio stream tagged with it (a default-flagged one if several are). Raises
    :class:`InputError` naming the file and the languages present when nothing matches.
    """
    audio = info.audio_streams
    if not audio:
        raise InputError("has no audio stream", info.path)
    if isinstance(selector, int) or (isinstance(selector, str) and selector.strip().isdigit()):
        i = int(selector)
        if not 0 <= i < len(audio):
            raise InputError(f"has no audio stream #{i} (it has {len(audio)})", info.path)
        return audio[i]
    want = normalize_language(selector)
    matches = [s for s in audio if s.language == want]
    if not matches:
        present = ", ".join(s.language or "und" for s in audio)
        raise InputError(f"has no '{selector}' audio stream (audio languages: {present})", info.path)
    return next((s for s in matches if s.default), matches[0])


#: Names of languages in their own script, found anywhere in a stream title.
_NATIVE_NAMES = {"日本語": "jpn", "にほんご": "jpn", "英語": "eng"}
#: Two-letter words of a title that name a language (others, like 'it' or 'de', are ordinary words).
_TITLE_CODES = frozenset({"jp", "ja"})


def title_languages(title: str | None) -> set[str]:
    """The known languages (ISO 639-2) a stream title names (``'Japanese 5.1'``, ``'JPN'``, ``'日本語'``: jpn)."""
    if not title:
        return set()
    found = {code for name, code in _NATIVE_NAMES.items() if name in title}
    words = [w for w in re.split(r"[\W_]+", title.lower()) if w]
    for word in words:
        code = _CANONICAL.get(word) if len(word) >= 3 or word in _TITLE_CODES or len(words) == 1 else None
        if code is not None:
            found.add(code)
    return found


#: Words of a stream title saying it is not the programme's main audio: a commentary, an audio
#: description (for the visually impaired), karaoke or sing-along, an isolated score or M&E track.
_SECONDARY_TITLE = re.compile(
    r"comment|descri(?:ption|ptive|bed)|visually[\s_-]*impaired|karaoke|sing[\s_-]*along|isolated"
    r"|instrumental|music[\s_-]*only|effects[\s_-]*only|\bm\s*&\s*e\b|コメンタリー|解説|副音声",
    re.IGNORECASE,
)


def secondary_title(title: str | None) -> bool:
    """Whether a stream title says it is not the main audio (``'English Commentary'``, ``'Audio Description'``)."""
    return bool(title) and _SECONDARY_TITLE.search(str(title)) is not None


#: Title of the audio track ``anim400k dub`` adds (``English (dub)``, ``English (dub 2)``, ...).
DUB_TITLE = "English (dub)"


_DUB_TITLE_FORM = re.compile(r"English \(dub(?: \d+)?\)")


def is_dub_title(title: str | None) -> bool:
    """Whether ``title`` is that of a track an earlier dub added: ``English (dub)``, ``English (dub 2)`` ... (not
    ``English (dub version)``, a title of a user's)."""
    return _DUB_TITLE_FORM.fullmatch(title or "") is not None


def _not_main(stream: StreamInfo) -> bool:
    """Whether an audio stream says it is not the programme's audio: titled as a commentary, description ...
    (:func:`secondary_title`), or the track an earlier ``anim400k dub`` added (:func:`is_dub_title`: a build of a
    dubbed file took its TTS track for the EN dub, 'the default one')."""
    return secondary_title(stream.title) or is_dub_title(stream.title)


def _main_streams(streams: list[StreamInfo]) -> list[StreamInfo]:
    """``streams`` without those that say they are not the programme's audio (:func:`_not_main`), if any remain."""
    return [s for s in streams if not _not_main(s)] or streams


def describe_audio_streams(info: MediaInfo, streams: list[StreamInfo] | None = None) -> str:
    """``0: jpn 'Japanese', 1: und`` (audio-stream index, language, title) for one-line messages.

    ``streams``: only these of the file's audio streams (by default all).
    """
    audio = info.audio_streams
    parts = []
    for s in audio if streams is None else streams:
        title = f" {s.title!r}" if s.title else ""
        parts.append(f"{audio.index(s)}: {s.language or 'und'}{title}")
    return ", ".join(parts)


def _pick_tagged(info: MediaInfo, matches: list[StreamInfo], selector: str, option: str
                 ) -> tuple[StreamInfo, str | None]:
    """One of the audio streams tagged with the wanted language, and a note when there were several.

    Streams titled as commentary, audio description, karaoke ... or as an earlier dub's track (:func:`_not_main`)
    are passed over; of those left, the only one, else the default-flagged one, else the first (still noted). The only
    tagged stream is taken whatever its title, with a note when the title says it is a commentary or the
    like (an EN commentary beside the JP programme was taken for the dub without a word).
    """
    if len(matches) == 1:
        only = matches[0]
        if not _not_main(only):
            return only, None
        i = info.audio_streams.index(only)
        return only, (f"the only audio stream tagged '{selector}' ({i}) is titled {only.title!r}, not the "
                      f"programme's audio: used it; pass {option} N to use audio stream N")
    main = _main_streams(matches)
    defaults = [s for s in main if s.default]
    chosen = main[0] if len(main) == 1 else defaults[0] if len(defaults) == 1 else main[0]
    if len(main) == 1:
        why = "the others are titled as a commentary, description or the like"
        if any(is_dub_title(s.title) for s in matches if s not in main):
            why = ("the others are titled as a commentary, description or the like, or are a track an earlier dub "
                   "added" if any(secondary_title(s.title) for s in matches) else
                   "the others are tracks an earlier dub added")
    elif chosen in defaults:
        why = "the default one; the titles do not tell which is the main track"
    else:
        why = "the first; the titles do not tell which is the main track"
    i = info.audio_streams.index(chosen)
    return chosen, (f"{len(matches)} audio streams are tagged '{selector}' ({describe_audio_streams(info, matches)}); "
                    f"used audio stream {i} ({why}): pass {option} N to use audio stream N")


def select_source_stream(
    info: MediaInfo, selector: str | int, option: str = "--stream"
) -> tuple[StreamInfo, str | None]:
    """The audio stream to work on, and a note when the choice was not plain.

    An index is obeyed as by :func:`select_audio_stream`. A language tag that one stream carries picks
    it; when several carry it, those titled as a commentary, audio description, karaoke ...
    (:func:`secondary_title`) are passed over, then the default-flagged one is taken, else the first,
    and the note lists the candidates (audio-stream index, title) and says which was taken. When no
    stream is tagged with the language, only streams that are neither tagged with another known
    language nor titled with one are candidates: the one whose title names the language
    (``'Japanese 5.1'``, ``'日本語'``, ``'JPN'``; a commentary among such titles passed over) if
    exactly one does, else the only candidate. Otherwise (several untagged streams, or only streams
    in other languages) it raises :class:`InputError` in one line listing the audio streams (index,
    language, title) and suggesting ``{option} N``.
    """
    if isinstance(selector, int) or str(selector).strip().isdigit():
        return select_audio_stream(info, selector), None
    audio = info.audio_streams
    if not audio:
        raise InputError("has no audio stream", info.path)
    want = normalize_language(selector)
    tagged = [s for s in audio if s.language == want]
    if tagged and not all(is_dub_title(s.title) for s in tagged):
        return _pick_tagged(info, tagged, selector, option)
    # (only an earlier dub's track carries the tag: an untagged stream titled with the language, the real dub of
    # a fansub file, is looked for first; it was passed over for the TTS track)

    def other(s: StreamInfo) -> bool:
        named = title_languages(s.title)
        tagged_other = s.language in _KNOWN_LANGUAGES and s.language != want
        return tagged_other or (bool(named - {want}) and want not in named)

    candidates = [s for s in audio if not other(s)]
    named = [s for s in candidates if want in title_languages(s.title)]
    titled = _main_streams(named)
    chosen = titled[0] if len(titled) == 1 else candidates[0] if len(candidates) == 1 else None
    if tagged and (chosen is None or chosen not in titled or chosen in tagged):  # none untagged says it: the dub's
        return _pick_tagged(info, tagged, selector, option)
    if chosen is None:
        why = ("several audio streams could be it" if candidates else "its only audio stream is in another language"
               if len(audio) == 1 else "every audio stream is in another language")
        raise InputError(f"no audio stream is tagged '{selector}' and {why} "
                         f"(audio streams: {describe_audio_streams(info)}): pass {option} N to use audio stream N",
                         info.path)
    i = audio.index(chosen)
    how = f"titled {chosen.title!r}" if chosen in titled else (
        "the only audio stream" if len(audio) == 1 else "the only one not in another language")
    if chosen in titled and len(named) > 1:
        how += "; the others are titled as a commentary, description or the like"
    tag = f"tagged '{chosen.language}'" if chosen.language else "untagged"
    if tagged:
        dubs = ", ".join(str(audio.index(s)) for s in tagged)
        return chosen, (f"the audio streams tagged '{selector}' ({dubs}) are tracks an earlier dub added; used audio "
                        f"stream {i} ({tag}, {how}): pass {option} N to use audio stream N")
    return chosen, f"no '{selector}' audio stream; used audio stream {i} ({tag}, {how})"


def pick_audio_stream(media: str | Path, selector: str | int, option: str = "--stream") -> tuple[int, str | None]:
    """The audio-stream index of ``media`` that :func:`select_source_stream` picks for ``selector`` (an
    option's value: digits are an index, obeyed; else a language tag), and its note (None when plain).

    What ``separate``, ``sync`` and ``diarize`` use, so that a plain audio file (one untagged stream)
    is taken as ``dub`` and ``build`` take it; ``option`` names the flag in the error's suggestion.
    """
    info = probe(media)
    sel = parse_stream_selector(selector) if isinstance(selector, str) else selector
    stream, note = select_source_stream(info, sel, option)
    return info.audio_streams.index(stream), note


#: Words of a subtitle-stream title saying it is not the dialogue: a signs-and-songs or forced track
#: (BD and fansub releases put one first, often default and forced), karaoke or lyrics, a commentary.
_NOT_DIALOGUE_TITLE = re.compile(
    r"\bsigns?\b|\bsongs?\b|\bforced\b|\bs\s*[&+]\s*s\b|karaoke|\blyrics?\b|comment|\bforeign\b"
    r"|看板|歌詞|強制|コメンタリー",
    re.IGNORECASE,
)
#: Words of a subtitle-stream title saying it holds the whole dialogue.
_DIALOGUE_TITLE = re.compile(r"\bfull\b|\bdialog(?:ue)?s?\b|\bcomplete\b|全文|台詞|セリフ", re.IGNORECASE)
#: Words of a title that say a stream holds the dialogue even where it also names signs or songs (``Full Subtitles
#: (Dialogue + Signs)``); ``Full`` alone does not (``Signs & Songs (Full)`` is the full signs track).
_DIALOGUE_OVER_SIGNS = re.compile(r"\bdialog(?:ue)?s?\b|\bfull\s+sub(?:title)?s?\b|台詞|セリフ", re.IGNORECASE)
#: What the note says of the streams passed over because of their flag or title.
_NOT_DIALOGUE = "flagged forced or titled as signs, songs, karaoke or commentary"


#: Words of a subtitle-stream title saying it is for deaf and hard-of-hearing viewers (SDH, closed captions):
#: the dialogue with sound descriptions, speaker labels and lyrics written in.
_SDH_TITLE = re.compile(r"\bSDH\b|\bCC\b|hearing[\s_-]*impaired|\bdeaf\b|closed[\s_-]*captions?|聴覚障害",
                        re.IGNORECASE)
#: What the note says of the SDH streams passed over.
_SDH = "flagged hearing impaired or titled SDH/CC (sound descriptions and speaker labels written in)"


def sdh_subtitles(stream: StreamInfo) -> bool:
    """Whether a subtitle stream says it is SDH / closed captions: the ``hearing_impaired`` disposition, or a
    title with ``SDH``, ``CC``, ``Hearing Impaired``, ``Closed Captions`` (``'English (SDH)'``, ``'[CC]'``)."""
    return stream.hearing_impaired or (bool(stream.title) and _SDH_TITLE.search(str(stream.title)) is not None)


def not_dialogue_subtitles(stream: StreamInfo) -> bool:
    """Whether a subtitle stream says it is not the dialogue: flagged forced, or titled as signs, songs,
    forced, ``S&S``, karaoke, lyrics or commentary (``'Signs & Songs'``, ``'English (Forced)'``), unless the
    title also says it holds the dialogue (:data:`_DIALOGUE_OVER_SIGNS`: ``'Full Subtitles (Dialogue + Signs)'`` was
    passed over for the forced ``Signs & Songs`` stream beside it; ``'Signs & Songs (Full)'`` stays signs)."""
    if stream.forced:
        return True
    title = str(stream.title or "")
    return bool(title) and _NOT_DIALOGUE_TITLE.search(title) is not None and not _DIALOGUE_OVER_SIGNS.search(title)


#: FFmpeg's text subtitle codecs (the others, PGS and DVD, are pictures: they need OCR).
TEXT_SUBTITLE_CODECS = ("subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text")
#: What a message says where only a bitmap subtitle stream is there.
BITMAP_ADVICE = ("bitmap subtitles (PGS, DVD: pictures of text) cannot be read; give the subtitles as an SRT, "
                 "ASS or WebVTT file")


def _text_subtitles(stream: StreamInfo) -> bool:
    return stream.codec in TEXT_SUBTITLE_CODECS


def describe_subtitle_streams(info: MediaInfo, streams: list[StreamInfo] | None = None) -> str:
    """``0: eng 'Signs & Songs' (default, forced), 1: eng 'Full'`` (subtitle-stream index, language, title,
    flags; ``bitmap`` for a picture format) for one-line messages; ``streams``: only these (by default all)."""
    subs = info.subtitle_streams
    parts = []
    for s in subs if streams is None else streams:
        flags = [f for f, on in (("default", s.default), ("forced", s.forced),
                                 ("hearing impaired", s.hearing_impaired), ("bitmap", not _text_subtitles(s))) if on]
        title = f" {s.title!r}" if s.title else ""
        parts.append(f"{subs.index(s)}: {s.language or 'und'}{title}" + (f" ({', '.join(flags)})" if flags else ""))
    return ", ".join(parts)


def select_subtitle_stream(
    info: MediaInfo, selector: str | int, option: str | None = "subtitle_stream:"
) -> tuple[StreamInfo, str | None]:
    """The subtitle stream holding the dialogue for ``selector``, and a note when the choice was not plain.

    An index (an ``int`` or digits: the position among the *subtitle* streams) is obeyed. A language
    tag (``eng``/``en``/``english`` ...) picks among the streams tagged with it: bitmap streams (PGS,
    DVD) are passed over when a text one is there; so are streams flagged forced or titled as signs,
    songs, forced, ``S&S``, karaoke, lyrics or commentary (:func:`not_dialogue_subtitles`: a BD or
    fansub release's first ``eng`` stream is often its default, forced ``Signs & Songs`` track), and SDH /
    closed-caption streams (:func:`sdh_subtitles`) when a plain dialogue stream is there (an SDH track, often
    the default one, writes ``[DOOR SLAMS]`` and ``KYON:`` into the dialogue); of those left, the only one,
    else the one titled as the full dialogue (``Full``, ``Dialogue``; the default-flagged one of several),
    else the default-flagged one, else the first. When several
    streams carry the tag the note lists them (subtitle-stream index, language, title, flags) and says
    which was taken and why; a lone stream that says it is not the dialogue is taken with a note too.
    Raises :class:`InputError` in one line when the file has no subtitle stream, no such index, or no
    stream tagged with the language (listing the subtitle streams and suggesting ``{option} N``; no
    suggestion when ``option`` is None: a command with no such setting).
    """
    how = f": pass {option} N to use subtitle stream N" if option else ""
    subs = info.subtitle_streams
    if not subs:
        raise InputError("has no subtitle stream", info.path)
    if isinstance(selector, int) or str(selector).strip().isdigit():
        k = int(selector)
        if not 0 <= k < len(subs):
            raise InputError(f"subtitle stream {k} does not exist (it has {len(subs)})", info.path)
        return subs[k], None
    want = normalize_language(str(selector))
    matches = [s for s in subs if s.language == want]
    if not matches:
        raise InputError(f"no subtitle stream in language '{selector}' (subtitle streams: "
                         f"{describe_subtitle_streams(info)}){how}", info.path)
    listed = describe_subtitle_streams(info, matches)
    if len(matches) == 1:
        only = matches[0]
        if not_dialogue_subtitles(only):
            return only, (f"the only subtitle stream tagged '{selector}' ({listed}) is {_NOT_DIALOGUE}: "
                          "its text may be signs or songs, not the dialogue")
        return only, None
    text = [s for s in matches if _text_subtitles(s)] or matches
    dialogue = [s for s in text if not not_dialogue_subtitles(s)]
    not_dialogue = [s for s in text if s not in dialogue] if dialogue else []
    plain = [s for s in dialogue if not sdh_subtitles(s)]
    sdh = [s for s in dialogue if s not in plain] if plain else []
    dialogue = plain or dialogue
    full = [s for s in dialogue if s.title and _DIALOGUE_TITLE.search(s.title)]
    defaults = [s for s in (full or dialogue) if s.default]
    if len(dialogue) == 1:
        chosen, why = dialogue[0], "the only one left"
    elif full:
        chosen = defaults[0] if len(full) > 1 and len(defaults) == 1 else full[0]
        why = "titled as the full dialogue" + ("" if len(full) == 1 else
                                               ", the default one" if chosen in defaults else ", the first")
    elif len(defaults) == 1:
        chosen, why = defaults[0], "the default one; the titles do not tell which is the dialogue"
    elif dialogue:
        chosen, why = dialogue[0], "the first; the titles do not tell which is the dialogue"
    else:
        chosen, why = text[0], f"the first; every one is {_NOT_DIALOGUE}: its text may not be the dialogue"
    passed = []
    bitmap = [s for s in matches if s not in text]
    if bitmap:
        passed.append(f"{', '.join(str(subs.index(s)) for s in bitmap)}: bitmap")
    if not_dialogue:
        passed.append(f"{', '.join(str(subs.index(s)) for s in not_dialogue)}: {_NOT_DIALOGUE}")
    if sdh:
        passed.append(f"{', '.join(str(subs.index(s)) for s in sdh)}: {_SDH}")
    if passed:
        why += "; passed over " + ", and ".join(passed)
    return chosen, (f"{len(matches)} subtitle streams are tagged '{selector}' ({listed}); used subtitle stream "
                    f"{subs.index(chosen)} ({why}){how}")


def select_en_subtitle_stream(info: MediaInfo, option: str | None = None) -> tuple[StreamInfo, str | None]:
    """The subtitle stream of a file given as the EN subtitles (``--subtitles X.mkv``, a manifest's
    ``subtitles: X.mks``), and a note when the choice was not plain.

    A text stream tagged English: the streams tagged ``eng`` go through :func:`select_subtitle_stream` (a
    forced, signs-and-songs or SDH one passed over, as the build picks the EN stream); else the first untagged
    text stream (a lone untagged stream is plain). When every text stream tagged ``eng`` is forced or titled as
    signs or songs (:func:`not_dialogue_subtitles`), the first untagged text stream that is not is the dialogue
    instead (a ``Signs & Songs`` track tagged ``eng`` beside an untagged full one), with a note; with no such
    untagged stream the ``eng`` one is read, as :func:`select_subtitle_stream` warns. Raises
    :class:`InputError` in one line when the file has no
    subtitle stream, or none that is a text stream tagged ``eng`` or untagged (the streams listed, and
    ``{option} N`` suggested when ``option`` is given).
    """
    how = f": pass {option} N to use subtitle stream N" if option else ""
    subs = info.subtitle_streams
    if not subs:
        raise InputError("has no subtitle stream", info.path)
    text = [s for s in subs if _text_subtitles(s)]
    untagged = [s for s in text if s.language is None]
    eng = [s for s in text if s.language == "eng"]
    if eng:
        dialogue = [s for s in untagged if not not_dialogue_subtitles(s)]
        if not dialogue or not all(not_dialogue_subtitles(s) for s in eng):
            return select_subtitle_stream(info, "eng", option)
        return dialogue[0], (f"every text subtitle stream tagged 'eng' ({describe_subtitle_streams(info, eng)}) is "
                             f"{_NOT_DIALOGUE}; used subtitle stream {subs.index(dialogue[0])}, the first untagged "
                             f"text one (subtitle streams: {describe_subtitle_streams(info)}){how}")
    if not text:  # only pictures (PGS, DVD): no other stream of the file helps
        raise InputError(f"has no text subtitle stream: {BITMAP_ADVICE} (subtitle streams: "
                         f"{describe_subtitle_streams(info)})", info.path)
    if not untagged:
        raise InputError(f"has no usable English subtitle stream: none is a text stream tagged 'eng' or untagged "
                         f"(subtitle streams: {describe_subtitle_streams(info)}){how}", info.path)
    chosen = untagged[0]
    if len(subs) == 1:
        return chosen, None
    return chosen, (f"no text subtitle stream is tagged 'eng' (subtitle streams: {describe_subtitle_streams(info)}); "
                    f"used subtitle stream {subs.index(chosen)}, the first untagged text one{how}")


def subtitle_stream_choice(info: MediaInfo, chosen: StreamInfo, note: str | None) -> str:
    """``read subtitle stream 2: eng 'Full' (default)`` (index, language, title, flags), then ``; NOTE`` when
    there is one: which stream of ``info`` a command read, for its message on stderr."""
    return f"read subtitle stream {describe_subtitle_streams(info, [chosen])}" + (f"; {note}" if note else "")
