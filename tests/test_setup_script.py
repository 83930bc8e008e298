"""setup.sh refuses a first install on a short disk with one line, before pip writes anything."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fake_tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_short_disk_stops_the_first_install_in_one_line(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("setup.sh", "pyproject.toml"):
        shutil.copy(ROOT / name, checkout / name)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # df -Pm as POSIX prints it, with 700 MB available; a python that only makes the venv folder
    _fake_tool(
        fake_bin,
        "df",
        'echo "Filesystem 1048576-blocks Used Available Capacity Mounted on"\necho "/dev/vda 258048 257348 700 100% /"',
    )
    _fake_tool(fake_bin, "fake-python", 'mkdir -p "$3/bin"')
    for tool in ("espeak-ng", "chromium"):  # present, so no apt-get
        _fake_tool(fake_bin, tool, "exit 0")
    _fake_tool(fake_bin, "ldconfig", 'echo "	libavdevice.so.59 (libc6,x86-64) => /lib/libavdevice.so.59"')
    _fake_tool(fake_bin, "apt-get", 'echo "apt-get must not run" >&2; exit 1')
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "PYTHON": str(fake_bin / "fake-python")}
    done = subprocess.run(["bash", "setup.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{checkout}/.venv needs about 11 GB" in lines[0] and "only 0 GB free" in lines[0]
    assert "installing Python packages" not in done.stdout
    assert not (checkout / ".venv" / ".anim400k-installed").exists()
    assert list((checkout / ".venv").iterdir()) == [checkout / ".venv" / "bin"]


def test_ffmpeg_libraries_for_torchcodec_are_installed_when_missing(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("setup.sh", "pyproject.toml"):
        shutil.copy(ROOT / name, checkout / name)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "apt-calls"
    _fake_tool(fake_bin, "df", 'echo "Filesystem 1048576-blocks Used Available Capacity Mounted on"\n'
                               'echo "/dev/vda 258048 257348 700 100% /"')
    _fake_tool(fake_bin, "fake-python", 'mkdir -p "$3/bin"')
    for tool in ("espeak-ng", "chromium"):
        _fake_tool(fake_bin, tool, "exit 0")
    _fake_tool(fake_bin, "sudo", 'exec "$@"')  # when the tests do not run as root
    _fake_tool(fake_bin, "ldconfig", "echo '	libc.so.6 (libc6,x86-64) => /lib/libc.so.6'")  # no FFmpeg libraries
    _fake_tool(fake_bin, "apt-cache", "echo 'libavdevice58 - FFmpeg library (old)'\n"
                                      "echo 'libavdevice59 - FFmpeg library for handling input and output devices'")
    _fake_tool(fake_bin, "apt-get", f'echo "$@" >> {calls}')
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "PYTHON": str(fake_bin / "fake-python")}
    done = subprocess.run(["bash", "setup.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1  # then stops at the (fake) short disk
    installed = calls.read_text().splitlines()
    assert installed[0].startswith("update")
    assert installed[1].startswith("install") and installed[1].split()[-1] == "libavdevice59"
