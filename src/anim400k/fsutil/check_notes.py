"""What the check of each output path found (:data:`_SEEN`, the one table of the process, and its lock), kept for
that output's publish; :func:`output_checks` scopes the notes to one command."""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

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
