"""PyAV writers for the synthetic media: WAV stems and MKV/MKA episodes, bit-exact and atomic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..fsutil.atomic import atomic_path
from ..media.av_path import av_path
from ..media.video import x264_asm_params
from .video import rgb_to_yuv420p

_BITEXACT = {"fflags": "+bitexact"}
_CODEC_BITEXACT = {"flags": "+bitexact"}


@dataclass(frozen=True, slots=True)
class AudioTrack:
    """One mono audio stream to mux: samples in [-1, 1] at ``sr``, its language tag and title."""

    samples: np.ndarray
    language: str
    title: str


def _to_s16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32767.0), -32768, 32767).astype(np.int16)


def write_wav(path: str | Path, samples: np.ndarray, sr: int) -> None:
    """Write mono float32 PCM WAV (exact samples) atomically through PyAV."""
    x = np.ascontiguousarray(np.asarray(samples, dtype=np.float32).reshape(1, -1))
    with atomic_path(path, sync=False) as tmp:  # media: not fsynced
        with av.open(av_path(tmp), "w", format="wav", options=dict(_BITEXACT)) as out:
            st = out.add_stream("pcm_f32le", rate=sr, layout="mono")
            step = sr
            for i in range(0, x.shape[1], step):
                fr = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(x[:, i : i + step]), format="flt", layout="mono"
                )
                fr.sample_rate, fr.pts = sr, i
                for pkt in st.encode(fr):
                    out.mux(pkt)
            for pkt in st.encode(None):
                out.mux(pkt)


def write_episode_media(
    path: str | Path,
    tracks: Sequence[AudioTrack],
    sr: int,
    frame_fn: Callable[[int], np.ndarray] | None = None,
    n_frames: int = 0,
    fps: int = 25,
    audio_codec: str = "flac",
    subtitles: str | Path | None = None,
    subtitle_language: str = "eng",
) -> None:
    """Mux an optional H.264 video (frames from ``frame_fn``) and FLAC/AAC audio tracks into Matroska.

    Muxing is interleaved in one-second steps; encoder and muxer run bit-exact and
    single-threaded so the same inputs give the same bytes. ``subtitles`` (an SRT file)
    is copied in as a text subtitle stream tagged ``subtitle_language``.
    """
    with atomic_path(path, sync=False) as tmp:  # media: not fsynced
        with av.open(av_path(tmp), "w", format="matroska", options=dict(_BITEXACT)) as out:
            vst = None
            if frame_fn is not None and n_frames > 0:
                first = frame_fn(0)
                vst = out.add_stream(
                    "libx264",
                    rate=Fraction(fps),
                    options={
                        "preset": "ultrafast",
                        "crf": "28",
                        "threads": "1",
                        "x264-params": ":".join(["log=-1", *x264_asm_params()]),
                        **_CODEC_BITEXACT,
                    },
                )
                vst.width, vst.height, vst.pix_fmt = first.shape[1], first.shape[0], "yuv420p"
                vst.codec_context.thread_count = 1
            ast = []
            for tr in tracks:
                st = out.add_stream(audio_codec, rate=sr, layout="mono", options=dict(_CODEC_BITEXACT))
                if audio_codec == "aac":
                    st.bit_rate = 128000
                st.metadata["language"] = tr.language
                st.metadata["title"] = tr.title
                ast.append(st)
            if subtitles is not None:
                copy_subtitles(out, subtitles, subtitle_language)
            data = [
                _to_s16(t.samples) if audio_codec == "flac" else np.asarray(t.samples, np.float32)
                for t in tracks
            ]
            fmt = "s16" if audio_codec == "flac" else "fltp"
            lengths = [len(d) for d in data]
            total_s = max([n / sr for n in lengths] + [n_frames / fps])
            step = 0
            while step < total_s:
                if vst is not None:
                    for k in range(int(step * fps), min(n_frames, int((step + 1) * fps))):
                        vf = av.VideoFrame.from_ndarray(rgb_to_yuv420p(frame_fn(k)), format="yuv420p")
                        vf.pts = k
                        vf.time_base = Fraction(1, fps)
                        for pkt in vst.encode(vf):
                            out.mux(pkt)
                for st, d in zip(ast, data, strict=True):
                    a, b = step * sr, min(len(d), (step + 1) * sr)
                    if a >= b:
                        continue
                    chunk = np.ascontiguousarray(d[a:b].reshape(1, -1))
                    fr = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="mono")
                    fr.sample_rate, fr.pts, fr.time_base = sr, a, Fraction(1, sr)
                    for pkt in st.encode(fr):
                        out.mux(pkt)
                step += 1
            for st in ([vst] if vst is not None else []) + ast:
                for pkt in st.encode(None):
                    out.mux(pkt)


def copy_subtitles(out: av.container.OutputContainer, srt: str | Path, language: str | None = "eng") -> None:
    """Remux the events of an SRT file into ``out`` as a subtitle stream (no re-encoding), tagged
    ``language`` (None: untagged). PyAV cannot encode text subtitles, but it can copy their packets."""
    with av.open(av_path(srt)) as src:
        ins = src.streams.subtitles[0]
        st = out.add_stream_from_template(ins)
        if language is not None:
            st.metadata["language"] = language
            st.metadata["title"] = "English subtitles" if language == "eng" else language
        for pkt in src.demux(ins):
            if pkt.dts is None:
                continue
            pkt.stream = st
            out.mux(pkt)
