"""The cost of publishing an output without replacing a file (:func:`anim400k.fsutil.rename.rename_noreplace`) against
a plain :func:`os.replace`: each way renames ``--files`` fresh one-byte files into an empty folder, ``--rounds``
times in turn, and prints the mean microseconds per rename (only the rename is timed).

    PYTHONPATH=src python benchmarks/bench_publish.py [--files 2000] [--rounds 2] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from anim400k.fsutil import rename as fsutil_rename


def _mean_us(folder: Path, files: int, rename: Callable[[Path, Path], object]) -> float:
    total = 0.0
    for i in range(files):
        src = folder / f"s{i}"
        src.write_bytes(b"x")
        t = time.perf_counter()
        rename(src, folder / f"d{i}")
        total += time.perf_counter() - t
    for p in folder.iterdir():
        p.unlink()
    return total / files * 1e6


def main() -> None:
    """Print the mean time per rename of each way, per round."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dir", default=None, help="where the folder is made (the file system measured)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(dir=args.dir))
    real = fsutil_rename._libc_renameat2
    try:
        for r in range(args.rounds):
            figures = {"os.replace": _mean_us(folder, args.files, os.replace),
                       "renameat2": _mean_us(folder, args.files, fsutil_rename.rename_noreplace)}
            fsutil_rename._libc_renameat2 = lambda: None  # type: ignore[assignment]  # the link fallback
            figures["link+unlink"] = _mean_us(folder, args.files, fsutil_rename.rename_noreplace)
            fsutil_rename._libc_renameat2 = real
            print(f"round {r + 1}: " + "  ".join(f"{k} {v:.1f} us" for k, v in figures.items()))
    finally:
        fsutil_rename._libc_renameat2 = real
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
