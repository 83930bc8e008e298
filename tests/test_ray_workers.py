"""The Ray runner's actor pool, against a stand-in for Ray (fast; the real cluster is in test_ray.py).

The stand-in runs an actor's methods at once and hands back finished futures, so the pool's
queue, dispatch, retry and give-up logic is checked without starting Ray.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.ray_workers import ActorPool, _driver_gone, driver_identity
from anim400k.model import EpisodeRef


class ActorDied(Exception):
    """Stands for ray.exceptions.RayActorError."""


class Crashed(Exception):
    """Stands for ray.exceptions.WorkerCrashedError."""


class TaskError(Exception):
    """Stands for ray.exceptions.RayTaskError (the stage's own exception in ``cause``)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"remote traceback: {cause!r}")
        self.cause = cause


def _done(value: Any = None, exc: BaseException | None = None) -> SimpleNamespace:
    fut: cf.Future[Any] = cf.Future()
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)
    return SimpleNamespace(future=lambda: fut)


class FakeActor:
    """An actor handle (hashable, as Ray's are)."""

    ready: SimpleNamespace
    run: SimpleNamespace


class FakeRay:
    """Actors whose ``run`` follows a script: a list of outcomes per call (an exception or a result)."""

    exceptions = SimpleNamespace(RayActorError=ActorDied, WorkerCrashedError=Crashed)

    def __init__(self, script: list[Any], start_fails: bool = False) -> None:
        self.script, self.start_fails = script, start_fails
        self.actors: list[FakeActor] = []
        self.killed: list[FakeActor] = []
        self.calls: list[tuple[int, str]] = []
        self.drivers: list[Any] = []  # the driver identity each actor was started with

    def remote(self, cls: type) -> Any:
        ray = self

        class Handle:
            def options(self, **_kwargs: Any) -> Any:
                return self

            def remote(self, _env: dict[str, str], driver: Any = None) -> FakeActor:
                ray.drivers.append(driver)
                n = len(ray.actors)
                actor = FakeActor()
                failed = ActorDied("could not start\n\ttraceback...\nThe actor never ran")  # multi-line, as Ray's
                ready_exc = failed if ray.start_fails else None
                actor.ready = SimpleNamespace(remote=lambda: _done(n, ready_exc))

                def run(stage: str, ctx: EpisodeContext) -> SimpleNamespace:
                    ray.calls.append((n, stage))
                    outcome = ray.script.pop(0) if ray.script else ("artifact", 1.0)
                    return _done(exc=outcome) if isinstance(outcome, BaseException) else _done(outcome)

                actor.run = SimpleNamespace(options=lambda **_k: SimpleNamespace(remote=run))
                ray.actors.append(actor)
                return actor

        return Handle()

    def kill(self, actor: FakeActor) -> None:
        self.killed.append(actor)


def _ctx() -> EpisodeContext:
    ref = EpisodeRef(show_key="show", episode="1", jp_media="a.mkv", en_media="a.mkv")
    return EpisodeContext(ref=ref, work_dir="/nonexistent/work", release_dir="/nonexistent", options=BuildOptions())


def test_stages_go_to_idle_actors_and_a_dead_actors_stage_is_run_again_elsewhere() -> None:
    ray = FakeRay([ActorDied("node lost")])
    pool = ActorPool(ray, cpu_actors=2, gpu_actors=0, env={}, retries=2)
    fut = pool.submit("cut", _ctx(), gpu=False)
    assert fut.result(timeout=5) == ("artifact", 1.0)
    assert [stage for _actor, stage in ray.calls] == ["cut", "cut"]  # run again after its actor died
    assert ray.calls[0][0] != ray.calls[1][0]  # on another actor
    assert len(ray.actors) == 3  # the dead actor was replaced
    assert pool.retried == ["cut:show/1"]
    later = pool.submit("align", _ctx(), gpu=False)
    assert later.result(timeout=5) == ("artifact", 1.0)
    assert ray.calls[-1][0] != ray.calls[0][0]  # never on the dead actor
    pool.close()
    assert len(ray.killed) == 3


def test_retries_are_bounded_and_bad_input_is_not_retried() -> None:
    ray = FakeRay([Crashed("1"), Crashed("2"), Crashed("3")])
    pool = ActorPool(ray, cpu_actors=1, gpu_actors=0, env={}, retries=2)
    with pytest.raises(Crashed):
        pool.submit("asr_en", _ctx(), gpu=False).result(timeout=5)
    assert len(ray.calls) == 3  # the first run and two retries

    ray.script = [TaskError(ValueError("bad input"))]
    fut = pool.submit("probe", _ctx(), gpu=False)
    with pytest.raises(ValueError, match="bad input"):  # the stage's own exception, not Ray's wrapper
        fut.result(timeout=5)
    assert len(ray.calls) == 4
    pool.close()


def test_io_errors_are_retried_but_a_full_disk_is_not() -> None:
    import errno

    ray = FakeRay([TaskError(ConnectionError("bucket hiccup"))])
    pool = ActorPool(ray, cpu_actors=1, gpu_actors=0, env={}, retries=1)
    assert pool.submit("audio", _ctx(), gpu=False).result(timeout=5) == ("artifact", 1.0)
    ray.script = [TaskError(OSError(errno.ENOSPC, "No space left on device"))]
    with pytest.raises(OSError, match="No space"):
        pool.submit("cut", _ctx(), gpu=False).result(timeout=5)
    assert len(ray.calls) == 3
    pool.close()


def test_actors_that_never_start_make_the_stages_fail_with_one_error() -> None:
    ray = FakeRay([], start_fails=True)
    pool = ActorPool(ray, cpu_actors=2, gpu_actors=0, env={}, retries=1)
    fut = pool.submit("probe", _ctx(), gpu=False)
    with pytest.raises(RuntimeError, match="Ray workers keep dying or failing to start") as info:
        fut.result(timeout=5)
    # the build reports a stage's internal error by the last line of format_exception_only: it must be this one
    last = traceback.format_exception_only(info.type, info.value)[-1]
    assert "keep dying" in last and "last error: could not start" in last
    assert len(ray.actors) <= 2 * (1 + 1) + 1  # bounded: no endless stream of new actors
    with pytest.raises(RuntimeError):
        pool.submit("audio", _ctx(), gpu=False).result(timeout=5)
    pool.close()


def test_gpu_stages_go_to_gpu_actors() -> None:
    ray = FakeRay([])
    pool = ActorPool(ray, cpu_actors=1, gpu_actors=1, env={}, retries=0)
    assert pool.submit("asr_en", _ctx(), gpu=True).result(timeout=5) == ("artifact", 1.0)
    assert pool.submit("cut", _ctx(), gpu=False).result(timeout=5) == ("artifact", 1.0)
    assert [a for a, _ in ray.calls] == [1, 0]  # actor 0 is the CPU actor, actor 1 the GPU one
    pool.close()


# ------------------------------------------------------------ actors end with the driver (no Ray needed)

#: a process that constructs a StageWorker (as Ray does in an actor's process), says so, then works on
ACTOR = ("import sys, time, json\n"
         "from anim400k.dataset.ray_workers import StageWorker\n"
         "driver = json.loads(sys.argv[1]) if len(sys.argv) > 1 else None\n"
         "StageWorker({}, tuple(driver) if driver else None)\n"
         "print('up', flush=True)\n"
         "time.sleep(120)\n")


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        if stat[stat.rindex(")") + 2] in "ZX":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_an_actor_ends_when_its_raylet_is_killed() -> None:
    """A driver killed with SIGKILL takes its local cluster's raylet along; its actor, busy cutting clips, went on
    writing into --out (parented to PID 1) after the driver's lock was gone. Here the actor's parent (the raylet's
    stand-in) is killed: the actor must exit within a few seconds."""
    parent_code = ("import subprocess, sys, time\n"
                   f"p = subprocess.Popen([sys.executable, '-c', {ACTOR!r}], stdout=subprocess.PIPE, text=True)\n"
                   "assert p.stdout.readline().strip() == 'up'\n"
                   "print(p.pid, flush=True)\n"
                   "time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    try:
        actor = int(parent.stdout.readline())  # type: ignore[union-attr]
        parent.kill()
        parent.wait()
        assert _wait_gone(actor), "the actor outlived its raylet"
    finally:
        parent.kill()
        with_pid = locals().get("actor")
        if with_pid and not _wait_gone(with_pid, 0):
            os.kill(with_pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_an_actor_ends_when_the_driver_on_its_machine_is_killed() -> None:
    """On the driver's machine (a cluster joined with --address, whose raylet lives on) the actor also ends once the
    driver it was started for is gone, rather than waiting for Ray to notice."""
    code = "import json, time; from anim400k.dataset.ray_workers import driver_identity; " \
           "print(json.dumps(driver_identity()), flush=True); time.sleep(120)"
    driver = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    actor = None
    try:
        ident = driver.stdout.readline().strip()  # type: ignore[union-attr]
        actor = subprocess.Popen([sys.executable, "-c", ACTOR, ident], stdout=subprocess.PIPE, text=True)
        assert actor.stdout.readline().strip() == "up"  # type: ignore[union-attr]
        time.sleep(1.5)
        assert actor.poll() is None, "the actor ended while its driver lived"
        driver.kill()
        driver.wait()
        actor.wait(timeout=10)
        assert actor.returncode == 1
    finally:
        driver.kill()
        if actor is not None and actor.poll() is None:
            actor.kill()


def test_only_a_driver_known_to_be_gone_ends_an_actor() -> None:
    host, namespace, pid, started = driver_identity()
    assert not _driver_gone((host, namespace, pid, started))  # this process: alive
    assert not _driver_gone(None)
    assert not _driver_gone(("another-host", namespace, pid, "1"))  # another machine: left to Ray
    assert not _driver_gone((host, "pid:[1]" if namespace != "pid:[1]" else "pid:[2]", pid, "1"))  # another container
    if namespace and started:
        assert _driver_gone((host, namespace, pid, str(int(started) + 1)))  # the PID now names another process


@pytest.mark.skipif(not Path("/proc/sys/kernel/random/boot_id").exists(), reason="reads the boot ID from /proc (Linux)")
def test_a_driver_on_another_machine_with_the_same_host_name_is_left_to_ray(monkeypatch) -> None:
    """Two machines of a cluster can share a host name (cloud images all called ``localhost``), and the initial PID
    namespace is ``pid:[4026531836]`` on every Linux machine: an actor on the second machine looked up the driver's
    PID in its own /proc, found it gone (or another process), and killed itself, healthy, within 0.5 s."""
    from anim400k.dataset import ray_workers

    driver = driver_identity()  # as the driver's machine tells its actors
    assert driver[1] and driver[3]
    real = Path.read_text

    def elsewhere(self: Path, *args, **kwargs) -> str:  # the actor's machine: another boot ID
        if str(self) == "/proc/sys/kernel/random/boot_id":
            return "00000000-0000-0000-0000-000000000000\n"
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ray_workers, "_start_time", lambda pid: "1")  # the PID there names another process
    monkeypatch.setattr(Path, "read_text", elsewhere)
    assert not _driver_gone(driver)
    monkeypatch.setattr(Path, "read_text", real)
    assert _driver_gone(driver)  # on the driver's own machine that PID would be a new process: gone


def test_the_pool_tells_every_actor_who_its_driver_is() -> None:
    ray = FakeRay([ActorDied("killed")])
    pool = ActorPool(ray, 2, 0, {}, retries=2)
    pool.submit("probe", _ctx(), gpu=False).result(timeout=5)
    pool.close()
    assert len(ray.drivers) >= 3  # two actors and the dead one's replacement
    assert all(d == driver_identity() for d in ray.drivers)


def test_a_cluster_without_a_live_node_fails_the_stages_instead_of_waiting_forever() -> None:
    """The local cluster's raylet killed mid-build (its node lost): each dead actor's replacement waited for a node
    that never came, and the build hung in its wait for the stage. Now the stages fail with one line saying why."""
    ray = FakeRay([ActorDied("the raylet died")])
    ray.nodes = lambda: [{"Alive": False, "NodeID": "n1"}]  # type: ignore[attr-defined]
    pool = ActorPool(ray, 1, 0, {}, retries=2)
    fut = pool.submit("separate", _ctx(), gpu=False)
    with pytest.raises(RuntimeError, match="no live node"):
        fut.result(timeout=5)
    with pytest.raises(RuntimeError, match="no live node"):  # and every later stage at once
        pool.submit("diarize", _ctx(), gpu=False).result(timeout=5)
    assert len(ray.actors) == 1  # no replacement waiting for a node
    pool.close()


def test_a_dead_actor_is_replaced_while_a_node_lives() -> None:
    ray = FakeRay([ActorDied("killed")])
    ray.nodes = lambda: [{"Alive": False}, {"Alive": True}]  # type: ignore[attr-defined]
    pool = ActorPool(ray, 1, 0, {}, retries=2)
    assert pool.submit("separate", _ctx(), gpu=False).result(timeout=5) == ("artifact", 1.0)
    assert len(ray.actors) == 2
    pool.close()
