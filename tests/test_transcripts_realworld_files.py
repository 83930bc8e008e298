"""Transcript files taken from public repositories (or rebuilt from their producers' code where no file was
found), read as their producers write them: each test names its source. Sweep s36 (docs/asr.md "Real-world
files read")."""

from __future__ import annotations

import json

import pytest

from anim400k.errors import InputError
from anim400k.formats.transcripts import read_transcript


def _write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return p


def _aws_word(start, end, content, speaker):
    return {"start_time": start, "speaker_label": speaker, "end_time": end,
            "alternatives": [{"confidence": "0.99", "content": content}], "type": "pronunciation"}


def _aws_punct(content, speaker):
    return {"speaker_label": speaker, "alternatives": [{"confidence": "0.0", "content": content}],
            "type": "punctuation"}


#: Excerpt of an AWS Transcribe job with speaker identification, as embedded in a public Dart test fixture
#: (``TestConversations.sampleConversations``, job ``test-interview-sample``): the diarizer gives ``pain`` to
#: spk_0 and ``tolerance.`` to spk_1, mid-sentence; ``speaker_labels`` carries ``channel_label: ch_0`` although the
#: job is single-channel. Words left out between ``but`` and ``pain`` and between ``Well,`` and ``started?``.
AWS_DIARIZED = {"jobName": "test-interview-sample", "accountId": "375374704108", "status": "COMPLETED", "results": {
    "transcripts": [{"transcript": "Hey, but ... pain tolerance. Well, ... started? Yeah. Sure."}],
    "speaker_labels": {"channel_label": "ch_0", "speakers": 2, "segments": [
        {"start_time": "0.0", "speaker_label": "spk_0", "end_time": "7.71", "items": [
            {"start_time": "0.009", "speaker_label": "spk_0", "end_time": "0.579"},
            {"start_time": "7.489", "speaker_label": "spk_0", "end_time": "7.71"}]},
        {"start_time": "7.719", "speaker_label": "spk_1", "end_time": "11.939", "items": [
            {"start_time": "7.719", "speaker_label": "spk_1", "end_time": "8.329"}]}]},
    "items": [_aws_word("0.009", "0.579", "Hey", "spk_0"), _aws_punct(",", "spk_0"),
              _aws_word("0.589", "0.8", "but", "spk_0"), _aws_word("0.81", "7.48", "I'm", "spk_0"),
              _aws_word("7.489", "7.71", "pain", "spk_0"), _aws_word("7.719", "8.329", "tolerance", "spk_1"),
              _aws_punct(".", "spk_1"), _aws_word("8.56", "8.77", "Well", "spk_1"), _aws_punct(",", "spk_1"),
              _aws_word("8.779", "11.31", "started", "spk_1"), _aws_punct("?", "spk_1"),
              _aws_word("11.949", "12.119", "Yeah", "spk_0"), _aws_punct(".", "spk_0")]}}


def test_aws_segment_ends_where_the_diarized_speaker_changes(tmp_path):
    """``... pain`` (spk_0) ``tolerance.`` (spk_1) was one segment given to spk_0 (the most frequent label), with
    spk_1's word inside it; a speaker change now ends the segment, as AWS's own speaker segments do."""
    t = read_transcript(_write(tmp_path, "interview.json", AWS_DIARIZED))
    got = [(s.text, s.speaker) for s in t.segments]
    assert got == [("Hey, but I'm pain", "spk_0"), ("tolerance.", "spk_1"), ("Well, started?", "spk_1"),
                   ("Yeah.", "spk_0")]
    for seg in t.segments:  # every word of a segment is its speaker's
        assert all(seg.start <= w.start and w.end <= seg.end for w in seg.words)
    assert [w.text for w in t.segments[1].words] == ["tolerance"]


def test_aws_older_file_speakers_from_speaker_labels_also_end_segments(tmp_path):
    """Older jobs keep speakers only in ``speaker_labels.segments``: the labels mapped onto the words by time
    cut the segment the same way."""
    obj = json.loads(json.dumps(AWS_DIARIZED))
    for it in obj["results"]["items"]:
        it.pop("speaker_label")
    obj["results"]["speaker_labels"]["segments"][0]["items"].append(
        {"start_time": "0.589", "speaker_label": "spk_0", "end_time": "0.8"})
    t = read_transcript(_write(tmp_path, "old.json", obj))
    assert [(s.text, s.speaker) for s in t.segments][:2] == [("Hey, but I'm pain", "spk_0"), ("tolerance.", "spk_1")]


def test_aws_job_without_speakers_is_cut_by_punctuation_and_pauses_only(tmp_path):
    """wbur/amazon-transcribe-JSON-to-SRT ``sample.json`` (no speaker labels): unchanged by the speaker rule;
    ``Okay,`` ends at the 0.78 s pause after it, ``here's ... sentence.`` runs to its full stop."""
    items = [_aws_word("8.14", "8.76", "Okay", None), _aws_punct(",", None),
             _aws_word("9.54", "10.01", "here's", None), _aws_word("10.02", "10.33", "a", None),
             _aws_word("10.34", "10.76", "really", None), _aws_punct(",", None),
             _aws_word("10.76", "11.16", "really", None), _aws_punct(",", None),
             _aws_word("11.17", "11.65", "really", None), _aws_punct(",", None),
             _aws_word("11.76", "12.05", "really", None), _aws_punct(",", None),
             _aws_word("12.05", "12.36", "really", None), _aws_word("12.36", "12.84", "long", None),
             _aws_word("12.84", "13.69", "sentence", None), _aws_punct(".", None)]
    for it in items:
        it.pop("speaker_label")
    obj = {"jobName": "SampleTest", "results": {"transcripts": [{"transcript": ""}], "items": items},
           "status": "COMPLETED"}
    t = read_transcript(_write(tmp_path, "sample.json", obj))
    assert [s.text for s in t.segments] == [
        "Okay,", "here's a really, really, really, really, really long sentence."]
    assert all(s.speaker is None for s in t.segments)


#: Excerpt of aws-samples/amazon-transcribe-output-word-document ``sample-data/example-call.json`` (MIT-0), an
#: AWS Transcribe Call Analytics job's output: top-level ``Transcript`` turns, times in ms, ``ParticipantRole``.
CALL_ANALYTICS = {
    "JobStatus": "COMPLETED", "LanguageCode": "en-US",
    "Transcript": [
        {"LoudnessScores": [78.68, 80.4],
         "Content": "Hello and thank you for calling the bank. This is [PII] speaking, how may I help you today?",
         "Items": [
             {"Type": "pronunciation", "Confidence": 1.0, "Content": "Hello", "BeginOffsetMillis": 440,
              "EndOffsetMillis": 960},
             {"Type": "pronunciation", "Confidence": 1.0, "Content": "bank", "BeginOffsetMillis": 2160,
              "EndOffsetMillis": 2550},
             {"Type": "punctuation", "Confidence": 0.0, "Content": "."},
             {"Type": "pronunciation", "Content": "[PII]", "Redaction": [{"Confidence": 1.0}],
              "BeginOffsetMillis": 2820, "EndOffsetMillis": 3270},
             {"Type": "pronunciation", "Confidence": 1.0, "Content": "today", "BeginOffsetMillis": 4430,
              "EndOffsetMillis": 4960},
             {"Type": "punctuation", "Confidence": 0.0, "Content": "?"}],
         "Id": "9d0d8d25-09bb-48de-b7fd-f44d901f67ac", "BeginOffsetMillis": 440, "EndOffsetMillis": 4960,
         "Sentiment": "NEUTRAL", "ParticipantRole": "AGENT"},
        {"Content": "Hi um uh you just need to cancel my card.",
         "Items": [
             {"Type": "pronunciation", "Confidence": 0.992, "Content": "Hi", "BeginOffsetMillis": 6340,
              "EndOffsetMillis": 6760},
             {"Type": "pronunciation", "Confidence": 1.0, "Content": "card", "BeginOffsetMillis": 11610,
              "EndOffsetMillis": 16930},
             {"Type": "punctuation", "Confidence": 0.0, "Content": "."}],
         "Id": "f7708831-02d0-4360-a34f-175aefeb0a03", "BeginOffsetMillis": 6340, "EndOffsetMillis": 16930,
         "Sentiment": "NEUTRAL", "ParticipantRole": "CUSTOMER"},
        {"Content": "Okay.",
         "Items": [{"Type": "pronunciation", "Confidence": 0.287, "Content": "Okay", "BeginOffsetMillis": 14840,
                    "EndOffsetMillis": 15050},
                   {"Type": "punctuation", "Confidence": 0.0, "Content": "."}],
         "Id": "831f9ac8-e2a7-443c-bef6-07f7468ac0c5", "BeginOffsetMillis": 14840, "EndOffsetMillis": 15050,
         "Sentiment": "NEUTRAL", "ParticipantRole": "AGENT"}]}


def test_aws_call_analytics_output_is_one_segment_per_turn(tmp_path):
    """It was refused as 'not a known transcript format'; each turn is now a segment with its participant as
    speaker, its items as words (ms -> s; the redacted ``[PII]`` without confidence) and the agent's ``Okay.``
    overlapping the customer's turn, as the two channels did."""
    t = read_transcript(_write(tmp_path, "example-call.json", CALL_ANALYTICS))
    assert t.language == "en"
    assert [(s.start, s.end, s.speaker, s.text) for s in t.segments] == [
        (0.44, 4.96, "AGENT", "Hello bank. [PII] today?"),
        (6.34, 16.93, "CUSTOMER", "Hi card."),
        (14.84, 15.05, "AGENT", "Okay.")]
    words = t.segments[0].words
    assert [(w.text, w.start, w.end, w.probability) for w in words][2:] == [
        ("[PII]", 2.82, 3.27, None), ("today", 4.43, 4.96, 1.0)]


def test_aws_call_analytics_as_the_other_language_and_bad_times_are_one_line(tmp_path):
    p = _write(tmp_path, "call.json", CALL_ANALYTICS)
    with pytest.raises(InputError, match=r"call\.json: says its language is 'en' but is given as the JA"):
        read_transcript(p, language="ja")
    bad = json.loads(json.dumps(CALL_ANALYTICS))
    bad["Transcript"][1]["Items"][0]["EndOffsetMillis"] = 100
    with pytest.raises(InputError, match=r"call\.json: Transcript 1 item 0: end 0\.1 before start 6\.34"):
        read_transcript(_write(tmp_path, "call.json", bad))


#: What whisper-asr-webservice (``app/faster_whisper/core.py``, ``WriteJSON``: ``json.dump(result)``) wrote with
#: faster-whisper before 1.1, whose ``Segment`` and ``Word`` were named tuples: each an array (rebuilt from the two
#: projects' code; whisper-asr-webservice issue #263: "In v1.6.0 a segment is an array").
FW_ARRAYS = {"language": "en", "text": " And so my fellow Americans ask not", "segments": [
    [1, 0, 0.0, 2.1, " And so my fellow Americans", [50364, 400, 370, 452], 0.0, -0.21, 1.05, 0.012,
     [[0.0, 0.4, " And", 0.71], [0.4, 0.7, " so", 0.93], [0.7, 1.0, " my", 0.99], [1.0, 1.4, " fellow", 0.98],
      [1.4, 2.1, " Americans", 0.97]]],
    [2, 0, 2.5, 4.0, " ask not", [50489, 1029, 406], 0.0, -0.3, 0.9, 0.02, None]]}


def test_faster_whisper_named_tuples_dumped_as_arrays_are_read_by_position(tmp_path):
    """'segment 0: not an object' before; the arrays' fields are faster-whisper's ``Segment``/``Word`` fields."""
    t = read_transcript(_write(tmp_path, "fw.json", FW_ARRAYS))
    assert [(s.start, s.end, s.text) for s in t.segments] == [(0.0, 2.1, "And so my fellow Americans"),
                                                              (2.5, 4.0, "ask not")]
    assert [(w.text.strip(), w.start, w.end, w.probability) for w in t.segments[0].words][-1] == (
        "Americans", 1.4, 2.1, 0.97)
    assert t.segments[1].words == []


def test_faster_whisper_1_1_order_and_asdict_words_as_arrays(tmp_path):
    """faster-whisper 1.1's pre-releases moved ``temperature`` after ``words``; ``json.dumps(segment._asdict())``
    (faster-whisper issue #94's example, PR #667) keeps the segment an object but each word an array."""
    seg = list(FW_ARRAYS["segments"][0])
    seg = seg[:6] + seg[7:] + [seg[6]]  # ..., no_speech_prob, words, temperature
    t = read_transcript(_write(tmp_path, "fw11.json", {"segments": [seg]}))
    assert len(t.segments[0].words) == 5
    asdict = {"segments": [{"id": 1, "seek": 0, "start": 0.0, "end": 2.1, "text": " And so my fellow Americans",
                            "words": FW_ARRAYS["segments"][0][10]}]}
    t = read_transcript(_write(tmp_path, "asdict.json", asdict))
    assert [w.text.strip() for w in t.segments[0].words] == ["And", "so", "my", "fellow", "Americans"]


def test_an_array_that_is_not_a_faster_whisper_segment_is_still_refused(tmp_path):
    p = _write(tmp_path, "odd.json", {"segments": [[0.0, 1.0, "hello"]]})
    with pytest.raises(InputError, match=r"odd\.json: segment 0: not an object"):
        read_transcript(p)
    p = _write(tmp_path, "odd.json", {"segments": [{"start": 0, "end": 1, "text": "a", "words": [[0, 1]]}]})
    with pytest.raises(InputError, match=r"odd\.json: segment 0 word 0: not an object"):
        read_transcript(p)
