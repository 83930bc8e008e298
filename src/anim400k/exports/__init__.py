"""Modern exports of a release: Parquet, Hugging Face ``datasets``, Lhotse, WebDataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..registry import EXPORT_FORMATS
from ..release import Dataset, load

FORMATS = tuple(EXPORT_FORMATS.names())


def export(
    dataset: Dataset | str | Path,
    fmt: str,
    out: str | Path,
    embed_audio: bool = False,
    shard_size: str | int = "100MB",
    skip_bad: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Export a release to ``fmt`` in ``out`` (replaced only when the export succeeds).

    ``out`` must be new, empty or an earlier export, and neither the release folder nor
    inside or around it (:func:`.common.check_export_target`), so an export never deletes data.

    The release is validated first: without ``skip_bad`` the first problem raises
    :class:`InputError`; with it, bad shows/episodes/clips are left out (and logged).
    Returns a summary (counts, files, skipped clips). ``progress``: a clip counter on stderr
    when it is a terminal.
    """
    write = EXPORT_FORMATS.load(fmt)
    from .common import CheckedRelease, check_export_target, parse_size

    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    check_export_target(out, ds.root)
    size = parse_size(shard_size)
    checked = CheckedRelease(ds, skip_bad, progress=progress)
    try:
        summary = write(checked, Path(out), embed_audio=embed_audio, shard_size=size)
    finally:
        checked.close()
    summary["skipped_clips"] = checked.skipped_clips
    summary["problems"] = checked.bad.count
    return summary
