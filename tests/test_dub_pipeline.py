"""The dubbing pipeline end to end on a short synthetic episode, and on bad input."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from anim400k.dub.pipeline import DubOptions, dub
from anim400k.errors import InputError
from anim400k.media import decode_audio, probe

# the embedded diarizer when it is installed, else one-speaker voice activity
DIARIZER = "embedded" if importlib.util.find_spec("anim400k.diarize.embedded") else None
AAC_FRAME_S = 1024 / 48000


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("dub_ep"), duration=20.0, seed=3, n_speakers=2)


@pytest.fixture(scope="module")
def dubbed(episode, tmp_path_factory):
    out = tmp_path_factory.mktemp("dub_out")
    opts = DubOptions(
        subtitles=str(episode.subtitles),
        diarizer=DIARIZER,
        report=str(out / "r.json"),
        srt=str(out / "spoken.srt"),
        stems=str(out / "stems"),
    )
    report = dub(episode.media, out / "dubbed.mkv", opts)
    return out, report


def test_dubbed_file_has_a_default_eng_stream_of_the_same_length(episode, dubbed):
    out, _ = dubbed
    src, dst = probe(episode.media), probe(out / "dubbed.mkv")
    assert len(dst.audio_streams) == len(src.audio_streams) + 1
    assert len(dst.video_streams) == len(src.video_streams)
    new = dst.audio_streams[-1]
    assert new.language == "eng" and new.default
    audio = decode_audio(out / "dubbed.mkv", len(dst.audio_streams) - 1, sr=48000)
    original = decode_audio(episode.media, "jpn", sr=48000)
    assert abs(len(audio) - len(original)) / 48000 <= AAC_FRAME_S
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0


def test_lines_start_on_their_slots_and_end_near_them(dubbed):
    _, report = dubbed
    spoken = report.spoken_lines
    assert len(spoken) >= 4
    assert report.max_abs_start_error <= 0.05
    assert report.mean_abs_end_error is not None and report.mean_abs_end_error < 0.15
    for ln in spoken:
        assert 0.8 - 1e-6 <= ln.stretch <= 1.3 + 1e-6
        if not ln.overflow:
            assert ln.speech_end <= ln.slot_end + 0.01


def test_speech_is_audible_over_the_backing(dubbed):
    out, report = dubbed
    from anim400k.dub.mix import rms

    speech = decode_audio(out / "stems" / "dub_speech.wav", 0, sr=16000)
    backing = decode_audio(out / "stems" / "backing.wav", 0, sr=16000)
    for ln in report.spoken_lines:
        a, b = int(ln.speech_start * 16000), int(ln.speech_end * 16000)
        assert rms(speech[a:b]) > 2.0 * rms(backing[a:b]), ln


def test_report_and_srt_are_written(dubbed):
    out, report = dubbed
    data = json.loads((out / "r.json").read_text())
    assert data["summary"]["spoken"] == len(report.spoken_lines)
    assert data["summary"]["mean_abs_end_error"] == pytest.approx(report.mean_abs_end_error)
    first = data["lines"][0]
    assert {"speaker", "en_text", "slot_start", "speech_end", "stretch", "overflow", "problems"} <= set(first)
    assert (out / "spoken.srt").read_text().count("-->") == len(report.spoken_lines)


def test_video_without_audio_is_refused(tmp_path):
    import av

    path = tmp_path / "silent.mkv"
    with av.open(str(path), "w") as c:
        st = c.add_stream("mpeg4", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for _ in range(5):
            for p in st.encode(av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")):
                c.mux(p)
        for p in st.encode():
            c.mux(p)
    with pytest.raises(InputError, match="no audio"):
        dub(path, tmp_path / "out.mkv", DubOptions(subtitles=None, translator="text", translations="{}"))
    assert not (tmp_path / "out.mkv").exists()


def test_partial_subtitles_and_unspeakable_lines_are_reported(episode, dubbed, tmp_path):
    _, full = dubbed
    slots = [(ln.slot_start, ln.slot_end) for ln in full.lines]
    assert len(slots) >= 4
    # one good line, one empty, one emoji-only, one far too long; the rest left untranslated
    given = {
        f"{slots[0][0]}-{slots[0][1]}": "Let's go.",
        f"{slots[1][0]}-{slots[1][1]}": "   ",
        f"{slots[2][0]}-{slots[2][1]}": "😀😀😀",
        f"{slots[3][0]}-{slots[3][1]}": "word " * 200,
    }
    tfile = tmp_path / "t.json"
    tfile.write_text(json.dumps(given))
    opts = DubOptions(
        translator="text", translations=str(tfile), diarizer=DIARIZER, report=str(tmp_path / "r.json")
    )
    report = dub(episode.media, tmp_path / "out.mkv", opts)
    assert (tmp_path / "out.mkv").exists()
    by_slot = {(ln.slot_start, ln.slot_end): ln for ln in report.lines}
    assert by_slot[slots[0]].spoken and not by_slot[slots[0]].problems
    assert "empty" in by_slot[slots[1]].problems[0]
    assert "no speakable" in by_slot[slots[2]].problems[0]
    assert "too long" in by_slot[slots[3]].problems[0]
    assert len(report.problem_lines) == len(report.lines) - 1


def test_subtitles_that_do_not_cover_the_video(episode, tmp_path):
    srt = tmp_path / "late.srt"
    srt.write_text("1\n00:00:30,000 --> 00:00:32,000\nToo late.\n")
    report = dub(episode.media, tmp_path / "out.mkv", DubOptions(subtitles=str(srt), diarizer=DIARIZER))
    assert any("after the" in p for p in report.problems)
    assert not report.spoken_lines and all(ln.problems for ln in report.lines)
    assert (tmp_path / "out.mkv").exists()


def test_dataset_mode_writes_dubs_keyed_by_en_clip_id(episode, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from release_helpers import make_release

    from anim400k.dub.dataset_mode import REPORT_NAME, dub_dataset
    from anim400k.formats import ids
    from anim400k.formats.release import load
    from anim400k.media import write_audio
    from anim400k.synth import load_truth
    from anim400k.tasks import split_of

    root = make_release(tmp_path / "release")
    ds = load(root)
    splits = split_of(ds)
    test_clips = [c for c in ds.clips() if splits[c.show_key] == "test"][:1]
    assert test_clips
    truth = load_truth(episode.truth)
    mix = decode_audio(episode.media, "jpn", sr=48000)
    line = truth.lines[0]
    cut = mix[int((line.jp_start - 0.3) * 48000) : int((line.jp_end + 0.5) * 48000)]
    for c in test_clips:  # give the test clips real speech
        write_audio(ids.id_path(root, ids.AUDIO_ARCHIVE, c.jp_clip, "mp3"), cut, 48000)
    out = tmp_path / "system"
    rep = dub_dataset(root, out, split="test", options=DubOptions(diarizer=DIARIZER), limit=1)
    assert rep.n_done == len(test_clips)
    for c in test_clips:
        folder, uid = ids.parse_id(c.en_clip)
        dubbed_clip = out / folder / f"{uid}.mp3"
        assert dubbed_clip.is_file()
        assert abs(len(decode_audio(dubbed_clip, 0, sr=16000)) / 16000 - len(cut) / 48000) < 0.1
    data = json.loads((out / REPORT_NAME).read_text())
    assert data["summary"]["dubbed"] == len(test_clips)
    assert any(c["spoken"] >= 1 for c in data["clips"])
