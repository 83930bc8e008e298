"""The command shell: usage errors are click's short message and exit 2 (never a traceback); --version."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anim400k import __version__
from anim400k.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "No such option: --bogus"),
        (["nosuch"], "No such command 'nosuch'"),
        (["dub", "--bogus"], "No such option: --bogus"),
        (["dub"], "Missing option '--out'"),
        (["dub", "v.mkv", "--out", "o.mkv", "--min-stretch", "abc"], "Invalid value for '--min-stretch'"),
        (["build", "m.yaml", "--out", "o", "--video-preset", "quick"], "'quick' is not an x264 preset"),
    ],
)
def test_usage_errors_are_one_message_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_usage_error_from_the_installed_command_has_no_traceback():
    done = subprocess.run([sys.executable, "-m", "anim400k", "export", "--nope"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "No such option: --nope" in done.stderr and "Traceback" not in done.stderr


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"anim400k {__version__}"


def test_every_command_module_is_registered_statically():
    """cli.COMMANDS names every module of anim400k.commands (no importlib loop that skips a missing one)."""
    import pkgutil

    from anim400k import cli, commands

    modules = {m.name for m in pkgutil.iter_modules(commands.__path__)}
    assert {c.__name__.rsplit(".", 1)[1] for c in cli.COMMANDS} == modules
