"""Whisper windows whose first decoding pass is decoded as one batch (the ``whisper-base`` and ``whisper-tiny-en``
defaults).

faster-whisper decodes one window at a time. Each decoding step multiplies one token's state by every weight
of the decoder and by the 51,865-word output projection: on a CPU that reads the int8 weights from memory for
a single vector. Decoding several windows together reads them once per step for all: four windows of a JP
track, greedy, took 0.55x the CPU seconds of decoding them one by one, with the same tokens
(``benchmarks/bench_asr_ja_cost.py``, docs/asr.md). Beam search gains less (each step already decodes its 5
beams together): ``generate`` over eight windows of an English track with tiny.en at beam 5, in batches of 4 or 8,
took 0.73-0.76x, the same tokens, and the whole English ASR 0.84-0.88x (``benchmarks/bench_asr_en_cost.py``).
The encoder gains nothing from a batch (1.1x), so each window is still encoded alone.

faster-whisper has no entry point for this, so the windows go through its own ``WhisperModel.transcribe``
twice, with the CTranslate2 model behind a per-window proxy:

1. *capture*: features and the encoder pass are faster-whisper's own; the proxy stops the window at its
   first ``generate`` call and keeps the encoder output, the prompt and every option of that call;
2. one ``generate`` of all the windows' prompts over their encoder outputs stacked (same options);
3. *replay*: ``transcribe`` once more; the proxy hands back the kept encoder output at the first ``encode``
   and this window's result of step 2 at the first ``generate`` when its prompt and options are the ones
   captured (otherwise it runs the real one). Everything after (temperature fallback, a second pass over
   the window's tail, word alignment) is faster-whisper's, unchanged.

The mel features of a window are computed once: the capture run keeps them and the replay gets them back.
Given the window's speech regions (``speech``), a second pass over the window's tail is not run when less than
:data:`TAIL_MIN_SPEECH_S` of speech is left after the last word heard (the encoder would read 30 s for a tail of
silence or context: one window in eleven of a 300 s episode's English, its pass gave no word).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

#: A window's tail (after its first pass, from the last word heard) is decoded again only when at least this many
#: seconds of its speech regions lie in it (docs/asr.md, "Where a window's CPU goes").
TAIL_MIN_SPEECH_S = 0.2


class _Captured(Exception):
    """Raised by the capturing proxy at the first ``generate`` call, to stop faster-whisper there."""


class _NoSpeechLeft(Exception):
    """Raised by the replaying proxy at a tail's ``encode`` when too little speech is left in it."""


def speech_after(speech: list[tuple[float, float]], t: float) -> float:
    """Seconds of ``speech`` (regions, seconds into the window) after ``t``."""
    return sum(max(0.0, b - max(a, t)) for a, b in speech)


class _Proxy:
    """The CTranslate2 Whisper model of one window: see the module's docstring."""

    def __init__(self, real: Any, replay: dict[str, Any] | None = None,
                 speech: list[tuple[float, float]] | None = None, tail_min_speech_s: float = TAIL_MIN_SPEECH_S
                 ) -> None:
        self._real = real
        self._replay = replay
        self.captured: dict[str, Any] = {}
        #: the window's speech regions (seconds into it); None: every tail is decoded
        self.speech = speech
        self.tail_min_speech_s = tail_min_speech_s
        #: tails found with too little speech (not decoded)
        self.tails_skipped = 0
        #: the end of the last word of the segments read so far (set by :func:`window_segments`)
        self.heard_until = 0.0
        self._decoded = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def encode(self, features: Any, *args: Any, **kwargs: Any) -> Any:
        if self._replay is not None and "encoder_output" in self._replay:
            return self._replay.pop("encoder_output")
        if (self._decoded and self.speech is not None
                and speech_after(self.speech, self.heard_until) < self.tail_min_speech_s):
            self.tails_skipped += 1
            raise _NoSpeechLeft
        out = self._real.encode(features, *args, **kwargs)
        if self._replay is None and "encoder_output" not in self.captured:
            self.captured["encoder_output"] = out
        return out

    def generate(self, encoder_output: Any, prompts: list[list[int]], **kwargs: Any) -> Any:
        self._decoded = True
        if self._replay is None:
            self.captured.update(prompts=prompts, options=kwargs)
            raise _Captured
        result = self._replay.pop("result", None)
        if result is not None and prompts == self._replay["prompts"] and kwargs == self._replay["options"]:
            return [result]
        return self._real.generate(encoder_output, prompts, **kwargs)


class _Features:
    """faster-whisper's feature extractor of one window: its first call's features are kept in ``kept`` (the
    capture run) or, when ``kept`` holds them, handed back without computing them again (the replay)."""

    def __init__(self, real: Any, kept: dict[str, Any]) -> None:
        self._real = real
        self._kept = kept

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "features" in self._kept:
            return self._kept.pop("features")
        out = self._real(*args, **kwargs)
        self._kept["features"] = out
        return out


def _with_proxy(model: Any, proxy: _Proxy, features: dict[str, Any] | None = None) -> Any:
    """A shallow copy of faster-whisper's ``WhisperModel`` that runs through ``proxy`` (and, with ``features``,
    a :class:`_Features` over that dict)."""
    clone = copy.copy(model)
    clone.model = proxy
    if features is not None:
        clone.feature_extractor = _Features(model.feature_extractor, features)
    return clone


def host_array(encoder_output: Any) -> np.ndarray:
    """A CTranslate2 encoder output as a NumPy array in host memory. On a GPU (a transcriber built with
    ``device="cuda"``: faster-whisper keeps a single GPU's encoder output there) it is copied to the CPU first:
    NumPy cannot read a CUDA ``StorageView``, and the batched ``generate`` takes a CPU one on any device (as
    faster-whisper's own multi-GPU path gives it)."""
    if str(getattr(encoder_output, "device", "cpu")) != "cpu":
        import ctranslate2

        encoder_output = encoder_output.to_device(ctranslate2.Device.cpu)
    return np.asarray(encoder_output)


def window_segments(segments: Any, kwargs: dict[str, Any], proxy: _Proxy | None = None) -> list[Any]:
    """The segments of one window's ``WhisperModel.transcribe`` (``kwargs`` its options), read to the end; with
    ``without_timestamps`` and ``word_timestamps`` only the first (the first pass yields one segment, reading
    the whole window: faster-whisper would then seek to the last word's end and run the encoder once more over
    the tail). With the window's ``proxy``, it hears the end of each word read, and a tail it finds without
    speech (:class:`_NoSpeechLeft`) ends the window."""
    if kwargs.get("without_timestamps") and kwargs.get("word_timestamps"):
        return list(itertools.islice(segments, 1))
    out = []
    try:
        for seg in segments:
            out.append(seg)
            if proxy is not None and seg.words:
                proxy.heard_until = max(proxy.heard_until, float(seg.words[-1].end))
    except _NoSpeechLeft:
        pass
    return out


def transcribe_batch(model: Any, pieces: list[np.ndarray], speech: list[list[tuple[float, float]]] | None = None,
                     tail_min_speech_s: float = TAIL_MIN_SPEECH_S, **kwargs: Any) -> list[list[Any]]:
    """faster-whisper's segments of each of ``pieces`` (16 kHz audio, at most 30 s each: one window), as
    :func:`window_segments` of ``model.transcribe(piece, **kwargs)`` would give them, with the first
    decoding pass of all of them run as one batch (the module's docstring). ``speech``: each piece's speech
    regions (seconds into it), so that a tail holding less than ``tail_min_speech_s`` of them is not decoded
    again; None decodes every tail."""
    speech = speech if speech is not None else [None] * len(pieces)  # type: ignore[list-item]
    if len(pieces) < 2:
        out = []
        for piece, regions in zip(pieces, speech, strict=True):
            proxy = _Proxy(model.model, {}, regions, tail_min_speech_s)
            out.append(window_segments(_with_proxy(model, proxy).transcribe(piece, **kwargs)[0], kwargs, proxy))
        return out
    captured = []
    for piece in pieces:
        proxy = _Proxy(model.model)
        try:
            list(_with_proxy(model, proxy, proxy.captured).transcribe(piece, **kwargs)[0])
        except _Captured:
            pass
        captured.append(proxy.captured)
    ready = [c for c in captured if "options" in c and "encoder_output" in c]
    if len(ready) >= 2 and all(c["options"] == ready[0]["options"] and len(c["prompts"]) == 1 for c in ready):
        import ctranslate2

        stacked = np.ascontiguousarray(np.concatenate([host_array(c["encoder_output"]) for c in ready]))
        results = model.model.generate(ctranslate2.StorageView.from_array(stacked),
                                       [c["prompts"][0] for c in ready], **ready[0]["options"])
        for c, result in zip(ready, results, strict=True):
            c["result"] = result
    out = []
    for piece, c, regions in zip(pieces, captured, speech, strict=True):
        replay = dict(c) if "result" in c else {}
        proxy = _Proxy(model.model, replay, regions, tail_min_speech_s)
        kept = {"features": c["features"]} if "features" in c else {}
        out.append(window_segments(_with_proxy(model, proxy, kept).transcribe(piece, **kwargs)[0], kwargs, proxy))
    return out


def batches(n: int, size: int, workers: int) -> list[list[int]]:
    """Indices ``0..n-1`` in consecutive batches of at most ``size``, no larger than needed to give each of
    ``workers`` one (so that a short track still keeps every worker busy)."""
    per = max(1, min(size, -(-n // max(1, workers))))
    return [list(range(i, min(n, i + per))) for i in range(0, n, per)]


def run_batches(decode: Callable[[list[int]], list[list[Any]]], n: int, size: int, workers: int) -> list[list[Any]]:
    """``decode`` over :func:`batches` of ``n`` windows on ``workers`` threads: each window's result, in order."""
    from ..threads import thread_map

    return [r for part in thread_map(decode, batches(n, size, workers), workers, "whisper") for r in part]
