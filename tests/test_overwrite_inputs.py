"""No command writes over its own input: an --out naming an input (same path, symbolic or hard link) is one line."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.fsutil.no_clobber import refuse_overwriting, same_file
from anim400k.testing.release import make_release


def _one_error(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    rc = main(argv)
    cap = capsys.readouterr()
    lines = [ln for ln in cap.err.splitlines() if ln.startswith("anim400k: error:")]
    assert rc == 2, cap.err
    assert len(lines) == 1 and "Traceback" not in cap.err, cap.err
    return lines[0]


@pytest.fixture()
def media(tmp_path: Path) -> Path:
    """An input file with a symbolic link and a hard link to it beside it."""
    path = tmp_path / "episode.mkv"
    path.write_bytes(b"not really a video")
    os.symlink(path, tmp_path / "link.mkv")
    os.link(path, tmp_path / "hard.mkv")
    return path


def test_same_file_sees_paths_links_and_inodes(media: Path) -> None:
    d = media.parent
    assert same_file(media, d / "." / "episode.mkv")
    assert same_file(media, d / "link.mkv") and same_file(d / "hard.mkv", media)
    assert not same_file(media, d / "new.mkv") and not same_file(d / "new.mkv", d / "other.mkv")
    assert same_file(d / "new.mkv", d / "." / "new.mkv")  # a new output named twice


@pytest.mark.parametrize("name", ["episode.mkv", "./episode.mkv", "link.mkv", "hard.mkv"])
def test_refuse_overwriting_names_the_output_and_the_input(media: Path, name: str) -> None:
    out = media.parent / name
    with pytest.raises(InputError) as err:
        refuse_overwriting({"--out": out}, {"VIDEO": media, "--subtitles": None})
    assert err.value.path == str(out) and "--out is the input VIDEO" in err.value.problem
    refuse_overwriting({"--out": media.parent / "dub.mkv", "--srt": None}, {"VIDEO": media})  # fine
    with pytest.raises(InputError, match="--srt and --out name the same file"):
        refuse_overwriting({"--out": media.parent / "x.mkv", "--srt": media.parent / "x.mkv"}, {"VIDEO": media})


@pytest.mark.parametrize("name", ["episode.mkv", "link.mkv", "hard.mkv"])
def test_dub_refuses_to_write_over_its_video(media: Path, name: str, capsys: pytest.CaptureFixture) -> None:
    before = media.read_bytes()
    line = _one_error(["dub", str(media), "--out", str(media.parent / name)], capsys)
    assert "--out is the input VIDEO" in line and name in line
    assert media.read_bytes() == before and media.stat().st_nlink == 2


def test_dub_refuses_srt_report_or_stems_over_an_input(media: Path, capsys: pytest.CaptureFixture) -> None:
    subs = media.parent / "episode.en.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n", encoding="utf-8")
    out = str(media.parent / "dub.mkv")
    line = _one_error(["dub", str(media), "--out", out, "--subtitles", str(subs), "--srt", str(subs)], capsys)
    assert "--srt is the input --subtitles" in line
    line = _one_error(["dub", str(media), "--out", out, "--report", str(media)], capsys)
    assert "--report is the input VIDEO" in line
    line = _one_error(["dub", str(media), "--out", out, "--report", out], capsys)
    assert "--report and --out name the same file" in line
    vocals = media.parent / "vocals.wav"
    os.link(media, vocals)
    line = _one_error(["dub", str(media), "--out", out, "--stems", str(media.parent)], capsys)
    assert "--stems vocals.wav is the input VIDEO" in line


def test_mux_audio_track_refuses_its_input(media: Path) -> None:
    from anim400k.media import mux_audio_track

    with pytest.raises(InputError, match="the output is the input video"):
        mux_audio_track(media, np.zeros(48000, np.float32), 48000, media.parent / "hard.mkv")


def test_dub_dataset_refuses_the_release_or_its_clip_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rel = make_release(tmp_path / "rel")
    for out in (rel, rel / "anim400k_audio_clips"):
        line = _one_error(["dub", "--dataset", str(rel), "--split", "all", "--out", str(out), "--tts", "espeak",
                           "--no-progress"], capsys)
        assert "dub into a folder of its own" in line


def test_other_commands_refuse_an_output_that_is_their_input(media: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    link, hard = str(media.parent / "link.mkv"), str(media.parent / "hard.mkv")
    cases = [
        (["separate", str(media), "--out-backing", link], "--out-backing is the input MEDIA"),
        (["separate", str(media), "--out-backing", "b.flac", "--out-vocals", hard], "--out-vocals is the input MEDIA"),
        (["transcribe", str(media), "-l", "ja", "--out", hard], "--out is the input MEDIA"),
        (["diarize", str(media), "--out", link], "--out is the input MEDIA"),
        (["sync", str(media), str(tmp_path / "en.mkv"), "--out", hard], "--out is the input JP_MEDIA"),
        (["align", "--en", str(media), "--jp", str(tmp_path / "jp.json"), "--out", link], "--out is the input --en"),
    ]
    meta = tmp_path / "show.json"
    meta.write_text("{}", encoding="utf-8")
    cases.append((["metadata", str(meta), "--out", str(meta)], "--out is the input FILE"))
    csv = tmp_path / "mushra.csv"
    csv.write_text("session_test_id\n", encoding="utf-8")
    cases.append((["mushra", "analyze", str(csv), "--out", str(tmp_path)], "--out mushra.csv is the input SOURCE"))
    cases.append((["mushra", "create", "--from-webmushra", str(meta), "--out", str(meta)],
                  "--out is the input --from-webmushra"))
    for argv, message in cases:
        before = media.read_bytes()
        assert message in _one_error(argv, capsys), argv
        assert media.read_bytes() == before


def test_stats_and_tasks_refuse_to_write_over_the_annotations(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rel = make_release(tmp_path / "rel")
    ann = rel / "anim400k_annotations.json"
    before = ann.read_bytes()
    assert "--json is the input DATASET" in _one_error(["stats", str(rel), "--json", str(ann)], capsys)
    renamed = tmp_path / "splits.json"
    os.link(ann, renamed)
    line = _one_error(["tasks", str(renamed), "--out", str(tmp_path)], capsys)
    # the annotations' folder is the release's root, so --out there is refused before any file is compared
    assert f"--out is the release folder '{tmp_path}'" in line
    assert ann.read_bytes() == before
