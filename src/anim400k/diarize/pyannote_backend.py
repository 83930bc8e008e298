"""The production diarizer: a pyannote.audio pipeline loaded from a local path (never from the hub).

Install with ``pip install 'anim400k[pyannote]'`` and give the pipeline's ``config.yaml`` (or the
folder holding it, e.g. a downloaded ``pyannote/speaker-diarization-3.1`` snapshot whose config
points at local model checkpoints) with ``pipeline=PATH`` or ``ANIM400K_PYANNOTE_PIPELINE``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendUnavailable, InputError
from ..formats.rttm import annotation_to_turns
from .base import Turn, relabel_by_first_appearance

ENV_PIPELINE = "ANIM400K_PYANNOTE_PIPELINE"


class PyannoteDiarizer:
    """``pyannote.audio.Pipeline`` wrapper: audio array in, :class:`Turn` list out."""

    name = "pyannote"

    def __init__(
        self,
        pipeline: str | Path | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        device: str = "cpu",
    ) -> None:
        self.num_speakers = num_speakers
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        pipeline_cls = import_pipeline_class()
        self.config_path = resolve_pipeline_path(pipeline)
        self._pipeline = load_pipeline(self.config_path, device, pipeline_cls)

    def diarize(self, audio: np.ndarray, sr: int) -> list[Turn]:
        """Run the pipeline on mono ``audio`` (``sr`` Hz) and return its turns (labels ``spk0..``)."""
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)).reshape(1, -1)
        kwargs: dict[str, Any] = {}
        if self.num_speakers is not None:
            kwargs["num_speakers"] = int(self.num_speakers)
        if self.min_speakers is not None:
            kwargs["min_speakers"] = int(self.min_speakers)
        if self.max_speakers is not None:
            kwargs["max_speakers"] = int(self.max_speakers)
        output = self._pipeline({"waveform": waveform, "sample_rate": int(sr)}, **kwargs)
        return relabel_by_first_appearance(annotation_to_turns(output_annotation(output)))


def output_annotation(output: Any) -> Any:
    """The ``Annotation`` in a pipeline's output (pyannote 3.x returns it; 4.x wraps it)."""
    for attr in ("speaker_diarization", "diarization"):
        if hasattr(output, attr):
            return getattr(output, attr)
    return output


def resolve_pipeline_path(pipeline: str | Path | None) -> Path:
    """The local ``config.yaml`` of the pipeline (a folder is searched for ``config.yaml``)."""
    raw = pipeline or os.environ.get(ENV_PIPELINE)
    if not raw:
        raise BackendUnavailable(
            "pyannote", None,
            f"give the local pipeline config.yaml with pipeline=PATH or {ENV_PIPELINE}; models are never "
            "downloaded",
        )
    path = Path(raw).expanduser()
    if path.is_dir():
        path = path / "config.yaml"
    if not path.is_file():
        raise InputError("pyannote pipeline config not found", path)
    return path


def import_pipeline_class() -> Any:
    """``pyannote.audio.Pipeline``, imported offline; ``BackendUnavailable`` naming the extra if missing."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from pyannote.audio import Pipeline
    except ImportError as exc:
        raise BackendUnavailable("pyannote", "pyannote", f"pyannote.audio is not installed: {exc}") from None
    return Pipeline


def load_pipeline(config_path: Path, device: str = "cpu", pipeline_cls: Any = None) -> Any:
    """Load ``pyannote.audio.Pipeline`` from a local config, offline (``HF_HUB_OFFLINE=1``)."""
    Pipeline = pipeline_cls or import_pipeline_class()  # noqa: N806
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        pipeline = Pipeline.from_pretrained(str(config_path))
    except Exception as exc:  # noqa: BLE001 - pyannote raises many kinds of errors for bad configs
        raise InputError(f"cannot load the pyannote pipeline: {exc}", config_path) from None
    if pipeline is None:
        raise InputError("pyannote could not load a pipeline from this config", config_path)
    if device != "cpu":
        import torch

        pipeline.to(torch.device(device))
    return pipeline
