"""Real-time factor of ``anim400k.dub`` with the embedded backends on a synthetic episode.

    OMP_NUM_THREADS=2 python benchmarks/bench_dub.py [--duration 60] [--cores 2] [--diarizer embedded]
        [--tts espeak|xtts --tts-model DIR] [--device cpu|cuda]

``--tts xtts --tts-model DIR`` times voice cloning with a local XTTS-v2 folder (on a GPU with
``--device cuda``); ``--tts-model random`` builds a tiny random XTTS first (pipeline overhead only).

Prints the wall time, the per-stage seconds, and the real-time factor (dub seconds /
episode seconds; the baseline is the episode's own duration, i.e. real time = 1.0), the
timing errors, and how far each line's speech/backing ratio lands from its source slot's.
Goal: RTF below 1.0 on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="episode length in seconds")
    parser.add_argument("--cores", type=int, default=2, help="CPU cores to allow (affinity and thread pools)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--diarizer", default="embedded", help="anim400k.diarize backend, or 'none'")
    parser.add_argument("--tts", default="espeak", help="TTS backend: espeak or xtts")
    parser.add_argument("--tts-model", default=None, help="XTTS model folder, or 'random' for a tiny random one")
    parser.add_argument("--device", default="cpu", help="device of the model backends (cpu, cuda)")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(args.cores))
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[: args.cores]
        os.sched_setaffinity(0, cpus)
    import torch

    torch.set_num_threads(args.cores)
    import numpy as np

    from anim400k.dub.pipeline import DubOptions, dub
    from anim400k.synth import make_episode

    diarizer = None if args.diarizer == "none" else args.diarizer
    with tempfile.TemporaryDirectory() as tmp:
        tts_model = args.tts_model
        if args.tts == "xtts" and tts_model == "random":
            from anim400k.tts.random_xtts import build_random_xtts

            tts_model = str(build_random_xtts(Path(tmp) / "random-xtts"))

        def options(subtitles: Path) -> DubOptions:
            return DubOptions(subtitles=str(subtitles), diarizer=diarizer, tts=args.tts, tts_model=tts_model,
                              device=args.device)

        ep = make_episode(Path(tmp) / "ep", duration=args.duration, seed=args.seed, n_speakers=3)
        # warm-up on a short episode so one-off imports and model loads are not counted
        warm = make_episode(Path(tmp) / "warm", duration=5.0, seed=args.seed + 1, n_speakers=1)
        dub(warm.media, Path(tmp) / "warm.mkv", options(warm.subtitles))
        t0 = time.perf_counter()
        report = dub(ep.media, Path(tmp) / "dubbed.mkv", options(ep.subtitles))
        wall = time.perf_counter() - t0
    ratio_err = [
        abs(ln.dub_ratio_db - ln.source_ratio_db)
        for ln in report.spoken_lines
        if ln.dub_ratio_db is not None and ln.source_ratio_db is not None
    ]
    err = report.mean_abs_end_error
    print(f"episode duration (baseline, real time): {args.duration:.1f} s")
    print(f"diarizer: {diarizer or 'none (voice activity, one speaker)'}; tts: {args.tts} on {args.device}")
    speakers, voices = {ln.speaker for ln in report.lines}, {ln.voice for ln in report.spoken_lines}
    print(f"speakers found: {len(speakers)}, voices used: {len(voices)}")
    print(f"dub wall time: {wall:.2f} s on {args.cores} cores")
    print(f"stages (s): {report.seconds}")
    print(
        f"lines: {len(report.spoken_lines)}/{len(report.lines)} spoken, "
        f"mean |end error| {'n/a' if err is None else f'{err * 1000:.0f} ms'}, "
        f"max |start error| {(report.max_abs_start_error or 0) * 1000:.0f} ms"
    )
    if ratio_err:
        print(f"|dub ratio - source ratio| per line: mean {np.mean(ratio_err):.2f} dB, max {np.max(ratio_err):.2f} dB")
    print(f"loudness: source {report.source_lufs:.1f} LUFS, dub {report.output_lufs:.1f} LUFS")
    print(f"RTF (dub time / episode duration): {wall / args.duration:.3f}  (goal < 1.0)")


if __name__ == "__main__":
    main()
