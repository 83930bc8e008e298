"""``anim400k dub`` re-run and resumed after a kill: the dataset report is an uninterrupted run's, a killed
dub's temporary file is removed by the next dub of the same output (not while another dub writes it), and
the atomic writes reach the disk (fsync) before their rename."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.dub.dataset_mode import ENTRY_SUFFIX, REPORT_NAME
from anim400k.errors import InputError
from anim400k.fsutil.atomic import write_json_atomic
from anim400k.fsutil.locks import output_lock, output_lock_path
from anim400k.fsutil.temp_files import remove_stale_temps


def _dub_dataset(rel: Path, out: Path) -> dict:
    argv = ["dub", "--dataset", str(rel), "--split", "all", "--out", str(out), "--tts", "espeak", "--no-progress"]
    assert main(argv) == 0
    text = (out / REPORT_NAME).read_text(encoding="utf-8")
    return json.loads(text.replace(str(out), "OUT"))  # the folders differ, nothing else may


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from anim400k.testing.demo_release import make_demo_release

    return make_demo_release(tmp_path_factory.mktemp("resume") / "rel", n_clips=3, subtitles=True).root


@pytest.fixture(scope="module")
def uninterrupted(release: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("resume") / "whole"
    return out, _dub_dataset(release, out)


def test_a_rerun_and_a_resumed_run_report_every_clip_as_an_uninterrupted_run(
        release: Path, uninterrupted: tuple[Path, dict], tmp_path: Path) -> None:
    """A re-run reported kept clips as "already dubbed (kept)" with no text or timing: the summary's
    mean_abs_end_error became None and evaluate left out intelligibility_wer."""
    from anim400k.evaluate.metrics import evaluate_dubs

    whole, expected = uninterrupted
    assert expected["summary"]["mean_abs_end_error"] is not None
    assert all(c["text"] and c["mean_abs_end_error"] is not None for c in expected["clips"])
    out = tmp_path / "D"
    shutil.copytree(whole, out)
    assert _dub_dataset(release, out) == expected  # a re-run: every clip kept, reported as it was

    mp3s = sorted(out.glob("*/*.mp3"))
    assert len(mp3s) == 3
    # a kill: no report yet, one clip not dubbed, one killed between its MP3 and its entry,
    # one whose entry is another MP3's (a run with other options replaced the MP3)
    (out / REPORT_NAME).unlink()
    mp3s[0].unlink()
    mp3s[0].with_suffix(ENTRY_SUFFIX).unlink()
    mp3s[1].with_suffix(ENTRY_SUFFIX).unlink()
    stale = mp3s[2].with_suffix(ENTRY_SUFFIX)
    saved = json.loads(stale.read_text(encoding="utf-8"))
    saved["mp3"]["sha256"] = "0" * 64
    saved["entry"]["text"] = "stale text"
    write_json_atomic(stale, saved)
    assert _dub_dataset(release, out) == expected
    for mp3 in mp3s:  # the dubs themselves are the uninterrupted run's
        assert mp3.read_bytes() == (whole / mp3.relative_to(out)).read_bytes()

    # an entry whose MP3 is gone is not reported: the clip is dubbed again
    mp3s[2].unlink()
    assert _dub_dataset(release, out) == expected

    resumed = evaluate_dubs(out, release, asr="auto", vad="energy", speaker=False)
    straight = evaluate_dubs(whole, release, asr="auto", vad="energy", speaker=False)
    assert resumed.corpus["intelligibility_wer"] == straight.corpus["intelligibility_wer"]
    assert resumed.summary == straight.summary


def _mkv(path: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_dub_outputs import plain_mkv

    return plain_mkv(path)


def _no_work(*args, **kwargs):
    raise InputError("stopped here by the test")


def test_a_rerun_removes_the_temporary_files_a_killed_dub_left(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL during the mux left a hidden `.x.XXXXXXXX.part.mkv` that no later run removed."""
    src = _mkv(tmp_path / "in.mkv")
    out = tmp_path / "D" / "x.mkv"
    out.parent.mkdir()
    left = out.parent / ".x.anim400k-k3j_9abc.part.mkv"  # atomic_path's name for x.mkv
    others = [out.parent / n for n in (".x.anim400k-k3j_9abc.part.json", ".xy.anim400k-k3j_9abc.part.mkv",
                                       ".x.y.anim400k-k3j_9abc.part.mkv", "x.mkv.part", ".x.anim400k-k3j_9ab.part.mkv",
                                       ".x.k3j_9abc.part.mkv")]  # unmarked (earlier versions'): may be the user's
    for f in [left, *others]:
        f.write_bytes(b"partial")
    link = out.parent / ".x.anim400k-linkxxxx.part.mkv"
    link.symlink_to(src)
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    assert main(["dub", str(src), "--out", str(out), "--tts", "espeak", "--no-progress"]) == 2
    assert not left.exists()
    assert all(f.read_bytes() == b"partial" for f in others)  # other outputs' names are not touched
    assert link.is_symlink() and src.is_file()
    assert not output_lock_path(out).exists()  # the lock file goes with the dub
    assert remove_stale_temps(tmp_path / "missing" / "x.mkv") == 0


def test_a_rerun_removes_the_temporary_files_of_every_output_a_killed_dub_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only ``--out``'s temporary file was removed: a dub killed while writing ``--srt``, ``--report`` or a
    ``--stems`` WAV left its ``.NAME.XXXXXXXX.part.EXT`` there for good."""
    src = _mkv(tmp_path / "in.mkv")
    out, srt, report, stems = tmp_path / "x.mkv", tmp_path / "S" / "x.srt", tmp_path / "R" / "r.json", tmp_path / "st"
    for folder in (srt.parent, report.parent, stems):
        folder.mkdir()
    left = [srt.parent / ".x.anim400k-k3j_9abc.part.srt", report.parent / ".r.anim400k-ab_cd123.part.json",
            stems / ".backing.anim400k-zz9_yy8x.part.wav", stems / ".dub_mix.anim400k-a1b2c3d4.part.wav"]
    kept = [srt.parent / ".y.anim400k-k3j_9abc.part.srt", report.parent / ".r.anim400k-k3j_9abc.part.srt",
            stems / ".other.anim400k-k3j_9abc.part.wav", stems / "backing.wav.part",
            stems / ".backing.zz9_yy8x.part.wav"]
    for f in [*left, *kept]:
        f.write_bytes(b"partial")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    assert main(["dub", str(src), "--out", str(out), "--srt", str(srt), "--report", str(report), "--stems",
                 str(stems), "--tts", "espeak", "--no-progress"]) == 2
    assert [f.name for f in left if f.exists()] == []
    assert all(f.read_bytes() == b"partial" for f in kept)  # not these outputs' temporaries
    assert not any(p.name.endswith(".anim400k.lock") for p in tmp_path.rglob(".*"))  # the locks go with the dub
    # an output whose folder does not exist yet: nothing made before the work
    assert main(["dub", str(src), "--out", str(out), "--srt", str(tmp_path / "new" / "x.srt"), "--tts", "espeak",
                 "--no-progress"]) == 2
    assert not (tmp_path / "new").exists()


def test_a_dub_of_an_output_another_dub_is_writing_is_refused_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    src = _mkv(tmp_path / "in.mkv")
    out = tmp_path / "x.mkv"
    theirs = tmp_path / ".x.abcdefgh.part.mkv"  # the running dub's temporary file
    theirs.write_bytes(b"being written")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    with output_lock(out, "dub"):
        assert main(["dub", str(src), "--out", str(out), "--tts", "espeak", "--no-progress"]) == 2
        assert output_lock_path(out).read_text() == str(os.getpid())
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {out}: another dub (process {os.getpid()}) is writing this file: wait for it to "
        "finish or choose another output file"]
    assert theirs.read_bytes() == b"being written"
    with output_lock(tmp_path / "y.mkv"):  # another output in the same folder is not held up
        with output_lock(tmp_path / "z.mkv"):
            pass


def test_atomic_json_is_synced_before_its_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No write was ever fsynced: after a power cut a renamed file could be empty while a record
    (the catalog, a report) counted it as written."""
    from anim400k.fsutil import atomic, disk, publish

    target = tmp_path / "r.json"
    events: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        events.append(("fsync", ("folder" if stat.S_ISDIR(st.st_mode) else "file", st.st_size, st.st_ino)))
        real_fsync(fd)

    def replace(src, dst) -> None:
        events.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(disk.os, "fsync", fsync)
    monkeypatch.setattr(publish.os, "replace", replace)
    write_json_atomic(target, {"done": True})
    written, folder = target.stat(), tmp_path.stat()  # the file synced is the one renamed, whole
    assert events == [("fsync", ("file", written.st_size, written.st_ino)), ("replace", "r.json"),
                      ("fsync", ("folder", folder.st_size, folder.st_ino))]
    events.clear()
    with atomic.atomic_path(tmp_path / "clip.mp3", sync=False) as tmp:  # media clips opt out (measured)
        tmp.write_bytes(b"x")
    assert events == [("replace", "clip.mp3")]


def _dataset_argv(rel: Path, out: Path) -> list[str]:
    return ["dub", "--dataset", str(rel), "--split", "all", "--out", str(out), "--tts", "espeak", "--no-progress"]


def test_a_second_dataset_dub_into_the_same_folder_is_refused_in_one_line(
        release: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Two `dub --dataset` runs into one folder were not locked against each other: both dubbed the
    same clips, each one's MP3 and entry could replace the other's and the report was the last one's."""
    from anim400k.fsutil.locks import LOCK_FILE, folder_lock

    out = tmp_path / "D"
    out.mkdir()
    theirs = out / ".dub_dataset_report.abcdefgh.part.json"  # the running dub's temporary report
    theirs.write_bytes(b"being written")
    with folder_lock(out, "dub --dataset"):
        assert main(_dataset_argv(release, out)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {out}: another dub --dataset (process {os.getpid()}) is writing into this folder: "
        "wait for it to finish or choose another output folder"]
    assert sorted(p.name for p in out.iterdir()) == [theirs.name]  # nothing written, theirs left alone
    assert not (out / LOCK_FILE).exists()


def test_a_killed_dataset_dubs_lock_blocks_nothing_and_its_temporaries_go(
        release: Path, uninterrupted: tuple[Path, dict], tmp_path: Path) -> None:
    """A dataset dub killed mid-write left hidden `.UUID.XXXXXXXX.part.mp3` files that no later run removed."""
    import subprocess

    whole, expected = uninterrupted
    out = tmp_path / "D"
    out.mkdir()
    code = ("import sys, time; from anim400k.fsutil.locks import folder_lock\n"
            "with folder_lock(sys.argv[1], 'dub --dataset'):\n    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    finally:
        proc.kill()  # SIGKILL: the lock file stays, the kernel dropped its lock
        proc.wait()
    mp3 = sorted(whole.glob("*/*.mp3"))[0].relative_to(whole)
    (out / mp3.parent).mkdir()
    uid = mp3.stem
    ours = [out / mp3.parent / f".{uid}.anim400k-k3j_9abc.part.mp3",
            out / mp3.parent / f".{uid}.dub.anim400k-k3j_9abc.part.json",
            out / ".dub_dataset_report.anim400k-k3j_9abc.part.json"]
    others = [out / mp3.parent / n for n in (f".{uid}x.anim400k-k3j_9abc.part.mp3", f".{uid}.anim400k-k3j_9ab.part.mp3",
                                             "notes.txt", f".{uid}.k3j_9abc.part.mp3")]  # the last: unmarked
    others.append(out / ".other.anim400k-k3j_9abc.part.json")
    for f in ours + others:
        f.write_bytes(b"partial")
    assert _dub_dataset(release, out) == expected
    assert not any(f.exists() for f in ours)
    assert all(f.read_bytes() == b"partial" for f in others)  # another program's or output's names stay


def test_a_dataset_dub_never_replaces_mp3s_it_did_not_write(
        release: Path, uninterrupted: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`dub --dataset --out SYS` into another system's dubs (or a copy of the gold EN clips: the same F/UUID.mp3
    layout) deleted each MP3 that had no entry of ours beside it and wrote its own dub in its place."""
    from anim400k.dub.dataset_mode import DUB_MARK

    whole, expected = uninterrupted
    assert (whole / DUB_MARK).is_file()  # every run marks its folder before its first MP3
    out = tmp_path / "SYS"
    gold = sorted(whole.glob("*/*.mp3"))[1].relative_to(whole)
    (out / gold.parent).mkdir(parents=True)
    (out / gold).write_bytes(b"another system's dub")
    assert main(_dataset_argv(release, out)) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {out}: --out holds {gold}, which no dub --dataset wrote (no {DUB_MARK} or {REPORT_NAME} "
        "here): dubbing would replace it (another system's dubs or a copy of the gold clips?); dub into a folder "
        "of its own"]
    assert (out / gold).read_bytes() == b"another system's dub"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [gold.parent.name, str(gold)]

    # an earlier run's folder (its report, or the mark of a run killed before it) is dubbed into again
    (out / gold).unlink()
    shutil.copytree(whole, out, dirs_exist_ok=True)
    (out / DUB_MARK).unlink()
    assert _dub_dataset(release, out) == expected
    (out / REPORT_NAME).unlink()
    (out / gold).write_bytes(b"killed between the MP3 and its entry")
    assert _dub_dataset(release, out) == expected
    assert (out / gold).read_bytes() == (whole / gold).read_bytes()


def test_a_dataset_dub_with_a_clip_not_dubbed_exits_2_naming_it(release: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Every clip failing (a release under a relative name FFmpeg took for a protocol) printed `dubbed 0/2` and
    exited 0; a clip not dubbed now makes the exit status 2, as a build's failed episode does."""
    rel = tmp_path / "rel"
    shutil.copytree(release, rel)
    broken = sorted((rel / "anim400k_audio_clips").rglob("*.mp3"))[0]
    broken.write_bytes(b"not audio at all")
    out = tmp_path / "dubs"
    argv = ["dub", "--dataset", str(rel), "--split", "all", "--out", str(out), "--tts", "espeak", "--no-progress"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "dubbed " in captured.out
    err = [line for line in captured.err.splitlines() if line.startswith("anim400k: error:")]
    assert len(err) == 1 and "clips not dubbed (the first, " in err[0] and str(out / REPORT_NAME) in err[0]
    report = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    assert report["summary"]["dubbed"] == report["summary"]["clips"] - 1
