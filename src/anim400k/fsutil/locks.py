"""Locks on output folders and files (``flock`` on a ``.anim400k.lock`` file): a second writer is refused at once,
naming the process that holds the lock."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from .temp_files import fitted_name
from .write_errors import _cannot_write

LOCK_FILE = ".anim400k.lock"


@contextlib.contextmanager
def folder_lock(folder: str | Path, what: str = "build") -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (``flock`` on its ``.anim400k.lock``) for the block.

    A second holder gets :class:`InputError` at once, naming the process that holds it. The
    kernel releases the lock when the process ends, also on a crash or ``kill -9``, so a
    stale lock file never blocks. The holder removes the lock file when the block ends
    (success, error, Ctrl-C), while it still holds the lock; a process that opened the old
    file meanwhile sees it is gone once it gets the lock and locks a fresh one. Where
    ``flock`` is unavailable the block runs unlocked.
    """
    folder = Path(folder)
    busy = f"another {what}{{by}} is writing into this folder: wait for it to finish or choose another output folder"
    with _flock(folder / LOCK_FILE, folder, busy):
        yield


def folder_writer(folder: str | Path) -> int | None:
    """The process id of a build writing into ``folder`` now (its :func:`folder_lock` file is locked), else None.

    Read without taking the lock (a reader's probe must never refuse a build starting at that moment): the kernel's
    table of locks (``/proc/locks``) says whether the file is held; where it cannot be read, whether the process the
    file names is alive (a lock file left by a killed build names a process that is gone, or one that reused its
    number: then a stale file is taken for a build)."""
    path = Path(folder) / LOCK_FILE
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
        st = os.stat(path)
    except OSError:
        return None
    if not text.isdigit() or int(text) == os.getpid():
        return None
    held = _flock_held(st)
    if held is not None:
        return int(text) if held else None
    try:
        os.kill(int(text), 0)
    except PermissionError:  # another user's live process
        return int(text)
    except (ProcessLookupError, OverflowError):  # gone; a number no process has
        return None
    return int(text)


def _flock_held(st: os.stat_result) -> bool | None:
    """Whether the file ``st`` describes holds a ``flock`` lock, from ``/proc/locks`` (Linux); None where that table
    cannot be read."""
    try:
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    return any(len(f := line.split()) > 5 and f[1] == "FLOCK" and f[5] == where for line in table.splitlines())


def output_lock_path(path: str | Path) -> Path:
    """The lock file of the output file ``path``: ``.NAME.anim400k.lock`` beside it. ``path`` is made absolute
    first (``.``, ``sub/..``: the folder's own name, in its parent), so every spelling of one output takes one lock."""
    path = Path(os.path.abspath(path))
    return path.parent / f".{fitted_name(path.name, 1 + len(LOCK_FILE))}{LOCK_FILE}"


@contextlib.contextmanager
def output_lock(path: str | Path, what: str = "dub", noun: str = "file") -> Iterator[None]:
    """Hold an exclusive lock on the output file ``path`` (``flock`` on :func:`output_lock_path`) for the block.

    As :func:`folder_lock`, for one file: a second command writing the same file gets :class:`InputError`
    at once (naming the holder's process); writers of other files in the folder are not held up. The
    folder is made if it is missing (the output is written there anyway). An output folder that is
    replaced as a whole (``noun="folder"``, the message's word for it) is locked the same way: its lock
    file lies beside it, so it stays in place while the folder is swapped.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    busy = f"another {what}{{by}} is writing this {noun}: wait for it to finish or choose another output {noun}"
    with _flock(output_lock_path(path), path, busy):
        yield


@contextlib.contextmanager
def _flock(path: Path, subject: Path, busy: str) -> Iterator[None]:
    """Hold ``flock`` on the lock file ``path`` for the block; refuse (:class:`InputError` on ``subject``,
    ``busy`` with ``{by}`` filled in with the holder's process) when another process holds it."""
    from ..errors import InputError

    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # named the hidden lock file ('.E.anim400k.lock: Read-only file system')
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise OSError(exc.errno, exc.strerror, str(subject)) from exc
            raise InputError(_cannot_write(exc, path.parent), subject) from exc
        locked = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = True
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            os.close(fd)
            by = f" (process {holder})" if holder.isdigit() else ""
            raise InputError(busy.format(by=by), subject) from None
        except OSError:  # a file system without flock (some network mounts): go on unlocked
            pass
        if locked and not _same_file(fd, path):
            os.close(fd)  # the holder we waited on removed this file: lock the one at the path now
            continue
        break
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        if locked:
            with contextlib.suppress(OSError):
                os.unlink(path)  # still under the lock: no finished output keeps a lock file
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the file at ``path`` (not removed or replaced)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)
