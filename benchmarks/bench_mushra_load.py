"""Load benchmark of the MUSHRA server on loopback: N concurrent listeners take a full test.

    .venv/bin/python benchmarks/bench_mushra_load.py [--listeners 50] [--trials 3]

Builds a demo test (espeak speech, 2 systems), serves it with uvicorn in a thread on
127.0.0.1, drives N simulated listeners (httpx async: join, state, audio downloads, submit
per trial) and reports lost/duplicated ratings and request latency percentiles. Baseline:
the same requests with a single listener (latency without contention), as a ratio.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from anim400k.evaluate.mushra_create import create_test
from anim400k.evaluate.mushra_load import run_load
from anim400k.evaluate.mushra_server import BackgroundServer
from anim400k.testing.demo_release import make_demo_release, make_demo_systems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listeners", type=int, default=50)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--sample-rate", type=int, default=48000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        release = make_demo_release(root / "release", n_clips=args.trials + 1, sr=16000)
        systems = make_demo_systems(release, root / "systems")
        test_dir = root / "test"
        create_test(
            release.root,
            systems,
            test_dir,
            trials=args.trials,
            training_trials=1,
            sample_rate=args.sample_rate,
            split="all",
        )
        with BackgroundServer(test_dir) as srv:
            base = run_load(srv.url, test_dir, listeners=1)
            res = run_load(srv.url, test_dir, listeners=args.listeners)
    print(
        f"listeners: {res.listeners}  ratings submitted: {res.submitted}  stored: {res.stored}  "
        f"lost: {res.lost}  duplicated: {res.duplicated}  mismatched: {res.mismatched}  "
        f"errors: {len(res.errors)}"
    )
    print(
        f"requests: {len(res.latencies_ms)}  wall: {res.wall_s:.2f} s  "
        f"throughput: {len(res.latencies_ms) / res.wall_s:.0f} req/s"
    )
    p50, p95, p99 = res.percentile(50), res.percentile(95), res.percentile(99)
    print(f"latency ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {max(res.latencies_ms):.1f}")
    b95 = base.percentile(95)
    print(f"baseline (1 listener) p95: {b95:.1f} ms  ->  p95 ratio under load: {p95 / b95:.1f}x")
    for e in res.errors[:10]:
        print("error:", e)


if __name__ == "__main__":
    main()
