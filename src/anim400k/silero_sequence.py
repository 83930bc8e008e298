"""silero-vad over a whole track at once: its frame features in batches, its recurrent cell as one sequence.

silero-vad v5 (16 kHz) reads 512-sample frames, each with the 64 samples before it as context.
Per frame it computes an STFT magnitude (a 256-point window, hop 128, the 576 samples reflected
by 64 at the right: 4 columns of 129 bins), four convolution blocks down to one 128-vector, then
an LSTM cell whose state runs from frame to frame, and a 1x1 convolution + sigmoid giving the
speech probability. Only the LSTM cell depends on earlier frames, so everything before it can be
computed for all frames in batches, and the cell for the whole track in one ``torch.nn.LSTM``
call with the cell's weights. silero's own loop (and the ONNX one in
:func:`anim400k.signal.vad_probabilities`) calls the whole model once per 32 ms frame, where the
call costs more than the arithmetic: this takes ~1/4 of the ONNX loop's CPU time with
probabilities that differ from it by < 1e-5 (float rounding: the STFT here is an FFT, silero's a
convolution with its DFT basis).

The weights are the TorchScript model's that the ``silero_vad`` wheel ships (no download; the caller
passes the loaded model, :func:`anim400k.signal.vad_layers`); the layers are checked against the
architecture described above when they are first taken from it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

#: samples per frame, samples of context before it, STFT window and hop (silero-vad v5 at 16 kHz)
FRAME, CONTEXT, WINDOW, HOP = 512, 64, 256, 128
#: frames whose features are computed per batch (bounds the memory: ~8 MB of STFT columns)
BLOCK = 4096
#: frames the recurrent cell runs over per call, its state carried from one to the next (bounds the memory
#: of its gates and outputs on long tracks: 35 minutes a call; a shorter track takes one call, as before;
#: chunks give the same probabilities to float rounding, ~1e-7)
LSTM_CHUNK = 1 << 16

_LAYERS: dict[str, Any] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class SileroLayers:
    """The parts of silero-vad's 16 kHz model, ready for whole-track use."""

    window: np.ndarray
    encoder: Any
    lstm: Any
    head: Any


def silero_layers(jit_model: Any) -> SileroLayers:
    """The layers of silero-vad's TorchScript model ``jit_model`` (``silero_vad.load_silero_vad(onnx=False)``;
    taken once per model and process; ``RuntimeError`` when the model does not have the v5 layout this
    module relies on)."""
    with _LOCK:
        if id(jit_model) not in _LAYERS:
            _LAYERS[id(jit_model)] = (jit_model, _take_layers(jit_model))
        return _LAYERS[id(jit_model)][1]


def _take_layers(jit_model: Any) -> SileroLayers:
    import torch

    try:
        model = jit_model._model  # the 16 kHz network inside silero's wrapper
        basis = model.stft.forward_basis_buffer.detach().cpu().numpy()
        hop, rnn, encoder, head = int(model.stft.hop_length), model.decoder.rnn, model.encoder, model.decoder.decoder
        shape = tuple(rnn.weight_ih.shape)
    except AttributeError as exc:
        raise RuntimeError(f"silero-vad's model does not have the v5 layout ({exc})") from exc
    if basis.shape != (2 * (WINDOW // 2 + 1), 1, WINDOW) or hop != HOP or shape != (512, 128):
        raise RuntimeError("silero-vad's model does not have the v5 layout (STFT 256/128, LSTM cell 128)")
    window = basis[0, 0].astype(np.float32)  # row 0 is the window times cos(0)
    lstm = torch.nn.LSTM(128, 128, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(lstm, f"{name}_l0").copy_(getattr(rnn, name))
    lstm.eval()
    return SileroLayers(window, encoder, lstm, head)


def frame_inputs(audio: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
    """``(n, 576)`` view of the frames silero reads: frame ``i`` is ``audio[512 i : 512 (i + 1)]`` (the last
    zero-padded) with the 64 samples before it (zeros before the start); ``start``/``stop``: only frames
    ``start..stop-1`` (default all), so that a caller going through a long track block by block never
    holds a padded copy of all of it."""
    x = np.asarray(audio, dtype=np.float32)
    n = -(-x.size // FRAME)
    stop = n if stop is None else min(stop, n)
    start = max(0, min(start, stop))
    lo, hi = start * FRAME - CONTEXT, stop * FRAME  # samples the frames read
    padded = np.zeros(hi - lo, np.float32)
    a, b = max(lo, 0), min(hi, x.size)
    if b > a:
        padded[a - lo:b - lo] = x[a:b]
    return np.lib.stride_tricks.as_strided(padded, (stop - start, CONTEXT + FRAME), (4 * FRAME, 4), writeable=False)


def stft_magnitude(frames: np.ndarray, window: np.ndarray) -> np.ndarray:
    """silero's STFT magnitude of ``(b, 576)`` frame inputs: ``(b, 129, 4)`` (bins x columns)."""
    import scipy.fft

    ext = np.concatenate([frames, frames[:, -2:-CONTEXT - 2:-1]], axis=1)  # reflect 64 samples at the right
    cols = (ext.shape[1] - WINDOW) // HOP + 1
    segs = np.lib.stride_tricks.as_strided(ext, (len(ext), cols, WINDOW), (ext.strides[0], 4 * HOP, 4),
                                           writeable=False)
    spec = scipy.fft.rfft(segs * window, axis=2)
    return np.abs(spec).astype(np.float32).transpose(0, 2, 1)


def speech_probabilities(audio: np.ndarray, layers: SileroLayers, block: int = BLOCK) -> np.ndarray:
    """silero-vad's speech probability per 512-sample frame of mono 16 kHz ``audio`` (the last frame
    zero-padded), for the whole track at once with ``layers`` (:func:`silero_layers`); thread-safe (the
    layers hold no state)."""
    import torch

    audio = np.asarray(audio, dtype=np.float32)  # once: each block's frames then read it without a copy
    n = -(-audio.size // FRAME)
    if n == 0:
        return np.zeros(0, np.float32)
    with torch.inference_mode():
        feats = torch.cat([
            layers.encoder(torch.from_numpy(stft_magnitude(frame_inputs(audio, a, a + block), layers.window)))
            .squeeze(-1) for a in range(0, n, block)
        ])
        out = np.empty(n, np.float32)
        state = None
        for a in range(0, n, LSTM_CHUNK):
            hidden, state = layers.lstm(feats[None, a:a + LSTM_CHUNK], state)
            out[a:a + hidden.shape[1]] = layers.head(hidden[0].unsqueeze(-1)).reshape(-1).numpy()
    return out


__all__ = ["SileroLayers", "frame_inputs", "silero_layers", "speech_probabilities", "stft_magnitude"]
