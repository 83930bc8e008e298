"""Cut many MP4 clips from a video: pictures decoded once, pieces in parallel (frame helpers: :mod:`.frames`)."""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil.atomic import atomic_path
from .audio import _fit_length, add_audio_stream, decode_audio, encode_audio, parse_bitrate
from .av_path import av_path
from .frames import (
    ClipColour,
    clip_colour,
    clip_frame_rate,
    even_size,
    frame_spans,
    output_aspect,
    sample_aspect,
    video_stream,
)
from .probe import container_origin, open_input, probe

Interval = tuple[float, float]
AudioArg = tuple[np.ndarray, int] | str | int | None


@dataclass
class _ClipWriter:
    """One open MP4 (H.264 + optional AAC) being filled with grid-timed frames."""

    start: float
    n_frames: int
    stack: contextlib.ExitStack
    out: Any
    video: Any
    k: int = 0  # next frame number on the clip's grid
    done: bool = field(default=False)


def _open_clip(
    path: Path,
    interval: Interval,
    rate: Fraction,
    size: tuple[int, int],
    audio: tuple[np.ndarray, int] | None,
    options: dict[str, str],
    audio_bitrate: int | None,
    colour: ClipColour | None = None,
    sar: Fraction | None = None,
) -> _ClipWriter:
    import av

    start, end = interval
    stack = contextlib.ExitStack()
    try:  # the writer owns the temporary file from here on; until it exists, an error drops it here
        tmp = stack.enter_context(atomic_path(path, sync=False))  # media: not fsynced
        out = stack.enter_context(
            av.open(av_path(tmp), "w", format="mp4", options={"movflags": "+faststart", "fflags": "+bitexact"})
        )
        video = out.add_stream("libx264", rate=rate, options=options)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = 1 / rate
        if colour is not None:
            colour.tag(video.codec_context)
        if sar is not None:
            video.codec_context.sample_aspect_ratio = sar
        video.codec_context.thread_count = int(options.get("threads", "0"))
        if audio is not None:
            samples, sr = audio
            a, n = int(round(start * sr)), int(round(end * sr)) - int(round(start * sr))
            clip = _fit_length(samples[..., max(0, a) : max(0, a) + n], n)
            clip = clip[None, :] if clip.ndim == 1 else clip
            astream = add_audio_stream(out, "aac", sr, clip.shape[0], audio_bitrate)
            encode_audio(out, astream, clip)
    except BaseException:
        # a full disk (or a bad option) while the clip is opened: av.open or the audio failed after the temporary
        # file was made, and nothing closed the stack, so an empty .part file stayed in the release
        stack.__exit__(*sys.exc_info())
        raise
    n_frames = max(1, int(round((end - start) * rate)))
    return _ClipWriter(start=start, n_frames=n_frames, stack=stack, out=out, video=video)


def _emit(writer: _ClipWriter, picture: Any, until: float, rate: Fraction) -> None:
    """Encode ``picture`` for every grid point of the clip before ``until`` (s).

    Grid point ``k`` is at ``start + k * den / num`` s: integer true division, correctly rounded,
    so the same float as ``float(k / rate)`` without building a Fraction per frame.
    """
    num, den = rate.numerator, rate.denominator
    time_base = None
    while writer.k < writer.n_frames and writer.start + writer.k * den / num < until:
        picture.pts = writer.k
        if time_base is None:
            time_base = picture.time_base = Fraction(den, num)
        writer.out.mux(writer.video.encode(picture))
        writer.k += 1


def _finish(writer: _ClipWriter) -> None:
    writer.out.mux(writer.video.encode(None))
    writer.done = True
    writer.stack.close()  # closes the container, then renames the temporary file into place


def _resolve_audio(path: str | Path, audio: AudioArg) -> tuple[np.ndarray, int] | None:
    """``audio`` as an array pair; a stream selector is decoded once (48 kHz, stereo at most)."""
    if audio is None or isinstance(audio, tuple):
        return audio
    samples = decode_audio(path, audio, sr=48000, mono=False)
    if samples.shape[0] > 2:
        samples = decode_audio(path, audio, sr=48000, mono=True)
    return samples, 48000


@dataclass
class _Job:
    """What every piece of one ``cut_video_clips`` call shares."""

    path: str | Path
    intervals: Sequence[Interval]
    out_paths: Sequence[str | Path]
    rate: Fraction
    size: tuple[int, int]
    pcm: tuple[np.ndarray, int] | None
    options: dict[str, str]
    bitrate: int | None
    decoder_threads: int
    colour: ClipColour | None = None
    sar: Fraction | None = None  # the clips' sample aspect ratio when not square (both width and height given)
    stop: threading.Event = field(default_factory=threading.Event)
    on_clip: Callable[[Path], None] | None = None  # told each clip's path once it is written


@dataclass
class _Cutter:
    """The clips ``clips`` (indices into ``job``) of one video, opened lazily as the decode pass reaches them."""

    job: _Job
    clips: list[int]
    writers: dict[int, _ClipWriter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pending = sorted(self.clips, key=lambda i: self.job.intervals[i][0])
        self.pending.reverse()  # pop() gives the earliest start

    def open_until(self, until: float) -> None:
        """Open every clip that starts before ``until``."""
        job = self.job
        while self.pending and job.intervals[self.pending[-1]][0] < until:
            i = self.pending.pop()
            self.writers[i] = _open_clip(
                Path(job.out_paths[i]), job.intervals[i], job.rate, job.size, job.pcm, job.options, job.bitrate,
                job.colour, job.sar,
            )

    def feed(self, frame: Any, until: float) -> None:
        """Give every active clip the picture ``frame`` for its grid points before ``until``."""
        picture = None
        for i, writer in list(self.writers.items()):
            picture = picture or _picture(frame, self.job.size, self.job.colour)
            _emit(writer, picture, until, self.job.rate)
            if writer.k >= writer.n_frames:
                _finish(writer)
                del self.writers[i]  # drop the finished encoder now: x264 keeps its buffers while referenced
                if self.job.on_clip is not None:
                    self.job.on_clip(Path(self.job.out_paths[i]))

    @property
    def complete(self) -> bool:
        return not self.pending and not self.writers

    def abort(self) -> None:
        """Drop every unfinished clip's temporary file."""
        for writer in self.writers.values():
            if not writer.done:
                writer.done = True
                writer.stack.__exit__(RuntimeError, RuntimeError("aborted"), None)


def x264_cpu_options() -> dict[str, str]:
    """libx264 options that keep the clips' bytes reproducible on this CPU (``x264-params``, see
    :func:`x264_asm_params`; an empty dict where x264 may pick its own assembly)."""
    params = x264_asm_params()
    return {"x264-params": ":".join(params)} if params else {}


def x264_asm_params() -> list[str]:
    """x264 ``key=value`` parameters that keep its output reproducible on this CPU.

    On CPUs with AVX-512 (Intel Xeon Skylake-SP and later) x264's AVX-512 code wrote different bytes for
    the same pictures from one run to the next (seen with PyAV 18.1's x264 core 165: 1 run in 12 of a
    7-clip cut, and always between a build that cut video beside the MP3 encoders and one that did not;
    the decoded pictures were the same). There x264's assembly is capped at AVX2, which wrote the same
    bytes in every run (24 of 24); elsewhere x264 picks its own (an empty list).
    """
    return ["asm=AVX2"] if _has_avx512() else []


@functools.cache
def _has_avx512() -> bool:
    """True when the CPU has the AVX-512 subsets x264 uses (F, CD, BW, DQ, VL; NumPy's CPU detection, read once)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return False
    return all(features.get(f"AVX512{x}", False) for x in ("F", "CD", "BW", "DQ", "VL"))


def default_workers() -> int:
    """Clip-encoding threads by default: the threads this task may use (:func:`anim400k.threads.task_threads`:
    the CPUs this process may use, or its share in a build's pool), at most 4 (memory: ~1 x264 each)."""
    from ..threads import task_threads

    return task_threads(4)


def plan_pieces(intervals: Sequence[Interval], workers: int, gap: float = 8.0) -> list[list[int]]:
    """Group clip indices into pieces that are each cut by one seek and one decode run, in time order.

    Overlapping clips stay in one piece (they share decoded pictures). A new piece starts
    where the next clip begins more than ``gap`` s after the previous ones end (seeking to
    it is cheaper than decoding the gap) and, with ``workers > 1``, once a piece holds about
    ``1 / (3 * workers)`` of all clip seconds (pieces are handed to the workers in order,
    so a few per worker balance the load).
    """
    order = sorted(range(len(intervals)), key=lambda i: (intervals[i][0], intervals[i][1]))
    total = sum(e - s for s, e in intervals)
    target = total / (3 * workers) if workers > 1 else float("inf")
    pieces: list[list[int]] = []
    end = seconds = 0.0
    for i in order:
        s, e = intervals[i]
        overlaps = bool(pieces) and s < end
        if not pieces or (not overlaps and (s - end > gap or seconds >= target)):
            pieces.append([])
            end = seconds = 0.0
        pieces[-1].append(i)
        end, seconds = max(end, e), seconds + (e - s)
    return pieces


class _Stop(Exception):
    """Another piece failed: stop this one."""


def _open_at(job: _Job, start: float | None) -> tuple[Any, Any, Any, Iterator[tuple[Any, float, float]]]:
    """Open the video, seek to the keyframe at or before ``start`` (None: from the beginning)."""
    stack = contextlib.ExitStack()
    container = stack.enter_context(open_input(job.path))
    try:
        stream = video_stream(container, job.path)
        stream.codec_context.thread_count = job.decoder_threads
        if start is not None:
            origin = container_origin(container)
            container.seek(max(0, int((start + origin) / stream.time_base)), stream=stream, backward=True)
        return stack, container, stream, frame_spans(container, stream)
    except BaseException:
        stack.close()
        raise


def _first_span(job: _Job, start: float) -> tuple[Any, Iterator[tuple[Any, float, float]], Any]:
    """A frame iterator whose first frame is on screen at or before ``start`` (seeks if worth it).

    Seeking relies on the container's index; when the first frame after a seek comes later
    than ``start`` (imprecise index), it seeks 10 s earlier, then decodes from the beginning.
    """
    tries: list[float | None] = [start, start - 10.0] if start > 1.0 else []
    for seek_to in [*tries, None]:
        stack, _container, _stream, spans = _open_at(job, None if seek_to is None else max(0.0, seek_to))
        first = next(spans, None)
        if first is not None and (seek_to is None or first[1] <= start + 1e-6):
            return stack, spans, first
        stack.close()
    raise InputError("video stream has no decodable frames", job.path)


def _cut_piece(job: _Job, clips: list[int]) -> None:
    """Cut the clips of one piece: one seek, one decode run, one x264 encoder per active clip."""
    if job.stop.is_set():
        return
    cutter = _Cutter(job, clips)
    stack, spans, first = _first_span(job, min(job.intervals[i][0] for i in clips))
    try:
        with stack:
            last = None
            for frame, _shown, until in _chain(first, spans):
                if job.stop.is_set():
                    raise _Stop
                cutter.open_until(until)
                cutter.feed(frame, until)
                last = frame
                if cutter.complete:
                    break
            cutter.open_until(float("inf"))
            cutter.feed(last, float("inf"))
    except BaseException:
        cutter.abort()
        raise


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


#: x264's presets, fastest first (``cut_video_clips(preset=)``, ``anim400k build --video-preset``)
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def cut_video_clips(
    path: str | Path,
    intervals: Sequence[Interval],
    out_paths: Sequence[str | Path],
    audio: AudioArg = None,
    width: int | None = None,
    *,
    height: int | None = None,
    crf: int = 23,
    preset: str = "fast",
    audio_bitrate: str | int = "128k",
    workers: int | None = None,
    on_clip: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Cut every ``(start, end)`` interval of ``path``'s video into an MP4 (``on_clip`` is called with each
    clip's path once it is written, from the cutting threads).

    Each clip is H.264 (libx264, yuv420p, even size; ``width`` or ``height`` if given; square
    pixels at the source's display aspect, so an anamorphic 1440x1080 SAR 4:3 source gives
    1920x1080 or 640x360: :func:`~anim400k.media.frames.even_size`), tagged with the source's colour
    properties (:func:`~anim400k.media.frames.clip_colour`), at the source's nominal frame rate
    (:func:`~anim400k.media.frames.clip_frame_rate`: the rate its pictures come at when the nominal
    one is far above it) on a constant grid: frame ``k`` shows the source picture on screen at
    ``start + k/fps``, so its length is within half a frame of ``end - start`` (VFR sources come
    out constant-rate). Intervals may overlap and come in
    any order. The clips are grouped into pieces (:func:`plan_pieces`); ``workers`` threads
    (default :func:`default_workers`) each take the next piece, seek to its first keyframe,
    decode it once (a picture is scaled once and shared by every clip it belongs to) and
    feed one single-threaded x264 encoder per active clip. Single-threaded x264 makes the
    output byte-identical for any ``workers`` and run to run, with x264's default MB-tree
    rate control. A clip reaching past the end of the video holds the last picture.
    ``audio`` is ``(samples, sr)`` (sample 0 = time 0, as :func:`decode_audio` returns) or a
    stream selector decoded once; each clip then carries that slice as AAC. Returns the
    written paths (atomic writes; on an error no partial clip is left).
    """
    if len(intervals) != len(out_paths):
        raise ValueError(f"{len(intervals)} intervals but {len(out_paths)} output paths")
    for (s, e), p in zip(intervals, out_paths, strict=True):
        if not 0 <= s < e:
            raise ValueError(f"clip {p}: bad interval ({s}, {e})")
    if preset not in X264_PRESETS:
        raise ValueError(f"unknown x264 preset {preset!r} (use one of {', '.join(X264_PRESETS)})")
    if not intervals:
        return []
    probe(path)  # one clear error for missing/non-media input
    pcm = _resolve_audio(path, audio)
    workers = max(1, workers or default_workers())
    with open_input(path) as container:
        stream = video_stream(container, path)
        cc = stream.codec_context
        sar = sample_aspect(stream)
        size = even_size(cc.width, cc.height, width, height, sar=sar)
        out_sar = output_aspect(cc.width, cc.height, sar, size)
        colour = clip_colour(stream)
        rate = clip_frame_rate(container, stream)
    job = _Job(
        path,
        intervals,
        out_paths,
        rate,
        size,
        pcm,
        {"preset": preset, "crf": str(crf), "threads": "1", **x264_cpu_options()},
        parse_bitrate(audio_bitrate),
        decoder_threads=0 if workers == 1 else 1,
        colour=colour,
        sar=out_sar,
        on_clip=on_clip,
    )
    pieces = plan_pieces(intervals, workers)
    if workers == 1 or len(pieces) == 1:
        for piece in pieces:
            _cut_piece(job, piece)
        return [Path(p) for p in out_paths]
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=min(workers, len(pieces)), thread_name_prefix="cut") as pool:
        futures = [pool.submit(_cut_piece, job, piece) for piece in pieces]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
        finally:
            job.stop.set()  # after an error or an interrupt, running pieces stop at their next frame
    errors = [f.exception() for f in futures if f.done() and f.exception() and not isinstance(f.exception(), _Stop)]
    if errors:
        raise errors[0]  # type: ignore[misc]
    return [Path(p) for p in out_paths]


def _picture(frame: Any, size: tuple[int, int], colour: ClipColour | None = None) -> Any:
    """The decoded frame as yuv420p at ``size`` (in ``colour``'s properties), with no forced picture type."""
    picture = (colour.picture(frame, size) if colour is not None
               else frame.reformat(width=size[0], height=size[1], format="yuv420p"))
    picture.pict_type = 0  # let x264 choose I/P/B: decoded types would force keyframes
    return picture
