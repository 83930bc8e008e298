"""One stage task's body, run by every runner's workers, and its test hooks.

Test hook (fault injection): with ``ANIM400K_FAULT_KILL_STAGE=<stage>[:after]`` and
``ANIM400K_FAULT_DIR=<folder>`` set, the first task of ``<stage>`` (in the whole build)
kills its worker process with ``os._exit(1)`` before running the stage (or, with
``:after``, after the stage has written its artifacts but before the driver hears of it).
A marker file in ``ANIM400K_FAULT_DIR`` makes it happen only once, so a retry succeeds.
Without ``ANIM400K_FAULT_DIR`` the hook is off. Tests use it to check that a worker dying
in the middle of an episode loses and duplicates nothing.

Test hook (separate nodes): with ``ANIM400K_SIMULATE_NODES=<folder>`` every worker process
of the local pool and every Ray worker process uses ``<folder>/node-<pid>`` as its
``ANIM400K_CACHE`` (input cache and staging folders), as if it ran on a machine of its
own. Tests use it to build into a remote output with workers that share no staging folder.
"""

from __future__ import annotations

import os

from ..errors import InputError
from .context import EpisodeContext
from .progress_channel import stage_reporter
from .remote import run_stage_staged
from .stages import run_stage

FAULT_STAGE_ENV = "ANIM400K_FAULT_KILL_STAGE"
FAULT_DIR_ENV = "ANIM400K_FAULT_DIR"
SIMULATE_NODES_ENV = "ANIM400K_SIMULATE_NODES"


def _fault_hook(stage: str, when: str) -> None:
    """Kill this process once if the fault-injection test hook asks for it (see the module docstring)."""
    spec, folder = os.environ.get(FAULT_STAGE_ENV), os.environ.get(FAULT_DIR_ENV)
    if not spec or not folder:
        return
    name, _, at = spec.partition(":")
    if name != stage or (at or "before") != when:
        return
    try:
        fd = os.open(os.path.join(folder, f"{stage}.{when}.killed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os._exit(1)


def _simulate_node() -> None:
    """Give this worker process a cache of its own if the separate-nodes test hook asks for it."""
    folder = os.environ.get(SIMULATE_NODES_ENV)
    if folder:
        os.environ["ANIM400K_CACHE"] = os.path.join(folder, f"node-{os.getpid()}")


def execute_stage(stage: str, ctx: EpisodeContext) -> tuple[str, float, float]:
    """Run one stage in this process (every runner's task body): :func:`run_stage` plus the test hook.

    With a remote output the stage runs in this machine's staging folder, synced with the remote. A long
    stage reports how far it is into the context's progress folder when it has one
    (:func:`anim400k.dataset.progress_channel.stage_reporter`).
    """
    _fault_hook(stage, "before")
    report = stage_reporter(ctx, stage)
    result = run_stage_staged(stage, ctx, report) if ctx.remote else run_stage(stage, ctx, report)
    _fault_hook(stage, "after")
    return result


def execute_stage_on_node(stage: str, ctx: EpisodeContext) -> tuple[str, float, float]:
    """A Ray task's body: :func:`execute_stage`, after checking the output folder is visible here.

    The driver creates the output folder before it submits anything, so a node that does
    not see it is not sharing the driver's filesystem (artifacts written there would be lost).
    A remote output needs no such check: the task stages its episode on this node.
    """
    _simulate_node()
    if ctx.remote is None and not os.path.isdir(ctx.release_dir):
        import socket

        raise InputError(f"the output folder is not visible on Ray node {socket.gethostname()}: on a cluster "
                         "it must be on a filesystem every node mounts at the same path", ctx.release_dir)
    return execute_stage(stage, ctx)
