"""How many threads one build task may use (the build's thread plan, issue 16).

A stage that can spread its work over threads (the English ASR's windows, the cutter's
encoders) asks :func:`task_threads`. The build's local pool sets ``ANIM400K_THREADS`` in its
workers to the machine's CPUs divided among the tasks that run at once (``--jobs 2`` on two
episodes and 2 CPUs: 1 each, so two episodes never oversubscribe the cores; one episode:
2, so its longest stage uses the core the finished stages left idle). Ray actors hold one CPU
each (1). Without the variable (``--jobs 1``, the library, the CLI's single commands) a task
may use every CPU this process may run on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

THREADS_ENV = "ANIM400K_THREADS"


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def task_threads(cap: int | None = None) -> int:
    """Threads this task may use: ``$ANIM400K_THREADS`` if set (a positive integer), else :func:`available_cpus`;
    at most ``cap`` when given."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    n = int(raw) if raw.isdigit() and int(raw) > 0 else available_cpus()
    return max(1, min(n, cap) if cap else n)


def thread_map(fn: Callable[[T], R], items: Iterable[T], workers: int, name: str = "task") -> list[R]:
    """``[fn(item) for item in items]``, on ``workers`` threads when that is more than one and there is more
    than one item (for work that releases the GIL: native decoders, encoders, LAPACK, FFTs); results in
    the items' order, the first exception raised."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix=name) as pool:
        return list(pool.map(fn, items))
