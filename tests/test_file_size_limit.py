"""A file-size limit (``ulimit -f``; FAT32's 4 GiB is the same EFBIG) met while writing is one line naming the
file and what to do: it was a traceback (SQLite's "disk I/O error"), an internal error of the stage
(libsndfile's "System error.") or a bare "File too large"."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

from anim400k.errors import disk_full_words, is_disk_full

LIMITED = ("import resource, signal\n"
           "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
           "resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY))\n")


def _run(code: str, limit: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", LIMITED.format(limit=limit) + code], capture_output=True,
                          text=True, timeout=120)


def test_a_flac_past_the_limit_is_efbig_naming_the_output(tmp_path: Path) -> None:
    code = ("import numpy as np, soundfile as sf\n"
            "from anim400k.fsutil.atomic import atomic_path\n"
            "try:\n"
            f"    with atomic_path({str(tmp_path / 'ja.16k.flac')!r}, sync=False) as tmp:\n"
            "        sf.write(tmp, np.random.default_rng(0).uniform(-1, 1, 16000 * 20), 16000, format='FLAC')\n"
            "except OSError as exc:\n"
            "    print(exc.errno, exc.filename)\n")
    done = _run(code, 100 << 10)
    assert done.stdout.split() == [str(errno.EFBIG), str(tmp_path / "ja.16k.flac")], done.stderr
    assert [p.name for p in tmp_path.iterdir()] == []  # the partial file is gone


def test_a_catalog_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    code = ("from anim400k.dataset.catalog import Catalog\n"
            "from anim400k.errors import AnimError\n"
            "try:\n"
            f"    Catalog({str(tmp_path / 'catalog.sqlite')!r})\n"
            "except AnimError as exc:\n"
            "    print(exc.message)\n")
    done = _run(code, 4 << 10)
    assert "catalog.sqlite: the build catalog could not be written (disk I/O error: a full disk, a file-size " \
           "limit such as ulimit -f, or a failing disk)" in done.stdout, done.stderr


def test_efbig_is_told_from_a_full_disk() -> None:
    big = OSError(errno.EFBIG, "File too large", "/x/a.mp4")
    full = OSError(errno.ENOSPC, "No space left on device", "/x/a.mp4")
    assert is_disk_full(big) and is_disk_full(full)
    assert disk_full_words(big) == ("a file is too large for this file system or the file-size limit (ulimit -f)",
                                    "lift the limit or write to another file system")
    assert disk_full_words(full) == ("the disk is full", "free space there")
