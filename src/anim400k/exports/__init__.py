"""Modern exports of a release: Parquet, Hugging Face ``datasets``, Lhotse, WebDataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..registry import EXPORT_FORMATS
from ..release import Dataset, load

FORMATS = tuple(EXPORT_FORMATS.names())


#: why a format cannot be exported with ``check_media=False`` (``--no-media``): it reads every MP3
NEEDS_MEDIA = {
    "hf": "hf always embeds the MP3 bytes",
    "lhotse": "lhotse reads every MP3 (Recording.from_file)",
    "webdataset": "webdataset puts the MP3s in its shards",
}


def export(
    dataset: Dataset | str | Path,
    fmt: str,
    out: str | Path,
    embed_audio: bool = False,
    shard_size: str | int = "100MB",
    skip_bad: bool = False,
    progress: bool = True,
    check_media: bool = True,
) -> dict[str, Any]:
    """Export a release to ``fmt`` in ``out`` (replaced only when the export succeeds).

    ``out`` must be new, empty or an earlier export, and neither the release folder nor
    inside or around it (:func:`.common.check_export_target`), so an export never deletes data.

    The release is validated first: without ``skip_bad`` the first problem raises
    :class:`InputError`; with it, bad shows/episodes/clips are left out and a problem with an
    optional clip extra drops only that field. Show/episode/character metadata problems never
    stop an export (wrong-typed metadata is dropped). Every problem is listed in
    ``out/problems.jsonl``; the summary (counts, files, skipped clips, dropped fields,
    ``problem_lines``: counts by kind and the first examples) says the rest. ``check_media`` False
    (``--no-media``) skips the media checks: only for ``parquet`` without ``embed_audio``, which
    writes paths only. ``progress``: clip counters on stderr when it is a terminal.
    """
    import shutil
    import tempfile

    write = EXPORT_FORMATS.load(fmt)
    from ..errors import DiskFull, InputError, disk_full_words, is_disk_full
    from ..fsutil.locks import output_lock
    from .common import (
        PROBLEMS_FILE,
        PROBLEMS_STAGE,
        CheckedRelease,
        check_export_target,
        parse_size,
        recover_export_folder,
        stage_prefix,
    )

    if not check_media and (fmt in NEEDS_MEDIA or embed_audio):
        why = NEEDS_MEDIA.get(fmt, f"--embed-audio puts the MP3 bytes in the {fmt} export")
        raise InputError(f"--no-media exports without the MP3s, but {why}: use --format parquet without "
                         f"--embed-audio (paths only), or download the media")
    if embed_audio and fmt == "lhotse":  # it was ignored: the manifests still pointed into the release
        raise InputError("--embed-audio: a lhotse export references the release's MP3s by absolute path and cannot "
                         "embed them; leave --embed-audio out, or use --format parquet, hf or webdataset")
    size = parse_size(shard_size)  # a bad option first, before the release is read
    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    check_export_target(out, ds.root)
    with output_lock(out, "export", noun="folder"):  # a second export into the same folder stops here, in one line
        recover_export_folder(out)
        # the problems file is written in a hidden folder beside out (.NAME.problems-XXXXXXXX), never in /tmp:
        # one left by a killed export is removed by the next export's recover_export_folder
        scratch = Path(tempfile.mkdtemp(prefix=stage_prefix(out, PROBLEMS_STAGE), dir=Path(out).parent))
        try:
            checked = CheckedRelease(ds, skip_bad, progress=progress, check_media=check_media,
                                     problems_file=scratch / PROBLEMS_FILE)
            try:
                summary = write(checked, Path(out), embed_audio=embed_audio, shard_size=size)
            except Exception as exc:
                if is_disk_full(exc):  # datasets wraps it in DatasetGenerationError, pyarrow loses the path
                    what, advice = disk_full_words(exc)  # ulimit -f read 'the disk is full ... free space'
                    said = "no space left on device" if what.startswith("the disk is full") else "file too large"
                    raise DiskFull(f"{what}: the export could not be written ({said}); {advice} and run the same "
                                   "command again", out) from exc
                raise
            finally:
                checked.close()
            if checked.bad.count:  # moved into the export folder before it replaced out (staged_dir)
                summary["problems_file"] = str(Path(out) / PROBLEMS_FILE)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    summary["skipped_clips"] = checked.skipped_clips
    summary["dropped_fields"] = checked.dropped_fields
    summary["problems"] = checked.bad.count
    summary["problem_kinds"] = dict(checked.bad.kinds)
    summary["problem_lines"] = checked.bad.summary_lines()
    return summary
