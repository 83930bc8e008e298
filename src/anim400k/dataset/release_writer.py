"""Writes the release's annotations file (streaming, one episode at a time) and the archives."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import AnimError
from ..formats.ids import (
    ANNOTATIONS_FILE,
    AUDIO_ARCHIVE,
    FRAMES_ARCHIVE,
    PICS_ARCHIVE,
    VIDEO_ARCHIVE,
    id_files,
    make_id,
)
from ..fsutil.atomic import atomic_path, write_json_atomic
from ..model import Clip
from .context import EpisodeContext
from .manifest import EpisodeEntry, Manifest
from .options import BuildOptions
from .stages import stage_notes

log = logging.getLogger(__name__)


def write_release(manifest: Manifest, contexts: list[EpisodeContext], out: Path, options: BuildOptions
                  ) -> dict[str, Any]:
    """Write ``anim400k_annotations.json`` for the finished episodes (and archives if asked).

    Returns a summary: clip count, hours of clips, unmatched JP segments, warnings. Hours are JP
    time (``jp_end - jp_start``, as ``anim400k stats`` counts them): with drift a clip's EN length
    is ``1 + drift`` times its JP length.
    """
    from ..release import clip_to_release_dict, write_annotations
    from ..release.codec import timestamp_millis
    from ..release.metadata import load_show_metadata
    from .cutting import cuts_video

    by_show: dict[str, list[EpisodeContext]] = {}
    for ctx in contexts:
        missing = [n for n in ("clips.json", "cut.json") if not ctx.artifact(n).is_file()]
        if missing:  # a finished episode without its clips or cut state: never left out silently
            raise AnimError(f"episode {ctx.ref.key} finished but its {' and '.join(missing)} is missing "
                            f"from {ctx.work_dir}: run the same command again to redo it")
        by_show.setdefault(ctx.ref.show_key, []).append(ctx)
    stats = {"clips": 0, "millis": 0, "unmatched_jp_segments": 0}
    warnings: list[str] = []
    pics: set[str] = set()  # the character pictures the annotations reference (pic_urls)

    def episodes_of(show_key: str, eps_meta: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Iterator[dict]]]:
        for ctx in by_show[show_key]:
            data = ctx.read_json("clips.json")
            stats["unmatched_jp_segments"] += int(data.get("unmatched_jp_segments", 0))
            warnings.extend(f"{ctx.ref.key}: {w}" for w in clips_warnings(data))
            sync = ctx.read_json("sync.json")
            if sync.get("warning"):
                warnings.append(f"{ctx.ref.key}: {sync['warning']}")
            sep = ctx.read_json("separate.json") if ctx.artifact("separate.json").exists() else {}
            if sep.get("note"):
                warnings.append(f"{ctx.ref.key}: {sep['note']}")
            warnings.extend(f"{ctx.ref.key}: {w}" for w in stage_notes(ctx))
            ep_meta = dict(episode_metadata(eps_meta, ctx.ref.episode))
            ep_meta.setdefault("jp_video_id", make_id(show_key, ctx.ref.episode, "jp_video"))
            ep_meta.setdefault("en_video_id", make_id(show_key, ctx.ref.episode, "en_video"))
            if not cuts_video(ctx):
                ep_meta["video_clips"] = False  # its clips have no MP4 (FORMAT.md readers ignore the field)
                if ctx.options.video_clips:  # asked for, but the JP medium has no picture: said, not silent
                    warnings.append(f"{ctx.ref.key}: {ctx.ref.jp_media}: has no video stream: the episode's clips "
                                    "have no video clips (audio clips only; video_clips: false in the release)")

            def clips(data: dict[str, Any] = data) -> Iterator[dict[str, Any]]:
                for d in data["clips"]:
                    c = Clip.from_dict(d)
                    stats["clips"] += 1
                    out = clip_to_release_dict(c)
                    # whole milliseconds of the written timestamps, as ``stats`` sums them: the same hours
                    end, start = timestamp_millis(out["jp_end_time"]), timestamp_millis(out["jp_start_time"])
                    stats["millis"] += (end or 0) - (start or 0)
                    yield out

            yield ctx.ref.episode, ep_meta, clips()

    def shows() -> Iterator[tuple[str, dict[str, Any], Iterator]]:
        for entry in manifest.shows:
            if entry.key not in by_show:
                continue
            show_meta: dict[str, Any] = {}
            eps_meta: dict[str, Any] = {}
            if entry.metadata:
                path = manifest.resolve(entry.metadata)
                show_meta, eps_meta = load_show_metadata(path, entry.key, out)
                pics.update(_pic_files(show_meta))
                unmatched = unmatched_metadata_episodes(eps_meta, [e.episode for e in entry.episodes])
                if unmatched:
                    warnings.append(_unmatched_warning(entry.key, str(path), unmatched, entry.episodes))
                    log.warning("%s", warnings[-1])
            show_meta.setdefault("show", entry.key)  # the name the manifest gives (its key) when no metadata does
            yield entry.key, show_meta, episodes_of(entry.key, eps_meta)

    write_annotations(out / ANNOTATIONS_FILE, shows())
    _write_frames_table(contexts, out, options)
    if options.archive:
        _write_archives(contexts, out, {**_clip_files(contexts), PICS_ARCHIVE: pics, FRAMES_ARCHIVE: _frame_files(out)})
    else:
        _remove_outdated_archives(contexts, out)
    return {"clips": stats["clips"], "hours": stats["millis"] / 3_600_000.0,
            "unmatched_jp_segments": stats["unmatched_jp_segments"], "warnings": warnings}


def _write_frames_table(contexts: list[EpisodeContext], out: Path, options: BuildOptions) -> None:
    """Write ``anim400k_frames/frames.parquet`` from the released episodes' ``frames.json`` (``--frames-fps``).

    A build whose released episodes have no frames (no ``--frames-fps``) deletes the table an earlier build
    wrote: it listed that build's episodes, some perhaps dropped since (failed, or no longer in the
    manifest), whose frames the frames archive would then pack. The frame files of the episodes the table
    does not list are deleted afterwards (:mod:`anim400k.dataset.dropped_frames`).
    """
    table = out / FRAMES_ARCHIVE / "frames.parquet"
    frames = released_frames(contexts, options)
    if not frames:
        table.unlink(missing_ok=True)
        return
    from ..formats.frames import write_frames_table

    rows = (row for c in frames for row in c.read_json("frames.json")["frames"])
    write_frames_table(table, rows)


def released_frames(contexts: list[EpisodeContext], options: BuildOptions) -> list[EpisodeContext]:
    """The released episodes (``contexts``) whose frames ``frames.parquet`` lists: those with a ``frames.json``,
    none without ``--frames-fps``."""
    return [c for c in contexts if c.artifact("frames.json").exists()] if options.frames_fps else []


def _number(episode: str) -> Any:
    """The number an episode key stands for (``"01"`` and ``"1"`` are one), or the key itself if it is none."""
    from ..release.validate import episode_number

    number = episode_number(episode)
    return episode if number is None else number


def episode_metadata(eps_meta: dict[str, dict[str, Any]], episode: str) -> dict[str, Any]:
    """The metadata of manifest episode ``episode``: the metadata episode of the same number
    (``"01"`` in the metadata is episode ``1`` of the manifest), or ``{}``."""
    number = _number(episode)
    return next((fields for key, fields in eps_meta.items() if _number(key) == number), {})


def unmatched_metadata_episodes(eps_meta: dict[str, dict[str, Any]], episodes: list[str]) -> list[str]:
    """The metadata's episode keys whose number is no episode of the manifest's show (their metadata goes unused)."""
    numbers = {_number(e) for e in episodes}
    return [key for key in eps_meta if _number(key) not in numbers]


def _unmatched_warning(show_key: str, path: str, unmatched: list[str], episodes: list[EpisodeEntry]) -> str:
    """One line: which metadata episodes match no episode of the manifest (and what the manifest has)."""
    listed = ", ".join(repr(k) for k in unmatched[:5]) + (f" and {len(unmatched) - 5} more" if len(unmatched) > 5
                                                         else "")
    have = ", ".join(e.episode for e in episodes[:10]) + (", ..." if len(episodes) > 10 else "")
    return (f"{show_key}: the metadata ({path}) has episode(s) {listed} that match no episode of the "
            f"manifest's show (its episodes: {have}): that metadata is not used")


def clips_warnings(data: dict[str, Any]) -> list[str]:
    """The warnings an episode's clips.json gives: transcript lines past the media's end, clips
    outside the JP medium, and given transcripts covering less than half of the speech found."""
    from ..align import edited_en_warning, outside_jp_medium_warning
    from .episode_clips import MIN_TRANSCRIPT_COVERAGE

    out: list[str] = []
    past = data.get("transcript_past_end") or {}
    en, jp = past.get("en", {}), past.get("ja", {})
    dropped = (int(en.get("dropped", 0)), int(jp.get("dropped", 0)))
    clipped = (int(en.get("clipped", 0)), int(jp.get("clipped", 0)))
    if any(dropped) or any(clipped):
        given = data.get("transcripts_given")
        langs = [lang for lang, d, c in (("en", dropped[0], clipped[0]), ("ja", dropped[1], clipped[1])) if d or c]
        hint = ("a transcript of another cut or episode?" if given is None or any(lang in given for lang in langs)
                else "the speech recognition's last segment reached past the end of the audio")
        out.append(f"{dropped[0]} EN and {dropped[1]} JP transcript segment(s) past the end of the media were "
                   f"dropped, {clipped[0]} EN and {clipped[1]} JP clipped at it ({hint})")
    outside = int(data.get("clips_outside_jp_medium", 0))
    if outside:
        out.append(outside_jp_medium_warning(outside))
    edited = data.get("edited_en")
    if edited:
        out.append(edited_en_warning(int(edited["en_unmapped"]), int(edited["straddling"]), int(edited["split"])))
    out += _en_medium_warnings(data)
    names = {"en": "EN", "ja": "JP"}
    for lang, share in (data.get("transcript_coverage") or {}).items():
        if share is not None and share < MIN_TRANSCRIPT_COVERAGE:
            out.append(f"the given {names.get(lang, lang)} transcript covers only {share:.0%} of the speech "
                       "the diarization finds (a partial transcript, shifted times, or another episode's?)")
    return out


def _en_medium_warnings(data: dict[str, Any]) -> list[str]:
    """clips.json's clips clipped at or dropped past the EN medium's end, and media lengths that disagree."""
    out: list[str] = []
    past = data.get("clips_past_en_medium") or {}
    dropped, clipped = int(past.get("dropped", 0)), int(past.get("clipped", 0))
    if clipped:
        out.append(f"{clipped} clip(s) reaching outside the EN medium were clipped to it (en_start/en_end)")
    if dropped:
        out.append(f"{dropped} clip(s) outside (or more than half outside) the EN medium were dropped (JP speech "
                   "where the EN medium has no content)")
    lengths = data.get("media_length_mismatch")
    if lengths:
        out.append(f"the EN medium is {lengths['en']:.2f} s long and the JP one {lengths['jp']:.2f} s: after the "
                   f"sync the EN medium ends {abs(lengths['difference']):.2f} s "
                   f"{'after' if lengths['difference'] > 0 else 'before'} the JP one (a truncated file or "
                   "another cut?)")
    return out


#: the record, under ``work/``, of what each clip archive was packed from (:func:`_clip_fingerprints`)
ARCHIVES_RECORD = "archives.json"


def _write_archives(contexts: list[EpisodeContext], out: Path, packed: dict[str, set[str]]) -> None:
    """With ``--archive``: pack each media folder's ``packed`` files (deleting an archive with nothing to pack),
    and record what the clip archives were packed from (:data:`ARCHIVES_RECORD`)."""
    record = _read_archives_record(out)
    fingerprints = {**_clip_fingerprints(contexts), FRAMES_ARCHIVE: _frames_fingerprint(out, packed[FRAMES_ARCHIVE])}
    for name in (AUDIO_ARCHIVE, VIDEO_ARCHIVE, PICS_ARCHIVE, FRAMES_ARCHIVE):
        only = packed[name]
        dest = out / f"{name}.tar.gz"
        if (out / name).is_dir() and only:
            write_archive(out / name, dest, only)
            if name in fingerprints:
                record[name] = fingerprints[name]
        else:
            dest.unlink(missing_ok=True)  # an earlier build's archive of files no longer in the release
            record.pop(name, None)
    _write_archives_record(out, record)


def _remove_outdated_archives(contexts: list[EpisodeContext], out: Path) -> None:
    """Without ``--archive``: delete the clip and frames archives an earlier ``--archive`` build wrote that would
    hold other clips or frames than the release lists.

    That is an archive packed from other episodes or other cuts of them than the released ones (the
    fingerprint :data:`ARCHIVES_RECORD` holds for it differs from :func:`_clip_fingerprints`: an episode
    left out of the manifest or failed, one cut again), and one older than an episode's ``cut.json`` (the
    only sign for an archive written before the record was kept). Likewise the frames archive: packed from
    other frames than ``frames.parquet`` now lists (:func:`_frames_fingerprint`: a dropped episode's, another
    ``--frames-fps``), or, without a record, older than the table or with no table left.
    """
    record = _read_archives_record(out)
    table = out / FRAMES_ARCHIVE / "frames.parquet"
    fingerprints = {**_clip_fingerprints(contexts), FRAMES_ARCHIVE: _frames_fingerprint(out, _frame_files(out))}
    for name in (AUDIO_ARCHIVE, VIDEO_ARCHIVE, FRAMES_ARCHIVE):
        dest = out / f"{name}.tar.gz"
        try:
            written = dest.stat().st_mtime
        except FileNotFoundError:
            record.pop(name, None)
            continue
        packed_from = record.get(name)
        if name == FRAMES_ARCHIVE:
            older = packed_from is None and (not table.is_file() or table.stat().st_mtime > written)
        else:
            older = any(ctx.artifact("cut.json").stat().st_mtime > written for ctx in contexts)
        if (packed_from is not None and packed_from != fingerprints[name]) or older:
            dest.unlink(missing_ok=True)
            record.pop(name, None)
    _write_archives_record(out, record)


def _clip_fingerprints(contexts: list[EpisodeContext]) -> dict[str, str]:
    """Per clip media folder, a SHA-256 of the released episodes' clip files in it with their sizes (their
    ``cut.json``): what its archive packs; it changes with the set of episodes and with any episode's cut."""
    lines: dict[str, list[str]] = {AUDIO_ARCHIVE: [], VIDEO_ARCHIVE: []}
    for ctx in contexts:
        data = ctx.read_json("cut.json")
        files, sizes = data["files"], data.get("sizes")
        if not isinstance(sizes, list) or len(sizes) != len(files):
            sizes = [None] * len(files)
        for rel, size in zip(files, sizes, strict=True):
            folder = str(rel).partition("/")[0]
            if folder in lines:
                lines[folder].append(f"{rel}\t{size}")
    return {name: hashlib.sha256("\n".join(sorted(v)).encode()).hexdigest() for name, v in lines.items()}


def _frames_fingerprint(out: Path, files: set[str]) -> str:
    """A SHA-256 of the frames archive's ``files`` (relative to ``anim400k_frames``) with their sizes: what it
    packs; it changes with the released episodes' frames (an episode dropped, another ``--frames-fps``)."""
    root = out / FRAMES_ARCHIVE
    lines = []
    for rel in sorted(files):
        try:
            size: int | None = (root / rel).stat().st_size
        except OSError:
            size = None
        lines.append(f"{rel}\t{size}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _read_archives_record(out: Path) -> dict[str, str]:
    """:data:`ARCHIVES_RECORD` of the build in ``out`` (empty when missing or unreadable)."""
    try:
        data = json.loads((out / "work" / ARCHIVES_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _write_archives_record(out: Path, record: dict[str, str]) -> None:
    """Replace :data:`ARCHIVES_RECORD` (deleted when empty)."""
    path = out / "work" / ARCHIVES_RECORD
    if record:
        write_json_atomic(path, dict(sorted(record.items())))
    else:
        path.unlink(missing_ok=True)


def _clip_files(contexts: list[EpisodeContext]) -> dict[str, set[str]]:
    """The clip files of the released episodes (their ``cut.json`` lists), per media folder, relative to it.

    The cut writes exactly the files its episode's annotations reference (the JP, EN and backing
    MP3 of every clip and the JP clip's MP4), so these are what the archives pack; one short
    string per clip file is held while the archives are written.
    """
    files: dict[str, set[str]] = {AUDIO_ARCHIVE: set(), VIDEO_ARCHIVE: set()}
    for ctx in contexts:
        for rel in ctx.read_json("cut.json")["files"]:
            folder, _, name = str(rel).partition("/")
            if folder in files:
                files[folder].add(name)
    return files


def _pic_files(show_meta: dict[str, Any]) -> set[str]:
    """The picture files (relative to ``anim400k_character_pics``) of a show's characters' ``pic_urls``."""
    characters = show_meta.get("characters")
    found: set[str] = set()
    for character in characters.values() if isinstance(characters, dict) else ():
        urls = character.get("pic_urls") if isinstance(character, dict) else None
        found |= id_files(urls if isinstance(urls, list) else (), "jpg")
    return found


def _frame_files(out: Path) -> set[str]:
    """What the frames archive packs (relative to ``anim400k_frames``): ``frames.parquet`` and the frames it
    lists (read one batch at a time), nothing without it. Frames of an earlier ``--frames-fps`` or of
    episodes no longer built are not among them."""
    from ..release.unlisted import table_listed_files

    return table_listed_files(out)


def write_archive(folder: Path, dest: Path, only: set[str] | None = None) -> None:
    """Write ``folder`` as a deterministic ``.tar.gz`` (sorted names, zero mtimes, fixed owner).

    With ``only`` (paths relative to ``folder``), just those of its files: the clips the release
    references, not other files an earlier build or another episode left in the folder.
    """
    with atomic_path(dest, suffix=".tar.gz") as tmp, open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz, \
                tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for root, dirs, files in os.walk(folder):
                dirs.sort()
                for name in sorted(files):
                    if name.startswith("."):
                        continue  # temporary files of an interrupted writer
                    path = Path(root) / name
                    if only is not None and path.relative_to(folder).as_posix() not in only:
                        continue
                    info = tar.gettarinfo(str(path), arcname=str(path.relative_to(folder.parent)))
                    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
                    info.mode = 0o644
                    with open(path, "rb") as fh:
                        tar.addfile(info, fh)


