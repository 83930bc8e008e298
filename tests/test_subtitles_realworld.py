"""Real-world subtitle files that were misread (tester sweep s31, findings F-A, F-C, F-F, F-G, F-I).

* YouTube auto-captions (rolling cues) and openai-whisper ``--highlight_words`` SRT/VTT came back with
  every line 2-3 times / once per word; they are read as the spoken text once, with word times.
* A positioned line in a per-character ASS style that also carries unpositioned dialogue was dropped
  as a sign.
* ASS times with other than 2 fraction digits: the file reader (pysubs2, a decimal fraction) and the
  MKV stream (FFmpeg, centiseconds) disagreed.
* WebVTT muxed into MKV kept ruby readings that the file reader drops.
* SDH subtitles: sound descriptions, speaker labels and lyrics were spoken by the dub and read as
  speech; the stream picker took a default SDH track over the plain one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from anim400k.errors import InputError
from anim400k.formats.sdh import speaker_label, speech_text, speech_words
from anim400k.formats.subtitles import (
    pick_subtitle_stream,
    read_subtitle_stream,
    read_subtitle_stream_counted,
    read_subtitles,
    read_subtitles_counted,
)
from anim400k.formats.transcripts import read_transcript
from anim400k.model import Segment, Subtitle, Word
from anim400k.translate.subtitles import SubtitleTranslator


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def _mux(out: Path, subs: list[Path], codec: str = "copy", extra: tuple[str, ...] = ()) -> Path:
    """An MKV with 10 s of tone and ``subs`` as its subtitle streams (``-c:s codec``)."""
    inputs = [a for s in subs for a in ("-i", str(s))]
    maps = [a for k in range(len(subs) + 1) for a in ("-map", str(k))]
    _ffmpeg("-f", "lavfi", "-i", "sine=d=10", *inputs, *maps, "-c:a", "aac", "-c:s", codec, *extra, str(out))
    return out


# ------------------------------------------------------------------ F-A: rolling and highlight captions

#: Four cues exactly as YouTube writes auto-captions: "hello everyone welcome back / to the channel".
YOUTUBE_AUTO = (
    "WEBVTT\nKind: captions\nLanguage: en\n\n"
    "00:00:00.320 --> 00:00:02.230 align:start position:0%\n \n"
    "hello<00:00:00.640><c> everyone</c><00:00:01.040><c> welcome</c><00:00:01.360><c> back</c>\n\n"
    "00:00:02.230 --> 00:00:02.240 align:start position:0%\nhello everyone welcome back\n \n\n"
    "00:00:02.240 --> 00:00:04.950 align:start position:0%\nhello everyone welcome back\n"
    "to<00:00:02.560><c> the</c><00:00:02.720><c> channel</c>\n\n"
    "00:00:04.950 --> 00:00:04.960 align:start position:0%\nto the channel\n \n\n"
    "00:00:04.960 --> 00:00:06.000 align:start position:0%\nto the channel\nno\n\n"
    "00:00:06.000 --> 00:00:06.010 align:start position:0%\nno\n \n\n"
    "00:00:06.010 --> 00:00:07.000 align:start position:0%\nno\nno\n\n"
)


def test_youtube_rolling_auto_captions_are_read_once(tmp_path):
    path = tmp_path / "youtube_auto.vtt"
    path.write_text(YOUTUBE_AUTO, encoding="utf-8")
    assert read_subtitles(path) == [
        Subtitle(0.32, 2.23, "hello everyone welcome back"),
        Subtitle(2.24, 4.95, "to the channel"),
        Subtitle(4.96, 6.0, "no"),  # a one-word line has no inline time
        Subtitle(6.01, 7.0, "no"),  # said again: a new line, not a repeat
    ]


def test_youtube_rolling_auto_captions_as_a_transcript_keep_their_word_times(tmp_path):
    path = tmp_path / "youtube_auto.vtt"
    path.write_text(YOUTUBE_AUTO, encoding="utf-8")
    segments = read_transcript(path, language="en").segments
    assert [s.text for s in segments] == ["hello everyone welcome back", "to the channel", "no", "no"]
    assert segments[0].words == [Word(0.32, 0.64, "hello"), Word(0.64, 1.04, "everyone"),
                                 Word(1.04, 1.36, "welcome"), Word(1.36, 2.23, "back")]
    assert segments[1].words == [Word(2.24, 2.56, "to"), Word(2.56, 2.72, "the"), Word(2.72, 4.95, "channel")]
    assert segments[2].words == [Word(4.96, 6.0, "no")]


def test_youtube_rolling_captions_muxed_into_webm_read_as_the_file(tmp_path):
    path = tmp_path / "youtube_auto.vtt"
    path.write_text(YOUTUBE_AUTO, encoding="utf-8")
    mkv = _mux(tmp_path / "yt.mkv", [path])
    assert read_subtitle_stream(mkv, 0) == read_subtitles(path)


WHISPER_HIGHLIGHT_SRT = """1
00:00:00,000 --> 00:00:00,400
<u>Hello</u> there friend.

2
00:00:00,400 --> 00:00:00,600
Hello there friend.

3
00:00:00,600 --> 00:00:00,900
Hello <u>there</u> friend.

4
00:00:00,900 --> 00:00:01,400
Hello there <u>friend.</u>

5
00:00:02,000 --> 00:00:02,500
<u>Bye</u> now.

6
00:00:02,500 --> 00:00:03,000
Bye <u>now.</u>
"""


@pytest.mark.parametrize("form", ["srt", "vtt"])
def test_whisper_highlight_words_is_one_event_per_line_with_word_times(tmp_path, form):
    text = WHISPER_HIGHLIGHT_SRT
    if form == "vtt":
        text = "WEBVTT\n\n" + "\n".join(line.replace(",", ".") if "-->" in line else line
                                        for line in text.splitlines() if not line.isdigit()) + "\n"
    path = tmp_path / f"whisper.{form}"
    path.write_text(text, encoding="utf-8")
    assert read_subtitles(path) == [Subtitle(0.0, 1.4, "Hello there friend."), Subtitle(2.0, 3.0, "Bye now.")]
    segments = read_transcript(path).segments
    assert [(s.start, s.end, s.text) for s in segments] == [(0.0, 1.4, "Hello there friend."), (2.0, 3.0, "Bye now.")]
    assert segments[0].words == [Word(0.0, 0.4, "Hello"), Word(0.6, 0.9, "there"), Word(0.9, 1.4, "friend.")]
    assert segments[1].words == [Word(2.0, 2.5, "Bye"), Word(2.5, 3.0, "now.")]


def test_whisper_highlight_line_said_twice_in_a_row_is_two_events(tmp_path):
    """Two Whisper segments with the same text ("Yes." "Yes.") are two lines, not one event spanning both."""
    from anim400k.dataset.options import STAGE_VERSIONS

    path = tmp_path / "twice.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:01,500\n<u>Yes.</u>\n\n2\n00:00:02,000 --> 00:00:02,500\n<u>Yes.</u>\n\n"
                    "3\n00:00:03,000 --> 00:00:03,400\n<u>Go</u> on.\n\n"
                    "4\n00:00:03,400 --> 00:00:03,800\nGo <u>on.</u>\n\n"
                    "5\n00:00:03,800 --> 00:00:04,200\n<u>Go</u> on.\n\n6\n00:00:04,200 --> 00:00:04,500\nGo on.\n\n"
                    "7\n00:00:04,500 --> 00:00:04,900\nGo <u>on.</u>\n", encoding="utf-8")
    assert read_subtitles(path) == [Subtitle(1.0, 1.5, "Yes."), Subtitle(2.0, 2.5, "Yes."),
                                    Subtitle(3.0, 3.8, "Go on."), Subtitle(3.8, 4.9, "Go on.")]
    segments = read_transcript(path).segments
    assert [s.words for s in segments] == [[Word(1.0, 1.5, "Yes.")], [Word(2.0, 2.5, "Yes.")],
                                           [Word(3.0, 3.4, "Go"), Word(3.4, 3.8, "on.")],
                                           [Word(3.8, 4.2, "Go"), Word(4.5, 4.9, "on.")]]
    assert STAGE_VERSIONS["subtitles"] >= 7


def test_ordinary_cues_with_karaoke_times_or_repeated_lines_are_not_collapsed(tmp_path):
    vtt = tmp_path / "karaoke.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nla <00:00:01.500>la\n\n"
                   "00:00:02.000 --> 00:00:03.000\nNo.\n\n00:00:03.000 --> 00:00:04.000\nNo.\n", encoding="utf-8")
    assert [e.text for e in read_subtitles(vtt)] == ["la la", "No.", "No."]
    srt = tmp_path / "twice.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nNo.\n\n2\n00:00:02,000 --> 00:00:03,000\nNo.\n\n"
                   "3\n00:00:03,000 --> 00:00:04,000\nI <u>really</u> mean it.\n", encoding="utf-8")
    assert [e.text for e in read_subtitles(srt)] == ["No.", "No.", "I really mean it."]
    assert [s.words for s in read_transcript(srt).segments] == [[], [], []]  # emphasis is not a word time


# ------------------------------------------------------------------ F-C: per-character styles

ASS_HEAD = r"""[Script Info]
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, \
MarginR, MarginV, Encoding
Style: Default,Arial,60,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1
Style: Haruhi,Arial,60,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1
Style: Style1,Arial,60,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
""".replace("\\\n", "")

CHARSTYLES = ASS_HEAD + r"""Dialogue: 0,0:00:01.50,0:00:03.00,Default,Haruhi,0,0,0,,Wait!\NDon't go, okay?
Dialogue: 0,0:00:04.00,0:00:05.00,Haruhi,,0,0,0,,{\pos(960,1000)}It's me, Haruhi!
Dialogue: 0,0:00:06.00,0:00:07.00,Haruhi,,0,0,0,,I'm bored.
Dialogue: 0,0:00:07.50,0:00:08.00,Haruhi,,0,0,0,,{\pos(960,200)}Kyon, over here!
Dialogue: 0,0:00:08.50,0:00:09.00,Style1,,0,0,0,,{\pos(300,80)}Tokyo Station
"""


def test_positioned_line_of_a_style_that_carries_dialogue_is_dialogue(tmp_path):
    path = tmp_path / "charstyles.ass"
    path.write_text(CHARSTYLES, encoding="utf-8")
    read = read_subtitles_counted(path)
    assert [e.text for e in read.events] == ["Wait! Don't go, okay?", "It's me, Haruhi!", "I'm bored.",
                                             "Kyon, over here!"]
    assert read.left_out == {"Style1": 1}  # a style used only for positioned text is still a sign
    mkv = _mux(tmp_path / "charstyles.mkv", [path], "ass")
    stream = read_subtitle_stream_counted(mkv, 0)
    assert stream.events == read.events and stream.left_out == read.left_out


# ------------------------------------------------------------------ F-I: ASS time fractions

def test_ass_time_fractions_are_centiseconds_as_libass_and_ffmpeg_read_them(tmp_path):
    path = tmp_path / "times2.ass"
    path.write_text(ASS_HEAD + "Dialogue: 0,0:00:01.5,0:00:02.25,Default,,0,0,0,,One decimal\n"
                    "Dialogue: 0,0:00:03.456,0:00:04.999,Default,,0,0,0,,Three decimals\n", encoding="utf-8")
    events = read_subtitles(path)
    assert events == [Subtitle(1.05, 2.25, "One decimal"), Subtitle(7.56, 13.99, "Three decimals")]
    assert read_subtitle_stream(_mux(tmp_path / "times2.mkv", [path], "ass"), 0) == events


def test_ass_time_without_a_fraction_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "nofrac.ass"
    path.write_text(ASS_HEAD + "Dialogue: 0,0:00:05,0:00:06.00,Default,,0,0,0,,No fraction\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"nofrac.ass: subtitle event 1 \(line 14\): time '0:00:05' has no "
                                         r"centiseconds"):
        read_subtitles(path)


# ------------------------------------------------------------------ F-F: WebVTT in MKV

def test_webvtt_stream_in_mkv_reads_as_the_file(tmp_path):
    path = tmp_path / "ruby.vtt"
    path.write_text("WEBVTT\n\n00:00:02.000 --> 00:00:03.000\n"
                    "<ruby>漢字<rt>かんじ</rt></ruby> and <00:00:02.500>karaoke &amp; <i>more</i>\n", encoding="utf-8")
    assert read_subtitles(path) == [Subtitle(2.0, 3.0, "漢字 and karaoke & more")]
    assert read_subtitle_stream(_mux(tmp_path / "ruby.mkv", [path]), 0) == read_subtitles(path)


# ------------------------------------------------------------------ F-G: SDH / closed captions

SDH_SRT = """1
00:00:01,000 --> 00:00:03,000
[DOOR SLAMS]

2
00:00:03,500 --> 00:00:05,000
KYON: (sighs) Not again.

3
00:00:05,500 --> 00:00:08,000
♪ Hare hare yukai ♪

4
00:00:08,500 --> 00:00:10,000
(GASPS)

5
00:00:10,500 --> 00:00:12,000
- HARUHI: (Why me?) Wait!
- MAN #2: Fine. (laughs)
"""


@pytest.mark.parametrize(("text", "spoken"), [
    ("[DOOR SLAMS]", ""),
    ("KYON: (sighs) Not again.", "Not again."),
    ("♪ Hare hare yukai ♪", ""),
    ("♪ Hare hare", ""),
    ("Hello ♪ la la ♪ there", "Hello there"),
    ("(GASPS)", ""),
    ("- [GASPS] - Wait!", "- Wait!"),
    ("MRS. SUZUMIYA: Dinner!", "Dinner!"),
    ("Fine. (laughs nervously)", "Fine."),
    ("(Why me?) I said", "(Why me?) I said"),
    ("I (really) mean it", "I (really) mean it"),
    ("Call (Mom) now", "Call (Mom) now"),
    ("It is 10:30: late.", "It is 10:30: late."),
])
def test_speech_text_removes_sdh_descriptions_labels_and_lyrics(text, spoken):
    assert speech_text(text) == spoken


#: US TV closed captions (CEA-608 style, as WebVTT from an HLS stream: BOM, CRLF, X-TIMESTAMP-MAP, cue settings,
#: no newline at the end): ``>>`` marks a change of speaker, ``>>>`` of subject; it is not spoken
CC_VTT = ("\ufeffWEBVTT\r\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\r\n\r\n"
          "1\r\n00:00:01.000 --> 00:00:02.000 position:50%,line-left align:middle size:35%\r\n"
          "<c.white.bg_black>&gt;&gt; KYON: Not again.</c>\r\n\r\n"
          "2\r\n00:00:03.000 --> 00:00:04.500\r\n&gt;&gt; (sighs) Fine.\r\n&gt;&gt; HARUHI: Good.\r\n\r\n"
          "3\r\n00:00:05.000 --> 00:00:06.000\r\n&gt;&gt;&gt; In other news, x&gt;&gt;y stays.")


def test_closed_caption_speaker_change_markers_are_not_spoken(tmp_path):
    assert speech_text(">> Next.") == "Next."
    assert speech_text(">> KYON: Not again.") == "Not again." and speaker_label(">> KYON: Not again.") == "KYON"
    assert speech_text(">> (sighs) Fine.\n>> HARUHI: Good.") == "Fine. Good."
    assert speaker_label(">> Hi.\n>> HARUHI: Yes.") is None  # two speakers
    assert speech_text("x>>y and I >>> you") == "x>>y and I you"  # only a marker standing alone
    assert speech_text("x>>> (sighs) hi") == "x>>> (sighs) hi"  # no marker: the aside is spoken (as 'a b (sighs)')
    assert speech_text("Go >> (sighs) hi") == "Go hi"  # after a marker it opens a line: a description
    path = tmp_path / "cc.vtt"
    path.write_bytes(CC_VTT.encode("utf-8"))
    subs = read_subtitles(path)  # kept as written, the speaker from the label after the marker
    assert [(s.start, s.end, s.text, s.speaker) for s in subs] == [
        (1.0, 2.0, ">> KYON: Not again.", "KYON"),
        (3.0, 4.5, ">> (sighs) Fine. >> HARUHI: Good.", None),
        (5.0, 6.0, ">>> In other news, x>>y stays.", None)]
    transcript = read_transcript(path, language="en")  # read as speech (align --en cc.vtt)
    assert [(s.start, s.end, s.text) for s in transcript.segments] == [
        (1.0, 2.0, "Not again."), (3.0, 4.5, "Fine. Good."), (5.0, 6.0, "In other news, x>>y stays.")]


def test_speech_words_drop_the_words_of_descriptions_and_labels():
    words = [Word(0, 1, "[Music]"), Word(1, 2, "KYON:"), Word(2, 3, "hi."), Word(3, 4, "(laughs)"), Word(4, 5, "there")]
    assert speech_words(words) == [Word(2, 3, "hi."), Word(4, 5, "there")]


def test_sdh_subtitles_are_dubbed_and_read_as_speech_without_descriptions(tmp_path):
    path = tmp_path / "sdh.srt"
    path.write_text(SDH_SRT, encoding="utf-8")
    segments = [Segment(1, 3, ""), Segment(3.5, 5, ""), Segment(5.5, 8, ""), Segment(8.5, 10, ""),
                Segment(10.5, 12, "")]
    lines = SubtitleTranslator(path).translate(segments, None, 16000)
    assert [line.text for line in lines] == [None, "Not again.", None, None, "- (Why me?) Wait! - Fine."]
    # read as a transcript: only the speech; events left empty are dropped
    assert [(s.start, s.text) for s in read_transcript(path).segments] == [(3.5, "Not again."),
                                                                           (10.5, "- (Why me?) Wait! - Fine.")]
    # the subtitles themselves (a release's en_subtitles) keep the text as written
    assert [e.text for e in read_subtitles(path)][:2] == ["[DOOR SLAMS]", "KYON: (sighs) Not again."]


@pytest.mark.parametrize(("title", "disposition"), [
    ("English (SDH)", "default+hearing_impaired"),
    ("English", "default+hearing_impaired"),
    ("English [CC]", "default"),
])
def test_stream_picker_passes_over_an_sdh_stream_when_a_plain_one_exists(tmp_path, title, disposition):
    srt = tmp_path / "sdh.srt"
    srt.write_text(SDH_SRT, encoding="utf-8")
    plain = tmp_path / "plain.srt"
    plain.write_text("1\n00:00:03,500 --> 00:00:05,000\nNot again.\n", encoding="utf-8")
    mkv = _mux(tmp_path / "sdh.mkv", [srt, plain], "srt", (
        "-metadata:s:s:0", "language=eng", "-metadata:s:s:0", f"title={title}", "-disposition:s:0", disposition,
        "-metadata:s:s:1", "language=eng", "-metadata:s:s:1", "title=Dialogue" if title == "English" else
        "title=English", "-disposition:s:1", "0"))
    index, note = pick_subtitle_stream(mkv, "eng")
    assert index == 1
    assert note.endswith("passed over 0: flagged hearing impaired or titled SDH/CC (sound descriptions and "
                         "speaker labels written in)): pass subtitle_stream: N to use subtitle stream N"), note
    # a lone SDH stream is still read
    only = _mux(tmp_path / "only.mkv", [srt], "srt", ("-metadata:s:s:0", "language=eng",
                                                      "-disposition:s:0", "default+hearing_impaired"))
    assert pick_subtitle_stream(only, "eng") == (0, None)


def test_one_underlined_word_for_emphasis_does_not_make_highlight_captions(tmp_path):
    """An SRT with one ``<u>`` was read as openai-whisper highlight captions: a line said again seconds later was
    merged into one event spanning both, and every WebVTT voice was dropped (an outside tester, 2026-12-07)."""
    srt = tmp_path / "emphasis.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nIt is <u>huge</u>.\n\n2\n00:00:05,000 --> 00:00:06,000\n"
                   "It is huge.\n\n3\n00:00:08,000 --> 00:00:09,000\nIt is huge.\n", encoding="utf-8")
    assert [(e.start, e.end, e.text) for e in read_subtitles(srt)] == [
        (1.0, 2.0, "It is huge."), (5.0, 6.0, "It is huge."), (8.0, 9.0, "It is huge.")]
    vtt = tmp_path / "voices.vtt"
    vtt.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Roger>We are in New York City.</v>\n\n"
                   "00:03.000 --> 00:04.000\n<v Esme>It is <u>really</u> big.</v>\n", encoding="utf-8")
    assert [(e.text, e.speaker) for e in read_subtitles(vtt)] == [
        ("We are in New York City.", "Roger"), ("It is really big.", "Esme")]


@pytest.mark.parametrize("form", ["srt", "vtt", "ass"])
def test_lyrics_marked_at_each_line_start_are_lyrics_and_the_dialogue_after_them_is_kept(tmp_path, form):
    """SDH writes a note at the start of each sung line. Joined into one line, the second line's note closed the
    first's lyric: every other sung line was read as speech, and a spoken line after a lyric was lost."""
    cues = [("♪ Hare hare yukai", "♪ Hitomi no naka ni"), ("♪ Catch the moment", "- Stop singing!"),
            ("♪ One long line", "sung over two ♪"), ("He hums ♪ la la", "Enough.")]
    if form == "srt":
        body = "".join(f"{k + 1}\n00:00:0{2 * k + 1},000 --> 00:00:0{2 * k + 2},000\n{a}\n{b}\n\n"
                       for k, (a, b) in enumerate(cues))
    elif form == "vtt":
        body = "WEBVTT\n\n" + "".join(f"00:0{2 * k + 1}.000 --> 00:0{2 * k + 2}.000\n{a}\n{b}\n\n"
                                      for k, (a, b) in enumerate(cues))
    else:
        body = ("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, "
                "MarginR, MarginV, Effect, Text\n" + "".join(
                    f"Dialogue: 0,0:00:0{2 * k + 1}.00,0:00:0{2 * k + 2}.00,Default,,0,0,0,,{a}\\N{b}\n"
                    for k, (a, b) in enumerate(cues)))
    path = tmp_path / f"lyrics.{form}"
    path.write_text(body, encoding="utf-8")
    spoken = [speech_text(e.text) for e in read_subtitles(path)]
    assert spoken == ["", "- Stop singing!", "", "He hums Enough."]
    segments = read_transcript(path).segments  # read as a transcript: what is spoken
    assert [s.text for s in segments] == ["- Stop singing!", "He hums Enough."]


def test_ass_stream_braces_read_as_the_file_and_libass_read_them(tmp_path):
    """PyAV's dialogue text of an ASS stream dropped the text after a lone ``{`` and turned ``\\{braces\\}`` into
    ``\\``; the stream's events are read from their Text field as the file's are (an outside tester)."""
    path = tmp_path / "braces.ass"
    path.write_text("[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\n"
                    "Style: Default,Arial,20\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, "
                    "MarginV, Effect, Text\n"
                    "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Use \\{braces\\} {\\i1}here\n"
                    "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,Open { brace no close\n", encoding="utf-8")
    from_file = read_subtitles(path)
    assert [s.text for s in from_file] == ["Use {braces} here", "Open { brace no close"]
    assert read_subtitle_stream(_mux(tmp_path / "braces.mkv", [path]), 0) == from_file
