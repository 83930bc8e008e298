"""The diarizers' analysis signal: audio resampled to 16 kHz mono float32, and its power per 10 ms frame."""

from __future__ import annotations

import numpy as np

from ..signal import ANALYSIS_SR, prepare_audio

SR = ANALYSIS_SR


#: samples (16 kHz) per frame of :func:`frame_power`
LEVEL_FRAME = 160


def frame_power(x: np.ndarray) -> np.ndarray:
    """Mean power of ``x`` (16 kHz) per ``LEVEL_FRAME`` samples (the last partial frame dropped)."""
    n = len(x) // LEVEL_FRAME
    f = np.asarray(x[: n * LEVEL_FRAME], dtype=np.float32).reshape(n, LEVEL_FRAME)
    return np.einsum("ij,ij->i", f, f) / LEVEL_FRAME


def to_16k(audio: np.ndarray, sr: int) -> np.ndarray:
    """Mono float32 ``audio`` resampled from ``sr`` to 16 kHz (:func:`anim400k.signal.prepare_audio`)."""
    return prepare_audio(audio, sr, SR)
