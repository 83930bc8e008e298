"""Storage that is not the local disk: inputs, the work folder and the release as fsspec URLs.

Media decoding needs local files, so remote *inputs* are fetched once into a local cache
(keyed by URL and size). A remote *output* (``--out s3://bucket/release``) is mirrored by
local staging folders (:class:`RemoteMirror`), one per machine:
``$ANIM400K_CACHE/staging/<hash of URL>`` (:func:`staging_dir`). The remote is the truth;
a staging folder is a cache of the parts of it that this machine needs. The build driver
pulls the catalog and the small work-state files, each stage task pulls its episode's work
folder on the node where it runs and pushes what it wrote (see :mod:`anim400k.dataset.remote`).

Pulls fetch only files that are missing locally or changed remotely: each staging folder
keeps, per directory, a hidden ``.remote-versions.json`` that records which remote
version (size plus ETag/mtime) each local file (size plus mtime) is a copy of. Every
remote file is written to a temporary name (``NAME.part-...``) and moved into place, so
readers never see a half-written file (object stores write objects whole anyway); pulls
ignore ``.part-`` names and write locally through temporary names too. ``memory://``
works without extra packages (single-process tests), ``local://`` is a local folder
treated as remote (multi-process tests); ``s3://`` and ``gs://`` need ``s3fs`` / ``gcsfs``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import BackendUnavailable, InputError
from .fsutil.disk import fsync_file, fsync_folder

VERSIONS_FILE = ".remote-versions.json"
# Keys of an fsspec info dict that change whenever an object is rewritten (first ones preferred).
_VERSION_KEYS = ("ETag", "etag", "md5Hash", "generation", "mtime", "LastModified", "updated", "created", "ino")


#: Schemes whose fsspec packages (s3fs, gcsfs) the ``cloud`` extra installs.
CLOUD_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs"})


def is_url(path: str | os.PathLike[str] | None) -> bool:
    """True for ``scheme://`` paths other than ``file://``."""
    return path is not None and "://" in str(path) and not str(path).startswith("file://")


def local_path(path: str) -> str:
    """The local path of a ``file:`` URL (RFC 8089), ``path`` itself when it is none.

    ``file:///data/out``, ``file://localhost/data/out`` and ``file:/data/out`` are all ``/data/out``, and
    percent-escapes are decoded (``file:///data/my%20out`` is ``/data/my out``). Removing ``file://`` alone made
    ``file://localhost/data/out`` the relative ``localhost/data/out`` (a build wrote into the working folder),
    kept ``%20`` in the name and left ``file:/data/out`` a folder ``file:`` here. A URL naming another host
    (``file://server/share``) is refused (:class:`InputError`): it is not on this machine's disk. A string that
    does not start ``file:/`` (``file:out`` included: a relative name, which no file URL is) is returned as is.
    """
    from urllib.parse import unquote

    from .errors import InputError

    if not path.startswith("file:/"):
        return path
    rest = path[len("file:"):]
    if rest.startswith("//"):
        host, _, tail = rest[2:].partition("/")
        if host.lower() not in ("", "localhost"):
            raise InputError(f"is a file URL of the host {host!r}, not of this machine: give a local path, or "
                             "mount it and give that path", path)
        rest = "/" + tail
    return unquote(rest)


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and in-filesystem path of ``url`` (clear error if its package is missing)."""
    import fsspec

    try:
        fs, _, paths = fsspec.get_fs_token_paths(url)
    except (ImportError, ValueError) as exc:
        scheme = url.split("://", 1)[0]
        extra = "cloud" if scheme in CLOUD_SCHEMES else None
        raise BackendUnavailable(f"{scheme}:// storage", extra, f"{exc}".splitlines()[0]) from exc
    return fs, paths[0]


def cache_dir() -> Path:
    """Local cache for fetched inputs and staging folders (``$ANIM400K_CACHE`` or ``~/.cache/anim400k``)."""
    return Path(os.environ.get("ANIM400K_CACHE", Path.home() / ".cache" / "anim400k"))


def staging_dir(url: str) -> Path:
    """This machine's staging folder for the remote output ``url``: ``cache_dir()/staging/<hash of URL>``."""
    return cache_dir() / "staging" / hashlib.sha1(url.rstrip("/").encode()).hexdigest()[:16]


def _temp_name(dest: Path) -> Path:
    """A unique hidden temporary name beside ``dest`` (``.NAME.anim400k-part-PID-RANDOM``, marked as this
    project's by :data:`~anim400k.fsutil.temp_files.TEMP_MARK` so a sweep can tell it from a user's file)."""
    from .fsutil.temp_files import TEMP_MARK

    return dest.with_name(f".{dest.name}.{TEMP_MARK}part-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def local_input(path: str) -> str:
    """A local path for an input: the path itself, or a cached copy of a remote URL."""
    if not is_url(path):
        return local_path(path)
    fs, rpath = filesystem(path)
    try:
        size = fs.size(rpath)
    except FileNotFoundError as exc:
        raise InputError("file not found", path) from exc
    key = hashlib.sha1(f"{path}|{size}".encode()).hexdigest()[:16]
    dest = cache_dir() / "inputs" / key / Path(rpath).name
    if dest.exists() and dest.stat().st_size == size:
        return str(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(dest)
    fs.get_file(rpath, str(tmp))
    os.replace(tmp, dest)
    return str(dest)


def put_file_atomic(fs: Any, local: Path, rpath: str) -> None:
    """Upload ``local`` to ``rpath`` through a temporary name, then move it into place."""
    parent = rpath.rsplit("/", 1)[0]
    if parent and parent != rpath:
        fs.makedirs(parent, exist_ok=True)
    tmp = f"{rpath}.part-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    fs.put_file(str(local), tmp)
    fs.mv(tmp, rpath)


def remote_version(info: dict[str, Any]) -> str:
    """A string that changes whenever the remote file described by fsspec ``info`` is rewritten."""
    parts = [str(info.get("size"))] + [f"{k}={info[k]}" for k in _VERSION_KEYS if info.get(k) is not None]
    return "|".join(parts)


def _local_stamp(path: Path) -> list[int] | None:
    """Size and modification time (ns) of a local file, or None if it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


class _Versions:
    """One directory's record of which remote version each local file is a copy of.

    An entry ``name -> [remote version, local size, local mtime_ns]`` says "the local file,
    while it has this size and mtime, holds that remote version". Concurrent writers (tasks
    of one episode on one node) may lose each other's entries; that only causes a download
    that was not needed, never a stale file being trusted.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / VERSIONS_FILE
        try:
            self.entries: dict[str, list[Any]] = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            self.entries = {}
        self.dirty = False

    def current(self, name: str, version: str) -> bool:
        """Whether the local file ``name`` is an unchanged copy of remote ``version``."""
        entry = self.entries.get(name)
        return bool(entry) and entry[0] == version and entry[1:] == _local_stamp(self.folder / name)

    def unchanged(self, name: str) -> bool:
        """Whether the local file ``name`` is unchanged since it was last pulled or pushed."""
        entry = self.entries.get(name)
        return bool(entry) and entry[1:] == _local_stamp(self.folder / name)

    def record(self, name: str, version: str) -> None:
        """Note that the local file ``name`` (as it is now) holds remote ``version``."""
        stamp = _local_stamp(self.folder / name)
        if stamp is not None:
            self.entries[name] = [version, *stamp]
            self.dirty = True

    def save(self) -> None:
        """Write the record atomically (if it changed)."""
        if not self.dirty:
            return
        tmp = _temp_name(self.path)
        tmp.write_text(json.dumps(self.entries, sort_keys=True), encoding="utf-8")
        fsync_file(tmp)  # on the disk before the rename (a power cut never leaves an empty record)
        os.replace(tmp, self.path)
        fsync_folder(self.path.parent)
        self.dirty = False


def _skip_local(name: str) -> bool:
    """Local files never pushed: hidden files (temporaries, version records) and SQLite side files."""
    return name.startswith(".") or name.endswith(("-wal", "-shm"))


class RemoteMirror:
    """A local staging folder mirroring (parts of) a remote output URL."""

    def __init__(self, url: str, staging: Path | None = None) -> None:
        self.url = url.rstrip("/")
        self.fs, self.root = filesystem(self.url)
        self.local = Path(staging) if staging else staging_dir(self.url)
        self.local.mkdir(parents=True, exist_ok=True)
        self._versions: dict[Path, _Versions] = {}

    def _remote(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def _index(self, folder: Path) -> _Versions:
        if folder not in self._versions:
            self._versions[folder] = _Versions(folder)
        return self._versions[folder]

    def _save_indexes(self) -> None:
        for index in self._versions.values():
            index.save()
        self._versions.clear()  # re-read next time: another process may have updated them

    def relative(self, path: str | os.PathLike[str]) -> str:
        """``path`` (absolute in the staging folder, or already relative) relative to the staging root."""
        p = Path(path)
        return (p.relative_to(self.local) if p.is_absolute() else p).as_posix()

    def synced(self, path: str | os.PathLike[str]) -> bool:
        """Whether a local file is unchanged since this machine last pulled or pushed it."""
        local = self.local / self.relative(path)
        return _Versions(local.parent).unchanged(local.name)

    def listing(self, sub: str = "") -> dict[str, dict[str, Any]]:
        """Remote files under ``sub`` (a folder or one file) by path relative to the root, without ``.part-``."""
        base = self._remote(sub.strip("/"))
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return {}
        out = {}
        for rpath, info in found.items():
            rel = rpath[len(self.root):].lstrip("/")
            if ".part-" not in rel and info.get("type", "file") == "file":
                out[rel] = info
        return out

    def pull(self, sub: str = "", want: Callable[[str], bool] | None = None, prune: bool = False) -> int:
        """Download remote files under ``sub`` that are missing or changed locally; returns how many.

        ``want(rel)`` restricts the pull to some files (relative paths). ``prune`` also deletes
        the (wanted) local files under ``sub`` that the remote does not have, so the staging
        folder claims nothing the remote lacks (only when no task is using the folder).
        """
        n = 0
        listing = self.listing(sub)
        if prune:
            self._prune(sub, listing, want)
        try:
            for rel, info in sorted(listing.items()):
                if want is not None and not want(rel):
                    continue
                dest = self.local / rel
                index, version = self._index(dest.parent), remote_version(info)
                if index.current(dest.name, version):
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = _temp_name(dest)
                try:
                    self.fs.get_file(info["name"], str(tmp))
                    os.replace(tmp, dest)
                    for side in ("-wal", "-shm"):  # a replaced SQLite database must not meet an old log
                        dest.with_name(dest.name + side).unlink(missing_ok=True)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()
                index.record(dest.name, version)
                n += 1
        finally:
            self._save_indexes()
        return n

    def _prune(self, sub: str, listing: dict[str, Any], want: Callable[[str], bool] | None) -> None:
        base = self.local / sub
        if base.is_file():
            files = [base]
        else:
            files = [p for p in base.rglob("*") if p.is_file()] if base.is_dir() else []
        for p in files:
            rel = p.relative_to(self.local).as_posix()
            if not _skip_local(p.name) and rel not in listing and (want is None or want(rel)):
                p.unlink()
                for side in ("-wal", "-shm"):
                    p.with_name(p.name + side).unlink(missing_ok=True)

    def push_files(self, paths: Iterable[str | os.PathLike[str]], record: bool = True) -> int:
        """Upload the given local files (absolute, or relative to the staging root); returns how many.

        With ``record`` the remote version is noted, so a later pull on this machine skips them
        (use ``record=False`` for files deleted locally right after the upload).
        """
        n = 0
        try:
            for path in paths:
                rel = self.relative(path)
                local = self.local / rel
                rpath = self._remote(rel)
                put_file_atomic(self.fs, local, rpath)
                if record:
                    self._index(local.parent).record(local.name, remote_version(self.fs.info(rpath)))
                n += 1
        finally:
            self._save_indexes()
        return n

    def push(self, sub: str = "", exclude: tuple[str, ...] = ()) -> int:
        """Upload new or changed local files under ``sub`` (except paths starting with ``exclude``)."""
        base = self.local / sub
        if not base.exists():
            return 0
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        todo = []
        for p in files:
            rel = p.relative_to(self.local).as_posix()
            if _skip_local(p.name) or rel.startswith(exclude) or self._index(p.parent).unchanged(p.name):
                continue
            todo.append(p)
        self._versions.clear()
        return self.push_files(todo)
