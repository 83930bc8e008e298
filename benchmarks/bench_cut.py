"""Benchmark: the clip cutter (anim400k.media) vs one FFmpeg process per clip, at 1080p by default.

Makes a test episode (H.264 at ``--size``, 24 fps, a moving textured pattern, GOP ``--gop`` frames
(x264's default 250, ~10 s, as most releases) + stereo
AAC 48 kHz) with PyAV, picks ``--clips`` speech-like clips (1-4 s, some overlapping), and times

* audio clips (MP3 128k): ours = decode the track once + ``cut_audio_clips``;
  baseline = ``ffmpeg -ss S -to E -i SRC -vn -c:a libmp3lame -b:a 128k`` per clip;
* video clips (MP4 H.264 preset fast, crf 23, MB-tree on (x264's default) + AAC): ours = decode
  the audio once + ``cut_video_clips`` (default workers); baselines = ``ffmpeg -ss S -to E -i SRC
  -c:v libx264 -preset fast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k`` per clip, one after
  the other, with x264's default threads ("ffmpeg") and with ``-threads 1`` as our encoders
  use ("ffmpeg -threads 1": same x264 settings on both sides, for the file sizes),

using the FFmpeg binary of ``imageio_ffmpeg``. Each video method runs in its own process(es);
peak memory is the largest resident set of any of them. Prints wall/CPU seconds and the ratio
baseline/ours, peak memory, total size, worst clip-length error, and PSNR/SSIM (luma) of a
few frames of each method's clips against the source picture, and the CPU cost per frame of
decoding and of encoding at the clips' x264 settings, which bounds the CPU ratio any cutter
can reach at those settings. Usage::

    python benchmarks/bench_cut.py [--size 1920x1080] [--duration 60] [--clips 20] [--gop 250]
                                   [--out-height H] [--keep DIR]

``--out-height H`` writes the video clips at height H (ours: ``height=H``; FFmpeg:
``-vf scale=-2:H``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from anim400k import media

FPS = 24


def make_source(path: Path, duration: float, size: tuple[int, int], gop: int = 250, sr: int = 48000) -> Path:
    """A moving textured test pattern (scrolling noise + gradients) with a stereo two-tone soundtrack."""
    w, h = size
    rng = np.random.default_rng(7)
    texture = rng.integers(0, 256, (h // 4 + 1, (w + 4 * int(duration * FPS)) // 4 + 2, 3), dtype=np.uint8)
    texture = texture.repeat(4, axis=0).repeat(4, axis=1)  # 4x4 blocks: detail x264 must code
    ramp = (np.arange(w)[None, :] * 255 // w).astype(np.uint8)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "18", "g": str(gop)})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        as_ = out.add_stream("aac", rate=sr, layout="stereo")
        block = sr // FPS
        for i in range(int(duration * FPS)):
            img = texture[:h, 4 * i : 4 * i + w].copy()
            img[..., 2] = ramp + np.uint8(i % 256)  # a moving gradient (wraps)
            img[h // 3 : h // 2, (8 * i) % w : (8 * i) % w + w // 8] = 255  # a sliding bar
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(vs.encode(frame))
            t = (np.arange(block) + i * block) / sr
            tone = 0.2 * np.sin(2 * np.pi * (220 + 20 * (i // FPS % 10)) * t)
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


def _run(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; (wall s, CPU s, peak RSS MiB) of that process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd[:4])} ...")
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def ffmpeg_per_clip(
    src: Path, clips: list[tuple[float, float]], outs: list[Path], codec_args: list[str]
) -> tuple[float, float, float]:
    """The baseline: one FFmpeg invocation per clip with input seeking and re-encoding, one after the other."""
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    wall = cpu = peak = 0.0
    for (s, e), out in zip(clips, outs, strict=True):
        cmd = [exe, "-v", "error", "-y", "-ss", f"{s:.3f}", "-to", f"{e:.3f}", "-i", str(src)]
        w, c, m = _run([*cmd, *codec_args, str(out)])
        wall, cpu, peak = wall + w, cpu + c, max(peak, m)
    return wall, cpu, peak


def ours_video(
    src: Path, clips: list[tuple[float, float]], outs: list[Path], height: int | None
) -> tuple[float, float, float]:
    """Our cutter in a fresh process (audio decoded once, then ``cut_video_clips``)."""
    job = json.dumps({"src": str(src), "clips": clips, "outs": [str(o) for o in outs], "height": height})
    return _run([sys.executable, __file__, "--_ours", job])


def _ours_child(job: str) -> None:
    spec = json.loads(job)
    pcm = media.decode_audio(spec["src"], 0, sr=48000, mono=False)
    clips = [tuple(c) for c in spec["clips"]]
    media.cut_video_clips(
        spec["src"], clips, spec["outs"], audio=(pcm, 48000), height=spec["height"], crf=23, preset="fast"
    )


def worst_error(clips: list[tuple[float, float]], outs: list[Path]) -> float:
    """Largest |decoded duration - requested duration| over the clips (seconds)."""
    return max(abs((media.probe(out).duration or 0.0) - (e - s)) for (s, e), out in zip(clips, outs, strict=True))


def _luma_frames(path: Path, wanted: set[int] | None = None) -> dict[int, np.ndarray]:
    with av.open(str(path)) as c:
        out = {}
        for k, f in enumerate(c.decode(c.streams.video[0])):
            if wanted is None or k in wanted:
                out[k] = f.to_ndarray(format="gray").astype(np.float64)
        return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM (Wang et al. 2004, Gaussian window sigma 1.5) of two luma planes."""
    from scipy.ndimage import gaussian_filter

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = gaussian_filter(a, 1.5), gaussian_filter(b, 1.5)
    va = gaussian_filter(a * a, 1.5) - mu_a**2
    vb = gaussian_filter(b * b, 1.5) - mu_b**2
    cov = gaussian_filter(a * b, 1.5) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return float(s.mean())


def quality(src: Path, clips: list[tuple[float, float]], outs: list[Path], picks: list[int]) -> tuple[float, float]:
    """Mean PSNR/SSIM of the first, middle and last frame of the ``picks`` clips against the source.

    Each clip frame is compared with the source frames around its time (k-1..k+1) and the
    best match kept, so either side's convention for the first frame counts the same.
    """
    want: dict[int, list[tuple[int, int]]] = {}
    for i in picks:
        n = len(_luma_frames(outs[i]))
        for k in (0, n // 2, n - 1):
            idx = int(clips[i][0] * FPS + k + 1e-6)
            want.setdefault(i, []).append((k, idx))
    src_idx = {j for pairs in want.values() for _k, idx in pairs for j in (idx - 1, idx, idx + 1)}
    source = _luma_frames(src, src_idx)
    ps, ss = [], []
    for i, pairs in want.items():
        frames = _luma_frames(outs[i], {k for k, _ in pairs})
        for k, idx in pairs:
            cands = [source[j] for j in (idx - 1, idx, idx + 1) if j in source]
            best = max(cands, key=lambda s, f=frames[k]: psnr(f, s))
            ps.append(psnr(frames[k], best))
            ss.append(ssim(frames[k], best))
    return float(np.mean(ps)), float(np.mean(ss))


def frame_costs(src: Path, size: tuple[int, int], n: int = 48) -> tuple[float, float]:
    """CPU ms per frame of decoding ``src`` (PyAV, one thread) and of encoding its first ``n`` pictures
    with the clips' x264 settings (preset fast, crf 23, one thread, MB-tree on) at ``size``."""
    frames = []
    c0 = _cpu()
    with av.open(str(src)) as c:
        stream = c.streams.video[0]
        stream.codec_context.thread_count = 1
        count = 0
        for f in c.decode(stream):
            count += 1
            if len(frames) < n:
                frames.append(f.reformat(width=size[0], height=size[1], format="yuv420p"))
    decode = (_cpu() - c0) / count * 1000
    c0 = _cpu()
    with av.open(os.devnull, "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"preset": "fast", "crf": "23", "threads": "1"})
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        vs.codec_context.time_base = Fraction(1, FPS)
        vs.codec_context.thread_count = 1
        for k, f in enumerate(frames):
            f.pts, f.time_base, f.pict_type = k, Fraction(1, FPS), 0
            out.mux(vs.encode(f))
        out.mux(vs.encode(None))
    return decode, (_cpu() - c0) / len(frames) * 1000


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1920x1080", help="source WxH")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--gop", type=int, default=250, help="source keyframe interval (frames)")
    ap.add_argument("--out-height", type=int, default=None, help="write the video clips at this height")
    ap.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    ap.add_argument("--_ours", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._ours:
        _ours_child(args._ours)
        return
    size = tuple(int(v) for v in args.size.split("x"))
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_cut_"))
    work.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    src = make_source(work / "episode.mkv", args.duration, size, args.gop)  # type: ignore[arg-type]
    clips = pick_clips(args.duration, args.clips)
    print(
        f"source: {args.duration:.0f} s H.264 {size[0]}x{size[1]} {FPS} fps GOP {args.gop} + AAC stereo, made in "
        f"{time.perf_counter() - t:.1f} s; {len(clips)} clips, {sum(e - s for s, e in clips):.0f} s in all; "
        f"ours uses {media.default_workers()} worker(s); clips at height {args.out_height or size[1]}"
    )

    # audio: in this process (cheap)
    outs_a = [work / f"ours_audio_{i:02d}.mp3" for i in range(len(clips))]
    outs_fa = [work / f"ffmpeg_audio_{i:02d}.mp3" for i in range(len(clips))]
    t, c = time.perf_counter(), _cpu()
    pcm = media.decode_audio(src, 0, sr=48000, mono=False)
    media.cut_audio_clips(pcm, 48000, clips, outs_a, bitrate="128k")
    a_ours = (time.perf_counter() - t, _cpu() - c)
    a_base = ffmpeg_per_clip(src, clips, outs_fa, ["-vn", "-c:a", "libmp3lame", "-b:a", "128k"])
    print(
        f"audio (mp3): ours {a_ours[0]:.2f} s wall, ffmpeg per clip {a_base[0]:.2f} s: {a_base[0] / a_ours[0]:.1f}x "
        f"faster; max length error ours {worst_error(clips, outs_a) * 1000:.0f} ms, "
        f"ffmpeg {worst_error(clips, outs_fa) * 1000:.0f} ms"
    )

    x264 = ["-c:v", "libx264", "-preset", "fast", "-crf", "23", "-pix_fmt", "yuv420p"]
    if args.out_height:
        x264 += ["-vf", f"scale=-2:{args.out_height}"]
    aac = ["-c:a", "aac", "-b:a", "128k"]
    methods = {
        "ours": lambda outs: ours_video(src, clips, outs, args.out_height),
        "ffmpeg": lambda outs: ffmpeg_per_clip(src, clips, outs, [*x264, *aac]),
        "ffmpeg -threads 1": lambda outs: ffmpeg_per_clip(src, clips, outs, [*x264, "-threads", "1", *aac]),
    }
    picks = sorted({0, len(clips) // 2, len(clips) - 1})
    rows = {}
    for name, fn in methods.items():
        outs = [work / f"{name.replace(' ', '_')}_video_{i:02d}.mp4" for i in range(len(clips))]
        wall, cpu, peak = fn(outs)
        size_mb = sum(o.stat().st_size for o in outs) / 1e6
        p, s = quality(src, clips, outs, picks) if not args.out_height else (float("nan"), float("nan"))
        rows[name] = (wall, cpu, peak, size_mb, worst_error(clips, outs), p, s)
    print(
        f"{'video (mp4)':<20}{'wall s':>8}{'CPU s':>8}{'peak MiB':>10}{'size MB':>9}{'len err ms':>11}"
        f"{'PSNR dB':>9}{'SSIM':>8}"
    )
    for name, (wall, cpu, peak, size_mb, err, p, s) in rows.items():
        print(f"{name:<20}{wall:>8.2f}{cpu:>8.2f}{peak:>10.0f}{size_mb:>9.2f}{err * 1000:>11.0f}{p:>9.2f}{s:>8.4f}")
    o = rows["ours"]
    for base in ("ffmpeg", "ffmpeg -threads 1"):
        b = rows[base]
        print(
            f"ours vs {base} per clip: {b[0] / o[0]:.2f}x faster (wall), {b[1] / o[1]:.2f}x less CPU, "
            f"memory {o[2] / b[2]:.2f}x, size {o[3] / b[3]:.3f}x, PSNR {o[5] - b[5]:+.2f} dB, SSIM {o[6] - b[6]:+.4f}"
        )
    out_size = size if not args.out_height else media.even_size(size[0], size[1], None, args.out_height)
    dec, enc = frame_costs(src, out_size)  # type: ignore[arg-type]
    n_frames = sum(round((e - s) * FPS) for s, e in clips)
    floor = n_frames * enc / 1000
    print(
        f"per frame (one thread): decode {dec:.1f} ms at the source size, x264 encode {enc:.1f} ms at "
        f"{out_size[0]}x{out_size[1]}; encoding the {n_frames} clip frames alone costs {floor:.1f} CPU-s, so at "
        f"these x264 settings no cutter can use less than that: the CPU ratio against ffmpeg per clip is "
        f"at most {rows['ffmpeg -threads 1'][1] / floor:.2f}x (-threads 1), {rows['ffmpeg'][1] / floor:.2f}x "
        f"(default threads)"
    )
    if args.keep is None:
        for p in work.iterdir():
            p.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
