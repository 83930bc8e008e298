"""Video frame helpers: the main video stream, its rate, decoded frames on the timeline, JPEG frame grabs."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import atomic_path
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
    """The stream's nominal rate (average, then guessed), 25 when unknown."""
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    return Fraction(rate).limit_denominator(1001)


def frame_spans(container: Any, stream: Any) -> Iterator[tuple[Any, float, float]]:
    """Decode ``stream`` once, yielding ``(frame, shown_from, shown_until)`` on the container timeline.

    A frame is shown until the next one starts (variable frame rate safe); the last one for
    one nominal frame duration. Holds one decoded frame at a time.
    """
    origin = container_origin(container)
    step = 1.0 / float(frame_rate(stream))
    stream.thread_type = "AUTO"
    prev: Any = None
    prev_t = 0.0
    for frame in container.decode(stream):
        t = float(frame.time) - origin if frame.time is not None else prev_t + step
        if prev is not None:
            if t <= prev_t:  # duplicate/out-of-order timestamp: keep the newer picture
                prev = frame
                continue
            yield prev, prev_t, t
        prev, prev_t = frame, t
    if prev is not None:
        yield prev, prev_t, prev_t + step


def even_size(
    width: int, height: int, target_width: int | None, target_height: int | None = None
) -> tuple[int, int]:
    """Output size with even sides (H.264 yuv420p), scaled to ``target_width`` or ``target_height`` keeping aspect."""
    if target_width and target_height:
        width, height = target_width, target_height
    elif target_width:
        height = round(height * target_width / width)
        width = target_width
    elif target_height:
        width = round(width * target_height / height)
        height = target_height
    return max(2, width - width % 2), max(2, height - height % 2)


def extract_frames(
    path: str | Path,
    fps: float,
    out_path_for_index: Callable[[int], str | Path],
    quality: int = 90,
) -> list[tuple[int, float, Path]]:
    """Save the picture on screen at ``k / fps`` s (k = 0, 1, ...) as JPEG, in one decode pass.

    ``out_path_for_index(k)`` names each file (written atomically with Pillow). Returns
    ``[(k, time, path), ...]`` covering the whole video.
    """
    if not 0 < fps < math.inf:  # nan: no frame; inf: k / fps stays 0, frames without end
        raise ValueError(f"fps must be a finite number > 0, got {fps}")
    results: list[tuple[int, float, Path]] = []
    with open_input(path) as container:
        stream = video_stream(container, path)
        k = 0
        for frame, _shown, until in frame_spans(container, stream):
            image = None
            while k / fps < until:
                image = image or frame.to_image()
                target = Path(out_path_for_index(k))
                with atomic_path(target) as tmp:
                    image.save(tmp, format="JPEG", quality=quality)
                results.append((k, k / fps, target))
                k += 1
    if not results:
        raise InputError("video stream has no decodable frames", path)
    return results
