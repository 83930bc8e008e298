"""Subtitle files (SRT: srt, WebVTT: webvtt-py, ASS: pysubs2) and subtitle streams inside an MKV (PyAV)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from anim400k.errors import InputError
from anim400k.formats.subtitles import read_subtitle_stream, read_subtitles, write_srt
from anim400k.model import Subtitle

ASS = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, \
MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:05.00,0:00:06.50,Default,,0,0,0,,{\\i1}Later{\\i0} line\\Nbroken
Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,First
Comment: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,a comment
Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\pos(1,1)}
"""


def test_read_ass_strips_tags_drops_empty_and_sorts(tmp_path):
    p = tmp_path / "s.ass"
    p.write_text(ASS, encoding="utf-8")
    assert read_subtitles(p) == [Subtitle(1.0, 2.0, "First"), Subtitle(5.0, 6.5, "Later line broken")]


def test_write_srt_roundtrip(tmp_path):
    subs = [Subtitle(0.25, 1.5, "Hello"), Subtitle(2.0, 3.001, "Zweite Zeile")]
    out = tmp_path / "o.srt"
    write_srt(out, subs)
    assert "00:00:00,250 --> 00:00:01,500" in out.read_text()
    assert read_subtitles(out) == subs


def test_bad_subtitle_files(tmp_path):
    p = tmp_path / "bad.srt"
    p.write_bytes(b"\xff\xfe\x00garbage\xff")
    with pytest.raises(InputError, match="bad.srt"):
        read_subtitles(p)
    with pytest.raises(InputError, match="not found"):
        read_subtitles(tmp_path / "missing.srt")


def _mkv_with_subtitles(tmp_path, srt_text: str, ass_text: str, pcm: np.ndarray | None = None):
    """Remux an SRT and an ASS file (demuxed by FFmpeg) into an MKV beside an audio track (16 kHz
    int16 ``pcm``, default 8 s of silence).

    PyAV cannot *encode* text subtitles (the encoders need an ASS header PyAV does not expose),
    but it can copy subtitle packets from a demuxed file into a new container.
    """
    srt = tmp_path / "in.srt"
    srt.write_text(srt_text, encoding="utf-8")
    ass = tmp_path / "in.ass"
    ass.write_text(ass_text, encoding="utf-8")
    out_path = tmp_path / "ep.mkv"
    inputs = [av.open(str(srt)), av.open(str(ass))]
    with av.open(str(out_path), "w") as out:
        audio = out.add_stream("pcm_s16le", rate=16000)
        targets = []
        for inp, lang in zip(inputs, ("eng", "jpn"), strict=True):
            st = out.add_stream_from_template(inp.streams.subtitles[0])
            st.metadata["language"] = lang
            targets.append(st)
        pcm = np.zeros(16000 * 8, np.int16) if pcm is None else pcm
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 16000
        for pkt in [*audio.encode(frame), *audio.encode(None)]:
            out.mux(pkt)
        for inp, st in zip(inputs, targets, strict=True):
            for pkt in inp.demux(inp.streams.subtitles[0]):
                if pkt.dts is None:
                    continue
                pkt.stream = st
                out.mux(pkt)
    for inp in inputs:
        inp.close()
    return out_path


def test_read_subtitle_stream_from_mkv(tmp_path):
    srt = (
        "1\n00:00:00,100 --> 00:00:00,900\nHello there\n\n"
        "2\n00:00:01,200 --> 00:00:02,500\n<i>Two</i>\nlines\n"
    )
    mkv = _mkv_with_subtitles(tmp_path, srt, ASS)
    en = read_subtitle_stream(mkv, "eng")
    assert en == [Subtitle(0.1, 0.9, "Hello there"), Subtitle(1.2, 2.5, "Two lines")]
    assert read_subtitle_stream(mkv, 0) == read_subtitle_stream(mkv, "en")
    jp = read_subtitle_stream(mkv, "ja")
    assert jp == [Subtitle(1.0, 2.0, "First"), Subtitle(5.0, 6.5, "Later line broken")]
    with pytest.raises(InputError, match="no subtitle stream in language 'fr'"):
        read_subtitle_stream(mkv, "fr")
    with pytest.raises(InputError, match="subtitle stream 5 does not exist"):
        read_subtitle_stream(mkv, 5)


def test_subtitle_stream_times_share_the_decoded_audios_origin(tmp_path):
    """In a file whose streams start at 1.5 s (``ffmpeg -output_ts_offset 1.5``) the subtitles are read on
    decode_audio's timeline (0 = the container's start time), as in the same file starting at 0: they
    used to come 1.5 s late, and a dub gave every line the next line's text."""
    import subprocess

    import imageio_ffmpeg

    from anim400k.media import decode_audio, probe

    pcm = np.zeros(16000 * 8, np.int16)
    pcm[int(1.2 * 16000):int(2.5 * 16000)] = 8000  # sound exactly under the second subtitle
    srt = "1\n00:00:00,100 --> 00:00:00,900\nHello there\n\n2\n00:00:01,200 --> 00:00:02,500\nTwo\n"
    mkv = _mkv_with_subtitles(tmp_path, srt, ASS, pcm)
    late = tmp_path / "late.mkv"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mkv), "-map", "0", "-c", "copy",
                    "-output_ts_offset", "1.5", str(late)], check=True)
    assert probe(late).start_time == pytest.approx(1.5, abs=0.01)
    for path in (mkv, late):
        subs = read_subtitle_stream(path, "eng")
        assert subs == [Subtitle(0.1, 0.9, "Hello there"), Subtitle(1.2, 2.5, "Two")], path.name
        x = decode_audio(path, 0, sr=16000)
        onset = int(np.argmax(np.abs(x) > 0.1)) / 16000
        assert onset == pytest.approx(subs[1].start, abs=0.005), path.name


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_subtitle_file_has_no_events(tmp_path, content):
    p = tmp_path / "empty.srt"
    p.write_bytes(content)
    assert read_subtitles(p) == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_subtitle_file_with_byte_order_mark_is_decoded(tmp_path, encoding):
    p = tmp_path / "bom.srt"
    text = "1\n00:00:01,000 --> 00:00:02,500\nこんにちは\n\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    p.write_bytes(data)
    assert read_subtitles(p) == [Subtitle(1.0, 2.5, "こんにちは")]


def test_utf16_srt_read_as_transcript(tmp_path):
    from anim400k.formats.transcripts import read_transcript

    p = tmp_path / "t.srt"
    p.write_bytes("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n".encode("utf-16"))
    tr = read_transcript(p, language="en")
    assert [s.text for s in tr.segments] == ["Hi"]


def test_broken_utf16_is_one_clear_error(tmp_path):
    p = tmp_path / "bad16.srt"
    p.write_bytes(b"\xff\xfe\x00\xd8")
    with pytest.raises(InputError, match="bad16.srt: not UTF-16 text"):
        read_subtitles(p)


VTT = """WEBVTT - made by a captioning tool
Kind: captions

STYLE
::cue { color: yellow }

NOTE header note

cue-1
00:00:01.000 --> 00:00:02.000 align:start position:10%
Hello.

cue-2
00:00:03.000 --> 00:00:04.000
Tom &amp; Jerry &lt;3

NOTE translator: check name

00:00:05.000 --> 00:00:06.500
Karaoke <00:00:05.500>words <00:00:06.000><c.yellow>here</c> <v Bob>hey</v>

00:07.000 --> 00:08.000
<ruby>漢字<rt>かんじ</rt></ruby>を<ruby>読<rp>(</rp><rt>よ</rt><rp>)</rp></ruby>む
"""


def test_webvtt_ids_notes_tags_entities_and_ruby(tmp_path):
    p = tmp_path / "s.vtt"
    p.write_text(VTT, encoding="utf-8")
    assert read_subtitles(p) == [
        Subtitle(1.0, 2.0, "Hello."),
        Subtitle(3.0, 4.0, "Tom & Jerry <3"),
        Subtitle(5.0, 6.5, "Karaoke words here hey"),
        Subtitle(7.0, 8.0, "漢字を読む"),
    ]


def test_webvtt_cue_that_cannot_be_read_is_an_error_not_lost(tmp_path):
    p = tmp_path / "bad.vtt"
    p.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA\n\n00:00:03.000 --> 00:61:04.000\nB\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.vtt: malformed WebVTT cue at line 6"):
        read_subtitles(p)


def test_srt_keeps_a_last_line_of_digits_and_strips_markup(tmp_path):
    p = tmp_path / "s.srt"
    p.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\n<i>Hi</i> {\\an8}there, I <3 you\n\n"
        "2\n00:00:04,000 --> 00:00:05,000\nThe code for the door is\n1984",
        encoding="utf-8",
    )
    assert read_subtitles(p) == [
        Subtitle(1.0, 2.0, "Hi there, I <3 you"),
        Subtitle(4.0, 5.0, "The code for the door is 1984"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03,0", r"line 6: expected a timing line .*'00:00:03,0'"),
        ("1\n-00:00:01,000 --> 00:00:02,000\nHi\n", r"line 2: bad timing line '-00:00:01,000"),
        ("1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:03,000 -> 00:00:04,000\nB\n", r"line 6: expected a timing"),
    ],
)
def test_malformed_srt_cue_is_one_error_with_its_line(tmp_path, text, message):
    p = tmp_path / "bad.srt"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.srt: malformed SRT cue at " + message):
        read_subtitles(p)


def test_ass_drawings_are_not_text_and_a_missing_style_section_is_tolerated(tmp_path):
    p = tmp_path / "s.ass"
    p.write_text(
        "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hello\n"
        "Dialogue: 0,0:00:04.00,0:00:05.00,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100 0 100{\\p0}\n"
        "Dialogue: 0,0:00:06.00,0:00:07.00,Default,,0,0,0,,{\\pos(1,1)\\p2}m 0 0 l 5 5{\\p0}Sign\n",
        encoding="utf-8",
    )
    assert read_subtitles(p) == [Subtitle(1.0, 2.0, "Hello"), Subtitle(6.0, 7.0, "Sign")]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_is_decoded(tmp_path, encoding):
    p = tmp_path / "nobom.srt"
    p.write_bytes("1\n00:00:01,000 --> 00:00:02,500\nこんにちは、元気？\n\n".encode(encoding))
    assert read_subtitles(p) == [Subtitle(1.0, 2.5, "こんにちは、元気？")]


SRT_TWO = "1\n00:00:01,000 --> 00:00:02,000\nFirst line\nsecond\n\n2\n00:00:03,000 --> 00:00:04,500\nB\n\n"


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
@pytest.mark.parametrize(("name", "text", "expected"), [
    ("s.srt", SRT_TWO, [Subtitle(1.0, 2.0, "First line second"), Subtitle(3.0, 4.5, "B")]),
    ("s.ass", ASS, [Subtitle(1.0, 2.0, "First"), Subtitle(5.0, 6.5, "Later line broken")]),
])
def test_cr_only_line_endings_keep_every_cue(tmp_path, newline, name, text, expected):
    """Lone CR line endings (classic Mac) used to give no cue at all, silently; now every line ending reads alike."""
    p = tmp_path / name
    p.write_bytes(text.replace("\n", newline).encode("utf-8"))
    assert read_subtitles(p) == expected


def test_cr_only_srt_read_as_a_transcript(tmp_path):
    from anim400k.formats.transcripts import read_transcript

    p = tmp_path / "t.srt"
    p.write_bytes(SRT_TWO.replace("\n", "\r").encode("utf-8"))
    assert [(s.start, s.text) for s in read_transcript(p, language="en").segments] == [
        (1.0, "First line second"), (3.0, "B")]


@pytest.mark.parametrize("content", [
    "[10][20]\n",  # pysubs2 takes it for MPL2 with one empty event
    "x 00:00:01,000 --> 00:00:02,000\n",  # pysubs2 takes it for SRT with one empty event
])
def test_text_without_a_recognised_cue_is_an_error_not_an_empty_list(tmp_path, content):
    p = tmp_path / "odd.sub"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=r"odd.sub: no subtitle cue could be read"):
        read_subtitles(p)


@pytest.mark.parametrize("content", [
    "WEBVTT\n\n",
    "WEBVTT - nothing yet\n\nNOTE empty\n",
    ASS.split("Dialogue:")[0],  # an ASS file whose [Events] section has no line
])
def test_a_format_header_without_cues_is_a_valid_empty_file(tmp_path, content):
    p = tmp_path / "none.sub"
    p.write_text(content, encoding="utf-8")
    assert read_subtitles(p) == []


@pytest.mark.parametrize("sep", [":", ",", ".", "，"])
def test_srt_with_any_millisecond_separator_the_srt_package_reads(tmp_path, sep):
    """``00:00:02:323`` went to pysubs2, which read '323 --> 00:00:03:631' as the text and whole seconds as times."""
    p = tmp_path / "s.srt"
    p.write_text(f"1\n00:00:02{sep}323 --> 00:00:03{sep}631\nIt's a promise.\n\n"
                 f"2\n00:00:03{sep}450 --> 00:00:05{sep}018\nIs that okay?\n", encoding="utf-8")
    assert read_subtitles(p) == [Subtitle(2.323, 3.631, "It's a promise."), Subtitle(3.45, 5.018, "Is that okay?")]


def test_pysubs2_cue_whose_text_is_a_timing_line_is_refused(tmp_path):
    """The guard behind the content sniffing: pysubs2 cuts a timing line it cannot read in two."""
    from anim400k.formats.subtitles import _parse_pysubs2

    text = "1\n00:00:02:323 --> 00:00:03:631\nIt's a promise.\n\n"
    with pytest.raises(InputError, match=r"s.srt: subtitle event 1: a timing line .*'323 --> 00:00:03:631'"):
        _parse_pysubs2(text, tmp_path / "s.srt")


LAYERED_ASS = ASS.split("Dialogue:")[0] + (
    "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\bord4\\3c&H000000&}It's a promise.\n"
    "Dialogue: 1,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\bord0}It's a promise.\n"
    "Dialogue: 2,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\blur3}It's\\Na promise.\n"
    "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,It's a promise.\n"
    "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,Is that okay?\n"
)


def test_one_line_drawn_on_several_ass_layers_is_one_subtitle(tmp_path):
    """A border layer, a fill layer and a glow copy at the same times are one line (the dub spoke it three
    times); the same text at other times stays."""
    p = tmp_path / "layers.ass"
    p.write_text(LAYERED_ASS, encoding="utf-8")
    expected = [Subtitle(1.0, 2.0, "It's a promise."), Subtitle(1.0, 2.5, "It's a promise."),
                Subtitle(3.0, 4.0, "Is that okay?")]
    assert read_subtitles(p) == expected
    mkv = _mkv_with_subtitles(tmp_path, "1\n00:00:05,000 --> 00:00:06,000\nx\n", LAYERED_ASS)
    assert read_subtitle_stream(mkv, "jpn") == expected


def test_ass_line_breaks_in_srt_read_as_in_a_muxed_stream(tmp_path):
    r"""A literal ``\N`` / ``\n`` / ``\h`` in SRT text (SRT converted from ASS) is a line break or a hard
    space, as FFmpeg's SRT decoder reads it in an MKV: the same cue gave different texts."""
    srt = ("1\n00:00:01,000 --> 00:00:02,000\nLine one\\Nline two\\h!\n\n"
           "2\n00:00:03,000 --> 00:00:04,000\nsoft\\nbreak\n")
    p = tmp_path / "bs.srt"
    p.write_text(srt, encoding="utf-8")
    expected = [Subtitle(1.0, 2.0, "Line one line two !"), Subtitle(3.0, 4.0, "soft break")]
    assert read_subtitles(p) == expected
    assert read_subtitle_stream(_mkv_with_subtitles(tmp_path, srt, ASS), "eng") == expected


@pytest.mark.parametrize(("event", "message"), [
    ("Dialogue: 0,-0:00:01.00,0:00:02.00,Default,,0,0,0,,Hi", r"negative start time -1.000"),
    ("Dialogue: 0,-0:00:01.00,-0:00:00.50,Default,,0,0,0,,Hi", r"negative start time -1.000"),
    ("Dialogue: 0,0:00:01.00,-0:00:02.00,Default,,0,0,0,,Hi", r"negative end time -2.000"),
    ("Dialogue: 0,0:00:03.00,0:00:02.00,Default,,0,0,0,,Hi", r"end 2.000 before start 3.000"),
])
def test_negative_or_reversed_ass_time_is_refused_with_its_line(tmp_path, event, message):
    """A negative ASS time was clamped to 0 silently while the same SRT time is refused."""
    p = tmp_path / "neg.ass"
    head = ASS.split("Dialogue:")[0]  # up to the [Events] Format line, line 9
    p.write_text(head + "Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,note\n" + event + "\n", encoding="utf-8")
    assert head.count("\n") == 9
    with pytest.raises(InputError, match=r"neg.ass: subtitle event 2 \(line 11\): " + message):
        read_subtitles(p)


def _ffmpeg(*args: str) -> None:
    import subprocess

    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def test_subtitle_container_is_read_through_its_stream_by_suffix_or_content(tmp_path):
    """A Matroska subtitle file (``.mks``) given as subtitles was decoded as text: 'not UTF-8 text'."""
    from anim400k.align import align_files
    from anim400k.formats.subtitles import container_format

    ass = tmp_path / "in.ass"
    ass.write_text(ASS, encoding="utf-8")
    mks = tmp_path / "subs.mks"
    _ffmpeg("-i", str(ass), "-c:s", "copy", "-f", "matroska", str(mks))
    assert container_format(mks.read_bytes()[:1024]) == "Matroska"
    expected = [Subtitle(1.0, 2.0, "First"), Subtitle(5.0, 6.5, "Later line broken")]
    misnamed = tmp_path / "subs.srt"  # a container whatever its name
    misnamed.write_bytes(mks.read_bytes())
    for path in (mks, misnamed):
        assert read_subtitles(path) == expected, path.name
    tr = tmp_path / "t.srt"
    tr.write_text("1\n00:00:01,000 --> 00:00:02,000\nHi\n", encoding="utf-8")
    clips, *_ = align_files(tr, tr, subtitles=mks)
    assert [s.text for c in clips for s in c.en_subtitles] == ["First"]


@pytest.mark.parametrize("m2ts", [False, True])
def test_mpeg_ts_is_told_by_content_and_its_missing_subtitle_stream_named(tmp_path, m2ts):
    from anim400k.formats.subtitles import container_format
    from anim400k.formats.transcripts import read_transcript

    wav = tmp_path / "a.wav"
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=1", str(wav))
    ts = tmp_path / "ep.dat"  # no suffix to go by
    _ffmpeg("-i", str(wav), "-c:a", "mp2", "-f", "mpegts", *(["-mpegts_m2ts_mode", "1"] if m2ts else []), str(ts))
    assert container_format(ts.read_bytes()[:1024]) == "MPEG-TS"
    with pytest.raises(InputError, match=r"ep.dat: has no subtitle stream"):
        read_subtitles(ts)
    with pytest.raises(InputError, match=r"ep.dat: is a media file \(MPEG-TS\), not a text file"):
        read_transcript(ts)


@pytest.mark.parametrize(
    ("suffix", "kind"), [(".wav", "WAV"), (".flac", "FLAC"), (".mp3", "MP3"), (".aac", "MPEG audio")]
)
def test_an_audio_file_given_as_subtitles_is_a_media_file_without_subtitles(tmp_path, suffix, kind):
    # a user's MP3/WAV given as --subtitles or a transcript used to be refused as 'not UTF-8 text
    # (invalid start byte at byte 20)', an encoding problem it does not have
    from anim400k.formats.subtitles import container_format
    from anim400k.formats.transcripts import read_transcript
    from anim400k.media import write_audio

    audio = write_audio(tmp_path / f"line{suffix}", np.zeros(16000, np.float32), 16000)
    assert container_format(audio.read_bytes()[:1024]) == kind
    with pytest.raises(InputError, match=rf"line\{suffix}: has no subtitle stream"):
        read_subtitles(audio)
    with pytest.raises(InputError, match=rf"line\{suffix}: is a media file \({kind}\), not a text file"):
        read_transcript(audio)


@pytest.mark.parametrize(("head", "kind"), [
    (b"RF64\xff\xff\xff\xffWAVEds64", "WAV"), (b"BW64\xff\xff\xff\xffWAVEds64", "WAV"),
    (b"RIFX\x00\x00\x10\x00WAVEfmt ", "WAV"), (b"FORM\x00\x00\x10\x00AIFFCOMM", "AIFF"),
    (b"FORM\x00\x00\x10\x00AIFCFVER", "AIFF"), (b"caff\x00\x01\x00\x00desc", "CAF"),
])
def test_other_audio_signatures_are_media(head, kind):
    from anim400k.formats.subtitles import container_format

    assert container_format(head + bytes(range(256)) * 4) == kind


@pytest.mark.parametrize(("fmt", "options", "kind"), [
    ("wav", {"rf64": "always"}, "WAV"), ("aiff", {}, "AIFF"), ("caf", {}, "CAF"),
])
def test_an_rf64_aiff_or_caf_file_given_as_subtitles_is_a_media_file(tmp_path, fmt, options, kind):
    # an RF64 (broadcast WAV over 4 GB), AIFF or CAF file was read as text: 'not UTF-8 text (invalid start byte...)'
    import av

    from anim400k.formats.subtitles import container_format
    from anim400k.formats.transcripts import read_transcript

    audio = tmp_path / f"take.{fmt}"
    with av.open(str(audio), "w", format=fmt, options=options) as out:
        stream = out.add_stream("pcm_s16be" if fmt == "aiff" else "pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1600), np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    assert container_format(audio.read_bytes()[:1024]) == kind
    with pytest.raises(InputError, match=rf"take\.{fmt}: has no subtitle stream"):
        read_subtitles(audio)
    with pytest.raises(InputError, match=rf"take\.{fmt}: is a media file \({kind}\), not a text file"):
        read_transcript(audio)


@pytest.mark.parametrize("text", [
    "1\n00:00:01,000 --> 00:00:02,000\nHi\n", "WEBVTT\n", "[Script Info]\n", '{"segments": []}', "G" * 2000,
    "ID3 tags: 1\n", "\ufb00 ligature", "\ue0ff private use",
])
def test_text_is_not_taken_for_a_container(text):
    from anim400k.formats.subtitles import container_format

    assert container_format(text.encode("utf-8")) is None
    assert container_format(text.encode("utf-16")) is None


def test_write_srt_keeps_braces_and_markup_verbatim(tmp_path):
    """pysubs2's SRT writer deleted every ``{...}``: the dub's SRT said 'It's a promise.  Is that okay?' for the
    spoken 'It's a promise. {laughs} Is that okay?'."""
    import srt

    texts = ["It's a promise. {laughs} Is that okay?", "{\\an8}top", "I <3 you", "two\nlines"]
    subs = [Subtitle(2.0 * k, 2.0 * k + 1.5, t) for k, t in enumerate(texts)]
    out = tmp_path / "o.srt"
    write_srt(out, subs)
    cues = list(srt.parse(out.read_text(encoding="utf-8")))
    assert [(c.index, c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues] == [
        (k + 1, s.start, s.end, s.text) for k, s in enumerate(subs)]
    assert read_subtitles(out)[0] == subs[0]


def test_ass_escaped_braces_are_text_as_libass_renders_them(tmp_path):
    r"""libass (``ass_get_next_char``) renders ``\{`` and ``\}`` as the characters ``{`` and ``}``: an
    escaped brace never opens an override block. It used to be read as one, and the words up to the
    next ``}`` were lost (pysubs2's ``plaintext`` does the same: "Use \ here")."""
    import pysubs2

    head = ASS.split("Dialogue:")[0]
    p = tmp_path / "esc.ass"
    p.write_text(head + "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Use \\{braces\\} {\\i1}here{\\i0}\n"
                 "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,\\{\\pos(1,1)} is not a tag, { nor this\n"
                 "Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,a\\\\{b}c\\{\\b1}\n", encoding="utf-8")
    raw = [e.text for e in pysubs2.load(str(p))]  # pysubs2 reads the event texts as written
    assert raw[0] == "Use \\{braces\\} {\\i1}here{\\i0}" and pysubs2.load(str(p))[0].plaintext == "Use \\ here"
    assert read_subtitles(p) == [Subtitle(1.0, 2.0, "Use {braces} here"),
                                 # not positioned (no sign): the \pos is text
                                 Subtitle(3.0, 4.0, "{\\pos(1,1)} is not a tag, { nor this"),
                                 # read left to right: "\\" is a backslash, then "\{" an escaped brace
                                 Subtitle(5.0, 6.0, "a\\{b}c{\\b1}")]


def test_escaped_braces_re_run_the_subtitles_stage_of_earlier_builds():
    """Reading ``\\{`` as text changes ``subtitles.json`` for the same options and inputs: the stage's
    version is past 4 (the one that read it as an override block), so an earlier build's finished
    subtitles stage, with the words after an escaped brace lost, is not reused."""
    from anim400k.dataset.options import STAGE_VERSIONS

    assert STAGE_VERSIONS["subtitles"] >= 5


def test_a_malformed_srt_time_is_named_as_such(tmp_path) -> None:
    """``00:00:0X,000`` was read as 0 s with ``X,000`` as cue settings: 'end 0.000 before start 5.000', a time
    the file does not hold."""
    from anim400k.errors import InputError
    from anim400k.formats.subtitles import read_subtitles

    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:02,323 --> 00:00:03,631\nhello\n\n2\n00:00:05,000 --> 00:00:0X,000\nworld\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_subtitles(bad)
    assert err.value.message == f"{bad}: subtitle 2 (line 6): not a valid timing line '00:00:05,000 --> 00:00:0X,000'"
    late = tmp_path / "late.srt"
    late.write_text("1\n00:00:05,000 --> 00:00:02,000\nx\n", encoding="utf-8")
    with pytest.raises(InputError, match="subtitle 1: end 2.000 before start 5.000"):
        read_subtitles(late)


def test_ass_fields_in_the_order_the_format_lines_declare(tmp_path):
    """The ASS spec lets a script's Format lines give the fields in any order, and libass reads each line by
    them; pysubs2 (and FFmpeg's demuxer) assume the usual order, so this script was refused
    (``Failed to parse timestamp: '0'``). Its events now read as libass shows them, and a script in the
    usual order is read as before."""
    reordered = (
        "[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\n"
        "Format: Fontname, Name, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding\n"
        "Style: Arial,Main,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1\n\n"
        "[Events]\nFormat: Start, End, Style, Actor, Layer, Text\n"
        "Dialogue: 0:00:01.00,0:00:03.00,Main,Alice,0,Hello, world, with commas\n"
        "Comment: 0:00:03.00,0:00:04.00,Main,,0,a comment\n"
        "Dialogue: 0:00:04.00,0:00:05.50,Main,,1,{\\i1}Line{\\i0}\\Ntwo\n"
    )
    p = tmp_path / "order.ass"
    p.write_text(reordered, encoding="utf-8")
    assert read_subtitles(p) == [Subtitle(1.0, 3.0, "Hello, world, with commas", "Alice"),
                                 Subtitle(4.0, 5.5, "Line two")]
    usual = tmp_path / "usual.ass"
    usual.write_text(ASS, encoding="utf-8")
    assert read_subtitles(usual) == [Subtitle(1.0, 2.0, "First"), Subtitle(5.0, 6.5, "Later line broken")]
    short = tmp_path / "short.ass"  # the usual order with fields left out: the text was read as the Name
    short.write_text(ASS.split("[Events]")[0] + "[Events]\nFormat: Layer, Start, End, Style, Text\n"
                     "Dialogue: 0,0:00:01.00,0:00:02.00,Default,Hi, you\n", encoding="utf-8")
    assert read_subtitles(short) == [Subtitle(1.0, 2.0, "Hi, you")]
    from anim400k.dataset.options import STAGE_VERSIONS, TRANSCRIPT_IMPORT_VERSION

    assert STAGE_VERSIONS["subtitles"] >= 16 and TRANSCRIPT_IMPORT_VERSION >= 8  # read again by a resumed build


def test_ass_reordered_format_keeps_line_numbers_in_errors(tmp_path):
    """A bad time in a script with reordered fields is named at its own line of the file."""
    text = ("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Start, End, Text\n"
            "Dialogue: 0:00:00.50,0:00:01.00,Fine\nDialogue: 0:00:01.00,0:00:00.50,Backwards\n")
    p = tmp_path / "bad.ass"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"line 7\): end 0\.500 before start 1\.000"):
        read_subtitles(p)


def test_long_lines_are_read_in_linear_time() -> None:
    """A cue of 30,000 `-A` took the SDH label search 43 s, and an ASS line of `[` and 200,000 letters the section
    sniff ~1 min (quadratic backtracking); both return at once now, and labels and sections are found as before."""
    from anim400k.formats import sdh
    from anim400k.formats import subtitles as subs

    found = list(sdh._LABEL.finditer("-A" * 30000))  # returns at once (it is the time that was wrong)
    assert all(len(m.group("name")) <= sdh.MAX_LABEL_CHARS + 2 for m in found)
    assert [m.group("name") for m in sdh._LABEL.finditer("GIRL 1 & GIRL 2: hi - NARRATOR #2: yes")] == \
        ["GIRL 1 & GIRL 2", "NARRATOR #2"]
    assert subs._ASS_SECTION.match("[" + "a" * 200_000) is None
    assert all(subs._ASS_SECTION.match(s) for s in ("[Events]", "[Script Info]", "[V4+ Styles]", "\ufeff[Events]"))
    assert subs._ASS_SECTION.match("[ABC]") is None  # no lowercase letter: uuencoded font data
