"""Progress inside the long stages: the reporters of ASR, separation, diarization and cut, the channel from a
stage task (any process) to the driver's bars, and the bars' absence off a terminal."""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.manifest import load_manifest
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.pipeline import build_dataset
from anim400k.dataset.progress_channel import ProgressFile, ProgressFolder, progress_file_name, stage_reporter
from anim400k.dataset.runners import LocalRunner
from anim400k.dataset.schedule import StageProgress
from anim400k.dataset.stages import STAGES, run_stage
from anim400k.fsutil.paths import under
from anim400k.progress import Counter, Frontier
from anim400k.testing.release import release_files
from anim400k.testing.terminal import FakeTerminal

LONG_STAGES = ("asr_en", "asr_ja", "separate", "diarize", "cut")




def _build(manifest: Path, out: Path, err: io.StringIO, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Build with bars asked for (the default) and stderr ``err``; temporary folders under ``tmp``."""
    tmp.mkdir(parents=True, exist_ok=True)
    with monkeypatch.context() as mp:
        mp.setattr(sys, "stderr", err)
        mp.setattr(tempfile, "tempdir", str(tmp))
        report = build_dataset(manifest, out, BuildOptions())
    assert all(e.ok for e in report.episodes), [e.error for e in report.episodes]
    return err.getvalue()


@pytest.fixture(scope="module")
def builds(short_episodes: list, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One 12 s episode built twice: stderr a pipe (no bars) and a terminal (bars with the stages' progress)."""
    root = tmp_path_factory.mktemp("stage-progress")
    ep = short_episodes[0]
    manifest = root / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "test_show", "episodes": [
        {"episode": "1", "media": str(ep.media), "subtitles": str(ep.subtitles)}]}]}))
    with pytest.MonkeyPatch.context() as mp:
        plain = _build(manifest, root / "plain", io.StringIO(), root / "tmp-plain", mp)
        tty = _build(manifest, root / "tty", FakeTerminal(), root / "tmp-tty", mp)
    return {"root": root, "manifest": manifest, "plain": plain, "tty": tty}


def _context(builds: dict[str, object], name: str) -> EpisodeContext:
    root = Path(str(builds["root"]))
    ref = load_manifest(Path(str(builds["manifest"]))).episodes()[0]
    out = root / name
    return EpisodeContext(ref=ref, work_dir=str(under(out, "work", ref.show_key, ref.episode)), release_dir=str(out),
                          options=BuildOptions(progress=False))


def test_a_build_off_a_terminal_draws_no_bars_and_makes_no_channel(builds: dict[str, object]) -> None:
    root = Path(str(builds["root"]))
    assert "ep/s" not in str(builds["plain"]) and "\r" not in str(builds["plain"])
    assert list((root / "tmp-plain").iterdir()) == []  # no progress folder was made


def test_a_build_on_a_terminal_draws_bars_keeps_the_outputs_and_removes_its_channel(
        builds: dict[str, object]) -> None:
    root = Path(str(builds["root"]))
    assert "asr_en" in str(builds["tty"]) and "ep/s" in str(builds["tty"])
    assert list((root / "tmp-tty").iterdir()) == []  # the channel's folder is gone after the build
    assert release_files(root / "tty") == release_files(root / "plain")  # bars or not: byte-identical release


def test_long_stages_report_monotone_complete_progress_and_write_the_same_outputs(
        builds: dict[str, object]) -> None:
    ctx = _context(builds, "plain")
    work, out = Path(ctx.work_dir), Path(ctx.release_dir)
    by_name = {s.name: s for s in STAGES}
    assert {s.name for s in STAGES if s.reports} == set(LONG_STAGES)
    for name in LONG_STAGES:
        before = {p: p.read_bytes() for p in (work / f for f in by_name[name].outputs)}
        media_before = release_files(out) if name == "cut" else None
        heard: list[tuple[float, float, str]] = []
        run_stage(name, ctx, lambda d, t, u: heard.append((d, t, u)))  # noqa: B023 - used at once
        assert heard, name
        done = [d for d, _, _ in heard]
        assert done == sorted(done), (name, heard)  # never goes back
        assert heard[-1][0] == heard[-1][1] > 0, (name, heard)  # complete
        assert all(d <= t for d, t, _ in heard), (name, heard)
        if name != "separate":  # the separation learns its block count after its checks (0/1 first)
            assert len({t for _, t, _ in heard}) == 1 and len({u for _, _, u in heard}) == 1, (name, heard)
        assert {p: p.read_bytes() for p in before} == before, name  # the same outputs with a reporter
        if media_before is not None:
            assert release_files(out) == media_before
    units = {}
    for name in LONG_STAGES:
        heard = []
        run_stage(name, ctx, lambda d, t, u: heard.append((d, t, u)))  # noqa: B023
        units[name] = heard[-1]
    assert units["asr_en"][2] == units["asr_ja"][2] == "s" and units["asr_en"][1] == pytest.approx(12.0, abs=0.1)
    assert units["diarize"][2] == "step" and units["cut"][2] == "clip" and units["separate"][2] == "block"
    assert units["cut"][1] == len(_listed_clips(ctx))


def _listed_clips(ctx: EpisodeContext) -> list[str]:
    import json

    return list(json.loads((Path(ctx.work_dir) / "cut.json").read_text())["files"])


def test_a_worker_process_reports_through_the_channel(builds: dict[str, object]) -> None:
    ctx = _context(builds, "plain")
    folder = ProgressFolder()
    runner = LocalRunner(1, retries=0)
    try:
        runner.submit("asr_ja", folder.context(ctx)).result(timeout=600)
        got = folder.read(ctx.ref.key, "asr_ja")  # written by the pool's worker process
    finally:
        runner.close()
        folder.close()
    assert got is not None and got[0] == got[1] == pytest.approx(12.0, abs=0.1) and got[2] == "s"
    assert not folder.root.exists()


def test_a_worker_killed_after_reporting_is_retried_and_the_channel_still_works(
        builds: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker writes its progress, dies before the driver hears of the stage; the retry reports again."""
    from anim400k.dataset.execute import FAULT_DIR_ENV, FAULT_STAGE_ENV

    ctx = _context(builds, "plain")
    monkeypatch.setenv(FAULT_STAGE_ENV, "asr_ja:after")
    monkeypatch.setenv(FAULT_DIR_ENV, str(tmp_path))
    folder = ProgressFolder()
    runner = LocalRunner(1, retries=1)
    try:
        runner.submit("asr_ja", folder.context(ctx)).result(timeout=600)
        got = folder.read(ctx.ref.key, "asr_ja")
    finally:
        runner.close()
        folder.close()
    assert (tmp_path / "asr_ja.after.killed").exists()  # the first worker did die
    assert got is not None and got[0] == got[1] and got[2] == "s"
    assert [p.name for p in tmp_path.iterdir()] == ["asr_ja.after.killed"]


def test_stage_bar_shows_the_episode_in_flight_until_it_ends(builds: dict[str, object],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context(builds, "plain")
    err = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", err)
    bars = StageProgress(True, {"asr_en": 1, "align": 1})
    assert bars.channel is not None
    root = bars.channel.root
    try:
        sent = bars.context(ctx)
        bars.start(ctx.ref.key, "asr_en")
        bars.start(ctx.ref.key, "align")  # a short stage: not followed
        report = stage_reporter(sent, "asr_en")
        assert report is not None
        report(340.0, 1440.0, "s")
        bars.poll()
        assert "test_show/1 340/1440 s" in err.getvalue()
        bars.end(ctx.ref.key, "asr_en")
        assert bars.channel.read(ctx.ref.key, "asr_en") is None  # its file is gone
        assert bars.bars["asr_en"].n == 1
    finally:
        bars.close()
    assert not root.exists()


def test_each_stage_bar_times_its_own_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bar was made at the build's start and closed at its end: a stage's elapsed time and s/ep were the
    build's (off by 2-70x for the late, short stages)."""
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    bars = StageProgress(True, {"asr_en": 1, "align": 2})
    try:
        made = bars.bars["align"].start_t
        time.sleep(0.2)
        bars.start("a", "align")
        started = bars.bars["align"].start_t
        assert started >= made + 0.2  # the clock starts with the stage's first episode
        bars.start("b", "align")
        assert bars.bars["align"].start_t == started  # not again with the next one
        bars.end("a", "align")
        bars.end("b", "align", ok=False)  # a failed episode is not counted
        assert bars.bars["align"].n == 1
        bars.start("c", "asr_en")
        bars.end("c", "asr_en")
        asr = bars.bars["asr_en"]
        assert asr.n == 1
        stopped = asr.format_dict["elapsed"]
        time.sleep(0.1)
        assert asr.format_dict["elapsed"] == stopped < 0.2  # its last episode stopped its clock
        assert bars.bars["align"].format_dict["elapsed"] > 0  # still running
    finally:
        bars.close()


def test_no_channel_and_no_reporter_off_a_terminal(builds: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _context(builds, "plain")
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bars = StageProgress(True, {"asr_en": 1})
    try:
        assert bars.channel is None
        sent = bars.context(ctx)
        assert sent is ctx and stage_reporter(sent, "asr_en") is None
    finally:
        bars.close()


def test_progress_file_writes_first_and_last_reports_and_gives_up_quietly(tmp_path: Path) -> None:
    report = ProgressFile(tmp_path / "asr_en.json", interval=3600.0)
    report(0.0, 10.0, "s")
    report(5.0, 10.0, "s")  # within the interval: skipped
    report(10.0, 10.0, "s")  # the last: always written
    assert report.writes == 2
    assert (tmp_path / "asr_en.json").read_text() == '{"done": 10.0, "total": 10.0, "unit": "s"}'
    assert [p.name for p in tmp_path.iterdir()] == ["asr_en.json"]  # no temporary left
    gone = ProgressFile(tmp_path / "no-such-folder" / "x.json")
    gone(1.0, 2.0, "s")  # another machine's folder: no error, no more tries
    gone(2.0, 2.0, "s")
    assert gone.writes == 0


def test_a_burst_of_reports_shows_its_last_once_the_interval_is_over(tmp_path: Path) -> None:
    """Whisper finishes a batch of windows at once: only the first report of the burst was written, and the bar
    read it (28/600 s) until the next batch, a minute later."""
    report = ProgressFile(tmp_path / "asr_en.json", interval=0.2)
    for done in (0.0, 27.84, 55.0, 83.0, 222.7):
        report(done, 600.0, "s")
    assert json.loads((tmp_path / "asr_en.json").read_text())["done"] == 0.0  # the first, at once
    time.sleep(0.5)
    assert json.loads((tmp_path / "asr_en.json").read_text())["done"] == 222.7  # the burst's last, after it
    assert report.writes == 2
    report(600.0, 600.0, "s")  # the end: at once, and nothing held back writes over it later
    time.sleep(0.3)
    assert json.loads((tmp_path / "asr_en.json").read_text())["done"] == 600.0 and report.writes == 3
    assert [p.name for p in tmp_path.iterdir()] == ["asr_en.json"]


def test_frontier_and_counter_never_go_back() -> None:
    heard: list[tuple[float, float, str]] = []
    f = Frontier(lambda d, t, u: heard.append((d, t, u)), [10.0, 20.0, 30.0], 35.0)
    f.done(1)  # out of order: nothing before it is done yet
    f.done(0)
    f.done(2)
    f.finish()
    assert heard == [(20.0, 35.0, "s"), (30.0, 35.0, "s"), (35.0, 35.0, "s")]
    counted: list[tuple[float, float, str]] = []
    c = Counter(lambda d, t, u: counted.append((d, t, u)), 2, "clip")
    c.tick(Path("a.mp3"))
    c.add(5)  # never past the total
    assert counted == [(1.0, 2.0, "clip"), (2.0, 2.0, "clip")]


def test_close_removes_the_folder_while_a_worker_writes_its_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker wrote its progress file just after the driver's delete had listed the folder (an
    early-stopped build): the last rmdir failed, ignore_errors hid it, the folder stayed behind."""
    import os

    folder = ProgressFolder()
    ProgressFile(folder.root / progress_file_name("show/1", "asr_ja"))(1.0, 10.0, "s")  # in flight
    worker = ProgressFile(folder.root / progress_file_name("show/2", "asr_ja"))  # its first report is late
    real_scandir = os.scandir
    wrote: list[int] = []

    class _Listed:  # the entries as rmtree lists them, then the other worker's first report lands
        def __init__(self, it: Any) -> None:
            with it:
                self.entries = list(it)
            if not wrote:
                wrote.append(1)
                worker(1.0, 10.0, "s")

        def __enter__(self) -> _Listed:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def __iter__(self) -> Any:
            return iter(self.entries)

    monkeypatch.setattr(os, "scandir", lambda *a, **k: _Listed(real_scandir(*a, **k)))
    folder.close()
    monkeypatch.undo()
    assert wrote and not folder.root.exists()
    assert not [p for p in folder.root.parent.iterdir() if p.name.startswith(f".{folder.root.name}")]
    assert worker.writes == 0  # it found no folder and went quiet, as on another machine
