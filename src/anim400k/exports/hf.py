"""Hugging Face ``datasets`` export: a folder for ``datasets.load_from_disk``.

Built offline with ``Dataset.from_generator`` (``HF_DATASETS_OFFLINE=1``, cache in a
temporary folder that is removed afterwards) and saved with ``save_to_disk`` in shards
of at most ``shard_size`` bytes. One row per clip; ``jp_audio``/``en_audio`` are
``datasets.Audio`` features holding the MP3 bytes and, as ``path``, the file's name (``UUID.mp3``: ``datasets``
keeps the base name of a file it embeds); ``jp_audio_path``/``en_audio_path`` hold its place in the release
(``anim400k_audio_clips/F/UUID.mp3``), as the Parquet export's columns. The folder is always self-contained:
``save_to_disk`` (datasets >= 4) embeds referenced files anyway, so ``embed_audio`` is
implied. ``ds[0]["jp_audio"]`` decodes with torchcodec, which needs FFmpeg's shared
libraries (``setup.sh`` installs them); ``Audio(decode=False)`` gives the bytes without them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable
from ..offline import force_offline
from .common import CheckedRelease, clip_info, stage_prefix, staged_dir


def features(audio: bool = True) -> Any:
    """The ``datasets.Features`` of the rows (``audio=False``: audio columns as plain structs)."""
    from datasets import Audio, Features, List, Value

    raw_audio = {"bytes": Value("binary"), "path": Value("string")}

    sub = {"start": Value("float64"), "end": Value("float64"), "text": Value("string")}
    return Features(
        {
            "id": Value("string"),
            "show": Value("string"),
            "episode": Value("string"),
            "clip_index": Value("int32"),
            "jp_clip": Value("string"),
            "en_clip": Value("string"),
            "jp_text": Value("string"),
            "en_text": Value("string"),
            "jp_start": Value("float64"),
            "jp_end": Value("float64"),
            "en_start": Value("float64"),
            "en_end": Value("float64"),
            "speakers": List(Value("string")),
            "en_subtitles": List(sub),
            "multi_speaker": Value("bool"),
            "mixing_ratio": Value("float64"),
            "backing_clip": Value("string"),
            "speaker_confidence": Value("float64"),
            "jp_audio_path": Value("string"),
            "en_audio_path": Value("string"),
            "jp_audio": Audio() if audio else raw_audio,
            "en_audio": Audio() if audio else raw_audio,
        }
    )


def _rows(checked: CheckedRelease, embed_audio: bool) -> Iterator[dict[str, Any]]:
    ds = checked.ds
    for clip in checked.clips():
        row = clip_info(clip)
        row["id"] = clip.jp_clip
        for lang, cid in (("jp", clip.jp_clip), ("en", clip.en_clip)):
            path = ds.audio_path(cid)
            row[f"{lang}_audio_path"] = path.relative_to(ds.root).as_posix()
            row[f"{lang}_audio"] = {"path": path.name, "bytes": path.read_bytes()}
        yield row


def export(
    checked: CheckedRelease, out: Path, embed_audio: bool = False, shard_size: int = 100_000_000
) -> dict[str, Any]:
    """Write a ``save_to_disk`` folder into ``out``; return the row count."""
    force_offline()
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - part of the export extra
        raise BackendUnavailable("hf", "export", "needs the `datasets` package") from exc

    datasets.disable_progress_bars()
    where = Path(out).parent if Path(out).parent.exists() else None
    cache = Path(tempfile.mkdtemp(prefix=stage_prefix(out, "hf-cache"), dir=where))
    try:
        # from_generator fingerprints the generator; the checked release is passed by closure,
        # the fingerprint is fixed (the cache folder is fresh and thrown away anyway).
        def gen() -> Iterator[dict[str, Any]]:
            yield from _rows(checked, embed_audio)

        # Audio.encode_example needs torchcodec (and system FFmpeg); the rows already hold
        # {bytes, path}, so they are written as plain structs and cast to Audio (no encoding).
        hf = datasets.Dataset.from_generator(
            gen, features=features(audio=False), cache_dir=str(cache), fingerprint="anim400k-export"
        )
        hf = hf.cast(features(audio=True))
        with staged_dir(out, checked) as stage:
            hf.save_to_disk(str(stage), max_shard_size=shard_size)
        n = len(hf)
        del hf
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"format": "hf", "out": str(out), "clips": n, "embedded_audio": True}
