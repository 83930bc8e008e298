"""Speech regions with silero-vad (the package ships its model; nothing is downloaded)."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

VAD_SR = 16000


@functools.lru_cache(maxsize=2)
def load_vad(onnx: bool = True) -> Any:
    """The silero-vad model shipped in the ``silero_vad`` package (ONNX when onnxruntime is installed)."""
    import silero_vad

    if onnx:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            onnx = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # importlib.resources.path in silero_vad
        return silero_vad.load_silero_vad(onnx=onnx)


def speech_regions(
    audio: np.ndarray,
    sr: int = VAD_SR,
    threshold: float = 0.5,
    min_speech: float = 0.25,
    min_silence: float = 0.15,
    pad: float = 0.03,
) -> np.ndarray:
    """Speech regions of mono ``audio`` at 16 kHz as an ``(n, 2)`` array of ``[start, end]`` seconds.

    ``threshold`` is silero's speech probability threshold; regions shorter than ``min_speech``
    are dropped and pauses shorter than ``min_silence`` do not split a region.
    """
    if sr != VAD_SR:
        raise ValueError(f"speech_regions expects {VAD_SR} Hz audio, got {sr}")
    if audio.size < 512:
        return np.zeros((0, 2))
    import silero_vad
    import torch

    stamps = silero_vad.get_speech_timestamps(
        torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
        load_vad(),
        threshold=threshold,
        sampling_rate=VAD_SR,
        min_speech_duration_ms=int(min_speech * 1000),
        min_silence_duration_ms=int(min_silence * 1000),
        speech_pad_ms=int(pad * 1000),
    )
    if not stamps:
        return np.zeros((0, 2))
    return np.array([[s["start"], s["end"]] for s in stamps], dtype=np.float64) / VAD_SR
