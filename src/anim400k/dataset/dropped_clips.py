"""After a build has written its release: delete the clip files of the episodes the release does not list.

An episode drops out of a release when it is no longer in the manifest (removed, or renumbered: its key, and so
its clip IDs, changed) or when its build failed. The annotations then reference none of its clips, and an
archive packs none, but the MP3/MP4 files its earlier cut wrote stayed in ``anim400k_audio_clips`` and
``anim400k_video_clips``: a re-run left a release folder that a fresh build of the same manifest does not
have (21 clip files of a removed demo episode). They are build outputs that the cut stage makes again, so they
are deleted, as :mod:`.dropped_frames` deletes such an episode's frames.

What the build wrote is what the episode's ``work/SHOW/EPISODE/cut.json`` (and a killed cut's
``cut.pending.json``) lists: only those files, only inside the clip media folders, are deleted, never one that
a listed episode's ``cut.json`` lists (a work folder reached through another path). The catalog's record of
the episode's cut is dropped first and its cut files deleted last, so an episode that comes back is cut again,
and a build killed on the way finishes the deletion the next time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from .catalog import Catalog
from .context import EpisodeContext
from .cutting import CUT_ARTIFACT, CUT_PENDING, recorded_clip_files, remove_clip_files
from .dropped_frames import work_folders

log = logging.getLogger(__name__)


def remove_dropped_clips(catalog: Catalog, contexts: Mapping[str, EpisodeContext], listed: set[str],
                         out: Path) -> int:
    """Delete the clip files of every episode whose key is not in ``listed`` (the episodes the annotations
    list); return how many files were deleted.

    ``contexts`` are the manifest's episodes (their work folders); the catalog's other episodes are found in
    ``out/work/SHOW/EPISODE``. For each such episode with a cut record (``cut.json`` or ``cut.pending.json``):
    its cut stage is forgotten in the catalog, the clip files the record lists are deleted (with the folders
    they leave empty), then the record.
    """
    work = work_folders(catalog, contexts, out)
    listed_folders = {os.path.realpath(work[key]) for key in listed if key in work}
    keep: set[str] = set()
    for key in listed:
        if key in work:
            keep |= recorded_clip_files(work[key])
    removed = episodes = 0
    for key, folder in sorted(work.items()):
        records = [folder / CUT_ARTIFACT, folder / CUT_PENDING]
        if key in listed or os.path.realpath(folder) in listed_folders or not any(r.is_file() for r in records):
            continue
        catalog.forget(key, "cut")  # first: if the episode comes back, it is cut again
        removed += remove_clip_files(out, recorded_clip_files(folder) - keep)
        for record in records:
            record.unlink(missing_ok=True)
        episodes += 1
    if episodes:
        log.info("removed %d clip file(s) of %d episode(s) the release does not list", removed, episodes)
    return removed
