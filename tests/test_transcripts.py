"""Transcript readers/writer: Whisper JSON (openai/faster/whisperX), AWS Transcribe, subtitles."""

from __future__ import annotations

import json
import warnings

import pytest

from anim400k.errors import InputError
from anim400k.formats.transcripts import read_transcript, write_transcript
from anim400k.model import Segment, Transcript, Word


def _write(tmp_path, name, obj):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return p


def test_openai_whisper_json(tmp_path):
    obj = {
        "text": " Hello there. General Kenobi.",
        "language": "en",
        "segments": [
            {"id": 1, "seek": 0, "start": 2.5, "end": 4.0, "text": " General Kenobi.", "tokens": [1]},
            {"id": 0, "seek": 0, "start": 0.0, "end": 1.25, "text": " Hello there.", "tokens": [1],
             "words": [{"word": " Hello", "start": 0.0, "end": 0.5, "probability": 0.9},
                       {"word": " there.", "start": 0.6, "end": 1.25, "probability": 0.8}]},
        ],
    }
    t = read_transcript(_write(tmp_path, "w.json", obj))
    assert t.language == "en"
    assert [s.text for s in t.segments] == ["Hello there.", "General Kenobi."]  # sorted by time
    assert t.segments[0].words == [Word(0.0, 0.5, "Hello", 0.9), Word(0.6, 1.25, "there.", 0.8)]
    assert read_transcript(_write(tmp_path, "w.json", obj), language="en-US").language == "en"
    with pytest.raises(InputError, match="says its language is 'en' but is given as the JA transcript"):
        read_transcript(_write(tmp_path, "w.json", obj), language="ja-JP")
    del obj["language"]  # a file that states none is read as the language given
    assert read_transcript(_write(tmp_path, "w.json", obj), language="ja-JP").language == "ja"


def test_whisperx_words_without_times_are_filled(tmp_path):
    obj = {"segments": [{"start": 1.0, "end": 3.0, "text": "in 1999 we", "speaker": "SPEAKER_01",
                         "words": [{"word": "in", "start": 1.0, "end": 1.2, "score": 0.7},
                                   {"word": "1999"},
                                   {"word": "we", "start": 2.5, "end": 2.8, "score": 0.6}]}],
           "word_segments": []}
    seg = read_transcript(_write(tmp_path, "x.json", obj)).segments[0]
    assert seg.speaker == "SPEAKER_01"
    assert [(w.start, w.end) for w in seg.words] == [(1.0, 1.2), (1.2, 2.5), (2.5, 2.8)]
    assert seg.words[0].probability == 0.7 and seg.words[1].probability is None


def test_whisperx_word_with_a_start_but_no_end_keeps_its_start(tmp_path):
    """Such a word was treated as unaligned and its start discarded (it began at the previous word's end)."""
    obj = {"segments": [{"start": 1.0, "end": 4.0, "text": "a b c d",
                         "words": [{"word": "a", "start": 1.0, "end": 1.2}, {"word": "b", "start": 1.8},
                                   {"word": "c"}, {"word": "d", "start": 3.0, "end": 3.5}]}]}
    seg = read_transcript(_write(tmp_path, "x.json", obj)).segments[0]
    assert [(w.text, w.start, w.end) for w in seg.words] == [
        ("a", 1.0, 1.2), ("b", 1.8, 3.0), ("c", 3.0, 3.0), ("d", 3.0, 3.5)]
    assert read_transcript(_write(tmp_path, "t.json", {"segments": [
        {"start": 0, "end": 1, "text": "", "transcribed": False}]})).segments[0].transcribed is False


def _old_fill(raw, seg_start, seg_end):
    """The filling of untimed words before it was made linear (quadratic when few words have times)."""
    timed = [(w.get("start"), w.get("end") if "start" in w else None, w["word"]) for w in raw]
    out, prev_end = [], seg_start
    for k, (s, e, text) in enumerate(timed):
        if e is None:
            s = prev_end if s is None else s
            nxt = next((t[0] for t in timed[k + 1 :] if t[0] is not None), seg_end)
            e = max(s, nxt)
        out.append((s, e, text))
        prev_end = e
    return out


def test_whisperx_untimed_words_are_filled_in_linear_time(tmp_path):
    """20,000 words, most without times (some with a start only): the same words as before, and no
    quadratic scan (all 20,000 untimed took 4.8 s before)."""
    import random
    import time

    rnd = random.Random(0)
    raw = []
    for k in range(20_000):
        w = {"word": f"w{k}"}
        r = rnd.random()
        if r < 0.02:
            w |= {"start": 1.0 + k * 0.01, "end": 1.0 + k * 0.01 + 0.005}
        elif r < 0.04:
            w |= {"start": 1.0 + k * 0.01}
        raw.append(w)
    end = 1.0 + 20_000 * 0.01
    obj = {"segments": [{"start": 1.0, "end": end, "text": "x", "words": raw}]}
    [seg] = read_transcript(_write(tmp_path, "mixed.json", obj)).segments
    assert [(w.start, w.end, w.text) for w in seg.words] == _old_fill(raw, 1.0, end)
    untimed = {"segments": [{"start": 1.0, "end": 9.0, "text": "x", "words": [{"word": "a"}] * 20_000}]}
    t0 = time.perf_counter()
    [seg] = read_transcript(_write(tmp_path, "untimed.json", untimed)).segments
    assert time.perf_counter() - t0 < 2.0
    assert (seg.words[0].start, seg.words[0].end) == (1.0, 9.0) and {(w.start, w.end) for w in seg.words[1:]} == {
        (9.0, 9.0)}


def _cpp_piece(t0, t1, text, **extra):
    """A whisper.cpp JSON piece (segment or token): times in ms, as whisper-cli writes them."""
    def stamp(ms):
        return f"00:{ms // 60000:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return {"timestamps": {"from": stamp(t0), "to": stamp(t1)}, "offsets": {"from": t0, "to": t1}, "text": text,
            **extra}


def _cpp_file(pieces, language="en"):
    return {"systeminfo": "AVX = 1", "model": {"type": "base", "multilingual": True, "vocab": 51865},
            "params": {"model": "models/ggml-base.bin", "language": language, "translate": False},
            "result": {"language": language}, "transcription": pieces}


def test_whisper_cpp_json(tmp_path):
    """``whisper-cli -oj``: segments with offsets in ms; the language from result.language."""
    obj = _cpp_file([_cpp_piece(2340, 4000, "元気ですか？"), _cpp_piece(0, 2340, "こんにちは。")], "ja")
    t = read_transcript(_write(tmp_path, "ep.json", obj))
    assert (t.language, t.source) == ("ja", "whisper-cpp-json")
    assert [(s.start, s.end, s.text, s.words) for s in t.segments] == [
        (0.0, 2.34, "こんにちは。", []), (2.34, 4.0, "元気ですか？", [])]
    assert read_transcript(_write(tmp_path, "ep.json", obj), language="ja").language == "ja"
    with pytest.raises(InputError, match="ep.json: says its language is 'ja' but is given as the EN transcript"):
        read_transcript(_write(tmp_path, "ep.json", obj), language="en")
    for piece in obj["transcription"]:  # timestamps only
        del piece["offsets"]
    assert [(s.start, s.end) for s in read_transcript(_write(tmp_path, "ep.json", obj)).segments] == [
        (0.0, 2.34), (2.34, 4.0)]
    del obj["result"]  # language from params unless "auto"
    assert read_transcript(_write(tmp_path, "ep.json", obj)).language == "ja"
    obj["params"]["language"] = "auto"
    assert read_transcript(_write(tmp_path, "ep.json", obj)).language == ""


def test_whisper_cpp_full_json_words_from_tokens(tmp_path):
    """``whisper-cli -ojf``: tokens (special ones skipped) joined into words at leading spaces."""
    tokens = [_cpp_piece(0, 0, "[_BEG_]", id=50364, p=0.98),
              _cpp_piece(0, 400, " Hello", id=2425, p=0.9),
              _cpp_piece(400, 700, " wor", id=1002, p=0.8),
              _cpp_piece(700, 1000, "ld", id=13, p=0.6),
              _cpp_piece(1000, 1520, ".", id=13, p=0.7),
              _cpp_piece(1520, 1520, "[_TT_76]", id=50440, p=0.5)]
    obj = _cpp_file([_cpp_piece(0, 1520, " Hello world.", tokens=tokens, speaker="1")])
    [seg] = read_transcript(_write(tmp_path, "ep.json", obj)).segments
    assert (seg.start, seg.end, seg.text, seg.speaker) == (0.0, 1.52, "Hello world.", "1")
    assert [(w.start, w.end, w.text) for w in seg.words] == [(0.0, 0.4, "Hello"), (0.4, 1.52, "world.")]
    assert seg.words[0].probability == pytest.approx(0.9) and seg.words[1].probability == pytest.approx(0.7)
    # a token without times (whisper.cpp writes none when it has none) takes its neighbours'
    del tokens[1]["offsets"], tokens[1]["timestamps"]
    tokens[2]["text"] = " world."
    del tokens[3:5]
    [seg] = read_transcript(_write(tmp_path, "ep.json", obj)).segments
    assert [(w.start, w.end, w.text) for w in seg.words] == [(0.0, 0.4, "Hello"), (0.4, 0.7, "world.")]
    # Japanese: every token is a word
    ja = [_cpp_piece(0, 0, "[_BEG_]"), _cpp_piece(0, 500, "こん", p=0.9), _cpp_piece(500, 900, "にちは", p=0.8),
          _cpp_piece(900, 1000, "。", p=0.7)]
    [seg] = read_transcript(_write(tmp_path, "ep.json", _cpp_file([_cpp_piece(0, 1000, "こんにちは。", tokens=ja,
                                                                             speaker="?")], "ja"))).segments
    assert [w.text for w in seg.words] == ["こん", "にちは", "。"] and seg.speaker is None


def _cpp_raw_file(tmp_path, name, obj):
    """``obj`` written as whisper-cli writes it: each text's bytes raw (strings made with
    :func:`_cut` carry the bytes of half a character, as ``surrogateescape`` keeps them)."""
    p = tmp_path / name
    p.write_bytes(json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8", "surrogateescape"))
    return p


def _cut(text, start, stop=None):
    """Bytes ``start:stop`` of ``text``'s UTF-8, possibly inside a character, as a string that keeps them."""
    return text.encode("utf-8")[start:stop].decode("utf-8", "surrogateescape")


def test_whisper_cpp_full_json_joins_characters_split_between_tokens(tmp_path):
    """whisper.cpp writes each token's bytes as they are: a Japanese character split between two
    tokens leaves invalid UTF-8 in the file. The tokens' bytes are joined into one word spanning
    their times (the whole file used to be refused as not UTF-8)."""
    # 「こんにちは。元気ですか？」: ち (e3 81 a1) and 元 (e5 85 83) cut inside, as byte-level BPE does
    ni_chi, chi_ha = _cut("にちは", 0, 5), _cut("にちは", 5)
    gen, ki = _cut("元気", 0, 2), _cut("元気", 2)
    assert "\udc81" in ni_chi and "\udc85" in gen  # really half characters
    tokens = [_cpp_piece(0, 0, "[_BEG_]", id=50364, p=0.9), _cpp_piece(0, 400, "こん", id=39780, p=0.9),
              _cpp_piece(400, 700, ni_chi, id=6979, p=0.8), _cpp_piece(700, 900, chi_ha, id=3590, p=0.6),
              _cpp_piece(900, 1000, "。", id=1543, p=0.7), _cpp_piece(1000, 1000, "[_TT_50]", id=50414, p=0.5)]
    second = [_cpp_piece(1200, 1500, gen, id=2347, p=0.4), _cpp_piece(1500, 1800, ki, id=3122, p=0.8),
              _cpp_piece(1800, 2300, "ですか？", id=4767, p=0.9)]
    obj = _cpp_file([_cpp_piece(0, 1000, "こん" + ni_chi + chi_ha + "。", tokens=tokens),
                     _cpp_piece(1200, 2300, gen + ki + "ですか？", tokens=second)], "ja")
    path = _cpp_raw_file(tmp_path, "ep.json", obj)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    first, last = read_transcript(path).segments
    assert (first.text, last.text) == ("こんにちは。", "元気ですか？")
    assert [(w.text, w.start, w.end) for w in first.words] == [
        ("こん", 0.0, 0.4), ("にちは", 0.4, 0.9), ("。", 0.9, 1.0)]
    assert first.words[1].probability == pytest.approx(0.7)
    assert [(w.text, w.start, w.end) for w in last.words] == [("元気", 1.2, 1.8), ("ですか？", 1.8, 2.3)]

    # -ml N splits segments between tokens, whatever their bytes: the halves are joined again
    halves = _cpp_file([_cpp_piece(1200, 1500, gen, tokens=second[:1], speaker="0"),
                        _cpp_piece(1500, 2300, ki + "ですか？", tokens=second[1:], speaker="0")], "ja")
    [seg] = read_transcript(_cpp_raw_file(tmp_path, "ml.json", halves)).segments
    assert (seg.start, seg.end, seg.text, seg.speaker) == (1.2, 2.3, "元気ですか？", "0")
    assert [(w.text, w.start, w.end) for w in seg.words] == [("元気", 1.2, 1.8), ("ですか？", 1.8, 2.3)]

    # bytes that stay invalid once joined are refused in one line naming the file
    tokens[3]["text"] = "\udcffは"  # a byte 0xff: never UTF-8
    with pytest.raises(InputError, match=r"ep\.json: transcription 0 word 1: not valid UTF-8 once its tokens"):
        read_transcript(_cpp_raw_file(tmp_path, "ep.json", obj))
    # another JSON file that is not UTF-8 is refused as before
    bad = tmp_path / "w.json"
    bad.write_bytes(b'{"segments": [{"start": 0, "end": 1, "text": "\xe3\x81"}]}')
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_transcript(bad)


@pytest.mark.parametrize(("piece", "message"), [
    ({"text": "x"}, "transcription 0: missing 'offsets'"),
    ({"offsets": [0, 1], "text": "x"}, "transcription 0: 'offsets' is not an object"),
    ({"offsets": {"from": 500, "to": 100}, "text": "x"}, "transcription 0: end 0.1 before start 0.5"),
    ({"offsets": {"from": "a", "to": 100}, "text": "x"}, "offsets.from is not a number"),
    ({"offsets": {"from": 0}, "text": "x"}, "offsets.to is missing"),
    ({"timestamps": {"from": "00:00:01,000", "to": "soon"}, "text": "x"}, "timestamps.to is not a timestamp"),
    ({"offsets": {"from": 0, "to": 1e13}, "text": "x"}, "offsets.to is not a valid time"),
    ({"offsets": {"from": 0, "to": 100}, "text": 5}, "'text' is not a string"),
    ({"offsets": {"from": 0, "to": 100}, "text": "x", "tokens": {}}, "'tokens' is not a list"),
    ({"offsets": {"from": 0, "to": 100}, "text": "x", "tokens": [{"text": 1}]},
     "transcription 0 token 0: 'text' is not a string"),
])
def test_whisper_cpp_malformed_inputs_name_the_problem(tmp_path, piece, message):
    with pytest.raises(InputError, match=message):
        read_transcript(_write(tmp_path, "ep.json", _cpp_file([piece])))
    with pytest.raises(InputError, match="'transcription' is not a list"):
        read_transcript(_write(tmp_path, "ep.json", {"transcription": {}}))


def test_write_read_roundtrip(tmp_path):
    t = Transcript(
        language="ja",
        source="vad",
        segments=[
            Segment(0.5, 1.5, "", transcribed=False),
            Segment(2.0, 3.25, "こんにちは", words=[Word(2.0, 3.25, "こんにちは", 0.5)], speaker="spk1"),
        ],
    )
    out = tmp_path / "sub" / "t.json"
    write_transcript(out, t, extra={"anim400k": {"config_hash": "abc"}})
    back = read_transcript(out)
    assert back == t
    assert json.loads(out.read_text())["anim400k"]["config_hash"] == "abc"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def _aws_item(i, content, start=None, end=None, conf="0.9", speaker=None):
    it = {"id": i, "type": "punctuation" if start is None else "pronunciation",
          "alternatives": [{"confidence": conf, "content": content}]}
    if start is not None:
        it["start_time"], it["end_time"] = str(start), str(end)
    if speaker:
        it["speaker_label"] = speaker
    return it


def test_aws_without_audio_segments_cuts_at_punctuation_and_pauses(tmp_path):
    items = [
        _aws_item(0, "Hello", 0.0, 0.4, speaker="spk_0"),
        _aws_item(1, "there", 0.45, 0.8, speaker="spk_0"),
        _aws_item(2, "."),
        _aws_item(3, "How", 0.9, 1.1),
        _aws_item(4, "are", 1.15, 1.3),
        # 0.7 s pause: new segment even without punctuation
        _aws_item(5, "you", 2.0, 2.3),
        _aws_item(6, "?"),
    ]
    obj = {"jobName": "j", "results": {"language_code": "en-US", "transcripts": [{"transcript": "x"}],
                                       "items": items}}
    t = read_transcript(_write(tmp_path, "aws.json", obj))
    assert t.language == "en" and t.source == "aws-transcribe"
    assert [(s.start, s.end, s.text) for s in t.segments] == [
        (0.0, 0.8, "Hello there."), (0.9, 1.3, "How are"), (2.0, 2.3, "you?")]
    assert t.segments[0].speaker == "spk_0"
    assert t.segments[1].words[0] == Word(0.9, 1.1, "How", 0.9)


def test_aws_exact_half_second_pause_does_not_cut(tmp_path):
    items = [_aws_item(0, "a", 0.0, 0.5), _aws_item(1, "b", 1.0, 1.2)]
    t = read_transcript(_write(tmp_path, "aws.json", {"results": {"items": items}}))
    assert len(t.segments) == 1


@pytest.mark.parametrize(("end", "start"), [("0.57", "1.07"), ("0.07", "0.57"), ("1.005", "1.505"),
                                           *((f"{ms / 1000:.2f}", f"{(ms + 500) / 1000:.2f}")
                                             for ms in range(10, 20000, 370))])
def test_aws_pause_of_exactly_half_a_second_as_written_never_cuts(tmp_path, end, start):
    # 1.07 - 0.57 is 0.5000000000000001 in floats: the pause is compared in whole milliseconds
    items = [_aws_item(0, "Hello", "0.00", end), _aws_item(1, "again", start, f"{float(start) + 0.3:.3f}")]
    t = read_transcript(_write(tmp_path, "aws.json", {"results": {"items": items}}))
    assert [s.text for s in t.segments] == ["Hello again"]
    after = f"{float(start) + 0.001:.3f}"  # one millisecond more does cut
    items = [_aws_item(0, "Hello", "0.00", end), _aws_item(1, "again", after, f"{float(after) + 0.3:.3f}")]
    t = read_transcript(_write(tmp_path, "aws.json", {"results": {"items": items}}))
    assert [s.text for s in t.segments] == ["Hello", "again"]


def _speaker_segment(speaker, *words):
    times = [(str(s), str(e)) for s, e in words]
    return {"start_time": times[0][0], "end_time": times[-1][1], "speaker_label": speaker,
            "items": [{"start_time": s, "end_time": e, "speaker_label": speaker} for s, e in times]}


def test_aws_older_files_with_speakers_only_in_speaker_labels(tmp_path):
    items = [_aws_item(0, "Hello", 0.04, 0.51), _aws_item(1, ","), _aws_item(2, "Mr.", 0.6, 0.9),
             _aws_item(3, "Smith", 0.9, 1.4), _aws_item(4, "."), _aws_item(5, "How", 1.5, 1.7),
             _aws_item(6, "are", 1.7, 1.8), _aws_item(7, "you", 1.8, 2.1), _aws_item(8, "?"),
             _aws_item(9, "I'm", 2.61, 2.9), _aws_item(10, "fine", 2.9, 3.2), _aws_item(11, ".")]
    for it in items:
        it.pop("id")  # the classic output has no item ids
    labels = {"speakers": 2, "segments": [
        _speaker_segment("spk_0", (0.04, 0.51), (0.6, 0.9), (0.9, 1.4), (1.5, 1.7), (1.7, 1.8), (1.8, 2.1)),
        _speaker_segment("spk_1", (2.61, 2.9), (2.9, 3.2))]}
    obj = {"jobName": "ep01-en", "results": {"transcripts": [{"transcript": "x"}], "speaker_labels": labels,
                                             "items": items}}
    t = read_transcript(_write(tmp_path, "aws.json", obj))
    assert [(s.text, s.speaker) for s in t.segments] == [
        ("Hello, Mr. Smith.", "spk_0"), ("How are you?", "spk_0"), ("I'm fine.", "spk_1")]
    # a speaker change ends a segment (s36: it used to be one segment given to its most frequent speaker);
    # a word outside every word turn takes the speaker segment holding it
    labels["segments"][1]["items"] = labels["segments"][1]["items"][:1]
    labels["segments"].insert(1, _speaker_segment("spk_1", (1.5, 1.7), (1.7, 1.8)))
    t = read_transcript(_write(tmp_path, "aws.json", obj))
    assert [(s.text, s.speaker) for s in t.segments] == [
        ("Hello, Mr. Smith.", "spk_0"), ("How are", "spk_1"), ("you?", "spk_0"), ("I'm fine.", "spk_1")]
    # speakers on the items (newer files) win over speaker_labels
    items[0]["speaker_label"] = items[2]["speaker_label"] = items[3]["speaker_label"] = "spk_7"
    assert read_transcript(_write(tmp_path, "aws.json", obj)).segments[0].speaker == "spk_7"


@pytest.mark.parametrize(("labels", "message"), [
    ([], "results.speaker_labels is not an object"),
    ({"segments": {}}, "results.speaker_labels.segments is not a list"),
    ({"segments": [{"speaker_label": "spk_0", "items": [{"start_time": "2", "end_time": "1"}]}]},
     "speaker_labels segment 0 item 0: end 1 before start 2"),
])
def test_aws_malformed_speaker_labels_are_refused(tmp_path, labels, message):
    obj = {"results": {"speaker_labels": labels, "items": [_aws_item(0, "Hi", 0.0, 0.4)]}}
    with pytest.raises(InputError, match=message):
        read_transcript(_write(tmp_path, "aws.json", obj))


def test_aws_audio_segments_and_japanese_joining(tmp_path):
    items = [_aws_item(0, "今日", 0.0, 0.3), _aws_item(1, "は", 0.3, 0.4), _aws_item(2, "。"),
             _aws_item(3, "晴れ", 0.5, 0.9)]
    obj = {"results": {"language_code": "ja-JP", "items": items,
                       "audio_segments": [{"id": 0, "transcript": "", "start_time": "0.0", "end_time": "0.9",
                                           "items": [0, 1, 2, 3]}]}}
    t = read_transcript(_write(tmp_path, "aws.json", obj))
    assert t.language == "ja"
    assert [(s.start, s.end, s.text) for s in t.segments] == [(0.0, 0.9, "今日は。晴れ")]


@pytest.mark.parametrize("name", ["w.srt", "w.vtt", "w.ass", "w.sub", "w.txt", "w"])
def test_json_transcript_is_read_as_json_whatever_its_name(tmp_path, name):
    whisper = {"language": "en", "segments": [
        {"start": 0.0, "end": 1.52, "text": " Hello world.",
         "words": [{"word": " Hello", "start": 0.0, "end": 0.62, "probability": 0.93},
                   {"word": " world.", "start": 0.62, "end": 1.52, "probability": 0.88}]},
        {"start": 1.98, "end": 3.4, "text": " I have 2 dogs."}]}
    t = read_transcript(_write(tmp_path, name, "\n  " + json.dumps(whisper)))
    assert (t.source, t.language) == ("whisper-json", "en")
    assert [(s.start, s.end, s.text) for s in t.segments] == [
        (0.0, 1.52, "Hello world."), (1.98, 3.4, "I have 2 dogs.")]
    t = read_transcript(_write(tmp_path, name, json.dumps(whisper["segments"])))  # a bare list of segments
    assert len(t.segments) == 2 and t.segments[0].words[1] == Word(0.62, 1.52, "world.", 0.88)
    aws = {"results": {"language_code": "en-US", "items": [_aws_item(0, "Hi", 0.0, 0.4)]}}
    assert read_transcript(_write(tmp_path, name, aws)).source == "aws-transcribe"


def test_subtitles_starting_with_a_bracket_or_brace_are_still_subtitles(tmp_path):
    ass = ("[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
           "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
           "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hello\n")
    for name in ("a.srt", "a.ass"):
        t = read_transcript(_write(tmp_path, name, ass))
        assert (t.source, [(s.start, s.end, s.text) for s in t.segments]) == ("subtitles", [(1.0, 2.0, "Hello")])
    t = read_transcript(_write(tmp_path, "a.sub", "{1}{1}25\n{25}{50}Hello\n"))  # MicroDVD, 25 fps
    assert (t.source, [s.text for s in t.segments]) == ("subtitles", ["Hello"])
    with pytest.raises(InputError, match="not valid JSON"):  # broken JSON not named as subtitles
        read_transcript(_write(tmp_path, "a.json", '{"segments": ['))


def test_subtitle_files_as_transcripts(tmp_path):
    srt = "1\n00:00:01,000 --> 00:00:02,500\n<i>Hi</i>\nthere\n\n2\n00:00:03,000 --> 00:00:04,000\nBye\n"
    t = read_transcript(_write(tmp_path, "a.srt", srt), language="en")
    assert [(s.start, s.end, s.text) for s in t.segments] == [(1.0, 2.5, "Hi there"), (3.0, 4.0, "Bye")]
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n"
    t = read_transcript(_write(tmp_path, "noext", vtt))  # detected by content
    assert [(s.start, s.end, s.text) for s in t.segments] == [(1.0, 2.0, "hello")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON (line 1"),
        ("", "empty file"),
        ({"segments": [{"start": 0, "end": 1, "text": "a"}] * 12 + [{"start": 4.0, "end": 3.2, "text": "x"}]},
         "segment 12: end 3.2 before start 4"),
        ({"segments": [{"start": -1, "end": 1, "text": "a"}]}, "segment 0: negative start -1"),
        ({"segments": [{"start": "abc", "end": 1, "text": "a"}]}, "segment 0: start is not a number ('abc')"),
        ({"segments": [{"end": 1, "text": "a"}]}, "segment 0: missing 'start'"),
        ({"segments": [{"start": 0, "end": 1, "words": [{"word": "a", "start": 0.5, "end": 0.2}]}]},
         "segment 0 word 0: end 0.2 before start 0.5"),
        ({"segments": "nope"}, "'segments' is not a list"),
        ({"results": {"items": [_aws_item(0, "a", "x", 1)]}}, "item 0: start_time is not a number ('x')"),
        ({"results": {"items": [_aws_item(0, "a", 2, 1)]}}, "item 0: end 1 before start 2"),
        ({"results": {"items": [{"type": "pronunciation"}]}}, "item 0: missing alternatives[0]"),
        ({"hello": 1}, "not a known transcript format"),
        # float() reads '1_0' as 10.0 and bool('false') is True: both were taken silently
        ({"segments": [{"start": "1_0", "end": 20, "text": "a"}]}, "segment 0: start is not a number ('1_0')"),
        ({"results": {"items": [_aws_item(0, "a", "1", "2_0")]}}, "item 0: end_time is not a number ('2_0')"),
        ({"segments": [{"start": 0, "end": 1, "text": "a", "transcribed": "false"}]},
         "segment 0: 'transcribed' is not true or false ('false')"),
    ],
)
def test_malformed_inputs_name_file_and_problem(tmp_path, content, message):
    p = _write(tmp_path, "bad.json", content)
    with pytest.raises(InputError) as err:
        read_transcript(p)
    assert message in err.value.message
    assert str(p) in err.value.message


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_transcript(tmp_path / "nope.json")


def _digits(n: int) -> str:
    return "9" * n


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"segments":[{"start":1,"end":1e300,"text":"hi"}]}', "segment 0: end is not a valid time (1e+300;"),
        ('{"segments":[{"start":1,"end":1e16,"text":"hi"}]}', "segment 0: end is not a valid time (1e+16;"),
        ('{"segments":[{"start":1e400,"end":2,"text":"hi"}]}', "segment 0: start is not a valid time (inf;"),
        ('{"segments":[{"start":1,"end":10000000.5,"text":"hi"}]}', "segment 0: end is not a valid time"),
        ('{"segments":[{"start":1,"end":' + _digits(400) + ',"text":"hi"}]}',
         "segment 0: end is not a valid time (a 400-digit number;"),
        ('{"segments":[{"start":1,"end":' + _digits(5000) + ',"text":"hi"}]}',
         "segment 0: end is not a valid time (a 5000-digit number;"),
        ('{"segments":[{"start":1,"end":2,"text":"hi","words":[{"word":"a","start":1,"end":1e300}]}]}',
         "segment 0 word 0: end is not a valid time (1e+300;"),
        ('{"segments":[{"start":1,"end":2,"text":"hi","words":[{"word":"a","start":1,"end":2,"probability":'
         + _digits(400) + '}]}]}', "segment 0 word 0: probability is not finite (a 400-digit number)"),
        (json.dumps({"results": {"items": [_aws_item(0, "a", "0.5", "1e400")]}}),
         "item 0: end_time is not a valid time ('1e400';"),
        (json.dumps({"results": {"items": [_aws_item(0, "a", "nan", "1")]}}),
         "item 0: start_time is not a valid time ('nan';"),
        (json.dumps({"results": {"items": [_aws_item(0, "a", "0.5", _digits(5000))]}}),
         "item 0: end_time is not a valid time ('" + _digits(36) + "...;"),
    ],
)
def test_times_out_of_range_are_refused_naming_file_and_field(tmp_path, content, message):
    """Times must be finite seconds from 0 to MAX_TIME_S (1e7): huge numbers never reach the aligner."""
    p = _write(tmp_path, "big.json", content)
    with pytest.raises(InputError) as err:
        read_transcript(p)
    assert err.value.message.startswith(f"{p}: ")
    assert message in err.value.message
    assert "10000000" in err.value.message or "probability" in message


def test_largest_valid_time_is_read(tmp_path):
    from anim400k.model import MAX_TIME_S

    p = _write(tmp_path, "ok.json", {"segments": [{"start": 0, "end": MAX_TIME_S, "text": "a"}]})
    assert read_transcript(p).segments[0].end == MAX_TIME_S


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"language": 5, "segments": []}, "'language' is not a language code string (5)"),
        ({"language": ["en"], "segments": []}, "'language' is not a language code string (['en'])"),
        ({"results": {"language_code": 5, "items": []}}, "results.language_code is not a language code string (5)"),
        ({"results": {"language_code": ["en-US"], "items": []}},
         "results.language_code is not a language code string (['en-US'])"),
        ({"language_code": {"x": 1}, "results": {"items": []}}, "language_code is not a language code string"),
    ],
)
def test_language_that_is_not_a_string_is_refused(tmp_path, content, message):
    p = _write(tmp_path, "lang.json", content)
    with pytest.raises(InputError) as err:
        read_transcript(p)
    assert err.value.message.startswith(f"{p}: ") and message in err.value.message
    # a language given by the caller replaces the file's: the stored one is not used, so not checked
    assert read_transcript(p, language="en").language == "en"


def test_align_command_names_the_transcript_with_a_huge_time(tmp_path, capsys):
    from anim400k.cli import main

    en = _write(tmp_path, "en.json", '{"segments":[{"start":1,"end":1e300,"text":"hi"}]}')
    jp = _write(tmp_path, "jp.json", {"segments": [{"start": 0, "end": 2, "text": "a"}]})
    out = tmp_path / "o.json"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way
        assert main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"anim400k: error: {en}: segment 0: end is not a valid time (1e+300; " \
                          "times are seconds from 0 to 10000000)"
    assert not out.exists()


def test_written_transcripts_are_whisper_json_as_whisper_tools_read_it(tmp_path) -> None:
    """openai-whisper's subtitle writer joins a cue's words with nothing, relying on each word's leading space:
    our words had none (``Ican'tbelieveit.``). Words of a spaced language carry it now, with the segments' ``id``
    and the whole ``text``; reading the file back gives the words without it."""
    en = Transcript("en", [Segment(0.0, 1.2, "I can't believe it.", words=[
        Word(0.0, 0.2, "I", 0.9), Word(0.2, 0.6, "can't", 0.8), Word(0.6, 1.2, "believe it.", 0.7)]),
        Segment(1.5, 2.0, "Wow.", words=[Word(1.5, 2.0, "Wow.", 0.9)])])
    d = en.to_dict()
    assert d["text"] == "I can't believe it. Wow." and [s["id"] for s in d["segments"]] == [0, 1]
    assert "".join(w["word"] for w in d["segments"][0]["words"]).strip() == "I can't believe it."
    ja = Transcript("ja", [Segment(0.0, 1.0, "またか", words=[Word(0.0, 0.5, "また"), Word(0.5, 1.0, "か")])])
    dj = ja.to_dict()
    assert dj["text"] == "またか" and "".join(w["word"] for w in dj["segments"][0]["words"]) == "またか"
    path = tmp_path / "en.json"
    write_transcript(path, en)
    back = read_transcript(path, "en")
    assert [w.text for w in back.segments[0].words] == ["I", "can't", "believe it."]
    assert back.segments == en.segments
