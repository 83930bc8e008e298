"""The frames table of a release: one row per extracted video frame (``--frames-fps``).

Frames live at ``anim400k_frames/F/UUID.jpg`` with the ID
``ids.make_id(show_key, episode, "frame", fps, index)``; the table
``anim400k_frames/frames.parquet`` (or ``.json``) lists ``show, episode, index, time,
frame_id`` for every frame, in the order given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..fsutil.atomic import atomic_path
from . import ids

FRAMES_TABLE = "frames.parquet"
FRAME_COLUMNS = ("show", "episode", "index", "time", "frame_id")


def frame_id(show_key: str, episode: str, fps: float, index: int) -> str:
    """The release ID of frame ``index`` of an episode sampled at ``fps``."""
    return ids.make_id(show_key, episode, "frame", fps, index)


def frame_path_fn(root: str | Path, show_key: str, episode: str, fps: float) -> Callable[[int], Path]:
    """``index -> anim400k_frames/F/UUID.jpg`` for ``media.extract_frames``'s ``out_paths_fn``."""

    def path_for(index: int) -> Path:
        return ids.id_path(root, ids.FRAMES_ARCHIVE, frame_id(show_key, episode, fps, index), "jpg")

    return path_for


def frames_table_rows(show_key: str, episode: str, fps: float, frames: Iterable[Any]) -> list[dict[str, Any]]:
    """Table rows for an episode's frames.

    ``frames`` yields ``(index, time)`` or ``(index, time, path)`` tuples (what
    ``media.extract_frames`` returns); times are rounded to the millisecond.
    """
    rows = []
    for item in frames:
        index, t = int(item[0]), float(item[1])
        rows.append(
            {
                "show": show_key,
                "episode": str(episode),
                "index": index,
                "time": round(t, 3),
                "frame_id": frame_id(show_key, episode, fps, index),
            }
        )
    return rows


def write_frames_table(path: str | Path, rows: Iterable[dict[str, Any]], row_group_size: int = 65536) -> int:
    """Write frame rows to Parquet (or JSON when ``path`` ends in ``.json``), streamed; return the row count.

    Parquet columns: ``show`` string, ``episode`` string, ``index`` int32, ``time`` float64
    (seconds in the episode), ``frame_id`` string. Extra keys in ``rows`` are ignored.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        n = 0
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
            f.write("[")
            for row in rows:
                f.write(
                    ("," if n else "")
                    + "\n"
                    + json.dumps({k: row[k] for k in FRAME_COLUMNS}, ensure_ascii=False)
                )
                n += 1
            f.write("\n]\n")
        return n

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("show", pa.string()),
            ("episode", pa.string()),
            ("index", pa.int32()),
            ("time", pa.float64()),
            ("frame_id", pa.string()),
        ]
    )
    n = 0
    with atomic_path(path) as tmp:
        writer = pq.ParquetWriter(tmp, schema)
        try:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append({k: row[k] for k in FRAME_COLUMNS})
                if len(batch) >= row_group_size:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    n += len(batch)
                    batch = []
            if batch or n == 0:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
        finally:
            writer.close()
    return n


def read_frames_table(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a frames table written by :func:`write_frames_table`."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
