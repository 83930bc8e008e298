"""Translation by listening: Whisper's translate task (faster-whisper) on each segment's audio.

Goes through the ASR module's faster-whisper backend (``pip install 'anim400k[whisper]'``,
model from a local CTranslate2 folder). Each segment's audio (with a little context) is
translated on its own, so the EN line belongs to exactly that segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..model import Segment
from .base import Line

#: Seconds of audio kept on each side of a segment when it is translated.
CONTEXT_S = 0.1


class WhisperTranslator:
    """The ``whisper`` backend: ``translate`` runs Whisper's translate task per segment."""

    name = "whisper"

    def __init__(
        self, model: str | None = None, source_language: str = "ja", transcriber: Any = None, **options: Any
    ) -> None:
        if transcriber is None:
            from ..asr import get_transcriber

            opts = dict(options)
            if model is not None:
                opts["model"] = model
            transcriber = get_transcriber("faster-whisper", task="translate", **opts)
        self.transcriber = transcriber
        self.source_language = source_language

    def _translate_chunk(self, chunk: np.ndarray, sr: int) -> str:
        translate = getattr(self.transcriber, "translate", None)
        result = (
            translate(chunk, sr, self.source_language)
            if callable(translate)
            else self.transcriber.transcribe(chunk, sr, self.source_language)
        )
        text = result.text if hasattr(result, "text") else str(result)
        return " ".join(text.split())

    def translate(self, segments: Sequence[Segment], audio: np.ndarray | None, sr: int) -> list[Line]:
        """One EN line per segment, translated from ``audio`` (source speech at ``sr``)."""
        if audio is None:
            return [Line(None, problem="whisper translation needs the source audio") for _ in segments]
        lines = []
        pad = int(CONTEXT_S * sr)
        for seg in segments:
            a = max(0, int(seg.start * sr) - pad)
            b = min(len(audio), int(seg.end * sr) + pad)
            if seg.duration < 0.1 or b - a < int(0.1 * sr):
                lines.append(Line(None, problem="segment too short to translate"))
                continue
            text = self._translate_chunk(np.ascontiguousarray(audio[a:b], dtype=np.float32), sr)
            if text:
                lines.append(Line(text, source_text=seg.text or None))
            else:
                lines.append(Line(None, problem="whisper produced no translation"))
        return lines
