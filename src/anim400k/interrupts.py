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
    one line and exit 143. Further SIGTERMs are ignored while that cleanup runs (the scheduler's
    SIGKILL still ends it). The earlier handler comes back afterwards. Outside the main thread
    (signals go to it alone) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated(signum)

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
