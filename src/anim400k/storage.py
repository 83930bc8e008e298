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
import posixpath
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .envdirs import cache_dir  # the cache folder (callers import it from here)
from .errors import BackendUnavailable, InputError, one_line
from .fsutil.disk import fsync_file, fsync_folder

VERSIONS_FILE = ".remote-versions.json"
# Keys of an fsspec info dict that change whenever an object is rewritten (first ones preferred).
_VERSION_KEYS = ("ETag", "etag", "md5Hash", "generation", "mtime", "LastModified", "updated", "created", "ino")


#: Schemes whose fsspec packages (s3fs, gcsfs) the ``cloud`` extra installs.
CLOUD_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs"})


def is_url(path: str | os.PathLike[str] | None) -> bool:
    """True for ``scheme://`` paths other than ``file://``."""
    return path is not None and "://" in str(path) and not str(path).startswith("file://")


#: ``scheme:/`` at the start of a path: a URL, also after ``pathlib`` made ``s3://b/x`` into ``s3:/b/x`` (two letters at
#: least: ``C:/`` is a Windows drive)
_URL_LIKE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/+")


def url_given(path: str | os.PathLike[str] | None) -> str | None:
    """The URL ``path`` names (``s3://bucket/x``, also when it went through ``pathlib``, which leaves ``s3:/bucket/x``),
    or None for a local path or a ``file:`` URL."""
    if path is None:
        return None
    m = _URL_LIKE.match(os.fspath(path))
    if m is None or m.group(1).lower() == "file" or not _known_scheme(m.group(1)):
        return None
    return f"{m.group(1)}://{os.fspath(path)[m.end():]}"


def _known_scheme(scheme: str) -> bool:
    """Whether ``scheme`` is a protocol fsspec knows (``s3``, ``gs``, ``https`` ...): a local folder whose name ends in
    ``:`` (``Re:/ep1.mkv``, ``./Re:/rel``, which pathlib leaves as ``Re:/rel``) was refused as a URL."""
    from fsspec.registry import known_implementations, registry

    return scheme.lower() in known_implementations or scheme.lower() in registry


def url_join(folder: str, relative: str) -> str:
    """``relative`` (a POSIX path) under the URL ``folder``: ``s3://b/in`` + ``ep01/x.mkv`` is ``s3://b/in/ep01/x.mkv``
    (``..`` taken out)."""
    scheme, _, rest = folder.partition("://")
    return f"{scheme}://{posixpath.normpath(rest.rstrip('/') + '/' + relative)}"


def refuse_url(path: str | os.PathLike[str] | None, what: str) -> None:
    """Refuse (:class:`InputError` naming the URL) a URL where only a local path works: ``what`` says what it is
    (``"--out"``). Such a URL was taken for a local folder ``s3:`` (outputs written into the working folder, a
    release reported missing as ``s3:/bucket/rel``) or crashed a library."""
    text = os.fspath(path) if path is not None else ""
    if text.startswith("file:/"):  # 'file:///tmp/x' went through pathlib as the local folder 'file:' here
        raise InputError(f"{what} is a file: URL: give the local path itself ({local_path(text)})", text)
    url = url_given(path)
    if url is not None:
        raise InputError(f"{what} is a URL: this command reads and writes local files only (`anim400k build --out` "
                         "writes to object stores); copy it to or from a local folder (e.g. `aws s3 sync`)", url)


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
    with remote_errors(path):
        try:
            info = fs.info(rpath)
        except FileNotFoundError as exc:
            raise InputError("file not found", path) from exc
    if info.get("type") == "directory":  # a prefix: get_file failed with 'The specified key does not exist.'
        raise InputError("is a folder (a prefix of objects), not a file", path)
    size = info.get("size")
    # keyed on the object's version (ETag, mtime), not only its size: an object rewritten at the same size was read
    # from the old copy, and the stages keyed on its ETag recorded the stale result as done (an outside tester)
    key = hashlib.sha1(f"{path}|{remote_version(info)}".encode()).hexdigest()[:16]
    dest = cache_dir() / "inputs" / key / Path(rpath).name
    if dest.exists() and dest.stat().st_size == size:
        return str(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(dest)
    with remote_errors(path):
        fs.get_file(rpath, str(tmp))
    os.replace(tmp, dest)
    return str(dest)


@contextlib.contextmanager
def remote_errors(url: str) -> Iterator[None]:
    """Say a storage failure of ``url`` in one line (:class:`InputError`): access refused (credentials), an
    endpoint that cannot be reached, a missing bucket. They were tracebacks (``EndpointConnectionError``), a bare
    ``Forbidden``, or "internal error in stage probe"."""
    try:
        yield
    except PermissionError as exc:
        raise InputError(f"access refused by the storage ({one_line(exc, 200)}): check the credentials "
                         "(e.g. AWS_ACCESS_KEY_ID/AWS_PROFILE) and their rights on it", url) from exc
    except Exception as exc:  # the client libraries' own errors, with no common base: named by module and class
        kind = type(exc).__module__.split(".")[0]
        if kind in _CLIENT_MODULES or isinstance(exc, (ConnectionError, TimeoutError)):
            raise InputError(f"the storage cannot be reached or refused the request ({type(exc).__name__}: "
                             f"{one_line(exc, 200)}): check the endpoint (e.g. AWS_ENDPOINT_URL) and the network",
                             url) from exc
        raise


#: modules of the object-store clients whose exceptions :func:`remote_errors` says in one line
_CLIENT_MODULES = frozenset({"botocore", "aiobotocore", "aiohttp", "s3fs", "gcsfs", "google", "urllib3", "requests"})


def put_file_atomic(fs: Any, local: Path, rpath: str) -> None:
    """Upload ``local`` to ``rpath`` through a temporary name, then move it into place.

    An object store gets no folders made (it has none; s3fs's ``makedirs`` made a mistyped bucket)."""
    parent = rpath.rsplit("/", 1)[0]
    if parent and parent != rpath and not is_object_store(fs):
        fs.makedirs(parent, exist_ok=True)
    tmp = f"{rpath}.part-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    fs.put_file(str(local), tmp)
    fs.mv(tmp, rpath)


def is_object_store(fs: Any) -> bool:
    """Whether the fsspec filesystem ``fs`` is an object store (S3, GCS): buckets, no folders."""
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    return any(p in CLOUD_SCHEMES for p in protocols)


def check_bucket(fs: Any, root: str, url: str) -> None:
    """Refuse (:class:`InputError`) an object-store output whose bucket does not exist: the build created it (a
    mistyped name made a new bucket and exited 0)."""
    if not is_object_store(fs):
        return
    bucket = root.split("/", 1)[0]
    try:
        with remote_errors(url):  # ls, not exists: exists says False for an endpoint it cannot reach
            fs.ls(bucket, detail=False)
    except FileNotFoundError:
        raise InputError(f"no bucket {bucket!r} at this storage: create it first (the build does not create "
                         "buckets)", url) from None


#: the name :func:`put_file_atomic` uploads to before the move
_PART_OBJECT = re.compile(r"\.part-\d+-[0-9a-f]{8}$")


def remote_version(info: dict[str, Any]) -> str:
    """A string that changes whenever the remote file described by fsspec ``info`` is rewritten."""
    def said(value: Any) -> Any:  # fsspec's info() and find(detail=True) of one file give its time as a datetime or
        return value.timestamp() if hasattr(value, "timestamp") else value  # a float (memory://): one version

    parts = [str(info.get("size"))] + [f"{k}={said(info[k])}" for k in _VERSION_KEYS if info.get(k) is not None]
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
            if not self._inside(rpath, base):
                continue
            rel = rpath[len(self.root):].lstrip("/")
            if ".part-" not in rel and info.get("type", "file") == "file":
                out[rel] = info
        return out

    @staticmethod
    def _inside(rpath: str, base: str) -> bool:
        """Whether ``rpath`` is ``base`` or below it: an object store's listing is by prefix, so ``b/rel`` would
        also list ``b/rel2/...`` (another release, whose objects pruning must never touch)."""
        rpath, base = rpath.lstrip("/"), base.lstrip("/").rstrip("/")
        return rpath == base or rpath.startswith(base + "/")

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
        """Upload new or changed local files under ``sub`` (except paths starting with ``exclude``), and those the
        remote lacks or holds in another version than this machine last pushed or pulled (a bucket prefix wiped, an
        object deleted: the release's pictures, unchanged here, were never uploaded again)."""
        base = self.local / sub
        if not base.exists():
            return 0
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        remote = self.listing(sub)
        todo = []
        for p in files:
            rel = p.relative_to(self.local).as_posix()
            if _skip_local(p.name) or rel.startswith(exclude):
                continue
            index = self._index(p.parent)
            if rel in remote and index.current(p.name, remote_version(remote[rel])):
                continue
            todo.append(p)
        self._versions.clear()
        return self.push_files(todo)

    def remove(self, rels: Iterable[str]) -> int:
        """Delete these remote files (paths relative to the root; missing ones are skipped); returns how many."""
        n = 0
        for rel in rels:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(self._remote(rel))
                n += 1
        return n

    def part_objects(self) -> list[str]:
        """The temporary ``NAME.part-PID-HEX`` files of uploads (:func:`put_file_atomic`) under the root, relative."""
        try:
            found = self.fs.find(self.root)
        except FileNotFoundError:
            return []
        rels = (rpath[len(self.root):].lstrip("/") for rpath in found if self._inside(rpath, self.root))
        return sorted(rel for rel in rels if _PART_OBJECT.search(rel))
