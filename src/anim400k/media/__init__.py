"""All audio/video I/O, through PyAV: probe, decode, encode, cut clips, frames, mux.

Import the public functions from here (``from anim400k.media import decode_audio``).
"""

from __future__ import annotations

from .audio import cut_audio_clips, decode_audio, parse_bitrate, write_audio
from .frames import even_size, extract_frames, frame_spans
from .mux import check_mux, mux_audio_track
from .probe import MediaInfo, StreamInfo, normalize_language, probe, select_audio_stream
from .video import cut_video_clips, default_workers, plan_pieces

__all__ = [
    "MediaInfo",
    "StreamInfo",
    "cut_audio_clips",
    "cut_video_clips",
    "default_workers",
    "even_size",
    "extract_frames",
    "frame_spans",
    "plan_pieces",
    "mux_audio_track",
    "check_mux",
    "decode_audio",
    "normalize_language",
    "parse_bitrate",
    "probe",
    "select_audio_stream",
    "write_audio",
]
