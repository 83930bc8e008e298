"""SIGTERM and the Ray runner: a build stopped while its local Ray cluster starts exits 143 with the one line,
leaving no process of its own behind; Ray's shutdown leaves the build's SIGTERM handler in force.

Each test runs its driver in a process of its own (a SIGTERM that killed it must not kill pytest) that starts
its own local cluster, as ``anim400k build --runner ray`` without ``--address`` does.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")  # the ray extra; it is installed wherever that extra is

pytestmark = pytest.mark.slow


@pytest.fixture
def ray_tmp() -> Iterator[str]:
    """A short folder for the cluster's session (Ray's socket paths must stay short)."""
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    try:
        yield temp
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _env(ray_tmp: str) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return dict(os.environ, ANIM400K_RAY_TMP=ray_tmp, OMP_NUM_THREADS="1",
                PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))


def _live_in_group(pgid: int) -> list[str]:
    """The processes of process group ``pgid`` that still run (zombies, already dead, left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(f"{entry.name} {stat[:stat.rindex(')') + 1]}")
    return found


def test_sigterm_while_the_ray_cluster_starts_is_one_line_and_exit_143(short_manifest: Path, tmp_path: Path,
                                                                       ray_tmp: str) -> None:
    """Ray's init installs a SIGTERM handler of its own (``sys.exit(15)``): a SIGTERM in the first seconds of a
    ``--runner ray`` build exited with status 15 and no message, and left Ray's agents running for a minute."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "anim400k", "build", str(short_manifest), "--out", str(out), "--runner", "ray",
           "--jobs", "1", "--no-progress", "--no-video-clips", "--asr-en", "vad", "--asr-ja", "vad"]
    proc = subprocess.Popen(cmd, env=_env(ray_tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 60
    while proc.poll() is None and time.time() < deadline and not (Path(ray_tmp) / "session_latest").exists():
        time.sleep(0.02)
    assert proc.poll() is None, "the build ended before its Ray cluster started"
    proc.send_signal(signal.SIGTERM)  # the cluster is starting: ray.init has not returned
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    ours = [line for line in err.splitlines() if line.startswith("anim400k:") or "Traceback" in line]
    assert proc.returncode == 143, err
    assert len(ours) == 1 and ours[0].startswith(f"anim400k: interrupted by SIGTERM: 0 finished stage(s) are kept "
                                                 f"in {out}"), err
    deadline = time.time() + 15  # Ray's processes end as its shutdown returns; give them a moment
    while _live_in_group(proc.pid) and time.time() < deadline:
        time.sleep(0.2)
    assert _live_in_group(proc.pid) == []
    assert not list(out.rglob(".*.part*")) and not (out / ".anim400k.lock").exists()


def test_ray_shutdown_leaves_the_sigterm_handler_in_force(ray_tmp: str) -> None:
    """Ray's shutdown reset SIGTERM to the default action in the kernel (Python still named the build's handler):
    a SIGTERM once the Ray stages were done (the release being written) killed the build at once."""
    code = ("import os, signal, sys, time\n"
            "from anim400k.interrupts import Terminated, sigterm_interrupts\n"
            "from anim400k.dataset.runners import RayRunner\n"
            "try:\n"
            "    with sigterm_interrupts():\n"
            "        RayRunner(num_cpus=1).close()\n"
            "        os.kill(os.getpid(), signal.SIGTERM)\n"
            "        time.sleep(10)\n"
            "except Terminated:\n"
            "    print('stopped as Ctrl-C stops')\n")
    done = subprocess.run([sys.executable, "-c", code], env=_env(ray_tmp), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "stopped as Ctrl-C stops", done.stderr
