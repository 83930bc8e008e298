"""This project's temporary files: their names (``.NAME.anim400k-XXXXXXXX.part.EXT``, :data:`TEMP_MARK`, cut to
:data:`NAME_MAX`), telling them from a user's files, and sweeping the ones a killed run left."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from .paths import under

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


def fitted_name(name: str, extra: int) -> str:
    """``name`` as a hidden name beside it holds it (a lock file, a staging folder: ``extra`` bytes more), so that
    the whole fits in :data:`NAME_MAX` bytes: ``name`` itself when it fits, else cut (at a character) and ended by
    ``~`` and 8 hex digits of its hash, so two long names sharing a beginning get two names. An output of 228-255
    bytes failed with "File name too long" naming the hidden name."""
    room = NAME_MAX - extra
    if len(os.fsencode(name)) <= room:
        return name
    digest = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    cut = name
    while cut and len(os.fsencode(cut + digest)) > room:
        cut = cut[:-1]
    return cut + digest


def temp_prefix(name: str) -> str:
    """The ``prefix`` to give :func:`tempfile.mkstemp` / :func:`tempfile.mkdtemp` for a temporary of ``name``
    (a file stem or a folder name; not cut): ``.NAME.anim400k-``, so the result is one :func:`is_our_temp` knows."""
    return f".{name}.{TEMP_MARK}"


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
