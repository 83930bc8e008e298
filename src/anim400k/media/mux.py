"""Add an audio track to a video file, remuxing every original stream without re-encoding."""

from __future__ import annotations

import itertools
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil.atomic import atomic_path
from ..fsutil.no_clobber import refuse_overwriting
from ..signal import fit_length, resample
from .audio import add_audio_stream, audio_frames, parse_bitrate
from .av_path import av_path
from .probe import _reason, container_origin, normalize_language, open_input, probe

log = logging.getLogger(__name__)

_LOOKAHEAD = 0.5  # s: keep the new audio this far ahead of the remuxed packets (interleaving)

#: FFmpeg's muxers of the QuickTime/ISO family (MP4, MOV, M4A ...): a track's title is its ``name``
#: atom (read back as the ``name`` tag) and players show its ``handler_name``
_MOV_FORMATS = frozenset({"mp4", "mov", "ipod", "3gp", "3g2", "psp", "ismv", "f4v"})
#: the new track's codec, by preference: AAC, else Opus (WebM and Ogg take no AAC), and the rates it takes
_DUB_CODECS: tuple[tuple[str, str, tuple[int, ...] | None], ...] = (
    ("aac", "AAC", None),
    ("libopus", "Opus", (48000, 24000, 16000, 12000, 8000)),
)
#: attached pictures written as Matroska attachments: codec -> (MIME type, file extension)
_PICTURE_TYPES = {"mjpeg": ("image/jpeg", "jpg"), "png": ("image/png", "png"), "gif": ("image/gif", "gif"),
                  "webp": ("image/webp", "webp"), "bmp": ("image/bmp", "bmp"), "tiff": ("image/tiff", "tif")}
_WEBM_HINT = " (WebM takes only VP8/VP9/AV1 video, Vorbis/Opus audio and WebVTT subtitles: use .mkv)"
_DISCARD_ALL = 48  # AVDISCARD_ALL
#: what FFmpeg's MPEG-TS muxer writes as a stream a player can read (its stream types): it accepts any codec
#: when the header is written, but one outside this list becomes an unreadable private data stream
_MPEGTS_CODECS = {
    "video": frozenset({"h264", "hevc", "mpeg1video", "mpeg2video", "mpeg4", "vc1", "av1", "cavs", "dirac", "vvc"}),
    "audio": frozenset({"aac", "aac_latm", "mp1", "mp2", "mp3", "ac3", "eac3", "dts", "truehd", "opus", "s302m"}),
    "subtitle": frozenset({"dvb_subtitle", "dvb_teletext", "arib_caption"}),
    "data": frozenset({"klv", "smpte_klv", "timed_id3"}),
}
_MPEGTS_HINT = (" (MPEG-TS carries H.264/HEVC/VVC/MPEG-1/2/4/VC-1/AV1 video, AAC/MP1/MP2/MP3/AC-3/E-AC-3/DTS/TrueHD/"
                "Opus audio and DVB/ARIB subtitles: use .mkv)")
#: what Blu-ray's MPEG-TS (``.m2ts``: FFmpeg's m2ts mode, which its muxer takes for that extension only; ``.mts``
#: was written as plain MPEG-TS, its LPCM a data stream no player reads) carries besides: its LPCM audio and PGS
#: subtitles, which no other container here takes (a Blu-ray source's LPCM was refused into every output, and the
#: advice named .mkv, which refuses it too)
_M2TS_EXTRA = {"audio": frozenset({"pcm_bluray"}), "subtitle": frozenset({"hdmv_pgs_subtitle"})}
_M2TS_SUFFIXES = (".m2ts",)


def _is_matroska(fmt: str) -> bool:
    return "matroska" in fmt.split(",")


def _is_mov(fmt: str) -> bool:
    return bool(_MOV_FORMATS.intersection(fmt.split(",")))


def _is_picture(s: Any) -> bool:
    """An attached picture (cover art): a video stream of one picture, flagged ``attached_pic``."""
    import av

    return s.type == "video" and bool(s.disposition & av.stream.Disposition.attached_pic)


def _is_chapter_track(s: Any) -> bool:
    """The text track in which QuickTime/MP4 store chapters (ffmpeg, HandBrake): a ``bin_data`` data stream
    that the demuxer reads as the file's chapters and discards (it yields no packets)."""
    return (s.type == "data" and getattr(s, "name", None) == "bin_data" and int(s.discard) >= _DISCARD_ALL
            and _is_mov(s.container.format.name))


def _codec_name(s: Any) -> str:
    cc = s.codec_context
    return (cc.name if cc is not None else None) or getattr(s, "name", None) or "?"


def _describe(s: Any) -> str:
    """``video h264``, ``attached picture mjpeg``, ``data bin_data``, ``attachment font.ttf``: for messages."""
    if _is_picture(s):
        return f"attached picture {_codec_name(s)}"
    return f"{s.type} {_codec_name(s)}"


def _copy_stream(out: Any, src: Any, path: Path, clear_default: bool) -> Any:
    """Add a stream copying ``src``'s codec parameters, metadata and disposition.

    A track title read from a QuickTime/MP4 input (its ``name`` tag) is written as the ``title``, which
    every muxer writes as the track's title (the MP4 muxer as the ``name`` atom; a ``name`` tag it drops).
    Into QuickTime/MP4 a titled stream without a ``handler_name`` gets its title there too (what most
    players show as the track's label); a copied handler name is kept.
    """
    import av

    try:
        dst = out.add_stream_from_template(src)
    except (av.FFmpegError, ValueError, NotImplementedError) as exc:
        fmt = out.format.name
        # PyAV names the encoder ('libx264') of a codec it refuses; the stream's codec is what the user knows
        why = f"'{fmt}' format does not support '{_codec_name(src)}' codec" \
            if "format does not support" in str(exc) else _reason(exc, writing=True)
        hint = _WEBM_HINT if fmt == "webm" else " (Blu-ray LPCM is carried only by .m2ts output)" \
            if _codec_name(src) == "pcm_bluray" else ""
        raise InputError(
            f"stream #{src.index} ({_describe(src)}) cannot be copied into {path.suffix or 'this'} output: "
            f"{why}{hint}",
            path,
        ) from exc
    meta = {k: v for k, v in (src.metadata or {}).items()
            if not k.upper().startswith(("DURATION", "NUMBER_OF", "_STATISTICS", "BPS"))}
    if _is_mov(src.container.format.name) and meta.get("name") and not meta.get("title"):
        meta["title"] = meta.pop("name")
    if _is_mov(out.format.name) and meta.get("title") and not meta.get("handler_name") and not _is_picture(src):
        meta["handler_name"] = meta["title"]
    for key, value in meta.items():
        dst.metadata[key] = value
    disp = src.disposition
    if clear_default and src.type == "audio":
        disp &= ~av.stream.Disposition.default
    dst.disposition = disp
    dst.time_base = src.time_base
    if src.type == "video" and not _is_picture(src):
        _keep_video_header(src, dst, out.format.name)
    return dst


def _keep_video_header(src: Any, dst: Any, out_format: str) -> None:
    """Keep what a copied video track's header says that the template copy loses (an outside tester, 2026-12-07):
    its frame rate (the Matroska demuxer gives the codec parameters the track's 1 kHz time base as the rate, which
    the muxer wrote as a 1 ms ``DefaultDuration``: a 25 fps H.264 track came out as 1000 fps) and, MP4 to MP4, its
    sample entry (``hvc1`` became ``hev1``, which Apple's players refuse)."""
    rate = src.average_rate
    if rate is not None and rate > 0:
        dst.codec_context.framerate = rate
    tag = src.codec_context.codec_tag if src.codec_context is not None else ""
    if tag and _is_mov(src.container.format.name) and _is_mov(out_format):
        dst.codec_context.codec_tag = tag


#: Container tags the muxer writes itself (not copied from the input).
_OWN_TAGS = ("ENCODER", "DURATION", "CREATION_TIME")


def _copy_container_info(src: Any, dst: Any) -> None:
    """Copy the file-level tags (title, comment, ...) and the chapters of ``src`` into ``dst``."""
    for key, value in (src.metadata or {}).items():
        if key.upper() not in _OWN_TAGS:
            dst.metadata[key] = value
    chapters = src.chapters()
    if chapters:
        dst.set_chapters(chapters)


@dataclass
class MuxPlan:
    """How the streams of an input go into an output of one format (:func:`plan_mux`)."""

    format: str  #: FFmpeg's name of the output format (``matroska``, ``mp4``, ``webm`` ...)
    codec: str  #: encoder of the new track (``aac``, or ``libopus`` where the container takes no AAC)
    rate: int  #: sample rate of the new track
    copy: list[int] = field(default_factory=list)  #: input streams copied as they are (MP4 covers too)
    attach: dict[int, tuple[str, str]] = field(default_factory=dict)  #: covers -> Matroska (file name, MIME)
    notes: list[str] = field(default_factory=list)  #: the input streams left out, and why


def _attachment_name(s: Any, taken: set[str]) -> tuple[str, str] | None:
    """(file name, MIME type) of the Matroska attachment that keeps the attached picture ``s``; None for a
    picture codec that Matroska does not show as a picture."""
    meta = s.metadata or {}
    mime, ext = _PICTURE_TYPES.get(_codec_name(s), (None, None))
    mime = meta.get("mimetype") or mime
    if mime is None:
        return None
    name = meta.get("filename") or f"cover.{ext or 'img'}"
    stem, dot, suffix = name.rpartition(".")
    k = 2
    while name in taken:  # two covers without file names: cover.jpg, cover-2.jpg
        name = f"{stem or suffix}-{k}{dot}{suffix if stem else ''}"
        k += 1
    taken.add(name)
    return name, mime


#: FFmpeg muxers that write a single audio stream (so no dub beside the source's track)
ONE_AUDIO_STREAM_FORMATS = frozenset({"wav", "w64", "flac", "mp3", "aiff", "au", "caf", "wv", "tta", "ac3", "eac3",
                                      "dts", "adts", "amr", "voc", "rf64"})


def plan_mux(src: Any, out: str | Path, channels: int = 1, sr: int = 48000) -> MuxPlan:
    """Which streams of the open input ``src`` an ``out`` of its extension's format keeps, and how.

    Headers only, on scratch outputs of that format in a temporary folder: the new track is AAC, or
    Opus at an Opus rate where the container takes no AAC (WebM, Ogg); every stream is copied, except
    that an attached picture (cover art) becomes an image attachment in Matroska, stays an attached
    picture in MP4 and is left out elsewhere (MOV, M4A, MPEG-TS and WebM cannot keep it), the
    QuickTime chapter track is left out (the chapters are copied as chapters) and so is a data stream
    (or a cover) that the output cannot hold; each left-out stream is a note. A stream that cannot be written
    otherwise raises :class:`InputError` naming it (index, type, codec).
    """
    import av

    out = Path(out)
    suffix = out.suffix or "this"
    with tempfile.TemporaryDirectory(prefix="anim400k-mux-") as tmpdir:
        counter = itertools.count()

        def scratch() -> Any:
            return av.open(str(Path(tmpdir) / f"check{next(counter)}{out.suffix}"), "w")

        try:
            first = scratch()
        except (av.FFmpegError, ValueError) as exc:
            raise InputError(f"cannot write a '{out.suffix or 'extension-less'}' video: {_reason(exc, writing=True)} "
                             "(use .mkv, .mp4 or .ts)", out) from exc
        with first:
            fmt = first.format.name
        has_video = any(st.type == "video" and not _is_picture(st) for st in src.streams)
        if fmt in ONE_AUDIO_STREAM_FORMATS and any(st.type == "audio" for st in src.streams):
            raise InputError(f"{suffix} output holds one audio stream, and the dub adds its track beside the "
                             f"source's: use {'.mkv or .mp4' if has_video else '.mkv, .mka or .mp4'}", out)
        if out.suffix.lower() == ".mka" and has_video:  # the muxer's own words blamed the video codec
            raise InputError(".mka output holds audio only and the source has a video stream: use .mkv (or .mp4)", out)
        codec, rate = _pick_codec(scratch, out, channels, sr)
        plan = MuxPlan(fmt, codec, rate)
        taken: set[str] = set()
        for s in src.streams:
            if _is_picture(s):
                name = _attachment_name(s, taken) if _is_matroska(fmt) else None
                if name is not None:
                    plan.attach[s.index] = name
                elif fmt == "mp4":
                    plan.copy.append(s.index)
                else:
                    plan.notes.append(f"stream #{s.index} ({_describe(s)}, cover art) is left out: {suffix} output "
                                      "cannot keep an attached picture (.mkv and .mp4 can)")
            elif _is_chapter_track(s):
                plan.notes.append(f"stream #{s.index} ({_describe(s)}), the MP4 chapter track, is not copied as a "
                                  "stream: its chapters are copied as chapters")
            elif fmt == "mpegts" and _codec_name(s) not in _MPEGTS_CODECS.get(s.type, frozenset()) | (
                    _M2TS_EXTRA.get(s.type, frozenset()) if suffix.lower() in _M2TS_SUFFIXES else frozenset()):
                if s.type in ("video", "audio"):
                    hint = (" (Blu-ray LPCM is carried only by .m2ts output)" if _codec_name(s) == "pcm_bluray"
                            else _MPEGTS_HINT)
                    raise InputError(f"stream #{s.index} ({_describe(s)}) cannot be written into {suffix} output"
                                     f"{hint}", out)
                plan.notes.append(f"stream #{s.index} ({_describe(s)}) is left out of {suffix} output: MPEG-TS "
                                  "would keep it only as an unreadable data stream")
            else:
                plan.copy.append(s.index)

        def header_error(indices: list[int], attach: bool = True) -> BaseException | None:
            """None when a scratch output with these streams (and the new track) writes its header."""
            with scratch() as dst:
                for i in indices:
                    _copy_stream(dst, src.streams[i], out, True)
                if attach:
                    for name, mime in plan.attach.values():
                        dst.add_attachment(name, mime, b"\0")
                add_audio_stream(dst, codec, rate, channels, parse_bitrate("192k"))
                try:
                    dst.start_encoding()
                except (av.FFmpegError, ValueError) as exc:
                    return exc
            return None

        for i in list(plan.copy):  # a data stream the container's codec list refuses: left out
            s = src.streams[i]
            if s.type != "data":
                continue
            try:
                with scratch() as dst:
                    _copy_stream(dst, s, out, True)
            except InputError as exc:
                plan.copy.remove(i)
                why = _reason(exc.__cause__, writing=True) if exc.__cause__ is not None else exc.problem
                plan.notes.append(f"stream #{i} ({_describe(s)}) is left out of {suffix} output: {why}")
        exc = header_error(plan.copy)  # another stream that the codec list refuses: InputError naming it
        if exc is None:
            return _note_hidden_start(src, fmt, suffix, plan)
        culprits = [(i, err) for i in plan.copy if (err := header_error([i], attach=False)) is not None]
        for i, err in culprits:  # a data stream or a cover that the muxer refuses is left out, another named
            s = src.streams[i]
            if s.type != "data" and not _is_picture(s):
                hint = _WEBM_HINT if fmt == "webm" else ""
                raise InputError(f"stream #{i} ({_describe(s)}) cannot be written into {suffix} output: "
                                 f"{_reason(err, writing=True)}{hint}", out) from err
            plan.copy.remove(i)
            plan.notes.append(f"stream #{i} ({_describe(s)}) is left out of {suffix} output: "
                              f"{_reason(err, writing=True)}")
        exc = header_error(plan.copy) if culprits else exc
        if exc is not None:
            hint = _WEBM_HINT if fmt == "webm" else ""
            raise InputError(f"the streams of {src.name} cannot be written as {suffix} output: "
                             f"{_reason(exc, writing=True)}{hint}", out) from exc
        return _note_hidden_start(src, fmt, suffix, plan)


#: packets of a video stream read at most to find where an MP4 edit list's hidden start ends
_EDIT_LIST_PACKETS = 600


def _note_hidden_start(src: Any, fmt: str, suffix: str, plan: MuxPlan) -> MuxPlan:
    """``plan`` with a note when ``src`` is an MP4 whose edit list hides the first frames of a copied video (its
    packets before time 0 flagged discard) and the output is no MP4/MOV: Matroska and MPEG-TS have no edit lists,
    so the hidden frames are shown there and every stream starts that much later (an outside tester, 2026-12-07:
    +0.52 s, a subtitle file for the input 0.52 s early, without a word). ``src`` is read from its start."""
    if _is_mov(fmt) or not _is_mov(src.format.name or ""):
        return plan
    videos = [src.streams[i] for i in plan.copy if src.streams[i].type == "video" and not _is_picture(src.streams[i])]
    if not videos:
        return plan
    hidden = 0.0
    for n, packet in enumerate(src.demux(videos[0])):
        if packet.pts is None or not packet.is_discard or packet.pts >= 0 or n > _EDIT_LIST_PACKETS:
            break
        hidden = max(hidden, -float(packet.pts * packet.time_base))
    if hidden > 0:
        plan.notes.append(f"the input's MP4 edit list hides its first {hidden:.2f} s of video, which {suffix} output "
                          f"cannot: there they are shown and every stream starts {hidden:.2f} s later (a subtitle "
                          "file for the input is that much early); dub into .mp4 to keep them hidden")
    return plan


def _pick_codec(scratch: Any, out: Path, channels: int, sr: int) -> tuple[str, int]:
    """The new track's encoder and rate: the first of :data:`_DUB_CODECS` whose track alone the format
    writes a header for (a format without a codec list, as Ogg, is asked by writing it)."""
    import av

    for name, _label, rates in _DUB_CODECS:
        rate = sr if rates is None or sr in rates else max(rates)
        with scratch() as dst:
            try:
                add_audio_stream(dst, name, rate, channels, parse_bitrate("192k"))
                dst.start_encoding()
            except (av.FFmpegError, ValueError, NotImplementedError):
                continue
        return name, rate
    labels = " nor ".join(label for _name, label, _rates in _DUB_CODECS)
    raise InputError(f"{out.suffix or 'this'} output cannot take the new audio track (neither {labels}): "
                     "use .mkv or .mp4", out)


def check_mux(video_in: str | Path, out: str | Path, channels: int = 1, sr: int = 48000) -> list[str]:
    """Refuse (:class:`InputError`) an ``out`` whose container cannot take the streams of ``video_in``.

    Cheap (headers only, :func:`plan_mux`): nothing is written next to ``out``. Returns the notes on the
    streams that the output leaves out (a cover in MOV, the MP4 chapter track, a data stream the
    container cannot hold), one line each. Call it before expensive work whose result goes to
    :func:`mux_audio_track`.
    """
    with open_input(video_in) as src:
        return plan_mux(src, out, channels, sr).notes


def mux_audio_track(
    video_in: str | Path,
    audio: np.ndarray,
    sr: int,
    out: str | Path,
    language: str = "eng",
    default: bool = True,
    title: str | None = None,
    bitrate: str | int = "192k",
    notes: list[str] | None = None,
) -> Path:
    """Write ``out``: every stream of ``video_in`` copied as-is plus ``audio`` as a new AAC (or Opus) track.

    ``audio`` is float32 ``(n,)`` or ``(channels, n)`` at ``sr`` with sample 0 = time 0 of the
    container (its start time: in a file that starts at 2.78 s, like many MPEG-TS, the new track's
    first sample is written at 2.78 s, beside the copied streams' own timestamps); it is trimmed to the
    input's duration, and zero-padded to it only when it falls more than :data:`PAD_SLACK_S` short: the duration
    of an MKV with AAC already holds the source track's last-frame padding, so padding a track as long as the
    source up to it put the new track a frame past the source's, and each dub of a dub one frame further (20.032,
    then 20.053 s for a 20.011 s source). The file's
    tags (title, comment ...) and chapters are copied too. The new track is tagged ``language``
    (ISO 639-2) and ``title`` (in MP4/MOV/M4A also its ``handler_name``); with ``default``
    it becomes the only default audio track. The output format follows ``out``'s extension
    (``.mkv`` keeps subtitles and fonts). Where the container takes no AAC (WebM, Ogg) the new
    track is Opus (at 48 kHz unless ``sr`` is an Opus rate). Cover art is kept (:func:`plan_mux`);
    the streams that ``out`` cannot keep are left out, each with a note appended to ``notes`` (logged
    as a warning when ``notes`` is None). Written atomically; returns ``out``.
    """
    import av

    refuse_overwriting({"the output": out}, {"video": video_in})
    info = probe(video_in)
    if info.duration is None:
        raise InputError("has no known duration to fit the new audio track to", video_in)
    data = np.asarray(audio, dtype=np.float32)
    data = data[None, :] if data.ndim == 1 else data
    length = _track_length(info.duration, data.shape[1], sr)  # the frames are trimmed or padded as they are made
    out = Path(out)
    with open_input(video_in) as src:
        plan = plan_mux(src, out, data.shape[0], sr)
    if plan.rate != sr:
        data = np.stack([resample(ch, sr, plan.rate, "soxr_hq") for ch in fit_length(data, length)])
        length = _track_length(info.duration, data.shape[1], plan.rate)
    pictures = _read_pictures(video_in, list(plan.attach)) if plan.attach else {}
    for i in [i for i in plan.attach if i not in pictures]:
        plan.notes.append(f"stream #{i} (attached picture) is left out: it holds no picture")
        del plan.attach[i]
    if notes is None:
        for note in plan.notes:
            log.warning("%s: %s", video_in, note)
    else:
        notes.extend(plan.notes)
    with open_input(video_in) as src, atomic_path(out, sync=False) as tmp:  # media: not fsynced
        with av.open(av_path(tmp), "w", options={"fflags": "+bitexact"}) as dst:
            _copy_container_info(src, dst)
            mapping = {i: _copy_stream(dst, src.streams[i], out, default) for i in plan.copy}
            new = add_audio_stream(dst, plan.codec, plan.rate, data.shape[0], parse_bitrate(bitrate))
            new.metadata["language"] = normalize_language(language) or language
            if title:
                new.metadata["title"] = title
                if _is_mov(plan.format):
                    new.metadata["handler_name"] = title  # what players show; the default is "SoundHandler"
            new.disposition = av.stream.Disposition.default if default else 0
            for i, (name, mime) in plan.attach.items():
                attachment = dst.add_attachment(name, mime, pictures[i])
                extra = src.streams[i].metadata or {}
                if extra.get("title"):  # the attachment's description
                    attachment.metadata["title"] = extra["title"]
            _remux(src, dst, mapping, new, data, plan.rate, length)
    return out


#: a new track this much shorter than the input (s) or less is left as long as it is (the input's duration may hold
#: its audio codec's last-frame padding: an AAC frame is 21.3 ms at 48 kHz); a shorter one is padded to the input's
PAD_SLACK_S = 0.05


def _track_length(duration: float, samples: int, sr: int) -> int:
    """Samples of the new track: ``samples`` trimmed to ``duration``, or padded to it when more than
    :data:`PAD_SLACK_S` short (:func:`mux_audio_track`)."""
    full = int(round(duration * sr))
    return full if samples < full - int(PAD_SLACK_S * sr) else min(samples, full)


def _read_pictures(video_in: str | Path, indices: list[int]) -> dict[int, bytes]:
    """The picture (the one packet) of each attached-picture stream in ``indices``.

    FFmpeg's demuxers hand out attached pictures before any other packet, so this reads only the
    first few packets.
    """
    found: dict[int, bytes] = {}
    with open_input(video_in) as src:
        for n, packet in enumerate(src.demux()):
            index = packet.stream.index
            if index in indices and packet.size and index not in found:
                found[index] = bytes(packet)
            timed = packet.dts is not None or packet.pts is not None
            if len(found) == len(indices) or (timed and index not in indices) or n > 1000:
                break
    return found


def _remux(src: Any, dst: Any, mapping: dict[int, Any], new: Any, data: np.ndarray, sr: int, length: int) -> None:
    """Copy all packets of ``src``, interleaving the encoded new audio as time advances.

    The copied packets keep their timestamps; the new audio's sample 0 is put at the container's
    start time (``origin``), where time 0 of :func:`decode_audio`'s timeline lies. An attached
    picture's one packet has no timestamps and is copied as it is (the MP4 muxer keeps it as the
    cover); other packets without timestamps are the demuxer's end-of-stream markers.
    """
    origin = container_origin(src)
    offset = int(round(origin * sr))  # the new track's first pts (1/sr)
    frames = audio_frames(data, sr, new.codec_context.layout.name, block=4096, first_pts=offset, length=length)
    encoded_until = 0.0
    for packet in src.demux():
        index = packet.stream.index
        if index not in mapping:
            continue
        stamp = packet.dts if packet.dts is not None else packet.pts
        if stamp is None:
            if packet.size and _is_picture(packet.stream):
                packet.stream = mapping[index]
                dst.mux(packet)
            continue
        t = float(stamp * packet.time_base) - origin
        while encoded_until < t + _LOOKAHEAD:
            frame = next(frames, None)
            if frame is None:
                encoded_until = float("inf")
                break
            dst.mux(new.encode(frame))
            encoded_until = (frame.pts - offset + frame.samples) / sr
        packet.stream = mapping[index]
        dst.mux(packet)
    for frame in frames:
        dst.mux(new.encode(frame))
    dst.mux(new.encode(None))
