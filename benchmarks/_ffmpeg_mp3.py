"""MP3 clips through the FFmpeg binary of imageio-ffmpeg, in a few processes (a candidate for the cut
stage, measured by ``bench_clip_encoders.py`` and not taken: issue 16, docs/scaling.md).

The LAME in the PyAV wheel encodes about 2x slower than the one in imageio-ffmpeg's FFmpeg binary,
and one process per clip would spend more on process start-up than it saves. So each batch of clips
is written as raw float32 samples into a temporary folder and encoded by ONE FFmpeg process with one
input and one output per clip: exactly the clip's samples (no seeking, no filters), LAME at the
given bit rate and ``-q``, bit-exact flags (re-runs give identical bytes). Outputs are written to
temporary names and renamed when the batch succeeded; on an error no partial clip is left.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

#: clips per FFmpeg process (the command line holds ~200 characters per clip)
BATCH = 48


def ffmpeg_exe() -> str | None:
    """The FFmpeg binary shipped by imageio-ffmpeg, or None when it is not available."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError, OSError):
        return None
    return exe if exe and os.path.isfile(exe) else None


def encode_mp3_clips(
    clip: Callable[[int], np.ndarray], sr: int, out_paths: Sequence[str | Path], bitrate: int,
    compression_level: int, exe: str, workers: int = 1,
) -> list[Path]:
    """Encode clip ``k`` (``clip(k)``: mono float32, -1..1, clipped) to ``out_paths[k]``; ``workers`` batches
    at once (each batch's samples are asked for and written out just before its process runs)."""
    paths = [Path(p) for p in out_paths]
    jobs = [(i, min(i + BATCH, len(paths))) for i in range(0, len(paths), BATCH)]

    def run(job: tuple[int, int]) -> None:
        a, b = job
        _encode_batch(clip, range(a, b), sr, paths[a:b], bitrate, compression_level, exe)

    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            run(job)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="mp3") as pool:
            list(pool.map(run, jobs))
    return paths


def _encode_batch(clip: Callable[[int], np.ndarray], ks: range, sr: int, paths: Sequence[Path], bitrate: int,
                  compression_level: int, exe: str) -> None:
    tmps = [p.with_name(f".{p.stem}.{os.getpid()}.tmp.mp3") for p in paths]
    with tempfile.TemporaryDirectory(prefix="anim400k_mp3_") as folder:
        cmd = [exe, "-nostdin", "-hide_banner", "-v", "error", "-y"]
        for k, i in enumerate(ks):
            raw = Path(folder) / f"{k}.f32"
            np.clip(np.asarray(clip(i), dtype="<f4").reshape(-1), -1.0, 1.0).tofile(raw)
            cmd += ["-f", "f32le", "-ar", str(sr), "-ac", "1", "-i", str(raw)]
        for k, tmp in enumerate(tmps):
            tmp.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["-map", f"{k}:a", "-c:a", "libmp3lame", "-b:a", str(bitrate), "-compression_level",
                    str(compression_level), "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "mp3", str(tmp)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"FFmpeg failed to encode MP3 clips ({paths[0]} ...): "
                                   f"{done.stderr.strip().splitlines()[-1:] or done.returncode}")
            for tmp, path in zip(tmps, paths, strict=True):
                os.replace(tmp, path)
        finally:
            for tmp in tmps:
                tmp.unlink(missing_ok=True)
