"""Secondary-task views of a release: show-level splits and one JSONL manifest per task.

Splits are by *show*: no show appears in two splits. Shows are put in a seeded random
order (``random.Random(seed)`` over the sorted show keys). If there are enough shows, the
first ones go one each to test, validation and train (splits with a zero share are left
out), so no wanted split is empty; every further show goes to the split that leaves the
shares closest (least squares) to their targets. Of 64 such orders drawn from the seed, the
one whose shares come closest to the targets is kept (with a few shows of unequal size one
order can miss them badly). Shares are measured in clips
(``by="clips"``, the default) or in shows (``by="shows"``). Same release, seed and
proportions: same splits.

Manifests (``DIR/<task>/<split>.jsonl``, one JSON object a line; media paths are absolute,
resolved from the release folder, so they hold from any working directory):

- ``speech_translation``: JP clip audio -> the EN subtitles overlapping the clip, their spoken text (SDH
  sound descriptions, ``NAME:`` labels and ``♪`` lyrics removed; clips without subtitles or with nothing
  spoken in them, i.e. an empty ``target_text``, are left out). A clip with no
  ``en_subtitles`` field at all (the original Anim-400K format has none) takes its
  ``en_text`` (the EN ASR of the dub) as the target instead; each row's ``target_source``
  (``en_subtitles`` or ``en_text``) and the summary's ``target_sources`` (rows per source)
  say which;
- ``dubbing``: JP clip audio and text -> EN clip audio and text;
- ``teaser_summarization``: episode (its clips' IDs and texts) -> episode synopsis;
- ``genre_classification``: show (synopsis, episode synopses) -> genres and themes;
- ``character_identification``: character picture -> character name (and show);
- ``quality_prediction``: episode -> poll mean vote and voters.

``DIR/README.md`` is a dataset card (:mod:`anim400k.task_card`): one ``datasets`` config per task, its split files
and row features, so ``datasets.load_dataset(DIR, TASK)`` types every split alike.

``DIR/splits.json`` records seed, proportions, basis, the show keys of each split, the row
counts, what was left out (``left_out``) and the splits with no rows (``empty``: task ->
split names). A split with no rows gets no file (``datasets.load_dataset("json", ...)``
refuses an empty one: ``Instruction "test" corresponds to no data!``), and a file of that
name left by an earlier run into the same folder goes with that run. ``DIR`` may not be a release
folder (one holding ``anim400k_annotations.json``) nor lie inside one.

A run replaces ``DIR`` as a whole: it writes every file into a hidden folder beside it
(``.DIR.anim400k-partial-XXXXXXXX``) and swaps that in for ``DIR`` at the end
(:func:`anim400k.exports.common.staged_folder`, as ``anim400k export`` does), so ``DIR`` holds the
manifests of one run only, the earlier run's or the new one's, whenever the run is killed. ``DIR`` must
therefore be new, empty or an earlier run's output (only ``splits.json``, its card, ``TASK/SPLIT.jsonl`` and a
killed run's temporary files of those): a folder holding anything else is refused in one line, and so are
a mount point and the working folder or one holding it, which cannot be swapped
(:func:`anim400k.exports.common.check_replaceable`).

Media: each referenced file (clip audio, character picture) is checked to exist, one
``stat`` per file; a row whose media file is missing is left out and counted per kind
(``left_out["missing_audio"]``, ``left_out["missing_picture"]``: rows, files, first
missing path). ``check_media=False`` (``--no-media``) skips the check and writes every
row (annotations-only use).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from .errors import InputError
from .fsutil.atomic import atomic_path, write_json_atomic
from .fsutil.locks import LOCK_FILE, output_lock
from .fsutil.no_clobber import refuse_overwriting
from .fsutil.temp_files import is_temp_of
from .fsutil.writable import check_writable
from .progress import file_bar
from .release import Dataset, EpisodeRecord, Show, load
from .task_card import CARD_FILE, TaskFeatures, is_card, write_card

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
#: Names a user may give for a split (``--split``); ``all`` means every clip.
SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "validation": "validation", "valid": "validation", "val": "validation", "dev": "validation",
    "test": "test",
    "all": "all",
}


def normalize_split(name: str, allow_all: bool = True) -> str:
    """The canonical split name (``train``, ``validation``, ``test``, ``all``) for ``name`` or an alias.

    ``valid``/``val``/``dev`` mean ``validation``. Anything else raises :class:`InputError`.
    """
    canon = SPLIT_ALIASES.get(name.strip().lower())
    if canon is None or (canon == "all" and not allow_all):
        names = ", ".join([*SPLITS, "all"] if allow_all else SPLITS)
        raise InputError(f"unknown split {name!r} (use one of {names}; valid and val mean validation)")
    return canon


def require_split(splits: dict[str, str], split: str, dataset: str | Path) -> None:
    """Raise :class:`InputError` if no show of the release falls in ``split`` (``all`` always passes)."""
    if split == "all":
        return
    have = [s for s in SPLITS if s in set(splits.values())]
    if split not in have:
        raise InputError(
            f"the release has no {split!r} split (it has: {', '.join(have) or 'no shows'}; "
            f"splits are by show, see `anim400k tasks`; --split all takes every show, e.g. for the demo's "
            f"one-show release)",
            dataset,
        )
TASKS = (
    "speech_translation",
    "dubbing",
    "teaser_summarization",
    "genre_classification",
    "character_identification",
    "quality_prediction",
)


def parse_proportions(text: str | Sequence[float]) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` -> (0.8, 0.1, 0.1); must be three non-negative numbers summing to 1."""
    try:
        values = [float(x) for x in (text.split(",") if isinstance(text, str) else text)]
    except ValueError as exc:
        raise InputError(f"split proportions must be numbers: {text!r}") from exc
    # not `v < 0`: NaN compares false with everything (`nan,0.5,0.5` passed and splits.json held NaN)
    if len(values) != 3 or not all(math.isfinite(v) and v >= 0 for v in values) or abs(sum(values) - 1.0) > 1e-6:
        raise InputError(f"split proportions must be three non-negative numbers summing to 1: {text!r}")
    return values[0], values[1], values[2]


#: Seeded show orders :func:`assign_splits` tries; it keeps the one whose shares come closest to the targets.
SPLIT_ORDERS = 64


def assign_splits(
    weights: dict[str, float], seed: int = 0, proportions: Sequence[float] = (0.8, 0.1, 0.1)
) -> dict[str, str]:
    """Show key -> split name, from each show's weight (clip count, or 1 per show).

    Fills the splits greedily along a seeded random order of the shows (see the module docstring) for
    :data:`SPLIT_ORDERS` orders drawn from ``seed`` and keeps the assignment whose shares are closest to
    ``proportions`` (the first such): with a few shows of very unequal size one order can miss the shares badly
    (its first, largest show drawn for the test split)."""
    props = parse_proportions(proportions)
    rng = random.Random(seed)
    best: tuple[float, dict[str, str]] | None = None
    for _ in range(SPLIT_ORDERS):
        order = sorted(weights)
        rng.shuffle(order)
        out, err = _fill_in_order(order, weights, props)
        if best is None or err < best[0] - 1e-12:
            best = (err, out)
    assert best is not None
    return best[1]


def _fill_in_order(
    order: list[str], weights: dict[str, float], props: tuple[float, float, float]
) -> tuple[dict[str, str], float]:
    """One greedy assignment along ``order`` and its squared error against ``props``."""
    total = sum(weights.values()) or 1.0
    filled = [0.0, 0.0, 0.0]
    out: dict[str, str] = {}
    wanted = [i for i in (2, 1, 0) if props[i] > 0]
    if len(order) >= len(wanted):
        # every split with a non-zero share gets a show (test first, then validation, train)
        for i, key in zip(wanted, order, strict=False):
            out[key] = SPLITS[i]
            filled[i] += weights[key]

    def error(fill: list[float]) -> float:
        return sum((fill[j] / total - props[j]) ** 2 for j in range(3))

    for key in order:
        if key in out:
            continue
        # the split that leaves the shares closest to their targets; ties go to the earlier split
        best = min(
            (i for i in range(3) if props[i] > 0),
            key=lambda i: (error([f + (weights[key] if j == i else 0.0) for j, f in enumerate(filled)]), i),
        )
        out[key] = SPLITS[best]
        filled[best] += weights[key]
    return out, error(filled)


def split_of(
    dataset: Dataset | str | Path,
    seed: int = 0,
    proportions: Sequence[float] = (0.8, 0.1, 0.1),
    by: str = "clips",
) -> dict[str, str]:
    """Show key -> ``train``/``validation``/``test`` for a release (see the module docstring)."""
    if by not in ("clips", "shows"):
        raise InputError(f"split basis must be 'clips' or 'shows', not {by!r}")
    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    weights: dict[str, float] = {}
    for show in ds.shows(with_clips=False):
        n = sum(ep.n_clips for ep in show.episodes.values())
        weights[show.key] = float(n) if by == "clips" else 1.0
    return assign_splits(weights, seed, proportions)


#: Row fields that name a media file, per task, and the kind of file each one is.
MEDIA_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "speech_translation": (("audio", "audio"),),
    "dubbing": (("jp_audio", "audio"), ("en_audio", "audio")),
    "character_identification": (("picture", "picture"),),
}
#: Tasks whose target is a text that must not be empty (field name per task).
TARGET_TEXT_FIELDS = {"speech_translation": "target_text"}


class RowFilter:
    """Decides which manifest rows to keep and counts the ones left out.

    A row is left out if a media file it names is missing (with ``check_media``) or if
    its task needs a target text and the row's is empty. Each media file is looked up
    once (one ``stat``; results are kept until :meth:`forget`, called once per show).
    """

    def __init__(self, check_media: bool = True) -> None:
        self.check_media = check_media
        self._exists: dict[str, bool] = {}
        self.left_out: dict[str, dict[str, Any]] = {}

    def forget(self) -> None:
        """Drop the remembered lookups (memory stays flat over a big release)."""
        self._exists.clear()

    def _note(self, reason: str, first: str, files: int = 0) -> None:
        entry = self.left_out.setdefault(reason, {"rows": 0, "files": 0, "first": first})
        entry["rows"] += 1
        entry["files"] += files

    def keep(self, task: str, row: dict[str, Any]) -> bool:
        """Whether to write ``row`` of ``task`` (a row left out is counted in :attr:`left_out`)."""
        if self.check_media:
            missing: dict[str, list[str]] = {}
            for field, kind in MEDIA_FIELDS.get(task, ()):
                path = row[field]
                known = self._exists.get(path)
                if known is None:
                    known = self._exists[path] = os.path.isfile(path)
                    if not known:  # count each missing file once, at its first lookup
                        self.left_out.setdefault(f"missing_{kind}", {"rows": 0, "files": 0, "first": path})
                        self.left_out[f"missing_{kind}"]["files"] += 1
                if not known:
                    missing.setdefault(kind, []).append(path)
            if missing:
                for kind, paths in missing.items():
                    self._note(f"missing_{kind}", paths[0])
                return False
        field = TARGET_TEXT_FIELDS.get(task)
        if field is not None and not str(row.get(field) or "").strip():
            self._note(f"no_{field}", str(row.get("id", "")))
            return False
        return True


def empty_text(empty: dict[str, list[str]]) -> str:
    """One line naming the splits that got no rows, hence no file (``""`` if none)."""
    if not empty:
        return ""
    parts = [f"{task} ({', '.join(splits)})" for task, splits in empty.items()]
    return "no rows, so no file, for: " + "; ".join(parts)


def target_source_text(sources: dict[str, int]) -> str:
    """One line saying where the speech-translation targets came from (``""`` if all from subtitles)."""
    asr = sources.get("en_text", 0)
    if not asr:
        return ""
    subs = sources.get("en_subtitles", 0)
    return (f"speech_translation: {asr} of {asr + subs} target(s) are the clip's en_text (EN ASR of the dub): "
            "its clips have no en_subtitles field (original-format release)")


def left_out_text(left_out: dict[str, dict[str, Any]]) -> str:
    """One line naming what :class:`RowFilter` left out (``""`` if nothing)."""
    parts = []
    for reason, e in sorted(left_out.items()):
        if reason.startswith("missing_"):
            kind = reason.removeprefix("missing_")
            parts.append(f"{e['rows']} row(s) whose {kind} is missing ({e['files']} file(s), first {e['first']})")
        else:
            what = reason.removeprefix("no_").replace("_", " ")
            parts.append(f"{e['rows']} row(s) with no {what} (first clip {e['first']})")
    if not parts:
        return ""
    hint = " (--no-media writes rows without checking media)" if any(k.startswith("missing_") for k in left_out) else ""
    return "left out " + "; ".join(parts) + hint


def _subtitle_text(clip: Any) -> str:
    """The spoken text of the clip's EN subtitles: SDH sound descriptions, speaker labels and lyrics removed
    (:func:`anim400k.formats.sdh.speech_text`, as the dub speaks them); ``""`` when nothing spoken is left."""
    from .formats.sdh import speech_text

    return " ".join(t for t in (speech_text(s.text) for s in clip.en_subtitles) if t)


def clips_without_subtitle_field(raw_show: Any) -> set[str]:
    """JP clip IDs of a raw show object whose clip has no ``en_subtitles`` field (original format)."""
    out: set[str] = set()
    episodes = raw_show.get("episodes") if isinstance(raw_show, dict) else None
    for ep in episodes.values() if isinstance(episodes, dict) else ():
        clips = ep.get("clips") if isinstance(ep, dict) else None
        for clip in clips if isinstance(clips, list) else ():
            if isinstance(clip, dict) and "en_subtitles" not in clip:
                out.add(str(clip.get("jp_clip", "")))
    return out


def _clip_rows(ds: Dataset, show: Show, no_subtitle_field: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for ep in show.episodes.values():
        for c in ep.clips:
            base = {"id": c.jp_clip, "show": show.key, "episode": ep.number, "clip_index": c.index}
            from_asr = c.jp_clip in no_subtitle_field
            yield (
                "speech_translation",
                base
                | {
                    "audio": str(ds.audio_path(c.jp_clip)),
                    "duration": round(c.jp_duration, 3),
                    "source_text": c.jp_text,
                    "target_text": c.en_text.strip() if from_asr else _subtitle_text(c),
                    "target_source": "en_text" if from_asr else "en_subtitles",
                    "subtitles": [{"start": s.start, "end": s.end, "text": s.text} for s in c.en_subtitles],
                },
            )
            yield (
                "dubbing",
                base
                | {
                    "jp_audio": str(ds.audio_path(c.jp_clip)),
                    "en_audio": str(ds.audio_path(c.en_clip)),
                    "jp_text": c.jp_text,
                    "en_text": c.en_text,
                    "en_subtitles": _subtitle_text(c),
                    "jp_duration": round(c.jp_duration, 3),
                    "en_duration": round(c.en_duration, 3),
                    "speakers": c.speakers,
                },
            )


def _episode_rows(show: Show, ep: EpisodeRecord) -> Iterator[tuple[str, dict[str, Any]]]:
    if ep.synopsis and ep.synopsis.strip():
        yield (
            "teaser_summarization",
            {
                "show": show.key,
                "episode": ep.number,
                "clips": [c.jp_clip for c in ep.clips],
                "jp_text": " ".join(c.jp_text for c in ep.clips if c.jp_text),
                "en_text": " ".join(c.en_text for c in ep.clips if c.en_text),
                "synopsis": ep.synopsis,
            },
        )
    mv = ep.mean_vote
    if ep.ratings and ep.voters > 0 and mv is not None:
        yield (
            "quality_prediction",
            {
                "show": show.key,
                "episode": ep.number,
                "clips": [c.jp_clip for c in ep.clips],
                "mean_vote": mv,
                "voters": ep.voters,
                "ratings": {
                    k: {"ratio": r.ratio, "number_of_voters": r.number_of_voters}
                    for k, r in ep.ratings.items()
                },
            },
        )


def _show_rows(ds: Dataset, show: Show) -> Iterator[tuple[str, dict[str, Any]]]:
    if show.genres or show.themes:
        yield (
            "genre_classification",
            {
                "show": show.key,
                "name": show.name,
                "synopsis": show.synopsis or "",
                "episode_synopses": [ep.synopsis for ep in show.episodes.values() if ep.synopsis],
                "genres": show.genres,
                "themes": show.themes,
            },
        )
    for ch in show.characters:
        for pic in ch.pic_urls:
            yield (
                "character_identification",
                {
                    "picture_id": pic,
                    "picture": str(ds.picture_path(pic)),
                    "show": show.key,
                    "character": ch.name,
                    "role": ch.role,
                },
            )


def write_task_views(
    dataset: Dataset | str | Path,
    out_dir: str | Path,
    seed: int = 0,
    proportions: Sequence[float] = (0.8, 0.1, 0.1),
    by: str = "clips",
    check_media: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Write ``splits.json`` and every task's per-split JSONL manifests; return the summary.

    Streams the release one show at a time into a hidden folder beside ``out_dir``
    (``.NAME.anim400k-partial-XXXXXXXX``) that replaces ``out_dir`` as a whole when every file is written
    (:func:`~anim400k.exports.common.staged_folder`): a run killed at any point leaves ``out_dir`` the
    earlier run's or the new one's, never a mix. ``out_dir`` must be new, empty or an earlier run's
    output (:func:`check_tasks_folder`). The run holds ``out_dir``'s lock
    (:func:`~anim400k.fsutil.locks.output_lock`, ``.NAME.anim400k.lock`` beside it: a second run into it is
    refused in one line) and first cleans up what a killed run left beside it
    (:func:`~anim400k.exports.common.recover_export_folder`: a half-written ``.NAME.anim400k-partial-*`` is
    deleted, an earlier output set aside as ``.NAME.anim400k-old-*`` by a kill between the two renames of the
    swap is put back). Media paths are absolute. Rows whose media file is missing (unless not
    ``check_media``) or whose needed target text is empty are left out and counted in the summary's
    ``left_out`` (see :class:`RowFilter`).

    ``progress``: a bar on a terminal over the bytes of the annotations file read by the
    three passes (validate, split, write).
    """
    from .exports.common import check_replaceable, recover_export_folder, staged_folder

    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    ds = Dataset(ds.root.resolve(), ds.annotations.resolve())  # manifests name absolute paths
    refuse_release_folder(out_dir, ds.root)
    written = [("--out splits.json", Path(out_dir) / "splits.json"), (f"--out {CARD_FILE}", Path(out_dir) / CARD_FILE)]
    written += [(f"--out {t}/{s}.jsonl", Path(out_dir) / t / f"{s}.jsonl") for t in TASKS for s in SPLITS]
    refuse_overwriting(written, {"DATASET": ds.annotations})
    props = parse_proportions(proportions)
    out = Path(os.path.abspath(out_dir))  # "." has a name to stage beside
    check_writable({}, {"--out": out_dir})
    check_replaceable(out)  # a mount point cannot be swapped (said before its parent's rights)
    if out.is_dir():  # the new folder is written beside it, then swapped in
        check_writable({}, {"--out's parent folder": out.parent})
    check_tasks_folder(out)
    with output_lock(out, "tasks", noun="folder"):  # a second run into the same folder stops here, in one line
        removed = recover_export_folder(out, whole=lambda folder: _foreign_entry(folder) is None)
        if removed:
            log.info("removed %d folder(s) a killed run left beside %s", removed, out)
        try:
            with staged_folder(out, check_tasks_folder) as stage, file_bar(ds.annotations, "tasks", progress,
                                                                              passes=3) as bar:
                ds.on_read = bar.update
                summary = _write_views(ds, stage, seed, props, by, RowFilter(check_media))
                ds.on_read = None
        except OSError as exc:
            from .errors import DiskFull, is_disk_full

            if is_disk_full(exc):  # it named a file of the hidden staging folder (deleted by now)
                raise DiskFull("the disk is full: the task views could not be written (no space left on device); "
                               "free space there and run the same command again", out) from exc
            raise
    return summary


def _foreign_entry(folder: Path) -> Path | None:
    """The first entry of ``folder`` that ``anim400k tasks`` does not write (None: the folder holds only its own).

    Its own: ``splits.json``, a folder per task (:data:`TASKS`) holding ``SPLIT.jsonl`` files, a killed run's
    temporary files of those (``.SPLIT.anim400k-XXXXXXXX.part.jsonl``, ``.splits.anim400k-XXXXXXXX.part.json``,
    also unmarked as versions before :data:`~anim400k.fsutil.temp_files.TEMP_MARK` named them: a folder a killed earlier
    version left is still its own) and the lock file an earlier version kept inside the folder. Symbolic links
    are never its own.
    """
    splits = {f"{s}.jsonl" for s in SPLITS}
    for entry in sorted(folder.iterdir()):
        plain = not entry.is_symlink()
        if entry.name in TASKS and plain and entry.is_dir():
            for sub in sorted(entry.iterdir()):
                own = sub.name in splits or is_temp_of(sub.name, *splits, legacy=True)
                if not (own and not sub.is_symlink() and sub.is_file()):
                    return sub
            continue
        own = entry.name in ("splits.json", LOCK_FILE) or is_temp_of(entry.name, "splits.json", CARD_FILE, legacy=True)
        own = own or (entry.name == CARD_FILE and is_card(entry))  # a user's README.md is not its own
        if not (own and plain and entry.is_file()):
            return entry
    return None


def check_tasks_folder(out: str | Path) -> None:
    """Refuse (:class:`InputError`, one line naming the folder) a ``--out`` that a run may not replace.

    A run replaces its output folder as a whole, so ``out`` must be missing, empty or an earlier run's
    output (:func:`_foreign_entry` finds nothing else in it); a symbolic link or a file is refused too.
    """
    out = Path(out)
    if out.is_symlink():
        raise InputError("--out is a symbolic link: give the folder itself (a run replaces the whole folder)", out)
    if out.exists() and not out.is_dir():
        raise InputError("--out is a file: give a folder to write into", out)
    if not out.is_dir():
        return
    other = _foreign_entry(out)
    if other is not None:
        raise InputError(
            f"--out holds {other.relative_to(out).as_posix()!r}, which anim400k tasks did not write: give a new "
            "or empty folder, or one an earlier run of anim400k tasks wrote (a run replaces the whole folder)",
            out,
        )


def refuse_release_folder(
    out_dir: str | Path,
    release_root: str | Path | None = None,
    advice: str = "write the task manifests to a folder of their own",
) -> None:
    """Refuse (:class:`InputError`, one line naming the folder) an output folder that is a release
    folder or lies inside one: ``release_root`` or any folder holding ``anim400k_annotations.json``.
    ``advice`` ends the message (what to do instead)."""
    from .formats.ids import ANNOTATIONS_FILE

    out = Path(os.path.realpath(out_dir))
    root = Path(os.path.realpath(release_root)) if release_root is not None else None
    for folder in (out, *out.parents):
        if folder == root or (folder / ANNOTATIONS_FILE).is_file():
            where = "is" if folder == out else "lies inside"
            raise InputError(f"--out {where} the release folder {str(folder)!r}: {advice}", out_dir)


def _write_views(
    ds: Dataset, out: Path, seed: int, props: tuple[float, float, float], by: str, rows_filter: RowFilter
) -> dict[str, Any]:
    """The three passes of :func:`write_task_views`: validate, split, write."""
    from .release import require_valid

    check_media = rows_filter.check_media
    require_valid(ds)  # a malformed ID or field is one line here, not a traceback half-way through
    splits = split_of(ds, seed, props, by)
    counts: dict[str, dict[str, int]] = {t: dict.fromkeys(SPLITS, 0) for t in TASKS}
    sources: dict[str, int] = {}
    features = TaskFeatures()
    with ExitStack() as stack:
        files: dict[tuple[str, str], IO[str]] = {}

        def opened(task: str, split: str) -> IO[str]:
            # a split's file is made at its first row: a split with no rows gets none
            f = files.get((task, split))
            if f is None:
                tmp = stack.enter_context(atomic_path(out / task / f"{split}.jsonl"))
                f = files[(task, split)] = stack.enter_context(tmp.open("w", encoding="utf-8"))
            return f

        def emit(rows: Iterator[tuple[str, dict[str, Any]]], split: str) -> None:
            for task, row in rows:
                if not rows_filter.keep(task, row):
                    continue
                row = row | {"split": split}
                opened(task, split).write(json.dumps(row, ensure_ascii=False) + "\n")
                features.add(task, row)
                counts[task][split] += 1
                if "target_source" in row:
                    sources[row["target_source"]] = sources.get(row["target_source"], 0) + 1

        for key, raw in ds.iter_raw():
            if not isinstance(raw, dict):
                continue
            show = Show.from_dict(str(key), raw)
            split = splits[show.key]
            emit(_show_rows(ds, show), split)
            for ep in show.episodes.values():
                emit(_episode_rows(show, ep), split)
            emit(_clip_rows(ds, show, clips_without_subtitle_field(raw)), split)
            rows_filter.forget()
        for f in files.values():
            f.close()
    write_card(out, {t: [s for s in SPLITS if counts[t][s]] for t in TASKS}, features,
               f"Task views of {ds.root.name}")
    empty = {t: [s for s in SPLITS if not counts[t][s]] for t in TASKS}
    empty = {t: names for t, names in empty.items() if names}  # no file: out is a new folder
    summary = {
        "dataset": str(ds.root.resolve()),
        "seed": seed,
        "proportions": dict(zip(SPLITS, props, strict=True)),
        "by": by,
        "splits": {s: sorted(k for k, v in splits.items() if v == s) for s in SPLITS},
        "counts": counts,
        "check_media": check_media,
        "left_out": rows_filter.left_out,
        "empty": empty,
        "target_sources": sources,
    }
    write_json_atomic(out / "splits.json", summary)
    return summary


def load_splits(path: str | Path) -> dict[str, str]:
    """Show key -> split from a ``splits.json`` written by :func:`write_task_views`."""
    p = Path(path)
    if p.is_dir():
        p = p / "splits.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return {k: split for split, keys in data["splits"].items() for k in keys}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a splits.json: {exc}", p) from exc
