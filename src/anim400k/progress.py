"""Progress bars of the long commands (tqdm on stderr, drawn only when stderr is a terminal), and the
small reporter interface long library work uses to say how far it is (:data:`Reporter`).

Library code never draws: a function that takes ``report`` calls it with ``(done, total, unit)``,
and whoever called it decides what to show (the build's driver, :mod:`anim400k.dataset.progress_channel`).
"""

from __future__ import annotations

import inspect
import os
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def progress_bar(enabled: bool = True, **kwargs: Any) -> Any:
    """A ``tqdm`` bar (keyword arguments as tqdm's) that draws only when ``enabled`` and stderr is a terminal.

    Logs and pipes stay clean: off a terminal the bar is disabled, but counts as usual. The bar follows the
    terminal's width; a terminal that says it has 0 columns (a pseudo-terminal nobody sized: ``script`` or
    ``docker exec -t`` started without a terminal, some CI runners) gets ``$COLUMNS`` or 80 columns, where tqdm
    drew an empty line for the whole run.
    """
    from tqdm.auto import tqdm

    width = _unsized_terminal_width(kwargs.get("file", sys.stderr))
    # an unsized terminal says 0 rows too, and tqdm hides every bar below the screen's last row: rows given as well
    # (with the width alone nothing was drawn under `script` or `docker exec -t`: an outside tester)
    sizing: dict[str, Any] = {"dynamic_ncols": True} if width is None else {
        "ncols": width, "nrows": shutil.get_terminal_size((80, 24)).lines or 24}
    return tqdm(disable=None if enabled else True, **sizing, **kwargs)


def _unsized_terminal_width(stream: Any) -> int | None:
    """The width to draw at on a terminal that reports 0 columns (``$COLUMNS``, else 80); None for a terminal
    that reports its width, or a stream that is no terminal (tqdm decides)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):  # no file descriptor (a StringIO), or not a terminal
        return None
    return None if columns > 0 else shutil.get_terminal_size((80, 24)).columns or 80


def file_bar(path: Path, desc: str, enabled: bool = True, passes: int = 1) -> Any:
    """A bar over the bytes of ``path`` read ``passes`` times (total known from its size; see :func:`progress_bar`).

    Give its ``update`` to :attr:`anim400k.release.Dataset.on_read` to follow passes over
    an annotations file. Left off the screen when done (``leave=False``).
    """
    try:
        size: int | None = path.stat().st_size * passes
    except OSError:
        size = None
    return progress_bar(enabled, total=size, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


#: How long work reports its progress: ``report(done, total, unit)`` (e.g. ``report(340.0, 1440.0, "s")``),
#: called with ``done`` growing up to ``total``. Library functions that take one stay silent without it.
Reporter = Callable[[float, float, str], None]


def no_report(done: float, total: float, unit: str) -> None:
    """The default :data:`Reporter`: ignores every report."""


def accepts_report(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` (a backend's ``transcribe``, ``diarize``, ``separate``...) takes a ``report`` keyword."""
    try:
        return "report" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or a C function: no signature to read
        return False


class Counter:
    """Counts finished items of a known ``total`` (clips written, blocks separated) and reports each, from any
    thread: the counts reported never go down."""

    def __init__(self, report: Reporter | None, total: float, unit: str) -> None:
        self.report = report or no_report
        self.total, self.unit = float(total), unit
        self.done = 0.0
        self._lock = threading.Lock()

    def add(self, n: float = 1.0) -> None:
        """``n`` more items are finished."""
        with self._lock:
            self.done = min(self.total, self.done + n)
            self.report(self.done, self.total, self.unit)

    def tick(self, *_args: Any) -> None:
        """One more item is finished (any arguments are ignored: usable as an ``on_clip`` callback)."""
        self.add(1.0)


class Frontier:
    """Reports how far work on ordered pieces (windows of a track, in seconds) is done when the pieces
    finish in any order (worker threads): the end of the longest run of finished pieces from the first.

    ``ends`` are the pieces' end positions in order; ``total`` is where the whole work ends (a track's
    duration). Reports are monotone and the last one, after :meth:`finish`, is ``(total, total)``.
    """

    def __init__(self, report: Reporter | None, ends: list[float], total: float, unit: str = "s") -> None:
        self.report = report or no_report
        self.ends, self.total, self.unit = list(ends), float(total), unit
        self._finished = [False] * len(self.ends)
        self._next = 0
        self._lock = threading.Lock()

    def done(self, index: int) -> None:
        """Piece ``index`` is finished."""
        with self._lock:
            self._finished[index] = True
            moved = False
            while self._next < len(self._finished) and self._finished[self._next]:
                self._next += 1
                moved = True
            if moved:
                self.report(min(self.total, self.ends[self._next - 1]), self.total, self.unit)

    def finish(self) -> None:
        """Everything is done: report ``(total, total)``."""
        with self._lock:
            self.report(self.total, self.total, self.unit)
