"""setup.sh refuses a first install on a short disk with one line, before pip writes anything."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


#: a python3 that passes setup.sh's checks (its -c snippets: version, headers, ensurepip; it names itself
#: python3.11) and whose `-m venv [--clear] DIR` only makes DIR/bin
FAKE_PYTHON = ('if [ "$1" = -c ]; then echo python3.11; exit 0; fi\n'
               'for last; do :; done\nmkdir -p "$last/bin"')


def _fake_tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


LIBAVDEVICE = "echo '	libavdevice.so.59 (libc6,x86-64) => /lib/libavdevice.so.59'"


def _checkout(tmp_path: Path, ldconfig: str = LIBAVDEVICE, python: str = FAKE_PYTHON,
              apt_get: str | None = None) -> tuple[Path, dict[str, str], Path]:
    """A checkout of setup.sh with fake tools: every system package present, 700 MB of free disk (df -Pm as POSIX
    prints it), a python that only makes the venv folder, and apt-get writing its calls to the returned file."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("setup.sh", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, checkout / name)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "apt-calls"
    _fake_tool(fake_bin, "df", 'echo "Filesystem 1048576-blocks Used Available Capacity Mounted on"\n'
                               'echo "/dev/vda 258048 257348 700 100% /"')
    _fake_tool(fake_bin, "fake-python", python)
    for tool in ("espeak-ng", "chromium", "cc"):  # present, so no apt-get for them
        _fake_tool(fake_bin, tool, "exit 0")
    _fake_tool(fake_bin, "sudo", 'exec "$@"')  # when the tests do not run as root
    _fake_tool(fake_bin, "ldconfig", ldconfig)
    _fake_tool(fake_bin, "apt-get", apt_get or f'echo "$@" >> {calls}')
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "PYTHON": str(fake_bin / "fake-python")}
    return checkout, env, calls


def test_short_disk_stops_the_first_install_in_one_line(tmp_path):
    checkout, env, _ = _checkout(tmp_path, apt_get='echo "apt-get must not run" >&2; exit 1')
    done = subprocess.run(["bash", "setup.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{checkout}/.venv needs about 11 GB" in lines[0] and "only 0 GB free" in lines[0]
    assert "installing Python packages" not in done.stdout
    assert not (checkout / ".venv" / ".anim400k-installed").exists()
    assert list((checkout / ".venv").iterdir()) == [checkout / ".venv" / "bin"]


def test_ffmpeg_libraries_for_torchcodec_are_installed_when_missing(tmp_path):
    checkout, env, calls = _checkout(tmp_path, "echo '	libc.so.6 (libc6,x86-64) => /lib/libc.so.6'")  # no FFmpeg
    _fake_tool(tmp_path / "bin", "apt-cache", "echo 'libavdevice58 - FFmpeg library (old)'\n"
               "echo 'libavdevice59 - FFmpeg library for handling input and output devices'")
    done = subprocess.run(["bash", "setup.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1  # then stops at the (fake) short disk
    installed = calls.read_text().splitlines()
    assert installed[0].startswith("update")
    assert installed[1].startswith("install") and installed[1].split()[-1] == "libavdevice59"


def test_a_long_library_list_is_read_whole_and_apt_is_left_alone(tmp_path):
    """`ldconfig -p | grep -q` under pipefail: grep stopped at the match, ldconfig died of SIGPIPE, and the
    libraries read as missing (99 runs in 100 with a desktop's 100 KB list): every re-run called apt again."""
    lines = ('i=0; while [ $i -lt 3000 ]; do echo "	libfoo$i.so.1 (libc6,x86-64) => /lib/libfoo$i.so.1"; '
             'i=$((i+1)); done')
    ldconfig = LIBAVDEVICE + "\n" + lines
    checkout, env, calls = _checkout(tmp_path, ldconfig)
    for _ in range(5):
        done = subprocess.run(["bash", "setup.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and "needs about 11 GB" in done.stderr  # the fake short disk: past apt
    assert not calls.exists()


def test_an_old_python_is_refused_before_anything(tmp_path):
    """Python 3.10 installed the torch pins (gigabytes) before pip refused the package."""
    old = ('if [ "$1" = -V ]; then echo "Python 3.10.13"; exit 0; fi\n'
           'case "$2" in *version_info*"< (3, 11)"*) exit 1;; esac\nexit 0')
    checkout, env, calls = _checkout(tmp_path, python=old)
    done = subprocess.run(["bash", "setup.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"[setup] error: anim400k needs Python >= 3.11; {env['PYTHON']} is Python 3.10.13 (give another with "
        "PYTHON=python3.11 bash setup.sh)"]
    assert not calls.exists() and not (checkout / ".venv").exists()
