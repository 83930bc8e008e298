"""MP3 by the ``lameenc`` wheel's LAME with an Info/LAME tag of our own (media/mp3_lameenc.py, mp3_gapless.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from anim400k import media
from anim400k.media import mp3_gapless as g
from anim400k.media.mp3_lameenc import encode_frames

ID3 = len(g.ID3V2_HEADER)


def _noise(ch: int, n: int, seed: int = 0, scale: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 44100
    tone = 0.3 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t))
    return (tone + scale * rng.standard_normal((ch, n))).astype(np.float32)


def _tag(data: bytes) -> dict[str, int]:
    """The Info frame's fields parsed back, and the checks of its CRCs."""
    frame = g.mp3_frame_length(data[ID3 : ID3 + 4])
    assert frame is not None and data[:3] == b"ID3"
    tag = data.find(b"Info", ID3, ID3 + 40)
    lame = tag + 120
    audio = data[ID3 + frame :]
    # the tag CRC covers the frame from its header up to the CRC field, as LAME writes it
    toc = data[tag + 16 : tag + 116]
    dp = int.from_bytes(data[lame + 21 : lame + 24], "big")
    return {
        "frames": int.from_bytes(data[tag + 8 : tag + 12], "big"),
        "bytes": int.from_bytes(data[tag + 12 : tag + 16], "big"),
        "music_length": int.from_bytes(data[lame + 28 : lame + 32], "big"),
        "delay": dp >> 12,
        "padding": dp & 0xFFF,
        "per_frame": 1152 if (data[ID3 + 1] >> 3) & 3 == 3 else 576,
        "audio_frames": len(g.split_frames(audio)),
        "music_crc_ok": int.from_bytes(data[lame + 32 : lame + 34], "big") == g.crc16_arc(audio),
        "tag_crc_ok": int.from_bytes(data[lame + 34 : lame + 36], "big") == g.crc16_arc(data[ID3 : lame + 34]),
        "toc0": toc[0],
        "toc_monotone": all(a <= b for a, b in zip(toc[:-1], toc[1:], strict=True)),
    }


@pytest.mark.parametrize(("sr", "ch", "n", "bitrate"), [
    (44100, 1, 53_017, "128k"), (48000, 2, 44_100 * 31 + 5, "192k"), (16000, 1, 16000 * 40 + 3, "64k"),
    (22050, 2, 9_000, "96k"),
])
def test_info_frame_is_ffmpegs_byte_for_byte(tmp_path: Path, sr: int, ch: int, n: int, bitrate: str) -> None:
    """lame_info_frame, given the frames PyAV's encoder wrote, rebuilds FFmpeg's own ID3 tag + Info frame exactly
    (frame count, byte count, the TOC also past 400 frames where its bags are halved, CRCs)."""
    path = media.write_audio(tmp_path / "pyav.mp3", _noise(ch, n), sr, bitrate=bitrate, mp3_encoder="pyav")
    data = path.read_bytes()
    size = g.mp3_frame_length(data[ID3 : ID3 + 4])
    assert size is not None
    audio = data[ID3 + size :]
    sizes = g.split_frames(audio)
    info = g.lame_info_frame(audio[:4], sizes, g.crc16_arc_fast(audio), n)
    # the tag CRC is LAME's (the frame up to the CRC field); FFmpeg's muxer takes the first 190 bytes, the
    # same bytes only in an MPEG-1 stereo frame (its tag 36 bytes in), and PyAV's file has had it rewritten
    crc = info.find(b"Info") + 120 + 34
    assert (crc == 190) == (sr >= 32000 and ch == 2)
    assert g.ID3V2_HEADER + info == data[: ID3 + size]
    assert int.from_bytes(info[crc : crc + 2], "big") == g.crc16_arc(info[:crc])


@pytest.mark.parametrize(("sr", "ch", "bitrate"), [(44100, 1, "128k"), (48000, 2, "192k"), (22050, 1, "64k"),
                                                  (16000, 2, "32k"), (32000, 1, "96k")])
def test_lameenc_tag_fields_and_exact_length(tmp_path: Path, sr: int, ch: int, bitrate: str) -> None:
    """The tag states delay 576 and the padding that leaves exactly n samples, counts every frame and byte, and
    carries valid CRCs; PyAV (decode_audio), libsndfile and the ffmpeg binary decode exactly n samples."""
    import imageio_ffmpeg
    import soundfile as sf

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    for n in (300, 575, 576, 1153, 4000, 53_000, 53_039, 3 * sr + 7):
        path = media.write_audio(tmp_path / f"c{n}.mp3", _noise(ch, n, seed=n), sr, bitrate=bitrate)
        data = path.read_bytes()
        t = _tag(data)
        assert t["delay"] == 576
        assert t["frames"] == t["audio_frames"]
        assert t["frames"] * t["per_frame"] - t["delay"] - t["padding"] == n
        # what validate reads of the first frame: the same length, to the sample
        assert g.info_tag_seconds(data[ID3:ID3 + g.mp3_frame_length(data[ID3:ID3 + 4])]) * sr == pytest.approx(n)
        assert g.info_tag_seconds(data[ID3 + g.mp3_frame_length(data[ID3:ID3 + 4]):]) is None  # an audio frame
        assert t["bytes"] == t["music_length"] == len(data) - ID3
        assert t["music_crc_ok"] and t["tag_crc_ok"] and t["toc0"] == 0 and t["toc_monotone"]
        assert media.decode_audio(path, 0, sr, mono=False).shape == (ch, n), n
        assert sf.read(str(path), always_2d=True)[0].shape == (n, ch), n
        if n >= 4000:  # FFmpeg's probe does not take a few frames of MP3 without the extension hint
            pcm = subprocess.run([exe, "-v", "error", "-i", str(path), "-f", "s16le", "-"], capture_output=True,
                                 check=True).stdout
            assert len(pcm) == 2 * ch * n, n


def test_lameenc_is_the_default_and_as_good_as_pyavs(tmp_path: Path) -> None:
    """The default MP3 comes from lameenc (other bytes than PyAV's encoder, same length) and decodes as close to
    the source as PyAV's LAME: SNR within 0.3 dB, sizes within 1 %; the quality setting reaches LAME."""
    x = _noise(1, 44100 * 4, scale=0.05)[0]
    default = media.write_audio(tmp_path / "d.mp3", x, 44100)
    lame = media.write_audio(tmp_path / "l.mp3", x, 44100, mp3_encoder="lameenc")
    pyav = media.write_audio(tmp_path / "p.mp3", x, 44100, mp3_encoder="pyav")
    q2 = media.write_audio(tmp_path / "q2.mp3", x, 44100, compression_level=2)
    assert default.read_bytes() == lame.read_bytes() != pyav.read_bytes()
    assert q2.read_bytes() != default.read_bytes()
    assert abs(default.stat().st_size - pyav.stat().st_size) < 0.01 * pyav.stat().st_size

    def snr(path: Path) -> float:
        y = media.decode_audio(path, 0, 44100)
        assert y.size == x.size
        return float(10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2)))

    assert snr(default) > 15
    assert abs(snr(default) - snr(pyav)) < 0.3


def test_full_scale_and_silence(tmp_path: Path) -> None:
    """Input beyond full scale is clipped (not wrapped around in 16 bits); silence decodes to silence."""
    n = 44100
    square = np.where(np.sin(2 * np.pi * 100 * np.arange(n) / 44100) >= 0, 2.0, -2.0).astype(np.float32)
    y = media.decode_audio(media.write_audio(tmp_path / "sq.mp3", square, 44100), 0, 44100)
    assert y.size == n
    assert np.corrcoef(y[2000:-2000], np.clip(square, -1, 1)[2000:-2000])[0, 1] > 0.95
    z = media.decode_audio(media.write_audio(tmp_path / "z.mp3", np.zeros(n, np.float32), 44100), 0, 44100)
    assert z.size == n and float(np.max(np.abs(z))) < 1e-3


def test_deterministic_in_any_thread_count(tmp_path: Path) -> None:
    """Re-runs give the same bytes; clips cut in 1 or 4 threads are the same bytes as write_audio's."""
    x = _noise(1, 44100 * 6)[0]
    iv = [(0.0, 1.3), (1.0, 2.5), (2.2, 4.0), (3.9, 6.0), (0.5, 0.51)]
    one = media.cut_audio_clips(x, 44100, iv, [tmp_path / f"a{i}.mp3" for i in range(len(iv))], workers=1)
    four = media.cut_audio_clips(x, 44100, iv, [tmp_path / f"b{i}.mp3" for i in range(len(iv))], workers=4)
    for (s, e), a, b in zip(iv, one, four, strict=True):
        n = int(round(e * 44100)) - int(round(s * 44100))
        alone = media.write_audio(tmp_path / "w.mp3", x[int(round(s * 44100)) :][:n], 44100)
        assert a.read_bytes() == b.read_bytes() == alone.read_bytes()
    assert encode_frames(x[None], 44100, 128_000, 5) == encode_frames(x[None], 44100, 128_000, 5)


def test_falls_back_to_pyav_without_lameenc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without lameenc (import error) MP3s come from PyAV's encoder; asking for it by name then, or for an unknown
    encoder, is refused; a rate MP3 lacks goes to PyAV's encoder, which refuses it."""
    import anim400k.media.mp3_lameenc as m

    x = _noise(1, 20_000)[0]
    want = media.write_audio(tmp_path / "p.mp3", x, 44100, mp3_encoder="pyav").read_bytes()
    monkeypatch.setattr(m, "lameenc_available", lambda: False)
    assert media.write_audio(tmp_path / "f.mp3", x, 44100).read_bytes() == want
    with pytest.raises(ValueError, match="lameenc"):
        media.write_audio(tmp_path / "l.mp3", x, 44100, mp3_encoder="lameenc")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="unknown MP3 encoder"):
        media.write_audio(tmp_path / "u.mp3", x, 44100, mp3_encoder="lame")
    assert not m.can_encode(44000, 1) and not m.can_encode(44100, 3) and m.can_encode(44100, 2)
    assert not (tmp_path / "u.mp3").exists() and not (tmp_path / "l.mp3").exists()


def test_crc16_arc_fast_matches() -> None:
    """The vectorised CRC-16/ARC equals the bitwise one at every block boundary and past it."""
    assert g.crc16_arc_fast(b"123456789") == 0xBB3D
    for n in (0, 1, 63, 64, 65, 128, 129, 1000, 4096, 70_001):
        data = os.urandom(n)
        assert g.crc16_arc_fast(data) == g.crc16_arc(data), n


def test_split_frames_refuses_other_bytes() -> None:
    """split_frames walks whole frames only: a cut frame or a tag in the stream is an error."""
    frames = encode_frames(_noise(1, 5000)[None, 0], 44100, 128_000, 5)
    sizes = g.split_frames(frames)
    assert sum(sizes) == len(frames) and len(sizes) >= 5
    with pytest.raises(ValueError, match="no whole MP3 frame"):
        g.split_frames(frames[:-1])
    with pytest.raises(ValueError, match="no whole MP3 frame"):
        g.split_frames(frames + b"TAG" + bytes(125))


def test_mp3_that_ffmpegs_probe_does_not_score_is_read(tmp_path: Path) -> None:
    """4,000 samples of 44.1 kHz stereo noise (written by this module's LAME; PyAV's writes such files too) that
    FFmpeg's probe gives no score: opened as the MP3 its first frame header says it is, exactly 4,000 samples;
    a file named .mp3 that is no MP3 is still refused."""
    import av

    from anim400k.errors import InputError

    path = Path(__file__).parent / "data" / "mp3_unprobed_noise.mp3"
    with pytest.raises(av.InvalidDataError):
        av.open(str(path)).close()
    assert media.decode_audio(path, 0, 44100, mono=False).shape == (2, 4000)
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3" + b"not audio" * 40)
    with pytest.raises(InputError, match="not a media file"):
        media.decode_audio(junk)


@pytest.mark.parametrize("encoder", ["lameenc", "pyav"])
def test_mp3_that_ffmpegs_probe_takes_for_video_is_read(tmp_path: Path, encoder: str) -> None:
    """1,000 samples of 44.1 kHz mono noise at 320k: FFmpeg's probe takes the file for a VVC video stream (no
    audio stream); a file named .mp3 is then opened as MP3 and decodes to exactly its 1,000 samples."""
    import av

    x = (0.2 * np.random.default_rng(1000).standard_normal((1, 1000))).astype(np.float32)
    path = media.write_audio(tmp_path / "short.mp3", x, 44100, bitrate="320k", mp3_encoder=encoder)
    with av.open(str(path)) as c:
        assert not c.streams.audio  # the premise: probed as something else
    assert media.decode_audio(path, 0, 44100, mono=False).shape == (1, 1000)
    assert media.probe(path).audio_streams


@pytest.mark.parametrize(("sr", "ch", "encoder"), [(44100, 1, None), (44100, 1, "pyav"), (16000, 1, None),
                                                   (22050, 2, None), (44100, 2, None)])
def test_ffmpegs_demuxer_accepts_the_tag_crc(tmp_path: Path, sr: int, ch: int, encoder: str | None) -> None:
    """FFmpeg's MP3 demuxer (mp3_parse_info_tag) checks the LAME tag's CRC over the frame up to the CRC field and
    exports the stream's ``encoder`` only when it matches. Its muxer computed the CRC over the first 190 bytes,
    wrong in mono and MPEG-2 frames (every release clip is mono): the demuxer refused the tag of those."""
    import av

    path = media.write_audio(tmp_path / "c.mp3", _noise(ch, sr // 2), sr, bitrate="64k", mp3_encoder=encoder)
    with av.open(str(path)) as c:
        assert c.streams.audio[0].metadata.get("encoder") == "Lavf"
    assert _tag(path.read_bytes())["tag_crc_ok"]
