"""Benchmark: sync a 24-minute JP/EN pair on one core; compare with a naive direct correlation.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sync.py [--minutes 24] [--sr 16000]``.

Prints the estimate and its error, the seconds taken and the fraction of the episode's
duration (goal: < 2 %). ``--loud``: dialogue 18 dB over a sparse M&E, speech 90 % of the time
(the band-energy windows then follow the dialogue); also prints the CPU seconds of the phase-based
coarse stage alone (``sync.coarse_gcc.gcc_coarse``, budget: <= 10 s for a 24-minute episode).
Baseline: a naive full-length time-domain cross-correlation (``numpy.correlate``, direct method)
over the same lag range, timed on a short piece and extrapolated by its multiply-accumulate
throughput (it also cannot model drift).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _signals import dubbed_pair  # noqa: E402

from anim400k.sync.coarse_gcc import gcc_coarse  # noqa: E402
from anim400k.sync.estimate import analyze_sync  # noqa: E402


def naive_seconds(n_jp: int, n_lags: int, sr: int) -> float:
    """Extrapolated time of ``numpy.correlate`` over ``n_lags`` lags of an ``n_jp``-sample track."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sr * 2).astype(np.float32)
    b = rng.standard_normal(sr * 2 + 20000).astype(np.float32)
    t = time.perf_counter()
    np.correlate(b, a, mode="valid")  # 20001 lags x 2 s
    el = time.perf_counter() - t
    macs_per_s = a.size * 20001 / el
    return n_jp * n_lags / macs_per_s


def main() -> None:
    """Run the benchmark and print the results."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=24.0)
    ap.add_argument("--sr", type=int, default=16000)
    ap.add_argument("--offset", type=float, default=-7.3)
    ap.add_argument("--drift", type=float, default=0.041)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--loud", action="store_true", help="dialogue 18 dB over a sparse M&E, 90 %% of the time")
    args = ap.parse_args()
    dur = args.minutes * 60
    t = time.perf_counter()
    loud = {"speech_over_backing_db": 18.0, "density": 0.9, "sparse": True} if args.loud else {}
    jp, en, _, _ = dubbed_pair(dur, args.sr, args.seed, args.offset, args.drift, **loud)
    print(f"synthesised {dur:.0f} s pair at {args.sr} Hz in {time.perf_counter() - t:.1f} s")
    t, cpu = time.perf_counter(), time.process_time()
    r = analyze_sync(jp, en, args.sr)
    el, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(
        f"estimate: offset {r.offset * 1000:+.2f} ms (true {args.offset * 1000:+.2f}, "
        f"error {(r.offset - args.offset) * 1000:+.2f} ms), drift {r.drift * 100:+.4f} % "
        f"(true {args.drift * 100:+.4f}, error {(r.drift - args.drift) * 100:+.5f} %), "
        f"confidence {r.confidence:.2f}"
    )
    print(f"sync time: {el:.2f} s = {100 * el / dur:.2f} % of the duration (goal < 2 %), {cpu:.2f} CPU-s")
    print(f"band-energy windows on the line: {sum(w[3] for w in r.windows)}/{len(r.windows)}")
    if args.loud:
        cpu = time.process_time()
        line = gcc_coarse(jp, en, args.sr, 30.0, 0.05)
        cpu = time.process_time() - cpu
        said = "none" if line is None else (
            f"offset {line.a * 1000:+.1f} ms, drift {(line.b - 1) * 100:+.3f} %, "
            f"{sum(m[3] for m in line.matches)}/{len(line.matches)} excerpts, {line.speeds} speed factors"
        )
        print(f"GCC coarse stage alone: {said}; {cpu:.2f} CPU-s (budget 10)")
    n_lags = int(2 * (30.0 + 0.05 * dur) * args.sr)
    base = naive_seconds(jp.size, n_lags, args.sr)
    print(
        f"baseline numpy.correlate (direct, time domain) over the same +-{n_lags / 2 / args.sr:.0f} s lag range, "
        f"extrapolated: {base:.0f} s = {100 * base / dur:.0f} % of the duration; speed-up x{base / el:.0f}"
    )


if __name__ == "__main__":
    main()
