"""Video frame helpers: the main video stream, its rate, decoded frames on the timeline, JPEG frame grabs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil.atomic import atomic_path
from .deinterlace import deinterlaced
from .probe import container_origin, open_input


def video_stream(container: Any, path: str | Path) -> Any:
    """The first video stream that is not an attached picture (cover art); an InputError if none."""
    streams = [s for s in container.streams.video if not _is_picture(s)]
    if not streams:
        raise InputError("has no video stream", path)
    return streams[0]


def _is_picture(stream: Any) -> bool:
    import av

    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def frame_rate(stream: Any) -> Fraction:
    """The stream's nominal rate (average, then guessed), 25 when unknown; a standard rate when within
    :data:`_SNAP` of one (an MP4's average rate, reckoned from its duration, is 23569/983 for 24000/1001: the clips
    were written at that)."""
    rate = Fraction(stream.average_rate or stream.guessed_rate or Fraction(25))
    near = min(_STANDARD_RATES, key=lambda r: abs(float(r) - float(rate)))
    return near if abs(float(near) - float(rate)) <= _SNAP * float(rate) else rate.limit_denominator(1001)


def frame_spans(container: Any, stream: Any) -> Iterator[tuple[Any, float, float]]:
    """Decode ``stream`` once, yielding ``(frame, shown_from, shown_until)`` on the container timeline.

    A frame is shown until the next one starts (variable frame rate safe); the last one for
    one nominal frame duration. Holds one decoded frame at a time (two or three for an interlaced source:
    pictures flagged interlaced come deinterlaced, :func:`anim400k.media.deinterlace.deinterlaced`).
    """
    origin = container_origin(container)
    step = 1.0 / float(frame_rate(stream))
    stream.thread_type = "AUTO"
    prev: Any = None
    prev_t = 0.0
    for frame in deinterlaced(container.decode(stream)):
        t = float(frame.time) - origin if frame.time is not None else prev_t + step
        if prev is not None:
            if t <= prev_t:  # duplicate/out-of-order timestamp: keep the newer picture
                prev = frame
                continue
            yield prev, prev_t, t
        prev, prev_t = frame, t
    if prev is not None:
        yield prev, prev_t, prev_t + step


def sample_aspect(stream: Any) -> Fraction:
    """The stream's sample (pixel) aspect ratio: 4:3 for a 1440x1080 frame shown 16:9; 1 when unset."""
    for sar in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if sar:  # None or 0/1: unknown, square
            return Fraction(sar)
    return Fraction(1)


#: A sample aspect ratio this close to 1:1 is taken as square pixels (a 1280x720 frame with SAR 1281:1280).
_SQUARE = Fraction(1, 100)


def even_size(
    width: int, height: int, target_width: int | None, target_height: int | None = None,
    sar: Fraction | int | None = None,
) -> tuple[int, int]:
    """Output size with even sides (H.264 yuv420p), scaled to ``target_width`` or ``target_height`` keeping
    the display aspect, in square pixels.

    ``sar`` is the source's sample aspect ratio (:func:`sample_aspect`): an anamorphic 1440x1080 frame
    with SAR 4:3 is shown 1920x1080, so it gives 1920x1080, and 640x360 at ``target_height=360``
    (a SAR within 1 % of 1:1 counts as square). An odd target is rounded down to even and the other side to the
    nearest even size at that aspect (640x360 at ``target_height=271``: 480x270). With both targets the size is
    theirs.
    """
    if sar and abs(Fraction(sar) - 1) > _SQUARE:
        width = round(width * Fraction(sar))  # the displayed width: square pixels
    if target_width and target_height:
        width, height = target_width, target_height
    elif target_width:  # the target side made even first, the other side from it (an odd target's own 1 px
        target_width = max(2, target_width - target_width % 2)  # stretched the aspect by 0.4 %: 271 -> 482x270)
        height = 2 * max(1, round(height * target_width / width / 2))
        width = target_width
    elif target_height:
        target_height = max(2, target_height - target_height % 2)
        width = 2 * max(1, round(width * target_height / height / 2))
        height = target_height
    return max(2, width - width % 2), max(2, height - height % 2)


def output_aspect(width: int, height: int, sar: Fraction, size: tuple[int, int]) -> Fraction | None:
    """The sample aspect ratio clips of ``size`` need to show a ``width`` x ``height`` source of sample
    aspect ``sar`` at its display aspect; None when that is square (within 1 %)."""
    out = Fraction(width * sar, height) / Fraction(size[0], size[1])
    return None if abs(out - 1) <= _SQUARE else out.limit_denominator(1000)


@dataclass(frozen=True)
class ClipColour:
    """The colour properties the clips are tagged with, and the conversion that gives them.

    ``colorspace``, ``primaries``, ``trc`` and ``color_range`` are FFmpeg's ``AVColorSpace``,
    ``AVColorPrimaries``, ``AVColorTransferCharacteristic`` and ``AVColorRange`` values; ``matrix`` is
    swscale's name of the YUV matrix, the source's, used on both sides of the conversion to yuv420p
    (so a 10-bit -> 8-bit or a scaling step keeps the source's matrix); ``src_range`` the source's range.
    """

    colorspace: int
    primaries: int
    trc: int
    color_range: int
    matrix: str
    src_range: int

    def picture(self, frame: Any, size: tuple[int, int]) -> Any:
        """``frame`` as yuv420p at ``size`` in these colour properties."""
        return frame.reformat(width=size[0], height=size[1], format="yuv420p", src_colorspace=self.matrix,
                              dst_colorspace=self.matrix, src_color_range=self.src_range,
                              dst_color_range=self.color_range)

    def tag(self, codec_context: Any) -> None:
        """Write the properties into an encoder's context (H.264 VUI, MP4 ``colr``)."""
        codec_context.colorspace = self.colorspace
        codec_context.color_primaries = self.primaries
        codec_context.color_trc = self.trc
        codec_context.color_range = self.color_range


# FFmpeg's enum values (libavutil/pixfmt.h)
_SPC_UNSPECIFIED, _SPC_SMPTE170M = 2, 6
_UNSPECIFIED = 2  # AVCOL_PRI_UNSPECIFIED, AVCOL_TRC_UNSPECIFIED
_NOT_STATED = (0, 2, 3)  # reserved, unspecified, reserved
_RANGE_UNSPECIFIED, _RANGE_MPEG, _RANGE_JPEG = 0, 1, 2
#: AVColorSpace -> (swscale's matrix, the primaries and transfer of that family, for untagged ones)
_MATRICES: dict[int, tuple[str, int, int]] = {
    1: ("ITU709", 1, 1),  # BT.709
    4: ("FCC", 4, 4),  # FCC (BT.470M)
    5: ("ITU601", 5, 6),  # BT.470BG (BT.601 625 lines)
    6: ("ITU601", 6, 6),  # SMPTE 170M (BT.601 525 lines)
    7: ("SMPTE240M", 7, 7),
    9: ("BT2020", 9, 14),  # BT.2020 non-constant luminance
}


def clip_colour(stream: Any) -> ClipColour:
    """The colour properties of clips cut from ``stream``: the source's where it states them.

    The source's matrix, primaries, transfer and range are copied (a BT.709 source gives BT.709
    clips: untagged, players read SD clips as BT.601 and shift their colours). What the source leaves
    unspecified is filled with what the conversion assumes: an untagged matrix (or an RGB source) is
    BT.601 (tagged SMPTE 170M), swscale's default, with which FFmpeg (PyAV, the frames stage's
    JPEGs) reads the untagged source at any size; untagged primaries and transfer are those of the
    source's matrix's family when it states one (BT.709: BT.709 primaries and transfer), else left
    unspecified; an untagged range is limited (full for ``yuvj*`` pixel formats; a full-range source
    stays full range; an RGB source is converted into limited range).
    """
    cc = stream.codec_context
    fmt = cc.format
    rgb = fmt is not None and (fmt.is_rgb or fmt.has_palette)
    tagged = int(cc.colorspace or _SPC_UNSPECIFIED)
    if rgb or tagged not in _MATRICES:
        matrix, primaries, trc, spc = "ITU601", _UNSPECIFIED, _UNSPECIFIED, _SPC_SMPTE170M
    else:
        (matrix, primaries, trc), spc = _MATRICES[tagged], tagged
    src_primaries, src_trc = int(cc.color_primaries or _UNSPECIFIED), int(cc.color_trc or _UNSPECIFIED)
    src_range = int(cc.color_range or _RANGE_UNSPECIFIED)
    if src_range == _RANGE_UNSPECIFIED and fmt is not None and fmt.name.startswith("yuvj"):
        src_range = _RANGE_JPEG
    if rgb:
        src_range, out_range = _RANGE_JPEG, _RANGE_MPEG
    else:
        out_range = _RANGE_JPEG if src_range == _RANGE_JPEG else _RANGE_MPEG
    return ClipColour(
        colorspace=spc,
        primaries=src_primaries if src_primaries not in _NOT_STATED else primaries,
        trc=src_trc if src_trc not in _NOT_STATED else trc,
        color_range=out_range,
        matrix=matrix,
        src_range=src_range if src_range in (_RANGE_MPEG, _RANGE_JPEG) else _RANGE_MPEG,
    )


#: The nominal rate may be this many times the rate the pictures come at before clips are cut at the latter.
VFR_RATIO = 1.5
#: Video packets whose timestamps are read to measure the rate (all of them when it is far below the nominal).
_RATE_SAMPLE = 600
#: a nominal rate this close (share) to a standard one is that one (:func:`frame_rate`)
_SNAP = 0.0005
#: Rates a measured one is snapped to when within 1 % of it.
_STANDARD_RATES = tuple(Fraction(r) for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50",
                                              "60000/1001", "60", "100", "120000/1001", "120"))


def clip_frame_rate(container: Any, stream: Any) -> Fraction:
    """The constant rate to cut clips of ``stream`` at: its nominal rate (:func:`frame_rate`), unless the
    nominal rate is more than :data:`VFR_RATIO` times the rate its pictures come at.

    A variable-frame-rate Matroska file states a "default duration" that FFmpeg takes as its average
    rate: Japanese TV encodes mixing 23.976 and 29.97 fps say 120 fps, and clips cut at it repeat every
    picture 4-5 times. The packets' timestamps are read (no decoding; the first :data:`_RATE_SAMPLE`,
    and all of them when their average rate is that far below the nominal one), and the clips are cut
    at the rate of the densest common spacing (the shortest 5 % of the frame durations, averaged),
    snapped to a standard rate within 1 % (29.97 fps for a 23.976/29.97 mix): every picture is kept,
    the slower parts repeat some. Reads ``container`` (seek it back before decoding).
    """
    nominal = frame_rate(stream)
    packets = container.demux(stream)
    pts: list[int] = []
    for packet in packets:
        t = packet.pts if packet.pts is not None else packet.dts
        if t is not None:
            pts.append(t)
            if len(pts) >= _RATE_SAMPLE:
                break
    tb = float(stream.time_base)

    def average(ts: list[int]) -> float:
        u = sorted(set(ts))
        return (len(u) - 1) / ((u[-1] - u[0]) * tb) if len(u) > 2 and u[-1] > u[0] else 0.0

    if not average(pts) or float(nominal) <= VFR_RATIO * average(pts):
        return nominal
    pts += [t for p in packets for t in (p.pts if p.pts is not None else p.dts,) if t is not None]
    import numpy as np

    durations = np.diff(np.unique(np.asarray(pts, dtype=np.int64))) * tb
    dense = float(durations[durations <= np.percentile(durations, 5) * 1.2].mean())
    measured = 1.0 / dense
    rate = min(_STANDARD_RATES, key=lambda r: abs(float(r) - measured))
    if abs(float(rate) - measured) > 0.01 * measured:
        rate = Fraction(measured).limit_denominator(1001)
    return min(rate, nominal)


def _display_image(frame: Any, sar: Fraction) -> Any:
    """``frame`` as a PIL image with square pixels: scaled to its display width (:func:`even_size`) where its
    sample aspect ``sar`` is not square, else at its own size."""
    if abs(sar - 1) <= _SQUARE:
        return frame.to_image()
    width, height = even_size(frame.width, frame.height, None, None, sar)
    return frame.to_image(width=width, height=height)


def extract_frames(
    path: str | Path,
    fps: float,
    out_path_for_index: Callable[[int], str | Path],
    quality: int = 90,
) -> list[tuple[int, float, Path]]:
    """Save the picture on screen at ``k / fps`` s (k = 0, 1, ...) as JPEG, in one decode pass.

    The JPEGs have square pixels at the display aspect, as the video clips (:func:`even_size`): an anamorphic
    720x480 DVD picture with SAR 32:27 (16:9) is saved 852x480, not squeezed into 720x480; interlaced
    pictures are deinterlaced (:func:`frame_spans`).
    ``out_path_for_index(k)`` names each file (written atomically with Pillow). Returns
    ``[(k, time, path), ...]`` covering the whole video.
    """
    if not 0 < fps < math.inf:  # nan: no frame; inf: k / fps stays 0, frames without end
        raise ValueError(f"fps must be a finite number > 0, got {fps}")
    results: list[tuple[int, float, Path]] = []
    with open_input(path) as container:
        stream = video_stream(container, path)
        sar = sample_aspect(stream)
        k = 0
        for frame, _shown, until in frame_spans(container, stream):
            image = None
            while k / fps < until:
                image = image or _display_image(frame, sar)
                target = Path(out_path_for_index(k))
                with atomic_path(target, sync=False) as tmp:  # media: not fsynced
                    image.save(tmp, format="JPEG", quality=quality)
                results.append((k, k / fps, target))
                k += 1
    if not results:
        raise InputError("video stream has no decodable frames", path)
    return results
