"""Add an audio track to a video file, remuxing every original stream without re-encoding."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil import atomic_path, refuse_overwriting
from ..signal import fit_length
from .audio import add_audio_stream, audio_frames, parse_bitrate
from .probe import _reason, container_origin, normalize_language, open_input, probe

_LOOKAHEAD = 0.5  # s: keep the new audio this far ahead of the remuxed packets (interleaving)


def _copy_stream(out: Any, src: Any, path: Path, clear_default: bool) -> Any:
    """Add a stream copying ``src``'s codec parameters, metadata and disposition."""
    import av

    try:
        dst = out.add_stream_from_template(src)
    except (av.FFmpegError, ValueError, NotImplementedError) as exc:
        raise InputError(
            f"stream #{src.index} ({src.type} {src.codec_context.name if src.codec_context else '?'}) "
            f"cannot be copied into {path.suffix or 'this'} output: {_reason(exc)}",
            path,
        ) from exc
    for key, value in (src.metadata or {}).items():
        if not key.upper().startswith(("DURATION", "NUMBER_OF", "_STATISTICS", "BPS")):
            dst.metadata[key] = value
    disp = src.disposition
    if clear_default and src.type == "audio":
        disp &= ~av.stream.Disposition.default
    dst.disposition = disp
    dst.time_base = src.time_base
    return dst


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


def check_mux(video_in: str | Path, out: str | Path, channels: int = 1, sr: int = 48000) -> None:
    """Refuse (:class:`InputError`) an ``out`` whose container cannot take every stream of ``video_in``.

    Cheap (headers only): the streams and a new AAC track of ``channels`` at ``sr`` are added to a
    scratch output of ``out``'s format in a temporary folder and its header is written; nothing is
    written next to ``out``. Call it before expensive work whose result goes to :func:`mux_audio_track`.
    """
    import av

    out = Path(out)
    with open_input(video_in) as src, tempfile.TemporaryDirectory(prefix="anim400k-mux-") as tmpdir:
        scratch = Path(tmpdir) / f"check{out.suffix}"
        try:
            dst = av.open(str(scratch), "w")
        except (av.FFmpegError, ValueError) as exc:
            raise InputError(f"cannot write a '{out.suffix or 'extension-less'}' video: {_reason(exc)} "
                             "(use .mkv, .mp4 or .ts)", out) from exc
        with dst:
            for s in src.streams:
                _copy_stream(dst, s, out, True)
            add_audio_stream(dst, "aac", sr, channels, parse_bitrate("192k"))
            try:
                dst.start_encoding()
            except (av.FFmpegError, ValueError) as exc:
                raise InputError(f"the streams of {video_in} cannot be written as {out.suffix or 'this'} "
                                 f"output: {_reason(exc)}", out) from exc


def mux_audio_track(
    video_in: str | Path,
    audio: np.ndarray,
    sr: int,
    out: str | Path,
    language: str = "eng",
    default: bool = True,
    title: str | None = None,
    bitrate: str | int = "192k",
) -> Path:
    """Write ``out``: every stream of ``video_in`` copied as-is plus ``audio`` as a new AAC track.

    ``audio`` is float32 ``(n,)`` or ``(channels, n)`` at ``sr`` with sample 0 = time 0 of the
    container (its start time: in a file that starts at 2.78 s, like many MPEG-TS, the new track's
    first sample is written at 2.78 s, beside the copied streams' own timestamps); it is
    padded/trimmed to the input's duration so the output lasts as long as the input. The file's
    tags (title, comment ...) and chapters are copied too. The new track is tagged ``language``
    (ISO 639-2) and ``title``; with ``default``
    it becomes the only default audio track. The output format follows ``out``'s extension
    (``.mkv`` keeps subtitles and fonts). Written atomically; returns ``out``.
    """
    import av

    refuse_overwriting({"the output": out}, {"video": video_in})
    info = probe(video_in)
    if info.duration is None:
        raise InputError("has no known duration to fit the new audio track to", video_in)
    data = np.asarray(audio, dtype=np.float32)
    data = data[None, :] if data.ndim == 1 else data
    data = fit_length(data, int(round(info.duration * sr)))
    out = Path(out)
    with open_input(video_in) as src, atomic_path(out) as tmp:
        with av.open(str(tmp), "w", options={"fflags": "+bitexact"}) as dst:
            _copy_container_info(src, dst)
            mapping = {s.index: _copy_stream(dst, s, out, default) for s in src.streams}
            new = add_audio_stream(dst, "aac", sr, data.shape[0], parse_bitrate(bitrate))
            new.metadata["language"] = normalize_language(language) or language
            if title:
                new.metadata["title"] = title
            new.disposition = av.stream.Disposition.default if default else 0
            _remux(src, dst, mapping, new, data, sr)
    return out


def _remux(src: Any, dst: Any, mapping: dict[int, Any], new: Any, data: np.ndarray, sr: int) -> None:
    """Copy all packets of ``src``, interleaving the encoded new audio as time advances.

    The copied packets keep their timestamps; the new audio's sample 0 is put at the container's
    start time (``origin``), where time 0 of :func:`decode_audio`'s timeline lies.
    """
    origin = container_origin(src)
    offset = int(round(origin * sr))  # the new track's first pts (1/sr)
    frames = audio_frames(data, sr, new.codec_context.layout.name, block=4096, first_pts=offset)
    encoded_until = 0.0
    for packet in src.demux():
        stamp = packet.dts if packet.dts is not None else packet.pts
        if stamp is None or packet.stream.index not in mapping:  # demuxer's end-of-stream marker
            continue
        t = float(stamp * packet.time_base) - origin
        while encoded_until < t + _LOOKAHEAD:
            frame = next(frames, None)
            if frame is None:
                encoded_until = float("inf")
                break
            dst.mux(new.encode(frame))
            encoded_until = (frame.pts - offset + frame.samples) / sr
        packet.stream = mapping[packet.stream.index]
        dst.mux(packet)
    for frame in frames:
        dst.mux(new.encode(frame))
    dst.mux(new.encode(None))
