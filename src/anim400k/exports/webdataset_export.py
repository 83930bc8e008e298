"""WebDataset export: tar shards of about ``shard_size`` bytes (``webdataset.ShardWriter``).

Shards are ``anim400k-000000.tar``, ``anim400k-000001.tar``, ...; each sample's key is the
JP clip's UUID and it holds ``jp.mp3``, ``en.mp3`` (the release's MP3 bytes) and ``json``
(the clip's annotations, float seconds). ``embed_audio`` is implied: a WebDataset sample
always carries its audio.

The folder's ``README.md`` is a dataset card (:func:`card_text`): ``datasets.load_dataset(OUT)`` reads the shards
with the samples' features typed from every sample written. ``datasets``' WebDataset loader otherwise types them
from the first five samples: a release whose first clips all have ``speakers: []`` or ``en_subtitles: []`` typed
those fields ``list<null>`` and the load failed on the first clip with a speaker (``Couldn't cast array of type
string to null``).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import yaml

from ..errors import BackendUnavailable
from ..fsutil.atomic import atomic_path
from ..task_card import CARD_FILE, TaskFeatures
from .common import CheckedRelease, clip_info, staged_dir

SHARD_PATTERN = "anim400k-%06d.tar"
#: the words of the card that mark it as this export's
CARD_MARK = "WebDataset shards written by `anim400k export --format webdataset`"


def card_text(features: TaskFeatures) -> str:
    """The shards' dataset card: YAML front matter (``configs``: the shards as the ``train`` split;
    ``dataset_info``: ``jp.mp3``/``en.mp3`` as audio, ``json`` as the struct of every sample's annotations, and
    the loader's ``__key__``/``__url__``) and how to load it. No features (a field's kinds do not mix): only the
    configs, and ``datasets`` types the samples itself."""
    json_feature = features.yaml_features("sample")
    front: dict[str, Any] = {"configs": [{"config_name": "default",
                                          "data_files": [{"split": "train", "path": "anim400k-*.tar"}]}]}
    if json_feature:
        front["dataset_info"] = [{"config_name": "default", "features": [
            {"name": "jp.mp3", "dtype": "audio"}, {"name": "en.mp3", "dtype": "audio"}, *json_feature,
            {"name": "__key__", "dtype": "string"}, {"name": "__url__", "dtype": "string"}]}]
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    return (f"---\n{head}---\n\n# Anim-400K clips as WebDataset shards\n\n{CARD_MARK}: one sample per clip "
            "(`jp.mp3`, `en.mp3`, `json`: the clip's annotations). Load them with every sample typed alike:\n\n"
            "```python\nimport datasets\nds = datasets.load_dataset(\"path/to/this/folder\", split=\"train\")\n```\n\n"
            "or stream them with `webdataset.WebDataset(\"path/to/this/folder/anim400k-{000000..N}.tar\")`.\n")


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
    features = TaskFeatures()
    with staged_dir(out, checked) as stage:
        # ShardWriter prints a line per shard when verbose; keep stdout clean.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            with wds.ShardWriter(
                str(stage).replace("%", "%%") + "/" + SHARD_PATTERN,  # the pattern is %-formatted: a '%' in --out
                maxsize=shard_size, maxcount=10**9, verbose=0
            ) as sink:
                for clip in checked.clips():
                    info = clip_info(clip)
                    features.add("sample", {"json": info})
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
        with atomic_path(stage / CARD_FILE) as tmp:
            tmp.write_text(card_text(features), encoding="utf-8")
    return {"format": "webdataset", "out": str(out), "clips": n, "shards": shards}
