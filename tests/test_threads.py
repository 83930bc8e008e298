"""anim400k.threads: how many threads a build task may use."""

from __future__ import annotations

import pytest

from anim400k.threads import THREADS_ENV, available_cpus, task_threads


def test_task_threads_follow_the_environment_then_the_cpus(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert task_threads() == available_cpus() >= 1
    assert task_threads(1) == 1
    monkeypatch.setenv(THREADS_ENV, "3")
    assert task_threads() == 3 and task_threads(2) == 2
    for bad in ("0", "-2", "two", ""):
        monkeypatch.setenv(THREADS_ENV, bad)
        assert task_threads() == available_cpus()


@pytest.mark.parametrize(("cpus", "jobs", "episodes", "threads"),
                         [(2, 2, 1, 2), (2, 2, 2, 1), (2, 2, 8, 1), (16, 4, 2, 8), (16, 4, 8, 4), (2, 4, 8, 1)])
def test_pool_workers_share_the_cpus_among_the_tasks_that_run_at_once(monkeypatch, cpus, jobs, episodes, threads):
    from anim400k.dataset import runners

    monkeypatch.setattr(runners, "available_cpus", lambda: cpus)
    assert runners.threads_per_task(jobs, episodes) == threads


def test_pool_workers_get_their_threads_in_the_environment(monkeypatch):
    import os

    from anim400k.dataset.runners import LocalRunner

    monkeypatch.delenv(THREADS_ENV, raising=False)
    runner = LocalRunner(1, threads=2)
    try:
        assert runner._pool.submit(os.getenv, THREADS_ENV).result(timeout=60) == "2"
    finally:
        runner.close()


def test_diarize_stage_runs_torch_on_one_thread(monkeypatch):
    import torch

    from anim400k.dataset.stages import _torch_threads

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        monkeypatch.setenv(THREADS_ENV, "2")
        _torch_threads()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_every_stage_runs_with_one_blas_thread_and_reports_its_cpu(monkeypatch):
    """run_stage (every runner's task body) limits NumPy's/SciPy's BLAS pools to one thread during the stage,
    also in-process (--jobs 1), and returns the stage's wall and CPU seconds."""
    import dataclasses

    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    from anim400k.dataset import stages

    seen: list[int] = []

    def fake(ctx):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        a = np.random.default_rng(0).standard_normal((300, 300))
        for _ in range(20):
            a = a @ a.T / 300
        return "artifact"

    monkeypatch.setitem(stages.STAGE_BY_NAME, "probe", dataclasses.replace(stages.STAGE_BY_NAME["probe"], fn=fake))
    with threadpool_limits(limits=2, user_api="blas"):
        artifact, wall, cpu = stages.run_stage("probe", None)  # type: ignore[arg-type]
        after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert artifact == "artifact" and wall > 0 and cpu > 0
    assert seen and set(seen) == {1}
    assert after and all(n <= 2 for n in after)  # restored afterwards


def test_thread_map_keeps_the_order_uses_threads_and_raises():
    import threading

    from anim400k.threads import thread_map

    names: set[str] = set()

    def square(x: int) -> int:
        names.add(threading.current_thread().name)
        return x * x

    assert thread_map(square, range(6), 1) == [0, 1, 4, 9, 16, 25]
    assert names == {threading.current_thread().name}  # one worker: the caller's thread
    names.clear()
    assert thread_map(square, iter(range(6)), 3, "sq") == [0, 1, 4, 9, 16, 25]
    assert names and all(n.startswith("sq") for n in names)
    assert thread_map(square, [], 4) == []

    def fail(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    with pytest.raises(ValueError, match="two"):
        thread_map(fail, range(4), 2)
