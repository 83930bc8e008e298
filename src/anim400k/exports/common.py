"""Shared pieces of the exporters: size parsing, staged output folders, checked clip streams."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil.disk import fsync_folder, is_mount_point
from ..fsutil.paths import mkdtemp_like_mkdir
from ..fsutil.temp_files import fitted_name
from ..model import Clip
from ..progress import progress_bar
from ..release import SHOW_FIELDS, BadItems, Dataset, Problem, Show, check_or_raise, type_ok

log = logging.getLogger("anim400k.export")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}


def parse_size(text: str | int, name: str = "--shard-size") -> int:
    """``"100MB"`` -> 100_000_000 (``KiB``/``MiB``/``GiB`` are powers of 1024); ints pass through.

    ``name`` is the option that gave ``text``: the :class:`InputError` names it, as every option's does.
    """
    if isinstance(text, int):
        return text
    m = _SIZE.match(text)
    unit = (m.group(2) or "").lower() if m else ""
    if not m or unit not in _UNITS:
        raise InputError(f"{name} must be a size such as 100MB or 1GiB, not {text!r}")
    value = int(float(m.group(1)) * _UNITS[unit])
    if value <= 0:
        raise InputError(f"{name} must be a size above 0, not {text!r}")
    return value


#: the file of an export folder that lists every problem found (one JSON object a line)
PROBLEMS_FILE = "problems.jsonl"

#: a file every export writes into its folder: a later export may replace a folder that holds it
EXPORT_MARK = ".anim400k-export"


def check_export_target(out: str | Path, release_root: str | Path | None = None) -> None:
    """Refuse (:class:`InputError`) an export folder that holds other data.

    ``out`` may be missing, empty, or an earlier export (it holds :data:`EXPORT_MARK`); it
    may not be the release folder, a folder inside it or one that contains it, nor a file.
    """
    out = Path(out)
    check_replaceable(out)
    if release_root is not None:
        a, b = Path(os.path.abspath(out)).resolve(), Path(os.path.abspath(release_root)).resolve()
        if a == b or b in a.parents or a in b.parents:
            where = "is" if a == b else ("lies inside" if b in a.parents else "contains")
            raise InputError(f"the output folder {where} the release folder {str(release_root)!r}: "
                             f"export to a folder of its own", out)
    if out.is_symlink():  # an export replaces its folder as a whole: a link cannot be swapped for one
        raise InputError("is a symbolic link: give the folder itself (an export replaces the whole folder)", out)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder: give a new or empty folder to export into", out)
    if out.is_dir() and not (out / EXPORT_MARK).is_file() and any(out.iterdir()):
        raise InputError("output folder exists, is not empty and is not an earlier export: give a new or "
                         "empty folder (an export replaces its output folder)", out)
    other = _not_exported(out) if out.is_dir() else None
    if other is not None:
        raise InputError(f"holds {other!r}, which no export wrote (an earlier export's {EXPORT_MARK} does not list "
                         "it): an export replaces its output folder as a whole; move it away or give a new or "
                         "empty folder", out)


#: the first line of :data:`EXPORT_MARK`; the files the export wrote follow, one a line (relative, POSIX)
_MARK_HEADER = "written by anim400k export; the next export may replace this folder; its files:"


def _not_exported(out: Path) -> str | None:
    """The first entry (relative path) in the earlier export ``out`` that its :data:`EXPORT_MARK` does not list:
    a file the user put there since, which the next export's swap would delete. None when every entry is listed,
    or the mark lists nothing (an earlier version's mark: the folder is taken as a whole, as before)."""
    try:
        lines = (out / EXPORT_MARK).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or lines[0] != _MARK_HEADER:
        return None
    listed = set(lines[1:]) | {EXPORT_MARK}
    folders = {p.rsplit("/", 1)[0] for p in listed if "/" in p}
    folders |= {f.rsplit("/", i)[0] for f in list(folders) for i in range(1, f.count("/") + 1)}
    for dirpath, dirs, files in os.walk(out):  # followlinks=False: a link is an entry of its own
        rel = os.path.relpath(dirpath, out)
        for name in sorted(dirs) + sorted(files):
            path = name if rel == "." else f"{rel}/{name}"
            is_dir = name in dirs and not os.path.islink(os.path.join(dirpath, name))
            if (path not in folders) if is_dir else (path not in listed):
                return path
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(dirpath, d))]
    return None


def _export_mark(stage: Path) -> str:
    """The text of :data:`EXPORT_MARK` for the export written in ``stage``: :data:`_MARK_HEADER`, then its files."""
    files = sorted(os.path.relpath(os.path.join(d, f), stage).replace(os.sep, "/")
                   for d, _dirs, names in os.walk(stage) for f in names)
    return "\n".join([_MARK_HEADER, *files]) + "\n"


def check_replaceable(out: str | Path) -> None:
    """Refuse (:class:`InputError`, one line naming ``out``) an existing output folder that
    :func:`staged_folder` cannot swap for a new one: a mount point (a container's volume, a mounted disk),
    which cannot be renamed (the swap failed with 'Device or resource busy' after all the work), and the
    working folder or a folder holding it (``--out .``), which the swap would delete under the shell that
    ran the command, leaving it in an empty-looking deleted folder."""
    out = Path(out)
    if not out.is_dir() or out.is_symlink():
        return
    if is_mount_point(out):
        raise InputError("is a mount point: a run replaces its output folder as a whole (a new folder written "
                         "beside it, then swapped in), which cannot be done to a mount point; give a folder "
                         "inside it", out)
    try:
        cwd = Path(os.getcwd())
    except OSError:  # the working folder was deleted: nothing to keep
        return
    real = Path(os.path.realpath(out))
    if real == cwd or real in cwd.parents:
        raise InputError("is the working folder or holds it: a run replaces its output folder as a whole, which "
                         "would leave this shell in a deleted folder; run the command from outside it (cd ..)",
                         out)


#: the hidden folder beside ``out`` holding the problems file while the export runs
#: (``.NAME.anim400k-problems-XXXXXXXX``)
PROBLEMS_STAGE = "problems"
#: the hidden folders an export makes beside ``out``: the new export while it is written
#: (``.NAME.anim400k-partial-XXXXXXXX``), the earlier export while it is swapped out
#: (``.NAME.anim400k-old-XXXXXXXX``, both :func:`staged_dir`), the ``hf`` export's ``datasets`` cache
#: (``.NAME.anim400k-hf-cache-XXXXXXXX``) and the problems file's folder (:data:`PROBLEMS_STAGE`)
_STAGE_KINDS = ("partial", "old", "hf-cache", PROBLEMS_STAGE)


def stage_prefix(out: str | Path, kind: str) -> str:
    """The name a hidden folder of ``kind`` (:data:`_STAGE_KINDS`) beside ``out`` starts with:
    ``.NAME.anim400k-KIND-``; the random 8 characters follow. The ``anim400k-`` mark is what lets a later run
    delete it: a user's ``.NAME.old-20241231`` beside the output (a dated backup) is never taken for one (it
    was, and was deleted, until 2026-12-07)."""
    return f".{_stage_name(Path(out).name, kind)}.anim400k-{kind}-"


def _stage_name(name: str, kind: str) -> str:
    """``name`` as the hidden folders of ``kind`` beside it hold it (:func:`~anim400k.fsutil.temp_files.fitted_name`:
    ``.NAME.anim400k-KIND-XXXXXXXX`` fits in a file name)."""
    return fitted_name(name, len(f"..anim400k-{kind}-") + 8)


def _leftover(out: Path, name: str) -> str | None:
    """Which of :data:`_STAGE_KINDS` ``name`` (a file name beside ``out``) is a folder of, or None."""
    for kind in _STAGE_KINDS:
        if re.fullmatch(rf"\.{re.escape(_stage_name(out.name, kind))}\.anim400k-{kind}-[a-z0-9_]{{8}}", name):
            return kind
    return None


def _is_export(folder: Path) -> bool:
    """Whether ``folder`` is an export (it holds :data:`EXPORT_MARK`)."""
    return (folder / EXPORT_MARK).is_file()


def recover_export_folder(out: str | Path, whole: Callable[[Path], bool] = _is_export) -> int:
    """Clean up after an export of ``out`` that was killed (SIGKILL, a lost machine); returns the folders removed.

    A killed export leaves its half-written ``.NAME.anim400k-partial-XXXXXXXX`` folder beside ``out`` (an
    ``hf`` or ``--embed-audio`` one is the size of the export; ``hf`` also its
    ``.NAME.anim400k-hf-cache-XXXXXXXX``) and the folder of its problems file
    (``.NAME.anim400k-problems-XXXXXXXX``). One killed between the two renames of :func:`staged_folder` leaves
    the earlier folder as ``.NAME.anim400k-old-XXXXXXXX`` and no ``out``: that earlier folder is renamed back to
    ``out`` (it was whole) when ``whole`` says it is one of the outputs (an export: it holds
    :data:`EXPORT_MARK`); the other leftovers are deleted. Other commands that stage their output folder with
    :func:`staged_folder` (``anim400k tasks``) recover with it too, passing their own ``whole``. Only names with
    the ``anim400k-`` mark (:func:`stage_prefix`) are touched: a user's ``.NAME.old-20241231`` is not. Call it
    while holding ``out``'s lock (:func:`~anim400k.fsutil.locks.output_lock`), so no other run is writing them.
    """
    out = Path(out)
    try:
        entries = sorted(os.scandir(out.parent), key=lambda e: e.name)
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        kind = _leftover(out, entry.name)
        if kind is None or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if kind == "old" and not os.path.lexists(out) and whole(path):
            path.rename(out)
            log.warning("%s: restored the earlier output that a killed run had set aside", out)
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


@contextlib.contextmanager
def staged_folder(
    out: str | Path, check: Callable[[Path], None], finish: Callable[[Path], None] | None = None
) -> Iterator[Path]:
    """Yield a new hidden folder beside ``out`` (``.NAME.anim400k-partial-XXXXXXXX``); it replaces ``out`` as one
    only if the block succeeds.

    ``check(out)`` refuses an ``out`` that may not be replaced (it runs before and again just before
    replacing; :func:`check_replaceable` runs first); ``finish(stage)`` completes the new folder (a mark,
    a moved file) after the block. The new folder takes the earlier ``out``'s mode (a private 0700 or a
    shared 2775 folder stays so; a new ``out`` gets a plain mkdir's). A block that fails deletes the new
    folder and leaves ``out`` as it was.
    The earlier ``out`` is set aside (``.NAME.anim400k-old-XXXXXXXX``) only once the new one is complete, and
    deleted only after the new one is in place; :func:`recover_export_folder` puts it back after a kill
    between the two renames, so ``out`` is always the whole earlier folder or the whole new one.
    """
    out = Path(out)
    check_replaceable(out)
    check(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # absolute: pyarrow and webdataset read 'Re:/.out...' (a local folder 'Re:') as a URL of a scheme 'Re'
    stage = Path(os.path.abspath(mkdtemp_like_mkdir(prefix=stage_prefix(out, "partial"), dir=out.parent)))
    try:
        yield stage
        if finish is not None:
            finish(stage)
        check(out)
        if out.is_dir():  # the folder replaced keeps its mode, as when the files were written into it
            os.chmod(stage, stat.S_IMODE(out.stat().st_mode))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.with_name(f"{stage_prefix(out, 'old')}{stage.name.rsplit('-', 1)[-1]}")
        out.rename(old)
    stage.rename(out)
    fsync_folder(out.parent)  # the swap survives a power cut
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(out: str | Path, checked: CheckedRelease | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; it replaces ``out`` only if the block succeeds.

    ``out`` must pass :func:`check_export_target` (checked before and again before replacing);
    the new folder is marked with :data:`EXPORT_MARK`. With ``checked``, its ``problems.jsonl``
    (when it found problems) is moved into the new folder before it replaces ``out``, so the
    export appears whole or not at all. The swap is :func:`staged_folder`'s: the earlier export is
    set aside only once the new one is complete, and deleted only after the new one is in place
    (:func:`recover_export_folder` puts it back after a kill between the two renames).
    """

    def finish(stage: Path) -> None:
        if checked is not None:
            checked.place_problems(stage)
        (stage / EXPORT_MARK).write_text(_export_mark(stage), encoding="utf-8")

    with staged_folder(out, check_export_target, finish) as stage:
        yield stage


class CheckedRelease:
    """A release validated before export: bad shows/episodes/clips are refused or skipped.

    With ``progress`` a bar (stderr, on a terminal only) counts the clips as they are validated, then a
    second one (with its total, the clips left to export) as the exporter consumes them. ``check_media``
    False skips the media checks (``--no-media``). Show and episode metadata problems never stop the
    export (the exporters drop wrong-typed metadata); with ``skip_bad`` a problem with an optional clip
    extra (``en_subtitles``, ``multi_speaker``, ...) drops that field of the clip, not the clip.
    ``problems_file``: every problem, one JSON object a line, written as they are found.
    """

    def __init__(
        self,
        ds: Dataset,
        skip_bad: bool,
        progress: bool = False,
        check_media: bool = True,
        problems_file: Path | None = None,
    ) -> None:
        self.ds = ds
        self.problems_file = problems_file
        self.skipped_clips = 0
        self.dropped_fields = 0
        counts: dict[tuple[str, str], int] = {}
        vbar = progress_bar(progress, desc="validate", unit="clip")

        def on_clips(show: str, episode: str, n: int) -> None:
            counts[(show, episode)] = n
            vbar.update(n)

        fh = open(problems_file, "w", encoding="utf-8") if problems_file is not None else None  # noqa: SIM115
        try:
            sink = None
            if fh is not None:
                def sink(p: Problem) -> None:
                    fh.write(dumps({"show": p.show, "episode": p.episode, "clip": p.clip, "field": p.field,
                                    "problem": p.message}) + "\n")
            self.bad: BadItems = check_or_raise(ds, skip_bad, check_media, on_clips=on_clips,
                                                tolerate_metadata=True, sink=sink)
        finally:
            vbar.close()
            if fh is not None:
                fh.close()
        bad = self.bad
        total = sum(n for (s, e), n in counts.items() if s not in bad.shows and (s, e) not in bad.episodes)
        total -= sum(1 for s, e, _ in bad.clips if s not in bad.shows and (s, e) not in bad.episodes)
        self.bar = progress_bar(progress, desc="export", unit="clip", total=max(total, 0))

    def _good_shows(self) -> Iterator[Show]:
        for show in self.ds.shows():
            if show.key in self.bad.shows:
                self.skipped_clips += sum(ep.n_clips for ep in show.episodes.values())
                continue
            for number in list(show.episodes):
                ep = show.episodes[number]
                if (show.key, number) in self.bad.episodes:
                    self.skipped_clips += ep.n_clips
                    del show.episodes[number]
                    continue
                good = [c for c in ep.clips if not self.bad.bad_clip(c)]
                self.skipped_clips += len(ep.clips) - len(good)
                if self.bad.dropped_fields:
                    for c in good:
                        self._drop_fields(c)
                ep.clips = good
            yield show

    def _drop_fields(self, clip: Clip) -> None:
        """Empty the optional extras of ``clip`` that have problems."""
        names = self.bad.dropped_fields.get((clip.show_key, clip.episode, clip.index))
        if not names:
            return
        self.dropped_fields += len(names)
        for name in names:
            setattr(clip, name, [] if name == "en_subtitles" else None)

    def shows(self) -> Iterator[Show]:
        """Good shows (with their good episodes and clips)."""
        for show in self._good_shows():
            yield show
            self.bar.update(sum(len(ep.clips) for ep in show.episodes.values()))

    def clips(self) -> Iterator[Clip]:
        """Good clips in file order."""
        for show in self._good_shows():
            for clip in show.clips():
                yield clip
                self.bar.update(1)

    def close(self) -> None:
        """Close the progress bar."""
        self.bar.close()

    def place_problems(self, folder: Path) -> Path | None:
        """Move the problems file into ``folder`` (as :data:`PROBLEMS_FILE`) when problems were found; its path."""
        if not self.bad.count or self.problems_file is None:
            return None
        dest = folder / PROBLEMS_FILE
        shutil.move(self.problems_file, dest)
        return dest


def clean_show_fields(show: Show) -> dict[str, Any]:
    """Show metadata fields of the right type only (others dropped), without ``episodes``."""
    return {k: v for k, v in show.metadata.items() if k in SHOW_FIELDS and type_ok(v, SHOW_FIELDS[k])}


def clip_info(clip: Clip) -> dict[str, Any]:
    """A clip's annotations as plain JSON-ready values (float seconds)."""
    return {
        "show": clip.show_key,
        "episode": clip.episode,
        "clip_index": clip.index,
        "jp_clip": clip.jp_clip,
        "en_clip": clip.en_clip,
        "jp_text": clip.jp_text,
        "en_text": clip.en_text,
        "jp_start": clip.jp_start,
        "jp_end": clip.jp_end,
        "en_start": clip.en_start,
        "en_end": clip.en_end,
        "speakers": list(clip.speakers),
        "en_subtitles": [{"start": s.start, "end": s.end, "text": s.text} for s in clip.en_subtitles],
        "multi_speaker": clip.is_multi_speaker,
        "mixing_ratio": clip.mixing_ratio,
        "backing_clip": clip.backing_clip,
        "speaker_confidence": clip.speaker_confidence,
    }


def dumps(obj: Any) -> str:
    """Deterministic compact JSON (``ensure_ascii=False``)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
