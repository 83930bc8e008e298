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


def test_diarize_stage_gives_torch_the_task_s_threads(monkeypatch):
    import torch

    from anim400k.dataset.stages import _torch_threads

    before = torch.get_num_threads()
    try:
        for n in (1, 2):
            monkeypatch.setenv(THREADS_ENV, str(n))
            _torch_threads()
            assert torch.get_num_threads() == n
    finally:
        torch.set_num_threads(before)
