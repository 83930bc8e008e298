"""The Ray runner on a local 2-CPU cluster: same release as the local runner, survives a killed worker
and a killed driver, builds into a remote output with no folder shared between workers.

One Ray cluster serves the whole module (starting one takes 10-20 s).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from anim400k.dataset import schedule
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.pipeline import CATALOG_FILE, build_dataset
from anim400k.dataset.runners import FAULT_DIR_ENV, FAULT_STAGE_ENV, SIMULATE_NODES_ENV, RayRunner, make_runner
from anim400k.formats.ids import ANNOTATIONS_FILE, AUDIO_ARCHIVE

pytestmark = pytest.mark.slow

# Video clips are left out for time; annotations and every audio clip are compared byte for byte.
LOCAL = BuildOptions(progress=False, video_clips=False, asr_en="vad", asr_ja="vad", jobs=2)
RAY = BuildOptions(progress=False, video_clips=False, asr_en="vad", asr_ja="vad", jobs=2, runner="ray", retries=2)


def release_files(out: Path) -> dict[str, bytes]:
    """Annotations and all clip media (including any stray temporary file), by relative path."""
    files = {ANNOTATIONS_FILE: (out / ANNOTATIONS_FILE).read_bytes()}
    for p in sorted((out / AUDIO_ARCHIVE).rglob("*")):
        if p.is_file():
            files[str(p.relative_to(out))] = p.read_bytes()
    return files


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A local Ray cluster with 2 CPUs for this module; its address for other drivers."""
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    ray = pytest.importorskip("ray")
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False, _temp_dir=temp,
             object_store_memory=100 * 2**20)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def local_release(short_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The reference: the short manifest built by the local runner (2 worker processes)."""
    out = tmp_path_factory.mktemp("local")
    report = build_dataset(short_manifest, out, LOCAL)
    assert not report.failed, [e.error for e in report.failed]
    return release_files(out)


def build_keeping_runners(manifest: Path | str, out: Path | str, options: BuildOptions
                          ) -> tuple[object, list[RayRunner]]:
    """``build_dataset`` that also returns the Ray runners it made (their actor statistics)."""
    made: list[RayRunner] = []

    def keep(*args: object, **kwargs: object) -> object:
        runner = make_runner(*args, **kwargs)  # type: ignore[arg-type]
        made.append(runner)  # type: ignore[arg-type]
        return runner

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schedule, "make_runner", keep)
        report = build_dataset(manifest, out, options)
    return report, made


@pytest.fixture(scope="module")
def ray_build(ray_address: str, short_manifest: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, object, list[RayRunner]]:
    out = tmp_path_factory.mktemp("ray")
    report, runners = build_keeping_runners(short_manifest, out, RAY)
    return out, report, runners


def test_ray_build_is_identical_to_local(ray_build: tuple[Path, object, list], local_release: dict[str, bytes]
                                         ) -> None:
    out, report, _ = ray_build
    assert not report.failed, [e.error for e in report.failed]  # type: ignore[attr-defined]
    got = release_files(out)
    assert len(got) == 1 + 3 * report.clips  # type: ignore[attr-defined]  # JP, EN, backing MP3 per clip
    assert sorted(got) == sorted(local_release)
    for name, data in local_release.items():
        assert got[name] == data, name
    assert {"probe", "audio", "asr_en", "diarize", "separate", "align", "cut"} <= set(
        report.stage_seconds)  # type: ignore[attr-defined]


def test_stages_run_on_long_lived_actors_that_load_models_once(ray_build: tuple[Path, object, list]) -> None:
    """Every stage ran on one of two actors (one per CPU); each actor loaded the VAD model at most once."""
    _out, report, runners = ray_build
    (runner,) = runners
    stats = runner.worker_stats
    assert len(stats) == 2 and len({s["pid"] for s in stats}) == 2, stats
    ran = sorted(t for s in stats for t in s["tasks"])
    expected = sorted(f"{stage}:{e.key}" for e in report.episodes  # type: ignore[attr-defined]
                      for stage in e.stage_seconds)
    assert ran == expected  # nothing ran outside the actors, nothing twice
    vad_tasks = [t for t in ran if t.split(":")[0] in ("asr_en", "asr_ja")]  # both use silero-vad here
    assert len(vad_tasks) == 4  # more than the actors: at least one actor ran two of them
    for s in stats:  # every model (silero-vad in whichever form the ASR uses, ...) loaded at most once per actor
        assert all(n <= 1 for n in s["model_loads"].values()), s
    assert sum(n for s in stats for k, n in s["model_loads"].items() if k.startswith("silero-vad")) >= 1


def test_worker_killed_mid_episode_is_retried(ray_build: tuple[Path, object, list], local_release: dict[str, bytes],
                                              short_manifest: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    src, _, _ = ray_build
    out, faults = tmp_path / "out", tmp_path / "faults"
    shutil.copytree(src, out)
    faults.mkdir()
    # forget the cut stage: the episodes resume at it, with everything before it done
    with sqlite3.connect(out / CATALOG_FILE) as db:
        db.execute("DELETE FROM stages WHERE stage='cut'")
    shutil.rmtree(out / AUDIO_ARCHIVE)
    (out / ANNOTATIONS_FILE).unlink()
    # the first cut task's worker dies after writing its clips, before the driver hears of it
    monkeypatch.setenv(FAULT_STAGE_ENV, "cut:after")
    monkeypatch.setenv(FAULT_DIR_ENV, str(faults))
    report, runners = build_keeping_runners(short_manifest, out, RAY)
    assert (faults / "cut.after.killed").is_file(), "no worker was killed"
    killed = int((faults / "cut.after.killed").read_text())
    stats = runners[0].worker_stats  # the live actors (the killed one's replacement may still be starting)
    assert killed not in {s["pid"] for s in stats}, (killed, stats)
    assert sorted(t for s in stats for t in s["tasks"]) == ["cut:test_show/1", "cut:test_show/2"], stats
    assert not report.failed, [e.error for e in report.failed]
    for e in report.episodes:
        assert "cut" in e.stage_seconds and "align" in e.skipped_stages
    assert release_files(out) == local_release  # nothing lost, nothing extra
    with sqlite3.connect(out / CATALOG_FILE) as db:
        rows = db.execute("SELECT episode, status FROM stages WHERE stage='cut'").fetchall()
    assert sorted(rows) == [("test_show/1", "done"), ("test_show/2", "done")]


def test_killed_driver_resumes_to_identical_output(ray_address: str, local_release: dict[str, bytes],
                                                   short_manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "anim400k", "build", str(short_manifest), "--out", str(out), "--runner", "ray",
           "--address", ray_address, "--no-progress", "--no-video-clips", "--asr-en", "vad", "--asr-ja", "vad",
           "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    catalog = out / CATALOG_FILE
    deadline = time.time() + 150
    done = 0
    while time.time() < deadline and proc.poll() is None and done < 1:
        time.sleep(0.1)
        if catalog.exists():
            try:
                with sqlite3.connect(catalog) as db:
                    done = db.execute("SELECT COUNT(*) FROM stages WHERE stage='diarize' AND status='done'"
                                      ).fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    assert done >= 1 and not (out / ANNOTATIONS_FILE).exists()
    report = build_dataset(short_manifest, out, RAY)
    assert not report.failed, [e.error for e in report.failed]
    assert any("diarize" in e.skipped_stages for e in report.episodes), "nothing was resumed"
    assert release_files(out) == local_release
    assert not list(out.rglob(".*.part*")), "temporary files left behind"


def test_remote_output_needs_no_shared_folder(ray_address: str, local_release: dict[str, bytes],
                                              short_manifest: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """``--out URL`` on Ray: every worker process stages episodes in its own folder (as on other nodes)."""
    from anim400k.release import validate_release
    from anim400k.storage import staging_dir

    remote = tmp_path / "bucket" / "release"
    url = f"local://{remote}"
    monkeypatch.setenv("ANIM400K_CACHE", str(tmp_path / "driver"))
    monkeypatch.setenv(SIMULATE_NODES_ENV, str(tmp_path / "nodes"))
    report = build_dataset(short_manifest, url, RAY)
    assert not report.failed, [e.error for e in report.failed]
    assert release_files(remote) == local_release
    assert validate_release(remote) == []
    assert [p for p in (tmp_path / "nodes").iterdir() if list(p.rglob("*.16k.flac"))], "no worker staged here"
    assert not [p for p in staging_dir(url).rglob("*") if p.suffix in (".mp3", ".flac")]
    assert not [p for p in remote.rglob("*") if ".part" in p.name]
