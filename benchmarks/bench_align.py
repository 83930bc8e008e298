"""Benchmark: align 3M segments (1.2M EN + 1.8M JP) with ``align.group_segments``.

Baseline: a straightforward pure-Python sort-and-sweep over the same segments (sort
``(start, end, is_en)`` tuples, extend the current run while ``start <= run_end + tol``),
run at full size. Both results are checked to be identical before the ratio is printed.

    python benchmarks/bench_align.py [--en 1200000 --jp 1800000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from anim400k.align import group_segments, to_us


def make_segments(n: int, rng: np.random.Generator, mean_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` segments in seconds laid along a timeline (durations 0.3-6 s, exponential gaps)."""
    dur = rng.uniform(0.3, 6.0, n)
    gap = rng.exponential(mean_gap, n)
    start = np.cumsum(gap + np.concatenate([[0.0], dur[:-1]]))
    return start, start + dur


def python_sweep(en_s, en_e, jp_s, jp_e, tol: int = 125_000) -> tuple[int, int]:
    """Pure-Python baseline over integer microseconds: returns (clips, unmatched JP segments)."""
    items = [(s, e, True) for s, e in zip(en_s, en_e, strict=True)]
    items += [(s, e, False) for s, e in zip(jp_s, jp_e, strict=True)]
    items.sort()
    clips = unmatched = 0
    run_end = None
    run_has_en = False
    run_jp = 0
    for s, e, is_en in items:
        if run_end is None or s > run_end + tol:
            if run_end is not None:
                clips += run_has_en
                unmatched += 0 if run_has_en else run_jp
            run_end, run_has_en, run_jp = e, is_en, 0 if is_en else 1
        else:
            run_end = max(run_end, e)
            run_has_en = run_has_en or is_en
            run_jp += 0 if is_en else 1
    if run_end is not None:
        clips += run_has_en
        unmatched += 0 if run_has_en else run_jp
    return clips, unmatched


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--en", type=int, default=1_200_000)
    ap.add_argument("--jp", type=int, default=1_800_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    en_s, en_e = make_segments(args.en, rng, mean_gap=2.0)
    jp_s, jp_e = make_segments(args.jp, rng, mean_gap=0.8)
    span = max(en_e[-1], jp_e[-1])
    jp_s, jp_e = jp_s * (en_e[-1] / span), jp_e * (en_e[-1] / span)  # same total length

    t0 = time.perf_counter()
    g = group_segments(en_s, en_e, jp_s, jp_e)
    t_np = time.perf_counter() - t0
    print(f"group_segments: {args.en + args.jp:,} segments -> {g.n_clips:,} clips, "
          f"{g.unmatched_jp:,} unmatched JP: {t_np:.2f} s")

    lists = [to_us(a).tolist() for a in (en_s, en_e, jp_s, jp_e)]
    t0 = time.perf_counter()
    clips, unmatched = python_sweep(*lists)
    t_py = time.perf_counter() - t0
    print(f"pure-Python sort-and-sweep (baseline, same us inputs): {t_py:.2f} s")
    assert (clips, unmatched) == (g.n_clips, g.unmatched_jp), "baseline and group_segments disagree"
    print(f"speed-up vs baseline: {t_py / t_np:.1f}x")


if __name__ == "__main__":
    main()
