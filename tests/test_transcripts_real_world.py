"""Transcript files as real tools write them: a stated language checked against the slot it is given for,
the OpenAI API's verbose_json, AWS channel-identification jobs, TTML and SBV subtitles as transcripts."""

from __future__ import annotations

import json

import pytest

from anim400k.errors import InputError
from anim400k.formats.languages import language_code
from anim400k.formats.transcripts import read_transcript

#: The AWS Transcribe output of a channel-identification job (ch_0 "Stop! Wait please.", ch_1 "No way.",
#: overlapping at 0.3-1.0 s): ``results.items`` holds both channels' items merged by time.
AWS_CHANNELS = {"jobName": "job2", "accountId": "1", "status": "COMPLETED", "results": {"language_code": "en-US", "transcripts": [{"transcript": "Stop! No way. Wait please."}], "channel_labels": {"channels": [{"channel_label": "ch_0", "items": [{"id": 0, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "Stop"}], "start_time": "0.10", "end_time": "0.40", "channel_label": "ch_0"}, {"id": 1, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "!"}], "channel_label": "ch_0"}, {"id": 2, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "Wait"}], "start_time": "0.50", "end_time": "0.80", "channel_label": "ch_0"}, {"id": 3, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "please"}], "start_time": "0.80", "end_time": "1.20", "channel_label": "ch_0"}, {"id": 4, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}], "channel_label": "ch_0"}]}, {"channel_label": "ch_1", "items": [{"id": 5, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "No"}], "start_time": "0.30", "end_time": "0.60", "channel_label": "ch_1"}, {"id": 6, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "way"}], "start_time": "0.60", "end_time": "1.00", "channel_label": "ch_1"}, {"id": 7, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}], "channel_label": "ch_1"}]}], "number_of_channels": 2}, "items": [{"id": 0, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "Stop"}], "start_time": "0.10", "end_time": "0.40", "channel_label": "ch_0"}, {"id": 5, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "No"}], "start_time": "0.30", "end_time": "0.60", "channel_label": "ch_1"}, {"id": 1, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "!"}], "channel_label": "ch_0"}, {"id": 6, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "way"}], "start_time": "0.60", "end_time": "1.00", "channel_label": "ch_1"}, {"id": 2, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "Wait"}], "start_time": "0.50", "end_time": "0.80", "channel_label": "ch_0"}, {"id": 7, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}], "channel_label": "ch_1"}, {"id": 3, "type": "pronunciation", "alternatives": [{"confidence": "0.99", "content": "please"}], "start_time": "0.80", "end_time": "1.20", "channel_label": "ch_0"}, {"id": 4, "type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}], "channel_label": "ch_0"}]}}  # noqa: E501


#: The same job as an older AWS Transcribe writes it: no item has an ``id`` and ``results.items`` (both channels'
#: items merged by time) says no ``channel_label``; only each channel's own ``items`` list tells them apart.
AWS_CHANNELS_NO_IDS = {"jobName": "job2-2019", "accountId": "1", "status": "COMPLETED", "results": {"transcripts": [{"transcript": "Stop! No way. Wait please."}], "channel_labels": {"channels": [{"channel_label": "ch_0", "items": [{"start_time": "0.10", "end_time": "0.40", "alternatives": [{"confidence": "0.99", "content": "Stop"}], "type": "pronunciation"}, {"alternatives": [{"confidence": "0.0", "content": "!"}], "type": "punctuation"}, {"start_time": "0.50", "end_time": "0.80", "alternatives": [{"confidence": "0.99", "content": "Wait"}], "type": "pronunciation"}, {"start_time": "0.80", "end_time": "1.20", "alternatives": [{"confidence": "0.99", "content": "please"}], "type": "pronunciation"}, {"alternatives": [{"confidence": "0.0", "content": "."}], "type": "punctuation"}]}, {"channel_label": "ch_1", "items": [{"start_time": "0.30", "end_time": "0.60", "alternatives": [{"confidence": "0.99", "content": "No"}], "type": "pronunciation"}, {"start_time": "0.60", "end_time": "1.00", "alternatives": [{"confidence": "0.99", "content": "way"}], "type": "pronunciation"}, {"alternatives": [{"confidence": "0.0", "content": "."}], "type": "punctuation"}]}], "number_of_channels": 2}, "items": [{"start_time": "0.10", "end_time": "0.40", "alternatives": [{"confidence": "0.99", "content": "Stop"}], "type": "pronunciation"}, {"start_time": "0.30", "end_time": "0.60", "alternatives": [{"confidence": "0.99", "content": "No"}], "type": "pronunciation"}, {"alternatives": [{"confidence": "0.0", "content": "!"}], "type": "punctuation"}, {"start_time": "0.60", "end_time": "1.00", "alternatives": [{"confidence": "0.99", "content": "way"}], "type": "pronunciation"}, {"start_time": "0.50", "end_time": "0.80", "alternatives": [{"confidence": "0.99", "content": "Wait"}], "type": "pronunciation"}, {"alternatives": [{"confidence": "0.0", "content": "."}], "type": "punctuation"}, {"start_time": "0.80", "end_time": "1.20", "alternatives": [{"confidence": "0.99", "content": "please"}], "type": "pronunciation"}, {"alternatives": [{"confidence": "0.0", "content": "."}], "type": "punctuation"}]}}  # noqa: E501


def _write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return p


def _segments(t):
    return [(s.start, s.end, s.text, s.speaker) for s in t.segments]


def _aws(language_code, words):
    items = [{"id": i, "type": "pronunciation", "alternatives": [{"confidence": "0.9", "content": w}],
              "start_time": str(i), "end_time": str(i + 0.5)} for i, w in enumerate(words)]
    return {"results": {"language_code": language_code, "items": items}}


@pytest.mark.parametrize("code", ["ja", "ja-JP", "ja_JP", "japanese", "Japanese", "JPN", "jp"])
def test_language_names_and_locales_become_codes(code):
    assert language_code(code) == "ja"


def test_other_language_names_become_their_codes():
    assert [language_code(x) for x in ("english", "en-US", "french", "Haitian Creole", "pt-BR", "", None)] == [
        "en", "en", "fr", "ht", "pt", "", ""]


@pytest.mark.parametrize(
    ("name", "content", "stated"),
    [
        ("openai-whisper", {"language": "ja", "segments": [{"start": 0, "end": 1, "text": "まあ"}]}, "ja"),
        ("whisperx", {"language": "ja", "segments": [{"start": 0, "end": 1, "text": "まあ", "words": [
            {"word": "まあ", "start": 0.1, "end": 0.9, "score": 0.8}]}], "word_segments": []}, "ja"),
        ("aws", _aws("ja-JP", ["まあ"]), "ja"),
        ("whisper.cpp", {"params": {"language": "auto"}, "result": {"language": "ja"},
                         "transcription": [{"offsets": {"from": 0, "to": 1000}, "text": "まあ"}]}, "ja"),
        ("api verbose_json", {"task": "transcribe", "language": "japanese", "duration": 1.0, "text": "まあ",
                              "segments": [{"id": 0, "start": 0, "end": 1, "text": "まあ"}]}, "ja"),
        ("api capitalised", {"language": "Japanese", "segments": [{"start": 0, "end": 1, "text": "まあ"}]}, "ja"),
    ],
)
def test_a_transcript_stating_the_other_language_is_refused(tmp_path, name, content, stated):
    """A Japanese transcript given as the EN one (swapped ``transcripts.en``/``ja``, ``align --en/--jp``) became
    the release's English text without a word: the file's stated language was overridden silently."""
    p = _write(tmp_path, "en.json", content)
    with pytest.raises(InputError) as err:
        read_transcript(p, language="en")
    assert err.value.message == f"{p}: says its language is '{stated}' but is given as the EN transcript"
    assert read_transcript(p, language="ja").language == "ja"  # the right slot
    assert read_transcript(p).language == "ja"  # read as it states


def test_english_full_name_and_locale_match_the_en_slot(tmp_path):
    p = _write(tmp_path, "en.json", {"language": "english", "segments": [{"start": 0, "end": 1, "text": "Hi"}]})
    assert read_transcript(p).language == "en" and read_transcript(p, language="en").language == "en"
    with pytest.raises(InputError, match="says its language is 'en' but is given as the JA transcript"):
        read_transcript(p, language="ja")
    assert read_transcript(_write(tmp_path, "aws.json", _aws("en-US", ["Hi"])), language="en").language == "en"


def test_a_third_stated_language_is_read_as_given(tmp_path):
    """Only a swap of the pair is refused: Whisper's mis-detection (``zh`` for a short JP track) or a language
    neither slot holds is overridden by the slot, as before."""
    p = _write(tmp_path, "ja.json", {"language": "zh", "segments": [{"start": 0, "end": 1, "text": "まあ"}]})
    assert read_transcript(p, language="ja").language == "ja"
    assert read_transcript(p).language == "zh"


def test_subtitles_state_no_language_and_are_read_as_given(tmp_path):
    srt = _write(tmp_path, "ja.srt", "1\n00:00:01,000 --> 00:00:02,000\nHello\n")
    vtt = _write(tmp_path, "ja.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n")
    for p in (srt, vtt):
        assert read_transcript(p, language="ja").language == "ja"
        assert read_transcript(p, language="en").language == "en"


def test_align_refuses_swapped_transcripts_in_one_line(tmp_path, capsys):
    from anim400k.cli import main

    ja = _write(tmp_path, "ja_tr.json", {"language": "ja", "segments": [
        {"start": 10.0, "end": 12.0, "text": "まあ、いいか"}, {"start": 12.5, "end": 15.0, "text": "待って！"}]})
    en = _write(tmp_path, "en_tr.json", {"language": "en", "segments": [
        {"start": 10.0, "end": 12.0, "text": "Well, I guess that's it."},
        {"start": 12.5, "end": 15.0, "text": "Wait!"}]})
    out = tmp_path / "swap.json"
    assert main(["align", "--en", str(ja), "--jp", str(en), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"anim400k: error: {ja}: says its language is 'ja' but is given as the EN transcript"
    assert not out.exists()
    assert main(["align", "--en", str(en), "--jp", str(ja), "--out", str(out)]) == 0
    assert out.is_file()


def test_openai_api_verbose_json_words_beside_the_segments(tmp_path):
    """The OpenAI Whisper API keeps its words in a top-level ``words`` array, not inside the segments; they
    were ignored, and its language stayed ``'english'``."""
    api = {"task": "transcribe", "language": "english", "duration": 4.2, "text": "Hello there. General Kenobi.",
           "segments": [
               {"id": 0, "seek": 0, "start": 0.0, "end": 1.3, "text": " Hello there.", "tokens": [1, 2],
                "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 0.9, "no_speech_prob": 0.01},
               {"id": 1, "seek": 0, "start": 2.0, "end": 4.2, "text": " General Kenobi.", "tokens": [3],
                "temperature": 0.0, "avg_logprob": -0.3, "compression_ratio": 0.9, "no_speech_prob": 0.02}],
           "words": [{"word": "Hello", "start": 0.0, "end": 0.5}, {"word": "there", "start": 0.6, "end": 1.32},
                     {"word": "General", "start": 2.0, "end": 2.9}, {"word": "Kenobi", "start": 3.0, "end": 4.2}]}
    t = read_transcript(_write(tmp_path, "api.json", api))
    assert t.language == "en"
    assert [[(w.start, w.end, w.text) for w in s.words] for s in t.segments] == [
        [(0.0, 0.5, "Hello"), (0.6, 1.32, "there")], [(2.0, 2.9, "General"), (3.0, 4.2, "Kenobi")]]
    with pytest.raises(InputError, match="file-level word 1: end 0.1 before start 0.6"):
        api["words"][1]["end"] = 0.1
        read_transcript(_write(tmp_path, "api.json", api))


def test_whisper_timestamped_word_confidence_is_the_probability(tmp_path):
    obj = {"language": "en", "segments": [{"start": 0, "end": 1, "text": "Hi", "confidence": 0.8, "words": [
        {"text": "Hi", "start": 0.1, "end": 0.6, "confidence": 0.93}]}]}
    assert read_transcript(_write(tmp_path, "wts.json", obj)).segments[0].words[0].probability == 0.93


def test_aws_channel_identification_job_is_segmented_per_channel(tmp_path):
    """The two channels' words were merged word by word (``'Stop No!'``, a segment ``'way Wait.'`` whose
    word ``way`` ended after the segment and came before ``Wait``); the channel was dropped."""
    t = read_transcript(_write(tmp_path, "aws_channels.json", AWS_CHANNELS))
    assert (t.language, t.source) == ("en", "aws-transcribe")
    assert _segments(t) == [(0.1, 0.4, "Stop!", "ch_0"), (0.3, 1.0, "No way.", "ch_1"),
                            (0.5, 1.2, "Wait please.", "ch_0")]
    for s in t.segments:
        assert all(s.start <= w.start <= w.end <= s.end for w in s.words)
        assert [w.start for w in s.words] == sorted(w.start for w in s.words)
    # the channels known only from channel_labels (items without channel_label) read the same
    plain = json.loads(json.dumps(AWS_CHANNELS))
    for it in plain["results"]["items"]:
        del it["channel_label"]
    assert _segments(read_transcript(_write(tmp_path, "aws2.json", plain))) == _segments(t)
    # a speaker label wins over the channel
    labelled = json.loads(json.dumps(AWS_CHANNELS))
    for it in labelled["results"]["items"]:
        if it["type"] == "pronunciation" and it["channel_label"] == "ch_1":
            it["speaker_label"] = "spk_7"
    assert [s.speaker for s in read_transcript(_write(tmp_path, "aws3.json", labelled)).segments] == [
        "ch_0", "spk_7", "ch_0"]


def test_aws_channel_identification_job_without_item_ids_reads_each_channels_own_items(tmp_path):
    """Items without ``id`` could not be told by channel: the channels' words were mixed (``'Stop No!'``,
    ``'way Wait.'``, no speaker). Each channel's own ``items`` list is read: the same segments as with ids."""
    with_ids = _segments(read_transcript(_write(tmp_path, "ids.json", AWS_CHANNELS)))
    t = read_transcript(_write(tmp_path, "no_ids.json", AWS_CHANNELS_NO_IDS), language="en")
    assert _segments(t) == with_ids == [(0.1, 0.4, "Stop!", "ch_0"), (0.3, 1.0, "No way.", "ch_1"),
                                        (0.5, 1.2, "Wait please.", "ch_0")]
    assert [[(w.start, w.end, w.text, w.probability) for w in s.words] for s in t.segments] == [
        [(0.1, 0.4, "Stop", 0.99)], [(0.3, 0.6, "No", 0.99), (0.6, 1.0, "way", 0.99)],
        [(0.5, 0.8, "Wait", 0.99), (0.8, 1.2, "please", 0.99)]]
    # ids on the channels' items only (results.items without): told by the channels' lists, not by position
    mixed = json.loads(json.dumps(AWS_CHANNELS))
    for it in mixed["results"]["items"]:
        del it["id"], it["channel_label"]
    assert _segments(read_transcript(_write(tmp_path, "mixed.json", mixed))) == with_ids
    # a bad item in a channel's list is named by its place
    bad = json.loads(json.dumps(AWS_CHANNELS_NO_IDS))
    bad["results"]["channel_labels"]["channels"][1]["items"][0]["end_time"] = "0.1"
    with pytest.raises(InputError, match="channel_labels channel 1 item 0: end 0.1 before start 0.3"):
        read_transcript(_write(tmp_path, "bad.json", bad), language="en")


def test_aws_segment_words_out_of_order_are_sorted(tmp_path):
    """A segment (here one ``audio_segments`` entry) whose items are not in time order: its words come back
    sorted, punctuation kept after its word, and its end is its last word's end."""
    items = [{"id": 0, "type": "pronunciation", "alternatives": [{"content": "way"}],
              "start_time": "0.60", "end_time": "1.00"},
             {"id": 1, "type": "punctuation", "alternatives": [{"content": "!"}]},
             {"id": 2, "type": "pronunciation", "alternatives": [{"content": "No"}],
              "start_time": "0.30", "end_time": "0.60"}]
    obj = {"results": {"language_code": "en-US", "items": items,
                       "audio_segments": [{"id": 0, "items": [0, 1, 2]}]}}
    (seg,) = read_transcript(_write(tmp_path, "aws.json", obj)).segments
    assert (seg.start, seg.end, seg.text) == (0.3, 1.0, "No way!")
    assert [w.text for w in seg.words] == ["No", "way"]


TTML = """<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xml:lang="en">
  <body><div>
    <p begin="00:00:01.000" end="00:00:02.500">Hello<br/>there</p>
    <p begin="00:00:03.000" end="00:00:04.000">Bye</p>
  </div></body>
</tt>
"""
SBV = "0:00:01.000,0:00:02.500\nHello there\n\n0:00:03.000,0:00:04.000\nBye\n"


@pytest.mark.parametrize(("name", "text"), [("netflix.ttml", TTML), ("netflix.dfxp", TTML), ("youtube.sbv", SBV)])
def test_ttml_and_sbv_are_read_as_transcripts_like_subtitles(tmp_path, name, text):
    """They were refused as 'not valid JSON' although ``--subtitles`` reads them."""
    from anim400k.formats.subtitles import read_subtitles

    p = _write(tmp_path, name, text)
    t = read_transcript(p, language="en")
    assert (t.source, t.language) == ("subtitles", "en")
    assert [(s.start, s.end, s.text) for s in t.segments] == [(1.0, 2.5, "Hello there"), (3.0, 4.0, "Bye")]
    assert [(s.start, s.end, s.text) for s in t.segments] == [(e.start, e.end, e.text) for e in read_subtitles(p)]


def test_text_in_no_known_format_gets_the_generic_line(tmp_path):
    p = _write(tmp_path, "notes.txt", "hello world\nthis is not a transcript\n")
    with pytest.raises(InputError) as err:
        read_transcript(p)
    assert err.value.message.startswith(f"{p}: not a known transcript format (expected Whisper JSON")
    assert "TTML" in err.value.message and "not valid JSON" not in err.value.message


def test_build_refuses_a_given_transcript_for_the_other_language(tmp_path):
    """The build's ASR stage imports the manifest's ``transcripts.en``/``ja`` with the slot's language: a
    swapped pair stops there, naming the file, instead of becoming the release's text."""
    from anim400k.dataset import stages
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import BuildOptions
    from anim400k.model import EpisodeRef

    ja = _write(tmp_path, "ep.ja.json", {"language": "ja", "segments": [{"start": 0, "end": 1, "text": "まあ"}]})
    en = _write(tmp_path, "ep.en.json", {"language": "en", "segments": [{"start": 0, "end": 1, "text": "Well"}]})
    ref = EpisodeRef("show", "1", str(tmp_path / "jp.mkv"), str(tmp_path / "en.mkv"),
                     transcripts={"en": str(ja), "ja": str(en)})
    ctx = EpisodeContext(ref, str(tmp_path / "work"), str(tmp_path / "rel"), BuildOptions(progress=False))
    with pytest.raises(InputError) as err:
        stages.stage_asr_en(ctx)
    assert err.value.message == f"{ja}: says its language is 'ja' but is given as the EN transcript"
    with pytest.raises(InputError, match="says its language is 'en' but is given as the JA transcript"):
        stages.stage_asr_ja(ctx)
    right = EpisodeRef("show", "1", str(tmp_path / "jp.mkv"), str(tmp_path / "en.mkv"),
                       transcripts={"en": str(en), "ja": str(ja)})
    ctx = EpisodeContext(right, str(tmp_path / "work"), str(tmp_path / "rel"), BuildOptions(progress=False))
    assert read_transcript(stages.stage_asr_en(ctx)).language == "en"
    assert read_transcript(stages.stage_asr_ja(ctx)).language == "ja"


def test_openai_api_word_timestamps_only_are_cut_at_pauses(tmp_path):
    """``timestamp_granularities=["word"]`` gives ``text`` and ``words`` but no ``segments``: it was refused as
    an unknown format."""
    words = [("Wait", 0.1, 0.4), ("for", 0.4, 0.55), ("me", 0.55, 0.9), ("I'm", 1.8, 2.0), ("coming", 2.0, 2.4),
             ("with", 2.4, 2.6), ("you", 2.6, 3.0)]
    p = _write(tmp_path, "api.json", {"task": "transcribe", "language": "english", "duration": 4.2,
                                      "text": "Wait for me. I'm coming with you.",
                                      "words": [{"word": w, "start": s, "end": e} for w, s, e in words]})
    t = read_transcript(p, language="en")
    assert [(s.start, s.end, s.text, len(s.words)) for s in t.segments] == [
        (0.1, 0.9, "Wait for me", 3), (1.8, 3.0, "I'm coming with you", 4)]
    with pytest.raises(InputError, match="says its language is 'en' but is given as the JA transcript"):
        read_transcript(p, language="ja")
    ja = _write(tmp_path, "ja.json", {"text": "まあいいか", "words": [
        {"word": "まあ", "start": 0.0, "end": 0.4}, {"word": "いいか", "start": 0.4, "end": 0.9}]})
    assert [s.text for s in read_transcript(ja, language="ja").segments] == ["まあいいか"]
