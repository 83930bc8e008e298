"""No command replaces a user's file it did not write (the project's first rule): an existing, non-empty output
file that is not the kind of file the command writes there (its JSON, an RTTM, audio) is refused before any work
in one line, the file unchanged and nothing else written; the command's own earlier output is still replaced.
``dub``'s outputs: tests/test_dub_outputs.py; ``transcribe``'s: tests/test_asr.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.formats.rttm import is_rttm_file
from anim400k.formats.subtitles import is_srt_file
from anim400k.fsutil.no_clobber import refuse_foreign_output
from anim400k.fsutil.sniffers import json_object_with, json_objects_with
from anim400k.media.probe import has_audio_stream

SR = 16000
SRT = "1\n00:00:00,500 --> 00:00:01,500\nMy own subtitle.\n\n2\n00:00:02,000 --> 00:00:03,000\nAnother.\n"


def _noise(seconds: float, seed: int, shift: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(SR * seconds) + shift).astype(np.float32) * 0.1
    return x[shift:]


def _wav(path: Path, seconds: float = 3.0, seed: int = 0) -> Path:
    sf.write(path, _noise(seconds, seed), SR)
    return path


def _foreign(path: Path, kind: str) -> bytes:
    """Write a user's file of ``kind`` at ``path``; return its bytes."""
    if kind == "srt":
        path.write_text(SRT, encoding="utf-8")
    elif kind == "text":
        path.write_text("my notes: do not lose these\n", encoding="utf-8")
    elif kind == "wav":
        sf.write(path, _noise(0.5, 9), SR, format="WAV")
    elif kind == "json":
        path.write_text(json.dumps({"segments": [{"start": 0.0, "end": 1.0, "text": "mine"}]}), encoding="utf-8")
    elif kind == "json-list":
        path.write_text(json.dumps([{"start": 0.0, "end": 1.0, "text": "mine"}]), encoding="utf-8")
    else:
        raise AssertionError(kind)
    return path.read_bytes()


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _refused(argv: list[str], target: Path, root: Path, capsys: pytest.CaptureFixture, what: str, flag: str) -> None:
    """``argv`` exits 2 with one line naming ``target`` and saying it is not ``what``; nothing under ``root``
    changed (``target`` byte for byte, no file added)."""
    before = _tree(root)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"anim400k: error: {target}: exists and is not {what}: remove it or choose another {flag}"], err
    assert _tree(root) == before


# ---- the helper -------------------------------------------------------------------------------------------


def test_refuse_foreign_output_passes_missing_empty_and_recognised_files(tmp_path: Path) -> None:
    seen: list[Path] = []

    def ours(p: Path) -> bool:
        seen.append(p)
        return p.read_text() == "ours"

    path = tmp_path / "out.json"
    refuse_foreign_output("--out", None, ours, "x")
    refuse_foreign_output("--out", path, ours, "x")  # missing
    path.write_text("")
    refuse_foreign_output("--out", path, ours, "x")  # empty: nothing to lose
    refuse_foreign_output("--out", tmp_path, ours, "x")  # a folder: check_output_file's to refuse
    assert seen == []
    path.write_text("ours")
    refuse_foreign_output("--out", path, ours, "x")
    path.write_text("theirs")
    with pytest.raises(InputError) as err:
        refuse_foreign_output("--json", path, ours, "a thing that we wrote")
    assert err.value.path == str(path)
    assert err.value.problem == "exists and is not a thing that we wrote: remove it or choose another --json"


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": 1, "b": [2], "c": null}', True),
    (' \n{"a": 1, "b": 2}', False),  # c missing
    ('{"a": 1}', False),
    ('[{"a": 1, "b": 2, "c": 3}]', False),
    ("{truncated", False),
    ("a, b, c\n1, 2, 3\n", False),
])
def test_json_object_with(tmp_path: Path, text: str, expected: bool) -> None:
    path = tmp_path / "x.json"
    path.write_text(text, encoding="utf-8")
    assert json_object_with(("a", "b", "c"))(path) is expected


def test_json_recognisers_take_a_bom_and_crlf(tmp_path: Path) -> None:
    """A command's own JSON re-saved by a Windows editor (UTF-8 BOM, CRLF) is still its own: the head's check
    skipped the BOM but json.loads was given it and failed, so the re-run was refused as a foreign file."""
    path = tmp_path / "x.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{\r\n  "a": 1,\r\n  "b": 2,\r\n  "c": 3\r\n}\r\n')
    assert json_object_with(("a", "b", "c"))(path)
    path.write_bytes(b"\xef\xbb\xbf" + b'[\r\n{"a": 1}\r\n]\r\n')
    assert json_objects_with(("a",))(path)
    path.write_bytes(b"\xef\xbb\xbf" + b"{}")
    assert json_objects_with(("a",), container=dict)(path)


def test_json_objects_with(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    test = json_objects_with(("a",))
    for text, expected in (("[]", True), ('[{"a": 1}, {"a": 2, "b": 3}]', True), ('[{"a": 1}, {"b": 3}]', False),
                           ('[{"a": 1}, 2]', False), ('{"k": {"a": 1}}', False), ("\xff\xfe", False)):
        path.write_bytes(text.encode("latin-1"))
        assert test(path) is expected, text
    path.write_text('{"k": {"a": 1}, "l": {"a": 2}}')
    assert json_objects_with(("a",), container=dict)(path)
    path.write_text('{"k": {"a": 1}, "l": "a"}')
    assert not json_objects_with(("a",), container=dict)(path)


def test_recognisers_of_rttm_srt_and_audio(tmp_path: Path) -> None:
    rttm = tmp_path / "x.rttm"
    rttm.write_text(";; a comment\nSPEAKER ep 1 0.500 1.000 <NA> <NA> spk0 <NA> <NA>\n\n"
                    "SPEAKER ep 1 2.000 0.250 <NA> <NA> spk1 <NA> <NA>\n")
    assert is_rttm_file(rttm)
    for text in (SRT, "SPEAKER ep 1 0.5 1.0\n", "SPEAKER ep 1 0.5 1.0 <NA> <NA> a <NA> <NA>\nmy notes\n",
                 "NOTE to self: keep\n", "SPEAKER ep 1 x y <NA> <NA> a <NA> <NA>\n"):
        rttm.write_text(text)
        assert not is_rttm_file(rttm), text
    srt = tmp_path / "x.srt"
    srt.write_text(SRT)
    assert is_srt_file(srt)
    for text in ("my notes\n", "1\nno timing here\n", '{"a": 1}', "1\n00:00:02,000 --> 00:00:01,000\nbackwards\n"):
        srt.write_text(text)
        assert not is_srt_file(srt), text
    media = tmp_path / "x.flac"
    _wav(media)
    assert has_audio_stream(media)
    for kind in ("srt", "text", "json"):  # FFmpeg opens an SRT as media: one subtitle stream, no audio
        _foreign(media, kind)
        assert not has_audio_stream(media), kind


@pytest.mark.parametrize("text", [
    "\ufeffSPEAKER ep 1 0.500 1.000 <NA> <NA> spk0 <NA> <NA>\r\n",  # a BOM and CRLF (a Windows editor's)
    "# made by another tool\nSPEAKER ep 1 0.500 1.000 <NA> <NA> spk0 <NA> <NA>\n",  # parse_rttm skips '#'
    "SPEAKER ep 1 0.500 1.000 <NA> <NA> spk0\n",  # the 8 fields parse_rttm reads
    "SPKR-INFO ep 1 <NA> <NA> <NA> unknown spk0 <NA> <NA>\nSPEAKER ep 1 0.5 1.0 <NA> <NA> spk0 <NA> <NA>\n",
])
def test_rttm_of_other_writers_is_an_rttm(tmp_path: Path, text: str) -> None:
    """An RTTM that parse_rttm reads (the --reference reader) is one that diarize --out may replace: a BOM, a
    '#' comment or an 8-field SPEAKER line made it 'not an RTTM file' and the re-run was refused."""
    rttm = tmp_path / "x.rttm"
    rttm.write_bytes(text.encode("utf-8"))
    assert is_rttm_file(rttm)
    from anim400k.formats.rttm import read_rttm

    assert [(t.start, t.speaker) for t in read_rttm(rttm)] == [(0.5, "spk0")]


def _video(path: Path, frames: int, audio_packets: bool) -> Path:
    """An MKV of ``frames`` frames of noise (~50 kB each) and an AAC stream: with its packets, or none."""
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as c:
        v = c.add_stream("mpeg4", rate=25)
        v.width, v.height, v.pix_fmt, v.bit_rate = 320, 240, "yuv420p", 10_000_000
        a = c.add_stream("aac", rate=SR)
        tone = av.AudioFrame.from_ndarray(_noise(1 / 25, 1)[None, :], format="fltp", layout="mono")
        tone.sample_rate = SR
        for _ in range(frames):
            img = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
            c.mux(v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
            if audio_packets:
                tone.pts = None
                c.mux(a.encode(tone))
        c.mux(v.encode())
        if audio_packets:
            c.mux(a.encode())
    return path


def test_has_audio_stream_takes_any_audio_stream(tmp_path: Path) -> None:
    """A medium whose first audio stream holds no packet (a dub keeps a source's empty track beside its own)
    is media with audio: only the first audio stream was decoded, so a re-run onto that dub was refused."""
    import av

    path = tmp_path / "dub.mkv"
    with av.open(str(path), "w") as c:
        c.add_stream("aac", rate=SR)  # empty
        dubbed = c.add_stream("aac", rate=SR)
        frame = av.AudioFrame.from_ndarray(_noise(1.0, 2)[None, :], format="fltp", layout="mono")
        frame.sample_rate = SR
        c.mux(dubbed.encode(frame))
        c.mux(dubbed.encode())
    with av.open(str(path)) as c:
        assert len(c.streams.audio) == 2
    assert has_audio_stream(path)


def _bytes_read() -> int:
    """Bytes this process has read so far (Linux: /proc/self/io's rchar)."""
    return next(int(line.split()[1]) for line in Path("/proc/self/io").read_text().splitlines()
                if line.startswith("rchar"))


def test_has_audio_stream_does_not_read_a_big_file_to_its_end(tmp_path: Path, monkeypatch) -> None:
    """A video whose audio stream holds no packet (given as dub --out) was demuxed to its end to look for an
    audio frame (a 4 GB file read whole before the refusal); the search stops after AUDIO_SEARCH_BYTES. A medium
    whose audio is interleaved with its video is found within them."""
    import importlib

    probe = importlib.import_module("anim400k.media.probe")  # anim400k.media.probe is also a function's name
    monkeypatch.setattr(probe, "AUDIO_SEARCH_BYTES", 256 << 10, raising=False)
    silent = _video(tmp_path / "mine.mkv", 300, audio_packets=False)
    assert silent.stat().st_size > 14_000_000
    before = _bytes_read()
    assert not has_audio_stream(silent)
    # FFmpeg's open reads up to its probesize (5 MB) looking for the empty stream's parameters; then 256 kB
    assert _bytes_read() - before < 6_000_000
    assert has_audio_stream(_video(tmp_path / "dub.mkv", 100, audio_packets=True))


# ---- the commands -----------------------------------------------------------------------------------------


@pytest.fixture
def wavs(tmp_path: Path) -> tuple[Path, Path]:
    jp, en = tmp_path / "jp.wav", tmp_path / "en.wav"
    sf.write(jp, _noise(6, 0), SR)
    sf.write(en, _noise(6, 0, shift=SR // 10), SR)
    return jp, en


SYNC_NOT = "a sync estimate that anim400k sync wrote (a JSON object with time_map, jp_media and en_media)"


@pytest.mark.parametrize("kind", ["srt", "text", "wav", "json"])
def test_sync_refuses_a_foreign_out(tmp_path: Path, wavs: tuple[Path, Path], kind: str, capsys) -> None:
    jp, en = wavs
    out = tmp_path / "ep01.srt"
    _foreign(out, kind)
    _refused(["sync", str(jp), str(en), "--out", str(out)], out, tmp_path, capsys, SYNC_NOT, "--out")


def test_sync_replaces_its_own_out(tmp_path: Path, wavs: tuple[Path, Path]) -> None:
    jp, en = wavs
    out = tmp_path / "sync.json"
    assert main(["sync", str(jp), str(en), "--out", str(out)]) == 0
    first = json.loads(out.read_text())
    out.write_text(json.dumps(first | {"sample_rate": 1}))  # an earlier run of other settings
    assert main(["sync", str(jp), str(en), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == first


ALIGN_NOT = "clips that anim400k align wrote (a JSON list of clip objects)"


def _transcripts(tmp_path: Path) -> tuple[Path, Path]:
    en, jp = tmp_path / "en.srt", tmp_path / "jp.srt"
    en.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello there.\n", encoding="utf-8")
    jp.write_text("1\n00:00:01,050 --> 00:00:02,050\nこんにちは。\n", encoding="utf-8")
    return en, jp


@pytest.mark.parametrize("kind", ["srt", "text", "wav", "json", "json-list", "sync"])
def test_align_refuses_a_foreign_out(tmp_path: Path, kind: str, capsys) -> None:
    en, jp = _transcripts(tmp_path)
    out = tmp_path / "clips.json"
    if kind == "sync":  # another command's JSON
        out.write_text(json.dumps({"time_map": {}, "confidence": 1.0, "jp_media": "a", "en_media": "b",
                                   "sample_rate": SR}))
    else:
        _foreign(out, kind)
    _refused(["align", "--en", str(en), "--jp", str(jp), "--out", str(out)], out, tmp_path, capsys, ALIGN_NOT,
             "--out")


def test_align_replaces_its_own_out(tmp_path: Path) -> None:
    en, jp = _transcripts(tmp_path)
    out = tmp_path / "clips.json"
    assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out)]) == 0
    first = json.loads(out.read_text())
    assert len(first) == 1
    out.write_text("[]")  # an earlier run that found no clip
    assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == first


RTTM_NOT = "an RTTM file (not every line of it is an RTTM record)"


@pytest.mark.parametrize("kind", ["srt", "text", "json"])
def test_diarize_refuses_a_foreign_out(tmp_path: Path, wavs: tuple[Path, Path], kind: str, capsys) -> None:
    jp, _ = wavs
    out = tmp_path / "ep01.rttm"
    _foreign(out, kind)
    _refused(["diarize", str(jp), "--out", str(out)], out, tmp_path, capsys, RTTM_NOT, "--out")


def test_diarize_replaces_its_own_out(tmp_path: Path, wavs: tuple[Path, Path]) -> None:
    jp, _ = wavs
    out = tmp_path / "x.rttm"
    out.write_text("SPEAKER jp 1 0.000 9.000 <NA> <NA> earlier <NA> <NA>\n")
    assert main(["diarize", str(jp), "--out", str(out)]) == 0
    assert "earlier" not in out.read_text()  # noise: no turn, an empty RTTM


AUDIO_NOT = ("audio that anim400k separate wrote (its comment tag is not 'written by anim400k separate'; an MP3 or "
             "AAC output: no audio stream in it)")


@pytest.mark.parametrize(("flag", "kind"), [("--out-backing", "srt"), ("--out-backing", "text"),
                                            ("--out-backing", "json"), ("--out-vocals", "text"),
                                            ("--out-backing", "wav"), ("--out-vocals", "wav")])
def test_separate_refuses_a_foreign_out(tmp_path: Path, wavs: tuple[Path, Path], flag: str, kind: str,
                                        capsys) -> None:
    """A file ``separate`` did not write is not replaced: a user's own WAV too (it was, being audio: the check was
    by kind, not by origin, until ``separate`` marked its outputs with a comment tag)."""
    jp, _ = wavs
    backing, vocals = tmp_path / "backing.wav", tmp_path / "vocals.wav"
    target = backing if flag == "--out-backing" else vocals
    _foreign(target, kind)
    argv = ["separate", str(jp), "--method", "hpss", "--out-backing", str(backing), "--out-vocals", str(vocals)]
    _refused(argv, target, tmp_path, capsys, AUDIO_NOT, flag)


def test_separate_replaces_its_own_outs(tmp_path: Path, wavs: tuple[Path, Path]) -> None:
    jp, _ = wavs
    backing, vocals = tmp_path / "backing.flac", tmp_path / "vocals.wav"
    argv = ["separate", str(jp), "--method", "hpss", "--out-backing", str(backing), "--out-vocals", str(vocals)]
    assert main(argv) == 0
    first = backing.read_bytes(), vocals.read_bytes()
    from anim400k.media.audio import audio_comment

    assert audio_comment(backing) == audio_comment(vocals) == "written by anim400k separate"
    assert main(["separate", str(_wav(tmp_path / "in2.wav", 1.0, seed=5)), "--method", "hpss", "--out-backing",
                 str(backing), "--out-vocals", str(vocals)]) == 0  # an earlier run's outputs (of another input)
    assert main(argv) == 0
    assert (backing.read_bytes(), vocals.read_bytes()) == first
    mp3 = tmp_path / "b.mp3"  # no comment tag in an MP3: any audio there is taken for an earlier output
    mp3.write_bytes(b"")
    assert main(["separate", str(jp), "--method", "hpss", "--out-backing", str(mp3)]) == 0
    assert main(["separate", str(jp), "--method", "hpss", "--out-backing", str(mp3)]) == 0


METADATA_NOT = "metadata that anim400k metadata wrote (a JSON object of shows with their episodes)"


def _show(tmp_path: Path) -> Path:
    path = tmp_path / "show.json"
    path.write_text(json.dumps({"key": "k", "show": "K", "episodes": {"2": {"url": "u"}}}))
    return path


@pytest.mark.parametrize("kind", ["srt", "text", "json", "show"])
def test_metadata_refuses_a_foreign_out(tmp_path: Path, kind: str, capsys) -> None:
    show = _show(tmp_path)
    out = tmp_path / "norm.json"
    if kind == "show":  # the user's own metadata of another show (input format, not normalised)
        out.write_text(json.dumps({"key": "o", "show": "O", "episodes": {}}))
    else:
        _foreign(out, kind)
    _refused(["metadata", str(show), "--out", str(out)], out, tmp_path, capsys, METADATA_NOT, "--out")


def test_metadata_replaces_its_own_out(tmp_path: Path) -> None:
    show = _show(tmp_path)
    out = tmp_path / "norm.json"
    out.write_text(json.dumps({"old": {"show": "Old", "episodes": {}}}))
    assert main(["metadata", str(show), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == {"k": {"show": "K", "episodes": {"2": {"url": "u"}}}}


STATS_NOT = "statistics that anim400k stats wrote (a JSON object with hours, clips, shows ...)"


@pytest.fixture
def rel(tmp_path: Path) -> Path:
    from anim400k.testing.release import make_release

    return make_release(tmp_path / "rel")


@pytest.mark.parametrize("kind", ["srt", "text", "json", "json-list"])
def test_stats_refuses_a_foreign_json(tmp_path: Path, rel: Path, kind: str, capsys) -> None:
    out = tmp_path / "stats.json"
    _foreign(out, kind)
    _refused(["stats", str(rel), "--json", str(out)], out, tmp_path, capsys, STATS_NOT, "--json")


def test_stats_replaces_its_own_json(tmp_path: Path, rel: Path, capsys) -> None:
    out = tmp_path / "stats.json"
    assert main(["stats", str(rel), "--json", str(out)]) == 0
    first = json.loads(out.read_text())
    out.write_text(json.dumps(first | {"clips": -1}))
    assert main(["stats", str(rel), "--json", str(out)]) == 0
    assert json.loads(out.read_text()) == first
    out.write_bytes(b"\xef\xbb\xbf" + json.dumps(first | {"clips": -1}, indent=2).replace("\n", "\r\n").encode())
    assert main(["stats", str(rel), "--json", str(out)]) == 0  # re-saved by a Windows editor: still its own
    assert json.loads(out.read_text()) == first


def test_transcribe_message_is_the_shared_helpers(tmp_path: Path, wavs: tuple[Path, Path], capsys) -> None:
    """transcribe's refusal (tests/test_asr.py) goes through the same helper: the same one line."""
    jp, _ = wavs
    out = tmp_path / "t.json"
    _foreign(out, "srt")
    _refused(["transcribe", str(jp), "-l", "ja", "--asr", "vad", "--out", str(out)], out, tmp_path, capsys,
             "a transcript that anim400k transcribe wrote (it has no 'anim400k' settings block)", "--out")



def test_transcribe_recogniser_reads_only_the_start_of_a_video(tmp_path: Path) -> None:
    """`transcribe --out ep01.mp4` read the whole video into memory (read_text) to see it is not a transcript
    (a 4 GB file: 4 GB read and held); it is refused after its first bytes now."""
    from anim400k.asr.track import written_by_transcribe

    video = tmp_path / "ep01.mp4"
    with open(video, "wb") as f:
        f.write(b"\x00\x00\x00\x20ftypisom" + bytes(20 << 20))
    before = _bytes_read()
    assert not written_by_transcribe(video)
    assert _bytes_read() - before < 1 << 20


def test_transcribe_replaces_its_own_out_with_a_bom(tmp_path: Path, wavs: tuple[Path, Path]) -> None:
    """Its own transcript re-saved by a Windows editor (UTF-8 BOM) was 'not a transcript that anim400k
    transcribe wrote' (json.loads was given the BOM)."""
    jp, _ = wavs
    out = tmp_path / "t.json"
    argv = ["transcribe", str(jp), "-l", "ja", "--asr", "vad", "--out", str(out)]
    assert main(argv) == 0
    first = json.loads(out.read_text(encoding="utf-8"))
    out.write_bytes(b"\xef\xbb\xbf" + json.dumps(first, indent=2).replace("\n", "\r\n").encode())
    assert main(argv) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == first


def test_a_named_pipe_at_out_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    """An output that is a device, pipe or socket is refused before any work: the temporary file's rename would
    replace it (as root, ``--out /dev/null`` replaced the system's ``/dev/null`` with a regular file)."""
    import os
    import stat

    en, jp = _transcripts(tmp_path)
    fifo = tmp_path / "clips.json"
    os.mkfifo(fifo)
    assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(fifo)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(fifo) in err and "not a regular file" in err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clips.json", "en.srt", "jp.srt"]


@pytest.mark.parametrize("command", ["stats", "dub"])
def test_a_named_pipe_at_a_checked_file_output_is_refused_before_the_work(tmp_path: Path, rel: Path, command: str,
                                                                           capsys, monkeypatch) -> None:
    """`stats --json /dev/null` printed the whole table (the pass over the release) and `dub --report` a pipe
    was refused only when the report was written, after the dub: `check_writable` now refuses it first."""
    import os
    import stat

    import anim400k.stats as stats_module

    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    if command == "stats":
        monkeypatch.setattr(stats_module, "compute_stats", lambda *a, **k: pytest.fail("the pass ran"))
        argv = ["stats", str(rel), "--json", str(fifo)]
    else:
        video = _wav(tmp_path / "v.wav")
        argv = ["dub", str(video), "--out", str(tmp_path / "dub.mka"), "--report", str(fifo)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and str(fifo) in err and "not a regular file" in err, err
    assert captured.out == ""
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_atomic_path_refuses_a_special_file(tmp_path: Path) -> None:
    import os
    import stat

    from anim400k.fsutil.atomic import atomic_path
    from anim400k.fsutil.writable import check_output_file

    fifo = tmp_path / "out.bin"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        check_output_file(fifo)
    with pytest.raises(InputError, match="not a regular file"), atomic_path(fifo) as tmp:
        tmp.write_bytes(b"x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_an_unreadable_output_is_said_to_be_unreadable(tmp_path: Path, monkeypatch) -> None:
    """A file this user cannot read is not said to be "not X" (it could not be looked at)."""
    from anim400k.fsutil import no_clobber

    out = tmp_path / "sync.json"
    out.write_text('{"time_map": {}}')
    monkeypatch.setattr(no_clobber.os, "access", lambda path, mode: False)
    with pytest.raises(InputError, match="exists and cannot be read"):
        refuse_foreign_output("--out", out, lambda p: False, "a sync estimate")
