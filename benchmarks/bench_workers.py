"""Build throughput: build RTF, the ``--jobs 2`` / ``--jobs 1`` ratio, and per-stage CPU seconds.

    python benchmarks/bench_workers.py [--episodes 2] [--duration 300] [--pairs 2] [--episodes-dir DIR]
    python benchmarks/bench_workers.py --episodes 1 --duration 1440 --pairs 1   # one 24-minute episode
    python benchmarks/bench_workers.py ... --asr-ja vad   # every build without Japanese text (JP VAD only)
    python benchmarks/bench_workers.py ... --pool-jobs 2 3   # pools of 2 and then 3 workers after --jobs 1
    python benchmarks/bench_workers.py ... --pool-jobs auto  # the default --jobs auto against --jobs 1

Makes ``--episodes`` synthetic episodes (320x180 video; or reuses those already in ``--episodes-dir``:
making a 24-minute episode costs ~4 minutes), then builds them into fresh folders in turn with
``--jobs 1`` (the named baseline: one worker, every stage in its process, its English ASR windows and clip
encoders spread over every CPU as a user's ``--jobs 1`` does), ``--jobs 1`` with
``ANIM400K_THREADS=1`` (one thread per stage: the one-core baseline a pool worker's share
amounts to; skipped with ``--no-one-thread``) and ``--jobs 2`` (a 2-process pool, stages of one
episode overlapped where the DAG allows), ``--pairs`` times (A B C A B C: on a shared machine
the load drifts, and builds measured back to back are the fairer comparison).

Each build runs in a fresh Python process (as a user's ``anim400k build`` does: it pays its own
imports and model loads; an in-process second build would find the models loaded). Printed per
build: wall seconds, CPU seconds (the build's process and its pool's workers), the build
RTF (wall seconds / seconds of episode audio; the issue's target is <= 0.10 on 2 cores), the
CPU RTF (CPU seconds / audio seconds: on an idle 2-core machine the wall RTF cannot go below
half of it), the cores kept busy (CPU / wall) and the load average before the build; then every
pair's speed-up of ``--jobs 2`` over each ``--jobs 1`` baseline (ideal on 2 cores against the
one-thread baseline: 2.0) and their median. From the first pair it prints each stage's CPU
seconds, share and wall seconds for the first and last build (the
build report's ``stage_cpu_seconds``/``stage_seconds``: CPU of the process that ran the stage,
all its threads), the profile that says where the time goes. ``OMP_NUM_THREADS`` is left as
the user has it: the ``--jobs 1`` build then runs as a user's would.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def make_manifest(root: Path, n: int, duration: float) -> Path:
    """``n`` synthetic episodes (seeds 100.., EN offsets 0/0.5/1.0 s) and a manifest over them; reuses made ones."""
    import yaml

    from anim400k.synth import make_episode

    eps = []
    for i in range(n):
        folder = root / f"ep{i + 1}"
        if not (folder / "truth.json").is_file():
            t0 = time.perf_counter()
            make_episode(folder, duration=duration, seed=100 + i, offset=0.5 * (i % 3))
            print(f"made episode {i + 1} ({duration:.0f} s) in {time.perf_counter() - t0:.0f} s", flush=True)
        eps.append({"episode": str(i + 1), "media": str(folder / "episode.mkv"),
                    "subtitles": str(folder / "episode.en.srt")})
    path = root / f"manifest_{n}.yaml"
    path.write_text(yaml.safe_dump({"shows": [{"key": "bench", "episodes": eps}]}))
    return path


def cpu_seconds() -> float:
    """User+system CPU seconds of this process and its finished child processes (the builds and their pools)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_build(
    manifest: Path, out: Path, jobs: int | str, threads: str | None = None, asr_ja: str = "auto"
) -> tuple[float, float, dict[str, Any]]:
    """Build into a fresh ``out`` with ``jobs`` workers (``"auto"``: the default) in a fresh Python process
    (``threads``: ``ANIM400K_THREADS`` for it, unset if None; ``asr_ja``: the JP ASR backend, as ``--asr-ja``), so every
    build pays its own imports and model loads as a user's command does; returns (wall seconds, CPU seconds
    of that process and its pool's workers, the build report as written to ``build_report.json``)."""
    from anim400k.threads import THREADS_ENV

    shutil.rmtree(out, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != THREADS_ENV}
    if threads:
        env[THREADS_ENV] = threads
    peak_file = out.with_name(out.name + ".peak_rss")
    code = ("import resource, sys; from pathlib import Path; from anim400k.dataset.options import BuildOptions; "
            "from anim400k.dataset.pipeline import build_dataset; "
            "build_dataset(sys.argv[1], sys.argv[2], "
            "BuildOptions(progress=False, jobs=None if sys.argv[3] == 'auto' else int(sys.argv[3]), "
            "asr_ja=sys.argv[5])); "
            "hwm = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')]; "
            "Path(sys.argv[4]).write_text(str(max(hwm + [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss])))")
    t0, c0 = time.perf_counter(), cpu_seconds()
    done = subprocess.run([sys.executable, "-c", code, str(manifest), str(out), str(jobs), str(peak_file), asr_ja],
                          env=env, check=False)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if done.returncode != 0 and not (out / "build_report.json").is_file():
        raise SystemExit(f"the --jobs {jobs} build failed (exit {done.returncode})")
    report = json.loads((out / "build_report.json").read_text())
    # largest resident set of the build's process (VmHWM: its own, where ru_maxrss would keep the RSS of
    # the benchmark process it was forked from, e.g. 5 GB after making a 24-minute episode) or any of its
    # pool workers (ru_maxrss of its children; Linux: KiB)
    report["peak_rss_mib"] = round(int(peak_file.read_text()) / 1024) if peak_file.is_file() else None
    for e in report.get("episodes", []):  # shown so it gets fixed (both builds fail alike)
        if not e.get("ok", True):
            print(f"  warning: episode {e['key']} failed in stage {e.get('failed_stage')}: {e.get('error')}")
    return wall, cpu, report


def episode_seconds(out: Path) -> float:
    """Total episode duration (JP track) from the probe artifacts of a build."""
    from anim400k.model import JP

    return sum(json.loads(p.read_text())[JP]["duration"] for p in (out / "work").rglob("probe.json"))


def _jobs(value: str) -> int | str:
    """A ``--pool-jobs`` entry: ``auto`` or a worker count."""
    return "auto" if value == "auto" else int(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2, help="synthetic episodes built together")
    parser.add_argument("--duration", type=float, default=300.0, help="seconds per episode (1440: 24 minutes)")
    parser.add_argument("--pairs", type=int, default=2, help="rounds of (--jobs 1 [, one thread], --jobs 2)")
    parser.add_argument("--no-one-thread", action="store_true",
                        help="skip the --jobs 1 build with ANIM400K_THREADS=1")
    parser.add_argument("--episodes-dir", type=Path, help="where episodes are made/reused (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--pool-jobs", type=_jobs, nargs="+", default=[2], metavar="N",
                        help="pool sizes built after the --jobs 1 baseline(s), in this order (default 2; the "
                             "speed-ups are of the last one, e.g. --pool-jobs 2 3 for 3 workers on 2 CPUs; "
                             "auto: the build's default --jobs auto)")
    parser.add_argument("--asr-ja", default="auto",
                        help="the JP ASR backend of every build, as the build's --asr-ja (vad: no Japanese text)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_workers_"))
    try:
        root = args.episodes_dir or tmp / "episodes"
        manifest = make_manifest(root, args.episodes, args.duration)
        runs: list[dict[str, Any]] = []
        audio_s = 0.0
        print(f"{args.episodes} episode(s) x {args.duration:.0f} s; baseline: --jobs 1 (one process); "
              f"{os.cpu_count()} CPUs; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
              f"--asr-ja {args.asr_ja}")
        configs = [("--jobs 1", 1, None)] + ([] if args.no_one_thread else [("--jobs 1 (1 thread)", 1, "1")])
        configs += [(f"--jobs {j}", j, None) for j in args.pool_jobs]
        for pair in range(args.pairs):
            for label, jobs, threads in configs:
                load = os.getloadavg()[0]
                out = tmp / f"out{jobs}"
                wall, cpu, report = timed_build(manifest, out, jobs, threads, args.asr_ja)
                audio_s = audio_s or episode_seconds(out)
                run = {"pair": pair + 1, "label": label, "jobs": jobs, "threads": threads,
                       "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                       "rtf": round(wall / audio_s, 4), "cpu_rtf": round(cpu / audio_s, 4),
                       "cores": round(cpu / wall, 2), "load": round(load, 1),
                       "peak_rss_mib": report["peak_rss_mib"],
                       "stage_cpu_s": report["stage_cpu_seconds"], "stage_wall_s": report["stage_seconds"]}
                runs.append(run)
                print(f"pair {pair + 1} {label:<19}: {wall:7.1f} s wall {cpu:7.1f} s CPU  build RTF {run['rtf']:.3f} "
                      f"(CPU RTF {run['cpu_rtf']:.3f}, {run['cores']:.2f} cores busy)  peak {run['peak_rss_mib']} MiB  "
                      f"load before {load:.1f}",
                      flush=True)
        k = len(configs)
        rounds = [runs[i: i + k] for i in range(0, len(runs), k)]
        print(f"\n{audio_s:.0f} s of episode audio ({args.episodes} x {args.duration:.0f} s)")
        last = configs[-1][0]
        print(f"build RTF {last}, per pair: " + ", ".join(f"{r[-1]['rtf']:.3f}" for r in rounds)
              + " (target <= 0.10 on 2 cores); --jobs 1 (baseline): "
              + ", ".join(f"{r[0]['rtf']:.3f}" for r in rounds))
        ratios: list[float] = []
        for b in range(k - 1):
            rs = [r[b]["wall_s"] / r[-1]["wall_s"] for r in rounds]
            ratios = ratios or rs
            print(f"speed-up of {last} over {configs[b][0]} (baseline), per pair: "
                  + ", ".join(f"{x:.2f}x" for x in rs) + f"; median {statistics.median(rs):.2f}x (ideal 2.00x)")
        one, two = runs[0], runs[k - 1]
        total = sum(one["stage_cpu_s"].values()) or 1.0
        print(f"\nper stage, pair 1 (--jobs 1: {total:.1f} CPU-s in stages, CPU RTF {total / audio_s:.3f}; "
              f"{last}: {sum(two['stage_cpu_s'].values()):.1f} CPU-s; j2 = {last}):")
        print(f"  {'stage':>10}  {'CPU-s j1':>9}  {'share':>6}  {'CPU RTF':>7}  {'wall j1':>8}  {'CPU-s j2':>9}  "
              f"{'wall j2':>8}")
        for stage, sec in sorted(one["stage_cpu_s"].items(), key=lambda kv: -kv[1]):
            print(f"  {stage:>10}  {sec:9.1f}  {100 * sec / total:5.1f}%  {sec / audio_s:7.4f}  "
                  f"{one['stage_wall_s'].get(stage, 0.0):8.1f}  {two['stage_cpu_s'].get(stage, 0.0):9.1f}  "
                  f"{two['stage_wall_s'].get(stage, 0.0):8.1f}")
        if args.json:
            args.json.write_text(json.dumps({"episodes": args.episodes, "duration": args.duration,
                                             "audio_s": audio_s, "runs": runs, "speedups": ratios}, indent=2) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
