"""The dub's remux keeps what the input holds: cover art, chapters, titles, in each output container
(WebM and Ogg with an Opus track).

Small inputs are made here with PyAV (covers as Matroska image attachments and as MP4 attached
pictures, an MP4 whose chapters FFmpeg stores as a text track, MPEG-TS with a KLV data stream).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from anim400k import media
from anim400k.cli import main
from anim400k.dub.pipeline import DubOptions, dub, dub_title
from anim400k.errors import InputError

SR = 16000
DUR = 2.0


def _tone(sr: int = SR, dur: float = DUR, freq: float = 440.0) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * freq * np.arange(int(sr * dur)) / sr)).astype(np.float32)[None]


def _jpeg(shade: int = 128) -> bytes:
    """A 32x24 JPEG (FFmpeg's mjpeg encoder)."""
    ctx = av.CodecContext.create("mjpeg", "w")
    ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = 32, 24, "yuvj420p", Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(np.full((24, 32, 3), shade, np.uint8), format="rgb24").reformat(
        format="yuvj420p")
    return bytes((ctx.encode(frame) + ctx.encode(None))[0])


COVER = _jpeg()


def _audio(out, st, sr: int = SR, dur: float = DUR) -> None:
    frame = av.AudioFrame.from_ndarray(_tone(sr, dur), format="fltp", layout="mono")
    frame.sample_rate, frame.pts, frame.time_base = sr, 0, Fraction(1, sr)
    out.mux(st.encode(frame))
    out.mux(st.encode(None))


def _jp_track(out, codec: str = "aac", sr: int = SR):
    st = out.add_stream(codec, rate=sr, layout="mono")
    st.metadata["language"] = "jpn"
    st.metadata["title"] = "Japanese"
    return st


def mkv_with_cover(path: Path) -> Path:
    """An MKV: a JP AAC track and the cover as an image attachment (how MKV releases carry it)."""
    with av.open(str(path), "w") as out:
        st = _jp_track(out)
        out.add_attachment("cover.jpg", "image/jpeg", COVER)
        _audio(out, st)
    return path


def mp4_with_cover(path: Path) -> Path:
    """An MP4: a JP AAC track and the cover as an attached picture (its one packet has no timestamps)."""
    with av.open(str(path), "w") as out:
        st = _jp_track(out)
        pic = out.add_mux_stream("mjpeg", width=32, height=24)
        pic.disposition = av.stream.Disposition.attached_pic
        packet = av.Packet(COVER)
        packet.stream = pic
        out.mux(packet)
        _audio(out, st)
    return path


def mp4_with_chapters(path: Path) -> Path:
    """An MP4 with two chapters, which FFmpeg's muxer (as HandBrake) also stores as a text track."""
    with av.open(str(path), "w") as out:
        out.set_chapters([
            {"id": 1, "start": 0, "end": 1000, "time_base": Fraction(1, 1000), "metadata": {"title": "Part A"}},
            {"id": 2, "start": 1000, "end": 2000, "time_base": Fraction(1, 1000), "metadata": {"title": "Part B"}},
        ])
        _audio(out, _jp_track(out))
    return path


def pictures(path: Path) -> dict[int, bytes]:
    """The attached pictures of ``path`` (stream index -> bytes), as FFmpeg's demuxer hands them out."""
    with av.open(str(path)) as c:
        return {p.stream.index: bytes(p) for p in c.demux() if p.size and p.pts is None and p.dts is None}


def _mux(src: Path, out: Path, notes: list[str] | None = None, title: str = "English (dub)") -> Path:
    return media.mux_audio_track(src, np.zeros(int(SR * DUR), np.float32), SR, out, title=title,
                                 notes=[] if notes is None else notes)


def _srt(path: Path) -> Path:
    path.write_text("1\n00:00:00,500 --> 00:00:01,500\nHello there.\n", encoding="utf-8")
    return path


def _no_work(*args, **kwargs):
    raise AssertionError("the dub started before the output was checked")


@pytest.fixture
def quick_dub(monkeypatch: pytest.MonkeyPatch) -> None:
    """``dub`` with its work (separation, speech, mix) replaced by silence: only the checks and the mux run."""
    from anim400k.dub import pipeline
    from anim400k.dub.report import DubReport

    def silent(mix, sr, translator, tts, options=None, source="", **kwargs):
        report = DubReport(source=source, output=None, duration=len(mix) / sr, sample_rate=sr, tts=tts.name,
                           translator=translator.name, diarizer="none")
        zeros = np.zeros_like(mix)
        return pipeline.DubResult(zeros, zeros, zeros, zeros, [], report)

    monkeypatch.setattr(pipeline, "dub_audio", silent)


# ---------------------------------------------------------------- D1: cover art


@pytest.mark.parametrize("source", ["mkv", "mp4"])
@pytest.mark.parametrize("ext", ["mkv", "mp4"])
def test_cover_art_is_kept_bit_exact_with_its_disposition(tmp_path: Path, source: str, ext: str) -> None:
    """The cover's one packet has no timestamps and was skipped as an end-of-stream marker: an MKV got an
    empty, undecodable mjpeg video track in its place, an MP4 lost it. Kept now: an image attachment in
    MKV (read back as an attached picture), an attached picture in MP4, the same bytes."""
    src = (mkv_with_cover if source == "mkv" else mp4_with_cover)(tmp_path / f"cover.{source}")
    assert list(pictures(src).values()) == [COVER]
    notes: list[str] = []
    out = _mux(src, tmp_path / f"dubbed.{ext}", notes)
    assert notes == []
    assert list(pictures(out).values()) == [COVER]
    with av.open(str(out)) as c:
        video = [s for s in c.streams if s.type == "video"]
        assert len(video) == 1 and video[0].disposition & av.stream.Disposition.attached_pic
        assert [s.type for s in c.streams if s.type == "audio"] == ["audio", "audio"]
        if ext == "mkv":  # an attachment with a file name and a MIME type, as the input's
            assert (video[0].metadata.get("filename"), video[0].metadata.get("mimetype")) == (
                "cover.jpg", "image/jpeg")
        indices = [s.index for s in video]
    for index in indices:  # every video stream decodes (the empty track did not)
        with av.open(str(out)) as c:
            frames = list(c.decode(c.streams[index]))
        assert len(frames) == 1 and (frames[0].width, frames[0].height) == (32, 24)


@pytest.mark.parametrize("ext", ["mov", "m4a", "ts"])
def test_cover_art_an_output_cannot_keep_is_a_warning_not_an_empty_track(tmp_path: Path, ext: str) -> None:
    src = mkv_with_cover(tmp_path / "cover.mkv")
    expected = [f"stream #1 (attached picture mjpeg, cover art) is left out: .{ext} output cannot keep an "
                "attached picture (.mkv and .mp4 can)"]
    assert media.check_mux(src, tmp_path / f"x.{ext}") == expected
    notes: list[str] = []
    out = _mux(src, tmp_path / f"dubbed.{ext}", notes)
    assert notes == expected
    with av.open(str(out)) as c:
        assert [s.type for s in c.streams] == ["audio", "audio"]


def test_the_dub_keeps_the_cover_of_an_mkv_and_an_mp4(tmp_path: Path, quick_dub: None) -> None:
    """Through ``dub`` (its work replaced by silence): no warning, the cover kept."""
    srt = _srt(tmp_path / "en.srt")
    for src, ext in ((mkv_with_cover(tmp_path / "c.mkv"), "mkv"), (mp4_with_cover(tmp_path / "c.mp4"), "mp4")):
        report = dub(src, tmp_path / f"dubbed_{ext}.{ext}", DubOptions(subtitles=str(srt), tts="espeak",
                                                                       progress=False))
        assert report.problems == []
        assert list(pictures(tmp_path / f"dubbed_{ext}.{ext}").values()) == [COVER]


# ---------------------------------------------------------------- D2: MP4 chapters, data streams


@pytest.mark.parametrize("ext", ["mp4", "mkv", "mov"])
def test_an_mp4_with_chapters_is_dubbed_with_its_chapters(tmp_path: Path, ext: str) -> None:
    """FFmpeg's chapter text track (a bin_data data stream) made every output fail ("Invalid data found
    when processing input", no stream named): it is left out with a note, the chapters are copied."""
    src = mp4_with_chapters(tmp_path / "chap.mp4")
    with av.open(str(src)) as c:
        assert [(s.type, getattr(s, "name", None)) for s in c.streams] == [("audio", "aac"), ("data", "bin_data")]
    expected = ["stream #1 (data bin_data), the MP4 chapter track, is not copied as a stream: its chapters are "
                "copied as chapters"]
    assert media.check_mux(src, tmp_path / f"x.{ext}") == expected
    notes: list[str] = []
    out = _mux(src, tmp_path / f"dubbed.{ext}", notes)
    assert notes == expected
    with av.open(str(out)) as c:
        assert [ch["metadata"]["title"] for ch in c.chapters()] == ["Part A", "Part B"]
        assert [s.type for s in c.streams if s.type == "audio"] == ["audio", "audio"]


def _ts_with_klv(path: Path) -> Path:
    """MPEG-TS with an AAC track and a KLV data stream (one packet)."""
    with av.open(str(path), "w") as out:
        st = _jp_track(out)
        data = out.add_data_stream("klv")
        frame = av.AudioFrame.from_ndarray(_tone(), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = SR, 0
        for p in st.encode(frame):
            out.mux(p)
        packet = av.Packet(b"\x06\x0e\x2b\x34" + bytes(20))
        packet.stream, packet.pts, packet.dts, packet.time_base = data, 0, 0, Fraction(1, 90000)
        out.mux(packet)
        out.mux(st.encode(None))
    return path


def test_a_data_stream_the_output_cannot_hold_is_left_out_with_a_note(tmp_path: Path) -> None:
    src = _ts_with_klv(tmp_path / "klv.ts")
    note = ("stream #1 (data klv) is left out of .mkv output: the container's muxer does not take it "
            "(invalid argument)")
    assert media.check_mux(src, tmp_path / "x.mkv") == [note]
    assert media.check_mux(src, tmp_path / "x.ts") == []  # MPEG-TS holds it: copied
    with av.open(str(_mux(src, tmp_path / "dubbed.ts"))) as c:
        assert [s.type for s in c.streams] == ["audio", "data", "audio"]


def test_a_stream_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    """A font attachment into MP4: the header fails; the message names the stream, not only the reason."""
    src = tmp_path / "font.mkv"
    with av.open(str(src), "w") as out:
        st = _jp_track(out)
        out.add_attachment("font.ttf", "font/ttf", b"\0\1\0\0not really a font")
        _audio(out, st)
    with pytest.raises(InputError) as err:
        media.check_mux(src, tmp_path / "x.mp4")
    assert err.value.message == (f"{tmp_path / 'x.mp4'}: stream #1 (attachment font.ttf) cannot be written into "
                                 ".mp4 output: the container's muxer does not take it (invalid argument)")


def test_mpegts_output_refuses_audio_it_cannot_carry_and_leaves_out_subtitles_and_fonts(tmp_path: Path) -> None:
    """FFmpeg's MPEG-TS muxer takes any codec at the header and writes one it has no stream type for as an
    unreadable data stream (FLAC, ASS, a font came out so, silently): FLAC audio is refused before any work,
    ASS and a font attachment are left out with a note each."""
    flac = tmp_path / "flac.mkv"
    with av.open(str(flac), "w") as out:
        _audio(out, _jp_track(out, "flac"))
    with pytest.raises(InputError) as err:
        media.check_mux(flac, tmp_path / "x.ts")
    assert err.value.message.startswith(f"{tmp_path / 'x.ts'}: stream #0 (audio flac) cannot be written into .ts "
                                        "output (MPEG-TS carries")
    src = tmp_path / "ass.mkv"
    ass = tmp_path / "s.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\n"
                   "Style: Default,Arial,20\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, "
                   "MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:00.10,0:00:00.90,Default,,0,0,0,,Hello.\n",
                   encoding="utf-8")
    with av.open(str(ass)) as sub_src, av.open(str(src), "w") as out:
        st = _jp_track(out)
        sub = out.add_stream_from_template(sub_src.streams.subtitles[0])
        out.add_attachment("font.ttf", "font/ttf", b"\0\1\0\0not really a font")
        _audio(out, st)
        for pkt in sub_src.demux(sub_src.streams.subtitles[0]):
            if pkt.dts is not None:
                pkt.stream = sub
                out.mux(pkt)
    notes = media.check_mux(src, tmp_path / "x.ts")
    assert notes == ["stream #1 (subtitle ssa) is left out of .ts output: MPEG-TS would keep it only as an "
                     "unreadable data stream",
                     "stream #2 (attachment font.ttf) is left out of .ts output: MPEG-TS would keep it only as an "
                     "unreadable data stream"]
    assert media.check_mux(src, tmp_path / "x.mkv") == []
    with av.open(str(_mux(src, tmp_path / "dubbed.ts"))) as c:
        assert [s.type for s in c.streams] == ["audio", "audio"]


# ---------------------------------------------------------------- D6: WebM and Ogg take Opus, not AAC


def _onset(path: Path, index: int, sr: int = 16000) -> float:
    x = media.decode_audio(path, index, sr=sr)
    return int(np.argmax(np.abs(x) > 0.05)) / sr


@pytest.mark.parametrize(("ext", "rate"), [("webm", 48000), ("webm", 44100), ("ogg", 44100)])
def test_a_webm_output_gets_an_opus_track_in_time(tmp_path: Path, ext: str, rate: int) -> None:
    """`.webm` output was a traceback (`'webm' format does not support 'aac' codec`), `.ogg` refused: the new
    track is Opus (at 48 kHz, resampled from a 44.1 kHz dub) where the container takes no AAC."""
    src = tmp_path / f"in.{ext}"
    with av.open(str(src), "w") as out:
        _audio(out, _jp_track(out, "libopus", 48000), 48000)
    dub = np.zeros(int(rate * DUR), np.float32)
    dub[rate:] = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(int(rate * (DUR - 1))) / rate)  # from 1.0 s
    assert media.check_mux(src, tmp_path / f"x.{ext}") == []
    out = media.mux_audio_track(src, dub, rate, tmp_path / f"dubbed.{ext}", title="English (dub)")
    with av.open(str(out)) as c:
        new = c.streams.audio[-1]
        assert (new.codec_context.name, new.codec_context.sample_rate) == ("opus", 48000)
        assert new.metadata["title"] == "English (dub)"
        assert new.disposition & av.stream.Disposition.default or ext == "ogg"  # Ogg has no default flag
    assert _onset(out, 1) == pytest.approx(1.0, abs=0.01)
    assert len(media.decode_audio(out, 1, sr=16000)) / 16000 == pytest.approx(DUR, abs=0.03)


def test_a_webm_output_that_cannot_take_the_video_is_one_line_before_any_work(tmp_path: Path, capsys,
                                                                              monkeypatch) -> None:
    src = tmp_path / "in.mkv"
    with av.open(str(src), "w") as out:
        _audio(out, _jp_track(out))
    srt = _srt(tmp_path / "en.srt")
    monkeypatch.setattr("anim400k.dub.pipeline.dub_audio", _no_work)
    assert main(["dub", str(src), "--out", str(tmp_path / "x.webm"), "--subtitles", str(srt), "--tts", "espeak"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {tmp_path / 'x.webm'}: stream #0 (audio aac) cannot be copied into .webm output: 'webm' "
        "format does not support 'aac' codec (WebM takes only VP8/VP9/AV1 video, Vorbis/Opus audio and WebVTT "
        "subtitles: use .mkv)"]


# ---------------------------------------------------------------- D8: titles in MP4, MOV, M4A


@pytest.mark.parametrize("ext", ["mp4", "mov", "m4a"])
def test_mp4_titles_are_kept_and_the_dub_title_is_the_handler_name(tmp_path: Path, ext: str) -> None:
    """The copied tracks' titles (the mov demuxer's `name` tag) were dropped, the new track showed
    `SoundHandler` in players and had no title at all in .m4a; a dub of such a dub saw no earlier dub."""
    src = tmp_path / f"in.{ext}"
    with av.open(str(src), "w") as out:
        _audio(out, _jp_track(out))
    first = _mux(src, tmp_path / f"dub1.{ext}")
    with av.open(str(first)) as c:
        jp, new = (dict(s.metadata) for s in c.streams)
    assert new["handler_name"] == "English (dub)"
    if ext != "m4a":  # M4A keeps no track name: its handler name is the title
        assert jp["name"] == "Japanese" and new["name"] == "English (dub)"
    info = media.probe(first)
    assert [s.title for s in info.audio_streams][1] == "English (dub)"
    title, warning = dub_title(info)
    assert title == "English (dub 2)" and warning is not None
    second = _mux(first, tmp_path / f"dub2.{ext}", title=title)
    titles = [s.title for s in media.probe(second).audio_streams]
    assert titles[1:] == ["English (dub)", "English (dub 2)"]
    assert dub_title(media.probe(second))[0] == "English (dub 3)"


def test_an_mkv_track_title_becomes_the_mp4_handler_name(tmp_path: Path) -> None:
    src = tmp_path / "in.mkv"
    with av.open(str(src), "w") as out:
        _audio(out, _jp_track(out))
    with av.open(str(_mux(src, tmp_path / "dubbed.mp4"))) as c:
        assert [s.metadata.get("handler_name") for s in c.streams] == ["Japanese", "English (dub)"]


def test_an_audio_only_output_for_a_video_says_so(tmp_path: Path) -> None:
    """``--out x.mka`` for a video blamed the video codec (``'matroska' format does not support 'h264' codec``)
    and the ``.wav`` refusal advised ``.mka`` (an outside tester)."""
    src = tmp_path / "video.mkv"
    with av.open(str(src), "w") as out:
        video = out.add_stream("mpeg4", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        st = _jp_track(out)
        frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), dtype=np.uint8), format="rgb24")
        for packet in video.encode(frame.reformat(format="yuv420p")):
            out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        _audio(out, st)
    with pytest.raises(InputError) as err:
        media.check_mux(src, tmp_path / "x.mka")
    assert err.value.message.endswith(".mka output holds audio only and the source has a video stream: use .mkv "
                                      "(or .mp4)")
    with pytest.raises(InputError) as err:
        media.check_mux(src, tmp_path / "x.wav")
    assert err.value.message.endswith("use .mkv or .mp4")
    audio_only = mkv_with_cover(tmp_path / "audio.mkv")  # a cover picture is no video: .mka is advised and taken
    with pytest.raises(InputError) as err:
        media.check_mux(audio_only, tmp_path / "x.wav")
    assert err.value.message.endswith("use .mkv, .mka or .mp4")
    media.check_mux(audio_only, tmp_path / "x.mka")


def _video_file(path: Path) -> Path:
    """Two seconds of H.264 at 25 fps timed in milliseconds (its bitstream says 1000 fps, as a file an encoder was
    given no frame rate says; the container's packets say 25), and a JP AAC track."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264")
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        v.codec_context.time_base = Fraction(1, 1000)
        st = _jp_track(out)
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), (i * 5) % 255, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i * 40, Fraction(1, 1000)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        _audio(out, st)
    return path


@pytest.mark.parametrize("ext", [".mkv", ".mp4"])
def test_a_copied_video_keeps_its_frame_rate(tmp_path: Path, ext: str) -> None:
    """A 25 fps MKV dubbed into an MKV came out at 1000 fps (the track's DefaultDuration 1 ms: the Matroska
    demuxer's 1 kHz time base taken for the rate; an outside tester, 2026-12-07)."""
    src = _video_file(tmp_path / f"v{ext}")
    out = _mux(src, tmp_path / f"dub{ext}")
    with av.open(str(src)) as a, av.open(str(out)) as b:
        rate = a.streams.video[0].average_rate
        assert 24 <= rate <= 25 and b.streams.video[0].average_rate == rate


def test_an_mp4_video_keeps_its_sample_entry(tmp_path: Path) -> None:
    """HEVC in MP4 as 'hvc1' (what Apple's players take) came out as 'hev1'; the tag of an MP4 track is kept into an
    MP4 (here H.264 re-tagged 'avc3', an entry the muxer would not choose by itself)."""
    src = tmp_path / "v.mp4"
    with av.open(str(_video_file(tmp_path / "plain.mp4"))) as a, av.open(str(src), "w") as b:
        v = b.add_stream_from_template(a.streams.video[0])
        v.codec_context.codec_tag = "avc3"
        for p in a.demux(a.streams.video[0]):
            if p.dts is not None:
                p.stream = v
                b.mux(p)
    with av.open(str(src)) as c:
        assert c.streams.video[0].codec_context.codec_tag == "avc3"
    out = media.mux_audio_track(src, np.zeros(SR, np.float32), SR, tmp_path / "dub.mp4", title="English (dub)",
                                notes=[])
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.codec_tag == "avc3"


def _bluray(path: Path) -> Path:
    """An .m2ts as a Blu-ray holds it: a JP track in Blu-ray LPCM (``pcm_bluray``)."""
    with av.open(str(path), "w") as out:
        st = out.add_stream("pcm_bluray", rate=48000, layout="stereo")
        st.metadata["language"] = "jpn"
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 2048), np.int16), format="s16", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = 48000, i * 1024, Fraction(1, 48000)
            out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path


def test_blu_ray_lpcm_goes_into_m2ts_and_the_advice_says_so(tmp_path: Path) -> None:
    """A Blu-ray's LPCM track was refused into every output, .m2ts too, and the advice named .mkv, which refuses it
    as well (an outside tester, 2026-12-07)."""
    src = _bluray(tmp_path / "bd.m2ts")
    out = media.mux_audio_track(src, np.zeros(SR, np.float32), SR, tmp_path / "dub.m2ts", title="English (dub)",
                                notes=[])
    with av.open(str(out)) as c:
        assert [s.codec_context.name for s in c.streams.audio] == ["pcm_bluray", "aac"]
    for ext in (".ts", ".mts", ".mkv"):  # .mts: FFmpeg's m2ts mode is .m2ts's only (its LPCM became a data stream)
        with pytest.raises(InputError, match=r"Blu-ray LPCM is carried only by \.m2ts output"):
            media.mux_audio_track(src, np.zeros(SR, np.float32), SR, tmp_path / f"dub{ext}", title="English (dub)",
                                  notes=[])


def test_an_mp4_edit_list_that_hides_frames_is_said_where_the_output_cannot_keep_it(tmp_path: Path) -> None:
    """An MP4 whose edit list hides its first 0.52 s of video, dubbed into .mkv, came out with the hidden frames shown
    and every stream 0.52 s later, without a word (an outside tester, 2026-12-07); an .mp4 output keeps it hidden."""
    src = _video_file(tmp_path / "v.mp4")
    trimmed = tmp_path / "trim.mp4"
    with av.open(str(src)) as a, av.open(str(trimmed), "w") as b:
        v = b.add_stream_from_template(a.streams.video[0])
        v.time_base = a.streams.video[0].time_base
        for p in a.demux(a.streams.video[0]):
            if p.dts is not None:
                shift = int(0.52 / p.time_base)
                p.pts, p.dts, p.stream = p.pts - shift, p.dts - shift, v
                b.mux(p)
    said = media.check_mux(trimmed, tmp_path / "dub.mkv")
    assert said == ["the input's MP4 edit list hides its first 0.52 s of video, which .mkv output cannot: there they "
                    "are shown and every stream starts 0.52 s later (a subtitle file for the input is that much "
                    "early); dub into .mp4 to keep them hidden"]
    assert media.check_mux(trimmed, tmp_path / "dub.mp4") == [] and media.check_mux(src, tmp_path / "dub.mkv") == []
