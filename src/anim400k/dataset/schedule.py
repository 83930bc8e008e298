"""Stage scheduling for a build: each stage's config, and running the stages on a runner.

:func:`run_stages` submits every episode's stages whose dependencies are done, records each
finished stage in the catalog (pushing it to a remote output), and records failures; a full
disk stops the build (:class:`anim400k.errors.DiskFull`), keeping what is done.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import AnimError, DiskFull, disk_full_path, disk_full_words, is_disk_full
from ..model import EN, JP
from .catalog import Catalog
from .context import EpisodeContext
from .identity import input_identity, model_identity, output_identities
from .options import STAGE_OPTION_KEYS, BuildOptions, stage_config
from .progress_channel import ProgressFolder
from .remote import push_catalog
from .report import EpisodeResult
from .runners import make_runner
from .stages import STAGE_BY_NAME, STAGES, Stage, asr_backend, backend_settings

log = logging.getLogger(__name__)


def _truth_identity(truth: str) -> str:
    """The ground truth's identity: its file (hashed) and the stem files it names (size, mtime)."""
    parts = [input_identity(truth)]
    if "://" in truth:
        return parts[0]
    try:
        stems = json.loads(Path(truth).read_text(encoding="utf-8")).get("stems") or {}
    except (OSError, ValueError, AttributeError):
        return parts[0]  # the score stage fails on it, with its reason
    if isinstance(stems, dict):
        parts += [input_identity(str(Path(truth).parent / str(name)), hash_small=False)
                  for _, name in sorted(stems.items())]
    return "|".join(parts)


def stage_inputs(ctx: EpisodeContext, stage: str, media: Callable[[str], str] | None = None) -> str:
    """The identity of the inputs that ``stage`` itself reads, for its config key ("" if it reads none).

    Only what the stage reads: the media and their stream choices for ``probe`` (the stages after it
    read the media through its key), the given transcript of its language for ``asr_en``/``asr_ja`` (else the
    files of the local model folder it loads, ``--asr-model``), the diarizer's local model (``--diarizer-model``)
    for ``diarize``,
    the subtitle file (content hashed) or stream for ``subtitles``, the ground truth for ``score``.
    So editing the subtitles re-runs ``subtitles`` and what depends on it, never decoding or ASR.
    Media are identified by ``media`` (the build passes :meth:`.catalog.Catalog.media_token`: a token that
    changes with their sampled content) or else by path, size and modification time (hashing gigabytes of
    video on every run would cost more than planning the build); small files by a hash of their content
    (:mod:`anim400k.dataset.identity`).
    """
    ref = ctx.ref
    if stage == "probe":
        media = media or (lambda path: input_identity(path, hash_small=False))
        return "|".join([media(ref.jp_media), media(ref.en_media), str(ref.jp_stream), str(ref.en_stream)])
    if stage in ("asr_en", "asr_ja"):
        lang = EN if stage == "asr_en" else JP
        given = ref.transcripts.get(lang)
        if given:
            return input_identity(given)
        _name, opts = asr_backend(ctx.options, lang)  # a model folder the stage loads: its files
        return model_identity(str(opts["model"])) if opts.get("model") else ""
    if stage == "diarize" and ctx.options.diarizer_model:
        return model_identity(ctx.options.diarizer_model)
    if stage == "subtitles":
        return f"{input_identity(ref.subtitles)}|{ref.subtitle_stream}" + ("|keep_signs" if ref.keep_signs else "")
    if stage == "score":
        truth = ref.metadata.get("truth")
        return _truth_identity(str(truth)) if truth else ""
    return ""


def stage_configs(ctx: EpisodeContext, stages: list[Stage], media: Callable[[str], str] | None = None
                  ) -> dict[str, str]:
    """Each stage's config string (its options, backends, inputs and upstream configs), for ``stages``
    (``media``: a medium's identity, as :func:`stage_inputs`)."""
    configs: dict[str, str] = {}
    for st in STAGES:  # topological order
        upstream = [configs[d] for d in st.deps if d in configs]
        configs[st.name] = stage_config(st.name, keyed_options(ctx, st.name), upstream,
                                        stage_inputs(ctx, st.name, media), backend_settings(st.name, ctx))
    return {s.name: configs[s.name] for s in stages}


def keyed_options(ctx: EpisodeContext, stage: str) -> BuildOptions:
    """The options ``stage``'s key holds: the build's, except that an ASR stage importing a given transcript
    holds the defaults of the ASR options it does not use (``--asr-en``, ``--asr-ja``, ``--asr-model`` named
    or left out re-ran every episode's ASR and everything after it; the defaults keep the keys of builds made
    without them)."""
    lang = {"asr_en": EN, "asr_ja": JP}.get(stage)
    if lang is None or not ctx.ref.transcripts.get(lang):
        return ctx.options
    defaults = {k: BuildOptions.__dataclass_fields__[k].default for k in STAGE_OPTION_KEYS[stage]}
    return dataclasses.replace(ctx.options, **defaults)


def _undo_dependents(done: set[str], stages: list[Stage]) -> None:
    """Take out of ``done`` every stage whose (enabled) upstream stage is to run again.

    A stage whose outputs are missing or changed runs again, so the stages that read them do too.
    """
    enabled = {s.name for s in stages}
    for st in STAGES:  # topological order
        if st.name in done and any(d in enabled and d not in done for d in st.deps):
            done.discard(st.name)


def _outputs_of(ctx: EpisodeContext, stage: str) -> dict[str, Any]:
    """The identities of the work files a finished stage wrote (by path), for the catalog to check later.

    Not with a remote output: the driver does not hold the tasks' work files there (the catalog then
    checks only that the artifact exists and parses).
    """
    folder = Path(ctx.work_dir)
    return {str(folder / name): ident
            for name, ident in output_identities(folder, STAGE_BY_NAME[stage].outputs).items()}


class StageProgress:
    """One progress bar per stage (tqdm on stderr, drawn only on a terminal), counting episodes.

    While bars are drawn, the long stages in flight also say how far they are: each stage task reports
    into a :class:`.progress_channel.ProgressFolder`, which a thread of the driver reads every
    :data:`POLL_INTERVAL` seconds; the stage's bar shows each episode in flight after its count
    (``asr_en  0/1 [...] S01/E01 340/1440 s``). Off a terminal no folder is made, no thread started
    and the stages report nothing.

    Each bar times its own stage: its clock starts when the stage's first episode is submitted (all bars are
    made at the build's start) and stops when its last episode is counted, so its elapsed time and s/ep are the
    stage's, not the build's.
    """

    def __init__(self, enabled: bool, totals: dict[str, int]) -> None:
        from ..progress import progress_bar

        self.bars: dict[str, Any] = {}
        self.channel: ProgressFolder | None = None
        self._running: dict[tuple[str, str], tuple[float, float, str] | None] = {}
        self._begun: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        if not enabled:
            return
        for i, (name, total) in enumerate(totals.items()):
            if total:
                self.bars[name] = progress_bar(True, total=total, desc=f"{name:>9}", unit="ep", position=i,
                                               leave=True)
        if any(not bar.disable for bar in self.bars.values()):  # drawn: stderr is a terminal
            self.channel = ProgressFolder()
            self._poller = threading.Thread(target=self._poll, name="anim400k-progress", daemon=True)
            self._poller.start()

    def context(self, ctx: EpisodeContext) -> EpisodeContext:
        """The context to submit a stage task with: reporting into the channel when bars are drawn."""
        return ctx if self.channel is None else self.channel.context(ctx)

    def start(self, key: str, name: str) -> None:
        """Stage ``name`` of episode ``key`` is submitted: show how far it is once it reports (the first
        submission of a stage starts its bar's clock)."""
        with self._lock:
            if name not in self._begun and name in self.bars:
                self._begun.add(name)
                bar = self.bars[name]
                bar.reset(total=bar.total)  # nothing counted yet: only the clock moves to now
        if self.channel is not None and STAGE_BY_NAME[name].reports:
            with self._lock:
                self._running[(key, name)] = None

    def end(self, key: str, name: str, ok: bool = True) -> None:
        """Stage ``name`` of ``key`` has finished (``ok``: count the episode on the stage's bar) or failed."""
        with self._lock:
            if self._running.pop((key, name), False) is not False:
                self._show(name)
            if self.channel is not None:
                self.channel.clear(key, name)
            if ok:
                self._count(name)

    def _count(self, name: str) -> None:
        """Count one episode on stage ``name``'s bar (with ``self._lock`` held); its last one stops the bar's
        clock, which tqdm reads through ``_time`` (closing the bar here would redraw it over the first bar's
        line; left running, it would show the whole build's time when the bars close at its end)."""
        bar = self.bars.get(name)
        if bar is None:
            return
        bar.update(1)
        if bar.total is not None and bar.n >= bar.total:
            stopped = bar._time()
            bar._time = lambda: stopped
            bar.refresh()

    def poll(self) -> None:
        """Read the in-flight stages' reports and show the ones that changed."""
        if self.channel is None:
            return
        with self._lock:
            changed = set()
            for (key, name), last in list(self._running.items()):
                now = self.channel.read(key, name)
                if now is not None and now != last:
                    self._running[(key, name)] = now
                    changed.add(name)
            for name in changed:
                self._show(name)

    def _show(self, name: str) -> None:
        """Put the in-flight episodes of stage ``name`` after its bar (with ``self._lock`` held)."""
        bar = self.bars.get(name)
        if bar is None:
            return
        parts = [f"{key} {_amount(p)}" for (key, stage), p in self._running.items() if stage == name and p]
        more = f" +{len(parts) - MAX_SHOWN}" if len(parts) > MAX_SHOWN else ""
        bar.set_postfix_str(", ".join(parts[:MAX_SHOWN]) + more, refresh=True)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_INTERVAL):
            self.poll()

    def close(self) -> None:
        """Stop reading the channel, delete it and close the bars."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join()
        if self.channel is not None:
            self.channel.close()
        for bar in self.bars.values():
            bar.close()


#: seconds between two readings of the in-flight stages' progress (the tasks write at most every 0.5 s)
POLL_INTERVAL = 0.5
#: in-flight episodes shown after a stage's bar (the others as ``+N``)
MAX_SHOWN = 2


def _amount(progress: tuple[float, float, str]) -> str:
    """``340/1440 s``: a stage's report, in whole units."""
    done, total, unit = progress
    return f"{done:.0f}/{total:.0f} {unit}"


def _auto_jobs(options: BuildOptions, contexts: dict[str, EpisodeContext], pending_keys: list[str],
               left: dict[str, set[str]] | None = None) -> int:
    """The workers ``--jobs auto`` gives this build (:mod:`.auto_jobs`): a Ray cluster sizes itself (0), a
    memory:// output or input stays in this process (1), one episode whose stages left cannot overlap (fewer
    than two open branches in ``left``, its stage names left to run; None: all) too, else by the episodes
    left, their audio and this machine."""
    from ..threads import available_cpus
    from . import auto_jobs as aj

    if options.runner != "local":
        return 0
    refs = [contexts[k].ref for k in pending_keys]
    places = [c.remote for c in contexts.values()]
    places += [p for r in refs for p in (r.jp_media, r.en_media, r.subtitles, *r.transcripts.values())]
    if any(str(p or "").startswith("memory://") for p in places):  # an fsspec memory filesystem: this process only
        return 1
    if len(pending_keys) == 1 and left is not None and aj.open_branches(left.get(pending_keys[0], ())) < 2:
        log.info("--jobs auto: 1 worker (in this process): the episode's stages left run one after another")
        return 1
    probed: list[float | None] = []

    def durations() -> Iterator[float | None]:
        for ref in refs:  # probed one by one, only until the pool's threshold is reached
            probed.append(aj.media_seconds(ref.jp_media))
            yield probed[-1]

    seconds = aj.pending_seconds(durations(), aj.POOL_MIN_SECONDS)
    cpus = available_cpus()
    known = [d for d in probed if d is not None]
    if len(probed) < len(refs):  # the probes stopped early: the memory plan also hears of the largest episode left
        largest = aj.largest_file(ref.jp_media for ref in refs[len(probed):])
        if largest is not None and (d := aj.media_seconds(largest)) is not None:
            known.append(d)
    jobs = aj.auto_jobs(seconds, len(pending_keys), cpus, aj.available_memory(), max(known) if known else None)
    log.info("--jobs auto: %d worker(s) for %d episode(s), %s%.0f s of audio, on %d CPU(s)%s", jobs,
             len(pending_keys), "at least " if len(probed) < len(refs) else "", seconds, cpus,
             "" if jobs > 1 else " (in this process)")
    return jobs


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
            configs[key] = stage_configs(ctx, stages, catalog.media_token)
        except OSError as exc:
            results[key].ok, results[key].error = False, f"{exc}"
            continue
        done[key] = {s.name for s in stages if catalog.is_done(key, s.name, configs[key][s.name])}
        _undo_dependents(done[key], stages)
        results[key].skipped_stages = sorted(done[key])
    totals = {s.name: sum(1 for k in done if s in plan[k] and s.name not in done[k]) for s in STAGES}
    progress = StageProgress(options.progress, totals)
    pending_keys = [k for k in done if any(s.name not in done[k] for s in plan[k])]
    pending = len(pending_keys)
    try:
        left = {k: {s.name for s in plan[k] if s.name not in done[k]} for k in pending_keys}
        jobs = options.jobs if options.jobs is not None else _auto_jobs(options, contexts, pending_keys, left)
        runner = make_runner(options.runner, jobs, options.ray_address, options.retries, options=options,
                             episodes=pending)
    except BaseException:  # no cluster, or Ctrl-C/SIGTERM while it starts: no progress folder or thread left
        progress.close()
        raise
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
                    progress.start(key, st.name)
                    running[runner.submit(st.name, progress.context(contexts[key]))] = (key, st.name)

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
                    progress.end(key, name, ok=False)
                    if is_disk_full(exc):  # every later stage would fail too: stop, keep what is done
                        res.ok, res.failed_stage = False, name
                        raise _disk_full(exc, contexts[key], name, catalog) from exc
                    _stage_failed(catalog, contexts[key], res, name, configs[key][name], exc, mirror)
                    continue
                outputs = None if mirror is not None else _outputs_of(contexts[key], name)
                catalog.mark_done(key, name, configs[key][name], artifact, seconds, outputs)
                done[key].add(name)
                if mirror is not None:  # keep the remote catalog current, so another machine can resume
                    push_catalog(mirror, catalog)
                res.stage_seconds[name] = round(seconds, 3)
                res.stage_cpu_seconds[name] = round(cpu_seconds, 3)
                progress.end(key, name)
            submit_ready()
    except (KeyboardInterrupt, DiskFull):
        interrupted = True
        raise
    finally:
        try:
            if interrupted:
                runner.terminate()  # stop the workers now rather than wait for their tasks
            else:
                runner.close()
        finally:  # after the workers: none of them writes a progress file into the removed folder
            progress.close()


def _stage_failed(catalog: Catalog, ctx: EpisodeContext, res: EpisodeResult, name: str, config: str,
                  exc: Exception, mirror: Any) -> None:
    """Record a stage's failure: an :class:`AnimError`'s line, or an internal error with its traceback."""
    if isinstance(exc, AnimError):
        _fail(catalog, res, name, config, exc.message)
        return
    log.debug("stage %s of %s failed", name, ctx.ref.key, exc_info=exc)
    lost = lost_worker(exc)
    if lost is not None:
        _fail(catalog, res, name, config, f"the worker running stage {name} was lost ({lost}); run the same command "
                                          "again to redo it (finished stages are kept)")
        return
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


#: what a lost worker's error says of it, by the error's class name (Ray's and multiprocessing's: none imported)
_LOST_WORKER = {
    "BrokenProcessPool": "a worker process died: killed for memory, or a crash in a library",
    "ActorUnavailableError": "its Ray node or worker is gone",
    "ActorDiedError": "its Ray node or worker is gone",
    "RayActorError": "its Ray node or worker is gone",
    "NodeDiedError": "its Ray node is gone",
    "WorkerCrashedError": "its Ray worker process died",
    "OwnerDiedError": "a Ray worker holding its inputs is gone",
}


def lost_worker(exc: BaseException) -> str | None:
    """Why a stage failed when its worker was lost rather than its work (a Ray node killed, a pool worker killed
    for memory), or None. It read "internal error in stage asr_ja: ray.exceptions.ActorUnavailableError: ...
    Socket closed", a bug's wording, with no word of resuming."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _LOST_WORKER:
            return _LOST_WORKER[cls.__name__]
    return None


def _disk_full(exc: Exception, ctx: EpisodeContext, stage: str, catalog: Catalog) -> DiskFull:
    """One line for a stage that filled the disk: where, and that finished stages are kept."""
    where = disk_full_path(exc) or ctx.work_dir
    kept = sum(1 for rec in catalog.records() if rec.status == "done")
    if isinstance(exc, AnimError):
        reason = exc.message
    else:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    what, advice = disk_full_words(exc)
    return DiskFull(f"{what}: stage {stage} of {ctx.ref.key} could not write {where} ({reason}); {advice} and run "
                    f"the same command again ({kept} finished stage(s) are kept)")


def _fail(catalog: Catalog, res: EpisodeResult, stage: str, config: str, message: str) -> None:
    res.ok, res.error, res.failed_stage = False, message, stage
    catalog.mark_failed(res.key, stage, config, message)
    log.error("episode %s failed in stage %s: %s", res.key, stage, message)
