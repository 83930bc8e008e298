"""How a failed write is told: naming the output the user gave, never its hidden temporary name, and a full disk
as ``OSError(ENOSPC)``."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .disk import disk_looks_full, size_limit_reached


def _cannot_write(exc: OSError, folder: Path) -> str:
    """Why no file can be created in ``folder``, in words (for a message naming the file the user gave)."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot be written: its folder {folder} is not writable (permission denied)"
    if exc.errno == errno.EROFS:
        return f"cannot be written: its folder {folder} is on a read-only file system"
    return f"cannot be written: {exc.strerror or exc}"


#: the errnos of a write that found no room: a full disk, a full quota, a file past a size limit (``ulimit -f``)
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _as_disk_full(exc: BaseException, path: Path, tmp: Path) -> OSError | None:
    """``exc``, raised while writing ``tmp`` for ``path``, as an ENOSPC :class:`OSError` naming ``path``.

    None when it is not about a full disk: an error that says ENOSPC/EDQUOT (also in its cause),
    or a library error that lost the errno (soundfile's ``LibsndfileError: System error.``)
    while the disk has no room left or the file reached the file-size limit (EFBIG; checked before the partial
    file is deleted). Errors of
    this project (:class:`~anim400k.errors.AnimError`) are kept as they are.
    """
    from ..errors import AnimError, is_disk_full

    if not isinstance(exc, Exception) or isinstance(exc, AnimError):
        return None
    if isinstance(exc, OSError) and exc.errno in _FULL and exc.filename == str(path):
        return None  # already says it all
    if isinstance(exc, OSError) and exc.errno in _FULL:
        code = exc.errno
    elif is_disk_full(exc):  # said in its text or by an error it was raised from
        code = errno.EFBIG if "file too large" in str(exc).lower() else errno.ENOSPC
    elif size_limit_reached(tmp):
        code = errno.EFBIG
    elif disk_looks_full(tmp.parent):
        code = errno.ENOSPC
    else:
        return None
    return OSError(code, os.strerror(code), str(path))


def _naming_the_output(exc: BaseException, path: Path, tmp: Path) -> BaseException | None:
    """``exc``, raised while writing ``tmp`` for ``path``, naming ``path`` instead of the hidden temporary
    name (``.r.0bccsdrg.part.json: Read-only file system`` said nothing of the ``r.json`` asked for).

    An :class:`OSError` about ``tmp`` (PyAV's too) becomes a plain ``OSError`` of the same errno naming
    ``path``; a project error naming ``tmp`` is changed in place to name ``path`` and returned. None otherwise.
    """
    from ..errors import AnimError

    if isinstance(exc, AnimError):
        if exc.path == str(tmp):
            exc.path = str(path)
            exc.args = (exc.message,)
            return exc
        return None
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) == str(tmp):
        code = exc.errno if isinstance(exc.errno, int) and exc.errno > 0 else None
        text = exc.strerror or " ".join(str(exc).split())
        return OSError(code, text, str(path)) if code is not None else OSError(errno.EIO, text, str(path))
    return None
