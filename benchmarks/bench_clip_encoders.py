"""Benchmark: the cut stage's encoders, cost against quality: LAME's ``-q`` for the MP3 clips, x264's preset.

    python benchmarks/bench_clip_encoders.py EPISODE_DIR [--seconds 300] [--mp3 pyav:5 lameenc:5 ffmpeg:5]
                                             [--presets fast faster veryfast] [--skip-video]

``EPISODE_DIR`` is a synthetic episode (``anim400k.synth.make_episode``: ``episode.mkv`` with
JP and EN audio, 320x180 video, and ``truth.json``; e.g. ``bench_workers.py --episodes-dir``'s
``ep1``). The clips are the episode's true lines that end within the first ``--seconds``
(JP times for the JP track and the video, EN times for the EN track), as the cut stage cuts
them: tracks decoded once at 44.1 kHz, each clip encoded by one encoder, one thread
(``workers=1``), CPU seconds by ``time.process_time``. The first setting of each list is the
named baseline (today's default); every other prints its ratio to it.

* **MP3** (128 kb/s mono, 44.1 kHz, :func:`anim400k.media.cut_audio_clips`) per encoder (``pyav``:
  the LAME in PyAV's wheel, in-process, the build's encoder before the ``lameenc`` wheel; ``lameenc``:
  LAME 3.100 of the ``lameenc`` wheel with our Info/LAME tag, the default now; ``ffmpeg``: the LAME in
  imageio-ffmpeg's binary, clips in batches, its processes' CPU counted) and LAME algorithm quality
  (FFmpeg's ``compression_level`` = ``lame -q``; LAME's own default is 3; ``pyav:3`` was the build's
  setting before issue 16): CPU seconds, bytes, and the decoded clips against the clip's source samples: SNR (dB, all
  clips' error energy against their signal energy), SNR in bands 0-4 / 4-8 / 8-16 kHz, and the
  log-spectral distance (dB, 2048-sample frames with energy, 0-16 kHz). Also the cost of the
  decode to 44.1 kHz and of writing each clip as its own file (one file of all clips joined).
* **x264** (320x180 CRF 23 + AAC, :func:`anim400k.media.cut_video_clips`) per preset: CPU
  seconds (decode, scaling, encoding), bytes, and PSNR/SSIM (luma) of the first, middle and last
  frame of 8 clips against the source pictures (``bench_cut.quality``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 44100
BANDS = ((0, 4000), (4000, 8000), (8000, 16000))


def clips_of(episode: Path, seconds: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(JP intervals, EN intervals) of the episode's true lines ending within ``seconds``."""
    from anim400k.synth import load_truth

    lines = [ln for ln in load_truth(episode / "truth.json").lines if max(ln.jp_end, ln.en_end) <= seconds]
    return [(ln.jp_start, ln.jp_end) for ln in lines], [(ln.en_start, ln.en_end) for ln in lines]


def _spectra(x: np.ndarray, n: int = 2048) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(x, n)[:: n // 2] * np.hanning(n)
    return np.abs(np.fft.rfft(frames, axis=1)) ** 2


def audio_quality(refs: list[np.ndarray], outs: list[np.ndarray]) -> dict[str, float]:
    """SNR (dB), per-band SNR and log-spectral distance (dB) of decoded clips against their sources."""
    sig = err = 0.0
    band_sig, band_err = np.zeros(len(BANDS)), np.zeros(len(BANDS))
    lsd: list[float] = []
    freqs = np.fft.rfftfreq(2048, 1 / SR)
    keep = freqs <= 16000
    for ref, out in zip(refs, outs, strict=True):
        n = min(ref.size, out.size)
        r, o = ref[:n].astype(np.float64), out[:n].astype(np.float64)
        sig += float(np.sum(r**2))
        err += float(np.sum((r - o) ** 2))
        if n < 2048:
            continue
        pr, pe = _spectra(r), _spectra(r - o)
        po = _spectra(o)
        for b, (lo, hi) in enumerate(BANDS):
            m = (freqs >= lo) & (freqs < hi)
            band_sig[b] += pr[:, m].sum()
            band_err[b] += pe[:, m].sum()
        loud = pr.sum(axis=1) > 1e-3 * pr.sum(axis=1).max()
        d = 10 * np.log10((pr[loud][:, keep] + 1e-10) / (po[loud][:, keep] + 1e-10))
        lsd += np.sqrt(np.mean(d**2, axis=1)).tolist()
    out = {"snr": 10 * np.log10(sig / max(err, 1e-20)), "lsd": float(np.mean(lsd)) if lsd else float("nan")}
    for b, (lo, hi) in enumerate(BANDS):
        out[f"snr_{lo // 1000}-{hi // 1000}k"] = 10 * np.log10(band_sig[b] / max(band_err[b], 1e-20))
    return out


def children_cpu() -> float:
    """CPU seconds of this process's finished child processes (the FFmpeg encoders)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def slices(audio: np.ndarray, intervals: list[tuple[float, float]]) -> list[np.ndarray]:
    """The clips' source samples, as ``cut_audio_clips`` slices them."""
    from anim400k.signal import fit_length

    out = []
    for s, e in intervals:
        a, n = int(round(s * SR)), int(round(e * SR)) - int(round(s * SR))
        out.append(fit_length(audio[a: a + n], n))
    return out


def bench_mp3(episode: Path, jp_iv: list, en_iv: list, settings: list[tuple[str, int]], tmp: Path) -> None:
    from anim400k import media

    c0 = time.process_time()
    jp = media.decode_audio(episode / "episode.mkv", stream="jpn", sr=SR)
    en = media.decode_audio(episode / "episode.mkv", stream="eng", sr=SR)
    decode_cpu = time.process_time() - c0
    refs = slices(jp, jp_iv) + slices(en, en_iv)
    clip_s = sum(r.size for r in refs) / SR
    print(f"MP3 128 kb/s mono: {len(refs)} clips ({clip_s:.0f} s) of the JP and EN tracks; decoding both tracks "
          f"({2 * jp.size / SR:.0f} s) to 44.1 kHz: {decode_cpu:.2f} CPU-s")
    base: dict[str, float] = {}
    for k, (encoder, level) in enumerate(settings):
        folder = tmp / f"mp3_{k}_{encoder}_{level}"
        folder.mkdir()
        paths = [folder / f"{i}.mp3" for i in range(len(refs))]
        c0, k0 = time.process_time(), children_cpu()
        if encoder == "ffmpeg":
            from _ffmpeg_mp3 import encode_mp3_clips, ffmpeg_exe

            encode_mp3_clips(lambda i: refs[i], SR, paths, 128_000, level, str(ffmpeg_exe()))
        else:
            media.cut_audio_clips(jp, SR, jp_iv, paths[: len(jp_iv)], workers=1, compression_level=level,
                                  mp3_encoder=encoder)
            media.cut_audio_clips(en, SR, en_iv, paths[len(jp_iv):], workers=1, compression_level=level,
                                  mp3_encoder=encoder)
        cpu = time.process_time() - c0 + children_cpu() - k0
        size = sum(p.stat().st_size for p in paths)
        q = audio_quality(refs, [media.decode_audio(p, sr=SR) for p in paths])
        row = {"cpu": cpu, "size": size, **q}
        base = base or row
        name = f"{encoder} -q {level}"
        bands = "  ".join(f"{k[4:]} {v:5.1f}" for k, v in q.items() if k.startswith("snr_"))
        print(f"  {name:<16} {cpu:6.2f} CPU-s x{cpu / base['cpu']:.2f}  "
              f"{size / 1e6:6.2f} MB x{size / base['size']:.3f}"
              f"  SNR {q['snr']:5.2f} dB ({q['snr'] - base['snr']:+.2f})  bands {bands}  "
              f"LSD {q['lsd']:.3f} dB ({q['lsd'] - base['lsd']:+.3f})", flush=True)
    joined = np.concatenate(refs)
    c0 = time.process_time()
    media.write_audio(tmp / "joined.mp3", joined, SR, bitrate="128k", compression_level=settings[0][1],
                      mp3_encoder=None if settings[0][0] == "ffmpeg" else settings[0][0])
    one = time.process_time() - c0
    print(f"  the same {clip_s:.0f} s as one file ({settings[0][0]} -q {settings[0][1]}): {one:.2f} CPU-s: "
          f"x{one / base['cpu']:.2f} of the clips, so {len(refs)} files cost {base['cpu'] - one:.2f} CPU-s of "
          "opening/flushing")


def bench_video(episode: Path, jp_iv: list, presets: list[str], tmp: Path) -> None:
    import bench_cut

    from anim400k import media

    src = episode / "episode.mkv"
    # bench_cut.quality finds the source frames at this rate
    bench_cut.FPS = round(media.probe(src).video_streams[0].frame_rate or 25)
    jp = media.decode_audio(src, stream="jpn", sr=SR)
    frames = sum(e - s for s, e in jp_iv) * bench_cut.FPS
    print(f"x264 CRF 23 + AAC 128k: {len(jp_iv)} clips (~{frames:.0f} frames), one encoder thread")
    base: tuple[float, int] | None = None
    picks = list(range(0, len(jp_iv), max(1, len(jp_iv) // 8)))[:8]
    from anim400k.media import video

    cpu_options = video.x264_cpu_options
    for setting in presets:
        preset, _, extra = setting.partition("+")  # "fast+rc-lookahead=20:mbtree=0": more x264-params
        folder = tmp / f"video_{len(list(tmp.glob('video_*')))}"
        folder.mkdir()
        paths = [folder / f"{i}.mp4" for i in range(len(jp_iv))]
        params = ":".join(p for p in (cpu_options().get("x264-params", ""), extra) if p)
        video.x264_cpu_options = lambda params=params: {"x264-params": params} if params else {}
        c0 = time.process_time()
        try:
            media.cut_video_clips(src, jp_iv, paths, audio=(jp, SR), preset=preset, workers=1)
        finally:
            video.x264_cpu_options = cpu_options
        cpu = time.process_time() - c0
        size = sum(p.stat().st_size for p in paths)
        base = base or (cpu, size)
        fps_quality = bench_cut.quality(src, jp_iv, paths, picks)
        print(f"  preset {setting:<9} {cpu:6.2f} CPU-s x{cpu / base[0]:.2f}  {size / 1e6:6.2f} MB x{size / base[1]:.3f}"
              f"  PSNR {fps_quality[0]:.2f} dB  SSIM {fps_quality[1]:.4f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episode", type=Path)
    ap.add_argument("--seconds", type=float, default=300.0, help="lines ending within this many seconds")
    ap.add_argument("--mp3", nargs="+", default=["pyav:5", "lameenc:5", "pyav:3", "lameenc:3", "ffmpeg:5"],
                    help="ENCODER:LEVEL settings (pyav, lameenc or ffmpeg : LAME -q 0-9); the first is the baseline")
    ap.add_argument("--presets", nargs="+", default=["fast", "faster", "veryfast"],
                    help="x264 presets, each optionally with more x264-params after a +: fast+rc-lookahead=20")
    ap.add_argument("--skip-video", action="store_true")
    ap.add_argument("--skip-audio", action="store_true")
    args = ap.parse_args()
    jp_iv, en_iv = clips_of(args.episode, args.seconds)
    settings = [(v.split(":")[0], int(v.split(":")[1])) for v in args.mp3]
    print(f"{args.episode}: first {args.seconds:.0f} s; load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench_enc_") as tmp:
        if not args.skip_audio:
            bench_mp3(args.episode, jp_iv, en_iv, settings, Path(tmp))
        if not args.skip_video:
            bench_video(args.episode, jp_iv, args.presets, Path(tmp))


if __name__ == "__main__":
    main()
