"""Disk facts: a disk that looks full, flushing a file or a folder's entries to the disk (``fsync``), mount
points (which cannot be renamed)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

#: free bytes below which a write that failed is taken to have failed for want of space (an encoder's
#: last buffer did not fit): libsndfile says only "System error." where the OS said ENOSPC
FULL_DISK_FREE_BYTES = 1 << 20


def disk_looks_full(folder: str | Path) -> bool:
    """True when the file system holding ``folder`` has (almost) no space left for this user."""
    try:
        return shutil.disk_usage(folder).free < FULL_DISK_FREE_BYTES
    except OSError:
        return False


def size_limit_reached(path: str | Path) -> bool:
    """True when the file ``path`` (a write just failed) reached this process's file-size limit (``ulimit -f``,
    ``RLIMIT_FSIZE``; Python ignores the SIGXFSZ it sends, so the write fails with EFBIG, which a library such as
    libsndfile reports as "System error.")."""
    try:
        import resource
    except ImportError:  # not POSIX
        return False
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft == resource.RLIM_INFINITY:
        return False
    try:
        return os.stat(path).st_size >= soft - (64 << 10)  # a buffered writer stops up to a buffer short of it
    except OSError:
        return False


def fsync_file(path: str | Path) -> None:
    """Flush ``path``'s data to the disk (``fsync``), so a rename of it that survives a power cut
    never shows an empty or partial file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: str | Path) -> None:
    """Flush ``folder``'s entries (a rename into it) to the disk, where the platform allows it.

    Best effort: a platform or file system that cannot open or sync a folder (Windows, some network
    mounts) is skipped silently; the file's own data were synced before the rename.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: the mount table of this process (Linux): field 5 of each line is a mount point, octal-escaped
MOUNTINFO = Path("/proc/self/mountinfo")
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def mount_points(mountinfo: str) -> set[str]:
    """The mount points a ``/proc/self/mountinfo`` text lists (``\\040`` and the other octal escapes undone)."""
    points = set()
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4:
            points.add(_OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def is_mount_point(path: str | Path) -> bool:
    """Whether the folder ``path`` is a mount point, which cannot be renamed (``EBUSY``): another file system
    than its parent's (:func:`os.path.ismount`), or a bind mount of a folder of the same one (a container's
    volume), as the process's mount table lists it (Linux; elsewhere :func:`os.path.ismount` alone)."""
    if os.path.ismount(path):
        return True
    try:
        table = MOUNTINFO.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return False
    return os.path.realpath(path) in mount_points(table)
