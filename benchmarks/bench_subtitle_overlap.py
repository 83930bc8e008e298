"""Benchmark: the subtitle events of 40k clips when one event spans the whole track (a credit line).

Baseline: every event in one candidate window (``align._short_pairs`` over all events: what
``overlapping_flat`` did before long events were matched on their own), which made every clip test every
event. Both results are checked to be the same pairs before the ratio is printed.

    python benchmarks/bench_subtitle_overlap.py [--clips 40000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from anim400k.align import _short_pairs, overlapping_flat


def main() -> None:
    """Run the benchmark and print the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=40_000)
    args = ap.parse_args()
    n = args.clips
    a = np.arange(n) * 2.0
    b = a + 1.0
    s, e = np.concatenate([a, [0.0]]), np.concatenate([b, [2.0 * n]])  # one cue per clip + one over all
    t0 = time.process_time()
    idx, bounds = overlapping_flat(a, b, s, e)
    t_new = time.process_time() - t0
    order = np.argsort(s, kind="stable")
    t0 = time.process_time()
    clips, pos = _short_pairs(a, b, s[order], e[order], np.arange(s.size))
    t_old = time.process_time() - t0
    arrange = np.lexsort((pos, clips))
    assert np.array_equal(order[pos[arrange]], idx), "baseline and overlapping_flat disagree"
    print(f"{n:,} clips, {s.size:,} events (one spanning the track): overlapping_flat {t_new:.3f} CPU-s, "
          f"one window (baseline) {t_old:.3f} CPU-s, speed-up {t_old / max(t_new, 1e-9):.0f}x")


if __name__ == "__main__":
    main()
