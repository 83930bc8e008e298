"""Transcripts and subtitles as other services and real files write them (an outside tester's findings).

AssemblyAI (times in ms) and ElevenLabs Scribe word lists; AWS multi-language identification; Japanese line
breaks and Japanese SDH brackets; all-caps captions whose words before a colon are spoken; a cue number cut off
at the end of an SRT; TTML tick and frame times; a broken SBV timing line; bitmap subtitle files; Whisper's
console output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.formats.sdh import speech_text
from anim400k.formats.subtitle_text import collapse
from anim400k.formats.subtitles import read_subtitles
from anim400k.formats.transcripts import read_transcript

ASSEMBLYAI = {
    "id": "6rlr37h7b9", "status": "completed", "language_code": "en_us", "audio_url": "https://example.com/a.mp3",
    "text": "Hey, Kyon. Not again?", "audio_duration": 5,
    "words": [{"text": "Hey,", "start": 500, "end": 790, "confidence": 0.99, "speaker": "A"},
              {"text": "Kyon.", "start": 800, "end": 1300, "confidence": 0.87, "speaker": "A"},
              {"text": "Not", "start": 1400, "end": 1600, "confidence": 0.99, "speaker": "B"},
              {"text": "again?", "start": 1600, "end": 2100, "confidence": 0.98, "speaker": "B"}],
}
SCRIBE = {
    "language_code": "jpn", "language_probability": 0.98, "text": "キョン、(笑) またか。",
    "words": [{"text": "キョン、", "start": 0.5, "end": 0.9, "type": "word", "speaker_id": "speaker_0"},
              {"text": " ", "start": 0.9, "end": 1.0, "type": "spacing", "speaker_id": "speaker_0"},
              {"text": "(笑)", "start": 1.0, "end": 1.4, "type": "audio_event", "speaker_id": "speaker_1"},
              {"text": "また", "start": 1.5, "end": 1.8, "type": "word", "speaker_id": "speaker_1"},
              {"text": "か。", "start": 1.8, "end": 2.0, "type": "word", "speaker_id": "speaker_1"}],
}


def _write(tmp_path: Path, name: str, content: str | bytes | dict) -> Path:
    path = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content, ensure_ascii=False)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_assemblyai_times_are_milliseconds(tmp_path: Path) -> None:
    """They were read as seconds (segments at 500-1300 s) as OpenAI's word-only output; speakers split turns."""
    t = read_transcript(_write(tmp_path, "aai.json", ASSEMBLYAI), "en")
    assert t.source == "assemblyai" and t.language == "en"
    assert [(s.start, s.end, s.text, s.speaker) for s in t.segments] == [
        (0.5, 1.3, "Hey, Kyon.", "A"), (1.4, 2.1, "Not again?", "B")]
    assert [w.text for w in t.segments[0].words] == ["Hey,", "Kyon."] and t.segments[0].words[1].probability == 0.87
    with_turns = ASSEMBLYAI | {"utterances": [{"speaker": "A", "text": "Hey, Kyon. Not again?", "start": 500,
                                               "end": 2100, "words": []}]}
    t = read_transcript(_write(tmp_path, "turns.json", with_turns), "en")
    assert [(s.start, s.end, s.text, s.speaker, len(s.words)) for s in t.segments] == [
        (0.5, 2.1, "Hey, Kyon. Not again?", "A", 4)]
    # no AssemblyAI field, but integer times: still milliseconds
    bare = {"text": "Hey", "words": [{"text": "Hey", "start": 1500, "end": 1900}]}
    assert read_transcript(_write(tmp_path, "bare.json", bare), "en").segments[0].start == 1.5
    with pytest.raises(InputError, match="says its language is 'en' but is given as the JA transcript"):
        read_transcript(_write(tmp_path, "aai2.json", ASSEMBLYAI), "ja")
    broken = ASSEMBLYAI | {"words": [{"text": "Hey", "start": 900, "end": 500}]}
    with pytest.raises(InputError, match=r"word 0: end 0.5 before start 0.9"):
        read_transcript(_write(tmp_path, "broken.json", broken), "en")


def test_elevenlabs_scribe_words_without_spacing_or_audio_events(tmp_path: Path) -> None:
    t = read_transcript(_write(tmp_path, "scribe.json", SCRIBE))
    assert t.source == "elevenlabs-scribe" and t.language == "ja"
    assert [(s.start, s.end, s.text, s.speaker) for s in t.segments] == [
        (0.5, 0.9, "キョン、", "speaker_0"), (1.5, 2.0, "またか。", "speaker_1")]
    with pytest.raises(InputError, match="says its language is 'ja'"):
        read_transcript(_write(tmp_path, "scribe2.json", SCRIBE), "en")


def _aws_multi(code: str, words: list[str]) -> dict:
    items = [{"id": k, "type": "pronunciation", "alternatives": [{"confidence": "0.9", "content": w}],
              "start_time": f"{0.5 + 0.4 * k:.1f}", "end_time": f"{0.9 + 0.4 * k:.1f}", "language_code": code}
             for k, w in enumerate(words)]
    return {"jobName": "x", "status": "COMPLETED",
            "results": {"transcripts": [{"transcript": " ".join(words)}], "items": items,
                        "language_codes": [{"language_code": code, "duration_in_seconds": 2.4},
                                           {"language_code": "fr-FR", "duration_in_seconds": 0.3}]}}


def test_aws_multi_language_job_states_its_main_language(tmp_path: Path) -> None:
    """``IdentifyMultipleLanguages`` writes no ``results.language_code``: the language with the most speech counts,
    so a Japanese job given as the EN transcript is refused as a single-language one is (it was read as English)."""
    ja = _write(tmp_path, "ja.json", _aws_multi("ja-JP", ["キョン", "また", "か"]))
    with pytest.raises(InputError, match="says its language is 'ja' but is given as the EN transcript"):
        read_transcript(ja, "en")
    t = read_transcript(ja)
    assert t.language == "ja" and t.segments[0].text == "キョンまたか"
    items_only = _aws_multi("ja-JP", ["キョン"])
    del items_only["results"]["language_codes"]
    assert read_transcript(_write(tmp_path, "items.json", items_only)).language == "ja"


def test_japanese_line_breaks_join_without_a_space(tmp_path: Path) -> None:
    srt = _write(tmp_path, "jp.srt", "1\n00:00:01,000 --> 00:00:03,000\n涼宮ハルヒの\n憂鬱です\n\n"
                                     "2\n00:00:04,000 --> 00:00:05,000\nHey\nKyon\n")
    assert [s.text for s in read_subtitles(srt)] == ["涼宮ハルヒの憂鬱です", "Hey Kyon"]
    assert [s.text for s in read_transcript(srt, "ja").segments][0] == "涼宮ハルヒの憂鬱です"
    ass = _write(tmp_path, "jp.ass", "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, "
                                     "Fontsize\nStyle: Default,Arial,20\n\n[Events]\nFormat: Layer, Start, End, Style, "
                                     "Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.00,"
                                     "Default,,0,0,0,,涼宮ハルヒの\\N憂鬱\\hです\n")
    assert [s.text for s in read_subtitles(ass)] == ["涼宮ハルヒの憂鬱 です"]
    assert collapse("まさか…\r\n そんな") == "まさか…そんな" and collapse("ハルヒ\nHaruhi") == "ハルヒ Haruhi"


@pytest.mark.parametrize(("text", "spoken"), [
    ("（ドアが閉まる音）", ""),
    ("（キョン）またか", "またか"),
    ("［ハルヒ］待って！", "待って！"),
    ("【駅前】", ""),
    ("まさか（笑い声）そんな", "まさかそんな"),
    ("（なんでこうなるんだ）", "（なんでこうなるんだ）"),  # a thought, spoken over the picture
])
def test_japanese_sdh_brackets(text: str, spoken: str) -> None:
    assert speech_text(text) == spoken


@pytest.mark.parametrize(("text", "spoken"), [
    ("HERE'S THE PLAN: WE RUN.", "HERE'S THE PLAN: WE RUN."),
    ("LISTEN TO ME: STOP!", "LISTEN TO ME: STOP!"),
    ("THE ANSWER IS SIMPLE: NO.", "THE ANSWER IS SIMPLE: NO."),
    ("WE'RE LATE: RUN!", "WE'RE LATE: RUN!"),
    ("KYON: NOT AGAIN.", "NOT AGAIN."),
    ("OLD MAN: GET OFF MY LAWN.", "GET OFF MY LAWN."),
    ("MIKURU & ITSUKI: HELLO.", "HELLO."),
    ("KYON'S MOM: DINNER!", "DINNER!"),
    ("POLICE OFFICER #2: FREEZE!", "FREEZE!"),
    ("MRS. SUZUMIYA (O.S.): HI.", "HI."),
])
def test_all_caps_captions_keep_spoken_words_before_a_colon(text: str, spoken: str) -> None:
    assert speech_text(text) == spoken


def test_a_cue_number_cut_off_at_the_end_is_no_text(tmp_path: Path) -> None:
    srt = _write(tmp_path, "cut.srt", "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:03,000 --> 00:00:04,000\n"
                                      "Two\n\n3\n")
    assert [s.text for s in read_subtitles(srt)] == ["One", "Two"]
    kept = _write(tmp_path, "kept.srt", "1\n00:00:01,000 --> 00:00:02,000\nThe answer is\n42\n")
    assert [s.text for s in read_subtitles(kept)] == ["The answer is 42"]


def test_ttml_tick_and_frame_times(tmp_path: Path) -> None:
    """Netflix DFXP ticks and SMPTE frames; pysubs2 refused them (``Unsupported time expression``), and it never
    reads ``dur`` (it looks for ``duration``)."""
    dfxp = _write(tmp_path, "nf.dfxp", '<?xml version="1.0" encoding="utf-8"?>\n<tt xmlns="http://www.w3.org/ns/ttml" '
                  'xmlns:ttp="http://www.w3.org/ns/ttml#parameter" ttp:tickRate="10000000"><body><div>'
                  '<p begin="15000000t" end="25000000t">Hey,<br/>Kyon.</p><p begin="3s" dur="5000000t">Not again?</p>'
                  '</div></body></tt>')
    assert [(s.start, s.end, s.text) for s in read_subtitles(dfxp)] == [(1.5, 2.5, "Hey, Kyon."),
                                                                          (3.0, 3.5, "Not again?")]
    smpte = _write(tmp_path, "smpte.ttml", '<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml'
                   '#parameter" ttp:frameRate="30" ttp:frameRateMultiplier="1000 1001"><body><div>'
                   '<p begin="00:00:05:12" end="00:00:07:00">Hey</p><p begin="300f" dur="45f">Yo</p></div></body></tt>')
    assert [(s.start, s.end) for s in read_subtitles(smpte)] == [(5.4, 7.0), (10.01, 11.512)]
    assert read_transcript(dfxp, "en").segments[0].text == "Hey, Kyon."


@pytest.mark.parametrize(("parameter", "said"), [
    ('ttp:tickRate="0"', "ttp:tickRate='0' is not a positive integer"),
    ('ttp:frameRate="-25"', "ttp:frameRate='-25' is not a positive integer"),
    ('ttp:frameRate="30" ttp:frameRateMultiplier="1000"', "ttp:frameRateMultiplier='1000' is not two positive"),
])
def test_a_ttml_rate_that_is_no_positive_integer_is_refused(tmp_path: Path, parameter: str, said: str) -> None:
    """ttp:tickRate="0" was read as 1 tick per second: 10000t became 2:46:40."""
    doc = _write(tmp_path, "t.ttml", f'<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml'
                 f'#parameter" {parameter}><body><div><p begin="0t" end="10000t">Hey</p></div></body></tt>')
    with pytest.raises(InputError, match=f"t.ttml: {re.escape(said)}"):
        read_subtitles(doc)


def test_a_whole_ttml_rate_written_as_a_decimal_is_read(tmp_path: Path) -> None:
    """``ttp:frameRate="25.0"`` (tools write it) was refused as 'not a positive integer'."""
    doc = _write(tmp_path, "t.ttml", '<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml'
                 '#parameter" ttp:frameRate="25.0"><body><div><p begin="00:00:01.000" end="50f">Hey</p>'
                 '</div></body></tt>')
    assert [(s.start, s.end) for s in read_subtitles(doc)] == [(1.0, 2.0)]


def test_broken_sbv_timing_line_is_named_not_read_as_text(tmp_path: Path) -> None:
    good = _write(tmp_path, "a.sbv", "0:00:01.500,0:00:02.500\nHey, Kyon.\n\n0:00:03.000,0:00:04.000\nNot again?\n")
    assert [(s.start, s.text) for s in read_subtitles(good)] == [(1.5, "Hey, Kyon."), (3.0, "Not again?")]
    bad = _write(tmp_path, "b.sbv", "0:00:01.500,0:00:02.500\nHey, Kyon.\n\n0:00:03.000,0:00:0x.000\nNot again?\n")
    # a second time that is no time at all: the line was read as dialogue ('Hey, Kyon. 0:00:03.000,zz Not again?')
    worse = _write(tmp_path, "c.sbv", "0:00:01.500,0:00:02.500\nHey, Kyon.\n\n0:00:03.000,zz\nNot again?\n")
    for read in (read_subtitles, lambda p: read_transcript(p, "en")):
        for path in (bad, worse):
            with pytest.raises(InputError, match="a timing line that could not be read"):
                read(path)


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("vob.sub", b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01\x01\x89\xc3\xf8\x00\x00\x01\xbd\x56\x5e" + bytes(64),
     "VobSub"),
    ("pgs.sup", b"PG\x00\x00\x00\x00\x00\x00\x00\x00\x16\x00\x13" + bytes(64), "PGS"),
    ("vob.idx", b"# VobSub index file, v7 (do not modify this line!)\n#\nsize: 720x480\n", "VobSub index"),
])
def test_bitmap_subtitle_files_get_the_bitmap_advice(tmp_path: Path, name: str, data: bytes, kind: str,
                                                     capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(InputError, match=f"is a {kind}.*bitmap subtitles .* cannot be read; give the subtitles as"):
        read_subtitles(path)
    en = _write(tmp_path, "en.srt", "1\n00:00:01,000 --> 00:00:02,000\nHey\n")
    assert main(["align", "--en", str(en), "--jp", str(path), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and name in err[0] and "bitmap subtitles" in err[0]
    assert not (tmp_path / "o.json").exists()


def test_whisper_console_output_is_named(tmp_path: Path) -> None:
    lines = "[00:00.000 --> 00:02.500]  Hey, Kyon.\n[00:02.500 --> 00:04.000]  Not again?\n"
    path = _write(tmp_path, "console.txt", lines)
    with pytest.raises(InputError, match=r"is Whisper's console output .* \(--output_format json"):
        read_transcript(path, "en")
    with pytest.raises(InputError, match="not a known transcript format"):
        read_transcript(_write(tmp_path, "notes.txt", "just some notes\nabout the episode\n"), "en")
