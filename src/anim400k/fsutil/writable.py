"""Whether an output can be written, checked before any work: not a folder, not below a file, not a device, pipe
or socket, in a folder that takes a new file."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from .temp_files import temp_prefix
from .write_errors import _cannot_write

_Named = Mapping[str, str | Path | None] | Iterable[tuple[str, str | Path | None]]


def check_output_file(path: str | Path) -> None:
    """Refuse (:class:`InputError` naming ``path``, as the user gave it) an output file that could not be
    written, before any work: a folder, a path below a file, or one whose folder (or nearest existing
    ancestor, for folders :func:`atomic_path` would make) does not let this user create a file
    (:func:`_probe_folder`). Nothing is left behind."""
    from ..errors import InputError
    from ..storage import refuse_url

    refuse_url(path, "the output")
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder: give the name of a file to write", path)
    refuse_special_file(path)
    folder, exc = _probe_folder(path.parent)
    if not folder.is_dir():
        raise InputError(f"cannot be written: {blocked_folder_problem(path.parent)}", path)
    if exc is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise OSError(exc.errno, exc.strerror, str(path)) from exc  # the disk-full message names path
    if exc is not None:
        raise InputError(_cannot_write(exc, folder), path) from None


def refuse_special_file(path: Path) -> None:
    """Refuse (:class:`InputError` naming ``path``) an output that exists and is not a regular file or a folder: a
    device (``/dev/null``), a named pipe or a socket. Outputs are written to a temporary file that is then
    renamed onto the path, which would replace the device itself (as root, ``--out /dev/null`` replaced the
    system's ``/dev/null`` with a regular file)."""
    import stat

    from ..errors import InputError

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputError("is not a regular file (a device, pipe or socket): an output is written to a temporary "
                         "file and renamed onto its path, which would replace it; give the name of a file to write",
                         path)


def blocked_folder_problem(folder: Path) -> str:
    """Why files cannot be made in ``folder`` (or the folders to be made above it): the nearest existing path
    is a symbolic link to nothing (``is a symbolic link to /gone, which does not exist``; it read "is a file"),
    else a file."""
    while not os.path.lexists(folder) and folder.parent != folder:
        folder = folder.parent
    if folder.is_symlink() and not folder.exists():
        return (f"{folder} (a part of its folder path) is a symbolic link to {os.readlink(folder)}, "
                "which does not exist")
    return "a part of its folder path is a file"


def _probe_folder(folder: Path) -> tuple[Path, OSError | None]:
    """Where a new file in ``folder`` would be created, and why it could not be (None: it can).

    The place is ``folder`` or, when it is missing, the nearest existing path above it (:func:`atomic_path`
    makes the missing folders there); callers refuse it when it is not a folder (a part of the folder path
    is a file), and then no probe was made. Otherwise a probe file is created there and removed at once (a
    permission check by mode bits would miss ACLs, read-only mounts and root): nothing is left behind.
    """
    while not os.path.lexists(folder) and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir():
        return folder, None
    try:
        fd, probe = tempfile.mkstemp(prefix=temp_prefix("probe"), suffix=".part", dir=folder)
    except OSError as exc:
        return folder, exc
    os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(probe)
    return folder, None


def check_writable(outputs: _Named, folders: _Named = ()) -> None:
    """Refuse (:class:`InputError` naming the path as given) an output that could not be written.

    ``outputs`` are files and ``folders`` output folders (``--stems DIR``), each ``label`` -> path
    (``None`` skipped; a label is what the user calls it, ``--report``). The folder of each file, and
    each output folder, or the nearest folder above it that exists (:func:`atomic_path` creates the
    missing ones), must take a new file (:func:`_probe_folder`). So a
    read-only folder, one that cannot be created, a folder path through a file or a file output that
    is a folder, or a file output that is a device, pipe or socket (:func:`refuse_special_file`), is refused
    before any work, not after it. Nothing is left behind.
    """
    from ..errors import InputError

    def given(named: _Named) -> list[tuple[str, str | Path]]:
        return [(k, v) for k, v in (named.items() if isinstance(named, Mapping) else named) if v is not None]

    from ..storage import refuse_url

    for label, out in [*given(outputs), *given(folders)]:
        refuse_url(out, label)  # 's3://b/x' made a folder 's3:' here, or crashed a library
    todo = [(label, Path(out), False) for label, out in given(outputs)]
    todo += [(label, Path(out), True) for label, out in given(folders)]
    for label, path, is_folder in todo:
        if is_folder and path.exists() and not path.is_dir():
            raise InputError(f"{label} is a file: give a folder to write into", path)
        if not is_folder and path.is_dir():
            raise InputError(f"{label} is a folder: give the name of a file to write", path)
        if not is_folder:  # a device or pipe (--json /dev/null) was refused only by atomic_path, after the work
            refuse_special_file(path)
        folder, exc = _probe_folder(path if is_folder else path.parent)
        if not folder.is_dir() and folder.is_symlink() and not folder.exists():
            where = "it" if folder == path else f"{folder} (a part of its folder path)"
            raise InputError(f"{label} cannot be written: {where} is a symbolic link to {os.readlink(folder)}, "
                             "which does not exist", path)  # it read "(a part of its folder path) is a file"
        if not folder.is_dir():
            raise InputError(f"{label} cannot be written: {folder} (a part of its folder path) is a file", path)
        if exc is not None:
            raise InputError(f"{label} cannot be written: {exc.strerror or exc} ({folder})", path) from exc
