"""Path helpers: a path made from user-given names that stays under its root (:func:`under`), a temporary
folder with the mode a plain ``mkdir`` gives (:func:`mkdtemp_like_mkdir`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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


def _within(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def _absolute(path: str | Path) -> str:
    """``path`` normalised as an absolute name, by its text: a relative one is placed under a fixed stand-in for
    the working folder (``os.path.abspath`` asked the system for it, which raised 'No such file or directory' in a
    deleted working folder: a parquet or hf export failed so). Both names :func:`under` compares are made alike, so
    a ``..`` leading out of the root still shows."""
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(os.sep + "_cwd_", path))


def within(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` is ``root`` or lies below it, by their names (``..`` taken out, links not followed)."""
    return _within(Path(_absolute(path)), Path(_absolute(root)))


def under(root: str | Path, *parts: str) -> Path:
    """``root/parts...``, refusing (:class:`InputError`) any result outside ``root``.

    Every path that a build makes from user-given names (show keys, episodes) goes through
    this one function: a ``..`` or an absolute part is refused instead of writing elsewhere.
    The check is on the names (a symbolic link that the owner of ``root`` put inside it, say
    ``work`` on a scratch disk, is theirs to make). The result is ``root`` joined with ``parts``.
    """
    from ..errors import InputError

    path = Path(root).joinpath(*parts)
    if not within(path, root):
        raise InputError(f"{'/'.join(parts)!r} would lie outside the output folder", root)
    return path
