"""Parquet export: ``clips``, ``episodes``, ``shows`` and ``characters`` tables.

Written with ``pyarrow.parquet.ParquetWriter`` row group by row group (a group closes at
``ROW_GROUP_ROWS`` rows or, with embedded audio, at ``shard_size`` bytes of audio), so
memory stays flat. Audio is referenced by path relative to the release
(``jp_audio_path``/``en_audio_path``) and, with ``embed_audio``, also embedded as MP3 bytes
(``jp_audio``/``en_audio``). Times are float seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..formats import ids
from .common import CheckedRelease, clean_show_fields, clip_info, dumps, staged_dir

ROW_GROUP_ROWS = 10_000

_SUB = pa.struct([("start", pa.float64()), ("end", pa.float64()), ("text", pa.string())])
_STRS = pa.list_(pa.string())


def clip_schema(embed_audio: bool) -> pa.Schema:
    """Schema of ``clips.parquet``."""
    fields = [
        ("show", pa.string()),
        ("episode", pa.string()),
        ("clip_index", pa.int32()),
        ("jp_clip", pa.string()),
        ("en_clip", pa.string()),
        ("jp_text", pa.string()),
        ("en_text", pa.string()),
        ("jp_start", pa.float64()),
        ("jp_end", pa.float64()),
        ("en_start", pa.float64()),
        ("en_end", pa.float64()),
        ("speakers", _STRS),
        ("en_subtitles", pa.list_(_SUB)),
        ("multi_speaker", pa.bool_()),
        ("mixing_ratio", pa.float64()),
        ("backing_clip", pa.string()),
        ("speaker_confidence", pa.float64()),
        ("jp_audio_path", pa.string()),
        ("en_audio_path", pa.string()),
    ]
    if embed_audio:
        fields += [("jp_audio", pa.binary()), ("en_audio", pa.binary())]
    return pa.schema(fields)


EPISODE_SCHEMA = pa.schema(
    [
        ("show", pa.string()),
        ("episode", pa.string()),
        ("url", pa.string()),
        ("synopsis", pa.string()),
        ("jp_video_id", pa.string()),
        ("en_video_id", pa.string()),
        ("n_clips", pa.int32()),
        (
            "ratings",
            pa.list_(
                pa.struct(
                    [("score", pa.string()), ("ratio", pa.float64()), ("number_of_voters", pa.float64())]
                )
            ),
        ),
        ("voters", pa.float64()),
        ("mean_vote", pa.float64()),
    ]
)

_SHOW_TYPES = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "[str]": _STRS}


def show_schema() -> pa.Schema:
    """Schema of ``shows.parquet``: every FORMAT.md show field (objects as JSON strings)."""
    from ..release import SHOW_FIELDS

    fields = [("key", pa.string())]
    for name, kind in SHOW_FIELDS.items():
        if name in ("episodes", "characters"):
            continue
        fields.append((name, _SHOW_TYPES.get(kind, pa.string())))
    fields += [("n_episodes", pa.int32()), ("n_characters", pa.int32())]
    return pa.schema(fields)


CHARACTER_SCHEMA = pa.schema(
    [
        ("show", pa.string()),
        ("name", pa.string()),
        ("description", pa.string()),
        ("role", pa.string()),
        ("pic_urls", _STRS),
        ("pic_paths", _STRS),
        ("voice_actors", _STRS),
    ]
)


class _Table:
    """A Parquet file written row group by row group."""

    def __init__(self, path: Path, schema: pa.Schema, max_bytes: int) -> None:
        self.schema = schema
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.rows: list[dict[str, Any]] = []
        self.bytes = 0
        self.max_bytes = max_bytes
        self.count = 0

    def add(self, row: dict[str, Any], nbytes: int = 0) -> None:
        self.rows.append(row)
        self.bytes += nbytes
        self.count += 1
        if len(self.rows) >= ROW_GROUP_ROWS or self.bytes >= self.max_bytes:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.rows, self.bytes = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def export(
    checked: CheckedRelease, out: Path, embed_audio: bool = False, shard_size: int = 100_000_000
) -> dict[str, Any]:
    """Write the four tables into ``out``; return row counts."""
    ds = checked.ds
    with staged_dir(out, checked) as stage:
        clips = _Table(stage / "clips.parquet", clip_schema(embed_audio), shard_size)
        episodes = _Table(stage / "episodes.parquet", EPISODE_SCHEMA, shard_size)
        shows = _Table(stage / "shows.parquet", show_schema(), shard_size)
        chars = _Table(stage / "characters.parquet", CHARACTER_SCHEMA, shard_size)
        try:
            for show in checked.shows():
                meta = clean_show_fields(show)
                row: dict[str, Any] = {"key": show.key}
                for name in shows.schema.names[1:-2]:
                    v = meta.get(name)
                    row[name] = dumps(v) if name == "related_anime" and v is not None else v
                row["n_episodes"] = len(show.episodes)
                row["n_characters"] = len(show.characters)
                shows.add(row)
                for ch in show.characters:
                    chars.add(
                        {
                            "show": show.key,
                            "name": ch.name,
                            "description": ch.description,
                            "role": ch.role,
                            "pic_urls": ch.pic_urls,
                            "pic_paths": [
                                str(ids.id_path("", ids.PICS_ARCHIVE, p, "jpg"))
                                for p in ch.pic_urls
                                if ids.is_id(p)
                            ],
                            "voice_actors": ch.voice_actors,
                        }
                    )
                for ep in show.episodes.values():
                    episodes.add(
                        {
                            "show": show.key,
                            "episode": ep.number,
                            "url": ep.url,
                            "synopsis": ep.synopsis,
                            "jp_video_id": ep.jp_video_id,
                            "en_video_id": ep.en_video_id,
                            "n_clips": len(ep.clips),
                            "ratings": [
                                {"score": k, "ratio": r.ratio, "number_of_voters": r.number_of_voters}
                                for k, r in sorted(ep.ratings.items())
                            ],
                            "voters": ep.voters if ep.ratings else None,
                            "mean_vote": ep.mean_vote,
                        }
                    )
                    for c in ep.clips:
                        crow = clip_info(c)
                        jp, en = ds.audio_path(c.jp_clip), ds.audio_path(c.en_clip)
                        crow["jp_audio_path"] = str(jp.relative_to(ds.root))
                        crow["en_audio_path"] = str(en.relative_to(ds.root))
                        nbytes = 0
                        if embed_audio:
                            crow["jp_audio"] = jp.read_bytes()
                            crow["en_audio"] = en.read_bytes()
                            nbytes = len(crow["jp_audio"]) + len(crow["en_audio"])
                        clips.add(crow, nbytes)
        finally:
            for t in (clips, episodes, shows, chars):
                t.close()
    return {
        "format": "parquet",
        "out": str(out),
        "clips": clips.count,
        "episodes": episodes.count,
        "shows": shows.count,
        "characters": chars.count,
        "files": ["clips.parquet", "episodes.parquet", "shows.parquet", "characters.parquet"],
    }
