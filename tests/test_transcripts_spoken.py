"""Transcripts of Whisper tools and word services read as speech (an outside tester's second pass, 2026-12-07)."""

from __future__ import annotations

import json
from pathlib import Path

from anim400k.formats.transcripts import read_transcript, write_transcript
from anim400k.model import Segment, Transcript


def _read(tmp_path: Path, obj: object, language: str = "en", name: str = "t.json") -> list[tuple[float, float, str]]:
    path = tmp_path / name
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return [(s.start, s.end, s.text) for s in read_transcript(path, language=language).segments]


def test_openai_whisper_cleared_segments_and_markers_are_no_speech(tmp_path: Path) -> None:
    """openai-whisper keeps the segments it clears (empty text, no words): they became clips with no text on
    either side; ``[Music]`` became a clip's text."""
    obj = {"language": "en", "segments": [
        {"id": 0, "start": 1.0, "end": 2.0, "text": " Yes."},
        {"id": 1, "start": 5.0, "end": 5.0, "text": "", "tokens": [], "words": [], "no_speech_prob": 0.9},
        {"id": 2, "start": 7.0, "end": 9.5, "text": "", "tokens": [], "words": []},
        {"id": 3, "start": 10.0, "end": 12.0, "text": " [Music]"},
        {"id": 4, "start": 13.0, "end": 15.0, "text": " [Music] Go now.",
         "words": [{"word": " [Music]", "start": 13.0, "end": 14.0}, {"word": " Go", "start": 14.2, "end": 14.5},
                   {"word": " now.", "start": 14.5, "end": 15.0}]}]}
    assert _read(tmp_path, obj) == [(1.0, 2.0, "Yes."), (14.2, 15.0, "Go now.")]


def test_whisper_cpp_blank_audio_is_no_speech(tmp_path: Path) -> None:
    """whisper.cpp writes ``[BLANK_AUDIO]`` over silence: it stretched a clip to 4 s (``Yes. [BLANK_AUDIO]``)."""
    obj = {"result": {"language": "en"}, "transcription": [
        {"offsets": {"from": 0, "to": 1000}, "text": " Yes."},
        {"offsets": {"from": 1000, "to": 4000}, "text": " [BLANK_AUDIO]"},
        {"offsets": {"from": 5000, "to": 6000}, "text": " (music)"}]}
    assert _read(tmp_path, obj) == [(0.0, 1.0, "Yes.")]


def test_our_own_transcripts_keep_their_segments(tmp_path: Path) -> None:
    """A transcript this package wrote (it names its source) is read back as written: VAD segments without
    text (``transcribed: false``) and all."""
    path = tmp_path / "ours.json"
    ours = Transcript("ja", [Segment(1.0, 2.0, "", transcribed=False), Segment(3.0, 4.0, "[Music]")], source="vad")
    write_transcript(path, ours)
    assert read_transcript(path).segments == ours.segments


def test_japanese_keeps_the_space_between_latin_words(tmp_path: Path) -> None:
    """Scribe's spacing entries were dropped and Japanese words joined with nothing: これはNewYorkです."""
    scribe = {"language_code": "jpn", "language_probability": 0.99, "text": "これはNew Yorkです", "words": [
        {"text": "これは", "start": 0.0, "end": 0.5, "type": "word", "speaker_id": "speaker_0"},
        {"text": "New", "start": 0.5, "end": 0.8, "type": "word", "speaker_id": "speaker_0"},
        {"text": " ", "start": 0.8, "end": 0.8, "type": "spacing", "speaker_id": "speaker_0"},
        {"text": "York", "start": 0.8, "end": 1.1, "type": "word", "speaker_id": "speaker_0"},
        {"text": "です", "start": 1.1, "end": 1.4, "type": "word", "speaker_id": "speaker_0"}]}
    assert _read(tmp_path, scribe, "ja") == [(0.0, 1.4, "これはNew Yorkです")]
    assembly = {"language_code": "ja", "text": "これはNew Yorkです", "words": [
        {"text": "これは", "start": 0, "end": 500, "speaker": "A"}, {"text": "New", "start": 500, "end": 800,
                                                                    "speaker": "A"},
        {"text": "York", "start": 800, "end": 1100, "speaker": "A"}, {"text": "です", "start": 1100, "end": 1400,
                                                                     "speaker": "A"}],
        "utterances": [{"start": 0, "end": 1400, "speaker": "A", "text": "これはNew Yorkです"}]}
    assert [t for _, _, t in _read(tmp_path, assembly, "ja", "a.json")] == ["これはNew Yorkです"]


def test_api_verbose_json_with_empty_segments_reads_its_words(tmp_path: Path) -> None:
    """``"segments": []`` beside a non-empty ``words`` list gave no segment at all."""
    obj = {"task": "transcribe", "language": "english", "text": "Hello there", "segments": [],
           "words": [{"word": "Hello", "start": 0.0, "end": 0.4}, {"word": "there", "start": 0.5, "end": 0.9}]}
    assert _read(tmp_path, obj) == [(0.0, 0.9, "Hello there")]


def test_whisperx_words_with_null_times_are_unaligned_words(tmp_path: Path) -> None:
    """``{"word": "50", "start": null, "end": null}`` was refused as 'start is missing'; whisperX writes such
    words for what it could not align (numbers), as it leaves the keys out elsewhere."""
    obj = {"language": "en", "segments": [{"start": 1.0, "end": 3.0, "text": " I have 50 cats.", "words": [
        {"word": "I", "start": 1.0, "end": 1.2}, {"word": "have", "start": 1.3, "end": 1.6},
        {"word": "50", "start": None, "end": None}, {"word": "cats.", "start": 2.2, "end": 3.0}]}]}
    path = tmp_path / "wx.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    (seg,) = read_transcript(path, language="en").segments
    assert [w.text for w in seg.words] == ["I", "have", "50", "cats."]
    assert seg.words[2].start == 1.6 and seg.words[2].end == 2.2  # between its neighbours, as an absent time
