"""How far the stages in flight are: from the stage task (any process, any runner) to the driver's bars.

The channel is a folder of small files, one per stage task in flight. The task's reporter
(:class:`ProgressFile`, an :data:`anim400k.progress.Reporter`) replaces its file with the latest
``(done, total, unit)`` at most every :data:`WRITE_INTERVAL` seconds (the first and the last report
always); the driver (:class:`ProgressFolder`) reads the files of the tasks it is waiting for and
deletes each one once its stage has finished. Nothing is shared but the files: a worker killed
mid-write leaves at most a temporary file (never a torn one, the write is a rename) and holds no
lock anyone waits on; its retry writes the same file again. A task that cannot write there (a Ray
actor on another machine, where the driver's temporary folder does not exist) stops trying and runs
on silently: its stage's bar then counts episodes only.

The driver makes the folder only when a bar is drawn (stderr is a terminal); otherwise the stages
get no reporter at all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from ..progress import Reporter
from .context import EpisodeContext

#: seconds between two writes of one task's progress file (its first and last reports are always written)
WRITE_INTERVAL = 0.5
#: passes :meth:`ProgressFolder.close` makes at deleting the folder
CLOSE_TRIES = 5


def progress_file_name(key: str, stage: str) -> str:
    """The file name of ``stage``'s progress for the episode ``key`` (``show/episode``, quoted)."""
    return f"{stage}.{quote(key, safe='')}.json"


class ProgressFile:
    """A :data:`~anim400k.progress.Reporter` that keeps the latest report in ``path`` (written by rename).

    Reports closer together than ``interval`` seconds are not written at once, except the first and one with
    ``done >= total``; the latest of them is written when the interval is over (a timer thread), so a burst of
    reports (a batch of Whisper windows finishing together) shows its last one, not its first until the next
    batch (a 10-minute episode's ``asr_en`` read 28/600 s for a minute). An ``OSError`` (the folder is gone or
    not on this machine) turns it off.
    """

    def __init__(self, path: str | Path, interval: float = WRITE_INTERVAL) -> None:
        self.path = Path(path)
        self.interval = interval
        self.writes = 0
        self._last = -float("inf")
        self._off = False
        self._pending: tuple[float, float, str] | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __call__(self, done: float, total: float, unit: str) -> None:
        if self._off:
            return
        now = time.monotonic()
        with self._lock:
            if done < total and now - self._last < self.interval:
                self._pending = (done, total, unit)
                if self._timer is None:
                    self._timer = threading.Timer(self.interval - (now - self._last), self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._write(done, total, unit, now)

    def _flush(self) -> None:
        """Write the report held back by the interval, if any is still held."""
        with self._lock:
            self._timer = None
            if self._pending is not None and not self._off:
                self._write(*self._pending, time.monotonic())

    def _write(self, done: float, total: float, unit: str, now: float) -> None:
        """Write one report (with ``self._lock`` held); any held-back one is superseded."""
        self._pending = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._last = now
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            tmp.write_text(json.dumps({"done": float(done), "total": float(total), "unit": str(unit)}),
                           encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            self._off = True
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return
        self.writes += 1


def stage_reporter(ctx: EpisodeContext, stage: str) -> Reporter | None:
    """The reporter a stage task gets: a :class:`ProgressFile` in the context's progress folder, or None
    (no folder: no bars are drawn, so the stage reports nothing)."""
    if not ctx.progress_dir:
        return None
    return ProgressFile(Path(ctx.progress_dir) / progress_file_name(ctx.ref.key, stage))


class ProgressFolder:
    """The driver's end of the channel: a temporary folder, the contexts that point the tasks at it, and
    the reading of the tasks' files (:meth:`read`). :meth:`close` deletes it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="anim400k-progress-"))

    def context(self, ctx: EpisodeContext) -> EpisodeContext:
        """``ctx`` with its tasks reporting into this folder."""
        return dataclasses.replace(ctx, progress_dir=str(self.root))

    def read(self, key: str, stage: str) -> tuple[float, float, str] | None:
        """The latest ``(done, total, unit)`` of ``stage`` of episode ``key``; None before its first report
        (or for a file that does not parse)."""
        try:
            d = json.loads((self.root / progress_file_name(key, stage)).read_text(encoding="utf-8"))
            return float(d["done"]), float(d["total"]), str(d["unit"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def clear(self, key: str, stage: str) -> None:
        """Forget ``stage`` of ``key`` (it finished or failed)."""
        (self.root / progress_file_name(key, stage)).unlink(missing_ok=True)

    def close(self) -> None:
        """Delete the folder and whatever is left in it, also while tasks still write their files.

        The folder is first renamed away: a task still running (an early-stopped build) then finds
        no folder to write into and turns its reporter off, and no new file can appear in the
        renamed one. Deleting in place let a file renamed in after the listing fail the last
        ``rmdir``, which ``ignore_errors`` hid: the folder was left behind. The delete is retried
        a few times all the same (a file created through the old name just before the rename).
        """
        doomed = self.root.with_name(f".{self.root.name}.closing")  # the root's name is unique (mkdtemp)
        try:
            os.rename(self.root, doomed)  # atomic, same file system
        except OSError:  # gone already (closed twice), or the parent refuses: delete in place
            doomed = self.root
        for _ in range(CLOSE_TRIES):
            shutil.rmtree(doomed, ignore_errors=True)
            if not doomed.exists():
                break
