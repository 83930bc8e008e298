"""Ctrl-C and SIGTERM: the first one stops a command as an interrupt, those after it are ignored while the
cleanup runs (three Ctrl-Cs within 0.15 s broke a Ray build's cleanup into a traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from anim400k.interrupts import Terminated, ignore_interrupts, sigterm_interrupts


def _wait_for_signal() -> None:
    time.sleep(0.5)  # the handler runs between bytecodes: this sleep is where it lands


def test_a_second_ctrl_c_during_the_cleanup_is_ignored() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    cleaned = False
    with pytest.raises(KeyboardInterrupt):
        with sigterm_interrupts():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                _wait_for_signal()
            finally:
                os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C while the cleanup runs
                os.kill(os.getpid(), signal.SIGTERM)  # and a scheduler's SIGTERM
                _wait_for_signal()
                cleaned = True
    assert cleaned
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before  # the earlier handlers


def test_sigterm_stops_as_ctrl_c_and_later_ones_are_ignored() -> None:
    with pytest.raises(Terminated) as stopped:
        with sigterm_interrupts():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                _wait_for_signal()
            finally:
                os.kill(os.getpid(), signal.SIGINT)
                _wait_for_signal()
    assert stopped.value.exit_code == 143


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    """A build started with `&` from a script ignores Ctrl-C: the command must not start hearing it."""
    code = ("import os, signal, time\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "from anim400k.interrupts import sigterm_interrupts, ignore_interrupts\n"
            "with sigterm_interrupts():\n"
            "    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN\n"
            "    os.kill(os.getpid(), signal.SIGINT); time.sleep(0.3)\n"
            "print('ran on')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ran on", done.stderr


def test_ignore_interrupts_leaves_a_foreign_ctrl_c_handler() -> None:
    def mine(*_: object) -> None:
        pass

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        signal.signal(signal.SIGINT, mine)
        ignore_interrupts()
        assert signal.getsignal(signal.SIGINT) is mine and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        signal.signal(signal.SIGINT, signal.default_int_handler)
        ignore_interrupts()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
