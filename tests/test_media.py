"""Tests for anim400k.media on small files made here with PyAV."""

from __future__ import annotations

import errno
import gc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from anim400k import media
from anim400k.errors import InputError
from anim400k.synth.writer import copy_subtitles

DUR = 6.0
FPS = 24
JP_TONE, EN_TONE = 440.0, 1000.0


def _tone(freq: float, sr: int, dur: float, channels: int) -> np.ndarray:
    t = np.arange(int(round(dur * sr))) / sr
    return np.tile((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), (channels, 1))


def make_media(
    path: Path,
    dur: float = DUR,
    audio: tuple[tuple[str, float, int, str, float], ...] = (
        ("jpn", JP_TONE, 44100, "stereo", 0.0),
        ("eng", EN_TONE, 48000, "5.1", 0.0),
    ),
    video: bool = True,
    fps: int = FPS,
) -> Path:
    """An MKV/MP4 with a moving test-pattern H.264 video and tone audio streams.

    ``audio`` items: (language, tone Hz, sample rate, layout, first pts in seconds).
    """
    with av.open(str(path), "w") as out:
        vs = None
        if video:
            vs = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
            vs.width, vs.height, vs.pix_fmt = 160, 96, "yuv420p"
        streams = []
        for lang, freq, sr, layout, first in audio:
            s = out.add_stream("aac", rate=sr, layout=layout)
            s.metadata["language"] = lang
            s.metadata["title"] = f"{lang} tone"
            streams.append((s, freq, sr, layout, first))
        if vs is not None:
            for i in range(int(dur * fps)):
                img = np.zeros((96, 160, 3), np.uint8)
                img[:, :, 0] = (i * 7) % 255
                img[:, (i * 3) % 160, 1] = 255
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = i
                out.mux(vs.encode(frame))
            out.mux(vs.encode(None))
        for s, freq, sr, layout, first in streams:
            arr = _tone(freq, sr, dur - first, av.AudioLayout(layout).nb_channels)
            frame = av.AudioFrame.from_ndarray(arr, format="fltp", layout=layout)
            frame.sample_rate = sr
            frame.pts = int(round(first * sr))
            frame.time_base = Fraction(1, sr)
            out.mux(s.encode(frame))
            out.mux(s.encode(None))
    return path


def peak_freq(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)])


@pytest.fixture(scope="session")
def mdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def episode(mdir: Path) -> Path:
    return make_media(mdir / "episode.mkv")


@pytest.fixture(scope="session")
def silent_video(mdir: Path) -> Path:
    return make_media(mdir / "noaudio.mkv", dur=2.0, audio=())


@pytest.fixture(scope="session")
def late_audio(mdir: Path) -> Path:
    """Audio whose first sample is at 0.5 s of the container timeline."""
    return make_media(mdir / "late.mkv", dur=3.0, audio=(("jpn", JP_TONE, 48000, "mono", 0.5),))


@pytest.fixture(scope="session")
def truncated(mdir: Path, episode: Path) -> Path:
    data = episode.read_bytes()
    p = mdir / "truncated.mkv"
    p.write_bytes(data[: len(data) // 3])
    return p


@pytest.fixture(scope="session")
def text_mkv(mdir: Path) -> Path:
    p = mdir / "notes.mkv"
    p.write_text("this is not a video\n" * 20)
    return p


# ---------------------------------------------------------------- probe / select


def test_probe_fields(episode: Path) -> None:
    info = media.probe(episode)
    assert info.duration == pytest.approx(DUR, abs=0.1)
    assert [s.kind for s in info.streams] == ["video", "audio", "audio"]
    v = info.video_streams[0]
    assert (v.codec, v.width, v.height) == ("h264", 160, 96)
    assert v.frame_rate == pytest.approx(FPS)
    jp, en = info.audio_streams
    assert (jp.language, jp.channels, jp.sample_rate, jp.codec) == ("jpn", 2, 44100, "aac")
    assert (en.language, en.channels, en.sample_rate) == ("eng", 6, 48000)
    assert jp.title == "jpn tone"
    assert jp.duration == pytest.approx(DUR, abs=0.1)
    assert info.subtitle_streams == []


@pytest.mark.parametrize(
    ("selector", "lang"),
    [
        ("jpn", "jpn"),
        ("ja", "jpn"),
        ("jp", "jpn"),
        ("Japanese", "jpn"),
        ("en", "eng"),
        ("english", "eng"),
        (0, "jpn"),
        (1, "eng"),
        ("1", "eng"),
    ],
)
def test_select_audio_stream(episode: Path, selector: str | int, lang: str) -> None:
    assert media.select_audio_stream(media.probe(episode), selector).language == lang


def test_select_missing_language_names_file_and_languages(episode: Path) -> None:
    with pytest.raises(InputError) as err:
        media.select_audio_stream(media.probe(episode), "fre")
    msg = str(err.value)
    assert str(episode) in msg and "jpn" in msg and "eng" in msg
    with pytest.raises(InputError, match="no audio stream #5"):
        media.select_audio_stream(media.probe(episode), 5)


@pytest.mark.parametrize("fixture", ["text_mkv", "missing"])
def test_probe_bad_input(request: pytest.FixtureRequest, mdir: Path, fixture: str) -> None:
    path = mdir / "nope.mkv" if fixture == "missing" else request.getfixturevalue(fixture)
    with pytest.raises(InputError) as err:
        media.probe(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------- decode


@pytest.mark.parametrize(("selector", "tone"), [("jpn", JP_TONE), ("eng", EN_TONE)])
def test_decode_rate_length_content(episode: Path, selector: str, tone: float) -> None:
    x = media.decode_audio(episode, selector, sr=16000)
    assert x.dtype == np.float32 and x.ndim == 1
    assert len(x) / 16000 == pytest.approx(DUR, abs=0.05)
    assert peak_freq(x, 16000) == pytest.approx(tone, abs=2)
    assert 0.2 < np.abs(x[1000:-1000]).max() <= 1.0  # downmix keeps the level, no clipping


def test_decode_multichannel_and_range(episode: Path) -> None:
    x = media.decode_audio(episode, "eng", sr=48000, mono=False)
    assert x.shape[0] == 6 and x.shape[1] / 48000 == pytest.approx(DUR, abs=0.05)
    part = media.decode_audio(episode, "jpn", sr=8000, start=2.0, end=3.5)
    assert part.shape == (12000,)
    full = media.decode_audio(episode, "jpn", sr=8000)
    # After a seek, sample 0 is anchored on a packet timestamp (Matroska: 1 ms precision).
    lags = range(-20, 21)
    corr = [np.corrcoef(part[100:-100], full[16100 + k : 27900 + k])[0, 1] for k in lags]
    best = int(np.argmax(corr))
    assert abs(lags[best]) <= 5 and corr[best] > 0.99


def _write_flac(path: Path, data: np.ndarray, sr: int, layout: str) -> Path:
    """``data`` (float32 ``(channels, n)``) as a FLAC of the channel ``layout`` (FFmpeg's name)."""
    with av.open(str(path), "w") as out:
        s = out.add_stream("flac", rate=sr, layout=layout)
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=layout)
        frame.sample_rate, frame.pts, frame.time_base = sr, 0, Fraction(1, sr)
        out.mux(s.encode(frame))
        out.mux(s.encode(None))
    return path


def test_mono_downmix_of_5_1_keeps_the_centre_as_a_stereo_downmix_does(tmp_path: Path) -> None:
    """A 5.1 mix keeps its dialogue in the centre. The mono downmix weighs it sqrt(2) times a front channel and
    a surround 0.707 times one (the sum of the BS.775 stereo downmix's channels, FFmpeg's mono downmix); it
    weighed the centre 0.707, as a surround, which put the dialogue 6 dB lower against the music."""
    sr, names = 48000, ["FL", "FR", "FC", "LFE", "SL", "SR"]
    freqs = [300.0, 500.0, 700.0, 60.0, 1100.0, 1300.0]  # one tone per channel, at the same level
    t = np.arange(sr * 2) / sr
    data = np.stack([0.1 * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)
    path = _write_flac(tmp_path / "surround.flac", data, sr, "5.1(side)")
    assert [c.name for c in av.open(str(path)).streams.audio[0].layout.channels] == names
    x = media.decode_audio(path, 0, sr=sr)
    spec = np.abs(np.fft.rfft(x))
    level = {n: spec[int(round(f * len(x) / sr))] for n, f in zip(names, freqs, strict=True)}
    assert level["FC"] / level["FL"] == pytest.approx(np.sqrt(2), rel=0.01)
    assert level["SL"] / level["FL"] == pytest.approx(np.sqrt(0.5), rel=0.01)
    assert level["LFE"] < 0.01 * level["FL"] and level["FR"] == pytest.approx(level["FL"], rel=0.01)
    assert media.audio.dialogue_downmix_weights(names).sum() == pytest.approx(1.0)
    assert list(media.audio.dialogue_downmix_weights(["FL", "FR"])) == [0.5, 0.5]


def test_decode_late_stream_is_padded(late_audio: Path) -> None:
    x = media.decode_audio(late_audio, "jpn", sr=16000)
    onset = int(np.argmax(np.abs(x) > 0.05)) / 16000
    assert onset == pytest.approx(0.5, abs=0.03)
    assert len(x) / 16000 == pytest.approx(3.0, abs=0.05)


def test_decode_errors(silent_video: Path, truncated: Path, text_mkv: Path) -> None:
    with pytest.raises(InputError, match="no audio stream") as err:
        media.decode_audio(silent_video)
    assert str(silent_video) in str(err.value)
    with pytest.raises(InputError) as err:
        media.decode_audio(truncated, "jpn")
    assert str(truncated) in str(err.value)
    with pytest.raises(InputError, match="not a media file"):
        media.decode_audio(text_mkv)


# ---------------------------------------------------------------- write


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "m4a"])
def test_write_audio_roundtrip_and_deterministic(tmp_path: Path, ext: str) -> None:
    x = _tone(JP_TONE, 16000, 2.0, 1)[0]
    a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
    media.write_audio(a, x, 16000)
    media.write_audio(b, x, 16000)
    assert a.read_bytes() == b.read_bytes()
    assert not list(tmp_path.glob(".*part*"))
    y = media.decode_audio(a, 0, sr=16000)
    assert len(y) / 16000 == pytest.approx(2.0, abs=0.05)
    assert peak_freq(y, 16000) == pytest.approx(JP_TONE, abs=2)
    if ext in ("wav", "flac"):
        assert np.abs(y - x).max() < 1e-4


def test_write_audio_bad_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported audio extension"):
        media.write_audio(tmp_path / "x.xyz", np.zeros(10, np.float32), 16000)


# ---------------------------------------------------------------- clips


def _decoded_video(path: Path) -> tuple[int, float, np.ndarray]:
    """(frames decoded, frame rate, first frame as RGB array)."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(vs)]
        return len(frames), float(vs.average_rate), frames[0]


def test_cut_audio_clips_durations(tmp_path: Path, episode: Path) -> None:
    x = media.decode_audio(episode, "jpn", sr=44100)
    intervals = [(0.0, 1.0), (0.73, 2.41), (3.333, 3.5), (5.5, 6.3)]
    outs = [tmp_path / f"clip{i}.mp3" for i in range(len(intervals))]
    outs[1] = tmp_path / "clip1.wav"
    assert media.cut_audio_clips(x, 44100, intervals, outs) == outs
    for (start, end), out in zip(intervals, outs, strict=True):
        y = media.decode_audio(out, 0, sr=44100)
        assert len(y) / 44100 == pytest.approx(end - start, abs=0.05), out
        assert media.probe(out).duration == pytest.approx(end - start, abs=0.05)
    assert peak_freq(media.decode_audio(outs[1], 0, sr=16000), 16000) == pytest.approx(JP_TONE, abs=3)


def test_mp3_compression_level(tmp_path: Path) -> None:
    """MP3s are written at LAME -q MP3_COMPRESSION_LEVEL unless asked otherwise; the level reaches LAME."""
    rng = np.random.default_rng(0)
    x = (0.3 * _tone(440.0, 44100, 2.0, 1)[0] + 0.05 * rng.standard_normal(88200)).astype(np.float32)
    default = media.write_audio(tmp_path / "default.mp3", x, 44100).read_bytes()
    same = media.write_audio(tmp_path / "same.mp3", x, 44100, compression_level=media.audio.MP3_COMPRESSION_LEVEL)
    other = media.write_audio(tmp_path / "q2.mp3", x, 44100, compression_level=2)
    assert media.audio.MP3_COMPRESSION_LEVEL == 5
    assert same.read_bytes() == default
    assert other.read_bytes() != default
    y = media.decode_audio(other, 0, sr=44100)
    assert len(y) / 44100 == pytest.approx(2.0, abs=0.05)
    clips = media.cut_audio_clips(x, 44100, [(0.0, 1.0)], [tmp_path / "c.mp3"], workers=1, compression_level=2)
    expected = media.write_audio(tmp_path / "c2.mp3", x[:44100], 44100, compression_level=2).read_bytes()
    assert clips[0].read_bytes() == expected


def test_cut_video_clips_preset(tmp_path: Path, episode: Path) -> None:
    """``preset`` reaches x264 (it writes its settings into the stream); an unknown one is refused."""
    from anim400k.dataset.options import X264_PRESETS

    assert X264_PRESETS == media.video.X264_PRESETS
    for preset, subme in (("fast", b"subme=6"), ("veryfast", b"subme=2")):
        out = tmp_path / f"{preset}.mp4"
        media.cut_video_clips(episode, [(0.5, 1.5)], [out], preset=preset, workers=1)
        assert subme in out.read_bytes()
    with pytest.raises(ValueError, match="x264 preset"):
        media.cut_video_clips(episode, [(0.5, 1.5)], [tmp_path / "x.mp4"], preset="quick")


def test_a_clip_that_fails_to_open_leaves_no_temporary_file(tmp_path: Path, episode: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while a clip's file was opened (its audio stream, its container) left the empty temporary
    ``.NAME.anim400k-XXXXXXXX.part.mp4`` in the release: the writer's stack was never closed."""
    import errno

    import anim400k.media.video as video

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(video, "add_audio_stream", full)
    pcm = np.zeros((1, 48000 * 3), np.float32)
    outs = [tmp_path / "clips" / "a.mp4", tmp_path / "clips" / "b.mp4"]
    with pytest.raises(OSError) as err:
        media.cut_video_clips(episode, [(0.5, 1.0), (1.5, 2.0)], outs, audio=(pcm, 48000), workers=1)
    assert err.value.errno == errno.ENOSPC
    assert list((tmp_path / "clips").iterdir()) == []


def test_cut_video_clips_one_pass(tmp_path: Path, episode: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import anim400k.media.video as mv

    calls: list[int] = []
    real = mv.frame_spans

    def counting(container, stream):  # noqa: ANN001, ANN202
        calls.append(0)
        for item in real(container, stream):
            calls[-1] += 1
            yield item

    monkeypatch.setattr(mv, "frame_spans", counting)
    pcm = media.decode_audio(episode, "jpn", sr=48000, mono=False)
    intervals = [(2.0, 2.9), (0.5, 2.25), (0.0, 1.0), (1.3, 1.5), (5.0, 6.5)]  # unsorted, overlapping
    outs = [tmp_path / f"v{i}.mp4" for i in range(len(intervals))]
    media.cut_video_clips(episode, intervals, outs, audio=(pcm, 48000), width=120, workers=1)
    assert len(calls) == 1 and calls[0] <= DUR * FPS  # one pass; no frame decoded twice
    for (start, end), out in zip(intervals, outs, strict=True):
        n, rate, first = _decoded_video(out)
        assert rate == pytest.approx(FPS)
        assert n / rate == pytest.approx(end - start, abs=0.05), out
        info = media.probe(out)
        assert info.duration == pytest.approx(end - start, abs=0.05)
        v, a = info.video_streams[0], info.audio_streams[0]
        assert (v.codec, v.width, v.height, a.codec) == ("h264", 120, 72, "aac")
        y = media.decode_audio(out, 0, sr=48000)
        assert len(y) / 48000 == pytest.approx(end - start, abs=0.05)
        # the first picture is the source frame on screen at `start` (red level = 7 * frame number)
        assert first[..., 0].mean() == pytest.approx((round(start * FPS) * 7) % 255, abs=8)
    assert not list(tmp_path.glob(".*part*"))


def test_cut_video_clips_releases_each_encoder_when_its_clip_is_done(
    tmp_path: Path, episode: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the clips active at the decode time hold an x264 encoder: memory does not grow with the clip count.

    (Keeping finished writers around held every encoder's buffers: 2.35 GB for 230 clips of a
    15-min 320x180 episode, 0.40 GB once they are dropped.)
    """
    import weakref

    import anim400k.media.video as mv

    alive: list[weakref.ref] = []
    most_open: list[int] = []
    real_open, real_feed = mv._open_clip, mv._Cutter.feed

    def tracked_open(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        writer = real_open(*args, **kwargs)
        alive.append(weakref.ref(writer))
        return writer

    def tracked_feed(self, frame, until):  # noqa: ANN001, ANN202
        real_feed(self, frame, until)
        most_open.append(len(self.writers))

    monkeypatch.setattr(mv, "_open_clip", tracked_open)
    monkeypatch.setattr(mv._Cutter, "feed", tracked_feed)
    intervals = [(0.1 + 0.4 * i, 0.4 + 0.4 * i) for i in range(12)]  # back to back, never overlapping
    media.cut_video_clips(episode, intervals, [tmp_path / f"c{i}.mp4" for i in range(12)], width=64)
    assert len(alive) == 12 and max(most_open) == 1
    gc.collect()
    assert all(ref() is None for ref in alive)  # every clip writer (and its encoder) was freed
    assert all((tmp_path / f"c{i}.mp4").is_file() for i in range(12))


def _gop_video(path: Path, dur: float = 12.0, fps: int = 24, gop: int = 12) -> Path:
    """An H.264 MP4 with a keyframe every ``gop`` frames; frame i has red level (i * 5) % 250."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "g": str(gop), "keyint_min": "1"})
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        for i in range(int(dur * fps)):
            img = np.zeros((48, 64, 3), np.uint8)
            img[..., 0] = (i * 5) % 250
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    return path


def test_cut_video_clips_parallel_pieces_are_byte_identical(tmp_path: Path) -> None:
    """Pieces cut in parallel threads (each seeking to its keyframe) give the same bytes as one sequential pass."""
    src = _gop_video(tmp_path / "gop.mp4")
    intervals = [(9.5, 10.4), (0.3, 1.2), (3.04, 4.0), (3.5, 4.6), (6.2, 6.9), (11.5, 12.5), (7.0, 7.5)]
    assert len(media.plan_pieces(intervals, 3)) >= 4  # overlapping (3.04, 4.0) and (3.5, 4.6) share a piece
    assert any(set(p) == {2, 3} for p in media.plan_pieces(intervals, 3))
    serial = [tmp_path / f"s{i}.mp4" for i in range(len(intervals))]
    threaded = [tmp_path / f"t{i}.mp4" for i in range(len(intervals))]
    media.cut_video_clips(src, intervals, serial, workers=1)
    media.cut_video_clips(src, intervals, threaded, workers=3)
    for (start, end), a, b in zip(intervals, serial, threaded, strict=True):
        assert a.read_bytes() == b.read_bytes(), b
        n, rate, first = _decoded_video(b)
        assert n / rate == pytest.approx(end - start, abs=0.05)
        want = min(int(start * 24 + 1e-9), 12 * 24 - 1)  # the picture on screen at start (last one past the end)
        assert first[..., 0].mean() == pytest.approx((want * 5) % 250, abs=6), (start, b)


def test_cut_video_clips_height_option(tmp_path: Path, episode: Path) -> None:
    out = tmp_path / "h.mp4"
    media.cut_video_clips(episode, [(1.0, 2.0)], [out], height=48)
    v = media.probe(out).video_streams[0]
    assert (v.width, v.height) == (80, 48)  # 160x96 source, aspect kept
    assert media.even_size(1920, 1080, None, 360) == (640, 360)
    assert media.even_size(1440, 1080, None, 361) == (480, 360)  # sides rounded down to even
    # the width from the even height, not the odd one (482x270 was 0.4 % wider than 16:9; an outside tester)
    assert media.even_size(640, 360, None, 271) == (480, 270)
    assert media.even_size(720, 480, None, 271, sar=Fraction(32, 27)) == (480, 270)
    assert media.even_size(640, 360, 481, None) == (480, 270)


def test_cut_video_clips_selector_and_errors(tmp_path: Path, episode: Path, silent_video: Path) -> None:
    out = tmp_path / "sel.mp4"
    media.cut_video_clips(episode, [(1.0, 2.0)], [out], audio="eng")
    assert peak_freq(media.decode_audio(out, 0, sr=16000), 16000) == pytest.approx(EN_TONE, abs=3)
    with pytest.raises(InputError, match="no audio stream"):
        media.cut_video_clips(silent_video, [(0.0, 1.0)], [tmp_path / "x.mp4"], audio="jpn")
    assert not (tmp_path / "x.mp4").exists()
    audio_only = media.write_audio(tmp_path / "a.m4a", _tone(JP_TONE, 16000, 1.0, 1), 16000)
    with pytest.raises(InputError, match="no video stream") as err:
        media.cut_video_clips(audio_only, [(0.0, 1.0)], [tmp_path / "y.mp4"])
    assert str(audio_only) in str(err.value) and not (tmp_path / "y.mp4").exists()


def test_extract_frames_one_fps(tmp_path: Path, episode: Path) -> None:
    from PIL import Image

    frames = media.extract_frames(episode, 1.0, lambda k: tmp_path / f"f{k:04d}.jpg")
    assert [k for k, _, _ in frames] == list(range(int(DUR)))
    assert [t for _, t, _ in frames] == [float(k) for k in range(int(DUR))]
    for k, _t, path in frames:
        img = np.asarray(Image.open(path).convert("RGB"))
        assert img.shape == (96, 160, 3)
        assert img[..., 0].mean() == pytest.approx((k * FPS * 7) % 255, abs=8)


# ---------------------------------------------------------------- mux


def test_mux_audio_track(tmp_path: Path, episode: Path) -> None:
    sr = 48000
    dub = _tone(700.0, sr, DUR - 1.0, 1)[0]  # shorter than the video: padded to its duration
    out = media.mux_audio_track(episode, dub, sr, tmp_path / "dubbed.mkv", title="EN dub")
    before, after = media.probe(episode), media.probe(out)
    assert [s.kind for s in after.streams] == ["video", "audio", "audio", "audio"]
    for a, b in zip(before.streams, after.streams[:3], strict=True):
        assert (a.codec, a.language, a.channels, a.sample_rate) == (
            b.codec,
            b.language,
            b.channels,
            b.sample_rate,
        )
    new = after.streams[3]
    assert (new.language, new.default, new.title, new.codec) == ("eng", True, "EN dub", "aac")
    assert [s.default for s in after.audio_streams] == [False, False, True]
    assert after.duration == pytest.approx(before.duration, abs=1024 / sr + 0.002)
    assert peak_freq(media.decode_audio(out, 2, sr=16000), 16000) == pytest.approx(700.0, abs=3)
    assert len(media.decode_audio(out, 2, sr=16000)) / 16000 == pytest.approx(DUR, abs=0.05)
    # original streams are copied, not re-encoded: identical video packets
    with av.open(str(episode)) as a, av.open(str(out)) as b:
        pa = [bytes(p) for p in a.demux(a.streams.video[0]) if p.size]
        pb = [bytes(p) for p in b.demux(b.streams.video[0]) if p.size]
    assert pa == pb


def test_a_track_as_long_as_the_source_is_not_padded_past_it(tmp_path: Path) -> None:
    """An MKV's duration holds its AAC track's last-frame padding: padding a dub as long as the source track up to
    it put the dub a frame past the source (20.032 s for a 20.011 s source) and each dub of a dub a frame further.
    Now a track within PAD_SLACK_S of the duration keeps its length, and muxing twice changes nothing."""
    sr = 48000
    src = tmp_path / "src.mkv"
    with av.open(str(src), "w") as out:
        s = out.add_stream("aac", rate=sr, layout="mono")
        s.metadata["language"] = "jpn"
        tone = _tone(440.0, sr, 3.0, 1)
        for k in range(0, tone.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, k:k + 1024]), format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = sr, k, Fraction(1, sr)
            out.mux(s.encode(frame))
        out.mux(s.encode(None))

    def decoded(path: Path, index: int) -> int:
        return len(media.decode_audio(path, index, sr=sr))

    n = decoded(src, 0)
    assert media.probe(src).duration * sr > n  # the container's duration holds the padding
    once = media.mux_audio_track(src, media.decode_audio(src, 0, sr=sr), sr, tmp_path / "once.mkv", title="EN dub")
    twice = media.mux_audio_track(once, media.decode_audio(once, 0, sr=sr), sr, tmp_path / "twice.mkv", title="EN 2")
    assert decoded(once, 1) == n and decoded(twice, 1) == n and decoded(twice, 2) == n
    assert media.probe(twice).duration == pytest.approx(media.probe(once).duration, abs=1e-3)
    short = media.mux_audio_track(src, np.zeros(sr, np.float32), sr, tmp_path / "short.mkv")  # 1 s: padded
    assert decoded(short, 1) == pytest.approx(media.probe(src).duration * sr, abs=1024)


def test_mux_bad_input(tmp_path: Path, text_mkv: Path) -> None:
    with pytest.raises(InputError, match="not a media file"):
        media.mux_audio_track(text_mkv, np.zeros(100, np.float32), 16000, tmp_path / "o.mkv")
    assert not (tmp_path / "o.mkv").exists()


# ---------------------------------------------------------------- variable frame rate, very short files


def make_vfr(path: Path, dur: float = 3.0) -> Path:
    """H.264 whose frames alternate 30 ms and 70 ms apart (millisecond timestamps)."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=20, options={"preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.codec_context.time_base = Fraction(1, 1000)
        t, i = 0, 0
        while t < dur * 1000:
            img = np.full((48, 64, 3), (t // 10) % 255, np.uint8)  # brightness tracks time
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            out.mux(vs.encode(frame))
            t += 30 if i % 2 == 0 else 70
            i += 1
        out.mux(vs.encode(None))
    return path


def test_vfr_video_clips_and_frames(tmp_path: Path) -> None:
    src = make_vfr(tmp_path / "vfr.mkv")
    out = tmp_path / "vfr_clip.mp4"
    media.cut_video_clips(src, [(1.0, 2.2)], [out])
    n, rate, first = _decoded_video(out)
    assert n / rate == pytest.approx(1.2, abs=0.05)
    assert first.mean() == pytest.approx(100, abs=8)  # the picture shown at 1.0 s
    frames = media.extract_frames(src, 2.0, lambda k: tmp_path / f"vfr{k}.jpg")
    assert len(frames) == 6 and frames[-1][1] == 2.5


def test_very_short_file(tmp_path: Path) -> None:
    src = make_media(tmp_path / "short.mkv", dur=0.25, audio=(("jpn", JP_TONE, 16000, "mono", 0.0),))
    x = media.decode_audio(src, "jpn", sr=16000)
    assert len(x) / 16000 == pytest.approx(0.25, abs=0.07)
    out = tmp_path / "short.mp4"
    media.cut_video_clips(src, [(0.0, 0.25)], [out], audio="jpn")
    assert media.probe(out).duration == pytest.approx(0.25, abs=0.05)
    frames = media.extract_frames(src, 1.0, lambda k: tmp_path / f"s{k}.jpg")
    assert len(frames) == 1


def test_video_clips_are_byte_identical_across_runs(tmp_path: Path, episode: Path) -> None:
    """Re-runs (and other runners) must reproduce the release's MP4 clips exactly."""
    runs = []
    for k in range(3):
        outs = [tmp_path / f"{k}_{i}.mp4" for i in range(2)]
        media.cut_video_clips(episode, [(0.2, 1.4), (1.0, 2.6)], outs)
        runs.append([p.read_bytes() for p in outs])
    assert runs[0] == runs[1] == runs[2]


def test_six_channels_without_a_layout_are_read_as_5_1(tmp_path: Path) -> None:
    """A WAV without a channel mask (libsndfile's): FFmpeg says ``6 channels`` and names each ``NONE``. It is
    read in FFmpeg's default layout for six channels (5.1), as FFmpeg's own downmix reads it: the LFE is left out
    of the mono downmix and the loudness and the surrounds weigh 1.41. All six were weighed alike (LFE in,
    the 5.1 dub 2.5 LU too loud in ``anim400k evaluate``)."""
    import soundfile

    from anim400k.evaluate.stimuli import load_channels
    from anim400k.media.probe import select_audio_stream
    from anim400k.signal import loudness

    sr, freqs = 48000, [300.0, 500.0, 700.0, 60.0, 1100.0, 1300.0]
    t = np.arange(sr * 2) / sr
    data = np.stack([0.1 * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)
    bare, labelled = tmp_path / "bare.wav", tmp_path / "labelled.flac"
    soundfile.write(bare, data.T, sr)
    with av.open(str(bare)) as c:
        assert [ch.name for ch in c.streams.audio[0].layout.channels] == ["NONE"] * 6
    _write_flac(labelled, data, sr, "5.1")
    names = media.audio.channel_names(select_audio_stream(media.probe(bare), 0))
    assert names == ["FL", "FR", "FC", "LFE", "BL", "BR"]
    a, b = load_channels(bare, sr), load_channels(labelled, sr)
    assert a.loudness_weights == b.loudness_weights == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]
    assert loudness(a.samples, sr, a.loudness_weights) == pytest.approx(loudness(b.samples, sr, b.loudness_weights),
                                                                        abs=0.01)
    mono = media.decode_audio(bare, 0, sr=sr)
    np.testing.assert_allclose(mono, media.decode_audio(labelled, 0, sr=sr), atol=1e-4)
    spec = np.abs(np.fft.rfft(mono))
    assert spec[int(round(60.0 * len(mono) / sr))] < 0.01 * spec[int(round(300.0 * len(mono) / sr))]  # no LFE
    assert media.audio.decoded_channel_names(select_audio_stream(media.probe(bare), 0), 2) == ["FL", "FR"]
    assert media.audio.default_layout_names(8) == ["FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"]


def test_aac_uses_the_fast_coder_at_high_bitrates_per_channel(tmp_path: Path) -> None:
    """AAC at >= 64 kb/s per channel uses FFmpeg's fast coder (FFmpeg: better and faster at high rates);
    a 128 kb/s mono tone keeps a high SNR through it."""
    import io

    import av

    from anim400k.media import decode_audio, write_audio
    from anim400k.media.audio import add_audio_stream

    with av.open(io.BytesIO(), "w", format="mp4") as out:
        assert add_audio_stream(out, "aac", 48000, 1, 128_000).codec_context.options.get("aac_coder") == "fast"
        assert "aac_coder" not in add_audio_stream(out, "aac", 48000, 2, 96_000).codec_context.options
        assert "aac_coder" not in add_audio_stream(out, "libmp3lame", 48000, 1, 128_000).codec_context.options
    t = np.arange(48000 * 2) / 48000
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    y = decode_audio(write_audio(tmp_path / "tone.m4a", x, 48000, bitrate="128k"), sr=48000, mono=True)
    assert abs(y.size - x.size) <= 1024
    n = min(x.size, y.size)
    snr = 10 * np.log10(np.sum(x[:n] ** 2) / np.sum((y[:n] - x[:n]) ** 2))
    assert snr > 25, snr


def test_x264_assembly_is_capped_at_avx2_on_avx512_cpus(tmp_path: Path, episode: Path, monkeypatch) -> None:
    """x264's AVX-512 code wrote different bytes from run to run: on such CPUs the cutter caps it at AVX2."""
    from numpy._core._multiarray_umath import __cpu_features__ as features

    from anim400k.media import video

    monkeypatch.setattr(video, "_has_avx512", lambda: False)
    assert video.x264_asm_params() == [] and video.x264_cpu_options() == {}
    monkeypatch.setattr(video, "_has_avx512", lambda: True)
    assert video.x264_cpu_options() == {"x264-params": "asm=AVX2"}
    if not features.get("AVX2"):
        return  # the capped assembly needs AVX2 itself
    runs = []
    for k in range(2):
        out = tmp_path / f"{k}.mp4"
        media.cut_video_clips(episode, [(0.2, 1.4)], [out])
        runs.append(out.read_bytes())
    assert runs[0] == runs[1] and b"x264 - core" in runs[0]
    assert media.probe(tmp_path / "0.mp4").duration == pytest.approx(1.2, abs=0.05)


@pytest.mark.parametrize("fps", [float("inf"), float("nan"), 0.0, -1.0])
def test_extract_frames_refuses_a_rate_that_is_not_finite_and_positive(tmp_path, fps):
    """fps = inf made k / fps 0 for every k: frames without end."""
    with pytest.raises(ValueError, match="fps must be a finite number > 0"):
        media.extract_frames(tmp_path / "none.mkv", fps, lambda k: tmp_path / f"{k}.jpg")


@pytest.mark.parametrize(("tag", "language", "expected"), [("und", "en", 0), ("eng", "en", 0), ("jpn", "ja", 0),
                                                          ("xyz", "en", 0), ("jpn", "en", None)])
def test_default_audio_stream_of_a_single_stream(tmp_path, tag, language, expected):
    from anim400k.media.probe import default_audio_stream

    path = make_media(tmp_path / "one.mkv", dur=1.0, audio=((tag, JP_TONE, 16000, "mono", 0.0),), video=False)
    if expected is not None:
        assert default_audio_stream(path, language) == expected
        return
    with pytest.raises(InputError) as err:
        default_audio_stream(path, language)
    assert err.value.message == (f"{path}: its only audio stream is tagged 'jpn', not en: "
                                 "pass --stream 0 to transcribe it as en anyway")


def test_transcribe_refuses_a_stream_tagged_with_another_language(tmp_path, capsys):
    """An MKV whose only audio is tagged jpn was transcribed as English; --stream 0 still forces it."""
    from anim400k.cli import main

    path = make_media(tmp_path / "jp.mkv", dur=1.0, audio=(("jpn", JP_TONE, 16000, "mono", 0.0),), video=False)
    out = tmp_path / "t.json"
    assert main(["transcribe", str(path), "--language", "en", "--asr", "vad", "--out", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"anim400k: error: {path}: its only audio stream is tagged 'jpn', not en: "
        "pass --stream 0 to transcribe it as en anyway"
    ]
    assert not out.exists()
    assert main(["transcribe", str(path), "--language", "en", "--asr", "vad", "--stream", "0", "--out", str(out)]) == 0
    assert out.exists()


# ---------------------------------------------------------------- mux: start time, chapters, tags, compatibility


def make_late_start(path: Path, start: float = 1.5, dur: float = 3.0, sr: int = 48000) -> Path:
    """A file whose streams (video and a 440 Hz mono AAC) all start at ``start`` s, as MPEG-TS often do."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.time_base = Fraction(1, FPS)
        aus = out.add_stream("aac", rate=sr, layout="mono")
        aus.metadata["language"] = "jpn"
        first = int(round(start * FPS))
        for i in range(int(dur * FPS)):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 255, np.uint8), format="rgb24")
            frame.pts = first + i
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        frame = av.AudioFrame.from_ndarray(_tone(JP_TONE, sr, dur, 1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = sr, int(round(start * sr)), Fraction(1, sr)
        out.mux(aus.encode(frame))
        out.mux(aus.encode(None))
    return path


def _first_frame_and_onset(path: Path, index: int, threshold: float = 0.05) -> tuple[float, float]:
    """Absolute time (s) of a stream's first decoded sample and of its first sample above ``threshold``."""
    with av.open(str(path)) as c:
        st = c.streams[index]
        frames = [(float(f.pts * f.time_base), f.to_ndarray()[0], f.sample_rate) for f in c.decode(st)]
    t0, sr = frames[0][0], frames[0][2]
    x = np.concatenate([f[1] for f in frames])
    return t0, t0 + int(np.argmax(np.abs(x) > threshold)) / sr


@pytest.mark.parametrize("ext", ["mkv", "mp4", "ts"])
def test_mux_new_track_starts_at_the_container_start_time(tmp_path: Path, ext: str) -> None:
    """Time 0 of the new track is the container's start (1.5 s here), where the copied streams start: the
    new audio used to start at pts 0, 1.5 s early, and made the file 1.5 s longer."""
    src = make_late_start(tmp_path / f"late.{ext}")
    info = media.probe(src)
    assert info.start_time == pytest.approx(1.5, abs=0.03)
    sr = 48000
    dub = np.zeros(int(3.0 * sr), np.float32)
    dub[sr:] = 0.5  # a step at 1.0 s of the timeline, i.e. 2.5 s absolute
    dub[sr:] *= np.sin(2 * np.pi * 1000.0 * np.arange(2 * sr) / sr).astype(np.float32)
    out = media.mux_audio_track(src, dub, sr, tmp_path / f"dubbed.{ext}")
    with av.open(str(src)) as a, av.open(str(out)) as b:
        video_in = float(a.streams.video[0].start_time * a.streams.video[0].time_base)
        video_out = float(b.streams.video[0].start_time * b.streams.video[0].time_base)
        new = b.streams.audio[-1].index
    assert video_out == pytest.approx(video_in, abs=0.002)  # copied streams keep their timestamps
    first, onset = _first_frame_and_onset(out, new)
    assert first == pytest.approx(info.start_time, abs=1024 / sr + 0.002)  # AAC priming at most
    assert onset == pytest.approx(info.start_time + 1.0, abs=0.005)
    after = media.probe(out)
    assert after.duration - (after.start_time - info.start_time) == pytest.approx(info.duration, abs=0.05) or (
        ext == "mkv" and after.duration == pytest.approx(info.start_time + info.duration, abs=0.05)
    )
    # decode_audio's timeline (0 = the container's start) gives the step at 1.0 s
    x = media.decode_audio(out, len(after.audio_streams) - 1, sr=16000)
    step = int(np.argmax(np.abs(x) > 0.05)) / 16000
    assert step == pytest.approx(1.0 + (info.start_time - after.start_time), abs=0.005)


def _with_chapters_and_tags(path: Path, srt: Path | None = None) -> Path:
    """A 2 s MKV (mono AAC) with two chapters, a title and a comment (and an SRT stream when given)."""
    with av.open(str(path), "w") as out:
        out.metadata["title"] = "Episode One"
        out.metadata["comment"] = "made in a test"
        out.set_chapters([
            {"id": 1, "start": 0, "end": 1000, "time_base": Fraction(1, 1000), "metadata": {"title": "Part A"}},
            {"id": 2, "start": 1000, "end": 2000, "time_base": Fraction(1, 1000), "metadata": {"title": "Part B"}},
        ])
        st = out.add_stream("aac", rate=16000, layout="mono")
        st.metadata["language"] = "jpn"
        if srt is not None:
            copy_subtitles(out, srt, None)
        frame = av.AudioFrame.from_ndarray(_tone(JP_TONE, 16000, 2.0, 1), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path


def test_mux_copies_chapters_and_file_tags(tmp_path: Path) -> None:
    src = _with_chapters_and_tags(tmp_path / "chapters.mkv")
    out = media.mux_audio_track(src, np.zeros(32000, np.float32), 16000, tmp_path / "dubbed.mkv")
    with av.open(str(out)) as c:
        chapters, tags = c.chapters(), {k.lower(): v for k, v in c.metadata.items()}
    assert [ch["metadata"]["title"] for ch in chapters] == ["Part A", "Part B"]
    assert [float(ch["start"] * ch["time_base"]) for ch in chapters] == [0.0, 1.0]
    assert tags["title"] == "Episode One" and tags["comment"] == "made in a test"


def test_check_mux_refuses_streams_the_output_container_cannot_hold(tmp_path: Path) -> None:
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:01,500\nHello.\n", encoding="utf-8")
    src = _with_chapters_and_tags(tmp_path / "subs.mkv", srt)
    media.check_mux(src, tmp_path / "ok.mkv")
    with pytest.raises(InputError) as err:
        media.check_mux(src, tmp_path / "out.mp4")
    assert err.value.message == (f"{tmp_path / 'out.mp4'}: stream #1 (subtitle srt) cannot be copied into .mp4 "
                                 "output: 'mp4' format does not support 'srt' codec")
    with pytest.raises(InputError, match=r"cannot write a '\.xyz' video"):
        media.check_mux(src, tmp_path / "out.xyz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.srt", "subs.mkv"]  # nothing written beside


# ---------------------------------------------------------------- the source stream when no stream is tagged jpn


@pytest.mark.parametrize(
    ("streams", "expected"),
    [
        ((("und", None),), 0),  # one untagged stream: used
        ((("xyz", None),), 0),  # one stream in a language we do not know: used
        ((("eng", "English"), ("und", None)), 1),  # the only one not in another language
        ((("und", "English Dub"), ("und", None)), 1),
        ((("und", "English Dub"), ("und", "Japanese 5.1")), 1),  # the title names Japanese
        ((("und", "日本語"), ("und", "Commentary")), 0),
        ((("und", "JPN"), ("und", None)), 0),
        ((("eng", None),), None),  # another known language: refused
        ((("eng", None), ("spa", None)), None),
        ((("und", None), ("und", None)), None),  # several untagged: refused
        ((("und", "Japanese (commentary)"), ("und", "Japanese")), 1),  # a commentary is passed over
        ((("und", "Japanese"), ("und", "Japanese 5.1")), None),  # two titles name Japanese: refused
    ],
)
def test_select_source_stream_without_a_jpn_tag(tmp_path: Path, streams, expected) -> None:
    from anim400k.media.probe import select_source_stream

    audio = [media.StreamInfo(index=i + 1, kind="audio", codec="aac", language=media.normalize_language(lang),
                              title=title) for i, (lang, title) in enumerate(streams)]
    info = media.MediaInfo(path=str(tmp_path / "v.mkv"), format="matroska", duration=1.0, start_time=0.0,
                           streams=[media.StreamInfo(index=0, kind="video", codec="h264"), *audio])
    if expected is not None:
        stream, note = select_source_stream(info, "jpn")
        assert stream is audio[expected] and note is not None and f"audio stream {expected}" in note
        return
    with pytest.raises(InputError) as err:
        select_source_stream(info, "jpn")
    message = err.value.message
    assert message.startswith(f"{tmp_path / 'v.mkv'}: no audio stream is tagged 'jpn'")
    assert message.endswith("pass --stream N to use audio stream N") and "\n" not in message
    for i, (lang, title) in enumerate(streams):
        assert f"{i}: {media.normalize_language(lang) or 'und'}" + (f" {title!r}" if title else "") in message


def _info(tmp_path: Path, streams: tuple[tuple[str, str | None, bool], ...]) -> media.MediaInfo:
    """A MediaInfo with a video stream then one audio stream per (language, title, default flag)."""
    audio = [media.StreamInfo(index=i + 1, kind="audio", codec="aac", language=media.normalize_language(lang),
                              title=title, default=default) for i, (lang, title, default) in enumerate(streams)]
    return media.MediaInfo(path=str(tmp_path / "v.mkv"), format="matroska", duration=1.0, start_time=0.0,
                           streams=[media.StreamInfo(index=0, kind="video", codec="h264"), *audio])


@pytest.mark.parametrize(
    ("streams", "expected", "why"),
    [
        ((("jpn", None, False), ("eng", "English Commentary", False), ("eng", "English", False)), 2,
         "the others are titled as a commentary, description or the like"),
        ((("eng", "Audio Description", True), ("eng", "English", False)), 1, "the others are titled"),
        ((("eng", "Commentary", False), ("eng", "Descriptive Video Service", False), ("eng", "Main", False)), 2,
         "the others are titled"),
        ((("eng", "English (Karaoke)", False), ("eng", None, False)), 1, "the others are titled"),
        ((("eng", "Director's commentary", False), ("eng", "Cast commentary", False)), 0, "the first"),
        ((("eng", "English", False), ("eng", "English 5.1", True)), 1, "the default one"),
        ((("eng", "English", False), ("eng", "English 5.1", False)), 0, "the first"),
    ],
)
def test_select_source_stream_with_several_streams_tagged_with_the_language(tmp_path: Path, streams, expected,
                                                                             why) -> None:
    """Streams titled as a commentary, audio description or karaoke are passed over; the note lists the
    candidates (audio-stream index, language, title) and says which was taken."""
    from anim400k.media.probe import select_source_stream

    info = _info(tmp_path, streams)
    stream, note = select_source_stream(info, "eng", option="en_stream:")
    assert stream is info.audio_streams[expected]
    listed = ", ".join(f"{i}: eng" + (f" {t!r}" if t else "") for i, (lang, t, _) in enumerate(streams)
                       if lang == "eng")
    assert note is not None and "\n" not in note
    assert note.startswith(f"{sum(lang == 'eng' for lang, _, _ in streams)} audio streams are tagged 'eng' "
                           f"({listed}); used audio stream {expected} ({why}")
    assert note.endswith("pass en_stream: N to use audio stream N")


def test_select_source_stream_obeys_an_index_and_takes_a_single_tagged_stream_silently(tmp_path: Path) -> None:
    from anim400k.media.probe import select_source_stream

    info = _info(tmp_path, (("jpn", None, False), ("eng", "English Commentary", False), ("eng", "English", False)))
    assert select_source_stream(info, 1) == (info.audio_streams[1], None)
    assert select_source_stream(info, "ja") == (info.audio_streams[0], None)


@pytest.mark.parametrize("sr", [44100, 16000])
def test_mp3_clips_decode_to_exactly_their_length(tmp_path: Path, sr: int) -> None:
    """FFmpeg's MP3 muxer states a wrong end padding for some lengths (53,000-53,039 samples at 44.1 kHz
    decoded as 53,039); the LAME tag is corrected, so FFmpeg and libsndfile decode every length exactly;
    a clip of a few frames (300 samples), which FFmpeg's probe scores too low, is still read."""
    import soundfile as sf

    from anim400k.media.mp3_gapless import crc16_arc

    assert crc16_arc(b"123456789") == 0xBB3D  # the CRC-16/ARC check value
    rng = np.random.default_rng(0)
    for n in (52992, 53000, 53020, 53039, 53040, 8000, 1000, 300):
        path = tmp_path / f"c{n}.mp3"
        media.write_audio(path, (rng.standard_normal(n) * 0.1).astype(np.float32), sr)
        assert len(media.decode_audio(path, 0, sr)) == n, n
        assert len(sf.read(str(path))[0]) == n, n


def _subs_info(tmp_path: Path, streams: tuple[tuple, ...]) -> media.MediaInfo:
    """A MediaInfo with an audio stream then one ``eng`` subtitle stream per (title, default, forced[, codec])."""
    subs = [media.StreamInfo(index=i + 1, kind="subtitle", codec=(rest[0] if rest else "ass"), language="eng",
                             title=title, default=default, forced=forced)
            for i, (title, default, forced, *rest) in enumerate(streams)]
    return media.MediaInfo(path=str(tmp_path / "v.mkv"), format="matroska", duration=1.0, start_time=0.0,
                           streams=[media.StreamInfo(index=0, kind="audio", codec="flac", language="jpn"), *subs])


@pytest.mark.parametrize(
    ("streams", "expected", "why"),
    [
        ((("Signs & Songs", True, True), ("Full Subtitles", False, False)), 1, "the only one left; passed over 0: "),
        ((("English", True, False), ("English [Forced]", False, False)), 0, "the only one left; passed over 1: "),
        ((("S&S", False, False), ("Dialogue", False, False), ("English", True, False)), 1,
         "titled as the full dialogue; passed over 0: "),
        ((("Full", False, False), ("Full [Honorifics]", True, False)), 1, "titled as the full dialogue, the default"),
        ((("Songs/Karaoke", True, False), ("English", False, False), ("English (alt)", False, False)), 1,
         "the first; the titles do not tell which is the dialogue; passed over 0: "),
        ((("Commentary", False, False), (None, False, False), ("Styled", True, False)), 2,
         "the default one; the titles do not tell"),
        ((("Full", True, False, "hdmv_pgs_subtitle"), ("Full", False, False, "subrip")), 1,
         "the only one left; passed over 0: bitmap"),
        ((("Signs", True, True), ("Songs", False, False)), 0, "the first; every one is flagged forced"),
    ],
)
def test_select_subtitle_stream_passes_over_forced_and_signs_tracks(tmp_path: Path, streams, expected, why) -> None:
    """Of several subtitle streams tagged with the language, a forced one or one titled as signs, songs,
    karaoke or commentary is passed over, then one titled as the full dialogue is preferred, then the
    default-flagged one; the note lists the candidates and says which was taken and why."""
    from anim400k.media.probe import select_subtitle_stream

    info = _subs_info(tmp_path, streams)
    stream, note = select_subtitle_stream(info, "eng")
    assert stream is info.subtitle_streams[expected]
    assert note is not None and "\n" not in note
    assert note.startswith(f"{len(streams)} subtitle streams are tagged 'eng' (0: eng ")
    assert f"used subtitle stream {expected} ({why}" in note
    assert note.endswith("): pass subtitle_stream: N to use subtitle stream N")


def test_select_subtitle_stream_obeys_an_index_and_takes_a_lone_dialogue_stream_silently(tmp_path: Path) -> None:
    from anim400k.media.probe import select_subtitle_stream

    info = _subs_info(tmp_path, (("Signs & Songs", True, True), ("Full", False, False)))
    assert select_subtitle_stream(info, 0) == (info.subtitle_streams[0], None)
    assert select_subtitle_stream(info, "1") == (info.subtitle_streams[1], None)
    lone = _subs_info(tmp_path, (("English", True, False),))
    assert select_subtitle_stream(lone, "en") == (lone.subtitle_streams[0], None)
    with pytest.raises(InputError) as err:
        select_subtitle_stream(info, "jpn", option="--subtitle-stream")
    assert err.value.message == (f"{tmp_path / 'v.mkv'}: no subtitle stream in language 'jpn' (subtitle streams: "
                                 "0: eng 'Signs & Songs' (default, forced), 1: eng 'Full'): pass --subtitle-stream N "
                                 "to use subtitle stream N")


# ---------------------------------------------------------------- display aspect, colour, header rate of video clips


def _coloured_video(path: Path, size: tuple[int, int] = (160, 96), pix_fmt: str = "yuv420p", tags: bool = True,
                    sar: Fraction | None = None, frames: int = 12) -> Path:
    """Saturated colour bars (red, green, blue, yellow) converted with the BT.709 matrix; ``tags``: the
    stream says BT.709 (matrix, primaries, transfer) and limited range, else it says nothing."""
    w, h = size
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=24, options={"preset": "ultrafast", "crf": "8"})
        vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
        if tags:
            cc = vs.codec_context
            cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 1, 1, 1, 1
        if sar is not None:
            vs.codec_context.sample_aspect_ratio = sar
        img = np.zeros((h, w, 3), np.uint8)
        for k, rgb in enumerate([(230, 30, 40), (30, 200, 60), (40, 50, 220), (200, 180, 40)]):
            img[:, k * w // 4:(k + 1) * w // 4] = rgb
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame = frame.reformat(format=pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
            frame.pts = i
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    return path


def _first_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as c:
        return next(c.decode(c.streams.video[0]))


def test_anamorphic_clips_keep_the_display_aspect_in_square_pixels(tmp_path: Path) -> None:
    """A 240x180 frame with SAR 4:3 is shown 320x180 (16:9): its clips are 320x180 (height=90: 160x90) in
    square pixels; they were 240x180 and 120x90 with no SAR, shown 4:3. Both sides given: that size, and the
    SAR that keeps 16:9."""
    src = _coloured_video(tmp_path / "anamorphic.mkv", (240, 180), sar=Fraction(4, 3))
    cases = {"full": {}, "h90": {"height": 90}, "w160": {"width": 160}, "wh": {"width": 160, "height": 160}}
    for name, kw in cases.items():
        media.cut_video_clips(src, [(0.0, 0.25)], [tmp_path / f"{name}.mp4"], **kw)
    sizes = {}
    for name in cases:
        with av.open(str(tmp_path / f"{name}.mp4")) as c:
            s = c.streams.video[0]
            sizes[name] = (s.width, s.height, s.sample_aspect_ratio)
    assert sizes == {"full": (320, 180, None), "h90": (160, 90, None), "w160": (160, 90, None),
                     "wh": (160, 160, Fraction(16, 9))}
    # the picture is stretched, not cropped: the four bars keep their share of the width
    rgb = _first_frame(tmp_path / "full.mp4").to_ndarray(format="rgb24")
    assert [int(np.argmax(rgb[90, x])) for x in (40, 120, 200, 280)] == [0, 1, 2, 0]
    assert media.even_size(1440, 1080, None, 360, sar=Fraction(4, 3)) == (640, 360)
    assert media.even_size(1440, 1080, None, None, sar=Fraction(4, 3)) == (1920, 1080)
    assert media.even_size(1280, 720, None, None, sar=Fraction(1281, 1280)) == (1280, 720)  # within 1 %: square


def test_video_clips_carry_the_sources_colour_properties(tmp_path: Path) -> None:
    """A 10-bit BT.709 SD source gives 8-bit clips tagged BT.709 / limited (they were untagged: players read
    SD clips as BT.601, colours shifted), whose pictures, read with their tags, match the source's."""
    src = _coloured_video(tmp_path / "bt709_10bit.mkv", pix_fmt="yuv420p10le")
    out = tmp_path / "clip.mp4"
    media.cut_video_clips(src, [(0.0, 0.25)], [out])
    with av.open(str(out)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.pix_fmt, cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range) == ("yuv420p", 1, 1, 1, 1)
    clip, source = _first_frame(out), _first_frame(src)
    assert (clip.colorspace, clip.color_range) == (1, 1)
    want = source.to_ndarray(format="rgb24").astype(int)
    got = clip.to_ndarray(format="rgb24").astype(int)  # PyAV converts with the frame's own tags
    assert np.abs(got - want).mean() < 3
    as_601 = clip.reformat(format="rgb24", src_colorspace="ITU601").to_ndarray().astype(int)
    assert np.abs(as_601 - want).mean() > 6  # what an untagged SD clip looked like


def test_untagged_sources_give_clips_tagged_with_what_the_conversion_assumed(tmp_path: Path) -> None:
    """An untagged source gives clips tagged BT.601 (SMPTE 170M), limited range: swscale's default, with
    which FFmpeg reads the source at any size; a stated matrix brings its family's primaries and
    transfer, a full-range source stays full range, an RGB one is converted with BT.601."""
    import types

    src = _coloured_video(tmp_path / "untagged.mkv", tags=False)
    media.cut_video_clips(src, [(0.0, 0.25)], [tmp_path / "u.mp4"])
    with av.open(str(tmp_path / "u.mp4")) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range) == (6, 2, 2, 1)
    source = _first_frame(src).to_ndarray(format="rgb24").astype(int)  # PyAV reads it as BT.601
    assert np.abs(_first_frame(tmp_path / "u.mp4").to_ndarray(format="rgb24").astype(int) - source).mean() < 3
    from anim400k.media.frames import clip_colour

    def stream(pix_fmt: str, w: int, h: int, spc: int = 2, pri: int = 2, trc: int = 2, rng: int = 0):
        cc = types.SimpleNamespace(format=av.VideoFormat(pix_fmt), width=w, height=h, colorspace=spc,
                                   color_primaries=pri, color_trc=trc, color_range=rng)
        return types.SimpleNamespace(codec_context=cc)

    def tags(st) -> tuple:
        c = clip_colour(st)
        return c.colorspace, c.primaries, c.trc, c.color_range, c.matrix

    assert tags(stream("yuv420p", 640, 480)) == (6, 2, 2, 1, "ITU601")  # BT.601 (SMPTE 170M)
    assert tags(stream("yuv420p10le", 1920, 1080)) == (6, 2, 2, 1, "ITU601")  # at any size, as FFmpeg reads it
    assert tags(stream("yuv420p", 854, 480, spc=1)) == (1, 1, 1, 1, "ITU709")  # matrix given: its family
    assert tags(stream("yuv420p", 720, 576, spc=5, pri=5, trc=6, rng=1)) == (5, 5, 6, 1, "ITU601")  # copied
    assert tags(stream("yuvj420p", 640, 480)) == (6, 2, 2, 2, "ITU601")  # full range kept
    assert tags(stream("yuv420p", 1920, 1080, spc=9, pri=9, trc=16, rng=1)) == (9, 9, 16, 1, "BT2020")
    rgb = clip_colour(stream("gbrp", 1280, 720, spc=0))  # RGB: converted with BT.601 into limited range
    assert (rgb.colorspace, rgb.color_range, rgb.src_range, rgb.matrix) == (6, 1, 2, "ITU601")


def make_vfr_120(path: Path) -> Path:
    """A Matroska VFR file as Japanese TV encodes are: 24 fps for 2 s, then 30 fps for 2 s, in a stream
    whose header (default duration) says 120 fps; each picture shows its number in binary (:func:`_number`)."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=120, options={"preset": "ultrafast"})
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.codec_context.time_base = Fraction(1, 1000)
        t, i = 0.0, 0
        while t < 4.0 - 1e-9:
            bits = np.array([(i >> b) & 1 for b in range(8)], np.uint8) * 255
            img = np.repeat(np.repeat(bits, 8)[None, :, None], 48, axis=0).repeat(3, axis=2)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts, frame.time_base = int(round(t * 1000)), Fraction(1, 1000)
            out.mux(vs.encode(frame))
            t, i = t + (1 / 24 if t < 2.0 - 1e-9 else 1 / 30), i + 1
        out.mux(vs.encode(None))
    return path


def _number(frame: av.VideoFrame) -> int:
    """The picture number :func:`make_vfr_120` drew (8 columns of 8 pixels, bit 0 first)."""
    cols = frame.to_ndarray(format="gray").reshape(frame.height, 8, 8).mean(axis=(0, 2))
    return sum(1 << b for b in range(8) if cols[b] > 128)


def test_a_120_fps_header_over_24_and_30_fps_pictures_is_cut_at_30_fps(tmp_path: Path) -> None:
    """The clips of a VFR MKV whose header says 120 fps were 120 fps, each picture repeated 4-5 times; they
    are cut at the rate the pictures come at (30 fps: every picture of the 30 fps part kept), and a
    constant-rate source keeps its nominal rate."""
    src = make_vfr_120(tmp_path / "vfr120.mkv")
    assert media.probe(src).video_streams[0].frame_rate == 120
    out = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    media.cut_video_clips(src, [(0.52, 1.52), (2.52, 3.52)], out)  # starts off the pictures' (ms) times
    for path in out:
        n, rate, _ = _decoded_video(path)
        assert (rate, n) == (30, 30)
        with av.open(str(path)) as c:
            numbers = [_number(f) for f in c.decode(c.streams.video[0])]
        if path.name == "b.mp4":  # the 30 fps part: every picture once, none repeated or lost
            assert numbers == list(range(48 + 15, 48 + 45))  # 48 pictures in the first 2 s
        else:  # the 24 fps part: its 24 pictures, each once or twice
            assert sorted(set(numbers)) == list(range(12, 36)) and numbers == sorted(numbers)
    from anim400k.media.frames import clip_frame_rate, video_stream

    cfr = make_media(tmp_path / "cfr.mkv", dur=2.0, audio=())
    with av.open(str(cfr)) as c:
        assert clip_frame_rate(c, video_stream(c, cfr)) == FPS


@pytest.mark.parametrize(("average", "nominal"), [
    (Fraction(9584000, 399723), Fraction(24000, 1001)),  # an MP4's average, reckoned from its duration
    (Fraction(24000, 1001), Fraction(24000, 1001)), (Fraction(25), Fraction(25)),
    (Fraction(12), Fraction(12)), (Fraction(23), Fraction(23)),
    (Fraction(2997, 125), Fraction(24000, 1001)),  # "23.976", 0.0001 % off NTSC film's rate
])
def test_a_rate_a_hair_off_a_standard_one_is_the_standard_one(average: Fraction, nominal: Fraction) -> None:
    """Clips of a 23.976 fps MP4 were written at 23569/983 fps, its average rate to the nearest denominator of
    1001 (an outside tester, 2026-12-07)."""
    from types import SimpleNamespace

    from anim400k.media.frames import frame_rate

    assert frame_rate(SimpleNamespace(average_rate=average, guessed_rate=None)) == nominal


# ---------------------------------------------------------------- FFmpeg's error codes in words


def test_ffmpeg_error_codes_are_said_in_words() -> None:
    from anim400k.media.probe import _reason

    ac3 = av.error.UndefinedError(16976906, "Error number -16976906 occurred", "avcodec_send_packet()")
    assert _reason(ac3) == "invalid data (corrupt or truncated file)"
    invalid = av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
    assert _reason(invalid) == "invalid data (corrupt or truncated file)"
    other = av.error.UndefinedError(123456, "Error number -123456 occurred")
    assert _reason(other) == "FFmpeg error -123456 (no description; the file may be corrupt)"
    assert _reason(OSError(errno.EACCES, "Permission denied")) == "Permission denied"


def test_a_damaged_ac3_frame_is_one_readable_line(tmp_path: Path) -> None:
    """`corrupt or undecodable media: Invalid data found when processing input` (or `Error number -16976906
    occurred`, an AC-3 frame-header code FFmpeg has no text for) said nothing to a user."""
    src = tmp_path / "ac3.mkv"
    with av.open(str(src), "w") as out:
        st = out.add_stream("ac3", rate=48000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(_tone(JP_TONE, 48000, 3.0, 2), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(st.encode(frame))
        out.mux(st.encode(None))
    data = bytearray(src.read_bytes())
    sync = data.find(b"\x0b\x77", len(data) // 2)  # an AC-3 frame's sync word
    data[sync:sync + 2] = b"\0\0"
    src.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        media.decode_audio(src, 0, sr=16000)
    assert err.value.message == f"{src}: corrupt or undecodable media: invalid data (corrupt or truncated file)"


def test_audio_cut_short_by_less_than_a_tenth_is_warned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Up to a tenth of the header's duration may be missing before decoding refuses a file as truncated; a file
    cut at 92 % went through without a word. It is warned now, naming the file and both durations."""
    import logging

    full = make_media(tmp_path / "long.mkv", dur=30.0, video=False)
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) * 92 // 100])
    with caplog.at_level(logging.WARNING, logger="anim400k.media.audio"):
        media.decode_audio(full, "jpn", sr=8000)
        assert not caplog.records
        x = media.decode_audio(cut, "jpn", sr=8000)
    assert 25.0 < len(x) / 8000 < 29.0
    assert len(caplog.records) == 1 and str(cut) in caplog.text and "may be cut short" in caplog.text


def test_an_mp3_cut_short_is_refused_by_its_info_tag(tmp_path: Path) -> None:
    """An MP3's length comes from its Info/Xing tag (LAME and FFmpeg write one), which a file cut in half keeps:
    it decoded to half the audio without a word. An MP3 without the tag is not judged (FFmpeg estimates its
    length from the size, which the cut file shares)."""
    sr = 16000
    x = (0.1 * np.sin(2 * np.pi * 440 * np.arange(20 * sr) / sr)).astype(np.float32)
    full = tmp_path / "full.mp3"
    media.write_audio(full, x, sr)
    data = full.read_bytes()
    half = tmp_path / "half.mp3"
    half.write_bytes(data[: len(data) // 2])
    assert len(media.decode_audio(full, 0, sr=sr)) == len(x)
    with pytest.raises(InputError) as err:
        media.decode_audio(half, 0, sr=sr)
    assert err.value.message.startswith(f"{half}: truncated or corrupt media: decoded 10.0 s of audio, header says "
                                        "20.0 s")
    assert len(media.decode_audio(half, 0, sr=sr, end=8.0)) == 8 * sr  # what the cut file holds is read
    untagged = tmp_path / "untagged.mp3"  # the Info frame left out: nothing states the length
    first = data.find(b"\xff", data.find(b"Info") + 4)
    while media.mp3_gapless.mp3_frame_length(data[first:first + 4]) is None:
        first = data.find(b"\xff", first + 1)
    untagged.write_bytes(data[first: first + (len(data) - first) // 2])
    assert 9.0 < len(media.decode_audio(untagged, 0, sr=sr)) / sr < 11.0


def test_a_float_wav_keeps_samples_past_full_scale(tmp_path: Path) -> None:
    """The dub's stems come before its mastering limiter: written as 16-bit PCM, the speech stem was clipped (11
    samples at full scale) and the stems did not add up to the mix. ``float_wav`` keeps them."""
    import soundfile

    x = np.array([0.0, 0.5, 1.2, -1.5], np.float32).repeat(100)
    media.write_audio(tmp_path / "f.wav", x, 16000, float_wav=True)
    y, _ = soundfile.read(tmp_path / "f.wav", dtype="float32")
    assert soundfile.info(tmp_path / "f.wav").subtype == "FLOAT"
    np.testing.assert_array_equal(y, x)
    media.write_audio(tmp_path / "p.wav", x, 16000)  # PCM as before: clipped to full scale
    assert float(np.abs(soundfile.read(tmp_path / "p.wav", dtype="float32")[0]).max()) <= 1.0


@pytest.mark.parametrize("channels", [8, 16])
def test_eight_or_more_channels_decode_exactly(tmp_path: Path, channels: int) -> None:
    """A 7.1 track (8 channels) crashed every command reading it with a segfault: PyAV 18 read past the plane
    pointers of a planar frame with 8 or more planes. Decoded interleaved now, sample for sample."""
    import soundfile as sf

    from anim400k.media import decode_audio

    x = (np.random.default_rng(channels).standard_normal((8000, channels)) * 0.05).astype(np.float32)
    path = tmp_path / f"c{channels}.wav"
    sf.write(path, x, 16000, subtype="PCM_16")
    want = sf.read(path, dtype="float32")[0].T
    got = decode_audio(path, 0, sr=16000, mono=False)
    assert got.shape == (channels, 8000) and np.array_equal(got, want)
    mono = decode_audio(path, 0, sr=16000, mono=True)
    assert mono.shape == (8000,) and np.isfinite(mono).all() and np.abs(mono).max() > 0


def test_an_mp3_resampled_on_decoding_starts_on_time(tmp_path: Path) -> None:
    """An MP3's first decoded frame (47 samples after LAME's delay) gave the resampler nothing yet; the next frame's
    time anchored the first output, which started 16 samples (1 ms) late at 16 kHz, after zeros (sync offsets,
    separated stems and transcript times of MP3 inputs were shifted)."""
    import soxr

    from anim400k.media import decode_audio, write_audio

    x = (0.3 * np.random.default_rng(0).standard_normal(48000 * 3)).astype(np.float32)
    write_audio(tmp_path / "n48.mp3", x, 48000)
    want = soxr.resample(x, 48000, 16000)
    got = decode_audio(tmp_path / "n48.mp3", 0, sr=16000, mono=True)
    assert got.size == want.size
    n = 16000
    lag = int(np.argmax(np.correlate(got[:n], want[100 : n - 100], mode="valid"))) - 100
    assert lag == 0
