"""Atomic file writes: an output goes to a temporary name and is renamed into place (:func:`atomic_path`), and the
writers built on it (bytes, text, JSON, a matplotlib figure)."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import paths
from .check_notes import _forget
from .disk import fsync_file, fsync_folder
from .output_sets import _staged
from .publish import _publish
from .temp_files import temp_prefix, temp_stem
from .writable import refuse_special_file
from .write_errors import _as_disk_full, _cannot_write, _naming_the_output


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None, sync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    With ``sync`` (the default) the temporary file is flushed to the disk (``fsync``) before the
    rename and the folder after it (:func:`fsync_folder`), so after a power cut ``path`` is the
    old file or the whole new one, never an empty one that a record (the catalog, a report) already
    counts as written. Media writers pass ``sync=False`` (thousands of clips; docs/architecture.md
    gives the measured cost): their size/hash identity checks find a truncated file on a re-run.

    The temporary name keeps the final file's extension (or ``suffix``) so tools that
    pick a format from the extension (FFmpeg, soundfile) still work. A ``path`` that is a
    folder, or below a file, raises :class:`InputError` before the block runs; an error about the
    temporary file (a folder where it cannot be created, a failed rename) is an ``OSError`` naming
    ``path``, never the hidden ``.NAME.anim400k-XXXXXXXX.part.EXT`` name. Commands call :func:`check_output_file`
    (or :func:`check_writable`) before their work, so such a folder is found before it is spent. A block that
    fails because the disk filled up raises ``OSError(ENOSPC)`` naming ``path`` (from the
    original error), also when the writer lost the errno (see :func:`_as_disk_full`), so every
    writer's full disk reads ``the disk is full: ... could not write PATH``.

    Inside a :func:`committed_together` block naming ``path``, the finished temporary file is not renamed
    when the block of this function ends but kept for the set's renames at the end of that block.

    A ``path`` that :func:`refuse_foreign_output` checked is published by :func:`_publish`: a file that
    appeared there since the check, or changed there, is left as it is and the new output is put beside it
    (:class:`~anim400k.errors.OutputChanged`).
    """
    from ..errors import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder: give the name of a file to write", path)
    refuse_special_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        from .writable import blocked_folder_problem

        raise InputError(f"cannot be written: {blocked_folder_problem(path.parent)}", path) from exc
    except OSError as exc:  # a read-only parent: named as the file the user gave
        said = f"cannot be written: its folder {path.parent} cannot be made ({exc.strerror or exc})"
        raise OSError(exc.errno, said, str(path)) from exc
    ext = suffix if suffix is not None else "".join(path.suffixes[-1:])
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(temp_stem(path.stem, ext)), suffix=f".part{ext}",
                                   dir=path.parent)
    except OSError as exc:  # named the hidden temporary name; the user gave path
        code = exc.errno if exc.errno is not None else errno.EIO
        said = exc.strerror if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) else _cannot_write(exc, path.parent)
        raise OSError(code, said, str(path)) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    staged = _staged(path)
    try:
        yield tmp_path
        # mkstemp makes 0600 files; outputs follow the umask (the package's one value, read at import)
        os.chmod(tmp_path, 0o666 & ~paths._UMASK)
        if staged is not None:  # one file of a set: renamed with the others when the set is complete
            staged.discard()  # an earlier write of the same file in the set
            staged.tmp, staged.sync = tmp_path, sync
            return
        if sync:
            fsync_file(tmp_path)
        _publish(tmp_path, path)
        if sync:
            fsync_folder(path.parent)
    except BaseException as exc:
        _forget([path])  # a write that failed publishes nothing: its note must not arm a later, unchecked write
        full = _as_disk_full(exc, path, tmp_path)  # before the unlink frees the partial file's space
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        if full is not None:
            raise full from exc
        named = _naming_the_output(exc, path, tmp_path)
        if named is not None and named is not exc:
            raise named from exc
        raise


def jsonable(obj: Any) -> Any:
    """``obj`` with non-finite floats (NaN, inf) replaced by None, recursively, so JSON stays standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically. A file name that a non-UTF-8 locale decoded (its bytes kept as
    surrogates) is written as the bytes it had (the UTF-8 of a Japanese name), not refused after the work."""
    write_bytes_atomic(path, text.encode("utf-8", "surrogateescape"))


def write_json_atomic(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    """Serialise ``obj`` as UTF-8 JSON to ``path`` atomically."""
    write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def save_figure(fig: Any, path: str | Path, dpi: int | None = None) -> Path:
    """Write a matplotlib figure as PNG (atomically) and close it; returns the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", **({"dpi": dpi} if dpi else {}))
    plt.close(fig)
    return path
