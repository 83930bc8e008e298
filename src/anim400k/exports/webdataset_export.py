"""WebDataset export: tar shards of about ``shard_size`` bytes (``webdataset.ShardWriter``).

Shards are ``anim400k-000000.tar``, ``anim400k-000001.tar``, ...; each sample's key is the
JP clip's UUID and it holds ``jp.mp3``, ``en.mp3`` (the release's MP3 bytes) and ``json``
(the clip's annotations, float seconds). ``embed_audio`` is implied: a WebDataset sample
always carries its audio.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable
from .common import CheckedRelease, clip_info, staged_dir

SHARD_PATTERN = "anim400k-%06d.tar"


def export(
    checked: CheckedRelease, out: Path, embed_audio: bool = True, shard_size: int = 100_000_000
) -> dict[str, Any]:
    """Write the shards into ``out``; return sample and shard counts."""
    try:
        import webdataset as wds
    except ImportError as exc:  # pragma: no cover - part of the export extra
        raise BackendUnavailable("webdataset", "export", "needs the `webdataset` package") from exc

    ds = checked.ds
    n = 0
    with staged_dir(out, checked) as stage:
        # ShardWriter prints a line per shard when verbose; keep stdout clean.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            with wds.ShardWriter(
                str(stage).replace("%", "%%") + "/" + SHARD_PATTERN,  # the pattern is %-formatted: a '%' in --out
                maxsize=shard_size, maxcount=10**9, verbose=0
            ) as sink:
                for clip in checked.clips():
                    info = clip_info(clip)
                    sink.write(
                        {
                            "__key__": clip.jp_clip.rsplit("/", 1)[-1],
                            "jp.mp3": ds.audio_path(clip.jp_clip).read_bytes(),
                            "en.mp3": ds.audio_path(clip.en_clip).read_bytes(),
                            "json": info,
                        }
                    )
                    n += 1
        shards = sorted(p.name for p in stage.glob("*.tar"))
    return {"format": "webdataset", "out": str(out), "clips": n, "shards": shards}
