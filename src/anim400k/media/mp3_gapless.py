"""MP3 frame headers, and the end padding that an MP3's LAME tag states, made exact.

An MP3 encoder adds silence before (the encoder delay) and after (the padding) the samples it was
given; the LAME tag inside the first (``Info``/``Xing``) frame records both, and decoders (FFmpeg,
libsndfile's mpg123) trim them, so the file decodes back to exactly the samples encoded. FFmpeg's
MP3 muxer writes a wrong padding for some lengths: every length from 53,000 to 53,039 samples at
44.1 kHz (128 kb/s mono) is stated as 53,039, so the clip decodes up to ~40 samples long (also with
the plain ``ffmpeg`` command). :func:`fix_lame_padding` rewrites the padding from the frame count
and the delay the tag states, and the tag's CRC-16 the way FFmpeg's muxer computes it (CRC-16/ARC
over the frame's first 190 bytes, the CRC field zero), so FFmpeg and libsndfile read it as before.
"""

from __future__ import annotations

from pathlib import Path

#: Samples per Layer III frame: MPEG-1 (32-48 kHz), MPEG-2 and 2.5 (8-24 kHz, the 16 kHz backing clips).
FRAME_SAMPLES = {"mpeg1": 1152, "mpeg2": 576}
#: Offset of the LAME extension from the ``Info``/``Xing`` tag, and the fields in it.
_LAME_OFFSET = 120
_DELAY_PADDING = 21
_TAG_CRC = 34
_CRC_SPAN = 190


_MP3_BITRATES = {  # kbit/s by index, Layer III: MPEG-1, and MPEG-2/2.5
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frame_length(header: bytes) -> int | None:
    """Bytes of the MP3 frame whose 4-byte header this is (4 when not Layer III); None if not a frame header."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    rate_index, bitrate_index, padding = (header[2] >> 2) & 3, header[2] >> 4, (header[2] >> 1) & 1
    if version == 1 or layer == 0 or rate_index == 3 or bitrate_index == 15:
        return None
    if layer != 1 or bitrate_index == 0:  # Layer I/II or a free-format stream: the header is all we check
        return 4
    kbps = _MP3_BITRATES[3 if version == 3 else 2][bitrate_index]
    return (144 if version == 3 else 72) * kbps * 1000 // _MP3_RATES[version][rate_index] + padding


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC (reflected polynomial 0xA001, initial 0): the LAME tag's checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def fix_lame_padding(path: str | Path, n_samples: int) -> bool:
    """Make the LAME tag of the MP3 at ``path`` state the padding of ``n_samples`` encoded samples.

    Returns True when the file was changed. Files without a LAME tag in their first frame (another
    encoder), or whose right padding would not fit the tag's 12 bits, are left alone.
    """
    path = Path(path)
    data = bytearray(path.read_bytes()[: 1 << 16])
    tag = max(data.find(b"Info"), data.find(b"Xing"))
    if tag < 0:
        return False
    starts = [i for i in range(max(0, tag - 40), tag) if mp3_frame_length(bytes(data[i : i + 4])) is not None]
    if not starts:
        return False
    frame = starts[-1]
    per_frame = FRAME_SAMPLES["mpeg1" if (data[frame + 1] >> 3) & 3 == 3 else "mpeg2"]
    lame = tag + _LAME_OFFSET
    has_frame_count = int.from_bytes(data[tag + 4 : tag + 8], "big") & 1
    if len(data) < max(lame + _TAG_CRC + 2, frame + _CRC_SPAN) or not has_frame_count:
        return False
    frames = int.from_bytes(data[tag + 8 : tag + 12], "big")
    d = data[lame + _DELAY_PADDING : lame + _DELAY_PADDING + 3]
    delay, padding = (d[0] << 4) | (d[1] >> 4), ((d[1] & 0x0F) << 8) | d[2]
    want = frames * per_frame - delay - n_samples  # the count leaves out the Info frame (no audio)
    if want == padding or not 0 <= want < 4096:
        return False
    data[lame + _DELAY_PADDING : lame + _DELAY_PADDING + 3] = ((delay << 12) | want).to_bytes(3, "big")
    data[lame + _TAG_CRC : lame + _TAG_CRC + 2] = b"\0\0"
    data[lame + _TAG_CRC : lame + _TAG_CRC + 2] = crc16_arc(bytes(data[frame : frame + _CRC_SPAN])).to_bytes(2, "big")
    with open(path, "r+b") as f:
        f.write(data[: lame + _TAG_CRC + 2])
    return True

