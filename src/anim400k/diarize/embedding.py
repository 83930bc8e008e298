"""Speaker embeddings of sliding windows with Resemblyzer's GE2E d-vector model (shipped in the package).

All windows of an episode go through the LSTM in a few batched forward passes (windows
shorter than the nominal length, from short speech regions, are packed, not zero-padded),
which is much faster than one ``embed_utterance`` call per window.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from ..signal import ANALYSIS_SR

EMBED_SR = ANALYSIS_SR
#: Resemblyzer's mel frame hop (10 ms) in seconds.
FRAME = 0.01
_N_FFT = 400
_HOP = 160
_N_MELS = 40
#: Resemblyzer normalises utterances to this level before embedding.
TARGET_DBFS = -30.0


@functools.lru_cache(maxsize=1)
def load_encoder(device: str = "cpu") -> Any:
    """Resemblyzer's ``VoiceEncoder`` with the ``pretrained.pt`` weights that ship in the package."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad imports pkg_resources; scipy.ndimage.morphology
        from resemblyzer import VoiceEncoder

    encoder = VoiceEncoder(device, verbose=False)
    encoder.eval()
    return encoder


@functools.lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=EMBED_SR, n_fft=_N_FFT, n_mels=_N_MELS).astype(np.float32)


#: tracks of more mel frames than this (~44 minutes) are analysed in blocks (:func:`mel_frames`)
MEL_WHOLE_MAX = 1 << 18
#: frames per block then (~11 minutes: ~160 MB of STFT instead of ~1.7 GB for two hours)
MEL_BLOCK = 1 << 16


def mel_frames(audio: np.ndarray) -> np.ndarray:
    """Resemblyzer's (non-log) mel spectrogram of 16 kHz ``audio``: shape ``(frames, 40)``, 10 ms hop.

    Same values as ``resemblyzer.audio.wav_to_mel_spectrogram`` but computed with ``torch.stft``. A
    track of more than :data:`MEL_WHOLE_MAX` frames goes through in blocks of about :data:`MEL_BLOCK`
    frames (each from the samples its frames read, zeros beyond the track), so that its complex STFT
    never exists whole; shorter tracks take one call, as they always did (the blocks' values equal
    it to float rounding, ~1e-7 relative).
    """
    import torch

    x = np.ascontiguousarray(audio, dtype=np.float32)
    n = x.size // _HOP + 1
    if n <= MEL_WHOLE_MAX:
        spec = torch.stft(torch.from_numpy(x), n_fft=_N_FFT, hop_length=_HOP, window=torch.hann_window(_N_FFT),
                          center=True, pad_mode="constant", return_complex=True)
        return _mel_of(spec)
    out = np.empty((n, _N_MELS), np.float32)
    edges = np.linspace(0, n, -(-n // MEL_BLOCK) + 1).astype(int)  # equal blocks, none tiny
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        lo, hi = a * _HOP - _N_FFT // 2, (b - 1) * _HOP + _N_FFT // 2  # samples frames a..b-1 read
        seg = np.zeros(hi - lo, np.float32)
        s0, s1 = max(lo, 0), min(hi, x.size)
        if s1 > s0:
            seg[s0 - lo:s1 - lo] = x[s0:s1]
        spec = torch.stft(torch.from_numpy(seg), n_fft=_N_FFT, hop_length=_HOP, window=torch.hann_window(_N_FFT),
                          center=False, return_complex=True)
        out[a:b] = _mel_of(spec)
    return out


def _mel_of(spec: Any) -> np.ndarray:
    """Mel power ``(frames, 40)`` of a complex STFT ``(bins, frames)`` tensor."""
    import torch

    power = spec.real**2 + spec.imag**2
    return (torch.from_numpy(_mel_basis()) @ power).T.contiguous().numpy()


def normalize_regions(audio: np.ndarray, regions: np.ndarray, sr: int = EMBED_SR) -> np.ndarray:
    """Copy of ``audio`` with each speech region scaled to Resemblyzer's -30 dBFS level."""
    out = np.array(audio, dtype=np.float32, copy=True)
    target = 10 ** (TARGET_DBFS / 20)
    for start, end in regions:
        a, b = int(start * sr), int(end * sr)
        seg = out[a:b]
        rms = float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if seg.size else 0.0
        if rms > 1e-5:
            seg *= target / rms
    return out


def sliding_windows(regions: np.ndarray, window: float, hop: float, min_window: float = 0.4) -> np.ndarray:
    """Windows (``(n, 2)`` seconds) of length ``window`` every ``hop`` inside each speech region.

    A region shorter than ``window`` gives one window covering it (if at least ``min_window``
    long); the last window of a region is aligned to the region's end so it is fully covered.
    """
    out: list[tuple[float, float]] = []
    for start, end in regions:
        length = end - start
        if length < min_window:
            continue
        if length <= window:
            out.append((start, end))
            continue
        n = int(np.floor((length - window) / hop)) + 1
        starts = start + hop * np.arange(n)
        if starts[-1] + window < end - 1e-6:
            starts = np.append(starts, end - window)
        out.extend((s, s + window) for s in starts)
    return np.array(out, dtype=np.float64).reshape(-1, 2)


#: windows of one length, at least this many of them, go through the LSTM as one plain (unpacked) batch
EQUAL_BATCH_MIN = 16


def embed_windows(
    mel: np.ndarray, windows: np.ndarray, encoder: Any | None = None, batch_size: int = 256
) -> np.ndarray:
    """L2-normalised d-vectors ``(n, 256)`` of the mel frames inside each window (seconds).

    Windows of one length (most of them: the nominal window; all the short runs' tiled spans) go through
    the LSTM in plain batches of equal-length sequences, which torch runs with oneDNN's LSTM (~20 % less CPU
    than the packed kernel on one thread; the same vectors to ~1e-6); the few windows of other lengths (short
    speech regions) in packed batches, longest first."""
    import torch

    if len(windows) == 0:
        return np.zeros((0, 256), dtype=np.float32)
    encoder = encoder if encoder is not None else load_encoder()
    idx = np.clip(np.round(windows / FRAME).astype(int), 0, len(mel))
    lengths = np.maximum(idx[:, 1] - idx[:, 0], 1)
    out = np.zeros((len(windows), 256), dtype=np.float32)
    values, counts = np.unique(lengths, return_counts=True)
    equal = set(values[counts >= EQUAL_BATCH_MIN].tolist())
    packed = np.array([i for i in np.argsort(-lengths, kind="stable") if lengths[i] not in equal], dtype=int)
    device = next(encoder.parameters()).device  # the frames go where the encoder is (CPU or CUDA)
    with torch.inference_mode():
        for length in sorted(equal, reverse=True):
            rows = np.nonzero(lengths == length)[0]
            for b0 in range(0, len(rows), batch_size):
                sel = rows[b0 : b0 + batch_size]
                _embed_batch(encoder, mel, idx, lengths, sel, device, out, pack=False)
        for b0 in range(0, len(packed), batch_size):
            _embed_batch(encoder, mel, idx, lengths, packed[b0 : b0 + batch_size], device, out, pack=True)
    return out


def _embed_batch(encoder: Any, mel: np.ndarray, idx: np.ndarray, lengths: np.ndarray, sel: np.ndarray,
                 device: Any, out: np.ndarray, pack: bool) -> None:
    """d-vectors of the windows ``sel`` (longest first when ``pack``; all of one length otherwise) into ``out``."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    longest = int(lengths[sel].max())
    batch = np.zeros((len(sel), longest, mel.shape[1]), dtype=np.float32)
    for row, i in enumerate(sel):
        seg = mel[idx[i, 0] : idx[i, 0] + lengths[i]]
        batch[row, : len(seg)] = seg
    x = torch.from_numpy(batch).to(device)
    if pack:
        x = pack_padded_sequence(x, torch.from_numpy(lengths[sel]), batch_first=True, enforce_sorted=True)
    _, (hidden, _) = encoder.lstm(x)
    emb = encoder.relu(encoder.linear(hidden[-1]))
    emb = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-8)
    out[sel] = emb.cpu().numpy()
