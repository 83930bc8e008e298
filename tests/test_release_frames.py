"""The frames table: IDs, paths, Parquet/JSON writers."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from anim400k.formats import frames, ids


def test_frames_table_rows_and_writers(tmp_path: Path) -> None:
    fn = frames.frame_path_fn(tmp_path, "k", "1", 1.0)
    p3 = fn(3)
    assert p3 == ids.id_path(tmp_path, ids.FRAMES_ARCHIVE, frames.frame_id("k", "1", 1.0, 3), "jpg")
    assert fn(3) != fn(4)
    rows = frames.frames_table_rows("k", "1", 1.0, [(0, 0.0, fn(0)), (1, 1.0004), (2, 2.0)])
    assert [r["time"] for r in rows] == [0.0, 1.0, 2.0]
    assert rows[2]["frame_id"] == frames.frame_id("k", "1", 1.0, 2)
    n = frames.write_frames_table(tmp_path / "frames.parquet", rows, row_group_size=2)
    assert n == 3
    f = pq.ParquetFile(tmp_path / "frames.parquet")
    assert f.metadata.num_row_groups == 2
    assert f.schema_arrow.names == list(frames.FRAME_COLUMNS)
    assert frames.read_frames_table(tmp_path / "frames.parquet") == rows
    frames.write_frames_table(tmp_path / "frames.json", iter(rows))
    assert frames.read_frames_table(tmp_path / "frames.json") == rows
    assert frames.write_frames_table(tmp_path / "empty.parquet", []) == 0
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0
