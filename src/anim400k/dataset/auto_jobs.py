"""How many workers the build runs when ``--jobs`` is ``auto`` (the default; issue 16).

The build's stages can run in the calling process one after another (``--jobs 1``: each stage spreads its
own work over the CPUs) or in a pool of worker processes (``--jobs N``: stages of one episode overlap where
the DAG allows, several episodes run side by side). Which is faster depends on how much there is to do
(measured in docs/scaling.md, "--jobs auto"):

- **little audio** (less than :data:`POOL_MIN_SECONDS` of episodes with stages left): one process. Every
  pool worker imports torch and loads its models itself, a fixed cost that a short build does not earn back.
- **one episode**: :data:`ONE_EPISODE_JOBS` workers (the Japanese ASR, the English ASR and the chain
  sync -> separation -> diarization are the DAG's three independent branches; on 2 CPUs three workers share
  the cores and finish together instead of one branch waiting for a worker).
- **several episodes**: one worker per CPU, as ``--jobs 0`` (but no more than three per episode).

Never more workers than the memory this machine has available can hold at :data:`WORKER_MEMORY_BYTES`
each, and never fewer than one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: Seconds of audio (episodes with stages left, summed) from which ``auto`` starts a pool.
POOL_MIN_SECONDS = 600.0
#: Workers ``auto`` gives a single episode: one per independent branch of its stages.
ONE_EPISODE_JOBS = 3
#: Memory ``auto`` plans per worker (bytes): a worker's resident set peaks at ~1.6-2.5 GB (the JP Whisper base
#: and the cut of a 24-minute episode, docs/scaling.md), so 2 GiB keeps a pool within the available memory.
WORKER_MEMORY_BYTES = 2 * 2**30


def available_memory() -> int | None:
    """Bytes of memory available to new processes (``MemAvailable`` of ``/proc/meminfo``; else the free
    physical pages), or None where neither is known."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def media_seconds(path: str) -> float | None:
    """Duration of a local media file in seconds (its container's), or None for a URL or a file that cannot
    be probed (the stages report such a file; here it only counts as long)."""
    from ..media.probe import probe
    from ..storage import is_url

    if is_url(path):
        return None
    try:
        return probe(path).duration
    except Exception:  # noqa: BLE001 - a bad file is the stages' to report; auto only sizes the pool
        return None


def pending_seconds(durations: Iterable[float | None]) -> float:
    """Seconds of audio the build has left: the episodes' durations summed, an unknown one counted as
    :data:`POOL_MIN_SECONDS` (a remote or unprobed episode is taken to be a real, long one)."""
    return sum(POOL_MIN_SECONDS if d is None else max(0.0, d) for d in durations)


def auto_jobs(seconds: float, episodes: int, cpus: int, memory: int | None) -> int:
    """Workers for ``--jobs auto``: 1 (the build's own process) for fewer than :data:`POOL_MIN_SECONDS` of
    audio, one CPU or no episode; else :data:`ONE_EPISODE_JOBS` for one episode and one per CPU for several
    (at most :data:`ONE_EPISODE_JOBS` per episode), capped by ``memory`` (bytes available, None: no cap) at
    :data:`WORKER_MEMORY_BYTES` each.
    """
    if episodes < 1 or cpus < 2 or seconds < POOL_MIN_SECONDS:
        return 1
    jobs = ONE_EPISODE_JOBS if episodes == 1 else min(cpus, ONE_EPISODE_JOBS * episodes)
    if memory is not None:
        jobs = min(jobs, memory // WORKER_MEMORY_BYTES)
    return max(1, jobs)
