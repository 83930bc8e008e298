"""Speech regions with silero-vad, and the ``vad`` backend (timed segments without text).

silero-vad ships its model inside the pip package (``silero_vad/data``), so the model
(:func:`anim400k.signal.vad_model`, one cache per process) loads offline. ``engine`` says how it
runs (:data:`anim400k.signal.VAD_ENGINES`): over the whole track at once by default
(``sequence``), or frame by frame (``onnx``, ``torchscript``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..model import Segment, Transcript
from ..progress import Reporter, no_report
from ..signal import speech_timestamps
from .base import ASR_SAMPLE_RATE, prepare_audio


@dataclass(slots=True)
class VadOptions:
    """silero-vad parameters (see ``silero_vad.get_speech_timestamps``)."""

    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 300
    speech_pad_ms: int = 30
    max_speech_s: float = 30.0
    #: how silero runs (:data:`anim400k.signal.VAD_ENGINES`): ``sequence`` computes its frame features in
    #: batches and its recurrent cell over the whole track in one call, ~1/4 of the ONNX loop's CPU time
    #: (24 minutes: 1.6-2.1 vs 6.7 CPU-s) with probabilities within 1e-5 of it (docs/scaling.md)
    engine: str = "sequence"

    def as_dict(self) -> dict[str, Any]:
        """The options as a plain dict (part of the stage config)."""
        return {f.name: getattr(self, f.name) for f in fields(VadOptions)}


def speech_regions(
    audio: np.ndarray, sr: int, options: VadOptions | None = None
) -> list[tuple[float, float]]:
    """Speech regions of ``audio`` as ``(start, end)`` seconds, in time order, within the audio."""
    opt = options or VadOptions()
    x = prepare_audio(audio, sr, ASR_SAMPLE_RATE)
    if x.size == 0:
        return []
    stamps = speech_timestamps(x, threshold=opt.threshold, min_speech_ms=opt.min_speech_ms,
                               min_silence_ms=opt.min_silence_ms, speech_pad_ms=opt.speech_pad_ms,
                               max_speech_s=opt.max_speech_s, engine=opt.engine)
    dur = x.size / ASR_SAMPLE_RATE
    out = []
    for start, end in stamps.tolist():
        s, e = min(dur, start), min(dur, end)
        if e > s:
            out.append((round(s, 3), round(e, 3)))
    return out


@dataclass
class VadTranscriber(VadOptions):
    """The ``vad`` backend: one untranscribed segment per speech region, for any language.

    Takes the :class:`VadOptions` fields as keyword arguments.
    """

    name: str = field(default="vad", init=False)

    @property
    def options(self) -> VadOptions:
        return VadOptions(**self.as_dict())

    @property
    def config(self) -> dict[str, Any]:
        return {"backend": self.name, **self.options.as_dict()}

    def transcribe(self, audio: np.ndarray, sr: int, language: str, report: Reporter | None = None) -> Transcript:
        """Speech regions as segments with empty text and ``transcribed=False``.

        ``report`` hears 0 and then all of the track's seconds (the VAD runs over the track in one call).
        """
        report = report or no_report
        x = prepare_audio(audio, sr, ASR_SAMPLE_RATE)
        duration = x.size / ASR_SAMPLE_RATE
        report(0.0, duration, "s")
        segs = [Segment(s, e, "", transcribed=False) for s, e in speech_regions(x, ASR_SAMPLE_RATE, self.options)]
        report(duration, duration, "s")
        return Transcript(language=language, segments=segs, source=self.name)
