"""An export killed anywhere: its leftovers are cleaned (or the earlier export restored) by the next one,
the export appears whole or not at all, and two exports into one folder do not run at once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from anim400k.errors import InputError
from anim400k.exports import export
from anim400k.exports.common import EXPORT_MARK, PROBLEMS_FILE, recover_export_folder
from anim400k.formats import ids
from anim400k.fsutil.locks import output_lock
from anim400k.testing.release import make_release

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("rel"))


def _beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _leftover(folder: Path, marked: bool = False) -> Path:
    folder.mkdir()
    (folder / "clips.parquet").write_bytes(b"half written")
    if marked:
        (folder / EXPORT_MARK).write_text("x\n", encoding="utf-8")
    return folder


def test_a_killed_exports_leftovers_are_removed_by_the_next_export(rel: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    _leftover(tmp_path / ".o.anim400k-partial-ab12cd_9")  # SIGKILL while writing
    _leftover(tmp_path / ".o.anim400k-hf-cache-zz99yy00")  # SIGKILL during an hf export
    other = _leftover(tmp_path / ".other.anim400k-partial-ab12cd_9")  # another export's: not ours to delete
    s = export(rel, "parquet", out, progress=False)
    assert s["clips"] == 6 and (out / "clips.parquet").is_file()
    assert _beside(out) == [] and other.is_dir()


def test_the_earlier_export_set_aside_by_a_kill_between_the_renames_is_restored(tmp_path: Path) -> None:
    out = tmp_path / "o"
    old = _leftover(tmp_path / ".o.anim400k-old-abcdefgh", marked=True)  # killed after out -> old, before new -> out
    new = _leftover(tmp_path / ".o.anim400k-partial-abcdefgh", marked=True)
    assert recover_export_folder(out) == 1
    assert (out / "clips.parquet").read_bytes() == b"half written" and (out / EXPORT_MARK).is_file()
    assert not old.exists() and not new.exists()
    # with out in place an old one is only a leftover
    _leftover(tmp_path / ".o.anim400k-old-12345678", marked=True)
    assert recover_export_folder(out) == 1 and _beside(out) == [] and (out / EXPORT_MARK).is_file()


def test_problems_file_is_in_the_folder_before_it_replaces_out(rel: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "rel"
    shutil.copytree(rel, root)
    next((root / ids.AUDIO_ARCHIVE).rglob("*.mp3")).unlink()
    out = tmp_path / "o"
    seen: list[bool] = []
    rename = Path.rename

    def watching(self: Path, target: str | Path) -> Path:
        if Path(target) == out:  # the export appears: it must be whole
            seen.append((self / PROBLEMS_FILE).is_file())
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", watching)
    s = export(root, "parquet", out, skip_bad=True, progress=False)
    assert s["problems"] >= 1 and seen == [True] and (out / PROBLEMS_FILE).is_file()


def _problems_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("anim400k-problems-"))


def test_an_export_that_fails_leaves_no_problems_file_in_tmp_or_beside_out(
        rel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The problems file was an ``anim400k-problems-*.jsonl`` in /tmp: it is kept in a hidden folder beside
    the export's own (``.NAME.problems-XXXXXXXX``) and goes when the export fails."""
    import tempfile

    from anim400k.exports import common

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    out = tmp_path / "o"
    init = common.CheckedRelease.__init__
    seen: list[Path] = []

    def failing(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        seen.append(self.problems_file)
        assert self.problems_file.is_file()
        raise KeyboardInterrupt  # as Ctrl-C in the middle of the export

    monkeypatch.setattr(common.CheckedRelease, "__init__", failing)
    with pytest.raises(KeyboardInterrupt):
        export(rel, "parquet", out, progress=False)
    assert seen and seen[0].parent.parent == tmp_path and seen[0].parent.name.startswith(".o.anim400k-problems-")
    assert _problems_in(tmp) == [] and _beside(out) == [] and not out.exists()


_KILLED_EXPORT = """
import os, sys, time
from pathlib import Path
from anim400k.exports import common, export

init = common.CheckedRelease.__init__

def waiting(self, *args, **kwargs):
    init(self, *args, **kwargs)
    Path(sys.argv[3] + ".tmp").write_text(str(self.problems_file))
    os.replace(sys.argv[3] + ".tmp", sys.argv[3])  # whole when it appears
    time.sleep(120)

common.CheckedRelease.__init__ = waiting
export(sys.argv[1], "parquet", sys.argv[2], progress=False)
"""


def test_a_killed_exports_problems_file_is_not_left_in_tmp_and_the_next_export_removes_it(
        rel: Path, tmp_path: Path) -> None:
    """SIGKILL after the problems file was made left an empty ``/tmp/anim400k-problems-*.jsonl`` for good."""
    import subprocess
    import sys
    import time

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out, ready = tmp_path / "o", tmp_path / "ready"
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", _KILLED_EXPORT, str(rel), str(out), str(ready)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not ready.is_file() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.is_file(), "the export did not reach its problems file"
    finally:
        child.kill()  # SIGKILL: no cleanup runs
        child.wait()
    problems = Path(ready.read_text())
    assert _problems_in(tmp) == [] and problems.parent.parent == tmp_path
    assert problems.parent.name in _beside(out)  # left beside out, where the next export looks
    s = export(rel, "parquet", out, progress=False)
    assert s["clips"] == 6 and _beside(out) == [] and _problems_in(tmp) == []


def test_a_second_export_into_the_same_folder_is_refused(rel: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    with output_lock(out, "export"), pytest.raises(InputError, match="another export .*is writing this folder"):
        export(rel, "parquet", out, progress=False)
    assert not out.exists() and _beside(out) == []


def test_a_full_disk_is_one_line_naming_the_folder_and_the_earlier_export_stays(
        rel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import errno

    from anim400k.cli import main
    from anim400k.exports import parquet

    out = tmp_path / "o"
    export(rel, "parquet", out, progress=False)
    before = sorted(p.name for p in out.iterdir())

    def full(self: object) -> None:  # as datasets and pyarrow raise it: wrapped, without the path
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as exc:
            raise RuntimeError("An error occurred while generating the dataset") from exc

    monkeypatch.setattr(parquet._Table, "flush", full)
    assert main(["export", str(rel), "-f", "parquet", "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(out) in err[0] and "no space left" in err[0] and "Traceback" not in err[0]
    assert sorted(p.name for p in out.iterdir()) == before and _beside(out) == []


def test_sigterm_during_an_export_leaves_nothing_beside_out(rel: Path, tmp_path: Path) -> None:
    """SIGTERM (kill, a scheduler) ended an export at once, without its cleanup: its staging folder
    `.E.anim400k-partial-XXXXXXXX` (the export's size) and `.E.anim400k-problems-XXXXXXXX` stayed until the next
    export of `E`."""
    import signal
    import subprocess
    import sys
    import textwrap

    out = tmp_path / "E"
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        from anim400k.cli import main
        from anim400k.exports import common

        def mark(stage):  # the new export is complete in its staging folder: SIGTERM now
            assert any(p.name.startswith(".E.anim400k-partial-") for p in os.scandir({str(tmp_path)!r}))
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)

        common._export_mark = mark
        sys.exit(main(["export", {str(rel)!r}, "--format", "parquet", "--out", {str(out)!r}, "--no-progress"]))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines() == ["anim400k: interrupted by SIGTERM"]
    assert list(tmp_path.iterdir()) == []


def test_a_users_dated_folders_beside_the_output_are_never_taken_for_leftovers(tmp_path: Path) -> None:
    """The clean-up of a killed run took any ``.NAME.old-XXXXXXXX`` (8 characters) beside ``--out`` for its own and
    deleted it: a user's dated backup ``.hf.old-20241231``. Only names with the ``anim400k-`` mark are ours."""
    from anim400k.exports.common import recover_export_folder, stage_prefix

    out = tmp_path / "hf"
    mine = [tmp_path / f".hf.{kind}-20241231" for kind in ("old", "partial", "problems", "hf-cache")]
    for folder in mine:
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
    ours = tmp_path / f"{stage_prefix(out, 'partial')}ab12cd_9"
    ours.mkdir()
    assert recover_export_folder(out) == 1 and not ours.exists()
    assert all((folder / "notes.txt").read_text() == "mine" for folder in mine)
