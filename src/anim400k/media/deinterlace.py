"""Deinterlacing of decoded pictures: DVD video, 1080i broadcast captures (FFmpeg's ``bwdif``).

An interlaced picture holds two fields taken 1/60 s apart, so anything moving is combed: every other
line shows it in another place. Clips and frame grabs are progressive pictures, and scaling an
interlaced one (480 -> 240 lines) blends the two fields into a ghost. The decoder flags such pictures
(``frame.interlaced_frame``); :func:`deinterlaced` passes them through ``bwdif`` (one picture out per
picture in, at the source's rate; progressive pictures pass unchanged).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

#: FFmpeg's filter: one frame per frame, field order from each frame, only frames flagged interlaced changed.
DEINTERLACER = ("bwdif", "mode=send_frame:parity=auto:deint=interlaced")


def _graph(frame: Any) -> Any:
    """A ``buffer -> bwdif -> buffersink`` graph for frames shaped as ``frame``."""
    import av

    graph = av.filter.Graph()
    src = graph.add_buffer(width=frame.width, height=frame.height, format=frame.format.name,
                           time_base=frame.time_base)
    filt = graph.add(*DEINTERLACER)
    sink = graph.add("buffersink")
    src.link_to(filt)
    filt.link_to(sink)
    graph.configure()
    return graph


def _pull(graph: Any) -> Iterator[Any]:
    """The frames the graph has ready."""
    import av

    while True:
        try:
            yield graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return


def _flush(graph: Any) -> Iterator[Any]:
    graph.push(None)
    yield from _pull(graph)


def deinterlaced(frames: Iterable[Any]) -> Iterator[Any]:
    """``frames`` (decoded video frames, in order) with those flagged interlaced deinterlaced, one out per one in.

    Frames pass untouched until one is flagged interlaced; from then on they go through ``bwdif``
    (:data:`DEINTERLACER`), which changes only the flagged ones and uses the pictures before and after.
    Each keyframe (and a change of size or pixel format) starts a new filter, so a picture depends only on
    the frames since the last keyframe: a decode that starts at a keyframe after a seek gives the same
    pictures as one from the start (clips are byte-identical for any number of workers).
    """
    graph: Any = None
    shape: tuple[int, int, str] | None = None
    for frame in frames:
        here = (frame.width, frame.height, frame.format.name)
        if graph is not None and (frame.key_frame or here != shape):
            yield from _flush(graph)
            graph = None
        if graph is None:
            if not frame.interlaced_frame:
                yield frame
                continue
            graph, shape = _graph(frame), here
        graph.push(frame)
        yield from _pull(graph)
    if graph is not None:
        yield from _flush(graph)
