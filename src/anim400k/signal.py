"""Signal helpers shared by every capability: one rule each, used everywhere.

- :data:`ANALYSIS_SR`: the 16 kHz rate of every speech model and analysis stage;
- :func:`to_mono`: one channel-order rule for 2-D audio;
- :func:`resample`: polyphase (``poly``) or soxr (``soxr_hq``/``soxr_mq``, through librosa);
- :func:`prepare_audio`: mono at the analysis rate (what every speech model is given);
- :func:`fit_length`: trim or zero-pad the last axis;
- :func:`loudness`: BS.1770 integrated loudness with ONE rule for clips under one 400 ms gating
  block (and for clips below the absolute gate): the ungated ``-0.691 + 10 log10(mean(x^2))``
  (the release's mixing-ratio rule: a level to scale by, not a silence test);
- :func:`below_absolute_gate`: the one silence rule, BS.1770's own: nothing K-weighted reaches the
  -70 LUFS absolute gate (DC and infrasound, which K-weighting removes, count as nothing);
- :func:`speech_timestamps`: the one silero-vad wrapper, with one model cache.

numpy and the signal libraries are imported inside the functions so that importing this module
(the CLI reads :data:`ANALYSIS_SR`) stays cheap.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from .silero_sequence import SileroLayers

#: The sample rate of the analysis tracks and of every speech model (ASR, VAD, diarization, embeddings).
ANALYSIS_SR = 16000
#: One BS.1770 gating block: clips shorter than this get the ungated loudness.
GATE_BLOCK_SECONDS = 0.4
#: The loudness reported for silence (no finite LUFS exists).
SILENT_LUFS = -120.0


def to_mono(x: np.ndarray) -> np.ndarray:
    """Contiguous float32 ``(n,)`` from ``(n,)`` or 2-D audio.

    The one channel-order rule: 2-D audio is ``(channels, n)`` by contract, and ``(n, channels)``
    is recognised when its first axis is the longer one (a square array counts as channels-first).
    Anything else raises :class:`ValueError`.
    """
    import numpy as np

    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0) if x.shape[0] <= x.shape[1] else x.mean(axis=1)
    if x.ndim != 1:
        raise ValueError(f"audio must be (n,) or (channels, n), got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


def resample(x: np.ndarray, sr: float, target_sr: float, method: str = "poly") -> np.ndarray:
    """``x`` (last axis = time) from ``sr`` to ``target_sr`` Hz, as float32.

    ``poly``: scipy's polyphase filter (integer rates; the input's dtype is kept for the filtering).
    ``soxr_hq``/``soxr_mq``: libsoxr through librosa (any rates; the length is ``ceil(n * ratio)``).
    Equal rates return ``x`` unchanged (as float32).
    """
    import numpy as np

    if sr == target_sr:
        return np.asarray(x, dtype=np.float32)
    if method == "poly":
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(sr), int(target_sr))
        return resample_poly(np.asarray(x), int(target_sr) // g, int(sr) // g, axis=-1).astype(np.float32)
    if method in ("soxr_hq", "soxr_mq"):
        import librosa

        return np.asarray(librosa.resample(np.asarray(x, dtype=np.float32), orig_sr=sr, target_sr=target_sr,
                                           res_type=method), dtype=np.float32)
    raise ValueError(f"unknown resampling method {method!r} (poly, soxr_hq, soxr_mq)")


#: Input samples per chunk of :func:`resample_streamed`.
RESAMPLE_CHUNK = 1 << 18


def resample_streamed(x: np.ndarray, sr: int, target_sr: int, length: int | None = None) -> np.ndarray:
    """Mono ``x`` from ``sr`` to ``target_sr`` Hz with libsoxr HQ, as float32, in bounded memory.

    The same samples as ``resample(x, sr, target_sr, "soxr_hq")`` (libsoxr's one-shot call is the same
    stream; tested bit for bit), fed :data:`RESAMPLE_CHUNK` samples at a time into the preallocated result,
    without librosa's whole-track intermediate copies (about 4.6 output tracks' worth). The result has
    ``ceil(len(x) * target_sr / sr)`` samples, or is trimmed or zero-padded to ``length``.
    """
    import math

    import numpy as np
    import soxr

    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"resample_streamed needs mono (n,) audio, got shape {x.shape}")
    full = math.ceil(len(x) * target_sr / sr)
    n = full if length is None else int(length)
    if sr == target_sr:
        return fit_length(x, n).astype(np.float32)
    out = np.zeros(n, dtype=np.float32)
    stream = soxr.ResampleStream(sr, target_sr, 1, dtype="float32", quality="HQ")
    k = 0
    for a in range(0, max(1, len(x)), RESAMPLE_CHUNK):
        y = stream.resample_chunk(x[a : a + RESAMPLE_CHUNK], last=a + RESAMPLE_CHUNK >= len(x))
        take = max(0, min(len(y), n - k, full - k))
        out[k : k + take] = y[:take]
        k += take
    return out


def prepare_audio(audio: np.ndarray, sr: int, target_sr: int = ANALYSIS_SR) -> np.ndarray:
    """Mono (:func:`to_mono`) float32 ``audio`` at ``target_sr`` (polyphase :func:`resample`)."""
    if sr <= 0:
        raise ValueError(f"bad sample rate {sr}")
    return resample(to_mono(audio), sr, target_sr, "poly")


def fit_length(samples: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad the last axis of ``samples`` to ``n``."""
    import numpy as np

    if samples.shape[-1] >= n:
        return samples[..., :n]
    pad = [(0, 0)] * (samples.ndim - 1) + [(0, n - samples.shape[-1])]
    return np.pad(samples, pad)


def frame_levels_db(x: np.ndarray, sr: int, frame_s: float, hop_s: float, floor: float = 1e-10) -> np.ndarray:
    """Short-term level in dB of mono ``x``: mean square of ``frame_s`` frames every ``hop_s`` seconds.

    ``10 * log10(mean square + floor)`` per frame, from a cumulative sum of squares (no frames x
    samples matrix: memory is a few float64 copies of ``x``, whatever the frame length). Empty when
    ``x`` is shorter than one frame.
    """
    import numpy as np

    n, h = max(1, int(frame_s * sr)), max(1, int(hop_s * sr))
    x = np.asarray(x, dtype=np.float64)
    if len(x) < n:
        return np.zeros(0)
    csum = np.concatenate([[0.0], np.cumsum(x * x)])
    starts = np.arange(0, len(x) - n + 1, h)
    power = np.maximum(csum[starts + n] - csum[starts], 0.0) / n
    return 10.0 * np.log10(power + floor)


# ---------------------------------------------------------------- loudness
_K_FILTERS: dict[int, list[tuple[Any, Any, float]]] = {}
#: samples filtered at a time by :func:`gated_loudness` (float64 working memory ~4 x this x 8 bytes)
LOUDNESS_CHUNK = 1 << 20


def _k_weighting(sr: int) -> list[tuple[Any, Any, float]]:
    """BS.1770 K-weighting stages ``(b, a, gain)`` at ``sr``: pyloudnorm's own coefficients."""
    import pyloudnorm

    if sr not in _K_FILTERS:
        meter = pyloudnorm.Meter(sr)
        _K_FILTERS[sr] = [(f.b, f.a, float(f.passband_gain)) for f in meter._filters.values()]
    return _K_FILTERS[sr]


def _block_mean_squares(x: np.ndarray, sr: int, chunk: int) -> np.ndarray:
    """Mean square of each K-weighted 400 ms gating block (75 % overlap), ``x`` read ``chunk`` samples at a time.

    The blocks' sample bounds and the normalisation are pyloudnorm's (``Meter.integrated_loudness``);
    the filters run chunk by chunk with their state carried over, and each block's sum of squares is the
    difference of a running sum taken at the block bounds, so no whole-signal float64 copy is made.
    """
    import numpy as np
    from scipy.signal import lfilter

    n = len(x)
    t_g, step = GATE_BLOCK_SECONDS, 0.25
    num_blocks = int(np.round((n / sr - t_g) / (t_g * step))) + 1
    j = np.arange(num_blocks)
    lower = np.minimum((t_g * (j * step) * sr).astype(np.int64), n)
    upper = np.minimum((t_g * (j * step + 1) * sr).astype(np.int64), n)
    bounds = np.unique(np.concatenate([lower, upper]))
    running = np.zeros(len(bounds))  # sum of squares of the filtered samples before each bound
    stages = _k_weighting(sr)
    states = [np.zeros(max(len(a), len(b)) - 1) for b, a, _ in stages]
    total, k = 0.0, int(np.searchsorted(bounds, 1))  # bounds at 0 keep 0.0
    for c0 in range(0, n, chunk):
        y = np.asarray(x[c0:c0 + chunk], dtype=np.float64)
        for i, (b, a, gain) in enumerate(stages):
            y, states[i] = lfilter(b, a, y, zi=states[i])
            y = gain * y
        cs = np.cumsum(y * y)
        k_end = int(np.searchsorted(bounds, c0 + len(y), side="right"))
        running[k:k_end] = total + cs[bounds[k:k_end] - c0 - 1]
        total += float(cs[-1])
        k = k_end
    pos = np.searchsorted(bounds, lower), np.searchsorted(bounds, upper)
    return np.maximum(running[pos[1]] - running[pos[0]], 0.0) / (t_g * sr)


#: BS.1770 channel weights pyloudnorm uses for 1-5 channels in the order L, R, C, Ls, Rs.
_BS1770_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)


def _channel_weights(x: np.ndarray, weights: Sequence[float] | None) -> list[float]:
    """The BS.1770 weight of each channel of ``(channels, n)`` ``x``: ``weights``, or pyloudnorm's order."""
    import numpy as np

    channels = np.shape(x)[0]
    if weights is None:
        if channels > len(_BS1770_WEIGHTS):
            raise ValueError(f"give the channel weights of {channels}-channel audio (LFE has weight 0)")
        weights = _BS1770_WEIGHTS[:channels]
    if len(weights) != channels:
        raise ValueError(f"{len(weights)} channel weights for {channels}-channel audio")
    return [float(w) for w in weights]


def gated_loudness(
    x: np.ndarray, sr: int, chunk: int = LOUDNESS_CHUNK, weights: Sequence[float] | None = None
) -> float:
    """Integrated gated loudness (ITU-R BS.1770-4) of ``x`` in LUFS, streamed; ``-inf`` when every block is gated.

    ``x`` is mono ``(n,)`` or ``(channels, n)``; each channel is K-weighted and its block powers are
    summed with its BS.1770 weight (``weights``: 1.0 for L/R/C, 1.41 for the surrounds, 0 for LFE;
    default pyloudnorm's L, R, C, Ls, Rs order). The same figure as
    ``pyloudnorm.Meter(sr).integrated_loudness(x.T)`` (to ~1e-9 LU) without its whole-signal float64
    copies (~1 GB for 15 minutes of mono at 48 kHz): ``x`` is filtered ``chunk`` samples at a time.
    Needs at least one 400 ms block.
    """
    import numpy as np

    if np.ndim(x) == 1:
        z = _block_mean_squares(x, sr, chunk)
    elif np.ndim(x) == 2:
        w = _channel_weights(x, weights)
        z = sum(wi * _block_mean_squares(x[i], sr, chunk) for i, wi in enumerate(w) if wi)
        z = np.asarray(z, dtype=np.float64) if np.ndim(z) else np.zeros(0)
    else:
        raise ValueError(f"gated_loudness needs (n,) or (channels, n) audio, got shape {np.shape(x)}")
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(z)
    above_absolute = block_lufs >= -70.0
    if not above_absolute.any():
        return float("-inf")
    relative = -0.691 + 10.0 * np.log10(z[above_absolute].mean()) - 10.0
    gated = (block_lufs > relative) & (block_lufs > -70.0)
    if not gated.any():
        return float("-inf")
    return float(-0.691 + 10.0 * np.log10(z[gated].mean()))


def ungated_loudness(x: np.ndarray, weights: Sequence[float] | None = None) -> float:
    """``-0.691 + 10 log10(mean(x^2))`` (BS.1770 without K-weighting or gating); silence is :data:`SILENT_LUFS`.

    For ``(channels, n)`` audio the channels' mean squares are summed with their BS.1770 ``weights``.
    """
    import numpy as np

    x = np.asarray(x)
    if x.ndim == 2:
        w = _channel_weights(x, weights)
        ms = sum(wi * float(np.mean(np.asarray(x[i], dtype=np.float64) ** 2)) for i, wi in enumerate(w)
                 if wi and x.shape[1])
    else:
        ms = float(np.mean(np.asarray(x, dtype=np.float64) ** 2)) if np.size(x) else 0.0
    return float(-0.691 + 10 * np.log10(ms)) if ms > 0 else SILENT_LUFS


def _k_weighted_energy(x: np.ndarray, sr: int, chunk: int = LOUDNESS_CHUNK) -> float:
    """Sum of squares of mono ``x`` after BS.1770 K-weighting (pyloudnorm's filters), filtered ``chunk`` samples
    at a time."""
    import numpy as np
    from scipy.signal import lfilter

    stages = _k_weighting(sr)
    states = [np.zeros(max(len(a), len(b)) - 1) for b, a, _ in stages]
    total = 0.0
    for c0 in range(0, len(x), chunk):
        y = np.asarray(x[c0:c0 + chunk], dtype=np.float64)
        for i, (b, a, gain) in enumerate(stages):
            y, states[i] = lfilter(b, a, y, zi=states[i])
            y = gain * y
        total += float(np.dot(y, y))
    return total


def k_weighted_loudness(x: np.ndarray, sr: int, weights: Sequence[float] | None = None) -> float:
    """Ungated BS.1770 loudness: ``-0.691 + 10 log10`` of the K-weighted mean square (channels of ``(channels, n)``
    ``x`` summed with their BS.1770 ``weights``); :data:`SILENT_LUFS` when that is zero."""
    import numpy as np

    x = np.asarray(x)
    n = x.shape[-1] if x.ndim else 0
    if n == 0:
        return SILENT_LUFS
    if x.ndim == 2:
        ms = sum(wi * _k_weighted_energy(x[i], sr) / n for i, wi in enumerate(_channel_weights(x, weights)) if wi)
    else:
        ms = _k_weighted_energy(x, sr) / n
    return float(-0.691 + 10 * np.log10(ms)) if ms > 0 else SILENT_LUFS


#: BS.1770's absolute gate (LUFS): a block below it is not counted, a signal with no block above it is silent
ABSOLUTE_GATE_LUFS = -70.0


def below_absolute_gate(x: np.ndarray, sr: int, weights: Sequence[float] | None = None) -> bool:
    """Whether ``x`` is silent by BS.1770: all zeros, or no K-weighted 400 ms block at or above the -70 LUFS
    absolute gate (gated loudness ``-inf``, as pyloudnorm finds); a clip shorter than one block when its
    K-weighted mean square is below -70 LUFS.

    K-weighted, unlike :func:`loudness`'s ungated fallback: a DC offset or infrasound (which the K-weighting
    high-pass removes) is silence here, however large its plain mean square. ``x`` is mono or
    ``(channels, n)`` with BS.1770 channel ``weights`` (see :func:`gated_loudness`).
    """
    import numpy as np

    x = np.asarray(x)
    if x.size == 0 or not np.any(x):
        return True
    if x.shape[-1] >= int(GATE_BLOCK_SECONDS * sr) + 1:
        return not np.isfinite(gated_loudness(x, sr, weights=weights))
    return k_weighted_loudness(x, sr, weights) < ABSOLUTE_GATE_LUFS


def loudness_and_method(x: np.ndarray, sr: int, weights: Sequence[float] | None = None) -> tuple[float, bool]:
    """``(LUFS, gated)`` of ``x`` (mono, or ``(channels, n)`` with BS.1770 channel ``weights``, see
    :func:`gated_loudness`); ``gated`` is False when :func:`ungated_loudness` was used.

    Gated BS.1770-4 (:func:`gated_loudness`) for clips of at least one 400 ms block whose gated loudness is
    finite; the ungated value for shorter clips and for clips below the -70 LUFS absolute gate. That
    fallback is not K-weighted (a DC offset counts): it is a level to scale by (the mixing ratio, loudness
    matching), not a silence test; whether a signal is silent is :func:`below_absolute_gate`.
    """
    import numpy as np

    x = np.asarray(x)
    if x.size == 0 or not np.any(x):
        return SILENT_LUFS, False
    if x.shape[-1] >= int(GATE_BLOCK_SECONDS * sr) + 1:
        value = gated_loudness(x, sr, weights=weights)
        if np.isfinite(value):
            return float(value), True
    return ungated_loudness(x, weights), False


def loudness(x: np.ndarray, sr: int, weights: Sequence[float] | None = None) -> float:
    """Loudness of ``x`` in LUFS (see :func:`loudness_and_method`: mono, or ``(channels, n)`` with BS.1770
    channel ``weights``); silence is :data:`SILENT_LUFS`."""
    return loudness_and_method(x, sr, weights)[0]


# ---------------------------------------------------------------- silero-vad
_VAD_MODELS: dict[bool, Any] = {}
_VAD_LOCK = threading.Lock()


def vad_model(onnx: bool | None = False) -> Any:
    """The silero-vad model shipped in the ``silero_vad`` package (cached per process; no network).

    ``onnx=True`` loads the ONNX model, ``False`` the TorchScript one, ``None`` ONNX when onnxruntime
    is installed.
    """
    if onnx is None:
        try:
            import onnxruntime  # noqa: F401

            onnx = True
        except ImportError:
            onnx = False
    with _VAD_LOCK:
        if onnx not in _VAD_MODELS:
            from silero_vad import load_silero_vad

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # importlib.resources.path in silero_vad
                _VAD_MODELS[onnx] = load_silero_vad(onnx=onnx)
        return _VAD_MODELS[onnx]


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        logging.getLogger(__name__).warning(message)


def vad_layers() -> SileroLayers:
    """The TorchScript model's layers for whole-track use (:mod:`anim400k.silero_sequence`; cached)."""
    from .silero_sequence import silero_layers

    return silero_layers(vad_model(False))


#: silero-vad reads 16 kHz audio in frames of this many samples, each with the 64 samples before it as context
VAD_FRAME, VAD_CONTEXT = 512, 64


def vad_probabilities(session: Any, audio: np.ndarray) -> np.ndarray:
    """silero-vad's speech probability per 512-sample frame of mono 16 kHz ``audio`` (the last frame zero-padded).

    ``session`` is the ONNX model's onnxruntime session. This is the loop of
    ``silero_vad.get_speech_timestamps`` over its ``OnnxWrapper`` (same inputs: each frame with the
    previous 64 samples, the recurrent state carried over; the same probabilities, bit for bit)
    in plain numpy, which takes about half the CPU time: the wrapper's torch tensor work per
    32 ms frame cost as much as the model itself.
    """
    import numpy as np

    n = -(-audio.size // VAD_FRAME)
    padded = np.zeros(VAD_CONTEXT + n * VAD_FRAME, np.float32)
    padded[VAD_CONTEXT:VAD_CONTEXT + audio.size] = audio
    state = np.zeros((2, 1, 128), np.float32)
    sr = np.array(ANALYSIS_SR, dtype=np.int64)
    probs = np.empty(n, np.float32)
    run = session.run
    for i in range(n):
        start = i * VAD_FRAME  # frame i is padded[start + 64 : start + 576]; its context the 64 samples before
        out, state = run(None, {"input": padded[None, start:start + VAD_CONTEXT + VAD_FRAME], "state": state,
                                "sr": sr})
        probs[i] = out[0, 0]
    return probs


#: How silero-vad is run (:func:`speech_timestamps`): ``sequence`` (the default,
#: :mod:`anim400k.silero_sequence`: the whole track at once, ~1/4 of the ONNX loop's CPU, probabilities
#: within 1e-5 of silero's), ``onnx`` (the ONNX model frame by frame: silero's own probabilities bit for
#: bit, onnxruntime) or ``torchscript`` (silero's own loop over its TorchScript model).
VAD_ENGINES = ("sequence", "onnx", "torchscript")


def speech_timestamps(
    audio: np.ndarray,
    threshold: float = 0.5,
    min_speech_ms: int = 250,
    min_silence_ms: int = 100,
    speech_pad_ms: int = 30,
    max_speech_s: float = float("inf"),
    engine: str = "sequence",
    neg_threshold: float | None = None,
) -> np.ndarray:
    """silero-vad speech regions of mono 16 kHz ``audio`` as an ``(n, 2)`` float array of seconds.

    The parameters are ``silero_vad.get_speech_timestamps``'s (``neg_threshold``: the probability under
    which a region may end; silero's default, None, is ``threshold - 0.15``); ``engine`` is one of
    :data:`VAD_ENGINES` (the regions come from silero's own rules over the probabilities in every case).
    """
    import numpy as np

    if engine not in VAD_ENGINES:
        raise ValueError(f"unknown VAD engine {engine!r} (choose from {', '.join(VAD_ENGINES)})")
    x = np.ascontiguousarray(audio, dtype=np.float32)
    options = {
        "threshold": threshold,
        "sampling_rate": ANALYSIS_SR,
        "min_speech_duration_ms": min_speech_ms,
        "max_speech_duration_s": max_speech_s,
        "min_silence_duration_ms": min_silence_ms,
        "speech_pad_ms": speech_pad_ms,
    }
    if neg_threshold is not None:
        options["neg_threshold"] = neg_threshold
    if engine == "torchscript":
        import torch
        from silero_vad import get_speech_timestamps

        model = vad_model(False)
        with torch.inference_mode():
            stamps = get_speech_timestamps(torch.from_numpy(x), model, **options)
        model.reset_states()
    else:
        from silero_vad.utils_vad import get_speech_timestamps_from_probs

        layers = None
        if engine == "sequence":
            try:
                layers = vad_layers()
            except RuntimeError as exc:  # another silero release: its own frame loop (ONNX) instead
                _warn_once(f"silero-vad runs frame by frame: {exc}")
        if layers is None:
            probs = vad_probabilities(vad_model(True).session, x)
        else:
            from .silero_sequence import speech_probabilities

            probs = speech_probabilities(x, layers)
        stamps = get_speech_timestamps_from_probs(probs.tolist(), audio_length_samples=x.size, **options)
    if not stamps:
        return np.zeros((0, 2))
    return np.array([[s["start"], s["end"]] for s in stamps], dtype=np.float64) / ANALYSIS_SR
