"""Real-time factor of ``anim400k.dub`` with the embedded backends on a synthetic episode.

    OMP_NUM_THREADS=2 python benchmarks/bench_dub.py [--duration 60] [--cores 2] [--diarizer embedded]
        [--tts neural|espeak|xtts --tts-model DIR] [--baseline espeak|none] [--device cpu|cuda]

``--tts xtts --tts-model DIR`` times voice cloning with a local XTTS-v2 folder (on a GPU with
``--device cuda``); ``--tts-model random`` builds a tiny random XTTS first (pipeline overhead only).

Prints the wall time, the per-stage seconds, and the real-time factor (dub seconds /
episode seconds; the baseline is the episode's own duration, i.e. real time = 1.0), the
timing errors, and how far each line's speech/backing ratio lands from its source slot's.
Goal: RTF below 1.0 on 2 cores. ``--tts`` defaults to the embedded neural voices; the same
episode is then dubbed with ``--baseline`` (espeak-ng) and the ratio of the two times is
printed. The neural voices are timed twice: cold (``$ANIM400K_CACHE`` pointed at an empty
folder, every line synthesized) and cached (a re-run of the same dub). The episode is
voiced with neural voices (``--voices espeak`` for espeak-ng).
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
    parser.add_argument("--tts", default="neural", help="TTS backend: neural, espeak or xtts")
    parser.add_argument("--baseline", default="espeak", help="TTS backend to compare with, or 'none'")
    parser.add_argument("--voices", default="neural", help="voices of the synthetic episode: neural or espeak")
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
            from anim400k.testing.random_xtts import build_random_xtts

            tts_model = str(build_random_xtts(Path(tmp) / "random-xtts"))

        def options(subtitles: Path) -> DubOptions:
            return DubOptions(subtitles=str(subtitles), diarizer=diarizer, tts=args.tts, tts_model=tts_model,
                              device=args.device)

        ep = make_episode(Path(tmp) / "ep", duration=args.duration, seed=args.seed, n_speakers=3, voices=args.voices)
        # warm-up on a short episode so one-off imports and model loads are not counted
        warm = make_episode(Path(tmp) / "warm", duration=5.0, seed=args.seed + 1, n_speakers=1, voices=args.voices)
        os.environ["ANIM400K_CACHE"] = str(Path(tmp) / "cache")  # cold: every dub line is synthesized
        dub(warm.media, Path(tmp) / "warm.mkv", options(warm.subtitles))
        t0, c0 = time.perf_counter(), time.process_time()
        report = dub(ep.media, Path(tmp) / "dubbed.mkv", options(ep.subtitles))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        cached = None
        if args.tts == "neural":
            t0 = time.perf_counter()
            dub(ep.media, Path(tmp) / "dubbed2.mkv", options(ep.subtitles))
            cached = time.perf_counter() - t0
        base_wall = None
        if args.baseline != "none" and args.baseline != args.tts:
            base_opts = options(ep.subtitles).model_copy(update={"tts": args.baseline, "tts_model": None})
            dub(warm.media, Path(tmp) / "warm_b.mkv", base_opts)
            t0, c0 = time.perf_counter(), time.process_time()
            base_report = dub(ep.media, Path(tmp) / "base.mkv", base_opts)
            base_wall, base_cpu = time.perf_counter() - t0, time.process_time() - c0
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
    print(
        f"CPU time of the dub: {cpu:.1f} s = RTF {cpu / args.cores / args.duration:.3f} on {args.cores} "
        f"otherwise idle cores (wall RTF above is higher when other processes share the cores)"
    )
    if cached is not None:
        print(f"RTF with every line cached (a re-run): {cached / args.duration:.3f}")
    if base_wall is not None:
        print(
            f"baseline {args.baseline}: wall {base_wall:.2f} s, RTF {base_wall / args.duration:.3f}, "
            f"CPU {base_cpu:.1f} s, speak stage {base_report.seconds.get('speak', 0.0):.2f} s; "
            f"{args.tts} / {args.baseline} time: {wall / base_wall:.2f}x"
        )


if __name__ == "__main__":
    main()
