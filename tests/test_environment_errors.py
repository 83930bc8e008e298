"""Commands in the conditions real machines have (an outside tester, 2026-12-07): stderr closed, the working folder
deleted, a file-size limit, a locale that is not UTF-8."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.testing.release import make_release


def _run(args: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anim400k", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_a_closed_stderr_is_no_failure(tmp_path: Path) -> None:
    """``anim400k validate REL 2>&-`` exited 1 with nothing on stdout: the progress bar wrote to a stderr of None."""
    rel = make_release(tmp_path / "rel")
    done = subprocess.run(f"{sys.executable} -m anim400k validate {rel} 2>&-", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith(": valid"), done


def test_a_deleted_working_folder_is_named(tmp_path: Path) -> None:
    """A parquet export in a deleted working folder failed 'No such file or directory' with every path absolute (our
    own path check asked for the working folder); the hf export's library asks for it itself: said so."""
    rel = make_release(tmp_path / "rel")
    gone = tmp_path / "gone"
    gone.mkdir()
    script = (f"cd {gone} && rmdir {gone} && {sys.executable} -m anim400k export {rel} -f parquet -o "
              f"{tmp_path / 'P'} && {sys.executable} -m anim400k export {rel} -f hf -o {tmp_path / 'H'}")
    done = subprocess.run(script, shell=True, capture_output=True, text=True, timeout=600)
    assert "(parquet)" in done.stdout and (tmp_path / "P").is_dir()
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1] == (
        "anim400k: error: the working folder no longer exists: change to an existing folder (cd) and run the same "
        "command again")
    assert not (tmp_path / "H").exists()


def test_an_export_past_the_file_size_limit_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture) -> None:
    """``ulimit -f`` read 'the disk is full ... free space there and run the same command again'."""
    import anim400k.exports.parquet as parquet

    rel = make_release(tmp_path / "rel")

    def too_large(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(parquet, "export", too_large)
    assert main(["export", str(rel), "-f", "parquet", "-o", str(tmp_path / "P")]) == 2
    err = capsys.readouterr().err
    assert "a file is too large for this file system or the file-size limit (ulimit -f): the export could not be " \
        "written (file too large); lift the limit" in err and "disk is full" not in err


def test_a_locale_that_cannot_hold_a_character_shows_it_as_a_question_mark(tmp_path: Path) -> None:
    """``LC_ALL=C PYTHONUTF8=0 anim400k stats REL``: a traceback at the table's '±' (and --json never written)."""
    rel = make_release(tmp_path / "rel")
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    done = _run(["stats", str(rel), "--json", str(tmp_path / "s.json")], tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s.json").is_file()


def test_text_the_locale_cannot_hold_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                                                 tmp_path: Path) -> None:
    """A Japanese name under LC_ALL=C with PYTHONUTF8=0 was a traceback (the catalog, a report, lhotse's writer)."""
    def fails(*args: object, **kwargs: object) -> None:
        "データ".encode("ascii")

    rel = make_release(tmp_path / "rel")
    monkeypatch.setattr("anim400k.release.iter_problems", fails)
    assert main(["validate", str(rel)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"anim400k: error: a file name or text could not be encoded under this locale's encoding "
        f"({sys.getfilesystemencoding()}): run in a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or with PYTHONUTF8=1")
