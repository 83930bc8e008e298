"""``anim400k dub``'s outputs: refused before any work when they cannot be written, named as the user gave
them, and no partial file left behind by SIGTERM. Small media are made here with PyAV; the dub's work
(separation, speech, mix) is replaced by silence where only the checks and the mux matter."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.fsutil.atomic import atomic_path
from anim400k.fsutil.writable import check_writable

SR = 16000


def plain_mkv(path: Path, dur: float = 2.0) -> Path:
    """An MKV with one JP mono AAC track (a 440 Hz tone)."""
    with av.open(str(path), "w") as out:
        st = out.add_stream("aac", rate=SR, layout="mono")
        st.metadata["language"] = "jpn"
        x = (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(int(SR * dur)) / SR)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(x, format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SR, 0, Fraction(1, SR)
        out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path


def _srt(path: Path) -> Path:
    path.write_text("1\n00:00:00,500 --> 00:00:01,500\nHello there.\n", encoding="utf-8")
    return path


def _no_work(*args, **kwargs):
    raise AssertionError("the dub started before the outputs were checked")


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder in which no file can be created (a read-only file system; chmod does not stop root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if Path(kwargs.get("dir") or "").resolve() == folder.resolve():
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(folder))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    return folder


@pytest.mark.parametrize("flag", ["--out", "--report", "--srt", "--stems"])
def test_an_unwritable_output_is_refused_before_any_work_naming_the_path_given(
        tmp_path: Path, read_only: Path, monkeypatch: pytest.MonkeyPatch, capsys, flag: str) -> None:
    """A read-only --report/--srt/--stems folder failed after the whole dub, with the video written and a
    message naming a hidden `.r.0bccsdrg.part.json`; a read-only --out folder likewise after the dub."""
    src = plain_mkv(tmp_path / "in.mkv")
    srt = _srt(tmp_path / "en.srt")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    target = {"--out": read_only / "x.mkv", "--report": read_only / "r.json", "--srt": read_only / "r.srt",
              "--stems": read_only / "stems"}[flag]
    out = tmp_path / "dubbed.mkv" if flag != "--out" else target
    argv = ["dub", str(src), "--out", str(out), "--subtitles", str(srt), "--tts", "espeak"]
    if flag != "--out":
        argv += [flag, str(target)]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {target}: {flag} cannot be written: Read-only file system ({read_only})"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en.srt", "in.mkv", "ro"]
    assert list(read_only.iterdir()) == []


def test_dataset_mode_refuses_an_unwritable_out_before_any_clip(tmp_path: Path, read_only: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """`dub --dataset` into a read-only folder dubbed every clip (each failing) before the report failed."""
    from anim400k.testing.release import make_release

    rel = make_release(tmp_path / "rel")
    monkeypatch.setattr("anim400k.dub.dataset_mode.dub_audio", _no_work)
    argv = ["dub", "--dataset", str(rel), "--split", "all", "--out", str(read_only / "dubs"), "--tts", "espeak",
            "--no-progress"]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {read_only / 'dubs'}: --out cannot be written: Read-only file system ({read_only})"]
    assert list(read_only.iterdir()) == []


def test_check_writable_takes_missing_folders_and_refuses_a_path_through_a_file(tmp_path: Path) -> None:
    check_writable({"--report": tmp_path / "new" / "deeper" / "r.json"}, {"--stems": tmp_path / "stems"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing created, no probe left
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match=r"--srt cannot be written: .*file \(a part of its folder path\) is a file"):
        check_writable({"--srt": tmp_path / "file" / "sub" / "r.srt"})
    with pytest.raises(InputError, match="--stems is a file: give a folder"):
        check_writable({}, {"--stems": tmp_path / "file"})
    with pytest.raises(InputError, match="--out is a folder"):
        check_writable({"--out": tmp_path})


def test_a_write_error_names_the_output_not_its_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with pytest.raises(PermissionError) as err, atomic_path(out) as tmp:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp))
    assert err.value.filename == str(out) and err.value.errno == errno.EACCES
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError) as bad, atomic_path(out) as tmp:
        raise InputError("cannot be encoded", tmp)
    assert bad.value.message == f"{out}: cannot be encoded"


#: ``dub`` with its work replaced by silence (only the checks and the mux run), then ``anim400k dub``
_SILENT_DUB = """
import numpy as np
from anim400k.dub import pipeline
from anim400k.dub.report import DubReport

def silent(mix, sr, translator, tts, options=None, source="", **kwargs):
    report = DubReport(source=source, output=None, duration=len(mix) / sr, sample_rate=sr, tts=tts.name,
                       translator=translator.name, diarizer="none")
    zeros = np.zeros_like(mix)
    return pipeline.DubResult(zeros, zeros, zeros, zeros, [], report)

pipeline.dub_audio = silent
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_the_mux_removes_the_partial_output_and_exits_143(tmp_path: Path) -> None:
    """SIGTERM while the output was written left a hidden `.NAME.xxxx.part.mkv` (Ctrl-C cleaned up)."""
    src = plain_mkv(tmp_path / "in.mkv")
    srt = _srt(tmp_path / "en.srt")
    out = tmp_path / "out" / "dubbed.mkv"
    script = _SILENT_DUB + textwrap.dedent(f"""
        import os, signal, sys, time
        from anim400k.cli import main
        from anim400k.media import mux

        def remux(src, dst, *args):  # the output is open, being written: SIGTERM now
            assert any(p.name.endswith(".part.mkv") for p in os.scandir({str(out.parent)!r}))
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)

        mux._remux = remux
        sys.exit(main(["dub", {str(src)!r}, "--out", {str(out)!r}, "--subtitles", {str(srt)!r},
                       "--tts", "espeak", "--no-progress"]))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env,
                          preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip().splitlines() == ["anim400k: interrupted by SIGTERM"]
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3"])
def test_a_one_audio_stream_output_is_refused_for_what_it_is(tmp_path: Path, suffix: str) -> None:
    """A WAV/FLAC/MP3 output holds one audio stream: the message says so (it blamed the source's stream)."""
    from anim400k.media import check_mux

    src = plain_mkv(tmp_path / "in.mkv")
    with pytest.raises(InputError, match=r"output holds one audio stream.*use \.mkv, \.mka or \.mp4") as info:
        check_mux(src, tmp_path / f"out{suffix}")
    assert f"out{suffix}" in str(info.value)
    check_mux(src, tmp_path / "out.mka")  # Matroska audio takes both


@pytest.mark.parametrize(("extra", "message"), [
    (["--limit", "0"], "--limit must be an integer >= 1, not 0"),
    (["VIDEO"], "{video}: give a VIDEO to dub or --dataset DATASET, not both"),
])
def test_dataset_mode_refuses_limit_0_and_a_video_beside_it(tmp_path: Path, capsys, extra: list[str],
                                                            message: str) -> None:
    """`--limit 0` dubbed nothing and wrote an empty report with exit 0; a VIDEO given with --dataset was ignored."""
    from anim400k.dub.dataset_mode import dub_dataset
    from anim400k.testing.release import make_release

    rel = make_release(tmp_path / "rel")
    video = plain_mkv(tmp_path / "in.mkv")
    out = tmp_path / "dubs"
    argv = ["dub", *[str(video) if a == "VIDEO" else a for a in extra], "--dataset", str(rel), "--split", "all",
            "--out", str(out), "--tts", "espeak", "--no-progress"]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {message.format(video=video)}"]
    assert not out.exists()
    with pytest.raises(InputError, match="limit must be an integer >= 1, not 0"):
        dub_dataset(rel, out, split="all", limit=0)
    assert not out.exists()


def _silent_dub_audio(mix, sr, translator, tts, options=None, source="", **kwargs):
    """``dub_audio`` replaced by silence (only the checks, the mux and the writes run)."""
    from anim400k.dub import pipeline
    from anim400k.dub.report import DubReport

    report = DubReport(source=source, output=None, duration=len(mix) / sr, sample_rate=sr, tts=tts.name,
                       translator=translator.name, diarizer="none")
    zeros = np.zeros_like(mix)
    return pipeline.DubResult(zeros, zeros, zeros, zeros, [], report)


def test_stems_never_replace_a_file_of_a_stems_name_that_no_dub_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """`--stems` at the episode's own folder replaced its `backing.wav` (the demo's inputs hold one: the
    truth's backing stem) with the dub's: the folder's files of those names are kept, refused in one line."""
    from anim400k.dub.pipeline import STEMS_MARK

    episode = tmp_path / "episode"
    episode.mkdir()
    src = plain_mkv(episode / "in.mkv")
    srt = _srt(episode / "en.srt")
    theirs = episode / "backing.wav"
    theirs.write_bytes(b"the user's backing stem")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    argv = ["dub", str(src), "--subtitles", str(srt), "--tts", "espeak", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "d.mkv"), "--stems", str(episode)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {theirs}: --stems: {episode} holds backing.wav, which no dub wrote (no {STEMS_MARK} "
        "there): the dub would replace it; give --stems a folder of its own"]
    assert theirs.read_bytes() == b"the user's backing stem"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["episode"]
    assert sorted(p.name for p in episode.iterdir()) == ["backing.wav", "en.srt", "in.mkv"]

    # a folder of its own: written (with the mark), and a dub again into it replaces its stems
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _silent_dub_audio)
    stems = tmp_path / "stems"
    for _ in range(2):
        assert main([*argv, "--out", str(tmp_path / "d.mkv"), "--stems", str(stems)]) == 0
        assert sorted(p.name for p in stems.iterdir()) == sorted(
            [STEMS_MARK, "backing.wav", "dub_mix.wav", "dub_speech.wav", "vocals.wav"])


def test_a_failure_while_the_srt_is_written_leaves_every_earlier_output_of_the_dub(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dubbed video was renamed into place before ``--srt`` and ``--report`` were written: a failure (or a
    kill) while writing them left the new video beside the earlier dub's SRT and report. Now every output is
    one set (``fsutil.output_sets.committed_together``): replaced all together, or none of them."""
    from anim400k.dub.report import DubReport

    src = plain_mkv(tmp_path / "in.mkv")
    srt_in = _srt(tmp_path / "en.srt")
    out, srt, report = tmp_path / "D" / "d.mkv", tmp_path / "S" / "d.srt", tmp_path / "R" / "r.json"
    argv = ["dub", str(src), "--subtitles", str(srt_in), "--tts", "espeak", "--no-progress", "--out", str(out),
            "--srt", str(srt), "--report", str(report)]
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _silent_dub_audio)
    assert main(argv) == 0
    ident = {p: (os.stat(p).st_ino, p.read_bytes()) for p in (out, srt, report)}

    def fail_while_writing(self: DubReport, path: str | Path) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text("1\n00:00:00,000 --> ", encoding="utf-8")
            raise OSError(errno.EIO, "Input/output error (injected by the test)")

    monkeypatch.setattr(DubReport, "write_srt", fail_while_writing)
    assert main(argv) != 0
    assert {p: (os.stat(p).st_ino, p.read_bytes()) for p in (out, srt, report)} == ident  # the same files
    for folder in (out.parent, srt.parent, report.parent):  # no temporary file left (nor a lock)
        assert sorted(p.name for p in folder.iterdir()) in (["d.mkv"], ["d.srt"], ["r.json"])
    monkeypatch.undo()
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _silent_dub_audio)
    assert main(argv) == 0  # the happy path replaces all three
    assert all(os.stat(p).st_ino != ident[p][0] for p in (out, srt, report))


_FOREIGN = {"srt": b"1\n00:00:00,500 --> 00:00:01,500\nMy own subtitle.\n", "text": b"my notes: keep these\n",
            "json": b'{"segments": [{"start": 0.0, "end": 1.0, "text": "mine"}]}\n'}
_NOT = {"--out": "a video that anim400k dub wrote (no audio track of it is titled 'English (dub)')",
        "--srt": "an SRT file (it does not read as SRT cues)",
        "--report": "a report that anim400k dub wrote (a JSON object with source, output, summary and lines)"}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("flag", "kind"), [("--out", "srt"), ("--out", "text"), ("--out", "video"), ("--srt", "text"),
                                            ("--srt", "json"), ("--report", "srt"), ("--report", "text"),
                                            ("--report", "json")])
def test_a_file_the_dub_did_not_write_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                                        flag: str, kind: str) -> None:
    """The project's first rule: an existing --out/--srt/--report that is not the kind of file the dub writes
    there (a video a dub wrote, an SRT, a dub report) is refused before any work, in one line, unchanged,
    nothing else written (no lock, no temporary file). A user's own video at --out (``dub ep02.mkv --out
    ep01.mkv``) was taken for an earlier dub, being media with audio, and replaced."""
    src = plain_mkv(tmp_path / "in.mkv")
    srt_in = _srt(tmp_path / "en.srt")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    outs = {"--out": tmp_path / "d.mkv", "--srt": tmp_path / "d.srt", "--report": tmp_path / "d.json"}
    if kind == "video":
        plain_mkv(outs[flag])  # another episode of the user's
    else:
        outs[flag].write_bytes(_FOREIGN[kind])
    before = _tree(tmp_path)
    argv = ["dub", str(src), "--subtitles", str(srt_in), "--tts", "espeak", "--no-progress"]
    assert main([*argv, *(a for f, p in outs.items() for a in (f, str(p)))]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {outs[flag]}: exists and is not {_NOT[flag]}: remove it or choose another {flag}"]
    assert _tree(tmp_path) == before


def test_a_dub_replaces_its_own_earlier_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = plain_mkv(tmp_path / "in.mkv")
    srt_in = _srt(tmp_path / "en.srt")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _silent_dub_audio)
    out, srt, report = tmp_path / "d.mkv", tmp_path / "d.srt", tmp_path / "d.json"
    argv = ["dub", str(src), "--subtitles", str(srt_in), "--tts", "espeak", "--no-progress", "--out", str(out),
            "--srt", str(srt), "--report", str(report)]
    assert main(argv) == 0
    srt.write_bytes(_FOREIGN["srt"])  # an earlier dub that spoke a line (the silent one here speaks none)
    inodes = {p: os.stat(p).st_ino for p in (out, srt, report)}
    assert main(argv) == 0
    assert all(os.stat(p).st_ino != inode for p, inode in inodes.items())  # each renamed into place anew
    assert srt.read_bytes() == b"" and json.loads(report.read_text())["output"] == str(out)
