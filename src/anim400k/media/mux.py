"""Add an audio track to a video file, remuxing every original stream without re-encoding."""

from __future__ import annotations

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
    container; it is padded/trimmed to the input's duration so the output lasts as long as the
    input. The new track is tagged ``language`` (ISO 639-2) and ``title``; with ``default``
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
            mapping = {s.index: _copy_stream(dst, s, out, default) for s in src.streams}
            new = add_audio_stream(dst, "aac", sr, data.shape[0], parse_bitrate(bitrate))
            new.metadata["language"] = normalize_language(language) or language
            if title:
                new.metadata["title"] = title
            new.disposition = av.stream.Disposition.default if default else 0
            _remux(src, dst, mapping, new, data, sr)
    return out


def _remux(src: Any, dst: Any, mapping: dict[int, Any], new: Any, data: np.ndarray, sr: int) -> None:
    """Copy all packets of ``src``, interleaving the encoded new audio as time advances."""
    origin = container_origin(src)
    frames = audio_frames(data, sr, new.codec_context.layout.name, block=4096)
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
            encoded_until = (frame.pts + frame.samples) / sr
        packet.stream = mapping[packet.stream.index]
        dst.mux(packet)
    for frame in frames:
        dst.mux(new.encode(frame))
    dst.mux(new.encode(None))
