"""Publishing an output: the final rename of a finished temporary onto its path, never replacing a file that
appeared or changed there since the path's check (the new output is kept beside it instead)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .check_notes import _UNCHECKED, _changed_since, _seen
from .rename import rename_noreplace
from .temp_files import temp_stem

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
    from ..errors import OutputChanged

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
