"""Storage that is not the local disk: inputs, the work folder and the release as fsspec URLs.

Media decoding needs local files, so remote *inputs* are fetched once into a local cache
(keyed by URL and size). A remote *output* (``--out s3://bucket/release``) is built in a
local staging folder that mirrors it: existing remote work state and catalog are pulled
first (so a build resumes on another machine), each finished stage's files are pushed as
the build goes, and the release is pushed at the end. Every remote file is written to a
temporary name and moved into place, so readers never see a half-written file (object
stores write objects whole anyway). ``memory://`` works without extra packages (tests);
``s3://`` and ``gs://`` need ``s3fs`` / ``gcsfs``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from .errors import BackendUnavailable, InputError


def is_url(path: str | os.PathLike[str] | None) -> bool:
    """True for ``scheme://`` paths other than ``file://``."""
    return path is not None and "://" in str(path) and not str(path).startswith("file://")


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and in-filesystem path of ``url`` (clear error if its package is missing)."""
    import fsspec

    try:
        fs, _, paths = fsspec.get_fs_token_paths(url)
    except (ImportError, ValueError) as exc:
        scheme = url.split("://", 1)[0]
        raise BackendUnavailable(f"{scheme}:// storage", None, f"{exc}".splitlines()[0]) from exc
    return fs, paths[0]


def cache_dir() -> Path:
    """Local cache for fetched inputs and staging folders (``$ANIM400K_CACHE`` or ``~/.cache/anim400k``)."""
    return Path(os.environ.get("ANIM400K_CACHE", Path.home() / ".cache" / "anim400k"))


def local_input(path: str) -> str:
    """A local path for an input: the path itself, or a cached copy of a remote URL."""
    if not is_url(path):
        return path[len("file://"):] if path.startswith("file://") else path
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
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    fs.get_file(rpath, str(tmp))
    os.replace(tmp, dest)
    return str(dest)


def put_file_atomic(fs: Any, local: Path, rpath: str) -> None:
    """Upload ``local`` to ``rpath`` through a temporary name, then move it into place."""
    parent = rpath.rsplit("/", 1)[0]
    if parent and parent != rpath:
        fs.makedirs(parent, exist_ok=True)
    tmp = f"{rpath}.part-{os.getpid()}"
    fs.put_file(str(local), tmp)
    fs.mv(tmp, rpath)


class RemoteMirror:
    """A local staging folder mirrored to a remote output URL."""

    def __init__(self, url: str, staging: Path | None = None) -> None:
        self.url = url.rstrip("/")
        self.fs, self.root = filesystem(self.url)
        digest = hashlib.sha1(self.url.encode()).hexdigest()[:16]
        self.local = Path(staging) if staging else cache_dir() / "staging" / digest
        self.local.mkdir(parents=True, exist_ok=True)
        self._sizes: dict[str, int] = {}

    def _remote(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def pull(self) -> int:
        """Download remote files missing (or of another size) locally; returns how many were fetched."""
        if not self.fs.exists(self.root):
            return 0
        n = 0
        for rpath in self.fs.find(self.root):
            rel = rpath[len(self.root):].lstrip("/")
            if ".part-" in rel:
                continue
            size = self.fs.size(rpath)
            self._sizes[rel] = size
            dest = self.local / rel
            if dest.exists() and dest.stat().st_size == size:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
            self.fs.get_file(rpath, str(tmp))
            os.replace(tmp, dest)
            n += 1
        return n

    def push(self, sub: str = "") -> int:
        """Upload new or changed files under ``sub`` (relative to the staging root); returns how many."""
        base = self.local / sub
        if not base.exists():
            return 0
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        n = 0
        for p in files:
            if p.name.startswith(".") or p.name.endswith(("-wal", "-shm")):
                continue  # temporary files of a writer in progress; SQLite side files
            rel = p.relative_to(self.local).as_posix()
            size = p.stat().st_size
            if self._sizes.get(rel) == size and rel != "catalog.sqlite" and not rel.endswith(".json"):
                continue
            put_file_atomic(self.fs, p, self._remote(rel))
            self._sizes[rel] = size
            n += 1
        return n
