"""How many workers the build runs when ``--jobs`` is ``auto`` (the default; issue 16).

The build's stages can run in the calling process one after another (``--jobs 1``: each stage spreads its
own work over the CPUs) or in a pool of worker processes (``--jobs N``: stages of one episode overlap where
the DAG allows, several episodes run side by side). Which is faster depends on how much there is to do
(measured in docs/scaling.md, "--jobs auto"):

- **little audio** (less than :data:`POOL_MIN_SECONDS` of episodes with stages left): one process. Every
  pool worker imports torch and loads its models itself, a fixed cost that a short build does not earn back.
- **one episode**: :data:`ONE_EPISODE_JOBS` workers (the Japanese ASR, the English ASR and the chain
  sync -> separation -> diarization are the DAG's three independent branches, :data:`BRANCHES`; on 2 CPUs three
  workers share the cores and finish together instead of one branch waiting for a worker); but one process when
  fewer than two of its branches have a stage left (a resumed build that only re-cuts or re-aligns: its stages
  run one after another whatever the pool, which would only add its start-up). The frames stage
  (:data:`SIDE_STAGES`) is a branch of its own beside all the others: ``cut`` and ``frames`` left get the pool.
- **several episodes**: one worker per CPU, as ``--jobs 0`` (but no more than three per episode).

Never more workers than the memory this machine has available (and this process's control group, in a
container, still allows) can hold at :data:`WORKER_MEMORY_BYTES` each, and never fewer than one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

#: Seconds of audio (episodes with stages left, summed) from which ``auto`` starts a pool.
POOL_MIN_SECONDS = 600.0
#: Workers ``auto`` gives a single episode: one per independent branch of its stages.
ONE_EPISODE_JOBS = 3
#: The stages after ``audio`` that can run side by side in one episode, as the DAG's independent branches (the
#: stages of one branch run one after another, and ``align``/``cut`` wait for all three).
BRANCHES = (("asr_ja",), ("asr_en",), ("sync", "separate", "diarize"))
#: Stages that depend on ``probe`` only (the frame JPEGs): each runs beside every other stage of its episode, the
#: align/cut/score tail included.
SIDE_STAGES = ("frames",)
#: Memory ``auto`` plans per worker (bytes) at least: a worker's resident set peaks at ~1.6-2.5 GB (the JP Whisper
#: base and the cut of a 24-minute episode, docs/scaling.md; one reached 2.44 GB, over the 2 GiB planned before).
WORKER_MEMORY_BYTES = int(2.5e9)
#: ... and for a longer episode (:func:`worker_memory`): 1.5 GB + 2.5 GB an hour of its audio, the line through
#: the measured peaks of a 24-minute episode (2.5 GB) and a 2-hour film (6.5 GB, docs/scaling.md "A 2-hour movie")
WORKER_MEMORY_BASE_BYTES = 1.5e9
WORKER_MEMORY_PER_HOUR_BYTES = 2.5e9


#: Where :func:`available_memory` reads the machine's and this process's control group's memory (tests point
#: them at a made-up tree).
MEMINFO = Path("/proc/meminfo")
SELF_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: A cgroup v1 limit at or above this is "no limit" (the kernel's default is 2**63 less a page).
_NO_LIMIT = 2**60


def available_memory() -> int | None:
    """Bytes of memory available to new processes: ``MemAvailable`` of ``/proc/meminfo`` (else the free
    physical pages), and no more than this process's control group may still take (:func:`cgroup_memory_room`:
    in a container, ``/proc/meminfo`` shows the host's memory, not the container's limit). None where
    nothing is known."""
    machine: int | None = None
    try:
        for line in MEMINFO.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                machine = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if machine is None:
        try:
            machine = int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, OSError, ValueError):
            machine = None
    room = cgroup_memory_room()
    known = [m for m in (machine, room) if m is not None]
    return min(known) if known else None


def _cgroup_folders() -> list[tuple[Path, str, str, str]]:
    """``(folder, limit file, usage file, inactive-file key of memory.stat)`` of this process's memory cgroup,
    v2 and v1, each also at the mount's root (a container's own cgroup when its path is not visible there)."""
    try:
        lines = SELF_CGROUP.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, where = parts
        rel = where.strip().lstrip("/")
        if hierarchy == "0" and controllers == "":
            found += [(CGROUP_ROOT / rel, "memory.max", "memory.current", "inactive_file"),
                      (CGROUP_ROOT, "memory.max", "memory.current", "inactive_file")]
        elif "memory" in controllers.split(","):
            mount = CGROUP_ROOT / "memory"
            found += [(mount / rel, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
                      (mount, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")]
    return found


def cgroup_memory_room() -> int | None:
    """Bytes this process's control group (cgroup v2 ``memory.max``, v1 ``memory.limit_in_bytes``) may still
    take: its limit less its usage, the page cache it can drop (``inactive_file``) not counted as used;
    the least of those found. None without a limit (or where there are no cgroups)."""
    rooms = []
    for folder, limit_name, usage_name, inactive_key in _cgroup_folders():
        try:
            raw = (folder / limit_name).read_text(encoding="ascii").strip()
            if raw == "max" or int(raw) >= _NO_LIMIT:
                continue
            usage = int((folder / usage_name).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        inactive = 0
        try:
            for line in (folder / "memory.stat").read_text(encoding="ascii").splitlines():
                key, _, value = line.partition(" ")
                if key == inactive_key:
                    inactive = int(value)
        except (OSError, ValueError):
            pass
        rooms.append(max(0, int(raw) - max(0, usage - inactive)))
    return min(rooms) if rooms else None


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


def largest_file(paths: Iterable[str]) -> str | None:
    """The largest of the local files ``paths`` by size (one ``stat`` each; URLs and files that cannot be
    read are passed over), None when there is none: the episode most likely the longest, whose length the
    memory plan needs when the episodes are not all probed (:func:`pending_seconds` stops early)."""
    from ..storage import is_url

    best, size = None, -1
    for path in paths:
        if not path or is_url(path):
            continue
        try:
            n = os.stat(path).st_size
        except OSError:
            continue
        if n > size:
            best, size = path, n
    return best


def pending_seconds(durations: Iterable[float | None], enough: float = math.inf) -> float:
    """Seconds of audio the build has left: the episodes' durations summed, an unknown one counted as
    :data:`POOL_MIN_SECONDS` (a remote or unprobed episode is taken to be a real, long one). The sum stops
    once it reaches ``enough`` (``durations`` is read no further: a manifest of thousands of episodes is not
    probed one by one when its first few already decide)."""
    total = 0.0
    for d in durations:
        total += POOL_MIN_SECONDS if d is None else max(0.0, d)
        if total >= enough:
            break
    return total


def worker_memory(longest: float | None = None) -> int:
    """Bytes ``auto`` plans for one worker when the longest episode it may get lasts ``longest`` seconds (None:
    not known): :data:`WORKER_MEMORY_BYTES`, or more for a long one (:data:`WORKER_MEMORY_PER_HOUR_BYTES`)."""
    hours = max(0.0, longest or 0.0) / 3600.0
    return max(WORKER_MEMORY_BYTES, int(WORKER_MEMORY_BASE_BYTES + WORKER_MEMORY_PER_HOUR_BYTES * hours))


def open_branches(pending: Iterable[str]) -> int:
    """How many of an episode's independent branches still hold a stage in ``pending`` (the names of its stages
    left to run): those of :data:`BRANCHES`, plus one per :data:`SIDE_STAGES` stage left, which runs beside all
    the others (``cut`` and ``frames`` left: 2; the rest, with no branch open, counts as one chain)."""
    left = set(pending)
    side = left.intersection(SIDE_STAGES)
    branches = sum(1 for branch in BRANCHES if left.intersection(branch))
    tail = 1 if side and not branches and left - side else 0  # e.g. cut beside frames
    return branches + tail + len(side)


def auto_jobs(seconds: float, episodes: int, cpus: int, memory: int | None, longest: float | None = None) -> int:
    """Workers for ``--jobs auto``: 1 (the build's own process) for fewer than :data:`POOL_MIN_SECONDS` of
    audio, one CPU or no episode; else :data:`ONE_EPISODE_JOBS` for one episode and one per CPU for several
    (at most :data:`ONE_EPISODE_JOBS` per episode), capped by ``memory`` (bytes available, None: no cap) at
    :func:`worker_memory` of the ``longest`` episode (seconds; None: not known) each.
    """
    if episodes < 1 or cpus < 2 or seconds < POOL_MIN_SECONDS:
        return 1
    jobs = ONE_EPISODE_JOBS if episodes == 1 else min(cpus, ONE_EPISODE_JOBS * episodes)
    if memory is not None:
        jobs = min(jobs, memory // worker_memory(longest))
    return max(1, jobs)
