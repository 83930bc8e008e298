"""Files in a release's frames folder that its frames table does not list (``anim400k validate`` warns).

``anim400k_frames/frames.parquet`` lists a release's frames (``frame_id`` -> ``anim400k_frames/F/UUID.jpg``);
a file beside it that the table does not list is no part of the release (an archive of the release packs only
what the table lists). FORMAT.md does not describe the frames folder, so such files are a warning, not a
problem: ``anim400k validate`` prints one line and still exits 0 when nothing else is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..formats.ids import FRAMES_ARCHIVE, id_files

#: the frames table, inside the frames folder
FRAMES_TABLE = "frames.parquet"


def listed_frame_files(table: Path) -> set[str]:
    """The files (relative to the frames folder) that the frames table ``table`` lists, itself included.

    Read one batch of the ``frame_id`` column at a time; a malformed ID lists no file. Raises
    :class:`OSError` or :class:`ValueError` (pyarrow's errors are both) when the table cannot be read.
    """
    import pyarrow.parquet as pq

    files = {FRAMES_TABLE}
    for batch in pq.ParquetFile(table).iter_batches(columns=["frame_id"]):
        files |= id_files(batch.column(0).to_pylist(), "jpg")
    return files


def table_listed_files(root: str | Path) -> set[str]:
    """What the release folder ``root``'s ``frames.parquet`` lists (relative to the frames folder, the table
    included; :func:`listed_frame_files`): nothing when it has no table."""
    table = Path(root) / FRAMES_ARCHIVE / FRAMES_TABLE
    return listed_frame_files(table) if table.is_file() else set()


def unlisted_frame_files(root: str | Path) -> list[str]:
    """The files in ``root/anim400k_frames`` (relative to ``root``, sorted) that its ``frames.parquet`` does not
    list: every file there when there is no table. Symbolic links below the folder are not followed."""
    folder = Path(root) / FRAMES_ARCHIVE
    if not folder.is_dir():
        return []
    listed = table_listed_files(root)
    found = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), folder).replace(os.sep, "/")
            if rel not in listed:
                found.append(f"{FRAMES_ARCHIVE}/{rel}")
    return sorted(found)


def unlisted_files_warnings(root: str | Path) -> list[str]:
    """The warning lines of ``anim400k validate`` about the release folder ``root``'s unlisted frame files
    (none when there are none); an unreadable frames table is one line too."""
    folder = Path(root) / FRAMES_ARCHIVE
    try:
        unlisted = unlisted_frame_files(root)
    except (OSError, ValueError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return [f"{folder / FRAMES_TABLE}: warning: cannot be read ({text}): its frames cannot be checked"]
    if not unlisted:
        return []
    return [f"{folder}: warning: {len(unlisted)} file(s) are not listed in {FRAMES_TABLE} (e.g. {unlisted[0]!r}): "
            f"they are no part of the release; delete them, or build again to list them"]
