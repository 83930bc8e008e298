"""Translation by listening: Whisper's translate task (faster-whisper) on each segment's audio.

Goes through the ASR module's faster-whisper backend (``pip install 'anim400k[whisper]'``,
model from a local CTranslate2 folder). Each segment's audio (with a little context) is
translated on its own, so the EN line belongs to exactly that segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ModelRequired
from ..model import Segment
from .base import Line

#: Seconds of audio kept on each side of a segment when it is translated.
CONTEXT_S = 0.1
#: faster-whisper options for one short segment at a time (each overridable by the caller):
#: the batched pipeline (``batch_size`` > 1) without its own VAD (the segment is speech
#: already) decodes a chunk shorter than 30 s once, without timestamp tokens (the sequential
#: path would seek through it window by window); no word timestamps; a bound on the line.
SEGMENT_OPTIONS: dict[str, Any] = {
    "batch_size": 8,
    "vad_filter": False,
    "word_timestamps": False,
    "max_new_tokens": 128,
}


class WhisperTranslator:
    """The ``whisper`` backend: Whisper's translate task per segment.

    ``model`` is a local CTranslate2 Whisper folder (or a name in the local Hugging Face
    cache; required: :class:`~anim400k.errors.ModelRequired` without it); other keyword ``options``
    go to :class:`anim400k.asr.faster_whisper_backend.FasterWhisperTranscriber` (e.g. ``device``,
    ``beam_size``, ``temperature``). A ready
    ``transcriber`` with a ``translate(audio, sr, source_language) -> Transcript`` method may
    be given instead.
    """

    name = "whisper"

    def __init__(
        self, model: str | None = None, source_language: str = "ja", transcriber: Any = None, **options: Any
    ) -> None:
        if transcriber is None:
            from ..asr import get_transcriber

            if model is None:  # never the transcriber's default name: the dub names the model it uses
                raise ModelRequired("whisper", "a local CTranslate2 Whisper folder or a model name in the "
                                    "local Hugging Face cache")
            opts = SEGMENT_OPTIONS | options
            opts["model"] = str(model)
            transcriber = get_transcriber("faster-whisper", task="translate", **opts)
        if not callable(getattr(transcriber, "translate", None)):
            raise TypeError(f"{type(transcriber).__name__} has no translate(audio, sr, source_language)")
        self.transcriber = transcriber
        self.source_language = source_language

    def _translate_chunk(self, chunk: np.ndarray, sr: int) -> str:
        result = self.transcriber.translate(chunk, sr, self.source_language)
        return " ".join(result.text.split())

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
