"""After a build has written its release: delete the frame files of the episodes the release does not list.

An episode is dropped from a release when its build failed, when it is no longer in the manifest, or (all of
them) when the build has no ``--frames-fps``: ``frames.parquet`` then lists none of its frames, and the
frames archive packs none, but the frame files its frames stage wrote earlier stayed in ``anim400k_frames``.
They are build outputs that the frames stage makes again from the episode's video, so they are deleted.

What the build wrote is what each episode's frames stage recorded in its ``work/SHOW/EPISODE/frames.json``
(the files it extracted, relative to the release): only those files, only inside ``anim400k_frames``, are
deleted, never an input or a file the build did not write, and never one that the release's ``frames.parquet``
lists (the frames of an episode still listed, even when a dropped episode's work folder is the listed one's: a
work folder linked or, on a case-insensitive disk, named in another case). The episodes looked at are the manifest's and
every episode of the catalog (the episodes a build into this folder has ever had). The catalog's record
of the episode's frames stage is dropped first and ``frames.json`` deleted last, so an episode that comes
back extracts its frames again, and a build killed on the way finishes the deletion the next time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from ..formats.ids import FRAMES_ARCHIVE
from ..fsutil.paths import under
from ..release.unlisted import FRAMES_TABLE, table_listed_files
from .catalog import Catalog
from .context import EpisodeContext
from .cutting import listed_frame_files, remove_frame_files

log = logging.getLogger(__name__)

#: the frames stage's record of the frame files it wrote, in the episode's work folder
FRAMES_RECORD = "frames.json"


def work_folders(catalog: Catalog, contexts: Mapping[str, EpisodeContext], out: Path) -> dict[str, Path]:
    """The work folder of every episode: the manifest's (``contexts``) and the catalog's others
    (``out/work/SHOW/EPISODE``), by episode key."""
    work = {key: Path(ctx.work_dir) for key, ctx in contexts.items()}
    for key, show, number in catalog.episodes():
        work.setdefault(key, under(out, "work", show, number))
    return work


def remove_dropped_frames(catalog: Catalog, contexts: Mapping[str, EpisodeContext], listed: set[str],
                          out: Path) -> int:
    """Delete the frame files of every episode whose key is not in ``listed`` (the episodes ``frames.parquet``
    lists); return how many files were deleted.

    ``contexts`` are the manifest's episodes (their work folders); the catalog's other episodes are found
    in ``out/work/SHOW/EPISODE``. For each episode with a ``frames.json``: its frames stage is forgotten in
    the catalog, the files it lists are deleted (with the folders they leave empty) and then ``frames.json``.
    A file that ``out``'s ``frames.parquet`` lists is never deleted, nor a ``frames.json`` that is a listed
    episode's (the same file, through another path); a table that cannot be read deletes nothing.
    """
    work = work_folders(catalog, contexts, out)
    try:
        keep = {f"{FRAMES_ARCHIVE}/{rel}" for rel in table_listed_files(out)}  # relative to out
    except (OSError, ValueError) as exc:
        log.warning("%s: cannot be read (%s): no frame file of a dropped episode deleted",
                    out / FRAMES_ARCHIVE / FRAMES_TABLE, exc)
        return 0
    listed_records = {os.path.realpath(work[key] / FRAMES_RECORD) for key in listed if key in work}
    removed = episodes = 0
    for key, folder in sorted(work.items()):
        record = folder / FRAMES_RECORD
        if key in listed or not record.is_file() or os.path.realpath(record) in listed_records:
            continue
        catalog.forget(key, "frames")  # first: if the episode comes back, its frames are extracted again
        removed += remove_frame_files(out, listed_frame_files(record) - keep)
        record.unlink(missing_ok=True)
        episodes += 1
    if episodes:
        log.info("removed %d frame file(s) of %d episode(s) the release does not list", removed, episodes)
    return removed

