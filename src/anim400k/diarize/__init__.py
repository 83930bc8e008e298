"""Speaker diarization: who speaks when in an episode's audio track.

``get_diarizer(name, **options).diarize(audio, sr) -> list[Turn]``; backends ``embedded``
(offline, package-shipped models) and ``pyannote`` (``pip install 'anim400k[pyannote]'``).
See ``docs/diarization.md``.
"""

from __future__ import annotations

from .base import Diarizer, Turn, available_diarizers, get_diarizer
from .check import check_diarizer
from .clips import clip_confidence, clip_speakers, speakers_in_interval

__all__ = ["Diarizer", "Turn", "available_diarizers", "check_diarizer", "clip_confidence", "clip_speakers",
           "get_diarizer", "speakers_in_interval"]
