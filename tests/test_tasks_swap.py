"""`anim400k tasks` replaces its output folder as one: a run killed at any step of the swap leaves the
earlier run's manifests or the new run's, never a mix, and the next run recovers and completes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anim400k import tasks
from anim400k.exports.common import recover_export_folder
from anim400k.testing.release import make_release

EARLIER = (1.0, 0.0, 0.0)  # every show in train: other files than the new run's default split


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("rel"))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs(rel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The files of the earlier run and of the new one, each written into a folder of its own."""
    base = tmp_path_factory.mktemp("runs")
    tasks.write_task_views(rel, base / "earlier", proportions=EARLIER)
    tasks.write_task_views(rel, base / "new")
    earlier, new = _files(base / "earlier"), _files(base / "new")
    assert set(earlier) != set(new) and earlier["splits.json"] != new["splits.json"]
    return earlier, new


def _beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


class _Killed(BaseException):
    """Stands for SIGKILL: nothing catches it (a BaseException), the swap stops where it was."""


@pytest.mark.parametrize("step", ["before_setting_aside", "between_the_renames", "before_deleting_the_earlier"])
def test_a_kill_at_each_step_of_the_swap_leaves_one_whole_run(
        rel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: tuple[dict, dict], step: str) -> None:
    earlier, new = runs
    out = tmp_path / "views"
    tasks.write_task_views(rel, out, proportions=EARLIER)
    assert _files(out) == earlier
    rename, rmtree = Path.rename, shutil.rmtree
    renames: list[tuple[str, str]] = []

    def killed_rename(self: Path, target: str | Path) -> Path:
        renames.append((self.name, Path(target).name))
        if step == "before_setting_aside":
            raise _Killed
        done = rename(self, target)
        if step == "between_the_renames":
            raise _Killed
        return done

    def killed_rmtree(path: str | Path, *args: object, **kwargs: object) -> None:
        if step == "before_deleting_the_earlier" and Path(path).name.startswith(".views.anim400k-old-"):
            raise _Killed
        rmtree(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "rename", killed_rename)
    monkeypatch.setattr(shutil, "rmtree", killed_rmtree)
    with pytest.raises(_Killed):
        tasks.write_task_views(rel, out)
    monkeypatch.undo()
    # the earlier run goes aside first
    assert renames[0][0] == "views" and renames[0][1].startswith(".views.anim400k-old-")
    if step == "before_setting_aside":
        assert _files(out) == earlier and [n for n in _beside(out) if ".anim400k-partial-" in n]
    elif step == "between_the_renames":
        # no views at this instant: the earlier run lies whole beside it and the next run puts it back first
        assert not out.exists()
        old = next(tmp_path / n for n in _beside(out) if ".anim400k-old-" in n)
        assert _files(old) == earlier
        assert recover_export_folder(out, whole=lambda f: True) == 1  # the half-swapped new folder is dropped
        assert _files(out) == earlier and _beside(out) == []
    else:
        assert _files(out) == new and [n for n in _beside(out) if ".anim400k-old-" in n]
    summary = tasks.write_task_views(rel, out)  # the next run recovers and completes
    assert _files(out) == new and _beside(out) == [] and summary["counts"]["dubbing"]["train"] > 0


def test_a_run_that_fails_leaves_the_earlier_run_and_nothing_beside(
        rel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: tuple[dict, dict]) -> None:
    earlier, _ = runs
    out = tmp_path / "views"
    tasks.write_task_views(rel, out, proportions=EARLIER)
    keep = tasks.RowFilter.keep
    seen: list[int] = []

    def failing(self: tasks.RowFilter, task: str, row: dict) -> bool:
        seen.append(1)
        if len(seen) == 5:  # some manifests of the new run are written by now
            raise KeyboardInterrupt  # Ctrl-C
        return keep(self, task, row)

    monkeypatch.setattr(tasks.RowFilter, "keep", failing)
    with pytest.raises(KeyboardInterrupt):
        tasks.write_task_views(rel, out)
    assert _files(out) == earlier and _beside(out) == []


_KILLED_RUN = """
import os, sys, time
from pathlib import Path
from anim400k import tasks

out, ready, where = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]

def signal_and_wait(what):
    Path(str(ready) + ".tmp").write_text(what)
    os.replace(str(ready) + ".tmp", ready)  # whole when it appears
    time.sleep(120)

if where == "writing":
    keep = tasks.RowFilter.keep
    seen = []
    def waiting(self, task, row):
        seen.append(1)
        if len(seen) == 5:
            signal_and_wait("writing")
        return keep(self, task, row)
    tasks.RowFilter.keep = waiting
else:
    rename = Path.rename
    def waiting_rename(self, target):
        done = rename(self, target)
        if Path(target).name.startswith(".views.anim400k-old-"):
            signal_and_wait(str(target))
        return done
    Path.rename = waiting_rename
tasks.write_task_views(sys.argv[1], out)
"""


@pytest.mark.parametrize("where", ["writing", "between_the_renames"])
def test_sigkill_while_writing_or_between_the_renames(rel: Path, tmp_path: Path, runs: tuple[dict, dict],
                                                      where: str) -> None:
    """A real SIGKILL: no cleanup runs. The earlier run is whole (in place, or set aside beside ``views``
    and put back by the next run's recovery) and the next run completes."""
    earlier, new = runs
    out, ready = tmp_path / "views", tmp_path / "ready"
    tasks.write_task_views(rel, out, proportions=EARLIER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(rel), str(out), str(ready), where], env=env)
    try:
        deadline = time.monotonic() + 120
        while not ready.is_file() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.is_file(), f"the run did not reach the point to kill it at ({where})"
    finally:
        child.kill()  # SIGKILL
        child.wait()
    beside = _beside(out)
    assert ".views.anim400k.lock" in beside  # left by the kill; the next run takes it over
    if where == "writing":
        assert _files(out) == earlier and any(".anim400k-partial-" in n for n in beside)
    else:
        assert not out.exists() and _files(Path(ready.read_text())) == earlier
    summary = tasks.write_task_views(rel, out)
    assert _files(out) == new and _beside(out) == [] and summary["seed"] == 0


def test_the_mode_of_the_replaced_folder_is_kept(rel: Path, tmp_path: Path) -> None:
    """A run swaps a new folder in for ``--out``: the folder the user made private (0700) or shared (2775)
    keeps that mode, as when the manifests were written into it; a new folder gets a plain mkdir's."""
    import stat

    from anim400k.exports import export

    for mode in (0o700, 0o2775):
        out = tmp_path / f"views{mode:o}"
        out.mkdir()
        out.chmod(mode)
        tasks.write_task_views(rel, out)
        assert stat.S_IMODE(out.stat().st_mode) == mode
        tasks.write_task_views(rel, out)  # an earlier run's folder, replaced again
        assert stat.S_IMODE(out.stat().st_mode) == mode
    exported = tmp_path / "exported"
    exported.mkdir()
    exported.chmod(0o700)
    export(rel, "parquet", exported)
    assert stat.S_IMODE(exported.stat().st_mode) == 0o700


def test_a_mount_point_is_refused_before_any_work(rel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  runs: tuple[dict, dict]) -> None:
    """A mount point (a Docker volume given as ``--out``) cannot be renamed: the swap failed with 'Device or
    resource busy' once every manifest was written; it is refused in one line first, and nothing is left."""
    from anim400k.errors import InputError
    from anim400k.exports import export

    earlier, _ = runs
    out = tmp_path / "views"
    tasks.write_task_views(rel, out, proportions=EARLIER)
    empty = tmp_path / "volume"
    empty.mkdir()
    ismount = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: os.path.abspath(p) in (str(out), str(empty)) or ismount(p))
    for folder in (out, empty):
        with pytest.raises(InputError, match="is a mount point: .*give a folder inside it"):
            tasks.write_task_views(rel, folder)
    with pytest.raises(InputError, match="is a mount point"):
        export(rel, "parquet", empty)
    assert _files(out) == earlier and list(empty.iterdir()) == []
    assert _beside(out) == [] and _beside(empty) == []


def test_mount_points_of_the_mount_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bind mount of a folder of the same file system (``os.path.ismount`` says no) is found in
    ``/proc/self/mountinfo``, its escapes undone."""
    from anim400k.fsutil import disk

    table = ("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
             "35 22 8:1 /home/me/out /data/my\\040volume rw,relatime - ext4 /dev/sda1 rw\n")
    assert disk.mount_points(table) == {"/", "/data/my volume"}
    volume = tmp_path / "my volume"
    volume.mkdir()
    assert disk.is_mount_point("/") and not disk.is_mount_point(volume)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"35 22 8:1 /x {str(volume).replace(' ', chr(92) + '040')} rw - ext4 /dev/sda1 rw\n")
    monkeypatch.setattr(disk, "MOUNTINFO", mountinfo)
    assert disk.is_mount_point(volume) and not disk.is_mount_point(tmp_path)


def test_the_working_folder_is_refused(rel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       runs: tuple[dict, dict]) -> None:
    """``--out .`` (or a folder holding the working folder) would be swapped away under the shell, which is
    left in a deleted, empty-looking folder: refused in one line, the earlier run kept."""
    from anim400k.errors import InputError

    earlier, _ = runs
    out = tmp_path / "views"
    tasks.write_task_views(rel, out, proportions=EARLIER)
    for cwd, given in ((out, "."), (out / "dubbing", ".."), (out / "dubbing", str(out))):
        monkeypatch.chdir(cwd)
        with pytest.raises(InputError, match="is the working folder or holds it"):
            tasks.write_task_views(rel, given)
    from anim400k.exports import export

    with pytest.raises(InputError, match="is the working folder or holds it"):  # export swaps its folder too
        export(rel, "parquet", "..")
    assert _files(out) == earlier and _beside(out) == []
