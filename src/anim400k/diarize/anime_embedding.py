"""In-domain speaker embeddings: ``anime-speaker-embedding`` (ECAPA-TDNN trained on anime speech).

The package (MIT, ``pip install 'anim400k[anime]'``) fetches its weights from a model hub by
default; here they are always loaded from a local folder (or the ``.pth`` file itself), so no
download ever happens. A folder holds ``embedding_model.pth`` as in the released snapshots
(``litagin/anime_speaker_embedding_ecapa_tdnn_groupnorm`` for characters, ``..._by_va_...`` for
voice actors) and, optionally, a ``config.json`` with the architecture's keyword arguments
(``n_mels``, ``lin_neurons``, ``channels``, ``kernel_sizes``, ``num_groups``); without it the
released architecture is assumed. The checkpoint must match the architecture key for key
(the package itself loads with ``strict=False``, which would silently keep random weights).

Get the weights once on a machine with network access::

    hf download litagin/anime_speaker_embedding_ecapa_tdnn_groupnorm --local-dir models/anime-speaker
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoint_file import check_checkpoint_file
from ..errors import BackendUnavailable, InputError, ModelRequired, reason, shape_mismatch, torch_load_failure
from ..offline import force_offline
from ..signal import ANALYSIS_SR

SR = ANALYSIS_SR
CHECKPOINT = "embedding_model.pth"
CONFIG = "config.json"
#: Environment variable naming the model folder when no ``model`` option is given.
MODEL_ENV = "ANIM400K_ANIME_SPEAKER_MODEL"
ARCH_KEYS = ("n_mels", "lin_neurons", "channels", "kernel_sizes", "num_groups")


def resolve_model(model: str | Path | None) -> tuple[Path, dict[str, Any]]:
    """The checkpoint path and architecture options for ``model`` (folder or ``.pth``; env var if None)."""
    if model is None:
        model = os.environ.get(MODEL_ENV)
        if not model:
            raise ModelRequired("anime", f"a local anime-speaker-embedding folder with {CHECKPOINT}",
                                env=MODEL_ENV)
    path = Path(model).expanduser()
    if not path.exists():
        raise InputError("anime speaker embedding model not found", path)
    folder = path if path.is_dir() else path.parent
    ckpt = path / CHECKPOINT if path.is_dir() else path
    if not ckpt.is_file():
        raise InputError(f"no {CHECKPOINT} in the anime speaker embedding folder", path)
    check_checkpoint_file(ckpt, "an anime-speaker-embedding checkpoint")
    arch: dict[str, Any] = {}
    cfg = folder / CONFIG
    if cfg.is_file():
        try:
            data = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"not a readable config.json: {exc}", cfg) from None
        if not isinstance(data, dict):
            raise InputError("config.json must be an object", cfg)
        arch = check_arch(data, cfg)
    return ckpt, arch


def check_arch(data: dict[str, Any], cfg: Path) -> dict[str, Any]:
    """The architecture options of ``config.json`` (``data``), refusing (:class:`InputError` naming
    ``cfg``) keys that are not :data:`ARCH_KEYS` (they were ignored and the defaults used) and values
    of the wrong kind (the package failed on them with an empty ``AssertionError``)."""
    unknown = sorted(str(k) for k in data if k not in ARCH_KEYS)
    if unknown:
        raise InputError(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                         f"(config.json holds only the architecture: {', '.join(ARCH_KEYS)})", cfg)

    def positive(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v > 0

    for key in ("n_mels", "lin_neurons", "num_groups"):
        if key in data and not positive(data[key]):
            raise InputError(f"{key} must be a positive integer, not {data[key]!r}", cfg)
    for key in ("channels", "kernel_sizes"):
        if key in data and not (isinstance(data[key], list) and data[key] and all(map(positive, data[key]))):
            raise InputError(f"{key} must be a list of positive integers (one per layer), not {data[key]!r}", cfg)
    if "channels" in data and "kernel_sizes" in data and len(data["channels"]) != len(data["kernel_sizes"]):
        raise InputError(f"channels and kernel_sizes must have one entry per layer each, not "
                         f"{len(data['channels'])} and {len(data['kernel_sizes'])}", cfg)
    return {k: data[k] for k in ARCH_KEYS if k in data}


def load_anime_encoder(model: str | Path | None = None, device: str = "cpu") -> Any:
    """The package's ``AnimeSpeakerEmbedding`` with weights from the local ``model`` folder or file
    (``$ANIM400K_ANIME_SPEAKER_MODEL`` when ``None``); loaded once per path and device."""
    if model is None:
        model = os.environ.get(MODEL_ENV) or None
    if model is None:
        resolve_model(None)  # raises the "needs a local model folder" error
    return _load(str(Path(str(model)).expanduser().resolve()), device)


@functools.lru_cache(maxsize=2)
def _load(model: str, device: str) -> Any:
    force_offline()
    ckpt, arch = resolve_model(model)
    try:
        import torch

        from .speechbrain_import import import_speechbrain

        import_speechbrain()
        from anime_speaker_embedding import AnimeSpeakerEmbedding
    except ImportError as exc:
        raise BackendUnavailable("anime", "anime", str(exc)) from None
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable checkpoint is an input problem
        failure = torch_load_failure(exc, "an anime-speaker-embedding checkpoint")
        raise InputError(failure[0] if failure else f"not a readable PyTorch checkpoint: {reason(exc)}",
                         ckpt) from None
    if not isinstance(state, dict):
        raise InputError("checkpoint is not a state dict", ckpt)
    cfg = ckpt.parent / CONFIG
    settings = "per config.json" if cfg.is_file() else f"no {CONFIG}: the released architecture assumed"
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints what it loads
            enc = AnimeSpeakerEmbedding(ckpt_path=ckpt, device=device, **arch)
    except (AssertionError, TypeError, ValueError, IndexError) as exc:
        raise InputError(f"bad architecture in config.json: {reason(exc)}", cfg) from None
    except RuntimeError as exc:
        found = shape_mismatch(exc)
        if found:  # "weights do not fit the model's settings (N tensors differ...)"
            raise InputError(found.replace("the model's settings (", f"the architecture ({settings}; ", 1),
                             ckpt) from None
        raise InputError(f"checkpoint does not fit the architecture ({settings}): {reason(exc)}", ckpt) from None
    expected = set(enc.state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        raise InputError(
            f"not an anime-speaker-embedding checkpoint for this architecture "
            f"({len(missing)} missing keys, e.g. {sorted(missing)[:2]}; {len(unexpected)} unexpected)", ckpt)
    enc.eval()
    return enc


def embed_windows(audio: np.ndarray, windows: np.ndarray, encoder: Any, batch_size: int = 64) -> np.ndarray:
    """L2-normalised embeddings ``(n, dim)`` of the 16 kHz ``audio`` inside each window (seconds).

    Windows of equal length are batched together (most are the nominal window length).
    """
    import torch

    dim = int(encoder.backbone.fc.conv.out_channels)
    out = np.zeros((len(windows), dim), dtype=np.float32)
    if len(windows) == 0:
        return out
    idx = np.clip(np.round(np.asarray(windows) * SR).astype(int), 0, len(audio))
    lengths = np.maximum(idx[:, 1] - idx[:, 0], 1)
    x = np.pad(np.asarray(audio, dtype=np.float32), (0, int(lengths.max())))
    device = getattr(encoder, "device", "cpu")
    with torch.inference_mode():
        for length in np.unique(lengths):
            sel = np.nonzero(lengths == length)[0]
            for b0 in range(0, len(sel), batch_size):
                rows = sel[b0 : b0 + batch_size]
                batch = np.stack([x[idx[i, 0] : idx[i, 0] + length] for i in rows])
                emb = encoder(torch.from_numpy(batch).to(device)).reshape(len(rows), -1)
                emb = emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-8)
                out[rows] = emb.float().cpu().numpy()
    return out
