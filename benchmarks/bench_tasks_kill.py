"""Kill `anim400k tasks` (SIGKILL) at random moments of its run and check what DIR holds each time.

    PYTHONPATH=src python benchmarks/bench_tasks_kill.py [--kills 20] [--seed 0] [--window 0.5,1.3]

Writes an earlier run (every show in train) into DIR, then starts the default run into DIR and kills it
after a random delay drawn uniformly from ``--window`` times the length of a whole run (the median of
three; the default window leaves out most of the imports and reaches past the end). After each kill DIR
must hold the earlier run's files or the new run's, exactly; or, when the kill fell between the two
renames of the swap, be missing with the earlier run whole beside it (``.DIR.old-*``). The next run (not
killed) must then leave the new run's files and nothing beside DIR. Prints the outcome counts.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from anim400k.testing.release import make_release


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(rel: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "anim400k", "tasks", str(rel), "--out", str(out), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def main() -> None:
    """Run the kills and print the outcome counts."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--window", default="0.5,1.3", help="LO,HI: kill after LO..HI times a whole run")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="bench-tasks-kill-"))
    try:
        rel = make_release(base / "rel")
        earlier_args = ("--split", "1,0,0")
        for name, extra in (("earlier", earlier_args), ("new", ())):
            assert _run(rel, base / name, *extra).wait() == 0
        earlier, new = _files(base / "earlier"), _files(base / "new")
        times = []
        for _ in range(3):
            t0 = time.monotonic()
            assert _run(rel, base / "timed").wait() == 0
            times.append(time.monotonic() - t0)
        whole = sorted(times)[1]
        lo, hi = (float(x) * whole for x in args.window.split(","))
        out = base / "views"
        outcomes: Counter[str] = Counter()
        for _ in range(args.kills):
            shutil.rmtree(out, ignore_errors=True)
            assert _run(rel, out, *earlier_args).wait() == 0 and _files(out) == earlier
            child = _run(rel, out)
            time.sleep(rng.uniform(lo, hi))
            child.kill()
            rc = child.wait()
            beside = sorted(p.name for p in base.iterdir() if p.name.startswith(".views."))
            if out.exists():
                state = "earlier" if _files(out) == earlier else "new" if _files(out) == new else "MIXED"
            else:
                olds = [base / n for n in beside if ".old-" in n]
                state = "missing, earlier beside" if olds and _files(olds[0]) == earlier else "LOST"
            outcomes[f"{state} ({'finished' if rc == 0 else 'killed'})"] += 1
            assert _run(rel, out).wait() == 0
            after = sorted(p.name for p in base.iterdir() if p.name.startswith(".views."))
            if _files(out) != new or after:
                outcomes["RE-RUN NOT WHOLE"] += 1
        print(f"whole run {whole:.2f} s (median of 3); {args.kills} kills at uniform random moments in "
              f"[{lo:.2f}, {hi:.2f}] s")
        for state, n in sorted(outcomes.items()):
            print(f"  {state}: {n}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
