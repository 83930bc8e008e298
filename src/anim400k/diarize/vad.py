"""Speech regions with silero-vad (the package ships its model; nothing is downloaded).

The model and its cache are :mod:`anim400k.signal`'s, run over the whole track at once (its ``sequence``
engine, :mod:`anim400k.silero_sequence`).
"""

from __future__ import annotations

import numpy as np

from ..signal import ANALYSIS_SR, speech_timestamps

VAD_SR = ANALYSIS_SR


def speech_regions(
    audio: np.ndarray,
    sr: int = VAD_SR,
    threshold: float = 0.5,
    min_speech: float = 0.25,
    min_silence: float = 0.15,
    pad: float = 0.03,
    end_threshold: float | None = None,
) -> np.ndarray:
    """Speech regions of mono ``audio`` at 16 kHz as an ``(n, 2)`` array of ``[start, end]`` seconds.

    ``threshold`` is silero's speech probability threshold; regions shorter than ``min_speech``
    are dropped and pauses shorter than ``min_silence`` do not split a region. A region ends where the
    probability falls under ``end_threshold`` (None: silero's ``threshold - 0.15``).
    """
    if sr != VAD_SR:
        raise ValueError(f"speech_regions expects {VAD_SR} Hz audio, got {sr}")
    if audio.size < 512:
        return np.zeros((0, 2))
    return speech_timestamps(audio, threshold=threshold, min_speech_ms=int(min_speech * 1000),
                             min_silence_ms=int(min_silence * 1000), speech_pad_ms=int(pad * 1000),
                             neg_threshold=end_threshold)
