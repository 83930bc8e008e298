"""The ``pocketsphinx`` backend: English ASR with word timings from pocketsphinx 5's bundled model.

The audio is first cut into speech regions with silero-vad (:mod:`anim400k.asr.vad`);
each region is decoded separately (shorter utterances keep the search cheap and give
segment boundaries that follow the speech), and every region becomes one segment
whose words carry times in the full audio's timeline. Filler tokens (``<s>``,
``<sil>``, ``[NOISE]``...) are dropped and alternate-pronunciation markers
(``the(2)``) removed. Accuracy on real, noisy, expressive speech is poor; use
``faster-whisper`` for production.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import BackendUnavailable
from ..model import Segment, Transcript, Word
from ..progress import Reporter, no_report
from .base import ASR_SAMPLE_RATE, prepare_audio
from .vad import VadOptions, speech_regions

_ALT = re.compile(r"\(\d+\)$")
_FILLER = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+)$")


def _words_from_segments(segs: Any, offset: float, frate: int) -> list[Word]:
    words = []
    for s in segs:
        token = _ALT.sub("", s.word)
        if _FILLER.match(token):
            continue
        start = offset + s.start_frame / frate
        end = offset + (s.end_frame + 1) / frate
        words.append(Word(round(start, 3), round(end, 3), token, round(float(s.prob), 4)))
    return words


@dataclass
class PocketsphinxTranscriber:
    """English words with timings; ``language`` other than English raises ``ValueError``.

    ``hmm``/``lm``/``dictionary`` override the bundled en-us acoustic model, language model and
    dictionary (paths), e.g. to use another pocketsphinx-compatible model.
    """

    hmm: str | None = None
    lm: str | None = None
    dictionary: str | None = None
    vad_threshold: float = 0.5
    min_silence_ms: int = 300
    max_region_s: float = 20.0
    name: str = field(default="pocketsphinx", init=False)
    _decoder: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def config(self) -> dict[str, Any]:
        return {"backend": self.name, "hmm": self.hmm, "lm": self.lm, "dictionary": self.dictionary,
                "vad_threshold": self.vad_threshold, "min_silence_ms": self.min_silence_ms,
                "max_region_s": self.max_region_s}

    def _get_decoder(self) -> Any:
        if self._decoder is None:
            try:
                from pocketsphinx import Decoder
            except ImportError as exc:  # pragma: no cover - dependency is a core requirement
                raise BackendUnavailable(self.name, None, "pip install pocketsphinx") from exc
            kwargs: dict[str, Any] = {"samprate": ASR_SAMPLE_RATE, "loglevel": "FATAL"}
            for key, value in (("hmm", self.hmm), ("lm", self.lm), ("dict", self.dictionary)):
                if value:
                    kwargs[key] = value
            self._decoder = Decoder(**kwargs)
        return self._decoder

    def decode_region(self, pcm16: np.ndarray, offset: float) -> list[Word]:
        """Decode one utterance (int16 samples at 16 kHz) starting at ``offset`` seconds."""
        with self._lock:
            dec = self._get_decoder()
            dec.start_utt()
            dec.process_raw(pcm16.tobytes(), full_utt=True)
            dec.end_utt()
            return _words_from_segments(dec.seg(), offset, int(dec.config["frate"]))

    def transcribe(self, audio: np.ndarray, sr: int, language: str, report: Reporter | None = None) -> Transcript:
        """Transcribe English audio: one segment per speech region that yields words.

        ``report`` hears the seconds of audio decoded (the end of each region as it is done).
        """
        if language.split("-")[0].lower() not in ("en", "eng", "english"):
            raise ValueError(f"pocketsphinx decodes English only, not '{language}' (use --asr vad or auto)")
        x = prepare_audio(audio, sr, ASR_SAMPLE_RATE)
        duration = x.size / ASR_SAMPLE_RATE
        report = report or no_report
        report(0.0, duration, "s")
        pcm = (np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)
        opts = VadOptions(threshold=self.vad_threshold, min_silence_ms=self.min_silence_ms,
                          max_speech_s=self.max_region_s)
        segments = []
        for start, end in speech_regions(x, ASR_SAMPLE_RATE, opts):
            a, b = int(start * ASR_SAMPLE_RATE), int(end * ASR_SAMPLE_RATE)
            words = self.decode_region(pcm[a:b], start)
            report(min(duration, end), duration, "s")
            if not words:
                continue
            words = [Word(max(start, w.start), min(end, w.end), w.text, w.probability) for w in words]
            segments.append(Segment(start, end, " ".join(w.text for w in words), words=words))
        report(duration, duration, "s")
        return Transcript(language="en", segments=segments, source=self.name)
