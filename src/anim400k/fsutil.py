"""Atomic file writes: outputs go to a temporary name and are renamed into place."""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import errno
import functools
import json
import math
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def mkdtemp_like_mkdir(prefix: str, suffix: str | None = None, dir: str | Path | None = None) -> Path:
    """:func:`tempfile.mkdtemp` whose folder has the mode a plain ``mkdir`` gets (``0o777 & ~umask``).

    ``mkdtemp`` makes 0700 folders; a staged output folder renamed into place would keep that mode
    and differ from every other folder of the output (0755 under umask 0022). For a temporary
    folder that is renamed into place; one that only holds scratch files may stay 0700.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dir))
    os.chmod(path, 0o777 & ~_UMASK)
    return path


#: free bytes below which a write that failed is taken to have failed for want of space (an encoder's
#: last buffer did not fit): libsndfile says only "System error." where the OS said ENOSPC
FULL_DISK_FREE_BYTES = 1 << 20


def disk_looks_full(folder: str | Path) -> bool:
    """True when the file system holding ``folder`` has (almost) no space left for this user."""
    try:
        return shutil.disk_usage(folder).free < FULL_DISK_FREE_BYTES
    except OSError:
        return False


def _as_disk_full(exc: BaseException, path: Path, tmp: Path) -> OSError | None:
    """``exc``, raised while writing ``tmp`` for ``path``, as an ENOSPC :class:`OSError` naming ``path``.

    None when it is not about a full disk: an error that says ENOSPC/EDQUOT (also in its cause),
    or a library error that lost the errno (soundfile's ``LibsndfileError: System error.``)
    while the disk has no room left (checked before the partial file is deleted). Errors of
    this project (:class:`~anim400k.errors.AnimError`) are kept as they are.
    """
    from .errors import AnimError, is_disk_full

    if not isinstance(exc, Exception) or isinstance(exc, AnimError):
        return None
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT) and exc.filename == str(path):
        return None  # already says it all
    if is_disk_full(exc):
        code = exc.errno if isinstance(exc, OSError) and exc.errno == errno.EDQUOT else errno.ENOSPC
    elif disk_looks_full(tmp.parent):
        code = errno.ENOSPC
    else:
        return None
    return OSError(code, os.strerror(code), str(path))


def _cannot_write(exc: OSError, folder: Path) -> str:
    """Why no file can be created in ``folder``, in words (for a message naming the file the user gave)."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot be written: its folder {folder} is not writable (permission denied)"
    if exc.errno == errno.EROFS:
        return f"cannot be written: its folder {folder} is on a read-only file system"
    return f"cannot be written: {exc.strerror or exc}"


def check_output_file(path: str | Path) -> None:
    """Refuse (:class:`InputError` naming ``path``, as the user gave it) an output file that could not be
    written, before any work: a folder, a path below a file, or one whose folder (or nearest existing
    ancestor, for folders :func:`atomic_path` would make) does not let this user create a file
    (:func:`_probe_folder`). Nothing is left behind."""
    from .errors import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder: give the name of a file to write", path)
    refuse_special_file(path)
    folder, exc = _probe_folder(path.parent)
    if not folder.is_dir():
        raise InputError("cannot be written: a part of its folder path is a file", path)
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

    from .errors import InputError

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputError("is not a regular file (a device, pipe or socket): an output is written to a temporary "
                         "file and renamed onto its path, which would replace it; give the name of a file to write",
                         path)


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


#: the longest file name most filesystems take (ext4, XFS, btrfs, APFS: bytes of the encoded name)
NAME_MAX = 255
#: the mark of every temporary name this project writes, right before mkstemp's random part:
#: ``.NAME.anim400k-XXXXXXXX.part.EXT``. A sweep matches it, so a user's own ``.notes.abcdefgh.part`` (the
#: name earlier versions wrote, without the mark) is never taken for one of ours.
TEMP_MARK = "anim400k-"
#: what :func:`atomic_path` adds to a name: ``.`` + ``.anim400k-XXXXXXXX`` + ``.part``
_TEMP_EXTRA = len(".") + len(f".{TEMP_MARK}xxxxxxxx") + len(".part")
#: the same for the unmarked names of versions before the mark (``.NAME.XXXXXXXX.part.EXT``)
_LEGACY_EXTRA = _TEMP_EXTRA - len(TEMP_MARK)


def temp_stem(stem: str, ext: str, extra: int = _TEMP_EXTRA) -> str:
    """``stem`` as :func:`atomic_path` puts it in a temporary name: cut (at a character) so that
    ``.STEM.anim400k-XXXXXXXX.partEXT`` fits in :data:`NAME_MAX` bytes, since an output may use the whole limit
    (``extra``: the bytes the name adds to the stem and EXT; :data:`_LEGACY_EXTRA` for the unmarked names)."""
    room = NAME_MAX - extra - len(os.fsencode(ext))
    while len(os.fsencode(stem)) > room and stem:
        stem = stem[:-1]
    return stem


def temp_prefix(name: str) -> str:
    """The ``prefix`` to give :func:`tempfile.mkstemp` / :func:`tempfile.mkdtemp` for a temporary of ``name``
    (a file stem or a folder name; not cut): ``.NAME.anim400k-``, so the result is one :func:`is_our_temp` knows."""
    return f".{name}.{TEMP_MARK}"


# ---- publishing: the final rename of an output, without replacing a file that appeared since the check ----

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


#: what :func:`refuse_foreign_output` found at each output path it passed (absolute path -> the identity
#: ``(st_dev, st_ino, st_size, st_mtime_ns)`` of the file there, or None: no file), for the publish of that path.
#: One table for the process, not a ContextVar: an output may be published from another thread than its check's.
_SEEN: dict[Path, tuple[int, int, int, int] | None] = {}
_SEEN_LOCK = threading.Lock()
_UNCHECKED = object()


def _output_key(path: str | Path) -> Path:
    """An output path as the tables of outputs in flight key it (:data:`_SEEN`, :data:`_STAGED`): absolute, links
    not resolved (the path the command will rename onto)."""
    return Path(os.path.abspath(path))


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


#: the notes made in the :func:`output_checks` scope open in this thread (their keys in :data:`_SEEN`)
_NOTED: contextvars.ContextVar[set[Path] | None] = contextvars.ContextVar("anim400k_noted", default=None)


def _remember(path: Path, st: os.stat_result | None) -> None:
    """Note what the check of the output ``path`` found there (``st``; None: nothing), for its publish."""
    key = _output_key(path)
    noted = _NOTED.get()
    if noted is not None:
        noted.add(key)
    with _SEEN_LOCK:
        _SEEN[key] = None if st is None else _identity(st)


def _forget(paths: Iterable[str | Path]) -> None:
    """Drop the notes of ``paths`` (:data:`_SEEN`): a write of them that failed, or a command that ended."""
    with _SEEN_LOCK:
        for path in paths:
            _SEEN.pop(_output_key(path), None)


@contextlib.contextmanager
def output_checks() -> Iterator[None]:
    """Scope the notes that :func:`refuse_foreign_output` makes in this thread to the block (one command).

    A note left by a command that failed between its check and its publish would otherwise outlive it in a
    long-lived process (the tests, an API user running several commands) and make a later write of that path
    by a writer that made no check of its own refuse a file written there since (the user's own, legitimately)
    with :class:`~anim400k.errors.OutputChanged`. The CLI runs every command inside this block.
    """
    noted: set[Path] = set()
    token = _NOTED.set(noted)
    try:
        yield
    finally:
        _NOTED.reset(token)
        _forget(noted)


def _seen(path: Path, forget: bool = False) -> object:
    """What the check of ``path`` found (:data:`_SEEN`), :data:`_UNCHECKED` if it was never checked; ``forget``
    drops the note (a publish uses it once: a later write of the path is checked again or not at all)."""
    key = _output_key(path)
    with _SEEN_LOCK:
        return _SEEN.pop(key, _UNCHECKED) if forget else _SEEN.get(key, _UNCHECKED)


def _changed_since(path: Path, seen: object) -> str | None:
    """How the file at ``path`` differs from what its check found (``seen``): ``"appeared"`` (nothing was
    there, something is now), ``"changed"`` (another file, or the same file rewritten), None (as it was, or
    the file the check found is gone)."""
    if seen is _UNCHECKED:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return "appeared" if seen is None and os.path.lexists(path) else None  # a dangling link appeared
    if seen is None:
        return "appeared"
    return None if _identity(st) == seen else "changed"


#: the name a new output gets beside the file it must not replace: ``NAME.anim400k-new.EXT`` (``-2``, ... if taken)
_ASIDE = "anim400k-new"


def _keep_aside(tmp: Path, path: Path) -> Path:
    """Publish the finished temporary ``tmp`` of ``path`` under a free visible name beside it
    (``NAME.anim400k-new.EXT``, then ``NAME.anim400k-new-2.EXT``, ...), never replacing a file; returns it.
    NAME is cut (at a character) so that the name fits in :data:`NAME_MAX` bytes: an output whose name used
    the whole limit failed with ENAMETOOLONG here, and its new output was deleted."""
    ext = "".join(path.suffixes[-1:])
    stem = temp_stem(path.name[: len(path.name) - len(ext)] if ext else path.name, ext, len(f".{_ASIDE}-999"))
    for n in range(1, 1000):
        aside = path.with_name(f"{stem}.{_ASIDE}{'' if n == 1 else f'-{n}'}{ext}")
        try:
            rename_noreplace(tmp, aside)
        except FileExistsError:
            continue
        return aside
    raise FileExistsError(errno.EEXIST, "no free name for the new output beside it", str(path))


def _refused_publish(path: Path, how: str, aside: Path, others: int = 0) -> BaseException:
    """The one-line error of a publish that did not replace ``path`` (``how``: :func:`_changed_since`)."""
    from .errors import OutputChanged

    said = ("a file appeared here while anim400k was writing it" if how == "appeared"
            else "another program changed this file while anim400k was writing it")
    rest = f" (the {others} other new file{'s' if others > 1 else ''} of this output set likewise, " \
           f"as NAME.{_ASIDE}.EXT beside their names)" if others else ""
    return OutputChanged(f"{said}; it was left as it is and the new output is at {aside}{rest}", path)


def _publish(tmp: Path, path: Path) -> None:
    """Rename the finished temporary ``tmp`` onto ``path``. A path that :func:`refuse_foreign_output` checked is
    not replaced if a file appeared there since (nothing was there then) or the file there changed (another
    identity: device, inode, size, mtime): ``tmp`` is kept beside it (:func:`_keep_aside`) and
    :class:`~anim400k.errors.OutputChanged` raised. A path never checked is replaced as before."""
    seen = _seen(path, forget=True)
    if seen is _UNCHECKED:
        os.replace(tmp, path)
        return
    how = _changed_since(path, seen)
    if how is None and (seen is None or not os.path.lexists(path)):
        try:
            rename_noreplace(tmp, path)
            return
        except FileExistsError:
            how = "appeared"
    elif how is None:
        os.replace(tmp, path)  # our own earlier file, as the check found it
        return
    raise _refused_publish(path, how, _keep_aside(tmp, path))


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
    from .errors import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder: give the name of a file to write", path)
    refuse_special_file(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InputError("cannot be written: a part of its folder path is a file", path) from exc
    except OSError as exc:  # a read-only parent: named as the file the user gave
        said = f"cannot be written: its folder {path.parent} cannot be made ({exc.strerror or exc})"
        raise OSError(exc.errno, said, str(path)) from exc
    ext = suffix if suffix is not None else "".join(path.suffixes[-1:])
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(temp_stem(path.stem, ext)), suffix=f".part{ext}",
                                   dir=path.parent)
    except OSError as exc:  # named the hidden temporary name; the user gave path
        code = exc.errno if exc.errno is not None else errno.EIO
        said = exc.strerror if code in (errno.ENOSPC, errno.EDQUOT) else _cannot_write(exc, path.parent)
        raise OSError(code, said, str(path)) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    staged = _staged(path)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs follow the umask
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


def _naming_the_output(exc: BaseException, path: Path, tmp: Path) -> BaseException | None:
    """``exc``, raised while writing ``tmp`` for ``path``, naming ``path`` instead of the hidden temporary
    name (``.r.0bccsdrg.part.json: Read-only file system`` said nothing of the ``r.json`` asked for).

    An :class:`OSError` about ``tmp`` (PyAV's too) becomes a plain ``OSError`` of the same errno naming
    ``path``; a project error naming ``tmp`` is changed in place to name ``path`` and returned. None otherwise.
    """
    from .errors import AnimError

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


@dataclass
class _Staged:
    """One file of a :func:`committed_together` set: its finished temporary file (None: not written yet)."""

    tmp: Path | None = None
    sync: bool = False

    def discard(self) -> None:
        """Delete the temporary file, if any."""
        if self.tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                self.tmp.unlink()
            self.tmp = None


#: the files of the :func:`committed_together` sets open in this thread (absolute path -> its staged temporary)
_STAGED: contextvars.ContextVar[dict[Path, _Staged] | None] = contextvars.ContextVar("anim400k_staged", default=None)


def _staged(path: Path) -> _Staged | None:
    """The :func:`committed_together` entry of ``path`` in this thread, None when it is written on its own."""
    staged = _STAGED.get()
    return None if staged is None else staged.get(_output_key(path))


@contextlib.contextmanager
def committed_together(paths: Iterable[str | Path]) -> Iterator[None]:
    """Write the files ``paths`` as one set: none of them is replaced until the block has written all of them.

    Inside the block, every write of one of ``paths`` through :func:`atomic_path` (and so
    :func:`write_json_atomic`, :func:`save_figure`, the media writers, ``write_srt``) in this thread goes
    to its hidden temporary name as usual, but is not renamed onto its name when that write ends: the
    temporary files are kept, and renamed one right after another (in the order of ``paths``) only when
    the whole block succeeds (those written with ``sync`` flushed to the disk first, their folders after).

    Guarantee: if the block fails or is interrupted (an error, Ctrl-C, SIGTERM turned into one), every
    temporary file is deleted and every file of the set is left as it was: the old set, or none. SIGKILL
    or a power cut while the block runs leaves the old set too (and hidden
    ``.NAME.anim400k-XXXXXXXX.part.EXT`` files, which :func:`remove_stale_temps` deletes); only a kill
    during the renames themselves (no data written then, microseconds) can leave some files of the set
    new and the others old. A file of ``paths`` that the block did not write is left as it was; writes of
    other files in the block are atomic on their own, as always. While the block runs, the old files and
    the new temporary ones take disk space together.
    """
    entries = {_output_key(p): _Staged() for p in paths}
    token = _STAGED.set({**(_STAGED.get() or {}), **entries})
    try:
        try:
            yield
        finally:
            _STAGED.reset(token)
        written = [(path, e, e.tmp) for path, e in entries.items() if e.tmp is not None]
        for _path, e, tmp in written:
            if e.sync:
                fsync_file(tmp)
        _publish_set([(path, e) for path, e, _tmp in written])
        for folder in {path.parent for path, e, _tmp in written if e.sync}:
            fsync_folder(folder)
    except BaseException as exc:
        _forget(entries)  # the set was not published (or only in part): no note arms a later, unchecked write
        temps = {path: e.tmp for path, e in entries.items() if e.tmp is not None}
        for e in entries.values():
            e.discard()
        for path, tmp in temps.items():  # a failed rename named the hidden temporary name
            named = _naming_the_output(exc, path, tmp)
            if named is not None and named is not exc:
                raise named from exc
        raise


def _publish_set(written: list[tuple[Path, _Staged]]) -> None:
    """The renames of a :func:`committed_together` set (each entry's ``tmp`` onto its path), one right after
    another. When a file appeared at a checked path of the set since its check, or the file there changed
    (:func:`_changed_since`), no file of the set replaces anything: each new file is kept beside its name
    (:func:`_keep_aside`) and :class:`~anim400k.errors.OutputChanged` names the first such path. A change in
    the microseconds of the renames themselves keeps that file and the ones after it aside (the earlier ones
    are published)."""
    from .errors import OutputChanged

    def aside(path: Path, e: _Staged) -> Path:
        assert e.tmp is not None
        kept = _keep_aside(e.tmp, path)
        _seen(path, forget=True)
        e.tmp = None
        return kept

    changed = [(p, how) for p, _e in written if (how := _changed_since(p, _seen(p))) is not None]
    if changed:
        kept = {p: aside(p, e) for p, e in written}
        first, how = changed[0]
        raise _refused_publish(first, how, kept[first], len(written) - 1)
    for i, (path, e) in enumerate(written):
        assert e.tmp is not None
        try:
            _publish(e.tmp, path)
        except OutputChanged as exc:
            e.tmp = None
            rest = written[i + 1:]
            for p, later in rest:
                aside(p, later)
            if rest:
                exc.problem += (f" (the {len(rest)} later file{'s' if len(rest) > 1 else ''} of this output set "
                                f"likewise, as NAME.{_ASIDE}.EXT beside their names)")
                exc.args = (exc.message,)
            raise
        e.tmp = None


_Named = Mapping[str, str | Path | None] | Iterable[tuple[str, str | Path | None]]


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
    from .errors import InputError

    def given(named: _Named) -> list[tuple[str, str | Path]]:
        return [(k, v) for k, v in (named.items() if isinstance(named, Mapping) else named) if v is not None]

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
        if not folder.is_dir():
            raise InputError(f"{label} cannot be written: {folder} (a part of its folder path) is a file", path)
        if exc is not None:
            raise InputError(f"{label} cannot be written: {exc.strerror or exc} ({folder})", path) from exc


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


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same path once resolved (symbolic links
    followed), or the same inode (a hard link, a bind mount). A path that does not exist yet
    is the same file as another only by its resolved name."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one of them is missing (a new output) or unreadable
        return False


def refuse_overwriting(outputs: _Named, inputs: _Named) -> None:
    """Refuse (:class:`InputError`, naming the output) an output file that is one of the inputs
    or another output.

    ``outputs`` and ``inputs`` map what the user calls each path (``--out``, ``VIDEO``,
    ``--subtitles``) to the path (a mapping or ``(name, path)`` pairs); ``None`` paths are
    skipped. Every command that reads files and writes others calls this before any work, so
    ``--out`` naming its own input (the same path, a symbolic link to it or a hard link) is one
    clear line instead of a replaced input.
    """
    from .errors import InputError

    given_in = [(k, v) for k, v in (inputs.items() if isinstance(inputs, Mapping) else inputs) if v is not None]
    given_out = [(k, v) for k, v in (outputs.items() if isinstance(outputs, Mapping) else outputs) if v is not None]
    for i, (label, out) in enumerate(given_out):
        for in_label, inp in given_in:
            if same_file(out, inp):
                raise InputError(f"{label} is the input {in_label} ({inp}): writing it would replace "
                                 f"the input; choose another output file", out)
        for other_label, other in given_out[:i]:
            if same_file(out, other):
                raise InputError(f"{label} and {other_label} name the same file: choose two different "
                                 f"output files", out)


def refuse_inside_release(flag: str, out: str | Path | None, release: str | Path) -> None:
    """Refuse (:class:`InputError`, one line) an output folder ``out`` that is the release folder ``release``
    (the one the command reads) or lies inside it, before any work: a later ``build`` or ``export`` of
    that release could delete or swap it. Both are compared resolved (symbolic links followed, also
    through the parts of ``out`` not made yet). ``flag`` is the option as the user wrote it (``--out``);
    ``None`` passes."""
    from .errors import InputError

    if out is None:
        return
    where, root = Path(os.path.realpath(out)), Path(os.path.realpath(release))
    if where == root or root in where.parents:
        verb = "is the release" if where == root else "is inside the release"
        raise InputError(f"{flag} {out} {verb} {release}; choose a folder outside it")


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
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


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


def _within(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def under(root: str | Path, *parts: str) -> Path:
    """``root/parts...``, refusing (:class:`InputError`) any result outside ``root``.

    Every path that a build makes from user-given names (show keys, episodes) goes through
    this one function: a ``..`` or an absolute part is refused instead of writing elsewhere.
    The check is on the names (a symbolic link that the owner of ``root`` put inside it, say
    ``work`` on a scratch disk, is theirs to make). The result is ``root`` joined with ``parts``.
    """
    from .errors import InputError

    path = Path(root).joinpath(*parts)
    if not _within(Path(os.path.abspath(path)), Path(os.path.abspath(root))):
        raise InputError(f"{'/'.join(parts)!r} would lie outside the output folder", root)
    return path


#: temporary names this project writes: atomic_path's ``.NAME.anim400k-XXXXXXXX.part[.ext]`` (mkstemp) and
#: storage's ``.NAME.anim400k-part-PID-HEX`` (remote staging); both carry :data:`TEMP_MARK`
_OUR_TEMP = re.compile(rf"^\..+\.{TEMP_MARK}(?:[a-z0-9_]{{8}}\.part(?:\.[A-Za-z0-9]+)*|part-\d+-[0-9a-f]{{8}})$")
#: the same names as versions before the mark wrote them (``.NAME.XXXXXXXX.part[.ext]``, ``.NAME.part-PID-HEX``):
#: a user's file may look like one, so they are swept only in folders no user writes into (:func:`remove_temps`)
_LEGACY_TEMP = re.compile(r"^\..+\.(?:[a-z0-9_]{8}\.part(?:\.[A-Za-z0-9]+)*|part-\d+-[0-9a-f]{8})$")


def is_our_temp(name: str, legacy: bool = False) -> bool:
    """True for a file name that :func:`atomic_path` (or the storage layer) uses for a temporary file
    (``.NAME.anim400k-XXXXXXXX.part.EXT``). With ``legacy`` also the unmarked names of earlier versions
    (``.NAME.XXXXXXXX.part.EXT``), which a user's file may have too: only for folders this project alone writes."""
    return bool(_OUR_TEMP.match(name) or (legacy and _LEGACY_TEMP.match(name)))


def remove_temps(root: str | Path, folders: list[Path], recursive: bool = True, legacy: bool = False) -> int:
    """Delete this project's temporary files (:func:`is_our_temp`) in ``folders``, all under ``root``.

    Symbolic links below the folders are not followed and a folder outside ``root`` is refused,
    so a sweep never deletes another program's files. With ``recursive`` False only the files
    directly in each folder are looked at (the root of ``--out``, whose subfolders are swept
    on their own or belong to someone else). Only names with :data:`TEMP_MARK` are removed, unless
    ``legacy`` (folders that no user writes into, such as a build's ``work/`` folders) also takes the
    unmarked names that versions before the mark wrote. Returns how many were removed.
    """
    removed = 0
    for folder in folders:
        rel = os.path.relpath(os.path.abspath(folder), os.path.abspath(root))
        folder = under(root, rel)
        if not folder.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(folder):  # followlinks=False
            for name in files:
                if is_our_temp(name, legacy):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(dirpath, name))
                    removed += 1
            if not recursive:
                break
    return removed


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


def output_lock_path(path: str | Path) -> Path:
    """The lock file of the output file ``path``: ``.NAME.anim400k.lock`` beside it. ``path`` is made absolute
    first (``.``, ``sub/..``: the folder's own name, in its parent), so every spelling of one output takes one lock."""
    path = Path(os.path.abspath(path))
    return path.parent / f".{path.name}{LOCK_FILE}"


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
    from .errors import InputError

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


def _temp_pattern(path: Path, legacy: bool = False) -> str:
    """The regular expression of the names :func:`atomic_path` gives ``path``'s temporary files; with ``legacy``
    also those that versions before :data:`TEMP_MARK` gave them (``.NAME.XXXXXXXX.part.EXT``)."""
    ext = "".join(path.suffixes[-1:])
    stem = re.escape(temp_stem(path.stem, ext))
    marked = rf"\.{stem}\.{re.escape(TEMP_MARK)}[a-z0-9_]{{8}}\.part{re.escape(ext)}"
    if not legacy:
        return marked
    old = re.escape(temp_stem(path.stem, ext, _LEGACY_EXTRA))
    return rf"(?:{marked}|\.{old}\.[a-z0-9_]{{8}}\.part{re.escape(ext)})"


def is_temp_of(name: str, *paths: str | Path, legacy: bool = False) -> bool:
    """Whether the file name ``name`` is one :func:`atomic_path` gives a temporary file of one of ``paths``
    (``.NAME.anim400k-XXXXXXXX.part.EXT``; only the names of ``paths`` count, not their folders). With
    ``legacy`` also the unmarked name versions before :data:`TEMP_MARK` gave it (``.NAME.XXXXXXXX.part.EXT``):
    for a folder the command alone writes (its files and nothing else), where a killed earlier version left it."""
    return any(re.fullmatch(_temp_pattern(Path(path), legacy), name) for path in paths)


def remove_stale_temps(*paths: str | Path, legacy: bool = False) -> int:
    """Delete the temporary files that :func:`atomic_path` left for ``paths`` in a killed run
    (``.NAME.anim400k-XXXXXXXX.part.EXT`` beside each, NAME and EXT of that path). Returns how many.
    Names without :data:`TEMP_MARK` (as versions before it wrote them) are left alone unless ``legacy``
    (a folder checked to hold only the command's own files): beside a user's output, such a name may be the
    user's own file.

    Only plain files of exactly those patterns are removed (not a symbolic link, not another output's
    temporaries). Each folder is listed once, however many of the paths lie in it. Call it while holding
    the lock on the outputs (:func:`output_lock`, :func:`folder_lock`), so no other process is writing
    those files.
    """
    by_folder: dict[Path, list[str]] = {}
    for path in map(Path, paths):
        by_folder.setdefault(path.parent, []).append(_temp_pattern(path, legacy))
    removed = 0
    for folder, patterns in by_folder.items():
        pattern = re.compile("^(?:" + "|".join(patterns) + ")$")
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if pattern.match(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the file at ``path`` (not removed or replaced)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def unmarked_file(folder: Path, mark: str, names: Iterable[str]) -> Path | None:
    """The first of ``names`` (file names) present in ``folder`` (links too) when ``folder`` holds no file
    ``mark``, else None: a file of the name a command writes there that no run of the command wrote (the
    command writes ``mark`` into a folder before its files), which it must not replace."""
    if (folder / mark).is_file():
        return None
    return next((folder / name for name in names if os.path.lexists(folder / name)), None)


def refuse_foreign_output(flag: str, path: str | Path | None, ours: Callable[[Path], bool], what: str) -> None:
    """Refuse (:class:`InputError`, one line naming ``path``) an existing, non-empty file at the output ``path``
    that ``ours`` does not recognise as the kind of file the command writes there, before any work.

    The project's first rule: a command never replaces a user's file it did not write. ``ours`` tells the
    command's own earlier output (JSON with its keys: :func:`json_object_with`, :func:`json_objects_with`;
    an RTTM; media), so a re-run onto it still replaces it. ``what`` says what the file is not (``"a sync
    estimate that anim400k sync wrote"``), ``flag`` the option naming it (``--out``). A missing or empty
    file, a folder (:func:`check_output_file` refuses that) and ``None`` pass.

    What it found is noted for the output's publish (the final rename of :func:`atomic_path` or of a
    :func:`committed_together` set): a file that appears at a path found free, or replaces or rewrites the file
    found there (another device, inode, size or mtime), while the command works is not replaced; the new output
    is put beside it and :class:`~anim400k.errors.OutputChanged` says where (:func:`_publish`).
    """
    import stat

    from .errors import InputError

    if path is None:
        return
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if not os.path.lexists(p):  # a dangling link is no free path: left to today's rename
            _remember(p, None)
        return
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        return
    if st.st_size and not ours(p):
        if not os.access(p, os.R_OK):  # not "is not X": it could not be looked at
            raise InputError(f"exists and cannot be read, so it cannot be told to be {what}: remove it or choose "
                             f"another {flag}", p)
        raise InputError(f"exists and is not {what}: remove it or choose another {flag}", p)
    _remember(p, st)


_NO_JSON = object()
#: the largest file :func:`_load_json` reads: an output JSON of this project is far smaller; a bigger file
#: (a video given as ``--out``) is not one of them
_MAX_JSON_BYTES = 1 << 30


def sniffed_text(path: str | Path, starts_right: Callable[[bytes], bool], head: int = 64,
                 max_bytes: int | None = None) -> str | None:
    """The UTF-8 text of the file ``path`` when its first ``head`` bytes, a UTF-8 BOM and white space stripped,
    pass ``starts_right`` (and it holds at most ``max_bytes``); ``None`` otherwise, or when it cannot be read or
    is not UTF-8. What the recognisers of :func:`refuse_foreign_output` read: a file that does not start like
    their kind (a video given as ``--out``) is not read beyond its start. A BOM (a file saved by a Windows editor)
    is no part of the text."""
    try:
        with open(path, "rb") as f:
            if not starts_right(f.read(head).lstrip(b"\xef\xbb\xbf \t\r\n")):
                return None
            if max_bytes is not None and os.fstat(f.fileno()).st_size > max_bytes:
                return None
            f.seek(0)
            return f.read().decode("utf-8-sig")
    except (OSError, ValueError):  # unreadable, not UTF-8
        return None


def _load_json(path: Path) -> Any:
    """The JSON value of the file ``path``, or :data:`_NO_JSON` when it is unreadable, not UTF-8, not JSON
    or too big (a file that does not start like a JSON object or array is not read beyond its start)."""
    text = sniffed_text(path, lambda start: start[:1] in (b"{", b"["), max_bytes=_MAX_JSON_BYTES)
    if text is None:
        return _NO_JSON
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, nested too deeply
        return _NO_JSON


def json_file_value(path: str | Path) -> Any:
    """The JSON value of the file ``path`` for a recogniser of :func:`refuse_foreign_output`, ``None`` when it is
    not one (unreadable, not UTF-8, not JSON, over :data:`_MAX_JSON_BYTES`): a file that does not start like a
    JSON object or array (a video given as ``--out``) is not read beyond its first bytes."""
    value = _load_json(Path(path))
    return None if value is _NO_JSON else value


def json_object_with(keys: Iterable[str]) -> Callable[[Path], bool]:
    """A test for :func:`refuse_foreign_output`: the file is a JSON object holding every one of ``keys``."""
    wanted = frozenset(keys)

    def test(path: Path) -> bool:
        obj = _load_json(path)
        return isinstance(obj, dict) and wanted <= obj.keys()

    return test


def json_objects_with(keys: Iterable[str], container: type = list) -> Callable[[Path], bool]:
    """A test for :func:`refuse_foreign_output`: the file is a JSON array (``container`` ``dict``: an object)
    whose items (values) are all objects holding every one of ``keys``; an empty one passes too."""
    wanted = frozenset(keys)

    def test(path: Path) -> bool:
        obj = _load_json(path)
        if not isinstance(obj, container):
            return False
        items = obj.values() if isinstance(obj, dict) else obj
        return all(isinstance(item, dict) and wanted <= item.keys() for item in items)

    return test
