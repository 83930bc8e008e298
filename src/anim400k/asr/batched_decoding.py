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
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np


class _Captured(Exception):
    """Raised by the capturing proxy at the first ``generate`` call, to stop faster-whisper there."""


class _Proxy:
    """The CTranslate2 Whisper model of one window: see the module's docstring."""

    def __init__(self, real: Any, replay: dict[str, Any] | None = None) -> None:
        self._real = real
        self._replay = replay
        self.captured: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def encode(self, features: Any, *args: Any, **kwargs: Any) -> Any:
        if self._replay is not None and "encoder_output" in self._replay:
            return self._replay.pop("encoder_output")
        out = self._real.encode(features, *args, **kwargs)
        if self._replay is None and "encoder_output" not in self.captured:
            self.captured["encoder_output"] = out
        return out

    def generate(self, encoder_output: Any, prompts: list[list[int]], **kwargs: Any) -> Any:
        if self._replay is None:
            self.captured.update(prompts=prompts, options=kwargs)
            raise _Captured
        result = self._replay.pop("result", None)
        if result is not None and prompts == self._replay["prompts"] and kwargs == self._replay["options"]:
            return [result]
        return self._real.generate(encoder_output, prompts, **kwargs)


def _with_proxy(model: Any, proxy: _Proxy) -> Any:
    """A shallow copy of faster-whisper's ``WhisperModel`` that runs through ``proxy``."""
    clone = copy.copy(model)
    clone.model = proxy
    return clone


def host_array(encoder_output: Any) -> np.ndarray:
    """A CTranslate2 encoder output as a NumPy array in host memory. On a GPU (``--asr-device cuda``: faster-whisper
    keeps a single GPU's encoder output there) it is copied to the CPU first: NumPy cannot read a CUDA
    ``StorageView``, and the batched ``generate`` takes a CPU one on any device (as faster-whisper's own multi-GPU
    path gives it)."""
    if str(getattr(encoder_output, "device", "cpu")) != "cpu":
        import ctranslate2

        encoder_output = encoder_output.to_device(ctranslate2.Device.cpu)
    return np.asarray(encoder_output)


def window_segments(segments: Any, kwargs: dict[str, Any]) -> list[Any]:
    """The segments of one window's ``WhisperModel.transcribe`` (``kwargs`` its options), read to the end; with
    ``without_timestamps`` and ``word_timestamps`` only the first (the first pass yields one segment, reading
    the whole window: faster-whisper would then seek to the last word's end and run the encoder once more over
    the tail)."""
    if kwargs.get("without_timestamps") and kwargs.get("word_timestamps"):
        return list(itertools.islice(segments, 1))
    return list(segments)


def transcribe_batch(model: Any, pieces: list[np.ndarray], **kwargs: Any) -> list[list[Any]]:
    """faster-whisper's segments of each of ``pieces`` (16 kHz audio, at most 30 s each: one window), as
    :func:`window_segments` of ``model.transcribe(piece, **kwargs)`` would give them, with the first
    decoding pass of all of them run as one batch (the module's docstring)."""
    if len(pieces) < 2:
        return [window_segments(model.transcribe(p, **kwargs)[0], kwargs) for p in pieces]
    captured = []
    for piece in pieces:
        proxy = _Proxy(model.model)
        try:
            list(_with_proxy(model, proxy).transcribe(piece, **kwargs)[0])
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
    for piece, c in zip(pieces, captured, strict=True):
        replay = dict(c) if "result" in c else {}
        out.append(window_segments(_with_proxy(model, _Proxy(model.model, replay)).transcribe(piece, **kwargs)[0],
                                   kwargs))
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
