"""Dataset mode: dub every clip of one split of a release (JP clip audio -> EN dub audio).

Results are written as ``OUT/F/UUID.mp3`` keyed by each clip's **EN** clip ID, i.e. the
same relative layout as the gold EN clips in ``anim400k_audio_clips/``, so the MUSHRA
creator can take ``OUT`` as one system's folder. ``OUT/dub_dataset_report.json`` lists every
clip with its timing figures and problems.

Resuming: each clip's report entry is written, once its MP3 is, to ``OUT/F/UUID.dub.json`` with
the MP3's size and SHA-256. A re-run (or the run after a kill) keeps a clip whose MP3 still has
that identity and reports it from its entry, so its report equals an uninterrupted run's; an MP3
without a matching entry (killed between the two writes, replaced by another run) is dubbed again.
Only in a folder a dataset dub wrote (``OUT/.anim400k-dub``, written before the first MP3, or the report):
an MP3 at a clip's path in any other folder (another system's dubs, a copy of the gold clips) is refused
before any work, never replaced.

One run at a time per ``OUT``: a run holds the folder's lock (:func:`~anim400k.fsutil.locks.folder_lock`, the
build's ``.anim400k.lock``) for its whole work, so a second run into the same folder is refused in one
line, and first deletes the temporary files a killed run left for the files it writes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AnimError
from ..fsutil.atomic import write_json_atomic, write_text_atomic
from ..fsutil.locks import folder_lock
from ..fsutil.no_clobber import refuse_inside_release
from ..fsutil.temp_files import remove_stale_temps
from ..fsutil.writable import check_writable
from ..model import Clip, Subtitle
from ..progress import progress_bar
from ..release import Dataset
from ..translate.base import Translator
from ..tts.base import Synthesizer
from .condense import get_condenser
from .options import DubOptions
from .pipeline import check_backends, dub_audio, make_synthesizer

log = logging.getLogger(__name__)

REPORT_NAME = "dub_dataset_report.json"
#: written into ``OUT`` by every dataset dub before its first MP3: a folder holding it (or the report) is a dataset
#: dub's own, whose MP3s a later run may replace; in any other folder an MP3 at a clip's output path is not touched
DUB_MARK = ".anim400k-dub"
#: Suffix of a clip's own report entry beside its MP3 (``F/UUID.dub.json``).
ENTRY_SUFFIX = ".dub.json"
#: Rate at which clips are decoded and dubbed (the release's MP3s are 44.1/48 kHz).
CLIP_SR = 48000


@dataclass
class DatasetDubReport:
    """Summary of a dataset-mode run."""

    dataset: str
    split: str
    out_dir: str
    clips: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_done(self) -> int:
        """Clips whose dub was written."""
        return sum(1 for c in self.clips if c.get("output"))

    @property
    def translators(self) -> dict[str, int]:
        """How many clips each translator translated (``auto``: subtitles where a clip has them, else whisper)."""
        counts: dict[str, int] = {}
        for c in self.clips:
            if c.get("translator"):
                counts[c["translator"]] = counts.get(c["translator"], 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The JSON report."""
        errs = [c["mean_abs_end_error"] for c in self.clips if c.get("mean_abs_end_error") is not None]
        return {
            "dataset": self.dataset,
            "split": self.split,
            "out_dir": self.out_dir,
            "layout": "F/UUID.mp3 keyed by the EN clip ID",
            "summary": {
                "clips": len(self.clips),
                "dubbed": self.n_done,
                "translators": self.translators,
                "mean_abs_end_error": float(np.mean(errs)) if errs else None,
            },
            "clips": self.clips,
        }


def clip_subtitles(subtitles: list[Subtitle], jp_start: float, duration: float) -> list[Subtitle]:
    """A clip's EN subtitles moved from the episode's JP timeline to clip time (0 = clip start).

    Subtitles already in clip time (none ends after the clip) are kept as they are.
    """
    if subtitles and max(s.end for s in subtitles) <= duration + 0.5 and jp_start > duration + 0.5:
        return list(subtitles)
    return [Subtitle(s.start - jp_start, s.end - jp_start, s.text) for s in subtitles]


def output_path(out_dir: str | Path, en_clip: str) -> Path:
    """Where the dub of the clip with EN clip ID ``F/UUID`` goes: ``out_dir/F/UUID.mp3``."""
    from ..formats.ids import parse_id

    folder, uid = parse_id(en_clip)
    return Path(out_dir) / folder / f"{uid}.mp3"


def dub_dataset(
    dataset: str | Path,
    out_dir: str | Path,
    split: str = "test",
    options: DubOptions | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> DatasetDubReport:
    """Dub every clip of ``split`` (``tasks.split_of``; ``all``, ``valid`` accepted) of a release into ``out_dir``.

    Clips dubbed by an earlier run (the MP3 and its entry ``F/UUID.dub.json`` agree) are kept and
    reported from their entries, so a re-run or a resumed run writes the report an uninterrupted run
    writes. One clip's failure is recorded in the report and does not stop the run.

    The run holds ``out_dir``'s lock (:func:`~anim400k.fsutil.locks.folder_lock`): a second run into the same
    folder is refused (:class:`~anim400k.errors.InputError`, one line) before any work. Holding it, the run
    deletes the hidden temporary files (``.NAME.anim400k-XXXXXXXX.part.EXT``) that a killed run left for the
    report and for the MP3s and entries of the chosen clips; nothing else in the folder is touched.
    """
    from ..release import load, require_valid
    from ..tasks import normalize_split, require_split, split_of

    options = options or DubOptions()
    if limit is not None:
        from ..errors import check_number

        check_number("limit", limit, 1)  # 0 dubbed nothing and wrote an empty report
    if options.translator == "text":
        from ..errors import InputError

        raise InputError("--translator text cannot be used with --dataset (--translations are keyed to one "
                         "video's segments): use auto, subtitles or whisper", dataset)
    split = normalize_split(split)
    ds = load(dataset)
    _refuse_release_audio_folder(ds, out_dir)
    refuse_inside_release("--out", out_dir, ds.root)  # a later build or export of the release could delete it
    require_valid(ds)  # a malformed release is one clear line, not "dubbed 0/0"
    splits = split_of(ds, seed=seed)
    require_split(splits, split, dataset)
    check_writable({}, {"--out": out_dir})  # a read-only --out fails now, not after every clip
    get_condenser(options.condense)  # a bad name fails before any work
    check_backends(options)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    with folder_lock(out_dir, "dub --dataset"):  # a second run into the same folder stops here, in one line
        return _dub_dataset_locked(ds, dataset, out_dir, split, splits, options, limit)


def _dub_dataset_locked(ds: Dataset, dataset: str | Path, out_dir: str | Path, split: str,
                        splits: dict[str, str], options: DubOptions, limit: int | None) -> DatasetDubReport:
    """:func:`dub_dataset` once its inputs are checked and ``out_dir`` is locked."""
    from ..translate import get_translator

    report = DatasetDubReport(str(dataset), split, str(out_dir))
    in_split = (clip for clip in ds.clips() if split == "all" or splits.get(clip.show_key) == split)
    chosen = list(itertools.islice(in_split, limit))  # one pass over the annotations; the bar knows the total
    _refuse_foreign_mp3s(out_dir, chosen)  # another system's dubs were deleted and replaced, one by one
    tts = make_synthesizer(options)
    # whisper is built (and its model checked) before any clip when a clip will need it: always with
    # --translator whisper, with auto when a clip has no EN subtitles
    needed = options.translator == "whisper" or (options.translator == "auto" and
                                                 any(not clip.en_subtitles for clip in chosen))
    whisper = get_translator("whisper", model=options.whisper_model, device=options.device) if needed else None
    write_text_atomic(Path(out_dir) / DUB_MARK, "written by anim400k dub --dataset: a later run may replace "
                      "the dubs (F/UUID.mp3) in this folder\n")  # before the first MP3
    removed = _remove_stale_temps(out_dir, chosen)
    if removed:
        log.info("removed %d temporary file(s) in %s left by a killed dub --dataset", removed, out_dir)
    clip_options = replace(options, progress=False)  # one bar for the run, not one per clip
    with progress_bar(options.progress, total=len(chosen), desc="dub", unit="clip") as bar:
        for clip in chosen:
            bar.update(1)
            _dub_clip(clip, ds, out_dir, whisper, tts, clip_options, report)
    write_json_atomic(Path(out_dir) / REPORT_NAME, report.to_dict())
    return report


def _remove_stale_temps(out_dir: str | Path, clips: list[Clip]) -> int:
    """Delete the temporary files a killed run left for the files this run writes: the report's and,
    for each clip, its MP3's and its entry's (:func:`~anim400k.fsutil.temp_files.remove_stale_temps`). Returns how
    many."""
    targets: list[Path] = [Path(out_dir) / REPORT_NAME]
    for clip in clips:
        try:
            target = output_path(out_dir, clip.en_clip)
        except ValueError:  # reported for the clip when it is dubbed
            continue
        targets += [target, entry_path(target)]
    return remove_stale_temps(*targets)


def _refuse_foreign_mp3s(out_dir: str | Path, clips: list[Clip]) -> None:
    """Refuse (:class:`InputError`, one line naming the file) an ``out_dir`` that no dataset dub wrote (it holds
    neither :data:`DUB_MARK` nor the report) with an MP3 at a clip's output path and no entry of ours beside it:
    another system's dubs (``F/UUID.mp3`` is the layout every system of ``evaluate`` and MUSHRA has) or a copy of
    the gold EN clips, which the run would delete and replace. Nothing is written before the check."""
    from ..errors import InputError

    out = Path(out_dir)
    if (out / DUB_MARK).is_file() or (out / REPORT_NAME).is_file():
        return
    for clip in clips:
        try:
            target = output_path(out, clip.en_clip)
        except ValueError:  # reported for the clip when it is dubbed
            continue
        if os.path.lexists(target) and not entry_path(target).is_file():
            raise InputError(f"--out holds {target.relative_to(out)}, which no dub --dataset wrote (no {DUB_MARK} "
                             f"or {REPORT_NAME} here): dubbing would replace it (another system's dubs or a copy "
                             "of the gold clips?); dub into a folder of its own", out_dir)


def _refuse_release_audio_folder(ds: Dataset, out_dir: str | Path) -> None:
    """Refuse (:class:`InputError`) an ``out_dir`` that is the release folder or its clip folder."""
    from ..errors import InputError
    from ..formats.ids import AUDIO_ARCHIVE
    from ..fsutil.no_clobber import same_file

    for folder, why in (
        (ds.root, "the release folder: the dubs and the report would be written among its files"),
        (ds.root / AUDIO_ARCHIVE, "the release's clip folder: its gold EN clips would be taken for dubs"),
    ):
        if same_file(out_dir, folder):
            raise InputError(f"--out is {why}; dub into a folder of its own", out_dir)


def _dub_clip(
    clip: Clip,
    ds: Dataset,
    out_dir: str | Path,
    whisper: Translator | None,
    tts: Synthesizer,
    options: DubOptions,
    report: DatasetDubReport,
) -> None:
    """Dub one clip into ``out_dir`` and record it in ``report`` (problems included)."""
    from ..media import decode_audio, write_audio
    from ..translate import get_translator

    entry: dict[str, Any] = {
        "jp_clip": clip.jp_clip,
        "en_clip": clip.en_clip,
        "output": None,
        "problems": [],
    }
    report.clips.append(entry)
    try:
        target = output_path(out_dir, clip.en_clip)
    except ValueError as exc:
        entry["problems"].append(str(exc))
        return
    kept = kept_entry(target)
    if kept is not None:  # dubbed by an earlier run: reported as that run reported it
        entry.update(kept, jp_clip=clip.jp_clip, en_clip=clip.en_clip, output=str(target))
        return
    for stale in (entry_path(target), target):  # an MP3 whose entry is missing or is another MP3's
        stale.unlink(missing_ok=True)
    source = ds.audio_path(clip.jp_clip)
    try:
        mix = decode_audio(source, 0, sr=CLIP_SR, mono=True)
        subs = clip_subtitles(clip.en_subtitles, clip.jp_start, len(mix) / CLIP_SR)
        use_whisper = options.translator == "whisper" or (options.translator == "auto" and not subs)
        translator = whisper if use_whisper and whisper is not None else get_translator("subtitles", subtitles=subs)
        entry["translator"] = translator.name
        if hasattr(tts, "new_recording"):  # each clip is diarized on its own: its speaker labels are new
            tts.new_recording()
        result = dub_audio(mix, CLIP_SR, translator, tts, options, source=str(source))
        write_audio(target, result.audio, CLIP_SR)
    except AnimError as exc:
        entry["problems"].append(exc.message)
        log.warning("clip %s: %s", clip.jp_clip, exc.message)
        return
    rep = result.report
    entry.update(
        output=str(target),
        duration=rep.duration,
        lines=len(rep.lines),
        spoken=len(rep.spoken_lines),
        text=" ".join(ln.en_text for ln in rep.spoken_lines if ln.en_text),
        mean_abs_end_error=rep.mean_abs_end_error,
    )
    entry["problems"] += rep.problems + [f"line {ln.index}: {p}" for ln in rep.lines for p in ln.problems]
    _save_entry(target, entry)


def entry_path(target: Path) -> Path:
    """Where the report entry of the dub ``F/UUID.mp3`` is kept: ``F/UUID.dub.json``."""
    return target.with_suffix(ENTRY_SUFFIX)


def _mp3_identity(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a dub MP3 (a few hundred KB: hashing it costs nothing beside dubbing it)."""
    data = path.read_bytes()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _save_entry(target: Path, entry: dict[str, Any]) -> None:
    """Keep ``entry`` beside the MP3 ``target`` just written, keyed by the MP3's identity (atomic, synced)."""
    write_json_atomic(entry_path(target), {"mp3": _mp3_identity(target), "entry": entry})


def kept_entry(target: Path) -> dict[str, Any] | None:
    """The report entry of the dub ``target`` from an earlier run, or None (dub it again).

    None when the MP3 or its entry is missing, the entry does not read, or it was written for
    another MP3 (another size or SHA-256: a run with other options replaced the MP3, or was
    killed between writing the MP3 and its entry).
    """
    side = entry_path(target)
    if not target.is_file() or not side.is_file():
        return None
    try:
        saved = json.loads(side.read_text(encoding="utf-8"))
        entry, ident = saved["entry"], saved["mp3"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(entry, dict) or ident != _mp3_identity(target):
        return None
    return entry
