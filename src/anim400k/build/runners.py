"""Runners execute stage tasks: in this process, in a local process pool, or on a Ray cluster.

Every runner has the same two methods: ``submit(stage, ctx) -> Future`` and ``close()``.
Workers only compute and write artifacts; the driver alone writes the catalog.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from typing import Protocol

from ..errors import BackendUnavailable
from .context import EpisodeContext
from .stages import STAGE_BY_NAME, run_stage


class Runner(Protocol):
    """Something that runs stage tasks and returns futures of ``(artifact, seconds)``."""

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float]]:
        """Start ``stage`` for ``ctx``'s episode."""
        ...

    def close(self) -> None:
        """Release workers."""
        ...


class InlineRunner:
    """Runs each task in the calling process when it is submitted (``--jobs 1``; easiest to debug)."""

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float]]:
        """Run the stage now and return a finished future."""
        fut: cf.Future[tuple[str, float]] = cf.Future()
        try:
            fut.set_result(run_stage(stage, ctx))
        except BaseException as exc:  # noqa: BLE001 - handed to the driver
            if isinstance(exc, KeyboardInterrupt):
                raise
            fut.set_exception(exc)
        return fut

    def close(self) -> None:
        """Nothing to release."""


def _worker_init() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


class LocalRunner:
    """A process pool sized to the machine (``--jobs N``)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs or os.cpu_count() or 1
        ctx = multiprocessing.get_context("spawn")
        self._pool = cf.ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx, initializer=_worker_init)

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float]]:
        """Queue the stage on the pool."""
        return self._pool.submit(run_stage, stage, ctx)

    def close(self) -> None:
        """Shut the pool down (cancelling queued tasks)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayRunner:
    """Runs stages as Ray tasks (``--runner ray [--address ADDR]``), with per-stage resource requests.

    Stages marked ``gpu-capable`` ask for a GPU when their backend runs on CUDA
    (``gpu_stages``); large audio moves through the artifact store (the work folder),
    never through Ray's object store. Failed tasks are retried ``retries`` times.
    """

    def __init__(self, address: str | None = None, retries: int = 2, gpu_stages: frozenset[str] = frozenset(),
                 num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise BackendUnavailable("ray", "ray") from exc
        self._ray = ray
        if not ray.is_initialized():
            kwargs: dict[str, object] = {"ignore_reinit_error": True, "log_to_driver": False,
                                         "include_dashboard": False}
            if address:
                kwargs["address"] = address
            elif num_cpus:
                kwargs["num_cpus"] = num_cpus
            ray.init(**kwargs)
        self._remote = ray.remote(run_stage)
        self.retries = retries
        self.gpu_stages = gpu_stages

    def submit(self, stage: str, ctx: EpisodeContext) -> cf.Future[tuple[str, float]]:
        """Submit the stage as a Ray task; returns a concurrent.futures Future."""
        gpu = 1 if stage in self.gpu_stages and STAGE_BY_NAME[stage].resources == "gpu-capable" else 0
        ref = self._remote.options(num_cpus=1, num_gpus=gpu, max_retries=self.retries,
                                   retry_exceptions=[OSError, ConnectionError]).remote(stage, ctx)
        return ref.future()

    def close(self) -> None:
        """Leave the cluster running (it may be shared); nothing to do."""


def make_runner(kind: str, jobs: int, address: str | None = None, retries: int = 2,
                gpu_stages: frozenset[str] = frozenset()) -> Runner:
    """Build the runner named ``kind`` (``local`` or ``ray``)."""
    if kind == "local":
        return InlineRunner() if jobs <= 1 else LocalRunner(jobs)
    if kind == "ray":
        return RayRunner(address, retries, gpu_stages, num_cpus=jobs if jobs > 1 else None)
    raise ValueError(f"unknown runner {kind!r} (use 'local' or 'ray')")
