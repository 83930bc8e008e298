"""Decode an audio stream once to float32 at a rate; encode arrays to WAV/FLAC/MP3/M4A."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil.atomic import atomic_path
from ..signal import fit_length as _fit_length  # media/video.py and mux.py import it from here
from .av_path import av_path
from .blocks import BlockJoiner
from .mp3_gapless import stated_seconds
from .probe import StreamInfo, container_origin, open_input, probe, select_audio_stream, timeline_length
from .scratch import FileSink

log = logging.getLogger(__name__)

#: where the decoder's pieces are gathered: in memory or in a temporary file
Sink = BlockJoiner | FileSink

# Containers whose header duration is exact (so a much shorter decode means a truncated file).
_EXACT_DURATION_FORMATS = ("matroska", "webm", "mov", "mp4", "wav", "flac", "ogg")
_MAX_PADDING = 0.5  # s: decoded audio beyond the header's stream end, up to this, is encoder padding
_GAP_TOLERANCE = 0.02  # s: a jump in audio timestamps larger than this is filled with silence

# extension -> (container format, codec, sample format, default bitrate)
_AUDIO_FORMATS: dict[str, tuple[str, str, str, int | None]] = {
    ".wav": ("wav", "pcm_s16le", "s16", None),
    ".flac": ("flac", "flac", "s16", None),
    ".mp3": ("mp3", "libmp3lame", "fltp", 128_000),
    ".m4a": ("ipod", "aac", "fltp", 128_000),
    ".aac": ("adts", "aac", "fltp", 128_000),
    ".mp4": ("mp4", "aac", "fltp", 128_000),
}


def parse_bitrate(bitrate: str | int | None) -> int | None:
    """``"128k"`` -> 128000; ints pass through; ``None`` stays ``None``."""
    if bitrate is None or isinstance(bitrate, int):
        return bitrate
    b = bitrate.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(b[-1:], 1)
    return int(float(b.rstrip("km")) * scale)


# Downmix weight of each channel (by FFmpeg name); LFE is left out, unknown names get 0.707.
_DOWNMIX_WEIGHTS = {"FL": 1.0, "FR": 1.0, "FC": 0.7071, "LFE": 0.0, "LFE2": 0.0}


def downmix_weights(channel_names: Sequence[str]) -> np.ndarray:
    """Normalised mono-downmix weights (sum 1, so a full-scale input never clips).

    Stereo gives ``(L + R) / 2``; 5.1 weights fronts 1, centre and surrounds 0.707, LFE 0.
    """
    return _normalised([_DOWNMIX_WEIGHTS.get(name, 0.7071) for name in channel_names])


def _normalised(weights: Sequence[float]) -> np.ndarray:
    w = np.array(weights, dtype=np.float32)
    if not w.sum():
        w = np.ones(len(weights), dtype=np.float32)
    return w / w.sum()


# The mono downmix of :func:`decode_audio`: the sum of the two channels of the ITU-R BS.775 stereo downmix
# (Lo = L + 0.707 C + 0.707 Ls, Ro = R + 0.707 C + 0.707 Rs), which is FFmpeg's (swresample's) mono downmix too.
_DIALOGUE_WEIGHTS = {**_DOWNMIX_WEIGHTS, "FC": 1.4142}


def dialogue_downmix_weights(channel_names: Sequence[str]) -> np.ndarray:
    """Normalised mono-downmix weights that keep a surround mix's dialogue where a stereo downmix has it.

    Stereo gives ``(L + R) / 2``; 5.1 weights fronts 1, centre 1.414, surrounds 0.707, LFE 0 (the sum of the
    BS.775 stereo downmix's channels, as FFmpeg downmixes to mono), normalised to sum 1. A 5.1 mix keeps its
    dialogue in the centre: :func:`decode_audio` (the build's analysis audio and clips, ``dub``'s source mix)
    weighed it 0.707 (:func:`downmix_weights`, as a surround), 6 dB lower against the music than a stereo
    downmix puts it.
    """
    return _normalised([_DIALOGUE_WEIGHTS.get(name, 0.7071) for name in channel_names])


# BS.1770 loudness weight of each channel (by FFmpeg name): surrounds 1.41, LFE 0, others 1.
_SURROUNDS = ("SL", "SR")
_BACKS = ("BL", "BR")


def default_layout_names(n_channels: int) -> list[str]:
    """FFmpeg's channel names of its default layout for ``n_channels`` (``av_channel_layout_default``: 6 is
    5.1, ``FL FR FC LFE BL BR``); ``NONE`` each for a count with no default layout."""
    import av

    try:
        return [c.name for c in av.AudioLayout(f"{int(n_channels)}c").channels]
    except (ValueError, av.FFmpegError):
        return ["NONE"] * int(n_channels)


def channel_names(stream: StreamInfo) -> list[str]:
    """FFmpeg's names of an audio stream's channels in decoding order (``FL FR FC LFE SL SR`` for 5.1).

    A stream that says how many channels it has but not which (a WAV without a channel mask, as libsndfile
    writes: FFmpeg's ``6 channels``, every channel ``NONE``) is read in FFmpeg's default layout for that
    count (:func:`default_layout_names`), as FFmpeg's own downmix reads it: six unnamed channels are 5.1, so
    the LFE is left out of the loudness and the downmix and the surrounds weigh as surrounds.
    """
    import av

    names: list[str] = []
    if stream.layout:
        try:
            names = [c.name for c in av.AudioLayout(stream.layout).channels]
        except (ValueError, av.FFmpegError):
            names = []
    return named_channels(names or ["NONE"] * int(stream.channels or 1))


def named_channels(names: Sequence[str]) -> list[str]:
    """``names`` (FFmpeg's, of a layout in decoding order), or FFmpeg's default layout of as many channels
    when none is named (a layout of unspecified order: every name ``NONE``)."""
    names = list(names)
    return default_layout_names(len(names)) if names and all(n == "NONE" for n in names) else names


def decoded_channel_names(stream: StreamInfo, n_channels: int) -> list[str]:
    """FFmpeg's names of the ``n_channels`` channels decoded from ``stream``: :func:`channel_names`, or the
    default layout of that many channels where the decoder's count differs from the header's."""
    names = channel_names(stream)
    return names if len(names) == n_channels else default_layout_names(n_channels)


def loudness_weights(channel_names: Sequence[str]) -> list[float]:
    """BS.1770 channel weights for :func:`anim400k.signal.loudness`: 1.0 for front channels (L, R, C),
    1.41 for the surrounds (side, or back when the layout has no side pair, as 5.1(back)), 0 for LFE."""
    names = list(channel_names)
    surrounds = _SURROUNDS if any(n in _SURROUNDS for n in names) else _BACKS
    return [0.0 if n.startswith("LFE") else 1.41 if n in surrounds else 1.0 for n in names]


def decode_audio(
    path: str | Path,
    stream: str | int = 0,
    sr: int = 16000,
    mono: bool = True,
    start: float | None = None,
    end: float | None = None,
    on_disk: bool = False,
) -> np.ndarray:
    """Decode one audio stream of ``path`` to float32 at ``sr`` Hz in a single pass.

    ``stream`` is a language tag (``"jpn"``, ``"en"`` ...) or an index among audio streams.
    Sample 0 is time ``start`` (default 0) of the container timeline: a stream that starts
    late is padded with silence, gaps in its timestamps are filled. Returns shape ``(n,)``
    when ``mono`` (channels are downmixed by :func:`dialogue_downmix_weights`: a 5.1 centre weighs 1.414, as in
    a stereo downmix) else ``(channels, n)``. Raises :class:`InputError`
    for missing/undecodable/truncated files and files without that stream.

    ``on_disk`` writes the samples to an unnamed temporary file as they are decoded and returns a
    read-only memory map of it (:class:`~.scratch.FileSink`): the same samples, held as page cache the
    system may drop instead of the process's memory (the cut stage's 44.1 kHz tracks of a movie).
    """
    info = probe(path)
    chosen = select_audio_stream(info, stream)
    t0 = max(0.0, float(start or 0.0))
    if end is not None and end <= t0:
        raise InputError(f"empty audio range: start {t0} >= end {end}", path)
    with open_input(path) as container:
        st = container.streams[chosen.index]
        chunks, n_channels = _decode_stream(container, st, sr, mono, t0, end, FileSink() if on_disk else None)
        expected = _expected_duration(container, _tagged_duration(st) or info.duration, t0, end)
        if expected is None and "mp3" in (container.format.name or "").split(","):
            expected = _mp3_expected_duration(path, t0, end)
        stream_end = _stream_end(container, st)
    out = chunks.join(n_channels)  # about one copy of the track at a time (media.blocks), or a file's map
    if end is not None:
        out = _fit_length(out, int(round((end - t0) * sr)))
    elif stream_end is not None and 0 <= out.shape[1] / sr - (stream_end - t0) < _MAX_PADDING:
        out = out[:, : max(0, int(round((stream_end - t0) * sr)))]  # drop encoder end padding
    _check_complete(path, out.shape[1] / sr, expected)
    if out.shape[1] == 0 and end is None:
        where = f" after {t0:g} s" if t0 > 0 else ""
        raise InputError(f"no audio decoded{where}: the audio stream is empty or truncated", path)
    return out[0] if mono else out


def _decode_stream(
    container: Any, st: Any, sr: int, mono: bool, t0: float, end: float | None, sink: Sink | None = None
) -> tuple[Sink, int]:
    """Demux+decode+resample one stream; the pieces are (channels, n) float32 on the t0-based grid.

    They are gathered in a :class:`~.blocks.BlockJoiner` (frames merged into ~1 MB blocks as they come,
    those into 64 MB ones), so joining them needs about one copy of the track, not two; or in ``sink``.
    """
    import av

    origin = container_origin(container)
    resampler: Any = None
    weights: np.ndarray | None = None
    chunks: Sink = BlockJoiner() if sink is None else sink
    written = 0  # samples on the output grid so far
    stop = None if end is None else int(round((end - t0) * sr))
    if t0 > 0:
        container.seek(int((t0 + origin) * 1_000_000), backward=True, any_frame=False)
    n_channels = 1 if mono else (st.codec_context.channels or 1)
    frame_t: float | None = None
    for frame in container.decode(st):
        if resampler is None:
            # interleaved: PyAV 18 reads 8 or more planes of a planar frame past their pointers (a segfault)
            resampler = av.AudioResampler(format="flt", layout=frame.layout.name, rate=sr)
            if mono and frame.layout.nb_channels > 1:
                weights = dialogue_downmix_weights(named_channels([c.name for c in frame.layout.channels]))
        if frame_t is None:  # the earliest frame whose samples are not out yet anchors the next output
            frame_t = (float(frame.pts * frame.time_base) - origin) if frame.pts is not None else None
        for out in resampler.resample(frame):
            written = _append(chunks, _mix(_channels(out), weights), written, frame_t, t0, sr)
            frame_t = None  # only the first output of a frame is anchored to its pts
        # (a frame the resampler gives nothing for yet, an MP3's first 47 samples after LAME's delay, keeps its
        # time for the output that holds its samples: anchored to the next frame's, that output started ~1 ms
        # late at 16 kHz, with zeros before it)
        if stop is not None and written >= stop:
            break
    if resampler is not None:
        for out in resampler.resample(None):
            written = _append(chunks, _mix(_channels(out), weights), written, None, t0, sr)
    n_channels = chunks.first_channels() or n_channels
    return chunks, n_channels


def _channels(frame: Any) -> np.ndarray:
    """An interleaved (``flt``) frame's samples as ``(channels, n)`` float32 (one copy; as the planar frame's)."""
    return np.ascontiguousarray(frame.to_ndarray().reshape(-1, frame.layout.nb_channels).T)


def _mix(data: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Downmix a ``(channels, n)`` block with ``weights`` (``None``: unchanged)."""
    return data if weights is None else (weights @ data)[None, :]


def _append(
    chunks: Sink, data: np.ndarray, written: int, frame_t: float | None, t0: float, sr: int
) -> int:
    """Place ``data`` on the output grid: pad leading silence/gaps, drop samples before ``t0``."""
    data = np.asarray(data, dtype=np.float32)
    if frame_t is not None:
        target = int(round((frame_t - t0) * sr))  # where this chunk should start
        if target - written > _GAP_TOLERANCE * sr or (written == 0 and target > 0):
            chunks.append(np.zeros((data.shape[0], target - written), np.float32))
            written = target
        elif written == 0 and target < 0:
            data = data[:, min(-target, data.shape[1]) :]
    if data.shape[1]:
        chunks.append(data)
    return written + data.shape[1]


def _tagged_duration(st: Any) -> float | None:
    """A stream's own duration from its ``DURATION`` tag (Matroska writes one per track), if any.

    In a file whose streams differ in length (e.g. a dub track shorter than the video) the
    container's duration is the longest stream's, so each stream is checked against its own.
    """
    tag = (st.metadata or {}).get("DURATION") or (st.metadata or {}).get("duration")
    if not tag:
        return None
    try:
        h, m, sec = str(tag).split(":")
        return timeline_length(st.container, int(h) * 3600 + int(m) * 60 + float(sec))
    except ValueError:
        return None


def _expected_duration(container: Any, duration: float | None, t0: float, end: float | None) -> float | None:
    """How long the decode should be, when the container's header can be trusted."""
    fmt = container.format.name or ""
    if duration is None or not any(name in fmt.split(",") for name in _EXACT_DURATION_FORMATS):
        return None
    stop = duration if end is None else min(end, duration)
    return max(0.0, stop - t0)


def _mp3_expected_duration(path: str | Path, t0: float, end: float | None) -> float | None:
    """How long an MP3's decode should be when its ``Info``/``Xing`` tag counts its frames (LAME and FFmpeg write
    one): a file cut short keeps the tag, so a half file decoded to half the audio without a word. Without a tag
    FFmpeg estimates the length from the file's size, which a cut file shares."""
    try:
        stated = stated_seconds(path)
    except OSError:
        return None
    if stated is None:
        return None
    return max(0.0, (stated if end is None else min(end, stated)) - t0)


def _stream_end(container: Any, st: Any) -> float | None:
    """End time of ``st`` on the container timeline when the header states it exactly."""
    fmt = (container.format.name or "").split(",")
    if st.duration is None or st.time_base is None or not any(f in fmt for f in _EXACT_DURATION_FORMATS):
        return None
    return float((st.duration + (st.start_time or 0)) * st.time_base) - container_origin(container)


#: decoded audio this much shorter than its header says (s, and share of it) is an error: the file is cut short
TRUNCATED_S, TRUNCATED_SHARE = 1.0, 0.1
#: ... and this much shorter a warning (the header's duration may be the container's, a longer video's)
SHORT_WARN_S, SHORT_WARN_SHARE = 1.0, 0.01


def _check_complete(path: str | Path, got: float, expected: float | None) -> None:
    """Refuse audio that decoded :data:`TRUNCATED_SHARE` (and :data:`TRUNCATED_S`) short of what the header says;
    warn of audio :data:`SHORT_WARN_SHARE` (and :data:`SHORT_WARN_S`) short: a file cut at 92 % of 60 s went
    through without a word (on a 24-minute episode up to 2.4 minutes could be missing)."""
    if expected is None:
        return
    if got < expected - max(TRUNCATED_S, TRUNCATED_SHARE * expected):
        raise InputError(
            f"truncated or corrupt media: decoded {got:.1f} s of audio, header says {expected:.1f} s", path
        )
    if got < expected - max(SHORT_WARN_S, SHORT_WARN_SHARE * expected):
        log.warning("%s: decoded %.1f s of audio where the header says %.1f s: the file may be cut short "
                    "(the end of the audio is missing)", path, got, expected)


#: LAME's algorithm quality (``lame -q``) for MP3 files unless asked otherwise. 5 instead of LAME's
#: default 3: 0.89x the CPU on the clips of a synthetic episode (102 clips of JP and EN speech with
#: music, 128 kb/s mono) with the same size and, against the clips' source samples, SNR 25.72 vs
#: 25.75 dB, the same SNR in the 0-4 / 4-8 / 8-16 kHz bands within 0.1 dB and log-spectral distance
#: 7.357 vs 7.344 dB. ``-q 7`` took 0.62x the CPU but its log-spectral distance grew by 2.3 dB (noise
#: in quiet high bands): not taken (``benchmarks/bench_clip_encoders.py``, docs/media.md).
MP3_COMPRESSION_LEVEL = 5


def _audio_format(path: Path) -> tuple[str, str, str, int | None]:
    """The container, codec, sample format and default bitrate :func:`write_audio` uses for ``path``'s
    extension; :class:`InputError` naming ``path`` for an extension it cannot write."""
    spec = _AUDIO_FORMATS.get(path.suffix.lower())
    if spec is None:
        said = f"unsupported audio extension '{path.suffix}'" if path.suffix else "no file extension to tell the format"
        raise InputError(f"{said} (use {', '.join(_AUDIO_FORMATS)})", path)
    return spec


def check_audio_output(path: str | Path) -> None:
    """Refuse, before any work, an audio output that :func:`write_audio` could not write: an extension
    it has no encoder for (``.ogg``, none) or a place where no file can be created
    (:func:`anim400k.fsutil.writable.check_output_file`). Both name ``path``."""
    from ..fsutil.writable import check_output_file

    if Path(path).is_dir():  # a folder was 'no file extension to tell the format', saying nothing of what it is
        check_output_file(path)
    _audio_format(Path(path))
    check_output_file(path)


#: Who encodes MP3: ``lameenc`` (the ``lameenc`` wheel's LAME 3.100, ~0.3x the CPU of PyAV's; mono or stereo at
#: an MPEG rate) or ``pyav`` (the LAME in PyAV's wheel, through FFmpeg). ``None`` (the default): ``lameenc``
#: where it can, PyAV's otherwise (``lameenc`` not installed, more than two channels, another rate).
MP3_ENCODERS = ("lameenc", "pyav")


#: ``write_audio(float_wav=True)``'s ``.wav``: 32-bit float samples (as :data:`_AUDIO_FORMATS`' entries)
_FLOAT_WAV = ("wav", "pcm_f32le", "flt", None)
#: the formats whose files :func:`write_audio` can tag with a ``comment`` (a RIFF INFO ``ICMT``, a FLAC Vorbis
#: comment, an MP4 ``©cmt`` atom; not a raw ADTS stream, nor the MP3s ``lameenc`` writes)
COMMENT_FORMATS = ("wav", "flac", "ipod", "mp4")


def write_audio(path: str | Path, samples: np.ndarray, sr: int, bitrate: str | int | None = None,
                compression_level: int | None = None, mp3_encoder: str | None = None,
                comment: str | None = None, float_wav: bool = False) -> Path:
    """Encode ``samples`` (float32 ``(n,)`` or ``(channels, n)``, -1..1) to ``path`` atomically.

    The format comes from the extension: ``.wav`` (16-bit PCM), ``.flac``, ``.mp3`` (LAME),
    ``.m4a``/``.mp4`` (AAC), ``.aac`` (ADTS). Bit-exact flags are set so re-runs give identical
    bytes. ``compression_level`` is the encoder's (FFmpeg's ``compression_level``: for MP3 LAME's
    algorithm quality ``-q``, 0 best/slowest .. 9 fastest; ``None``: :data:`MP3_COMPRESSION_LEVEL`
    for MP3, the encoder's default otherwise). ``mp3_encoder`` picks the MP3 encoder
    (:data:`MP3_ENCODERS`; ``None``: ``lameenc`` where it can). Either way an MP3 decodes to exactly
    the samples given (its LAME tag states the encoder delay and end padding). ``comment`` is written as the
    file's comment tag where the format has one (:data:`COMMENT_FORMATS`; :func:`audio_comment` reads it back):
    a command's mark on its output, so that a re-run knows the file for its own. ``float_wav`` writes a ``.wav``
    as 32-bit float samples (values past full scale kept, not clipped: a stem before the mastering limiter).
    Returns ``path``.
    """
    path = Path(path)
    spec = _audio_format(path)
    if float_wav and spec[0] == "wav":
        spec = _FLOAT_WAV
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or data.shape[0] > 8:
        raise ValueError(f"samples must be (n,) or (channels, n), got shape {np.shape(samples)}")
    if mp3_encoder is not None and mp3_encoder not in MP3_ENCODERS:
        raise ValueError(f"unknown MP3 encoder {mp3_encoder!r} (use {', '.join(MP3_ENCODERS)})")
    if compression_level is None and spec[1] == "libmp3lame":
        compression_level = MP3_COMPRESSION_LEVEL
    with atomic_path(path, sync=False) as tmp:  # media: not fsynced (docs/architecture.md)
        if spec[1] == "libmp3lame" and mp3_encoder != "pyav" and _lameenc_can(sr, data.shape[0], mp3_encoder):
            from .mp3_lameenc import encode_mp3

            encode_mp3(tmp, data, sr, parse_bitrate(bitrate) or spec[3] or 128_000, int(compression_level))
        else:
            _encode_audio_file(tmp, data, sr, spec, parse_bitrate(bitrate), compression_level,
                               comment if spec[0] in COMMENT_FORMATS else None)
    return path


def takes_comment(path: str | Path) -> bool:
    """Whether :func:`write_audio` writes ``path``'s format with a comment tag (:data:`COMMENT_FORMATS`)."""
    spec = _AUDIO_FORMATS.get(Path(path).suffix.lower())
    return spec is not None and spec[0] in COMMENT_FORMATS


def audio_comment(path: str | Path) -> str | None:
    """The comment tag of an audio file (:func:`write_audio`'s ``comment``), or None (none, or not media)."""
    from ..errors import AnimError

    try:
        with open_input(path) as container:
            value = container.metadata.get("comment")
    except (AnimError, OSError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _lameenc_can(sr: int, channels: int, asked: str | None) -> bool:
    """Whether ``lameenc`` writes this MP3; a ``ValueError`` where it was asked for and cannot."""
    from .mp3_lameenc import can_encode

    if can_encode(sr, channels):
        return True
    if asked == "lameenc":
        raise ValueError(f"the lameenc MP3 encoder cannot write {channels} channels at {sr} Hz (or is not installed)")
    return False


def _encode_audio_file(
    tmp: Path, data: np.ndarray, sr: int, spec: tuple[str, str, str, int | None], bitrate: int | None,
    compression_level: int | None = None, comment: str | None = None,
) -> None:
    import av

    fmt, codec, sample_fmt, default_rate = spec
    with av.open(av_path(tmp), "w", format=fmt, options={"fflags": "+bitexact"}) as out:
        if comment:
            out.metadata["comment"] = comment
        stream = add_audio_stream(out, codec, sr, data.shape[0], bitrate or default_rate, compression_level)
        encode_audio(out, stream, data, sample_fmt, clip=spec != _FLOAT_WAV)
    if codec == "libmp3lame":  # FFmpeg states a wrong end padding for some lengths: decode exact
        from .mp3_gapless import fix_lame_padding

        fix_lame_padding(tmp, data.shape[1])


#: FFmpeg's AAC encoder uses its ``fast`` coder (constant quantizer) from this many bits/s per channel on:
#: FFmpeg documents it as better and much faster than the default ``twoloop`` at high bitrates, and
#: on 30 s of the synthetic JP mix, EN mix and backing at 128 kb/s mono it took 0.47-0.54x the CPU
#: with a higher SNR in every band (0-4 / 4-10 / 10-16 kHz: +8.5 to +10.3 / +3.5 to +10.4 /
#: +2.7 to +7.2 dB) and files 3-20 % smaller (docs/media.md).
AAC_FAST_CODER_BITRATE = 64_000


def add_audio_stream(out: Any, codec: str, sr: int, channels: int, bitrate: int | None,
                     compression_level: int | None = None) -> Any:
    """Add an audio encoder stream with bit-exact flags to an open output container.

    AAC at :data:`AAC_FAST_CODER_BITRATE` or more per channel uses FFmpeg's ``fast`` coder.
    ``compression_level`` (if given) is passed to the encoder (LAME: its ``-q``).
    """
    import av

    layout = {1: "mono", 2: "stereo"}.get(channels) or av.AudioLayout(f"{int(channels)}c").name
    options = {}
    if codec == "aac" and (bitrate or 128_000) >= AAC_FAST_CODER_BITRATE * max(1, channels):
        options["aac_coder"] = "fast"
    if compression_level is not None:
        options["compression_level"] = str(int(compression_level))
    stream = out.add_stream(codec, rate=sr, layout=layout, options=options)
    if bitrate and not codec.startswith(("pcm", "flac")):
        stream.codec_context.bit_rate = bitrate
    stream.codec_context.flags |= av.codec.context.Flags.bitexact
    stream.time_base = Fraction(1, sr)
    return stream


def audio_frames(
    data: np.ndarray, sr: int, layout: str, sample_fmt: str = "fltp", block: int = 1 << 16, first_pts: int = 0,
    length: int | None = None, clip: bool = True,
) -> Iterator[Any]:
    """Yield PyAV frames (``block`` samples each, pts in 1/sr from ``first_pts``) from ``(channels, n)`` floats.

    With ``length`` the samples are ``data`` trimmed or zero-padded to ``length`` (block by block, no copy
    of the whole track is made). ``clip`` keeps them within full scale (off only for a float file)."""
    import av

    total = data.shape[1] if length is None else int(length)
    for i in range(0, total, block):
        chunk = data[:, i : min(i + block, total)]
        chunk = np.clip(chunk, -1.0, 1.0) if clip or sample_fmt == "s16" else chunk
        want = min(block, total - i)
        if chunk.shape[1] < want:
            chunk = np.pad(chunk, ((0, 0), (0, want - chunk.shape[1])))
        if sample_fmt == "s16":
            arr = np.ascontiguousarray((chunk.T * 32767.0).round().astype(np.int16).reshape(1, -1))
        else:
            sample_fmt, arr = "fltp", np.ascontiguousarray(chunk)
        frame = av.AudioFrame.from_ndarray(arr, format=sample_fmt, layout=layout)
        frame.sample_rate = sr
        frame.pts = first_pts + i
        frame.time_base = Fraction(1, sr)
        yield frame


def encode_audio(out: Any, stream: Any, data: np.ndarray, sample_fmt: str | None = None, clip: bool = True) -> None:
    """Encode a ``(channels, n)`` float32 array into ``stream`` of ``out`` and flush the encoder (``clip``: within
    full scale; off only for a float file)."""
    cc = stream.codec_context
    fmt = sample_fmt or ("s16" if cc.format.name.startswith("s16") else "fltp")
    for frame in audio_frames(data, cc.sample_rate, cc.layout.name, fmt, clip=clip):
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def cut_audio_clips(
    samples: np.ndarray,
    sr: int,
    intervals: Sequence[tuple[float, float]],
    out_paths: Sequence[str | Path],
    bitrate: str | int | None = "128k",
    workers: int | None = None,
    compression_level: int | None = None,
    on_clip: Callable[[Path], None] | None = None,
    mp3_encoder: str | None = None,
) -> list[Path]:
    """Slice one decoded array into clips and encode each (format from each path's extension).

    ``intervals`` are ``(start, end)`` seconds on the array's timeline (sample 0 = 0 s); a clip
    running past the array's end is padded with silence. Encoders run in ``workers`` threads
    (PyAV and lameenc release the GIL while encoding; default: :func:`anim400k.threads.task_threads`, at
    most 4). ``compression_level`` and ``mp3_encoder`` go to every encoder (see :func:`write_audio`). ``on_clip`` is
    called with each clip's path once it is written (from the encoding threads). Returns the paths.
    """
    if len(intervals) != len(out_paths):
        raise ValueError(f"{len(intervals)} intervals but {len(out_paths)} output paths")
    data = np.asarray(samples, dtype=np.float32)
    for (start, end), out in zip(intervals, out_paths, strict=True):
        if not 0 <= start < end:
            raise ValueError(f"clip {out}: bad interval ({start}, {end})")

    def encode(job: tuple[tuple[float, float], str | Path]) -> Path:
        (start, end), out = job
        a = int(round(start * sr))
        n = int(round(end * sr)) - a
        written = write_audio(out, _fit_length(data[..., a : a + n], n), sr, bitrate=bitrate,
                              compression_level=compression_level, mp3_encoder=mp3_encoder)
        if on_clip is not None:
            on_clip(written)
        return written

    from ..threads import task_threads, thread_map

    return thread_map(encode, zip(intervals, out_paths, strict=True), task_threads(4) if workers is None else workers,
                      "audio-clip")


__all__ = ["audio_comment", "channel_names", "cut_audio_clips", "decode_audio", "decoded_channel_names",
           "default_layout_names", "dialogue_downmix_weights", "loudness_weights", "parse_bitrate", "takes_comment",
           "write_audio"]
