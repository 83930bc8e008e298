"""Ray runner vs the local process pool (baseline: ``--runner local --jobs 2``), and a two-node Ray cluster.

    OMP_NUM_THREADS=1 python benchmarks/bench_ray.py [--episodes 1] [--duration 300] [--cpus 2]
    OMP_NUM_THREADS=1 python benchmarks/bench_ray.py --nodes 2 [--kill-after 40] [--episodes 2 --duration 60]

Default mode: makes ``--episodes`` synthetic episodes of ``--duration`` s (espeak-ng voices:
quick to make; the build's work does not depend on the voice) and builds them three times,
each into a fresh folder:

* ``local --jobs N`` (the baseline: a pool of N worker processes);
* ``ray, own cluster``: ``--runner ray --jobs N`` (the build starts a private N-CPU Ray
  cluster and stops it; its start-up is in the time);
* ``ray, running cluster``: ``--runner ray --address ADDR`` on an N-CPU cluster started
  before the clock starts (``ray start --head --block``), as on a real cluster.

It prints wall seconds (and the baseline's CPU seconds: Ray's worker processes are not
this process's children, so their CPU cannot be counted the same way) and the ratio of each Ray build's
wall time to the baseline's (below 1: Ray is faster). The annotations of all builds are
compared byte for byte.

``--nodes 2`` mode: starts a head node and a second node (``ray start`` on 127.0.0.1 with
their own ``--temp-dir`` and ports, ``--cpus`` CPUs each), builds into one output folder
(which both "nodes" see, as a shared filesystem) with ``--runner ray --address``, and with
``--kill-after S`` kills the second node's processes (SIGKILL to its process group) S
seconds into the build. It prints whether the build completed, its annotations against a
``--jobs 1`` build's, which stages ran on which node, and the stages the driver had to run
again (those in flight on the killed node).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def make_manifest(root: Path, n: int, duration: float) -> Path:
    """``n`` synthetic episodes (espeak-ng voices, different seeds) and a manifest over them."""
    import yaml

    from anim400k.synth import make_episode

    eps = []
    for i in range(n):
        ep = make_episode(root / f"ep{i + 1}", duration=duration, seed=100 + i, offset=0.5 * (i % 3),
                          voices="espeak")
        eps.append({"episode": str(i + 1), "media": str(ep.media), "subtitles": str(ep.subtitles)})
    path = root / "manifest.yaml"
    path.write_text(yaml.safe_dump({"shows": [{"key": "bench", "episodes": eps}]}))
    return path


def cpu_seconds() -> float:
    """User+system CPU seconds of this process and its finished child processes (and theirs, when waited for)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def build(manifest: Path, out: Path, **opts: Any) -> tuple[float, float, dict[str, Any]]:
    """Build in a fresh process (as a user's ``anim400k build`` runs); returns (wall s, CPU s, result).

    The result has the failed episodes, the stages each episode ran and, for a Ray build, the
    runner's actor statistics and the stages it ran again.
    """
    job = json.dumps({"manifest": str(manifest), "out": str(out), "opts": opts})
    t0, c0 = time.perf_counter(), cpu_seconds()
    proc = subprocess.run([sys.executable, __file__, "--_build", job], stdout=subprocess.PIPE)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if proc.returncode != 0:
        raise SystemExit(f"build failed: {opts}")
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    for key, error in result["failed"]:
        print(f"  warning: episode {key} failed: {error}")
    return wall, cpu, result


def _build_child(job: str) -> None:
    from anim400k.dataset import pipeline, schedule
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.runners import make_runner

    spec = json.loads(job)
    made: list[Any] = []

    def keep(*args: Any, **kwargs: Any) -> Any:
        made.append(make_runner(*args, **kwargs))
        return made[-1]

    schedule.make_runner = keep  # type: ignore[assignment]
    report = pipeline.build_dataset(spec["manifest"], spec["out"], BuildOptions(progress=False, **spec["opts"]))
    runner = made[0] if made else None
    print(json.dumps({
        "failed": [(e.key, e.error) for e in report.failed],
        "stages": sum(len(e.stage_seconds) for e in report.episodes),
        "actors": getattr(runner, "worker_stats", []),
        "retried": getattr(runner, "retried", []),
    }))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_exe() -> str:
    return str(Path(sys.executable).with_name("ray"))


def start_node(temp: Path, cpus: int, head_port: int, head: bool) -> subprocess.Popen[bytes]:
    """``ray start [--head] --block`` in its own process group (killing the group kills the node)."""
    ports = {f"--{k}": str(free_port()) for k in (
        "node-manager-port", "object-manager-port", "metrics-export-port", "dashboard-agent-grpc-port",
        "dashboard-agent-listen-port", "runtime-env-agent-port", "min-worker-port")}
    ports["--max-worker-port"] = str(int(ports["--min-worker-port"]) + 200)
    if int(ports["--max-worker-port"]) > 65535:
        ports["--min-worker-port"], ports["--max-worker-port"] = "20000", "20200"
    cmd = [ray_exe(), "start", "--block", "--num-cpus", str(cpus), "--num-gpus", "0", "--node-ip-address",
           "127.0.0.1", "--disable-usage-stats", *[x for kv in ports.items() for x in kv]]
    if head:
        cmd += ["--head", "--port", str(head_port), "--temp-dir", str(temp), "--include-dashboard", "false"]
    else:
        cmd += ["--address", f"127.0.0.1:{head_port}"]
    log = open(temp.parent / f"{temp.name}.log", "wb")  # noqa: SIM115 - closed with the process
    env = {**os.environ, "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0", "OMP_NUM_THREADS": "1"}
    env["RAY_AUTH_MODE"] = "disabled"  # a throwaway cluster on this machine (see docs/scaling.md for real ones)
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)


def wait_for_cpus(address: str, cpus: int, timeout: float = 120.0) -> None:
    """Block until the cluster at ``address`` offers ``cpus`` CPUs (a throwaway driver asks)."""
    code = (f"import ray,time,sys; ray.init(address={address!r}, log_to_driver=False, configure_logging=False)\n"
            f"t=time.time()\nwhile ray.cluster_resources().get('CPU',0)<{cpus} and time.time()-t<{timeout}: "
            "time.sleep(0.5)\nsys.exit(0 if ray.cluster_resources().get('CPU',0)>=" + str(cpus) + " else 1)")
    deadline = time.time() + timeout
    while True:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                           env={**os.environ, "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"})
        if r.returncode == 0:
            return
        if time.time() > deadline:
            raise SystemExit(f"the Ray cluster at {address} did not come up:\n{r.stderr.decode()[-2000:]}")
        time.sleep(2)


def stop_node(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a node started by :func:`start_node` (SIGTERM: cleanly; SIGKILL: as a lost machine)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def annotations(out: Path) -> bytes:
    from anim400k.formats.ids import ANNOTATIONS_FILE

    path = out / ANNOTATIONS_FILE
    return path.read_bytes() if path.is_file() else b"(no annotations)"


def compare(args: argparse.Namespace, manifest: Path, root: Path) -> None:
    jobs = args.cpus
    wall, cpu, _ = build(manifest, root / "local", jobs=jobs)
    rows: dict[str, tuple[float, float]] = {f"local --jobs {jobs}": (wall, cpu)}
    print(f"local --jobs {jobs}:{wall:8.1f} s wall {cpu:7.1f} s CPU (load {os.getloadavg()[0]:.1f})", flush=True)
    wall, cpu, res = build(manifest, root / "ray_own", jobs=jobs, runner="ray")
    rows["ray, own cluster"] = (wall, cpu)
    print(f"ray, own cluster:{wall:8.1f} s wall; actors {len(res['actors'])}", flush=True)

    temp = Path(tempfile.mkdtemp(prefix="rb", dir="/tmp"))
    port = free_port()
    t0 = time.perf_counter()
    head = start_node(temp / "head", jobs, port, head=True)
    try:
        address = f"127.0.0.1:{port}"
        wait_for_cpus(address, jobs)
        print(f"(cluster of {jobs} CPUs started in {time.perf_counter() - t0:.1f} s, not counted)", flush=True)
        wall, cpu, res = build(manifest, root / "ray_running", runner="ray", ray_address=address)
        rows["ray, running cluster"] = (wall, cpu)
        print(f"ray, running cluster:{wall:8.1f} s wall; actors {len(res['actors'])}", flush=True)
    finally:
        stop_node(head)
        shutil.rmtree(temp, ignore_errors=True)
    same = annotations(root / "local") == annotations(root / "ray_own") == annotations(root / "ray_running")
    base = rows[f"local --jobs {jobs}"][0]
    print(f"\n{args.episodes} x {args.duration:.0f} s episode(s), {jobs} CPUs; baseline local --jobs {jobs}")
    for name, (wall, _cpu) in rows.items():
        print(f"  {name:<22}{wall:8.1f} s wall   ratio to baseline {wall / base:5.2f}x")
    print(f"  annotations identical across the three builds: {same}")


def nodes(args: argparse.Namespace, manifest: Path, root: Path) -> None:
    wall1, _, _ = build(manifest, root / "inline", jobs=1)
    print(f"reference --jobs 1: {wall1:.1f} s", flush=True)
    temp = Path(tempfile.mkdtemp(prefix="rb", dir="/tmp"))
    port = free_port()
    head = start_node(temp / "head", args.cpus, port, head=True)
    second: subprocess.Popen[bytes] | None = None
    try:
        address = f"127.0.0.1:{port}"
        wait_for_cpus(address, args.cpus)
        second = start_node(temp / "node2", args.cpus, port, head=False)
        wait_for_cpus(address, 2 * args.cpus)
        print(f"cluster: 2 nodes x {args.cpus} CPU(s) on 127.0.0.1 (head port {port})", flush=True)
        killed_at = None
        if args.kill_after:
            def kill() -> None:
                nonlocal killed_at
                time.sleep(args.kill_after)
                assert second is not None
                stop_node(second, signal.SIGKILL)
                killed_at = time.strftime("%H:%M:%S")
            threading.Thread(target=kill, daemon=True).start()
        wall, _, res = build(manifest, root / "cluster", runner="ray", ray_address=address)
        print(f"2-node build: {wall:.1f} s wall; failed episodes: {len(res['failed'])}; second node killed at "
              f"{killed_at or 'never'}")
        for st in res["actors"]:
            print(f"  live actor pid {st['pid']}: {len(st['tasks'])} stage(s), model loads {st['model_loads']}")
        print(f"  stages run again after their actor died: {res['retried'] or 'none'}")
        print(f"  stages in the build: {res['stages']}; annotations identical to --jobs 1: "
              f"{annotations(root / 'cluster') == annotations(root / 'inline')}")
    finally:
        if second is not None:
            stop_node(second)
        stop_node(head)
        shutil.rmtree(temp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds per episode")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local cluster (per node with --nodes)")
    parser.add_argument("--nodes", type=int, default=1, help="2: the two-node cluster mode")
    parser.add_argument("--kill-after", type=float, default=0.0, help="--nodes 2: kill node 2 after S seconds")
    parser.add_argument("--_build", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._build:
        _build_child(args._build)
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the Ray nodes started here (finally blocks)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    os.environ.setdefault("ANIM400K_RAY_TMP", tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        manifest = make_manifest(root / "episodes", args.episodes, args.duration)
        print(f"made {args.episodes} x {args.duration:.0f} s episode(s) in {time.perf_counter() - t0:.1f} s",
              flush=True)
        if args.nodes > 1:
            nodes(args, manifest, root)
        else:
            compare(args, manifest, root)
    shutil.rmtree(os.environ["ANIM400K_RAY_TMP"], ignore_errors=True)


if __name__ == "__main__":
    main()
