"""Runners execute stage tasks: in this process, in a local process pool, or on a Ray cluster.

Every runner has the same methods: ``submit(stage, ctx) -> Future``, ``close()`` (wait for
running tasks, then release every worker) and ``terminate()`` (Ctrl-C: stop and reap the
workers at once). Pool workers ignore SIGINT: the driver handles Ctrl-C for them.
Pool workers also die with the driver, even when it is killed with SIGKILL (see :func:`_die_with_driver`).
Workers only compute and write artifacts (large audio stays in the episode's work folder,
never in a runner's message channel); the driver alone writes the catalog. When the output
is a URL, every runner's task stages its episode in its own machine's staging folder and
syncs it with the remote (:func:`anim400k.dataset.remote.run_stage_staged`), so no worker
needs to see the driver's disk.

The task body and its test hooks (fault injection, separate nodes) live in
:mod:`anim400k.dataset.execute`.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ..errors import BackendUnavailable
from ..offline import OFFLINE_ENV
from ..threads import THREADS_ENV, available_cpus
from .context import EpisodeContext
from .execute import (  # noqa: F401  (re-exported: tests and the Ray actors use these names)
    FAULT_DIR_ENV,
    FAULT_STAGE_ENV,
    SIMULATE_NODES_ENV,
    _fault_hook,
    _simulate_node,
    execute_stage,
    execute_stage_on_node,
)
from .options import BuildOptions
from .stages import STAGE_BY_NAME

# Environment the workers get: one BLAS/torch thread per task (a task is given one CPU), no model hub.
# ANIM400K_THREADS: the threads a stage may spread its own work over (Ray actors: their one CPU;
# the local pool replaces it with its share of the machine, see LocalRunner).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", THREADS_ENV: "1", **OFFLINE_ENV}
# Backends that run on a GPU when the build's device is CUDA, by stage.
GPU_BACKENDS = {
    "asr_en": ("asr_en", {"faster-whisper"}),
    "asr_ja": ("asr_ja", {"faster-whisper"}),
    "diarize": ("diarizer", {"pyannote"}),
    "separate": ("separator", {"demucs"}),
}


class Runner(Protocol):
    """Something that runs stage tasks and returns futures of ``(artifact, wall seconds, CPU seconds)``."""

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float, float]]:
        """Start ``stage`` for ``ctx``'s episode."""
        ...

    def close(self) -> None:
        """Release workers (waiting for running tasks)."""
        ...

    def terminate(self) -> None:
        """Stop at once (Ctrl-C): cancel what is queued, stop running tasks, reap the workers."""
        ...


def gpu_stages_for(options: BuildOptions, gpus_available: bool = False) -> frozenset[str]:
    """The stages whose backend runs on a GPU under ``options``.

    A stage asks for a GPU when its backend is a GPU backend (faster-whisper, pyannote,
    demucs) and the device is ``cuda``, or ``auto`` on a cluster that has GPUs.
    """
    if options.asr_device == "cpu" or (options.asr_device == "auto" and not gpus_available):
        return frozenset()
    out = {stage for stage, (field, names) in GPU_BACKENDS.items() if getattr(options, field) in names}
    if options.asr_model and options.asr_en == "auto":
        out.add("asr_en")  # "auto" with a model folder means faster-whisper
    if options.asr_model and options.asr_ja == "auto":
        out.add("asr_ja")
    return frozenset(s for s in out if STAGE_BY_NAME[s].resources == "gpu-capable")


class InlineRunner:
    """Runs each task in the calling process when it is submitted (``--jobs 1``; easiest to debug).

    ``capacity`` 1 makes the driver hand over one task at a time, so progress and the
    catalog are updated after every stage.
    """

    capacity = 1

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float, float]]:
        """Run the stage now and return a finished future."""
        fut: cf.Future[tuple[str, float, float]] = cf.Future()
        try:
            fut.set_result(execute_stage(stage, ctx))
        except BaseException as exc:  # noqa: BLE001 - handed to the driver
            if isinstance(exc, KeyboardInterrupt):
                raise
            fut.set_exception(exc)
        return fut

    def close(self) -> None:
        """Nothing to release."""

    def terminate(self) -> None:
        """Nothing to stop (an interrupted stage stopped with the driver)."""


PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): the signal this process gets when its parent thread dies
#: seconds between a worker's checks that the driver still lives (the fallback where prctl is missing)
WATCHDOG_INTERVAL = 0.5


def _set_pdeathsig(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when the thread that started it ends; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
    except (OSError, AttributeError):  # pragma: no cover - no libc or no prctl
        return False


def _die_with_driver(driver: int, interval: float = WATCHDOG_INTERVAL) -> None:
    """Make this pool worker end when the driver process ``driver`` ends, however it ends (SIGKILL too).

    Without this a worker of a killed driver runs on with parent 1 (blocked on its pipe, or
    still writing files into ``--out`` after the driver's lock is gone). On Linux the kernel
    kills it (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); the signal follows the *thread* that
    started the worker, so :class:`LocalRunner` starts every worker from one thread that lives
    as long as the runner. Everywhere, a watchdog thread exits the worker once its parent is no
    longer ``driver`` (``os.getppid()`` changes when the parent dies). A driver that is already
    gone when this runs ends the worker at once.
    """
    _set_pdeathsig(signal.SIGKILL)
    if os.getppid() != driver:  # the driver died before the death signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != driver:
                os._exit(1)

    threading.Thread(target=watch, name="anim400k-driver-watchdog", daemon=True).start()


def _worker_init(threads: int = 1, driver: int | None = None) -> None:
    """Set up a pool worker: die with the ``driver`` process, ignore Ctrl-C, one thread per library."""
    # Ctrl-C reaches the whole process group: the driver alone handles it (and stops the workers),
    # so a worker neither dies mid-write with a traceback nor hands KeyboardInterrupt back as a result.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if driver is not None:
        _die_with_driver(driver)
    atexit.register(_freeze_heap)
    _thread_lock_for_tqdm()
    for key, value in {**WORKER_ENV, THREADS_ENV: str(max(1, threads))}.items():
        os.environ.setdefault(key, value)
    _simulate_node()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def _freeze_heap() -> None:
    """At a pool worker's exit (``atexit``, after its last result was sent): move every object into the
    garbage collector's permanent generation (``gc.freeze``), so that the collections of the interpreter's
    finalization skip the heap that torch, Whisper (CTranslate2), silero-vad... left.

    A spawned worker ends with a full interpreter finalization (a forked one would end with ``os._exit``),
    and :meth:`LocalRunner.close` waits for it: with those collections over the whole heap, closing the pool
    of ``build --jobs 2`` on two short episodes took 2.4 s, 0.7 s with the heap frozen (docs/scaling.md,
    "Pool workers' exit"). Nothing of the worker is lost: its results are sent before it exits; only the
    cyclic garbage left at exit is not collected, as at an ``os._exit``.
    """
    import gc

    gc.freeze()


def _thread_lock_for_tqdm() -> None:
    """Give tqdm a lock of this process's threads before a stage's library makes a progress bar.

    tqdm's default lock holds a multiprocessing ``RLock``: a named semaphore, registered with the
    resource tracker the driver shares with its workers. A worker that Ctrl-C stops
    (:meth:`LocalRunner.terminate`) never unregisters it, and the tracker warned "There appear to
    be 1 leaked semaphore objects to clean up at shutdown" as the build ended. The spawned workers
    share no tqdm lock anyway (each made its own), so a thread lock guards all that one did.
    """
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - a dependency
        return
    tqdm.set_lock(threading.RLock())


def default_jobs() -> int:
    """Worker count that fills this machine: the CPUs this process may use."""
    return available_cpus()


def threads_per_task(jobs: int, episodes: int) -> int:
    """Threads each pool worker's stage may use (``ANIM400K_THREADS``): the CPUs shared among the tasks
    that can run at once, at most ``jobs`` and about one per episode (stages of one episode overlap
    where the DAG allows, but its longest stage runs alone for a while: one episode on 2 CPUs gets 2)."""
    busy = max(1, min(jobs, episodes))
    return max(1, available_cpus() // busy)


class LocalRunner:
    """A process pool sized to the machine (``--jobs N``; 0 means one worker per CPU).

    Each worker's stages may use ``threads`` threads (``ANIM400K_THREADS``, see :func:`threads_per_task`).

    If a worker process dies (killed, out of memory), the pool is replaced and the tasks
    it was running are submitted again, up to ``retries`` times each.

    Workers die with the driver (:func:`_die_with_driver`). A pool starts its workers in the
    thread that submits to it, and Linux's parent-death signal follows that thread: so every
    submission goes through one thread of the runner (``_spawner``), which lives until
    :meth:`close`, never through a pool's short-lived management thread (a retry is submitted
    from there) whose end would kill the replacement workers.
    """

    def __init__(self, jobs: int | None = None, retries: int = 2, threads: int = 1) -> None:
        self.jobs = jobs if jobs and jobs > 0 else default_jobs()
        self.retries = retries
        self.threads = max(1, threads)
        self._lock = threading.Lock()
        self._generation = 0
        self._closing = False
        self._pools: list[cf.ProcessPoolExecutor] = []  # every pool made, so close() reaps replaced ones too
        self._spawner = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="anim400k-pool-submit")
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        pool = cf.ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx, initializer=_worker_init,
                                      initargs=(self.threads, os.getpid()))
        self._pools.append(pool)
        return pool

    def _replace_pool(self, generation: int) -> None:
        """Swap in a fresh pool if the pool of ``generation`` is still the current one (it broke), unless the
        runner is stopping (:meth:`close`, :meth:`terminate` reap only the pools made before)."""
        if generation == self._generation and not self._closing:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            self._generation += 1

    def _pool_submit(self, stage: str, ctx: EpisodeContext) -> tuple[cf.Future[tuple[str, float, float]], int]:
        """Submit to the current pool (replacing a broken one); runs in the ``_spawner`` thread."""
        with self._lock:
            try:
                inner = self._pool.submit(execute_stage, stage, ctx)
            except BrokenProcessPool:
                self._replace_pool(self._generation)
                inner = self._pool.submit(execute_stage, stage, ctx)
            return inner, self._generation

    def _submit(self, stage: str, ctx: EpisodeContext, out: cf.Future[tuple[str, float, float]], attempt: int) -> None:
        inner, generation = self._spawner.submit(self._pool_submit, stage, ctx).result()

        def done(f: cf.Future[tuple[str, float, float]]) -> None:
            if f.cancelled():
                out.cancel()
                return
            exc = f.exception()
            if isinstance(exc, BrokenProcessPool) and self._closing:
                out.cancel()  # the pool was stopped on purpose (terminate): nothing to retry
                return
            if isinstance(exc, BrokenProcessPool) and attempt < self.retries:
                self._retry(stage, ctx, out, attempt + 1, generation)
            elif exc is not None:
                out.set_exception(exc)
            else:
                out.set_result(f.result())

        inner.add_done_callback(done)

    def _retry(self, stage: str, ctx: EpisodeContext, out: cf.Future[tuple[str, float, float]], attempt: int,
               generation: int) -> None:
        """Submit a task whose worker died again, on a fresh pool; cancel it instead once the runner is stopping.

        A SIGTERM sent to the whole process group (a scheduler stopping the job) kills the workers
        while the driver is stopping them: the pool or the submitting thread may be shut down already.
        """
        try:
            with self._lock:
                self._replace_pool(generation)
            self._submit(stage, ctx, out, attempt)
        except (RuntimeError, cf.CancelledError):  # BrokenProcessPool, "cannot schedule new futures after shutdown"
            if not self._closing:
                raise
            out.cancel()

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float, float]]:
        """Queue the stage on the pool."""
        out: cf.Future[tuple[str, float, float]] = cf.Future()
        self._submit(stage, ctx, out, 0)
        return out

    def close(self) -> None:
        """Shut every pool down (cancelling queued tasks) and wait for each worker process to exit."""
        self._stop(terminate=False)

    def terminate(self) -> None:
        """Stop now (Ctrl-C): cancel queued tasks, terminate the workers, and reap them."""
        self._stop(terminate=True)

    def _stop(self, terminate: bool) -> None:
        """Shut every pool down (queued tasks cancelled) and reap its workers, terminated first when ``terminate``;
        then the submitting thread (its queued submissions cancelled too when ``terminate``) and
        multiprocessing's resource tracker."""
        with self._lock:
            self._closing = True
            pools = list(self._pools)
        for pool in pools:
            procs = list((getattr(pool, "_processes", None) or {}).values())
            if terminate:
                for p in procs:
                    if p.is_alive():
                        p.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            _reap(procs)
        self._spawner.shutdown(wait=True, cancel_futures=terminate)
        _stop_resource_tracker()


def _reap(procs: list[Any], timeout: float = 10.0) -> None:
    """Join worker processes; kill one that does not exit within ``timeout`` seconds."""
    for p in procs:
        p.join(timeout)
        if p.is_alive():
            p.kill()
            p.join()


def _stop_resource_tracker() -> None:
    """Stop (and reap) multiprocessing's resource tracker, which the spawned pool started.

    Left alone it outlives the build for a moment in the caller's process group; it is
    started again by multiprocessing if anything needs it later.
    """
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker, "_resource_tracker", None)
    stop = getattr(tracker, "_stop", None)
    if callable(stop):
        try:
            stop()
        except (OSError, ChildProcessError):  # pragma: no cover - already gone
            pass


class RayRunner:
    """Runs stages on long-lived Ray actors (``--runner ray [--address ADDR]``), one per CPU of the cluster.

    Each actor (:class:`anim400k.dataset.ray_workers.StageWorker`) is a worker process that
    lives for the whole build and holds one CPU; the stages in ``gpu_stages`` (GPU backends
    on CUDA) go to GPU actors, one per GPU of the cluster (each also holds a CPU). Models are
    loaded once per actor, not once per task. Tasks carry only the episode context (paths
    and options): large audio moves through the work folder, never through Ray's object
    store. The work folder must be visible to every node (a shared filesystem), unless the
    output is a URL: then each task stages its episode on its own node and syncs it with the
    remote. A stage whose actor dies (process killed, node lost), or that fails with an I/O
    error, is run again on another actor, up to ``retries`` times; the dead actor is replaced.
    Without ``address`` a local cluster of ``num_cpus`` CPUs is started (and stopped by
    :meth:`close`); an existing ``ray.init`` in this process is reused.
    """

    def __init__(self, address: str | None = None, retries: int = 2, gpu_stages: frozenset[str] = frozenset(),
                 num_cpus: int | None = None) -> None:
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # never let Ray build environments
        try:
            import ray
        except ImportError as exc:
            raise BackendUnavailable("ray", "ray", "the Ray runner needs anim400k[ray]") from exc
        from .preflight import ray_address

        self._ray = ray
        self._started = False
        address = ray_address(address)  # --address, else $RAY_ADDRESS (ray.init reads it anyway)
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False,
                                      "configure_logging": False}
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = num_cpus or default_jobs()
                # Ray's socket paths must stay short (AF_UNIX limit): keep its session folder under /tmp.
                kwargs["_temp_dir"] = os.environ.get("ANIM400K_RAY_TMP", os.path.join(tempfile.gettempdir(), "ray"))
            try:
                _init_keeping_sigterm(ray, kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                if not address:
                    raise
                from ..errors import InputError, one_line

                raise InputError(
                    f"Ray could not join the cluster at {address}: {one_line(exc)} (a cluster started with token "
                    "authentication, the default of recent Ray's `ray start`, needs RAY_AUTH_MODE=token and its token "
                    "in the driver's environment: see Ray's documentation on authentication)"
                ) from exc
            self._started = True
        self.retries = retries
        self.gpu_stages = gpu_stages
        env = dict(WORKER_ENV)
        env.update({k: v for k, v in os.environ.items() if k.startswith("ANIM400K_")})
        self._env = env
        self._pool: Any = None
        self.worker_stats: list[dict[str, Any]] = []  # each actor's pid, tasks and model loads (filled by close)
        self.retried: list[str] = []  # "stage:episode" run again because its actor died (filled by close)

    @property
    def cluster_has_gpus(self) -> bool:
        """Whether the cluster offers any GPU."""
        return bool(self._ray.cluster_resources().get("GPU", 0))

    def _actors(self) -> Any:
        """The actor pool, started on the first task (when ``gpu_stages`` is final)."""
        if self._pool is None:
            from .ray_workers import ActorPool

            res = self._ray.cluster_resources()
            gpus = int(res.get("GPU", 0)) if self.gpu_stages else 0
            cpus = max(1, int(res.get("CPU", 1)) - gpus)
            self._pool = ActorPool(self._ray, cpus, gpus, self._env, self.retries)
        return self._pool

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float, float]]:
        """Queue the stage for the next idle actor; returns a concurrent.futures Future."""
        return self._actors().submit(stage, ctx, gpu=stage in self.gpu_stages)

    def close(self) -> None:
        """Stop the actors (after noting their statistics) and the local cluster this runner started.

        A cluster it joined keeps running.
        """
        if self._pool is not None:
            self.worker_stats = self._pool.stats()
            self.retried = list(self._pool.retried)
            self._pool.close()
            self._pool = None
        if self._started:
            _shutdown_keeping_sigterm(self._ray)
            self._started = False

    def terminate(self) -> None:
        """Stop now (Ctrl-C): cancel queued stages, kill the actors, stop a cluster this runner started."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._started:
            _shutdown_keeping_sigterm(self._ray)
            self._started = False


def _init_keeping_sigterm(ray: Any, kwargs: dict[str, Any]) -> None:
    """``ray.init(**kwargs)`` with SIGTERM still handled by the handler of before (the build's: stop as Ctrl-C does,
    :func:`anim400k.interrupts.sigterm_interrupts`).

    ``ray.init`` installs SIGTERM handlers of its own (``sys.exit(15)``, and its node's), for the rest of the
    process. Before, they were only replaced once ``init`` returned, so a SIGTERM while the local cluster was
    starting (the first 5-15 s of a ``--runner ray`` build) exited with status 15 and no message, and left the
    Ray processes started so far (its agents) running for up to a minute. Now, for the duration of
    ``init``, Ray installs no handler and a SIGTERM (or Ctrl-C's SIGINT, which left the agents running too) is
    held; ``init`` runs to its end, then the cluster is shut down again (every process it started) and the signal
    is raised once more for the earlier handler (exit 143 or 130 with the one-line message, in a build). Outside
    the main thread (where signals are not
    handled) this is plain ``ray.init``.
    """
    if threading.current_thread() is not threading.main_thread():
        ray.init(**kwargs)
        return
    held: list[int] = []
    signals = (signal.SIGTERM, signal.SIGINT)  # Ctrl-C while the cluster started left its agents running too
    previous = {sig: signal.getsignal(sig) for sig in signals}
    utils = getattr(getattr(ray, "_private", None), "utils", None)
    ray_sets = getattr(utils, "set_sigterm_handler", None)
    for sig in signals:
        signal.signal(sig, lambda signum, _frame: held.append(signum))
    if callable(ray_sets):
        utils.set_sigterm_handler = lambda _handler: None  # type: ignore[union-attr]
    try:
        ray.init(**kwargs)
    except SystemExit as exc:  # a Ray whose handler could not be kept out: its sys.exit(15)
        if exc.code != signal.SIGTERM:
            raise
        held.append(signal.SIGTERM)
    finally:
        if callable(ray_sets):
            utils.set_sigterm_handler = ray_sets  # type: ignore[union-attr]
        for sig in signals:
            signal.signal(sig, previous[sig] if previous[sig] is not None else signal.SIG_DFL)
    raised = [sig for sig in dict.fromkeys(held) if previous[sig] is not signal.SIG_IGN]
    if raised:
        with contextlib.suppress(Exception):
            _shutdown_keeping_sigterm(ray)
        for sig in raised:
            signal.raise_signal(sig)


def _shutdown_keeping_sigterm(ray: Any) -> None:
    """``ray.shutdown()``, then this process's SIGTERM handler installed again.

    Ray's shutdown resets SIGTERM to the default action in the kernel (its core worker's doing) while Python
    still reports the build's handler: a SIGTERM after it (a build writing its release once the Ray stages
    were done) killed the process at once, without the cleanup, the message and exit 143.
    """
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGTERM) if main else None
    ray.shutdown()
    if handler is not None:
        signal.signal(signal.SIGTERM, handler)


def make_runner(kind: str, jobs: int, address: str | None = None, retries: int = 2,
                gpu_stages: frozenset[str] | None = None, options: BuildOptions | None = None,
                episodes: int = 1) -> Runner:
    """Build the runner named ``kind`` (``local`` or ``ray``); ``jobs`` 0 means one per CPU.

    ``episodes`` (those with stages to run) sizes the local pool workers' threads (:func:`threads_per_task`).

    The Ray runner's GPU stages are ``gpu_stages`` if given, else derived from ``options``
    (:func:`gpu_stages_for`; device ``auto`` counts as CUDA when the cluster has GPUs).
    """
    if kind == "local":
        if jobs == 1:
            return InlineRunner()
        n = jobs if jobs > 0 else default_jobs()
        return LocalRunner(n, retries, threads_per_task(n, episodes))
    if kind == "ray":
        runner = RayRunner(address, retries, gpu_stages or frozenset(), num_cpus=jobs if jobs > 1 else None)
        if gpu_stages is None and options is not None:
            runner.gpu_stages = gpu_stages_for(options, runner.cluster_has_gpus)
        return runner
    raise ValueError(f"unknown runner {kind!r} (use 'local' or 'ray')")
