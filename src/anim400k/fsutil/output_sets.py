"""Outputs written as one set (:func:`committed_together`): none is renamed into place until the block has
written all of them."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .check_notes import _changed_since, _forget, _output_key, _seen
from .disk import fsync_file, fsync_folder
from .publish import _ASIDE, _keep_aside, _publish, _refused_publish
from .write_errors import _naming_the_output


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
    from ..errors import OutputChanged

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
