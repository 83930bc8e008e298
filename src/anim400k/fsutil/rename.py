"""Renaming a file onto a path only if nothing is there (:func:`rename_noreplace`: ``renameat2``, else a hard
link, else a look then :func:`os.replace`)."""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

#: ``renameat2``'s flag: fail with EEXIST instead of replacing an existing file (Linux >= 3.15, glibc >= 2.28)
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100
#: errnos that say a way of renaming without replacing is not there (the kernel, the libc or the file system)
_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM})


@functools.cache
def _libc_renameat2() -> Callable[..., int] | None:
    """libc's ``renameat2`` (Linux, glibc >= 2.28) through ctypes; None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


def rename_noreplace(src: str | Path, dst: str | Path) -> str:
    """Rename the file ``src`` to ``dst`` only if nothing is at ``dst``: :class:`FileExistsError` naming ``dst``
    (and ``src`` left as it was) when something is. Returns the way it was done:

    ``"renameat2"`` (Linux ``renameat2(RENAME_NOREPLACE)``, atomic); where that is missing or the file system
    refuses the flag (EINVAL, ENOSYS), ``"link"``: ``os.link(src, dst)`` (fails with EEXIST, atomic) then
    ``unlink(src)``; where the file system has no hard links either (FAT, some network and FUSE mounts),
    ``"replace"``: a look for ``dst`` and then :func:`os.replace`, which a file created in between (microseconds)
    is still replaced by. Other errors are :class:`OSError` naming ``dst``.
    """
    src_b, dst_b = os.fsencode(src), os.fsencode(dst)
    fn = _libc_renameat2()
    if fn is not None:
        if fn(_AT_FDCWD, src_b, _AT_FDCWD, dst_b, _RENAME_NOREPLACE) == 0:
            return "renameat2"
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise FileExistsError(code, os.strerror(code), str(dst))
        if code not in _UNSUPPORTED:
            raise OSError(code, os.strerror(code), str(dst))
    try:
        os.link(src_b, dst_b)
    except FileExistsError as exc:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst)) from exc
    except OSError as exc:
        if exc.errno not in _UNSUPPORTED:
            raise OSError(exc.errno, exc.strerror, str(dst)) from exc
    else:
        os.unlink(src_b)
        return "link"
    if os.path.lexists(dst_b):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    try:
        os.replace(src_b, dst_b)
    except OSError as exc:  # it named both bytes paths (b'.o.anim400k-x.part.json' -> b'o.json')
        raise OSError(exc.errno, exc.strerror, str(dst)) from exc
    return "replace"
