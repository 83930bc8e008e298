"""Build process hygiene: Ctrl-C, a build where every episode failed, progress bars, no workers left behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from anim400k.formats.ids import ANNOTATIONS_FILE
from anim400k.testing.terminal import progress_cases


def group_members(pgid: int) -> list[str]:
    """Live processes (not zombies) in process group ``pgid``, as ``pid cmdline``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, _ppid, group = stat[stat.rindex(")") + 2:].split()[:3]
        if int(group) == pgid and state not in ("Z", "X"):
            found.append(f"{entry} {cmd[:120]}")
    return found


def start_build(manifest: Path, out: Path, jobs: int = 2) -> subprocess.Popen:
    """``anim400k build`` in a process group of its own (as a shell runs a job)."""
    cmd = [sys.executable, "-m", "anim400k", "build", str(manifest), "--out", str(out), "--jobs", str(jobs),
           "--no-progress", "--no-video-clips"]
    # an interactive shell gives its foreground job the default SIGINT action; pytest itself may run with
    # SIGINT ignored (a background job of a script, nohup), which a child would otherwise inherit
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def start_and_wait(manifest: Path, out: Path, stages: int = 2) -> subprocess.Popen:
    """:func:`start_build`, returned once ``stages`` stages are done (or the build ended, or 240 s passed)."""
    proc = start_build(manifest, out)
    deadline = time.monotonic() + 240
    while proc.poll() is None and stages_done(out) < stages and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def stages_done(out: Path) -> int:
    try:
        with sqlite3.connect(out / "catalog.sqlite") as db:
            return int(db.execute("SELECT COUNT(*) FROM stages WHERE status='done'").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc (Linux)")
def test_ctrl_c_stops_the_workers_says_how_to_resume_and_resume_leaves_no_process(
    short_manifest: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = start_and_wait(short_manifest, out)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a shell does: the whole foreground group
    rc, stdout, stderr = finish(proc)
    assert rc == 130
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("anim400k: interrupted:"), stderr
    assert f"kept in {out}" in lines[0] and "run the same command again to resume" in lines[0]
    assert group_members(proc.pid) == [], "workers outlived an interrupted build"
    kept = stages_done(out)
    assert kept >= 2 and not (out / ANNOTATIONS_FILE).exists()
    # resuming: finished stages are skipped, the release is written, and no worker is left behind
    again = start_build(short_manifest, out)
    rc, stdout, stderr = finish(again)
    assert rc == 0, stderr
    assert f"release written to {out}" in stdout
    assert group_members(again.pid) == [], "workers outlived a successful build"
    report = json.loads((out / "build_report.json").read_text())
    assert sum(len(e["skipped_stages"]) for e in report["episodes"]) >= kept
    assert not list(out.rglob(".*.part*"))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc (Linux)")
@pytest.mark.parametrize("group", [True, False], ids=["process-group", "driver-only"])
def test_sigterm_stops_the_build_like_ctrl_c_and_exits_143(short_manifest: Path, tmp_path: Path, group: bool) -> None:
    """A scheduler's SIGTERM: Slurm signals every process of the job (workers too), Kubernetes the main one."""
    out = tmp_path / "out"
    proc = start_and_wait(short_manifest, out)
    assert proc.poll() is None, "the build finished before it could be stopped"
    if group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    rc, stdout, stderr = finish(proc)
    assert rc == 143, stderr
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("anim400k: interrupted by SIGTERM:"), stderr
    assert f"kept in {out}" in lines[0] and "run the same command again to resume" in lines[0]
    assert group_members(proc.pid) == [], "workers outlived a terminated build"
    assert stages_done(out) >= 2 and not (out / ANNOTATIONS_FILE).exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc (Linux)")
def test_pool_workers_die_with_a_sigkilled_driver(short_manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start_build(short_manifest, out)
    try:
        deadline = time.monotonic() + 240
        workers: list[str] = []
        while proc.poll() is None and time.monotonic() < deadline:
            workers = [m for m in group_members(proc.pid) if "spawn_main" in m]
            if len(workers) == 2 and stages_done(out) >= 1:  # both workers up and busy with tasks
                break
            time.sleep(0.05)
        assert proc.poll() is None and len(workers) == 2, "the build finished before its driver could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # only the driver, as the OOM killer or `kill -9 PID` does
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        # the workers (and multiprocessing's resource tracker, once their pipes closed) are gone
        assert group_members(proc.pid) == [], "workers outlived a SIGKILLed driver"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc (Linux)")
def test_build_where_every_episode_failed_writes_no_release_and_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(b"\x1aE\xdf\xa3 not a matroska file")
    manifest = tmp_path / "m.yaml"
    eps = [{"episode": str(i), "media": str(broken)} for i in (1, 2)]
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": eps}]}))
    out = tmp_path / "out"
    proc = start_build(manifest, out)
    rc, stdout, stderr = finish(proc)
    assert rc == 2
    assert "release written to" not in stdout and "no episode was built: no release written" in stdout
    assert stdout.count(f"failed s/1 in stage probe: {broken}") == 1
    assert "Traceback" not in stdout + stderr
    assert not (out / ANNOTATIONS_FILE).exists()
    assert json.loads((out / "build_report.json").read_text())["written"] is False
    assert group_members(proc.pid) == [], "workers outlived a failed build"


@pytest.mark.parametrize(("asked", "stderr", "drawn"), progress_cases())
def test_build_progress_bars_only_on_a_terminal(asked, stderr, drawn, monkeypatch: pytest.MonkeyPatch) -> None:
    from anim400k.dataset.schedule import StageProgress

    monkeypatch.setattr(sys, "stderr", stderr)
    bars = StageProgress(asked, {"probe": 2, "audio": 0})
    bars.start("s/1", "probe")
    bars.end("s/1", "probe")
    bars.close()
    assert ("probe" in stderr.getvalue()) == drawn


def test_sigterm_outside_the_stages_is_one_line_and_exit_143(short_manifest: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """SIGTERM while the driver does something else than run stages: still exit 143, and the build's
    SIGTERM handler is gone afterwards."""
    from anim400k.cli import main
    from anim400k.dataset import pipeline

    def terminated(*_args: object, **_kwargs: object) -> None:
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)  # the build's
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(pipeline, "_build_locked", terminated)
    assert main(["build", str(short_manifest), "--out", str(tmp_path / "out"), "--no-progress"]) == 143
    assert capsys.readouterr().err.strip().splitlines() == ["anim400k: interrupted by SIGTERM"]
    assert signal.getsignal(signal.SIGTERM) == before
