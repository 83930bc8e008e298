"""Long-lived Ray workers for the build: one actor per CPU (and per GPU), each loading its models once.

A Ray *task* may land in a fresh worker process that imports the toolkit and loads its
models (VAD, ASR, speaker embeddings) again; an *actor* is one process that lives for the
whole build, so each model is loaded at most once per actor (the backends cache their
models per process) and every later stage on that actor finds it loaded.

:class:`ActorPool` keeps a queue of stage tasks in the driver and hands each to an idle
actor of the right kind (``cpu``, or ``gpu`` for the stages that run on a GPU), so a long
stage never holds up short ones queued behind it. Actors join the pool when they are up
(the first stages start while the others are still starting). An actor that dies (its
process killed, its node lost) is dropped, its stage in flight is queued again (up to
``retries`` times) and a replacement actor is started; the replacement joins once Ray has
found room for it, on any node. Stages that fail with an I/O error (shared storage
hiccups) are retried the same way; bad input and bugs are not.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .context import EpisodeContext


def model_loads() -> dict[str, int]:
    """How many times this process loaded each model the build's stages use (cached per process).

    Counts only backends already imported here (nothing is imported to ask).
    """
    loads: dict[str, int] = {}
    mod = sys.modules.get("anim400k.signal")
    if mod is not None:  # one cache for every silero-vad user: TorchScript (the default engine) and ONNX
        for onnx, kind in ((False, "torchscript"), (True, "onnx")):
            loads[f"silero-vad ({kind})"] = int(onnx in mod._VAD_MODELS)
    mod = sys.modules.get("anim400k.asr.faster_whisper_backend")
    if mod is not None:
        loads["whisper"] = len(mod._MODELS)
    mod = sys.modules.get("anim400k.diarize.embedding")
    if mod is not None:
        loads["resemblyzer"] = mod.load_encoder.cache_info().misses
    mod = sys.modules.get("anim400k.diarize.anime_embedding")
    if mod is not None:
        loads["anime-speaker-embedding"] = mod._load.cache_info().misses
    return loads


#: seconds between an actor's checks that its raylet and the build's driver still live
WATCHDOG_INTERVAL = 0.5


def driver_identity() -> tuple[str, str, int, str]:
    """Who the build's driver is, for its actors' watchdog: machine (:func:`_machine`), PID namespace, PID and start
    time.

    The namespace and start time are "" where ``/proc`` does not say (the watchdog then only follows the raylet).
    """
    pid = os.getpid()
    return _machine(), _pid_namespace(), pid, _start_time(pid) or ""


def _machine() -> str:
    """This machine: its host name and, where ``/proc`` says, its boot ID (``HOST/BOOT_ID``). Two machines of a
    cluster can share a host name (images all called ``localhost``), and the initial PID namespace has the same
    inode, ``pid:[4026531836]``, on every Linux machine; the boot ID tells them apart (containers of one machine
    share it, and differ by their PID namespace)."""
    import socket

    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}" if boot else socket.gethostname()


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot; tells a reused PID apart): "" once it is gone,
    None where ``/proc`` cannot say (no ``/proc``, or not allowed to look)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return "" if Path("/proc/self/stat").exists() else None
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def _driver_gone(driver: tuple[str, str, int, str] | None) -> bool:
    """True when ``driver`` (:func:`driver_identity`) ran on this machine, in this PID namespace, and has ended."""
    if driver is None:
        return False
    host, namespace, pid, started = driver
    if not namespace or not started or host != _machine() or namespace != _pid_namespace():
        return False  # another machine or container: Ray ends the actors of a driver it lost
    now = _start_time(pid)
    return now is not None and now != started


def exit_with_driver(driver: tuple[str, str, int, str] | None, interval: float = WATCHDOG_INTERVAL) -> None:
    """Make this actor's process end once its raylet or the build's ``driver`` has ended, whatever killed them.

    A driver killed with SIGKILL (or the OOM killer) takes its local cluster's raylet along (Ray ties the
    processes it starts to the driver), but an actor busy in a stage (the cut encoding clips) ran on, parented to
    PID 1, and went on writing clip files into ``--out`` after the driver's lock on it was gone (measured: files
    changed 1.5 to 4.5 s after; ``benchmarks/check_kill_resume.py``), where a re-run, or a second build, could
    already be writing the same files. A watchdog thread now exits the process (``os._exit``) within
    ``interval`` seconds once its parent (the raylet that started it) changed, or once the driver, on the same
    machine, has ended.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent or _driver_gone(driver):
                os._exit(1)

    threading.Thread(target=watch, name="anim400k-driver-watchdog", daemon=True).start()


class StageWorker:
    """The actor: runs stage after stage in one process (``ray.remote`` is applied by :class:`ActorPool`).

    It ends with its raylet and with the build's driver (:func:`exit_with_driver`), so a killed driver's actor
    writes nothing into the output folder after it.
    """

    def __init__(self, env: dict[str, str], driver: tuple[str, str, int, str] | None = None) -> None:
        exit_with_driver(driver)
        os.environ.update(env)
        from .execute import _simulate_node

        _simulate_node()
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:  # pragma: no cover
            pass
        self.tasks: list[str] = []

    def ready(self) -> int:
        """This actor's process id, once it is up."""
        return os.getpid()

    def run(self, stage: str, ctx: EpisodeContext) -> tuple[str, float, float]:
        """Run one stage (:func:`anim400k.dataset.execute.execute_stage_on_node`)."""
        from .execute import execute_stage_on_node

        self.tasks.append(f"{stage}:{ctx.ref.key}")
        return execute_stage_on_node(stage, ctx)

    def stats(self) -> dict[str, Any]:
        """Process id, node, the stages run here and the model loads of this process."""
        import socket

        return {"pid": os.getpid(), "host": socket.gethostname(), "tasks": list(self.tasks),
                "model_loads": model_loads()}


@dataclass
class _Job:
    stage: str
    ctx: EpisodeContext
    out: cf.Future[tuple[str, float, float]]
    kind: str
    attempt: int = 0


@dataclass
class _Kind:
    """The actors of one kind (cpu or gpu) and their options."""

    size: int
    options: dict[str, Any]
    idle: list[Any] = field(default_factory=list)
    busy: set[Any] = field(default_factory=set)
    starting: int = 0
    queue: collections.deque[_Job] = field(default_factory=collections.deque)


class ActorPool:
    """``cpu_actors`` CPU actors and ``gpu_actors`` GPU actors that take stage tasks from a driver-side queue."""

    def __init__(self, ray: Any, cpu_actors: int, gpu_actors: int, env: dict[str, str], retries: int) -> None:
        self._ray = ray
        self.retries = retries
        self._lock = threading.RLock()
        self._closed = False
        self._cls = ray.remote(StageWorker)
        self._env = env
        self._driver = driver_identity()  # its actors end with this process (StageWorker)
        self._all: list[Any] = []
        self.dead: list[Any] = []  # actors that died during the build
        self.retried: list[str] = []  # "stage:episode" of every stage queued again (its actor died, or I/O error)
        self._broken: BaseException | None = None  # set when actors keep failing to start: stop trying
        self.kinds = {
            "cpu": _Kind(max(1, cpu_actors), {"num_cpus": 1, "num_gpus": 0,
                                              "runtime_env": {"env_vars": {**env, "CUDA_VISIBLE_DEVICES": ""}}}),
            "gpu": _Kind(gpu_actors, {"num_cpus": 1, "num_gpus": 1, "runtime_env": {"env_vars": env}}),
        }
        for name, kind in self.kinds.items():
            for _ in range(kind.size):
                self._start_actor(name)

    # ----------------------------------------------------------------- actors
    def _start_actor(self, kind_name: str) -> None:
        kind = self.kinds[kind_name]
        # every actor may be replaced ``retries + 1`` times (a lost node takes all of its actors)
        if len(self.dead) > (self.retries + 1) * sum(k.size for k in self.kinds.values()):
            self._fail_all(RuntimeError(f"Ray workers keep dying or failing to start ({len(self.dead)} so far): "
                                        "see the Ray logs of the cluster"))
            return
        if self.dead and self._live_nodes() == 0:  # a replacement would wait for a node forever: the build hung
            self._fail_all(RuntimeError("the Ray cluster has no live node left (its raylet died, or every node was "
                                        "lost): see the Ray logs of the cluster, then run the same command again"))
            return
        actor = self._cls.options(max_restarts=0, **kind.options).remote(self._env, self._driver)
        self._all.append(actor)
        kind.starting += 1
        actor.ready.remote().future().add_done_callback(lambda f: self._on_ready(kind_name, actor, f))

    def _live_nodes(self) -> int | None:
        """The cluster's live nodes (None if Ray cannot say)."""
        nodes = getattr(self._ray, "nodes", None)
        if not callable(nodes):
            return None
        try:
            return sum(1 for node in nodes() if node.get("Alive"))
        except Exception:  # noqa: BLE001 - the GCS itself unreachable: let Ray's own errors speak
            return None

    def _on_ready(self, kind_name: str, actor: Any, fut: cf.Future[int]) -> None:
        kind = self.kinds[kind_name]
        with self._lock:
            kind.starting -= 1
            if fut.exception() is not None:  # could not start (node gone); try again unless closing
                self.dead.append(actor)
                self._last_error = fut.exception()
                if not self._closed:
                    self._start_actor(kind_name)
                return
            kind.idle.append(actor)
        self._dispatch(kind_name)

    # ----------------------------------------------------------------- tasks
    def submit(self, stage: str, ctx: EpisodeContext, gpu: bool) -> cf.Future[tuple[str, float, float]]:
        """Queue ``stage`` for ``ctx`` on an actor of the right kind; returns its future."""
        kind_name = "gpu" if gpu and self.kinds["gpu"].size else "cpu"
        job = _Job(stage, ctx, cf.Future(), kind_name)
        with self._lock:
            if self._broken is not None:
                job.out.set_exception(self._broken)
                return job.out
            self.kinds[kind_name].queue.append(job)
        self._dispatch(kind_name)
        return job.out

    def _dispatch(self, kind_name: str) -> None:
        kind = self.kinds[kind_name]
        while True:
            with self._lock:
                if self._closed or not kind.idle or not kind.queue:
                    return
                actor, job = kind.idle.pop(0), kind.queue.popleft()
                kind.busy.add(actor)
            ref = actor.run.options(name=f"{job.stage}:{job.ctx.ref.key}").remote(job.stage, job.ctx)
            ref.future().add_done_callback(lambda f, a=actor, j=job: self._on_done(a, j, f))

    def _on_done(self, actor: Any, job: _Job, fut: cf.Future[tuple[str, float, float]]) -> None:
        ray = self._ray
        kind = self.kinds[job.kind]
        exc = fut.exception()
        actor_died = isinstance(exc, ray.exceptions.RayActorError)
        with self._lock:
            kind.busy.discard(actor)
            if actor_died:
                self.dead.append(actor)
                if not self._closed:
                    self._start_actor(job.kind)  # a replacement, wherever Ray finds room
            elif not self._closed:
                kind.idle.append(actor)
        cause = getattr(exc, "cause", None) if exc is not None else None
        retry = actor_died or isinstance(exc, ray.exceptions.WorkerCrashedError) or isinstance(
            cause, (OSError, ConnectionError)) and not _disk_full(cause)
        if exc is not None and retry and job.attempt < self.retries and not self._closed and self._broken is None:
            job.attempt += 1
            self.retried.append(f"{job.stage}:{job.ctx.ref.key}")
            with self._lock:
                kind.queue.appendleft(job)
        elif exc is not None:
            if retry and self._broken is not None:  # not retried because the pool gave up: say why
                exc = self._broken
            elif isinstance(cause, BaseException):
                cause.add_note(str(exc))  # the remote traceback, for error.log
                exc = cause
            job.out.set_exception(exc)
        else:
            job.out.set_result(fut.result())
        self._dispatch(job.kind)

    def _fail_all(self, exc: BaseException) -> None:
        """Give up: fail every queued stage and every later one with ``exc`` (called with the lock held)."""
        last = getattr(self, "_last_error", None)
        if last is not None:  # in the message's one line: the build reports a failed stage by its last line
            first = next((ln.strip() for ln in str(last).splitlines() if ln.strip()), type(last).__name__)
            exc = type(exc)(f"{exc} (last error: {first[:200]})")
        self._broken = exc
        for kind in self.kinds.values():
            while kind.queue:
                kind.queue.popleft().out.set_exception(exc)

    # ----------------------------------------------------------------- end
    def stats(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """:meth:`StageWorker.stats` of every live actor."""
        with self._lock:
            live = [a for k in self.kinds.values() for a in (*k.idle, *k.busy)]
        try:
            return list(self._ray.get([a.stats.remote() for a in live], timeout=timeout))
        except Exception:  # noqa: BLE001 - statistics only
            return []

    def close(self) -> None:
        """Cancel queued tasks and stop every actor."""
        with self._lock:
            self._closed = True
            queued = [j for k in self.kinds.values() for j in k.queue]
            for k in self.kinds.values():
                k.queue.clear()
            actors = list(self._all)
        for job in queued:
            job.out.cancel()
        for actor in actors:
            try:
                self._ray.kill(actor)
            except Exception:  # noqa: BLE001 - already gone
                pass


def _disk_full(exc: BaseException) -> bool:
    import errno

    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC
