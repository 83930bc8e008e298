"""Build a small, randomly initialised anime-speaker-embedding model folder, offline.

This exists so that tests can run the *real* loading and embedding code of
:mod:`anim400k.diarize.anime_embedding` (the package's ``AnimeSpeakerEmbedding``: speechbrain
``Fbank`` -> ECAPA-TDNN with GroupNorm) without downloading weights. The architecture is the
released one with narrower layers (256 channels instead of 1024, 32-dimensional embeddings),
written as ``embedding_model.pth`` plus a ``config.json`` naming those sizes. Its embeddings
are meaningless; their shapes and code path are real.

Requires the ``anime`` extra (``anime-speaker-embedding``, ``speechbrain``).
"""

from __future__ import annotations

import json
from pathlib import Path

SMALL_ARCH = {"n_mels": 80, "lin_neurons": 32, "channels": [256, 256, 256, 256, 768],
              "kernel_sizes": [5, 3, 3, 3, 1], "num_groups": 32}


def build_random_anime_embedding(folder: str | Path, seed: int = 0) -> Path:
    """Write a random small model (``embedding_model.pth`` + ``config.json``) into ``folder``; return it."""
    import torch

    from ..diarize.speechbrain_import import import_speechbrain

    import_speechbrain()
    from anime_speaker_embedding.model import swap_bn_to_gn
    from speechbrain.lobes.features import Fbank
    from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    module = torch.nn.Module()
    module.backbone = ECAPA_TDNN(input_size=SMALL_ARCH["n_mels"], lin_neurons=SMALL_ARCH["lin_neurons"],
                                 channels=SMALL_ARCH["channels"], kernel_sizes=SMALL_ARCH["kernel_sizes"])
    swap_bn_to_gn(module.backbone, num_groups=SMALL_ARCH["num_groups"])
    module.fbank = Fbank(sample_rate=16000, n_mels=SMALL_ARCH["n_mels"])
    torch.save(module.state_dict(), out / "embedding_model.pth")
    (out / "config.json").write_text(json.dumps(SMALL_ARCH, indent=1), encoding="utf-8")
    return out
