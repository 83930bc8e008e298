"""Build throughput with 1 vs 2 local workers, and per-stage real-time factors.

    OMP_NUM_THREADS=1 python benchmarks/bench_workers.py [--episodes 4] [--duration 20] [--asr-en auto]

Makes ``--episodes`` synthetic episodes, builds them with ``--jobs 1`` (baseline: one
worker, in-process) and then with ``--jobs 2`` (a 2-process pool), each into a fresh
folder, and prints episodes per minute for both and the speed-up ratio (jobs 2 / jobs 1;
2.0 would be perfect scaling on 2 cores). From the ``--jobs 1`` build's
``build_report.json`` it prints every stage's real-time factor: stage seconds per second
of episode audio (summed over episodes), the figure ``docs/scaling.md`` turns into
machine-hours for the paper's 763 hours. The load average is printed too: on a shared
machine, a ratio measured under foreign load understates the speed-up. CPU seconds (this
process plus the pool's workers) show how much of the difference is the workers' own
start-up (imports and model loads, paid once per worker process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any


def make_manifest(root: Path, n: int, duration: float) -> Path:
    """``n`` synthetic episodes (different seeds, some with an EN offset) and a manifest over them."""
    import yaml

    from anim400k.synth import make_episode

    eps = []
    for i in range(n):
        ep = make_episode(root / f"ep{i + 1}", duration=duration, seed=100 + i, offset=0.5 * (i % 3))
        eps.append({"episode": str(i + 1), "media": str(ep.media), "subtitles": str(ep.subtitles)})
    path = root / "manifest.yaml"
    path.write_text(yaml.safe_dump({"shows": [{"key": "bench", "episodes": eps}]}))
    return path


def cpu_seconds() -> float:
    """User+system CPU seconds of this process and its finished child processes (pool workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_build(manifest: Path, out: Path, jobs: int, args: argparse.Namespace
                ) -> tuple[float, float, dict[str, Any]]:
    """Build into ``out`` with ``jobs`` workers; returns (wall seconds, CPU seconds, build report dict)."""
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.pipeline import REPORT_FILE, build_dataset

    opts = BuildOptions(progress=False, jobs=jobs, asr_en=args.asr_en, video_clips=args.video)
    t0, c0 = time.perf_counter(), cpu_seconds()
    report = build_dataset(manifest, out, opts)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    for e in report.failed:  # counted as processed (both builds fail alike); shown so it gets fixed
        print(f"  warning: episode {e.key} failed in stage {e.failed_stage}: {e.error}")
    return wall, cpu, json.loads((out / REPORT_FILE).read_text())


def episode_seconds(out: Path) -> float:
    """Total episode duration (JP track) from the probe artifacts of a build."""
    from anim400k.model import JP

    return sum(json.loads(p.read_text())[JP]["duration"] for p in (out / "work").rglob("probe.json"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4, help="synthetic episodes (2-4 keeps it short)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per episode")
    parser.add_argument("--asr-en", default="auto", help="EN ASR backend (auto = pocketsphinx)")
    parser.add_argument("--no-video", dest="video", action="store_false", help="skip video clips")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    with tempfile.TemporaryDirectory(prefix="bench_workers_") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        manifest = make_manifest(root / "episodes", args.episodes, args.duration)
        print(f"made {args.episodes} x {args.duration:.0f} s episodes in {time.perf_counter() - t0:.1f} s")
        results: dict[str, Any] = {"episodes": args.episodes, "duration": args.duration, "runs": {}}
        report1: dict[str, Any] = {}
        for jobs in (1, 2):
            load = os.getloadavg()[0]
            wall, cpu, report = timed_build(manifest, root / f"out{jobs}", jobs, args)
            if jobs == 1:
                report1 = report
            epm = args.episodes / wall * 60
            results["runs"][jobs] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                                     "episodes_per_min": round(epm, 3), "load": load}
            print(f"--jobs {jobs}: {wall:7.1f} s wall, {cpu:7.1f} s CPU, {epm:6.2f} episodes/min  "
                  f"(load average before: {load:.1f})")
        speedup = results["runs"][1]["wall_s"] / results["runs"][2]["wall_s"]
        results["speedup"] = round(speedup, 3)
        print(f"speed-up of --jobs 2 over --jobs 1 (baseline): {speedup:.2f}x  (ideal on 2 cores: 2.00x)")

        audio_s = episode_seconds(root / "out1")
        print(f"\nper-stage real-time factor (stage seconds / episode seconds, --jobs 1, {audio_s:.0f} s of audio)")
        rtf = {}
        for stage, seconds in sorted(report1["stage_seconds"].items(), key=lambda kv: -kv[1]):
            rtf[stage] = seconds / audio_s
            print(f"  {stage:>10}  {seconds:8.2f} s   RTF {rtf[stage]:.4f}")
        total = sum(rtf.values())
        print(f"  {'total':>10}  {sum(report1['stage_seconds'].values()):8.2f} s   RTF {total:.4f}")
        results["rtf"] = {k: round(v, 5) for k, v in rtf.items()}
        results["rtf_total"] = round(total, 5)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
