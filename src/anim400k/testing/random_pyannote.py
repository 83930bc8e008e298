"""A tiny pyannote.audio speaker-diarization pipeline with random weights, written to a folder.

The layout is that of the real snapshots, so the backend loads it exactly as it loads them:

- ``segmentation/pytorch_model.bin``: a ``PyanNet`` (SincNet, one small LSTM and linear layer)
  with the specifications of ``pyannote/segmentation-3.0``: 10 s chunks, 3 speakers, powerset
  of at most 2 speakers per frame;
- ``embedding/pytorch_model.bin``: a ``WeSpeakerResNet34`` on 8 mel bins (the real one uses 80);
- ``plda/{xvec_transform,plda}.npz``: a random well-conditioned PLDA (community-1's VBx needs one);
- ``config.yaml`` in the ``community-1`` layout (VBx clustering, ``$model/...`` entries) or the
  ``3.1`` layout (agglomerative clustering, paths relative to the config), with the real
  pipelines' parameters.

Checkpoints are written as pyannote's Lightning checkpoints (``on_save_checkpoint`` adds the
architecture and specifications) so ``pyannote.audio.Model.from_pretrained(path)`` reads them.
Building takes about a second; nothing touches the network.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml

SEGMENTATION_DURATION = 10.0
EMBEDDING_DIM = 256  # WeSpeakerResNet34's embedding size
LDA_DIM = 16

# The parameters of the real pipelines' config.yaml files.
COMMUNITY1_PARAMS = {"clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8}, "segmentation": {"min_duration_off": 0.0}}
V31_PARAMS = {
    "clustering": {"method": "centroid", "min_cluster_size": 12, "threshold": 0.7045654963945799},
    "segmentation": {"min_duration_off": 0.0},
}


def _save_checkpoint(model: Any, path: Path) -> None:
    """Write ``model`` as the Lightning checkpoint ``Model.from_pretrained`` expects."""
    import lightning
    import torch

    ckpt: dict[str, Any] = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(ckpt)  # adds pyannote.audio versions, architecture and specifications
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)


def _segmentation_model() -> Any:
    """A tiny randomly initialised PyanNet with segmentation-3.0's powerset specifications."""
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.segmentation import PyanNet

    model = PyanNet(lstm={"hidden_size": 16, "num_layers": 1}, linear={"hidden_size": 16, "num_layers": 1})
    model.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=SEGMENTATION_DURATION,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    model.build()  # the classifier over the 7 powerset classes
    with torch.no_grad():
        # powerset classes: {}, {1}, {2}, {3}, {1,2}, {1,3}, {2,3}; favour single speakers so that the
        # random model finds speech (an all-silence output would skip clustering entirely)
        model.classifier.bias.copy_(torch.tensor([0.0, 2.0, 2.0, 1.0, -2.0, -2.0, -2.0]))
    return model


def _embedding_model() -> Any:
    """A randomly initialised WeSpeaker ResNet34 on 8 mel bins (a tenth of the real model's compute)."""
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34

    model = WeSpeakerResNet34(num_mel_bins=8)
    model.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=SEGMENTATION_DURATION
    )
    return model


def _write_plda(folder: Path, rng: np.random.Generator) -> None:
    """A random PLDA in pyannote's VBx format (``xvec_transform.npz`` and ``plda.npz``)."""
    folder.mkdir(parents=True, exist_ok=True)
    lda = np.linalg.qr(rng.normal(size=(EMBEDDING_DIM, LDA_DIM)))[0]
    np.savez(folder / "xvec_transform.npz", mean1=0.01 * rng.normal(size=EMBEDDING_DIM),
             mean2=0.01 * rng.normal(size=LDA_DIM), lda=lda)
    tr = np.linalg.qr(rng.normal(size=(LDA_DIM, LDA_DIM)))[0]
    psi = np.sort(rng.uniform(0.5, 5.0, size=LDA_DIM))[::-1].copy()
    np.savez(folder / "plda.npz", mu=np.zeros(LDA_DIM), tr=tr, psi=psi)


def write_tiny_models(folder: Path, seed: int = 0) -> None:
    """Write ``segmentation/``, ``embedding/`` and ``plda/`` under ``folder`` (random weights, ``seed``)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # pyannote.audio 4 warns at import when torchcodec has no FFmpeg
        warnings.filterwarnings("ignore", message=r"\s*torchcodec is not installed correctly")
        import pyannote.audio  # noqa: F401
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        _save_checkpoint(_segmentation_model(), folder / "segmentation" / "pytorch_model.bin")
        _save_checkpoint(_embedding_model(), folder / "embedding" / "pytorch_model.bin")
    _write_plda(folder / "plda", np.random.default_rng(seed))


def pipeline_config(layout: str = "community-1", **changes: Any) -> dict[str, Any]:
    """The config.yaml content of the real pipeline ``layout`` with entries pointing at local models.

    ``community-1``: VBx clustering, ``$model/segmentation`` etc. (pyannote.audio 4 only);
    ``3.1``: agglomerative clustering, models as paths relative to the config (as a user writes them
    for a ``speaker-diarization-3.1`` snapshot). ``changes`` replace pipeline params.
    """
    if layout == "community-1":
        params: dict[str, Any] = {
            "clustering": "VBxClustering", "embedding": "$model/embedding", "embedding_batch_size": 32,
            "embedding_exclude_overlap": True, "plda": "$model/plda", "segmentation": "$model/segmentation",
            "segmentation_batch_size": 32,
        }
        config: dict[str, Any] = {"dependencies": {"pyannote.audio": "4.0.0"}, "params": COMMUNITY1_PARAMS}
    elif layout == "3.1":
        params = {
            "clustering": "AgglomerativeClustering", "embedding": "embedding", "embedding_batch_size": 32,
            "embedding_exclude_overlap": True, "segmentation": "./segmentation/pytorch_model.bin",
            "segmentation_batch_size": 32,
        }
        config = {"version": "3.1.0", "params": V31_PARAMS}
    else:
        raise ValueError(f"unknown layout {layout!r}")
    params.update(changes)
    config["pipeline"] = {"name": "pyannote.audio.pipelines.SpeakerDiarization", "params": params}
    return config


def write_tiny_pipeline(folder: Path, layout: str = "community-1", seed: int = 0, models: bool = True,
                        **changes: Any) -> Path:
    """Write a tiny diarization pipeline (models unless ``models=False``, and config.yaml) to ``folder``.

    Returns the path of ``config.yaml``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if models:
        write_tiny_models(folder, seed)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(pipeline_config(layout, **changes), sort_keys=False), encoding="utf-8")
    return path
