"""MP3 files encoded by the ``lameenc`` wheel's LAME, made gapless with FFmpeg's Info/LAME tag.

``lameenc`` (LGPL-3.0-or-later bindings of LAME 3.100, a compiled module loaded at run time) encodes the
same MP3 as the LAME inside PyAV's wheel at ~0.3x its CPU (docs/media.md), but writes raw frames only: no
``Info`` frame stating the encoder delay and end padding, so a decoder would play 1,105 samples of silence
before the audio and up to ~2,300 after it. :func:`encode_mp3` adds that frame
(:func:`anim400k.media.mp3_gapless.lame_info_frame`, laid out as FFmpeg's muxer writes it, after the same
empty ID3v2 tag), so the file decodes to exactly the samples given with PyAV, the ``ffmpeg`` binary and
libsndfile, as the files PyAV's encoder writes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .mp3_gapless import ID3V2_HEADER, crc16_arc_fast, lame_info_frame, split_frames

#: The sample rates MPEG audio Layer III has (MPEG-1, 2 and 2.5); LAME would resample any other.
MP3_SAMPLE_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_BLOCK = 1 << 16  # samples converted to 16-bit PCM and given to LAME at a time


def lameenc_available() -> bool:
    """Whether the ``lameenc`` module imports."""
    try:
        import lameenc  # noqa: F401
    except ImportError:
        return False
    return True


def can_encode(sr: int, channels: int) -> bool:
    """Whether :func:`encode_mp3` can write ``channels`` channels at ``sr`` Hz (``lameenc`` importable, an MPEG
    rate, mono or stereo); otherwise the caller uses PyAV's encoder, which refuses what MP3 cannot hold."""
    return int(sr) in MP3_SAMPLE_RATES and channels in (1, 2) and lameenc_available()


def pcm16_blocks(data: np.ndarray, block: int = _BLOCK) -> Iterator[bytes]:
    """Interleaved little-endian 16-bit PCM bytes of ``(channels, n)`` floats, ``block`` samples at a time.

    Samples are clipped to -1..1 (NaN read as 0) and scaled by 32767, rounded: as PyAV's ``s16`` frames.
    """
    for i in range(0, data.shape[1], block):
        chunk = np.nan_to_num(np.asarray(data[:, i : i + block], dtype=np.float32))
        pcm = np.rint(np.clip(chunk, -1.0, 1.0) * 32767.0).astype("<i2")
        yield np.ascontiguousarray(pcm.T).tobytes()


def encode_frames(data: np.ndarray, sr: int, bitrate: int, quality: int) -> bytes:
    """LAME's raw CBR frames for ``(channels, n)`` floats at ``sr`` Hz: ``bitrate`` bits/s (LAME takes the
    nearest MP3 bitrate, as PyAV's encoder does), algorithm quality ``quality`` (``lame -q``), no resampling,
    joint stereo for two channels (LAME's default, as FFmpeg's)."""
    import lameenc

    enc = lameenc.Encoder()
    enc.silence()
    enc.set_channels(int(data.shape[0]))
    enc.set_in_sample_rate(int(sr))
    enc.set_out_sample_rate(int(sr))
    enc.set_bit_rate(int(bitrate) // 1000)
    enc.set_quality(int(quality))
    parts = [bytes(enc.encode(b""))]  # starts the encoder, so that an empty input still flushes
    parts += [bytes(enc.encode(pcm)) for pcm in pcm16_blocks(data)]
    parts.append(bytes(enc.flush()))
    return b"".join(parts)


def encode_mp3(path: str | Path, data: np.ndarray, sr: int, bitrate: int, quality: int) -> None:
    """Write ``(channels, n)`` floats to ``path`` as an MP3 that decodes to exactly ``n`` samples.

    The empty ID3v2 tag, the ``Info`` frame (frame count, byte count, TOC, encoder delay 576 and end padding,
    music CRC, tag CRC) and LAME's frames, as FFmpeg's muxer lays them out. ``path`` is written directly:
    callers give a temporary name (:func:`anim400k.media.audio.write_audio`).
    """
    audio = encode_frames(data, sr, bitrate, quality)
    sizes = split_frames(audio)
    if not sizes:
        raise RuntimeError("LAME wrote no MP3 frame")
    info = lame_info_frame(audio[:4], sizes, crc16_arc_fast(audio), int(data.shape[1]))
    with open(path, "wb") as fh:
        fh.write(ID3V2_HEADER)
        fh.write(info)
        fh.write(audio)


__all__ = ["MP3_SAMPLE_RATES", "can_encode", "encode_frames", "encode_mp3", "lameenc_available", "pcm16_blocks"]
