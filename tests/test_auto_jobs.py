"""``--jobs auto`` (the build's default): workers by the audio left, the episodes and the machine (issue 16)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from anim400k.cli import main
from anim400k.dataset import auto_jobs as aj
from anim400k.dataset import schedule
from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.options import BuildOptions
from anim400k.errors import InputError, parse_jobs
from anim400k.model import EpisodeRef

GIB = 2**30
LONG = aj.POOL_MIN_SECONDS  # the least audio that gets a pool


@pytest.mark.parametrize(
    ("seconds", "episodes", "cpus", "memory", "jobs"),
    [
        (LONG - 1, 1, 2, 64 * GIB, 1),  # short build: this process
        (LONG - 1, 4, 16, 64 * GIB, 1),
        (LONG, 1, 2, 64 * GIB, 3),  # one long episode: its three branches
        (1440.0, 1, 16, 64 * GIB, 3),
        (1440.0, 1, 1, 64 * GIB, 1),  # one CPU: no pool
        (1440.0, 2, 2, 64 * GIB, 2),  # several episodes: one worker per CPU
        (3000.0, 8, 16, 64 * GIB, 16),
        (3000.0, 2, 16, 64 * GIB, 6),  # at most three per episode
        (3000.0, 8, 16, 5 * GIB, 2),  # capped by memory, 2 GiB each
        (1440.0, 1, 2, 5 * GIB, 2),
        (1440.0, 1, 2, 3 * GIB, 1),  # room for one worker: this process
        (1440.0, 1, 2, None, 3),  # memory unknown: no cap
        (1440.0, 0, 2, 64 * GIB, 1),  # nothing left to run
    ],
)
def test_auto_jobs_picks_workers_by_audio_episodes_cpus_and_memory(seconds, episodes, cpus, memory, jobs):
    assert aj.auto_jobs(seconds, episodes, cpus, memory) == jobs


def test_a_long_episode_plans_more_memory_a_worker():
    """A worker of a 2-hour film peaks at ~6.5 GB (docs/scaling.md): 16 workers of 2 GiB on 32 GiB would be
    killed for memory; the plan grows with the longest episode known."""
    assert aj.worker_memory(None) == aj.worker_memory(600.0) == aj.WORKER_MEMORY_BYTES
    assert aj.worker_memory(1440.0) == pytest.approx(2.5e9, rel=1e-6)
    assert aj.worker_memory(7200.0) == pytest.approx(6.5e9, rel=1e-6)
    assert aj.auto_jobs(8 * 7200.0, 8, 16, 32 * GIB) == 13  # the length not known: 2.5 GB each (32 GiB / 2.5 GB)
    assert aj.auto_jobs(8 * 7200.0, 8, 16, 32 * GIB, longest=7200.0) == 5  # 32 GiB / 6.5 GB
    assert aj.auto_jobs(1440.0, 1, 2, 5 * GIB, longest=1440.0) == 2


def test_pending_seconds_counts_an_unknown_duration_as_long():
    assert aj.pending_seconds([30.0, 12.5]) == pytest.approx(42.5)
    assert aj.pending_seconds([None, 30.0]) == pytest.approx(LONG + 30.0)
    assert aj.pending_seconds([]) == 0.0


def test_media_seconds_of_a_file_a_url_and_a_bad_file(tmp_path: Path):
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(16000 * 3, np.float32), 16000)
    assert aj.media_seconds(str(wav)) == pytest.approx(3.0, abs=0.01)
    assert aj.media_seconds("s3://bucket/episode.mkv") is None
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(b"not a video at all")
    assert aj.media_seconds(str(bad)) is None
    assert aj.media_seconds(str(tmp_path / "missing.mkv")) is None


def test_available_memory_is_a_positive_byte_count():
    memory = aj.available_memory()
    assert memory is None or memory > 64 * 2**20


def _contexts(tmp_path: Path, seconds: list[float], remote: str | None = None) -> dict[str, EpisodeContext]:
    out = {}
    for i, s in enumerate(seconds):
        media = tmp_path / f"ep{i}.wav"
        sf.write(media, np.zeros(int(8000 * s), np.float32), 8000)
        ref = EpisodeRef("show", str(i), str(media), str(media))
        out[ref.key] = EpisodeContext(ref, str(tmp_path / "work" / str(i)), str(tmp_path), BuildOptions(),
                                      remote=remote)
    return out


def test_the_schedule_sizes_auto_by_the_episodes_left(tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setattr("anim400k.threads.available_cpus", lambda: 2)
    monkeypatch.setattr(aj, "available_memory", lambda: 64 * GIB)
    monkeypatch.setattr(aj, "POOL_MIN_SECONDS", 20.0)
    ctx = _contexts(tmp_path, [12.0, 12.0])
    keys = list(ctx)
    with caplog.at_level(logging.INFO, logger="anim400k.dataset.schedule"):
        assert schedule._auto_jobs(BuildOptions(), ctx, keys) == 2  # 24 s in two episodes: one per CPU
    assert "--jobs auto: 2 worker(s) for 2 episode(s), 24 s of audio, on 2 CPU(s)" in caplog.text
    seen: list[float | None] = []
    monkeypatch.setattr(aj, "worker_memory", lambda longest=None: seen.append(longest) or GIB)
    assert schedule._auto_jobs(BuildOptions(), ctx, keys) == 2
    assert seen == [pytest.approx(12.0, abs=0.05)]  # the memory plan gets the longest episode probed
    assert schedule._auto_jobs(BuildOptions(), ctx, keys[:1]) == 1  # one episode finished: 12 s left
    assert schedule._auto_jobs(BuildOptions(runner="ray"), ctx, keys) == 0  # a Ray cluster sizes itself
    memory = _contexts(tmp_path, [12.0, 12.0], remote="memory://x/rel")
    assert schedule._auto_jobs(BuildOptions(), memory, keys) == 1  # a memory:// output lives in this process
    given = _contexts(tmp_path, [12.0, 12.0])
    ref = given[keys[1]].ref
    given[keys[1]] = EpisodeContext(EpisodeRef(ref.show_key, ref.episode, ref.jp_media, ref.en_media,
                                               subtitles="memory://x/ep.srt"), "w", str(tmp_path), BuildOptions())
    assert schedule._auto_jobs(BuildOptions(), given, keys) == 1  # and so does a memory:// input


def test_open_branches_counts_the_independent_stage_chains_left():
    assert aj.open_branches({"asr_ja", "asr_en", "sync", "separate", "diarize", "align", "cut"}) == 3
    assert aj.open_branches({"diarize", "align", "cut"}) == 1  # separation -> diarization only
    assert aj.open_branches({"asr_en", "diarize", "cut"}) == 2
    assert aj.open_branches({"align", "cut", "score"}) == 0
    assert aj.open_branches(()) == 0


def test_the_frames_stage_runs_beside_any_other_stage_so_it_opens_a_branch(tmp_path: Path, monkeypatch):
    """``frames`` depends on ``probe`` only, so it runs beside every other stage: a resumed build whose cut and
    frames stages are both out of date (this session's cut 10 / frames 2) was put in one process, cut then frames,
    as if they could not overlap."""
    from anim400k.dataset.stages import STAGE_BY_NAME

    assert STAGE_BY_NAME["frames"].deps == ("probe",)
    assert aj.open_branches({"cut", "frames"}) == 2
    assert aj.open_branches({"asr_ja", "align", "cut", "frames"}) == 2
    assert aj.open_branches({"asr_ja", "asr_en", "frames"}) == 3
    assert aj.open_branches({"frames"}) == 1  # alone: nothing beside it
    assert aj.open_branches({"align", "cut", "score"}) < 2  # still one chain
    monkeypatch.setattr("anim400k.threads.available_cpus", lambda: 2)
    monkeypatch.setattr(aj, "available_memory", lambda: 64 * GIB)
    monkeypatch.setattr(aj, "POOL_MIN_SECONDS", 20.0)
    ctx = _contexts(tmp_path, [30.0])
    keys = list(ctx)
    assert schedule._auto_jobs(BuildOptions(), ctx, keys, {keys[0]: {"cut", "frames"}}) == aj.ONE_EPISODE_JOBS
    assert schedule._auto_jobs(BuildOptions(), ctx, keys, {keys[0]: {"frames"}}) == 1


def test_one_episode_whose_stages_left_cannot_overlap_stays_in_this_process(tmp_path: Path, monkeypatch, caplog):
    """A resumed long episode that only re-cuts (or re-diarizes) got a pool of three workers that waited on one
    another: each stage left waits for the one before it, so only the pool's start-up was added."""
    monkeypatch.setattr("anim400k.threads.available_cpus", lambda: 2)
    monkeypatch.setattr(aj, "available_memory", lambda: 64 * GIB)
    monkeypatch.setattr(aj, "POOL_MIN_SECONDS", 20.0)
    ctx = _contexts(tmp_path, [30.0])
    keys = list(ctx)
    assert schedule._auto_jobs(BuildOptions(), ctx, keys) == 3  # nothing known of the stages left: all of them
    full = {keys[0]: {"sync", "asr_en", "asr_ja", "separate", "diarize", "align", "cut"}}
    assert schedule._auto_jobs(BuildOptions(), ctx, keys, full) == 3
    assert schedule._auto_jobs(BuildOptions(), ctx, keys, {keys[0]: {"asr_en", "diarize", "align", "cut"}}) == 3
    with caplog.at_level(logging.INFO, logger="anim400k.dataset.schedule"):
        assert schedule._auto_jobs(BuildOptions(), ctx, keys, {keys[0]: {"align", "cut"}}) == 1
        assert schedule._auto_jobs(BuildOptions(), ctx, keys, {keys[0]: {"separate", "diarize", "align", "cut"}}) == 1
    assert "the episode's stages left run one after another" in caplog.text
    two = _contexts(tmp_path, [30.0, 30.0])
    both = list(two)
    only_cut = {k: {"cut"} for k in both}
    assert schedule._auto_jobs(BuildOptions(), two, both, only_cut) == 2  # two episodes still run side by side


def test_a_resumed_build_left_with_one_chain_of_stages_runs_in_this_process(short_episodes: list, tmp_path: Path,
                                                                            monkeypatch, caplog):
    """The schedule hands ``auto`` the stages each episode has left: a re-run that only re-cuts starts no pool."""
    import yaml

    ep = short_episodes[0]
    manifest = tmp_path / "one.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": [
        {"episode": "1", "media": str(ep.media), "subtitles": str(ep.subtitles)}]}]}))
    monkeypatch.setattr(aj, "POOL_MIN_SECONDS", 1.0)
    monkeypatch.setattr(aj, "available_memory", lambda: 64 * GIB)
    monkeypatch.setattr("anim400k.threads.available_cpus", lambda: 2)
    seen: list[dict] = []
    real = schedule._auto_jobs

    def spy(options, contexts, pending_keys, left=None):
        seen.append({k: set(v) for k, v in (left or {}).items()})
        return 1  # the stages themselves run in this process either way (fast)

    monkeypatch.setattr(schedule, "_auto_jobs", spy)
    out = tmp_path / "rel"
    argv = ["build", str(manifest), "--out", str(out), "--no-progress", "--no-video-clips",
            "--asr-en", "vad", "--asr-ja", "vad"]
    assert main(argv) == 0
    assert len(seen) == 1 and len(seen[0]) == 1
    assert all({"asr_en", "asr_ja", "sync", "cut"} <= v for v in seen[0].values())
    monkeypatch.setattr(schedule, "_auto_jobs", real)
    with caplog.at_level(logging.INFO, logger="anim400k.dataset.schedule"):
        assert main([*argv, "--no-backing-clips"]) == 0  # only the cut stage's options changed
    assert "the episode's stages left run one after another" in caplog.text  # before: a pool of 3 workers


def test_the_memory_plan_hears_of_the_largest_episode_the_probes_did_not_reach(tmp_path: Path, monkeypatch):
    """The probes stop at the pool's threshold, so a 2-hour film at the end of a manifest was planned 2 GiB a worker
    (it peaks at ~6.5 GB): the largest episode file left is probed as well."""
    monkeypatch.setattr("anim400k.threads.available_cpus", lambda: 16)
    monkeypatch.setattr(aj, "available_memory", lambda: 64 * GIB)
    monkeypatch.setattr(aj, "POOL_MIN_SECONDS", 20.0)
    files = []
    for i, size in enumerate([1000, 1000, 1000, 1000, 50_000, 2000]):
        f = tmp_path / f"ep{i}.mkv"
        f.write_bytes(b"x" * size)
        files.append(str(f))
    many = {f"show/{i}": EpisodeContext(EpisodeRef("show", str(i), f, None), "w", str(tmp_path), BuildOptions())
            for i, f in enumerate(files)}
    lengths = {files[4]: 7200.0}
    monkeypatch.setattr(aj, "media_seconds", lambda path: lengths.get(path, 12.0))
    seen: list[float | None] = []
    monkeypatch.setattr(aj, "worker_memory", lambda longest=None: seen.append(longest) or 8 * GIB)
    assert schedule._auto_jobs(BuildOptions(), many, list(many)) == 8  # 64 GiB / 8 GiB
    assert seen == [7200.0]  # before: 12 s, the longest of the two episodes probed
    assert aj.largest_file([files[0], "https://x/y.mkv", str(tmp_path / "missing.mkv"), files[5]]) == files[5]
    assert aj.largest_file(["s3://b/k.mkv"]) is None


def test_parse_jobs():
    assert parse_jobs("--jobs", "auto") is None
    assert parse_jobs("--jobs", " AUTO ") is None
    assert parse_jobs("--jobs", "0") == 0
    assert parse_jobs("--jobs", "3") == 3
    for bad in ("-1", "1.5", "", "two", "٣"):
        with pytest.raises(InputError, match="--jobs must be 'auto' or an integer >= 0"):
            parse_jobs("--jobs", bad)


def test_a_short_build_with_the_default_jobs_runs_in_this_process(short_manifest: Path, tmp_path: Path, capsys,
                                                                  caplog):
    """The CLI's default is auto; the test episodes are short, so every stage runs in the command's process."""
    out = tmp_path / "rel"
    argv = ["build", str(short_manifest), "--out", str(out), "--no-progress", "--no-video-clips",
            "--asr-en", "vad", "--asr-ja", "vad"]
    with caplog.at_level(logging.INFO, logger="anim400k.dataset.schedule"):
        assert main(argv) == 0
    assert "worker(s) for" in caplog.text and "(in this process)" in caplog.text
    assert (out / "build_report.json").is_file()


def _fake_machine(tmp_path: Path, monkeypatch, cgroup: str, files: dict[str, str]) -> None:
    """/proc/meminfo with 64 GiB available, /proc/self/cgroup ``cgroup`` and the cgroup files ``files``."""
    meminfo, self_cgroup, root = tmp_path / "meminfo", tmp_path / "self_cgroup", tmp_path / "cgroup"
    meminfo.write_text(f"MemTotal: {128 * GIB // 1024} kB\nMemAvailable: {64 * GIB // 1024} kB\n", encoding="ascii")
    self_cgroup.write_text(cgroup, encoding="ascii")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="ascii")
    monkeypatch.setattr(aj, "MEMINFO", meminfo)
    monkeypatch.setattr(aj, "SELF_CGROUP", self_cgroup)
    monkeypatch.setattr(aj, "CGROUP_ROOT", root)


@pytest.mark.parametrize(("cgroup", "files", "room"), [
    # cgroup v2 (docker --memory=5g): 5 GiB limit, 1.5 GiB used of which 0.5 GiB droppable page cache
    ("0::/\n", {"memory.max": f"{5 * GIB}\n", "memory.current": f"{3 * GIB // 2}\n",
                "memory.stat": f"anon 1\ninactive_file {GIB // 2}\n"}, 4 * GIB),
    # cgroup v2 seen with its path (no cgroup namespace)
    ("0::/docker/abc\n", {"docker/abc/memory.max": f"{5 * GIB}\n", "docker/abc/memory.current": "0\n"}, 5 * GIB),
    # cgroup v1 (memory controller on its own hierarchy)
    ("5:memory:/\n0::/\n", {"memory/memory.limit_in_bytes": f"{5 * GIB}\n", "memory/memory.usage_in_bytes": "0\n"},
     5 * GIB),
    # no limit: the machine's memory
    ("0::/\n", {"memory.max": "max\n", "memory.current": "0\n"}, None),
    ("5:memory:/\n", {"memory/memory.limit_in_bytes": "9223372036854771712\n", "memory/memory.usage_in_bytes": "0\n"},
     None),
])
def test_available_memory_is_the_containers_not_the_hosts(tmp_path: Path, monkeypatch, cgroup, files, room):
    """In a container /proc/meminfo shows the host's memory: a 16-CPU host with 64 GiB free put 16 workers (2 GiB
    each) into a container limited to 5 GiB, where the kernel kills them; the cgroup's limit caps the pool."""
    _fake_machine(tmp_path, monkeypatch, cgroup, files)
    assert aj.cgroup_memory_room() == room
    assert aj.available_memory() == (64 * GIB if room is None else room)
    workers = 16 if room is None else room // aj.WORKER_MEMORY_BYTES
    assert aj.auto_jobs(3000.0, 8, 16, aj.available_memory()) == workers


def test_auto_probes_the_episodes_only_until_the_pool_threshold(tmp_path: Path, monkeypatch, caplog):
    """A manifest of thousands of episodes had every JP medium probed (a few ms each locally, more on a network
    filesystem) before the first stage, though the first few already decide: the probes stop at the threshold."""
    monkeypatch.setattr("anim400k.threads.available_cpus", lambda: 4)
    monkeypatch.setattr(aj, "available_memory", lambda: 64 * GIB)
    monkeypatch.setattr(aj, "POOL_MIN_SECONDS", 20.0)
    ctx = _contexts(tmp_path, [1.0] * 3)
    ref = next(iter(ctx.values())).ref
    many = {f"show/{i}": EpisodeContext(EpisodeRef("show", str(i), ref.jp_media, ref.en_media), "w", str(tmp_path),
                                        BuildOptions()) for i in range(500)}
    probes: list[str] = []
    monkeypatch.setattr(aj, "media_seconds", lambda path: probes.append(path) or 8.0)
    with caplog.at_level(logging.INFO, logger="anim400k.dataset.schedule"):
        assert schedule._auto_jobs(BuildOptions(), many, list(many)) == 4
    assert len(probes) == 4  # 8 + 8 + 8 s >= 20 s: the other 497 episodes are not probed (one more: the largest)
    assert "500 episode(s), at least 24 s of audio" in caplog.text
    caplog.clear()
    probes.clear()
    few = dict(list(many.items())[:2])
    with caplog.at_level(logging.INFO, logger="anim400k.dataset.schedule"):
        assert schedule._auto_jobs(BuildOptions(), few, list(few)) == 1  # 16 s: every episode probed
    assert len(probes) == 2 and "2 episode(s), 16 s of audio" in caplog.text
