"""Builds into a remote output (``--out s3://...``) without a shared filesystem.

No machine holds the whole output: the remote is the truth, and every machine works in
its own staging folder for the URL (:func:`anim400k.storage.staging_dir`, under
``$ANIM400K_CACHE``). Episode contexts carry the URL (``EpisodeContext.remote``) and
paths in the *driver's* staging folder; a stage task, wherever it runs
(:func:`run_stage_staged`):

1. rebases the context onto its own node's staging folder (:func:`node_context`);
2. pulls the episode's work folder (only files missing or changed there);
3. runs the stage against those node-local paths;
4. pushes the work files the stage wrote, and the release files it lists (the clip media
   of ``cut``, the frames of ``frames``: :func:`release_files_of`), which it then deletes
   locally (nothing on the node reads them again);
5. only then reports success, with the artifact path in the driver's terms.

The driver (:func:`pull_build_state`, :func:`pull_for_release`, :func:`push_release`)
pulls the catalog and the small work-state files (JSON, RTTM; never the work FLACs) to
resume, pushes the catalog after every finished stage, pulls the finished episodes'
work state again before writing the release, and the release media only when
``--archive`` packs them. Every upload is atomic (temporary ``.part-`` name, then a
move), so a task killed mid-upload leaves nothing a pull would read, and its re-run
redoes the whole stage. With a local output none of this runs (no extra copying).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..formats.ids import ANNOTATIONS_FILE, AUDIO_ARCHIVE, FRAMES_ARCHIVE, PICS_ARCHIVE, VIDEO_ARCHIVE, is_id
from ..progress import Reporter
from ..storage import RemoteMirror, staging_dir
from .catalog import CATALOG_FILE, Catalog
from .context import EpisodeContext
from .stages import run_stage

WORK = "work"
# Work files only stage tasks read (large): the driver never pulls them.
TASK_ONLY_SUFFIXES = (".flac",)
MEDIA_FOLDERS = (AUDIO_ARCHIVE, VIDEO_ARCHIVE, FRAMES_ARCHIVE, PICS_ARCHIVE)


# ---------------------------------------------------------------- on the node that runs a stage
def node_context(ctx: EpisodeContext) -> EpisodeContext:
    """``ctx`` with its work and release folders moved into this node's staging folder for ``ctx.remote``."""
    assert ctx.remote is not None
    root = staging_dir(ctx.remote)
    rel = Path(ctx.work_dir).relative_to(ctx.release_dir)
    return dataclasses.replace(ctx, work_dir=str(root / rel), release_dir=str(root))


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of each visible file in ``folder`` (a stage writes files by atomic rename)."""
    if not folder.is_dir():
        return {}
    return {p.name: (st.st_size, st.st_mtime_ns) for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") for st in (p.stat(),)}


def written_files(mirror: RemoteMirror, folder: Path, before: dict[str, tuple[int, int]]) -> list[Path]:
    """Files of ``folder`` that are new or changed since ``before`` and not copies of remote files."""
    after = _stamps(folder)
    return [folder / n for n in sorted(after) if after[n] != before.get(n) and not mirror.synced(folder / n)]


def release_files_of(stage: str, artifact: Path) -> list[str]:
    """Release files (relative to the release root) that a stage lists in its artifact."""
    if stage not in ("cut", "frames"):
        return []
    import json

    data = json.loads(artifact.read_text(encoding="utf-8"))
    if stage == "cut":
        return list(data["files"])
    return [row["path"] for row in data["frames"]]


def run_stage_staged(stage: str, ctx: EpisodeContext, report: Reporter | None = None) -> tuple[str, float, float]:
    """Run ``stage`` on this node against its own staging folder, syncing with the remote output.

    Returns the artifact path in the driver's terms (under ``ctx.release_dir``) and the
    stage's seconds (transfers not included).
    """
    from ..storage import remote_errors

    local = node_context(ctx)
    root, work = Path(local.release_dir), Path(local.work_dir)
    with remote_errors(str(ctx.remote)):
        mirror = RemoteMirror(str(ctx.remote), root)
        mirror.pull(mirror.relative(work))
    before = _stamps(work)
    artifact, seconds, cpu_seconds = run_stage(stage, local, report)
    media = [root / rel for rel in release_files_of(stage, Path(artifact))]
    with remote_errors(str(ctx.remote)):
        mirror.push_files(media, record=False)
        for p in media:
            p.unlink(missing_ok=True)
        mirror.push_files(written_files(mirror, work, before))
        # what the stage deleted goes from the bucket too (the cut's cut.pending.json stayed there)
        mirror.remove([mirror.relative(work / name) for name in sorted(set(before) - set(_stamps(work)))])
    return str(Path(ctx.release_dir) / Path(artifact).relative_to(root)), seconds, cpu_seconds


# ---------------------------------------------------------------- on the driver
def _state_file(rel: str) -> bool:
    return not rel.endswith(TASK_ONLY_SUFFIXES)


def _under(folders: Iterable[str]) -> tuple[str, ...]:
    return tuple(f.rstrip("/") + "/" for f in folders)


def pull_build_state(mirror: RemoteMirror, contexts: Iterable[EpisodeContext]) -> int:
    """What the driver needs to resume: the catalog and the episodes' work state (no FLACs).

    Local copies the remote does not have (a remote wiped or never written) are dropped,
    so the catalog and artifacts the driver sees are exactly the remote's.
    """
    n = mirror.pull(CATALOG_FILE, prune=True)
    return n + pull_work_state(mirror, contexts, prune=True)


def pull_work_state(mirror: RemoteMirror, contexts: Iterable[EpisodeContext], prune: bool = False) -> int:
    """The work-state files (JSON, RTTM, logs) of ``contexts``' episodes."""
    prefixes = _under(mirror.relative(c.work_dir) for c in contexts)
    if not prefixes:
        return 0
    return mirror.pull(WORK, want=lambda rel: rel.startswith(prefixes) and _state_file(rel), prune=prune)


def pull_for_release(mirror: RemoteMirror, contexts: Iterable[EpisodeContext], archive: bool) -> int:
    """Before writing the release: finished episodes' work state, and the release media if archiving."""
    n = pull_work_state(mirror, contexts)
    if archive:  # the archives pack every clip, so they must all be here
        for folder in MEDIA_FOLDERS:
            n += mirror.pull(folder)
    return n


def push_catalog(mirror: RemoteMirror, catalog: Catalog) -> None:
    """After a finished stage: push the catalog (the stage's own files were pushed by its task)."""
    catalog.checkpoint()
    mirror.push_files([CATALOG_FILE])


def push_release(mirror: RemoteMirror, written: bool) -> int:
    """At the end: push what the driver wrote (catalog, tables, archives, pictures), then the annotations, then the
    report (the annotations first left a bucket naming pictures it did not hold yet, a kill in between kept it so).

    Once ``written`` annotations are in place, the bucket's release files that they do not name are deleted
    (:func:`prune_release`), as a local build deletes them, and the ``.part-`` objects that killed uploads left.
    """
    from .report import REPORT_FILE

    last = (ANNOTATIONS_FILE, REPORT_FILE)
    n = mirror.push(exclude=(WORK + "/", *last))
    for name in last:
        n += mirror.push(name)
    if written:
        prune_release(mirror)
    remove_remote_parts(mirror)
    return n


def listed_release_files(root: Path) -> set[str]:
    """The media files (relative to ``root``) that the release in the local folder ``root`` names: each clip's
    audio (JP, EN, backing) and JP video, each character picture, the frames its table lists."""
    from ..release.reader import Dataset
    from ..release.unlisted import table_listed_files

    files = {f"{FRAMES_ARCHIVE}/{name}" for name in table_listed_files(root)}
    if not (root / ANNOTATIONS_FILE).is_file():
        return files
    ds = Dataset(root, root / ANNOTATIONS_FILE)

    def add(path: Callable[[str], Path], value: Any) -> None:
        if isinstance(value, str) and is_id(value):
            files.add(path(value).relative_to(root).as_posix())

    for _key, show in ds.iter_raw():
        if not isinstance(show, dict):
            continue
        for character in (show.get("characters") or {}).values():
            for pic in (character.get("pic_urls") or []) if isinstance(character, dict) else []:
                add(ds.picture_path, pic)
        for episode in (show.get("episodes") or {}).values():
            for clip in (episode.get("clips") or []) if isinstance(episode, dict) else []:
                if isinstance(clip, dict):
                    for field in ("jp_clip", "en_clip", "backing_clip"):
                        add(ds.audio_path, clip.get(field))
                    add(ds.video_path, clip.get("jp_clip"))
    return files


def prune_release(mirror: RemoteMirror) -> int:
    """Delete the bucket's media files that the release (its annotations in the staging folder) does not name, and
    the archives the staging folder does not hold (an earlier ``--archive`` build's, left by a build without
    it; on a machine that never held them a still-current archive goes too: never a stale one). Returns how many.
    They stayed: an episode dropped from the manifest kept its clips in the bucket, a build without ``--archive``
    kept archives of other clips."""
    wanted = listed_release_files(mirror.local)
    stale = [rel for folder in MEDIA_FOLDERS for rel in mirror.listing(folder)
             if rel not in wanted and _release_media_name(rel)]
    for rel in stale:  # a staging copy (an --archive build pulled them all) would be pushed back by the next build
        (mirror.local / rel).unlink(missing_ok=True)
    stale += [f"{folder}.tar.gz" for folder in MEDIA_FOLDERS
              if not (mirror.local / f"{folder}.tar.gz").is_file() and mirror.listing(f"{folder}.tar.gz")]
    mirror.remove(stale)
    return len(stale)


def _release_media_name(rel: str) -> bool:
    """Whether ``rel`` (``FOLDER/F/UUID.ext``) is named as the build names clip, picture and frame files: anything
    else in the media folders is the user's own (a README.txt there was deleted) and is left alone."""
    parts = rel.split("/")
    if len(parts) != 3 or "." not in parts[2]:
        return False
    stem, ext = parts[2].rsplit(".", 1)
    return ext in ("mp3", "mp4", "jpg") and is_id(f"{parts[1]}/{stem}")


def missing_clip_files(artifact: Path, present: set[str]) -> list[str]:
    """The clip files a ``cut.json`` lists that the bucket does not hold (``present``: the bucket's audio and video
    clip files, relative to the root). An episode dropped from the manifest, pruned, and added back kept its cut
    as done, and the release named 16 files the bucket did not have."""
    return [rel for rel in release_files_of("cut", artifact) if rel not in present]


def remote_clip_files(mirror: RemoteMirror) -> set[str]:
    """The bucket's audio and video clip files, relative to the release root."""
    return {rel for folder in (AUDIO_ARCHIVE, VIDEO_ARCHIVE) for rel in mirror.listing(folder)}


def remove_remote_parts(mirror: RemoteMirror) -> int:
    """Delete the temporary ``.part-`` objects that uploads killed mid-way left in the bucket (a re-run resumed
    but left them in the release's media folders); returns how many. Only while no upload of this build runs."""
    ours = (*MEDIA_FOLDERS, WORK)
    parts = [rel for rel in mirror.part_objects() if "/" not in rel or rel.split("/", 1)[0] in ours]
    mirror.remove(parts)  # only the release's own folders and files: with --out s3://BUCKET, other prefixes' are not
    return len(parts)
