"""Benchmark: the one-pass clip cutter (anim400k.media) vs one FFmpeg process per clip.

Makes a ~2-minute test episode (H.264 320x180 24 fps + stereo AAC 48 kHz) with PyAV, picks
~40 speech-like clips (1-4 s, some overlapping), and times

* audio clips (MP3 128k): ours = decode the track once + ``cut_audio_clips``;
  baseline = ``ffmpeg -ss S -to E -i SRC -vn -c:a libmp3lame -b:a 128k`` per clip;
* video clips (MP4 H.264 fast/crf 23 + AAC): ours = decode the audio once +
  ``cut_video_clips`` (one decode pass of the video); baseline = ``ffmpeg -ss S -to E -i SRC
  -c:v libx264 -preset fast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k`` per clip,

using the FFmpeg binary of ``imageio_ffmpeg``. Prints both times, the ratio baseline/ours
and the worst clip-duration error of each method. Usage::

    python benchmarks/bench_cut.py [--duration 120] [--clips 40] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from anim400k import media


def make_source(path: Path, duration: float, fps: int = 24, sr: int = 48000) -> Path:
    """A moving test pattern with a stereo two-tone soundtrack."""
    w, h = 320, 180
    yy, xx = np.mgrid[0:h, 0:w]
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "23"})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        as_ = out.add_stream("aac", rate=sr, layout="stereo")
        n_frames = int(duration * fps)
        block = sr // fps
        for i in range(n_frames):
            img = np.empty((h, w, 3), np.uint8)
            img[..., 0] = (xx + i * 4) % 256
            img[..., 1] = (yy * 2 + i) % 256
            img[..., 2] = (i * 3) % 256
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(vs.encode(frame))
            t = (np.arange(block) + i * block) / sr
            tone = 0.2 * np.sin(2 * np.pi * (220 + 20 * (i // fps % 10)) * t)
            pcm = np.stack([tone, 0.5 * tone]).astype(np.float32)
            af = av.AudioFrame.from_ndarray(pcm, format="fltp", layout="stereo")
            af.sample_rate, af.pts, af.time_base = sr, i * block, Fraction(1, sr)
            out.mux(as_.encode(af))
        out.mux(vs.encode(None))
        out.mux(as_.encode(None))
    return path


def pick_clips(duration: float, n: int, seed: int = 0) -> list[tuple[float, float]]:
    """``n`` clips of 1-4 s spread over the episode (about one in five overlaps its neighbour)."""
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.uniform(0.5, duration - 5.0, n))
    return [(round(float(s), 3), round(float(s + rng.uniform(1.0, 4.0)), 3)) for s in starts]


def ffmpeg_per_clip(
    src: Path, clips: list[tuple[float, float]], outs: list[Path], codec_args: list[str]
) -> None:
    """The baseline: one FFmpeg invocation per clip with input seeking and re-encoding."""
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    for (s, e), out in zip(clips, outs, strict=True):
        cmd = [exe, "-v", "error", "-y", "-ss", f"{s:.3f}", "-to", f"{e:.3f}", "-i", str(src)]
        subprocess.run([*cmd, *codec_args, str(out)], check=True)


def worst_error(clips: list[tuple[float, float]], outs: list[Path]) -> float:
    """Largest |decoded duration - requested duration| over the clips (seconds)."""
    errs = []
    for (s, e), out in zip(clips, outs, strict=True):
        errs.append(abs((media.probe(out).duration or 0.0) - (e - s)))
    return max(errs)


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children (all threads)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args) -> tuple[float, float]:  # noqa: ANN001
    """(wall seconds, CPU seconds) of ``fn(*args)``."""
    t, c = time.perf_counter(), _cpu()
    fn(*args)
    return time.perf_counter() - t, _cpu() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_cut_"))
    work.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    src = make_source(work / "episode.mkv", args.duration)
    clips = pick_clips(args.duration, args.clips)
    print(
        f"source: {args.duration:.0f} s H.264 320x180 + AAC stereo, made in {time.perf_counter() - t:.1f} s; "
        f"{len(clips)} clips, {sum(e - s for s, e in clips):.0f} s in all"
    )

    def ours_audio(outs: list[Path]) -> None:
        pcm = media.decode_audio(src, 0, sr=48000, mono=False)
        media.cut_audio_clips(pcm, 48000, clips, outs, bitrate="128k")

    def ours_video(outs: list[Path]) -> None:
        pcm = media.decode_audio(src, 0, sr=48000, mono=False)
        media.cut_video_clips(src, clips, outs, audio=(pcm, 48000), crf=23, preset="fast")

    audio_args = ["-vn", "-c:a", "libmp3lame", "-b:a", "128k"]
    video_args = [
        "-c:v",
        "libx264",
        "-preset",
        "fast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
    ]
    rows = []
    for kind, ext, ours, base_args in (
        ("audio", "mp3", ours_audio, audio_args),
        ("video", "mp4", ours_video, video_args),
    ):
        outs_ours = [work / f"ours_{kind}_{i:02d}.{ext}" for i in range(len(clips))]
        outs_base = [work / f"ffmpeg_{kind}_{i:02d}.{ext}" for i in range(len(clips))]
        t_ours = timed(ours, outs_ours)
        t_base = timed(ffmpeg_per_clip, src, clips, outs_base, base_args)
        rows.append((kind, ext, t_ours, t_base, worst_error(clips, outs_ours), worst_error(clips, outs_base)))

    print(
        f"{'clips':<14}{'wall ours/ffmpeg (s)':>22}{'ratio':>8}{'CPU ours/ffmpeg (s)':>22}{'ratio':>8}"
        f"{'max dur err ours/ffmpeg (ms)':>31}"
    )
    for kind, ext, (w_ours, c_ours), (w_base, c_base), e_ours, e_base in rows:
        print(
            f"{kind + ' (' + ext + ')':<14}{w_ours:>11.2f} / {w_base:<8.2f}{w_base / w_ours:>7.1f}x"
            f"{c_ours:>11.2f} / {c_base:<8.2f}{c_base / c_ours:>7.1f}x"
            f"{e_ours * 1000:>19.0f} / {e_base * 1000:.0f}"
        )
    for kind, _ext, (w_ours, c_ours), (w_base, c_base), _a, _b in rows:
        print(
            f"{kind}: one-pass cutter vs ffmpeg-per-clip: {w_base / w_ours:.1f}x faster "
            f"(wall clock; {c_base / c_ours:.1f}x less CPU time)"
        )
    if args.keep is None:
        for p in work.iterdir():
            p.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
