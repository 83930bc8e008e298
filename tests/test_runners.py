"""Runners: inline vs process pool give the same artifacts; a dying worker is retried; GPU requests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.manifest import load_manifest
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.runners import (
    FAULT_DIR_ENV,
    FAULT_STAGE_ENV,
    InlineRunner,
    LocalRunner,
    default_jobs,
    gpu_stages_for,
    make_runner,
)
from anim400k.errors import InputError


def contexts(manifest: Path, out: Path) -> list[EpisodeContext]:
    """Episode contexts laid out the way the build driver lays them out."""
    opts = BuildOptions(progress=False)
    return [EpisodeContext(ref=r, work_dir=str(out / "work" / r.show_key / r.episode), release_dir=str(out),
                           options=opts) for r in load_manifest(manifest).episodes()]


def run_all(runner: object, ctxs: list[EpisodeContext], stages: tuple[str, ...]) -> None:
    """Run ``stages`` in order for every episode (each stage's tasks in parallel)."""
    for stage in stages:
        futures = [runner.submit(stage, c) for c in ctxs]  # type: ignore[attr-defined]
        for f in futures:
            artifact, seconds, _cpu = f.result(timeout=300)
            assert Path(artifact).is_file() and seconds >= 0


def artifacts(out: Path) -> dict[str, bytes]:
    """Artifact files by path; a worker killed mid-write may leave a hidden ``.NAME.*.part*`` temp file,
    which is never an artifact (the build driver deletes such leftovers)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_process_pool_survives_a_killed_worker_and_matches_inline(short_manifest: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    inline_out, pool_out, faults = tmp_path / "inline", tmp_path / "pool", tmp_path / "faults"
    faults.mkdir()
    run_all(InlineRunner(), contexts(short_manifest, inline_out), ("probe", "audio"))
    # the first audio task's worker dies after writing its FLACs; the pool is replaced and the task re-run
    monkeypatch.setenv(FAULT_STAGE_ENV, "audio:after")
    monkeypatch.setenv(FAULT_DIR_ENV, str(faults))
    runner = LocalRunner(2, retries=1)
    try:
        run_all(runner, contexts(short_manifest, pool_out), ("probe", "audio"))
    finally:
        runner.close()
    assert (faults / "audio.after.killed").is_file(), "the fault hook did not fire"
    got, want = artifacts(pool_out), artifacts(inline_out)
    assert sorted(got) == sorted(want)
    for name in want:
        if name.endswith(".flac"):
            assert got[name] == want[name], name
    assert not [n for n in got if ".part" in n]


def test_inline_runner_hands_input_errors_to_the_driver(tmp_path: Path) -> None:
    import yaml

    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": [{"episode": "1",
                                                                             "media": str(tmp_path / "no.mkv")}]}]}))
    fut = InlineRunner().submit("probe", contexts(manifest, tmp_path / "out")[0])
    with pytest.raises(InputError, match="no.mkv"):
        fut.result()


def test_fault_hook_kills_only_once(tmp_path: Path) -> None:
    code = "from anim400k.dataset.runners import _fault_hook; _fault_hook('cut', 'before'); print('alive')"
    env = {**os.environ, FAULT_STAGE_ENV: "cut", FAULT_DIR_ENV: str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.returncode == 1 and "alive" not in first.stdout
    assert second.returncode == 0 and "alive" in second.stdout
    other = subprocess.run([sys.executable, "-c", code], env={**env, FAULT_STAGE_ENV: "cut:after"},
                           capture_output=True, text=True)
    assert other.returncode == 0, "the ':after' hook must not fire before the stage"


def test_gpu_requests_follow_the_backends() -> None:
    gpu = BuildOptions(asr_en="faster-whisper", asr_ja="faster-whisper", diarizer="pyannote", separator="demucs",
                       asr_device="cuda")
    assert gpu_stages_for(gpu) == {"asr_en", "asr_ja", "diarize", "separate"}
    assert gpu_stages_for(BuildOptions(asr_device="cuda")) == frozenset()  # CPU-only default backends
    assert gpu_stages_for(BuildOptions(asr_model="/models/large-v3", asr_device="cuda")) == {"asr_en", "asr_ja"}
    auto = BuildOptions(asr_en="faster-whisper", separator="demucs")
    assert gpu_stages_for(auto, gpus_available=False) == frozenset()
    assert gpu_stages_for(auto, gpus_available=True) == {"asr_en", "separate"}
    cpu = BuildOptions(asr_en="faster-whisper", separator="demucs", asr_device="cpu")
    assert gpu_stages_for(cpu, gpus_available=True) == frozenset()


def test_make_runner_kinds() -> None:
    assert isinstance(make_runner("local", 1), InlineRunner)
    pool = make_runner("local", 0)
    try:
        assert isinstance(pool, LocalRunner) and pool.jobs == default_jobs() >= 1
    finally:
        pool.close()
    with pytest.raises(ValueError, match="unknown runner"):
        make_runner("slurm", 2)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_workers_outlive_the_thread_that_submitted_their_first_task(short_manifest: Path, tmp_path: Path) -> None:
    """Linux sends the parent-death signal when the *thread* that started a worker ends: a task submitted
    from a short-lived thread (as a retry is, from a pool's management thread) must not doom the worker."""
    import threading

    ctx = contexts(short_manifest, tmp_path / "out")[0]
    runner = LocalRunner(1, retries=0)  # a killed worker would fail the next task, not be retried
    try:
        first = threading.Thread(target=lambda: runner.submit("probe", ctx).result(timeout=300))
        first.start()
        first.join()
        pids = list(runner._pool._processes)  # noqa: SLF001
        artifact, _s, _c = runner.submit("probe", ctx).result(timeout=300)
        assert Path(artifact).is_file()
        assert list(runner._pool._processes) == pids  # noqa: SLF001 - the same worker ran both tasks
    finally:
        runner.close()


def test_a_worker_exits_when_its_driver_is_gone() -> None:
    """The portable fallback: a worker whose parent is not the driver it was started by exits at once."""
    code = ("import os, sys; from anim400k.dataset.runners import _die_with_driver; "
            "_die_with_driver(os.getppid() + 1); print('alive')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ})
    assert proc.returncode == 1 and "alive" not in proc.stdout


def test_a_pool_worker_makes_no_semaphore_for_progress_bars() -> None:
    """A worker that Ctrl-C terminates cannot unregister a named semaphore; tqdm's default lock made one, and the
    resource tracker then warned of a "leaked semaphore" below the one-line message. A worker's bars use a
    thread lock instead."""
    code = ("import multiprocessing\n"
            "multiprocessing.set_start_method('spawn', force=True)  # as in a pool worker (spawned)\n"
            "from multiprocessing import resource_tracker as rt\n"
            "made = []\n"
            "rt.register = lambda name, rtype: made.append(rtype)\n"
            "from anim400k.dataset.runners import _worker_init\n"
            "_worker_init(1)\n"
            "from tqdm.auto import tqdm\n"
            "tqdm(total=2, disable=True).close()\n"
            "print('semaphores', made.count('semaphore'))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    assert "semaphores 0" in proc.stdout, proc.stdout


def test_a_pool_worker_freezes_its_heap_when_it_exits() -> None:
    """A spawned worker is finalized as it exits (and close() waits for that): its heap is frozen first, so that
    the finalization's garbage collections skip what torch and Whisper left (docs/scaling.md, "Pool workers'
    exit"). A hook registered before _worker_init runs after its own (atexit runs hooks last-in first-out)."""
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: sys.stdout.write(f'frozen at exit {gc.get_freeze_count()}\\n'))\n"
            "from anim400k.dataset.runners import _worker_init\n"
            "_worker_init(1)\n"
            "print('frozen before exit', gc.get_freeze_count())\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.rsplit(" ", 1) for line in proc.stdout.splitlines())
    assert lines["frozen before exit"] == "0" and int(lines["frozen at exit"]) > 1000, proc.stdout


def _free_port() -> int:
    """A local TCP port nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_ray_address_where_nothing_listens_is_one_line_before_any_work(tmp_path: Path, capsys) -> None:
    """`build --runner ray --address 127.0.0.1:6399` with no cluster there sat in ray.init for over 10 minutes
    without a word (and held SIGTERM, so `timeout` could not stop it); now one line, exit 2, nothing made."""
    from anim400k.cli import main

    address = f"127.0.0.1:{_free_port()}"
    out = tmp_path / "rel"
    argv = ["build", str(tmp_path / "m.yaml"), "--out", str(out), "--runner", "ray", "--address", address]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"anim400k: error: --address {address}: no Ray cluster answers there (")
    assert len(err.splitlines()) == 1 and not out.exists()


def test_a_ray_address_that_answers_passes_the_check() -> None:
    import socket

    from anim400k.dataset.preflight import check_ray_address

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        check_ray_address(f"127.0.0.1:{port}")
        with pytest.raises(InputError, match=r"Ray Client addresses \(ray://\) are not supported"):
            check_ray_address(f"ray://127.0.0.1:{port}")  # the build hung on Ray Client's thread, deaf to SIGTERM
    for left_to_ray in ("auto", "local"):
        check_ray_address(left_to_ray)
    for malformed in ("headnode", "127.0.0.1", "http://127.0.0.1:6390", "foo", "host:99999"):  # ray.init tracebacks
        with pytest.raises(InputError, match="give HOST:PORT of the cluster's head"):
            check_ray_address(malformed)
    with pytest.raises(InputError, match="RAY_ADDRESS 'foo'"):
        check_ray_address("foo", "RAY_ADDRESS")


def test_ray_address_in_the_environment_is_the_cluster_joined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    """``RAY_ADDRESS`` set (a Ray job, a cluster node) and no --address: ray.init read it and refused the local
    cluster's CPU count with a traceback; now it is the cluster joined, checked as --address is."""
    from anim400k.cli import main
    from anim400k.dataset.preflight import ray_address

    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert ray_address(None) == "10.0.0.1:6379" and ray_address("h:1") == "h:1"
    address = f"127.0.0.1:{_free_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    out = tmp_path / "rel"
    assert main(["build", str(tmp_path / "m.yaml"), "--out", str(out), "--runner", "ray"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"anim400k: error: RAY_ADDRESS {address}: no Ray cluster answers there (")
    assert len(err.splitlines()) == 1 and not out.exists()
    monkeypatch.delenv("RAY_ADDRESS")
    assert ray_address(None) is None


def test_a_ray_address_that_does_not_answer_in_time_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that drops the connection attempt (a firewall, a stopped VM) times out: the line said
    '(timeouterror)', the exception's class name, since a timeout has no strerror."""
    import socket

    from anim400k.dataset.preflight import check_ray_address

    def times_out(address: tuple[str, int], timeout: float) -> None:
        assert address == ("10.1.2.3", 6379) and timeout > 0
        raise TimeoutError("timed out")  # what socket.create_connection raises then

    monkeypatch.setattr(socket, "create_connection", times_out)
    with pytest.raises(InputError) as info:
        check_ray_address("10.1.2.3:6379")
    assert str(info.value).startswith("--address 10.1.2.3:6379: no Ray cluster answers there (timed out): ")
