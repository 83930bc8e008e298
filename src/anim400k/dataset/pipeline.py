"""The dataset build driver: schedules stages, records them in the catalog, writes the release.

With a remote output (``--out s3://...``) the driver works in its own staging folder: it
pulls the catalog and the work state to resume, pushes the catalog after every finished
stage (each stage task stages its episode on its own node and pushes its files itself),
pulls the finished episodes' work state before writing the release, and pushes what it
wrote at the end (:mod:`anim400k.dataset.remote`).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AnimError, DiskFull, InputError, disk_full_path, is_disk_full
from ..fsutil import folder_lock, remove_temps, under, write_json_atomic
from .catalog import CATALOG_FILE, Catalog
from .context import EpisodeContext
from .manifest import Manifest, load_manifest
from .options import BuildOptions, stage_config
from .remote import pull_build_state, pull_for_release, push_catalog, push_release
from .runners import make_runner
from .stages import STAGES, Stage, backend_settings

log = logging.getLogger(__name__)

REPORT_FILE = "build_report.json"


@dataclass(slots=True)
class EpisodeResult:
    """What happened to one episode in a build."""

    key: str
    ok: bool = True
    error: str | None = None
    failed_stage: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    skipped_stages: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BuildReport:
    """The outcome of :func:`build_dataset`."""

    out_dir: str
    episodes: list[EpisodeResult]
    clips: int = 0
    hours: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unmatched_jp_segments: int = 0
    diarization: dict[str, Any] = field(default_factory=dict)
    #: JP transcript text: episodes whose JP transcript has no text, and the flag that fixes it
    jp_text: dict[str, Any] = field(default_factory=dict)
    #: whether the release (annotations, clips) was written: not when every episode failed
    written: bool = True

    @property
    def failed(self) -> list[EpisodeResult]:
        """Episodes that failed."""
        return [e for e in self.episodes if not e.ok]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "out_dir": self.out_dir, "written": self.written, "clips": self.clips, "hours": self.hours,
            "stage_seconds": self.stage_seconds, "scores": self.scores, "warnings": self.warnings,
            "unmatched_jp_segments": self.unmatched_jp_segments,
            "diarization": self.diarization,
            "jp_text": self.jp_text,
            "episodes": [
                {"key": e.key, "ok": e.ok, "error": e.error, "failed_stage": e.failed_stage,
                 "stage_seconds": e.stage_seconds, "skipped_stages": e.skipped_stages}
                for e in self.episodes
            ],
        }


def _input_fingerprint(ctx: EpisodeContext) -> str:
    """Identity of an episode's inputs (paths, sizes, stream choices) for the probe stage's config."""
    parts: list[str] = []
    ref = ctx.ref
    for p in (ref.jp_media, ref.en_media, ref.subtitles, *sorted(ref.transcripts.values())):
        if p is None:
            continue
        size = Path(p).stat().st_size if "://" not in p and Path(p).exists() else -1
        parts.append(f"{p}:{size}")
    parts += [str(ref.jp_stream), str(ref.en_stream), str(ref.subtitle_stream), str(sorted(ref.transcripts))]
    return "|".join(parts)


def _stage_configs(ctx: EpisodeContext, stages: list[Stage]) -> dict[str, str]:
    configs: dict[str, str] = {}
    inputs = _input_fingerprint(ctx)
    for st in STAGES:  # topological order
        upstream = [configs[d] for d in st.deps if d in configs]
        stage_inputs = inputs if not st.deps or st.name in ("asr_en", "asr_ja", "subtitles", "score") else ""
        configs[st.name] = stage_config(st.name, ctx.options, upstream, stage_inputs,
                                        backend_settings(st.name, ctx))
    return {s.name: configs[s.name] for s in stages}


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl-C during a build: the workers were stopped; says what is kept and how to resume."""

    def __init__(self, out_dir: str, stages_done: int, episodes_done: int, episodes: int) -> None:
        self.out_dir, self.stages_done = out_dir, stages_done
        self.episodes_done, self.episodes = episodes_done, episodes
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line for the user."""
        return (
            f"interrupted: {self.stages_done} finished stage(s) are kept in {self.out_dir} "
            f"({self.episodes_done} of {self.episodes} episode(s) complete; catalog.sqlite, work/); "
            f"run the same command again to resume (finished stages are skipped)"
        )


class _Progress:
    """One progress bar per stage (tqdm on stderr, drawn only on a terminal), counting episodes."""

    def __init__(self, enabled: bool, totals: dict[str, int]) -> None:
        from ..progress import progress_bar

        self.bars: dict[str, Any] = {}
        if not enabled:
            return
        for i, (name, total) in enumerate(totals.items()):
            if total:
                self.bars[name] = progress_bar(True, total=total, desc=f"{name:>9}", unit="ep", position=i,
                                               leave=True)

    def update(self, name: str) -> None:
        if name in self.bars:
            self.bars[name].update(1)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def build_dataset(
    manifest: Manifest | str | Path, out_dir: str | Path, options: BuildOptions | None = None
) -> BuildReport:
    """Build the dataset described by ``manifest`` into ``out_dir`` (resumable and idempotent).

    Per-episode stages run on the configured runner; finished stages (same config,
    artifact present) are skipped, so a killed build re-run redoes only unfinished work.
    A failed episode is reported and skipped; the others complete. Writes the release
    (annotations, clip media), ``catalog.sqlite`` and ``build_report.json`` in ``out_dir``,
    which may be an fsspec URL (then no shared filesystem is needed, see :mod:`.remote`).
    """
    from ..storage import RemoteMirror, is_url, local_input

    options = options or BuildOptions()
    if str(out_dir).startswith("memory://") and not (options.runner == "local" and options.jobs == 1):
        raise InputError("a memory:// output lives in one process: build into it with --jobs 1 (the inline runner)",
                         out_dir)
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(local_input(str(manifest)))
    mirror = RemoteMirror(str(out_dir)) if is_url(out_dir) else None
    out = mirror.local if mirror is not None else Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check_metadata(manifest)
    refs = manifest.episodes()
    contexts = {
        r.key: EpisodeContext(ref=r, work_dir=str(under(out, "work", r.show_key, r.episode)), release_dir=str(out),
                              options=options, remote=mirror.url if mirror is not None else None)
        for r in refs
    }
    with folder_lock(out):  # a second build into the same folder stops here, in one line
        report = _build_locked(manifest, contexts, out, str(out_dir), options, mirror)
        if mirror is not None:
            push_release(mirror)
            report.out_dir = mirror.url
    return report


def _build_locked(manifest: Manifest, contexts: dict[str, EpisodeContext], out: Path, out_dir: str,
                  options: BuildOptions, mirror: Any) -> BuildReport:
    """The build proper, while this process holds the lock on ``out``."""
    if mirror is not None:
        pull_build_state(mirror, contexts.values())
    _remove_stale_parts(out, contexts)
    catalog = Catalog(out / CATALOG_FILE)
    results = {k: EpisodeResult(k) for k in contexts}
    try:
        try:
            _run_stages(catalog, contexts, results, options, mirror)
        except KeyboardInterrupt as exc:
            raise _interrupted(catalog, contexts, out_dir) from exc
        _remove_stale_parts(out, contexts)  # left by workers killed mid-write (their tasks were re-run)
        if mirror is not None:
            ok = [c for k, c in contexts.items() if results[k].ok]
            pull_for_release(mirror, ok, options.archive)
        return _finish(catalog, manifest, contexts, results, options, out)
    finally:
        catalog.close()


def _interrupted(catalog: Catalog, contexts: dict[str, EpisodeContext], out_dir: str) -> BuildInterrupted:
    """What an interrupted build keeps: finished stages (in the catalog) and complete episodes."""
    done: dict[str, set[str]] = {k: set() for k in contexts}
    for rec in catalog.records():
        if rec.status == "done" and rec.episode in done:
            done[rec.episode].add(rec.stage)
    complete = sum(1 for k, ctx in contexts.items()
                   if {s.name for s in STAGES if s.enabled(ctx)} <= done[k])
    return BuildInterrupted(out_dir, sum(len(v) for v in done.values()), complete, len(contexts))


def _remove_stale_parts(out: Path, contexts: dict[str, EpisodeContext]) -> None:
    """Delete temporary files that a killed build left in work and release folders.

    Only names this project writes (:func:`anim400k.fsutil.is_our_temp`), only under ``out``.
    """
    from ..formats.ids import AUDIO_ARCHIVE, FRAMES_ARCHIVE, VIDEO_ARCHIVE

    folders = [Path(c.work_dir) for c in contexts.values()] + [out / a for a in (AUDIO_ARCHIVE, VIDEO_ARCHIVE,
                                                                                 FRAMES_ARCHIVE)]
    remove_temps(out, folders)


def _check_metadata(manifest: Manifest) -> None:
    """Validate every show's metadata file before any work starts (a bad one stops the build)."""
    from ..release.metadata import load_metadata, select_show
    from ..storage import local_input

    for show in manifest.shows:
        if show.metadata:
            path = local_input(manifest.resolve(show.metadata) or show.metadata)
            select_show(load_metadata(path), show.key, path)


def _run_stages(catalog: Catalog, contexts: dict[str, EpisodeContext], results: dict[str, EpisodeResult],
                options: BuildOptions, mirror: Any = None) -> None:
    plan: dict[str, list[Stage]] = {}
    configs: dict[str, dict[str, str]] = {}
    done: dict[str, set[str]] = {}
    for key, ctx in contexts.items():
        catalog.add_episode(key, ctx.ref.show_key, ctx.ref.episode, ctx.ref.jp_media, ctx.ref.en_media)
        stages = [s for s in STAGES if s.enabled(ctx)]
        plan[key] = stages
        try:
            configs[key] = _stage_configs(ctx, stages)
        except OSError as exc:
            results[key].ok, results[key].error = False, f"{exc}"
            continue
        done[key] = {s.name for s in stages if catalog.is_done(key, s.name, configs[key][s.name])}
        results[key].skipped_stages = sorted(done[key])
    totals = {s.name: sum(1 for k in done if s in plan[k] and s.name not in done[k]) for s in STAGES}
    progress = _Progress(options.progress, totals)
    runner = make_runner(options.runner, options.jobs, options.ray_address, options.retries, options=options)
    running: dict[cf.Future[tuple[str, float]], tuple[str, str]] = {}
    submitted: set[tuple[str, str]] = set()

    capacity = getattr(runner, "capacity", None) or 1_000_000

    def submit_ready() -> None:
        for key in list(done):
            if not results[key].ok:
                continue
            for st in plan[key]:
                if len(running) >= capacity:
                    return
                if st.name in done[key] or (key, st.name) in submitted:
                    continue
                enabled = {s.name for s in plan[key]}
                if all(d in done[key] or d not in enabled for d in st.deps):
                    submitted.add((key, st.name))
                    running[runner.submit(st.name, contexts[key])] = (key, st.name)

    interrupted = False
    try:
        submit_ready()
        while running:
            finished, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                key, name = running.pop(fut)
                res = results[key]
                try:
                    artifact, seconds = fut.result()
                except Exception as exc:  # noqa: BLE001 - sorted out below
                    if is_disk_full(exc):  # every later stage would fail too: stop, keep what is done
                        res.ok, res.failed_stage = False, name
                        raise _disk_full(exc, contexts[key], name, catalog) from exc
                    _stage_failed(catalog, contexts[key], res, name, configs[key][name], exc, mirror)
                    continue
                catalog.mark_done(key, name, configs[key][name], artifact, seconds)
                done[key].add(name)
                if mirror is not None:  # keep the remote catalog current, so another machine can resume
                    push_catalog(mirror, catalog)
                res.stage_seconds[name] = round(seconds, 3)
                progress.update(name)
            submit_ready()
    except (KeyboardInterrupt, DiskFull):
        interrupted = True
        raise
    finally:
        progress.close()
        if interrupted:
            runner.terminate()  # stop the workers now rather than wait for their tasks
        else:
            runner.close()


def _stage_failed(catalog: Catalog, ctx: EpisodeContext, res: EpisodeResult, name: str, config: str,
                  exc: Exception, mirror: Any) -> None:
    """Record a stage's failure: an :class:`AnimError`'s line, or an internal error with its traceback."""
    if isinstance(exc, AnimError):
        _fail(catalog, res, name, config, exc.message)
        return
    log.debug("stage %s of %s failed", name, ctx.ref.key, exc_info=exc)
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
    _fail(catalog, res, name, config, f"internal error in stage {name}: {detail}")
    error_log = Path(ctx.work_dir) / "error.log"
    try:
        error_log.parent.mkdir(parents=True, exist_ok=True)
        error_log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    except OSError:
        log.warning("could not write %s", error_log)
        return
    if mirror is not None:
        mirror.push_files([error_log])


def _disk_full(exc: Exception, ctx: EpisodeContext, stage: str, catalog: Catalog) -> DiskFull:
    """One line for a stage that filled the disk: where, and that finished stages are kept."""
    where = disk_full_path(exc) or ctx.work_dir
    kept = sum(1 for rec in catalog.records() if rec.status == "done")
    if isinstance(exc, AnimError):
        reason = exc.message
    else:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    return DiskFull(f"the disk is full: stage {stage} of {ctx.ref.key} could not write {where} ({reason}); "
                    f"free space there and run the same command again ({kept} finished stage(s) are kept)")


def _fail(catalog: Catalog, res: EpisodeResult, stage: str, config: str, message: str) -> None:
    res.ok, res.error, res.failed_stage = False, message, stage
    catalog.mark_failed(res.key, stage, config, message)
    log.error("episode %s failed in stage %s: %s", res.key, stage, message)


def _finish(catalog: Catalog, manifest: Manifest, contexts: dict[str, EpisodeContext],
            results: dict[str, EpisodeResult], options: BuildOptions, out: Path) -> BuildReport:
    from .release_writer import write_release

    report = BuildReport(out_dir=str(out), episodes=list(results.values()))
    for rec in catalog.records():
        if rec.status == "done" and rec.seconds is not None and rec.episode in contexts:
            report.stage_seconds[rec.stage] = round(report.stage_seconds.get(rec.stage, 0.0) + rec.seconds, 3)
    ok_contexts = [c for k, c in contexts.items() if results[k].ok]
    if not ok_contexts:  # every episode failed: no release (an empty one would validate as fine)
        report.written = False
        write_json_atomic(out / REPORT_FILE, report.to_dict())
        return report
    summary = write_release(manifest, ok_contexts, out, options)
    report.clips, report.hours = summary["clips"], summary["hours"]
    report.unmatched_jp_segments = summary["unmatched_jp_segments"]
    report.warnings += summary["warnings"]
    report.scores = _collect_scores(ok_contexts)
    report.diarization = _collect_diarization(ok_contexts)
    report.jp_text = _collect_jp_text(ok_contexts)
    if report.jp_text.get("empty"):
        report.warnings.append(report.jp_text["message"])
    write_json_atomic(out / REPORT_FILE, report.to_dict())
    return report


#: How to get Japanese text (no pip package ships a Japanese ASR model; see README).
JP_TEXT_FIX = ("--asr-ja faster-whisper --asr-model DIR (a CTranslate2 Whisper folder such as "
               "faster-whisper-large-v3), or give each episode's JP transcript")


def _collect_jp_text(contexts: list[EpisodeContext]) -> dict[str, Any]:
    """Which built episodes have a JP transcript without any text (VAD-only ASR), and the fix."""
    from ..formats.transcripts import read_transcript
    from ..model import JP

    empty = []
    for ctx in contexts:
        p = ctx.artifact(f"{JP}.transcript.json")
        if not p.exists():
            continue
        t = read_transcript(p, language=JP)
        if not any(s.text.strip() for s in t.segments):
            empty.append(ctx.ref.key)
    out: dict[str, Any] = {"episodes": len(contexts), "empty": len(empty), "empty_episodes": empty}
    if empty:
        out["fix"] = JP_TEXT_FIX
        out["message"] = (f"Japanese transcripts have no text in {len(empty)} of {len(contexts)} episodes "
                          f"(jp_text is empty: the embedded JP ASR finds speech only); use {JP_TEXT_FIX}")
    return out


def _collect_diarization(contexts: list[EpisodeContext]) -> dict[str, Any]:
    """Per episode: speakers found, clips, and clips whose speaker set is uncertain (confidence < 0.5).

    A clip without a confidence (a diarizer that gives none) counts in ``no_confidence``, not as
    uncertain; ``uncertain_share`` is over the clips that have one.
    """
    from ..diarize.clips import UNCERTAIN_BELOW
    from ..formats.rttm import read_rttm

    per: dict[str, Any] = {}
    totals = {"clips": 0, "rated": 0, "uncertain": 0}
    for ctx in contexts:
        rttm, clips_file = ctx.artifact("jp.rttm"), ctx.artifact("clips.json")
        if not (rttm.exists() and clips_file.exists()):
            continue
        speakers = {t.speaker for t in read_rttm(rttm)}
        conf = [c.speaker_confidence for c in ctx.clips()]
        rated = [c for c in conf if c is not None]
        uncertain = sum(c < UNCERTAIN_BELOW for c in rated)
        per[ctx.ref.key] = {
            "speakers": len(speakers), "clips": len(conf), "uncertain_clips": uncertain,
            "no_confidence": len(conf) - len(rated),
            "uncertain_share": round(uncertain / len(rated), 4) if rated else None,
        }
        totals["clips"] += len(conf)
        totals["rated"] += len(rated)
        totals["uncertain"] += uncertain
    if not per:
        return {}
    return {
        "uncertain_below": UNCERTAIN_BELOW,
        "clips": totals["clips"],
        "uncertain_clips": totals["uncertain"],
        "uncertain_share": round(totals["uncertain"] / totals["rated"], 4) if totals["rated"] else None,
        "episodes": per,
    }


def _collect_scores(contexts: list[EpisodeContext]) -> dict[str, Any]:
    import json

    import numpy as np

    per: dict[str, Any] = {}
    for ctx in contexts:
        p = ctx.artifact("score.json")
        if p.exists():
            per[ctx.ref.key] = json.loads(p.read_text())
    if not per:
        return {}

    def mean(path: tuple[str, str]) -> float:
        vals = [v[path[0]][path[1]] for v in per.values() if path[0] in v and path[1] in v[path[0]]]
        vals = [x for x in vals if x is not None and x == x]  # NaN: not measured (e.g. no EN text)
        return float(np.mean(vals)) if vals else float("nan")

    return {
        "episodes": per,
        "mean": {
            "alignment_f1": mean(("alignment", "f1")),
            "alignment_f1_without_sync": mean(("alignment_without_sync", "f1")),
            "sync_offset_error_ms": mean(("sync", "offset_error_ms")),
            "en_wer": mean(("asr_en", "wer")),
            "der": mean(("diarization", "der")),
            "backing_sdr": mean(("separation", "sdr")),
            "mix_sdr": mean(("separation", "sdr_of_mix")),
        },
    }
