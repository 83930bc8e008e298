"""The ``anim400k`` process ends right after its command (``cli.run``/``cli.finish``): the ``atexit`` handlers
run and the output is flushed, but the interpreter is not finalized (that took ~0.9 s after the last line once
torch was loaded: docs/asr.md, "Exit time"); a live non-daemon thread keeps the normal exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]

#: A process that records what its exit did: ``atexit`` writes ``atexit``; an object in ``__main__``'s globals
#: writes ``finalized`` when the interpreter is finalized (its module dict cleared), never with ``os._exit``.
PROBE = """
import atexit, os, sys, threading, time
marks = sys.argv[1]

def mark(name, _dir=marks, _open=os.open, _write=os.write, _close=os.close, _flags=os.O_CREAT | os.O_WRONLY):
    fd = _open(_dir + "/" + name, _flags, 0o644)  # nothing looked up at call time: modules may be cleared
    _write(fd, b"x")
    _close(fd)

class Finalized:
    def __del__(self, _mark=mark):
        _mark("finalized")

sentinel = Finalized()
atexit.register(mark, "atexit")
if sys.argv[2] == "thread":
    threading.Thread(target=lambda: (time.sleep(0.5), mark("thread"))).start()
from anim400k import cli
argv = sys.argv[4:]
if sys.argv[3] == "run":
    sys.argv = ["anim400k", *argv]
    cli.run()
else:
    sys.exit(cli.main(argv))
"""


def probe(tmp_path: Path, entry: str, argv: list[str], thread: bool = False) -> tuple[subprocess.CompletedProcess,
                                                                                        set[str]]:
    """Run :data:`PROBE` (``entry`` ``run`` or ``main``) with ``argv``; the process and the marks it left."""
    marks = tmp_path / "marks"
    marks.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", PROBE, str(marks), "thread" if thread else "-", entry, *argv],
                          capture_output=True, text=True, env=env, timeout=300)
    return done, {p.name for p in marks.iterdir()}


def test_main_alone_finalizes_the_interpreter(tmp_path: Path) -> None:
    """The probe sees a normal exit (the check below would pass for nothing otherwise)."""
    done, marks = probe(tmp_path, "main", ["--version"])
    assert done.returncode == 0 and done.stdout.startswith("anim400k ")
    assert marks == {"atexit", "finalized"}


def test_a_command_ends_without_finalizing_after_its_output_is_complete(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    wav = tmp_path / "speech.wav"
    tone = np.sin(2 * np.pi * 180 * np.arange(16000) / 16000) * (1 + 0.5 * rng.standard_normal(16000))
    sf.write(wav, np.concatenate([np.zeros(8000), 0.3 * tone, np.zeros(8000)]).astype(np.float32), 16000)
    out = tmp_path / "t.json"
    done, marks = probe(tmp_path, "run", ["transcribe", str(wav), "-l", "ja", "--asr", "vad", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    assert marks == {"atexit"}, "atexit handlers run; the interpreter is not finalized"
    assert f"-> {out}" in done.stdout  # the piped stdout was flushed before the process ended
    assert "segments" in json.loads(out.read_text())


def test_errors_keep_their_line_and_status(tmp_path: Path) -> None:
    missing = tmp_path / "nothere.wav"
    done, marks = probe(tmp_path, "run", ["transcribe", str(missing), "-l", "ja", "--asr", "vad",
                                          "--out", str(tmp_path / "t.json")])
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and str(missing) in done.stderr
    assert marks == {"atexit"}


def test_long_output_to_a_pipe_is_complete(tmp_path: Path) -> None:
    done, marks = probe(tmp_path, "run", ["build", "--help"])
    assert done.returncode == 0 and marks == {"atexit"}
    assert "--asr-ja" in done.stdout and done.stdout.rstrip().endswith("╯")


def test_a_live_non_daemon_thread_keeps_the_normal_exit(tmp_path: Path) -> None:
    """Its work is waited for (as at a normal exit), so the process is finalized normally."""
    done, marks = probe(tmp_path, "run", ["--version"], thread=True)
    assert done.returncode == 0 and done.stdout.startswith("anim400k ")
    assert marks == {"atexit", "thread", "finalized"}


def test_the_console_script_and_python_m_use_run() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["anim400k"] == "anim400k.cli:run"
    main_module = (ROOT / "src" / "anim400k" / "__main__.py").read_text()
    assert "from .cli import run" in main_module and "\nrun()" in main_module


def test_what_a_library_wrote_through_c_stdio_is_not_lost() -> None:
    """A C library's ``printf`` to a piped stdout sits in C stdio's buffer, which ``os._exit`` does not flush (a
    normal exit's ``exit()`` does): it was lost. PYTHONUNBUFFERED (``-u``) makes C stdio unbuffered and hid it."""
    code = ("import ctypes, sys\n"
            "from anim400k import cli\n"
            "ctypes.CDLL(None).printf(b'written by C\\n')\n"
            "sys.argv = ['anim400k', '--version']\n"
            "cli.run()\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "written by C" in done.stdout and "anim400k " in done.stdout
