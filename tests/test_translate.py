"""Translation backends: subtitles mapped onto segments, given translations, Whisper per segment."""

from __future__ import annotations

import json

import numpy as np
import pytest

from anim400k.errors import InputError
from anim400k.model import Segment, Subtitle, Transcript
from anim400k.translate import get_translator
from anim400k.translate.subtitles import distribute
from anim400k.translate.whisper import WhisperTranslator


def test_subtitle_spanning_segments_is_split_at_sentences_and_short_ones_merged():
    segs = [
        Segment(0, 2, speaker="a"),
        Segment(2.5, 5, speaker="b"),
        Segment(6, 9, speaker="a"),
        Segment(20, 21),
    ]
    subs = [
        Subtitle(0, 4.5, "One two three. Four five six."),
        Subtitle(6, 7, "Hi."),
        Subtitle(7.2, 8.9, "There you go."),
    ]
    lines = distribute(subs, segs)
    assert [ln.text for ln in lines[:3]] == ["One two three.", "Four five six.", "Hi. There you go."]
    assert lines[3].text is None and "no subtitle" in lines[3].problem
    # split between sentences only: one sentence over two speakers stays whole (tests/test_dub_units.py)
    lines = distribute([Subtitle(0, 4.5, "one two three four five six")], segs)
    assert [ln.text for ln in lines[:2]] == ["one two three four five six", None]


def test_text_translator_keys(tmp_path):
    segs = [Segment(0, 2), Segment(2.5, 5), Segment(6, 9)]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"0": "first", "6.1-7": "third", "2.4-3": "second"}))
    lines = get_translator("text", translations=path).translate(segs, None, 16000)
    assert [ln.text for ln in lines] == ["first", "second", "third"]
    lines = get_translator("text", translations=["only one"]).translate(segs, None, 16000)
    assert lines[0].text == "only one" and lines[1].text is None and lines[1].problem


@pytest.mark.parametrize("content", ["{not json", '{"abc": "x"}', '{"0": 5}', '"a string"'])
def test_text_translator_bad_file(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError):
        get_translator("text", translations=path)


class _RecordingTranscriber:
    """Records the audio it is given; answers with the chunk's length (tests the slicing only)."""

    name = "recording"

    def __init__(self):
        self.calls = []

    def translate(self, audio, sr, source_language):
        self.calls.append((len(audio) / sr, source_language))
        return Transcript("en", [Segment(0, len(audio) / sr, f"{len(audio) / sr:.1f} seconds")])


def test_whisper_translator_translates_each_segment_alone():
    rec = _RecordingTranscriber()
    tr = WhisperTranslator(transcriber=rec)
    audio = np.zeros(16000 * 10, dtype=np.float32)
    lines = tr.translate([Segment(1, 3), Segment(5, 5.05), Segment(6, 9.5)], audio, 16000)
    assert [round(d, 1) for d, _ in rec.calls] == [2.2, 3.7]
    assert all(lang == "ja" for _, lang in rec.calls)
    assert lines[0].text == "2.2 seconds" and lines[1].text is None and lines[2].text == "3.7 seconds"
    assert "too short" in lines[1].problem


def test_whisper_translator_maps_the_source_language_to_whisper_s_code():
    """``jpn`` (the dub's stream tag) reaches Whisper as ``ja``; a language Whisper lacks is refused up front."""
    rec = _RecordingTranscriber()
    tr = WhisperTranslator(transcriber=rec, source_language="jpn")
    tr.translate([Segment(1, 3)], np.zeros(16000 * 4, dtype=np.float32), 16000)
    assert tr.source_language == "ja" and [lang for _, lang in rec.calls] == ["ja"]
    with pytest.raises(InputError, match="language 'xx' is not one Whisper knows"):
        WhisperTranslator(transcriber=_RecordingTranscriber(), source_language="xx")


def test_whisper_translator_needs_a_translate_method():
    with pytest.raises(TypeError, match="translate"):
        WhisperTranslator(transcriber=object())


def test_whisper_translator_builds_the_faster_whisper_translate_task(tmp_path):
    """Built through the ASR registry with the per-segment options (loading is lazy)."""
    pytest.importorskip("faster_whisper")
    from anim400k.asr.faster_whisper_backend import FasterWhisperTranscriber

    tr = get_translator("whisper", model=tmp_path, device="cpu", beam_size=2)
    fw = tr.transcriber
    assert isinstance(fw, FasterWhisperTranscriber)
    assert fw.task == "translate" and fw.model == str(tmp_path) and fw.beam_size == 2
    assert fw.batch_size > 1 and not fw.vad_filter and not fw.word_timestamps  # one decode per segment
    with pytest.raises(InputError, match="no model.bin"):  # the real loader checks the folder
        tr.translate([Segment(0, 1)], np.zeros(16000, np.float32), 16000)


def test_a_subtitle_grazing_a_neighbouring_turn_is_not_split():
    """Two speakers overlapping: the first's subtitle stays whole although the next turn starts under it."""
    segs = [Segment(7.7, 9.1, speaker="a"), Segment(9.1, 11.4, speaker="b")]
    subs = [Subtitle(7.7, 9.6, "Not now!"), Subtitle(8.6, 10.1, "Unbelievable!"), Subtitle(9.8, 11.7, "Why?")]
    lines = distribute(subs, segs)
    assert [ln.text for ln in lines] == ["Not now!", "Unbelievable! Why?"]
