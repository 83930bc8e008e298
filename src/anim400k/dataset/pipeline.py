"""The dataset build driver: prepares the episodes, runs their stages (:mod:`.schedule`), writes the release
(:mod:`.report`).

With a remote output (``--out s3://...``) the driver works in its own staging folder: it
pulls the catalog and the work state to resume, pushes the catalog after every finished
stage (each stage task stages its episode on its own node and pushes its files itself),
pulls the finished episodes' work state before writing the release, and pushes what it
wrote at the end (:mod:`anim400k.dataset.remote`).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import DiskFull, InputError, disk_full_path, disk_full_words, is_disk_full
from ..fsutil.locks import folder_lock
from ..fsutil.paths import under
from ..fsutil.temp_files import remove_temps
from ..fsutil.writable import check_writable
from ..interrupts import Terminated, sigterm_interrupts
from .catalog import CATALOG_FILE, Catalog
from .context import EpisodeContext
from .dropped_clips import remove_dropped_clips
from .dropped_frames import remove_dropped_frames
from .manifest import Manifest, load_manifest
from .options import BuildOptions
from .out_folder import check_out_folder, check_out_kinds
from .remote import pull_build_state, pull_for_release, push_release, remove_remote_parts
from .report import REPORT_FILE, BuildReport, EpisodeResult, finish_build
from .schedule import run_stages
from .stages import STAGES

log = logging.getLogger(__name__)

__all__ = ["CATALOG_FILE", "REPORT_FILE", "BuildInterrupted", "BuildReport", "EpisodeResult", "Terminated",
           "build_dataset"]


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a build: the workers were stopped; says what is kept and how to resume."""

    def __init__(self, out_dir: str, stages_done: int, episodes_done: int, episodes: int,
                 signum: int = signal.SIGINT) -> None:
        self.out_dir, self.stages_done = out_dir, stages_done
        self.episodes_done, self.episodes = episodes_done, episodes
        self.signum = int(signum)
        super().__init__(self.message)

    @property
    def exit_code(self) -> int:
        """The shell's code for the signal: 130 for Ctrl-C (SIGINT), 143 for SIGTERM."""
        return 128 + self.signum

    @property
    def message(self) -> str:
        """One line for the user."""
        how = "interrupted" if self.signum == signal.SIGINT else f"interrupted by {signal.Signals(self.signum).name}"
        return (
            f"{how}: {self.stages_done} finished stage(s) are kept in {self.out_dir} "
            f"({self.episodes_done} of {self.episodes} episode(s) complete; catalog.sqlite, work/); "
            f"run the same command again to resume (finished stages are skipped)"
        )


def build_dataset(
    manifest: Manifest | str | Path, out_dir: str | Path, options: BuildOptions | None = None
) -> BuildReport:
    """Build the dataset described by ``manifest`` into ``out_dir`` (resumable and idempotent).

    Per-episode stages run on the configured runner; finished stages (same config,
    artifact present) are skipped, so a killed build re-run redoes only unfinished work.
    A failed episode is reported and skipped; the others complete. The backends' packages and local
    models are checked first (:func:`anim400k.dataset.preflight.check_backends`). Writes the release
    (annotations, clip media), ``catalog.sqlite`` and ``build_report.json`` in ``out_dir``,
    which may be an fsspec URL (then no shared filesystem is needed, see :mod:`.remote`).
    """
    from ..storage import RemoteMirror, check_bucket, is_url, local_input, local_path, remote_errors, url_given
    from .preflight import check_backends

    options = options or BuildOptions()
    if isinstance(out_dir, str):  # --out file:///data/out is the local /data/out (it made a folder 'file:' here)
        out_dir = local_path(out_dir)
    if options.jobs is not None and not (isinstance(options.jobs, int) and options.jobs >= 0):
        raise InputError(f"jobs must be an integer >= 0 (0 = one worker per CPU) or None (auto), not {options.jobs!r}")
    check_backends(options)  # a bad model path or missing package: one line, before any stage is planned
    if str(out_dir).startswith("memory://") and not (options.runner == "local" and options.jobs in (None, 1)):
        raise InputError("a memory:// output lives in one process: build into it with --jobs 1 (the inline runner)",
                         out_dir)
    if not isinstance(manifest, Manifest):
        given = str(manifest)
        manifest = load_manifest(local_input(given), given.rsplit("/", 1)[0] if is_url(given) else None)
    if not is_url(out_dir):
        if url_given(out_dir):  # 's3:/b/x': one slash, taken for a local folder 's3:'
            raise InputError(f"is not a URL (one '/' after the scheme): did you mean {url_given(out_dir)}?", out_dir)
        return _build_into(manifest, out_dir, options, None)
    if not str(out_dir).split("://", 1)[1].strip("/"):  # 's3://': no bucket; it built into a local folder 's3:'
        raise InputError("names no bucket or folder: give --out s3://BUCKET/RELEASE", out_dir)
    with remote_errors(str(out_dir)):  # credentials, endpoint, bucket: one line, not a traceback
        mirror = RemoteMirror(str(out_dir))
        check_bucket(mirror.fs, mirror.root, mirror.url)
        return _build_into(manifest, out_dir, options, mirror)


def _build_into(manifest: Manifest, out_dir: str | Path, options: BuildOptions, mirror: Any) -> BuildReport:
    """:func:`build_dataset` once its options are checked and the manifest read: into ``out_dir``, through
    ``mirror`` (a :class:`~anim400k.storage.RemoteMirror`) for a remote output."""
    out = mirror.local if mirror is not None else Path(out_dir)
    if mirror is None:
        check_writable({}, {"--out": out})  # a file as --out was 'OUT: File exists'; read-only: one line, now
        check_out_kinds(out)  # a file 'work' there failed every episode in its first stage
    check_out_folder(_exists_in(mirror, out), str(out_dir))  # never over a release no build wrote: nothing written
    made = _missing_folders(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        _check_metadata(manifest, out if mirror is None else None)
    except BaseException:
        for folder in made:  # refused before any work: leave no empty output folder (nor its new parents) behind
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    refs = manifest.episodes()
    contexts = {
        r.key: EpisodeContext(ref=r, work_dir=str(under(out, "work", r.show_key, r.episode)), release_dir=str(out),
                              options=options, remote=mirror.url if mirror is not None else None)
        for r in refs
    }
    with sigterm_interrupts(), folder_lock(out):  # a second build into the same folder stops here, in one line
        report = _build_locked(manifest, contexts, out, str(out_dir), options, mirror)
        if mirror is not None:
            push_release(mirror, report.written)
            report.out_dir = mirror.url
    return report


def _exists_in(mirror: Any, out: Path) -> Callable[[str], bool]:
    """``exists(name)`` for a name in the output folder: the remote one for a remote output."""
    if mirror is None:
        return lambda name: (out / name).exists()
    return lambda name: bool(mirror.fs.exists(f"{mirror.root}/{name}"))


def _build_locked(manifest: Manifest, contexts: dict[str, EpisodeContext], out: Path, out_dir: str,
                  options: BuildOptions, mirror: Any) -> BuildReport:
    """The build proper, while this process holds the lock on ``out``."""
    if mirror is not None:
        pull_build_state(mirror, contexts.values())
        remove_remote_parts(mirror)  # a killed upload's; nothing of this build uploads yet
    _remove_stale_parts(out, contexts)
    catalog = Catalog(out / CATALOG_FILE)
    results = {k: EpisodeResult(k) for k in contexts}
    try:
        _check_cuts(catalog, contexts, mirror)
        try:
            run_stages(catalog, contexts, results, options, mirror)
        except KeyboardInterrupt as exc:
            raise _interrupted(catalog, contexts, out_dir, getattr(exc, "signum", signal.SIGINT)) from exc
        _remove_stale_parts(out, contexts)  # left by workers killed mid-write (their tasks were re-run)
        _remove_stale_error_logs(contexts, results)
        if mirror is not None:
            ok = [c for k, c in contexts.items() if results[k].ok]
            pull_for_release(mirror, ok, options.archive)
        try:
            report = finish_build(manifest, contexts, results, options, out)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            raise _release_disk_full(exc, catalog, out) from exc
        if report.written and mirror is None:  # a remote output's frames are in the bucket
            # an earlier cut's clips go once the annotations that no longer name them are in place: deleted before,
            # a build killed in between left a release whose annotations named missing clips (an outside tester)
            _remove_stale_clips(catalog, contexts, mirror)
            remove_dropped_frames(catalog, contexts, frames_listed(contexts, results, options), out)
            remove_dropped_clips(catalog, contexts, {k for k in contexts if results[k].ok}, out)
        return report
    finally:
        catalog.close()


def _release_disk_full(exc: OSError, catalog: Catalog, out: Path) -> DiskFull:
    """One line for a release (annotations, archives, report) that filled the disk: where, and what is kept."""
    kept = sum(1 for rec in catalog.records() if rec.status == "done")
    where = disk_full_path(exc) or out
    what, advice = disk_full_words(exc)
    return DiskFull(f"{what}: writing the release could not write {where} ({exc.strerror or exc}); {advice} and run "
                    f"the same command again ({kept} finished stage(s) are kept)")


def _remove_stale_error_logs(contexts: dict[str, EpisodeContext], results: dict[str, EpisodeResult]) -> None:
    """Delete the ``error.log`` (an earlier run's internal error) of each episode that has now succeeded."""
    for key, ctx in contexts.items():
        if results[key].ok:
            (Path(ctx.work_dir) / "error.log").unlink(missing_ok=True)


def _interrupted(catalog: Catalog, contexts: dict[str, EpisodeContext], out_dir: str,
                 signum: int = signal.SIGINT) -> BuildInterrupted:
    """What a build interrupted by ``signum`` keeps: finished stages (in the catalog) and complete episodes."""
    done: dict[str, set[str]] = {k: set() for k in contexts}
    for rec in catalog.records():
        if rec.status == "done" and rec.episode in done:
            done[rec.episode].add(rec.stage)
    complete = sum(1 for k, ctx in contexts.items()
                   if {s.name for s in STAGES if s.enabled(ctx)} <= done[k])
    return BuildInterrupted(out_dir, sum(len(v) for v in done.values()), complete, len(contexts), signum)


def _check_cuts(catalog: Catalog, contexts: dict[str, EpisodeContext], mirror: Any) -> None:
    """Before scheduling: re-cut every episode whose recorded cut is not intact.

    A cut recorded as done counts only when the catalog points at the episode's own ``cut.json``,
    that file reads, and every clip file it lists exists with the size it was written with
    (:func:`anim400k.dataset.cutting.cut_outputs_problem`); otherwise the record is marked failed
    (with the reason) so the cut runs again, rather than the episode's clips going missing or the
    episode being left out of the release. With a remote output the clip files are looked for in the bucket's
    listing (by name; their sizes are not checked).
    """
    from .cutting import CUT_ARTIFACT, cut_outputs_problem
    from .remote import missing_clip_files, remote_clip_files

    in_bucket: set[str] | None = None
    for key, ctx in contexts.items():
        rec = catalog.get(key, "cut")
        if rec is None or rec.status != "done":
            continue
        own = ctx.artifact(CUT_ARTIFACT)
        if rec.artifact is None or catalog.resolve(rec.artifact).resolve() != own.resolve():
            problem = f"the catalog records {rec.artifact!r} as its artifact, not {own}"
        else:
            problem = cut_outputs_problem(ctx, check_files=mirror is None)
        if problem is None and mirror is not None:  # the clip files are in the bucket: each one there?
            in_bucket = remote_clip_files(mirror) if in_bucket is None else in_bucket
            missing = missing_clip_files(own, in_bucket)
            if missing:
                problem = f"{len(missing)} clip file(s) it lists are not in the bucket (e.g. {missing[0]})"
        if problem is not None:
            log.warning("%s: cutting again: %s", key, problem)
            catalog.mark_failed(key, "cut", rec.config, f"cut again: {problem}")


def _remove_stale_clips(catalog: Catalog, contexts: dict[str, EpisodeContext], mirror: Any) -> None:
    """After the stages: delete the clip files of earlier cuts that each recorded cut lists as stale
    (:func:`anim400k.dataset.cutting.remove_stale_clips`). Not for a remote output (its clip files
    are in the bucket)."""
    from .cutting import remove_stale_clips

    if mirror is not None:
        return
    for key, ctx in contexts.items():
        rec = catalog.get(key, "cut")
        if rec is not None and rec.status == "done":
            n = remove_stale_clips(ctx)
            if n:
                log.info("%s: removed %d clip file(s) of an earlier cut", key, n)


def _missing_folders(out: Path) -> list[Path]:
    """``out`` and its parents that do not exist yet (``out`` first): what ``out.mkdir(parents=True)`` makes."""
    missing = []
    folder = out
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def frames_listed(contexts: dict[str, EpisodeContext], results: dict[str, EpisodeResult],
                  options: BuildOptions) -> set[str]:
    """The episodes whose frames the release's ``frames.parquet`` lists: the released ones with frames,
    none without ``--frames-fps`` (:func:`anim400k.dataset.release_writer.released_frames`)."""
    from .release_writer import released_frames

    return {c.ref.key for c in released_frames([c for k, c in contexts.items() if results[k].ok], options)}


def _remove_stale_parts(out: Path, contexts: dict[str, EpisodeContext]) -> None:
    """Delete temporary files that a killed build left in work and release folders, and in ``out`` itself.

    Only names this project writes (:func:`anim400k.fsutil.temp_files.is_our_temp`: marked
    ``.NAME.anim400k-XXXXXXXX.part``), only under ``out``: the episodes' work folders and the media folders (with
    their subfolders), and the
    files directly in ``out`` (the annotations', report's and archives' temporaries; not its other
    subfolders). The unmarked names of versions before the mark (``.NAME.XXXXXXXX.part``), which a user's
    file may have too, are removed only in the episodes' work folders, which no user writes into.
    """
    from ..formats.ids import AUDIO_ARCHIVE, FRAMES_ARCHIVE, PICS_ARCHIVE, VIDEO_ARCHIVE

    media = [out / a for a in (AUDIO_ARCHIVE, VIDEO_ARCHIVE, FRAMES_ARCHIVE, PICS_ARCHIVE)]
    remove_temps(out, [Path(c.work_dir) for c in contexts.values()], legacy=True)
    remove_temps(out, media)
    remove_temps(out, [out], recursive=False)


def _check_metadata(manifest: Manifest, out: Path | None = None) -> None:
    """Validate every show's metadata file before any work starts (a bad one stops the build): its fields,
    its picture files, and (``out``: a local release folder) that its picture IDs have their pictures there."""
    from ..release.metadata import check_pictures, load_metadata, metadata_folder, select_show
    from ..storage import local_input

    for show in manifest.shows:
        if show.metadata:
            given = manifest.resolve(show.metadata) or show.metadata
            path = local_input(given)
            meta = select_show(load_metadata(path), show.key, path)
            check_pictures(meta, show.key, metadata_folder(given, path), out, path)
