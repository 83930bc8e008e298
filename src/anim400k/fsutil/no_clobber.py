"""The no-clobber checks of outputs, before any work: an output that is an input or another output, one inside
the release it reads, and an existing file the command did not write (:func:`refuse_foreign_output`, which
notes what it found for the output's publish)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .check_notes import _remember
from .writable import _Named


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
    from ..errors import InputError

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
    from ..errors import InputError

    if out is None:
        return
    where, root = Path(os.path.realpath(out)), Path(os.path.realpath(release))
    if where == root or root in where.parents:
        verb = "is the release" if where == root else "is inside the release"
        raise InputError(f"{flag} {out} {verb} {release}; choose a folder outside it")


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

    from ..errors import InputError

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
