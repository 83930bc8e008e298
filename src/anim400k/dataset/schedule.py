"""Stage scheduling for a build: each stage's config, and running the stages on a runner.

:func:`run_stages` submits every episode's stages whose dependencies are done, records each
finished stage in the catalog (pushing it to a remote output), and records failures; a full
disk stops the build (:class:`anim400k.errors.DiskFull`), keeping what is done.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import traceback
from pathlib import Path
from typing import Any

from ..errors import AnimError, DiskFull, disk_full_path, is_disk_full
from .catalog import Catalog
from .context import EpisodeContext
from .options import BuildOptions, stage_config
from .remote import push_catalog
from .report import EpisodeResult
from .runners import make_runner
from .stages import STAGES, Stage, backend_settings

log = logging.getLogger(__name__)


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


def stage_configs(ctx: EpisodeContext, stages: list[Stage]) -> dict[str, str]:
    """Each stage's config string (its options, backends, inputs and upstream configs), for ``stages``."""
    configs: dict[str, str] = {}
    inputs = _input_fingerprint(ctx)
    for st in STAGES:  # topological order
        upstream = [configs[d] for d in st.deps if d in configs]
        stage_inputs = inputs if not st.deps or st.name in ("asr_en", "asr_ja", "subtitles", "score") else ""
        configs[st.name] = stage_config(st.name, ctx.options, upstream, stage_inputs,
                                        backend_settings(st.name, ctx))
    return {s.name: configs[s.name] for s in stages}


class StageProgress:
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


def run_stages(catalog: Catalog, contexts: dict[str, EpisodeContext], results: dict[str, EpisodeResult],
               options: BuildOptions, mirror: Any = None) -> None:
    """Run every enabled, unfinished stage of every episode; record outcomes in ``catalog`` and ``results``."""
    plan: dict[str, list[Stage]] = {}
    configs: dict[str, dict[str, str]] = {}
    done: dict[str, set[str]] = {}
    for key, ctx in contexts.items():
        catalog.add_episode(key, ctx.ref.show_key, ctx.ref.episode, ctx.ref.jp_media, ctx.ref.en_media)
        stages = [s for s in STAGES if s.enabled(ctx)]
        plan[key] = stages
        try:
            configs[key] = stage_configs(ctx, stages)
        except OSError as exc:
            results[key].ok, results[key].error = False, f"{exc}"
            continue
        done[key] = {s.name for s in stages if catalog.is_done(key, s.name, configs[key][s.name])}
        results[key].skipped_stages = sorted(done[key])
    totals = {s.name: sum(1 for k in done if s in plan[k] and s.name not in done[k]) for s in STAGES}
    progress = StageProgress(options.progress, totals)
    pending = sum(1 for k in done if any(s.name not in done[k] for s in plan[k]))
    runner = make_runner(options.runner, options.jobs, options.ray_address, options.retries, options=options,
                         episodes=pending)
    running: dict[cf.Future[tuple[str, float, float]], tuple[str, str]] = {}
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
                    artifact, seconds, cpu_seconds = fut.result()
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
                res.stage_cpu_seconds[name] = round(cpu_seconds, 3)
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
