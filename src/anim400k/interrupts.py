"""SIGTERM handled as Ctrl-C: a scheduler's or ``kill``'s stop runs the same cleanup as an interrupt."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cluster scheduler stopping the job before its SIGKILL, ``kill PID``): handled as Ctrl-C is.

    A KeyboardInterrupt, so every ``finally`` and every cleanup that Ctrl-C runs runs (temporary
    files removed, workers stopped); the CLI prints ``anim400k: interrupted by SIGTERM`` and exits
    with ``exit_code`` (143).
    """

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"terminated by {signal.Signals(self.signum).name}")


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread.

    So a scheduler's SIGTERM (Slurm, Kubernetes) stops a command as Ctrl-C does: its cleanup runs,
    one line and exit 143. Further SIGTERMs and Ctrl-Cs are ignored while that cleanup runs (the scheduler's
    SIGKILL still ends it), and so are further Ctrl-Cs after a first one (Python's own handler raised a
    KeyboardInterrupt for each: three within 0.15 s broke a Ray build's cleanup into a traceback, its message
    lost its resume hint and Ray's agents were left running). Ctrl-C is left alone where it is ignored (a job
    started with ``&`` from a script) or handled by someone else. The earlier handlers come back afterwards.
    Outside the main thread (signals go to it alone) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, _frame: object) -> None:
        ignore_interrupts()
        raise Terminated(signum)

    def on_int(signum: int, _frame: object) -> None:
        ignore_interrupts()
        raise KeyboardInterrupt

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGTERM, on_term)
    if previous[signal.SIGINT] is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_int)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def ignore_interrupts() -> None:
    """Ignore SIGTERM, and Ctrl-C unless another program's handler has it (Python's own or :func:`sigterm_interrupts`'
    are replaced; an ignored one stays ignored), from now on, in the main thread (elsewhere nothing): for the
    cleanup after a first interrupt, and for the exit after it (Ray's ``atexit`` shutdown sleeps, and a Ctrl-C there
    printed a traceback)."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    handler = signal.getsignal(signal.SIGINT)
    if handler is signal.default_int_handler or getattr(handler, "__module__", None) == __name__:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
