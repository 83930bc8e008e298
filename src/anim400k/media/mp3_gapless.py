"""MP3 frame headers, the LAME tag that makes an MP3 decode gaplessly, and its end padding made exact.

An MP3 encoder adds silence before (the encoder delay) and after (the padding) the samples it was
given; the LAME tag inside the first (``Info``/``Xing``) frame records both, and decoders (FFmpeg,
libsndfile's mpg123) trim them, so the file decodes back to exactly the samples encoded. FFmpeg's
MP3 muxer writes a wrong padding for some lengths: every length from 53,000 to 53,039 samples at
44.1 kHz (128 kb/s mono) is stated as 53,039, so the clip decodes up to ~40 samples long (also with
the plain ``ffmpeg`` command). :func:`fix_lame_padding` rewrites the padding from the frame count
and the delay the tag states, and the tag's CRC-16 (:func:`lame_tag_crc`).

:func:`lame_info_frame` writes the whole ``Info`` frame, with the LAME extension, for raw LAME frames (the
``lameenc`` encoder's output has none), laid out byte for byte as FFmpeg's MP3 muxer lays it out with
``+bitexact``; :data:`ID3V2_HEADER` is the empty ID3v2.4 tag that muxer writes before it.

The tag's own CRC-16/ARC covers the frame from its header up to the CRC field, as LAME writes it
(``PutLameVBR``) and as FFmpeg's MP3 *demuxer* checks it (``mp3_parse_info_tag``). FFmpeg's *muxer*
takes the frame's first 190 bytes instead, the same bytes only where the tag sits 36 bytes into the frame
(MPEG-1 stereo); in a mono or MPEG-2 frame its CRC covers the CRC field and the bytes after it, and
readers that check it (FFmpeg's demuxer among them: it then leaves out the stream's ``encoder`` and
ReplayGain) find it wrong. Every clip of a release is mono, so this tag differs from FFmpeg's muxer in
those two bytes.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

#: Samples per Layer III frame: MPEG-1 (32-48 kHz), MPEG-2 and 2.5 (8-24 kHz, the 16 kHz backing clips).
FRAME_SAMPLES = {"mpeg1": 1152, "mpeg2": 576}
#: Offset of the LAME extension from the ``Info``/``Xing`` tag, and the fields in it.
_LAME_OFFSET = 120
_DELAY_PADDING = 21
_TAG_CRC = 34
#: LAME's encoder delay (``ENCDELAY``, samples before the first input sample) that the tag states; decoders add
#: their own 529 (FFmpeg skips 576 + 529 samples).
LAME_ENCODER_DELAY = 576
#: The empty ID3v2.4 tag (10 bytes of padding) that FFmpeg's MP3 muxer writes with ``+bitexact``.
ID3V2_HEADER = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)
_XING_OFFSET = {(True, False): 32, (True, True): 17, (False, False): 17, (False, True): 9}  # (MPEG-1, mono)
_TOC_SIZE = 100
_TOC_BAGS = 400  # FFmpeg's XING_NUM_BAGS


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


_CRC_TABLE = np.array([crc16_arc(bytes([i])) for i in range(256)], dtype=np.int64)
_CRC_BLOCK = 64  # bytes per block of the vectorised CRC, at least (about sqrt(size / 16) for large data)


def _zero_bytes_images(n: int) -> np.ndarray:
    """Where each of the 16 single-bit CRC registers goes after ``n`` zero bytes (the map is linear)."""
    regs = (1 << np.arange(16)).astype(np.int64)
    for _ in range(n):
        regs = (regs >> 8) ^ _CRC_TABLE[regs & 0xFF]
    return regs


def _linear_tables(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables (low byte, high byte) of the linear map of 16-bit registers with these bit images."""
    bits = (np.arange(256)[:, None] >> np.arange(8)) & 1
    low = np.bitwise_xor.reduce(np.where(bits == 1, images[:8], 0), axis=1)
    high = np.bitwise_xor.reduce(np.where(bits == 1, images[8:], 0), axis=1)
    return low, high


def crc16_arc_fast(data: bytes) -> int:
    """:func:`crc16_arc` of ``data``, vectorised: the blocks' CRCs (64 bytes or more) at once, then joined
    pairwise (a block's CRC moved past the next block's zero bytes, xor the next block's CRC). Leading zero bytes
    leave a CRC with initial value 0 unchanged, so the data is zero-padded in front to a power of two of blocks."""
    buf = np.frombuffer(data, dtype=np.uint8)
    block = max(_CRC_BLOCK, 1 << int(np.sqrt(buf.size / 16)).bit_length())
    n_blocks = 1 << max(0, -(-buf.size // block) - 1).bit_length()
    padded = np.zeros(n_blocks * block, dtype=np.uint8)
    padded[padded.size - buf.size :] = buf
    columns = np.ascontiguousarray(padded.reshape(n_blocks, block).T)  # row j: byte j of every block
    regs = np.zeros(n_blocks, dtype=np.int64)
    for j in range(block):
        regs = (regs >> 8) ^ _CRC_TABLE[(regs ^ columns[j]) & 0xFF]
    for low, high in _join_tables(block, n_blocks.bit_length() - 1):
        first, second = regs[0::2], regs[1::2]
        regs = low[first & 0xFF] ^ high[first >> 8] ^ second
    return int(regs[0])


@functools.lru_cache(maxsize=32)
def _join_tables(block: int, levels: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The lookup tables that move a CRC past ``block``, 2 x ``block``, 4 x ``block`` ... zero bytes."""
    images = _zero_bytes_images(block)
    out = []
    for _ in range(levels):
        low, high = _linear_tables(images)
        out.append((low, high))
        images = low[images & 0xFF] ^ high[images >> 8]  # the map for blocks twice as long
    return tuple(out)


def lame_tag_crc(frame: bytes, lame: int) -> int:
    """The LAME tag's CRC-16 for the ``Info`` frame ``frame`` whose LAME extension starts at ``lame`` (an offset
    into it): CRC-16/ARC of the frame's bytes before the CRC field (module docstring)."""
    return crc16_arc(bytes(frame[: lame + _TAG_CRC]))


def info_tag_seconds(frame: bytes) -> float | None:
    """Seconds of audio that the ``Info``/``Xing`` tag of an MP3's first frame states; None without one.

    ``frame`` holds the first frame from its 4-byte header on. The tag's frame count (which leaves out the tag's
    own frame) times the samples per frame, less the encoder delay and padding of a LAME extension when there is
    one (an ``LAME``/``Lavc``/``Lavf`` encoder string), over the sample rate: what a gapless decoder returns.
    A tag without a frame count (its flags say so) gives None.
    """
    if mp3_frame_length(frame[:4]) is None:
        return None
    version = (frame[1] >> 3) & 3
    mono = (frame[3] >> 6) == 3
    tag = 4 + _XING_OFFSET[(version == 3, mono)]
    if frame[tag : tag + 4] not in (b"Info", b"Xing") or len(frame) < tag + 12:
        return None
    if not int.from_bytes(frame[tag + 4 : tag + 8], "big") & 1:
        return None
    samples = int.from_bytes(frame[tag + 8 : tag + 12], "big") * FRAME_SAMPLES["mpeg1" if version == 3 else "mpeg2"]
    lame = tag + _LAME_OFFSET
    if frame[lame : lame + 4] in (b"LAME", b"Lavc", b"Lavf") and len(frame) >= lame + _DELAY_PADDING + 3:
        d = frame[lame + _DELAY_PADDING : lame + _DELAY_PADDING + 3]
        samples -= ((d[0] << 4) | (d[1] >> 4)) + (((d[1] & 0x0F) << 8) | d[2])
    return max(samples, 0) / _MP3_RATES[version][(frame[2] >> 2) & 3]


def id3v2_size(head: bytes) -> int:
    """Bytes of the ID3v2 tag that a file's first 10 bytes ``head`` start (its header, body and footer); 0 for none."""
    if head[:3] != b"ID3" or len(head) < 10:
        return 0
    body = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
    return 10 + body + (10 if head[5] & 0x10 else 0)


def stated_seconds(path: str | Path) -> float | None:
    """Seconds of audio the ``Info``/``Xing`` tag of the MP3 file at ``path`` states (:func:`info_tag_seconds`);
    None without a tag, a frame count or a first frame after the ID3v2 tag."""
    with open(path, "rb") as f:
        f.seek(id3v2_size(f.read(10)))
        frame = f.read(4)
        length = mp3_frame_length(frame)
        if length is None:
            return None
        frame += f.read(length - 4)
    return info_tag_seconds(frame)


def fix_lame_padding(path: str | Path, n_samples: int) -> bool:
    """Make the LAME tag of the MP3 at ``path`` state the padding of ``n_samples`` encoded samples, and its
    CRC the one LAME writes (:func:`lame_tag_crc`; FFmpeg's muxer gets it wrong in mono and MPEG-2 frames).

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
    if len(data) < lame + _TAG_CRC + 2 or not has_frame_count:
        return False
    frames = int.from_bytes(data[tag + 8 : tag + 12], "big")
    d = data[lame + _DELAY_PADDING : lame + _DELAY_PADDING + 3]
    delay, padding = (d[0] << 4) | (d[1] >> 4), ((d[1] & 0x0F) << 8) | d[2]
    want = frames * per_frame - delay - n_samples  # the count leaves out the Info frame (no audio)
    if not 0 <= want < 4096:
        return False
    data[lame + _DELAY_PADDING : lame + _DELAY_PADDING + 3] = ((delay << 12) | want).to_bytes(3, "big")
    crc = lame_tag_crc(bytes(data[frame:]), lame - frame).to_bytes(2, "big")
    if want == padding and data[lame + _TAG_CRC : lame + _TAG_CRC + 2] == crc:
        return False
    data[lame + _TAG_CRC : lame + _TAG_CRC + 2] = crc
    with open(path, "r+b") as f:
        f.write(data[: lame + _TAG_CRC + 2])
    return True



def split_frames(data: bytes) -> list[int]:
    """The byte lengths of the Layer III frames that make up ``data`` (raw frames, nothing else).

    Raises ValueError where something other than a whole frame is found (a tag, or a cut frame).
    """
    sizes: list[int] = []
    pos = 0
    while pos < len(data):
        length = mp3_frame_length(data[pos : pos + 4])
        if length is None or length < 5 or pos + length > len(data):
            raise ValueError(f"no whole MP3 frame at byte {pos} of {len(data)}")
        sizes.append(length)
        pos += length
    return sizes


def _xing_toc(frame_sizes: list[int], info_size: int) -> bytes:
    """The Xing table of contents as FFmpeg's muxer builds it (LAME's ``VbrTag.c`` bags of frames)."""
    bags = [0] * _TOC_BAGS
    want, seen, pos, size = 1, 0, 0, info_size
    for length in frame_sizes:
        seen += 1
        size += length
        if seen == want:
            bags[pos] = size
            pos += 1
            if pos == _TOC_BAGS:  # keep every second bag, and count twice as many frames in each from now on
                for i in range(1, _TOC_BAGS, 2):
                    bags[i >> 1] = bags[i]
                want *= 2
                pos = _TOC_BAGS // 2
            seen = 0
    toc = bytearray(_TOC_SIZE)
    for i in range(1, _TOC_SIZE):
        toc[i] = min(256 * bags[i * pos // _TOC_SIZE] // size, 255)
    return bytes(toc)


def lame_info_frame(first_header: bytes, frame_sizes: list[int], music_crc: int, n_samples: int,
                    delay: int = LAME_ENCODER_DELAY) -> bytes:
    """The ``Info`` frame (Xing tag + LAME extension) to put before raw CBR LAME frames.

    ``first_header`` is the first audio frame's 4-byte header (version, rate, bitrate, mode are taken from it),
    ``frame_sizes`` every audio frame's length (:func:`split_frames`), ``music_crc`` the CRC-16/ARC of the audio
    frames' bytes (:func:`crc16_arc`) and ``n_samples`` the samples encoded: the tag states the encoder
    ``delay`` and the end padding ``frames * samples-per-frame - delay - n_samples``, so decoders trim the
    stream back to exactly ``n_samples``. The layout is FFmpeg's (``Lavf`` as the encoder string, the frame
    count, byte count and TOC, the music length and CRC), the tag CRC as LAME computes it (:func:`lame_tag_crc`). Raises
    ValueError when the padding does not fit the tag's 12 bits.
    """
    if mp3_frame_length(first_header) is None or (first_header[1] >> 1) & 3 != 1:
        raise ValueError(f"not an MP3 (Layer III) frame header: {first_header[:4].hex()}")
    version = (first_header[1] >> 3) & 3
    mono = first_header[3] >> 6 == 3
    per_frame = FRAME_SAMPLES["mpeg1" if version == 3 else "mpeg2"]
    padding = len(frame_sizes) * per_frame - delay - n_samples
    if not 0 <= padding < 4096 or not 0 <= delay < 4096:
        raise ValueError(f"encoder delay {delay} and end padding {padding} do not fit the LAME tag")
    offset = 4 + _XING_OFFSET[(version == 3, mono)]
    need = max(offset + _LAME_OFFSET + 36, 190)  # FFmpeg's muxer wants room for 190 bytes
    header = bytearray(first_header[:4])
    header[1] |= 1  # no CRC
    header[2] &= 0xF0 | 0x0C  # bitrate and rate kept; no padding slot, no private bit
    header[3] = 0xC0 if mono else 0x00  # mono, or plain stereo as FFmpeg writes it; no copyright/original bits
    bitrate_index = header[2] >> 4
    while (mp3_frame_length(bytes(header)) or 0) < need:  # a frame too small for the tag: the next bitrate up
        bitrate_index += 1
        if bitrate_index == 15:
            raise ValueError("no MP3 bitrate gives a frame large enough for the LAME tag")
        header[2] = (bitrate_index << 4) | (header[2] & 0x0F)
    size = mp3_frame_length(bytes(header)) or 0
    frame = bytearray(size)
    frame[:4] = header
    tag, lame = offset, offset + _LAME_OFFSET
    total = size + sum(frame_sizes)
    frame[tag : tag + 4] = b"Info"
    frame[tag + 4 : tag + 8] = (0x0F).to_bytes(4, "big")  # frames, bytes, TOC and quality fields present
    frame[tag + 8 : tag + 12] = len(frame_sizes).to_bytes(4, "big")
    frame[tag + 12 : tag + 16] = total.to_bytes(4, "big")
    frame[tag + 16 : tag + 16 + _TOC_SIZE] = _xing_toc(frame_sizes, size)
    frame[lame : lame + 4] = b"Lavf"
    frame[lame + _DELAY_PADDING : lame + _DELAY_PADDING + 3] = ((delay << 12) | padding).to_bytes(3, "big")
    frame[lame + 28 : lame + 32] = total.to_bytes(4, "big")
    frame[lame + 32 : lame + 34] = (music_crc & 0xFFFF).to_bytes(2, "big")
    frame[lame + _TAG_CRC : lame + _TAG_CRC + 2] = lame_tag_crc(bytes(frame), lame).to_bytes(2, "big")
    return bytes(frame)
