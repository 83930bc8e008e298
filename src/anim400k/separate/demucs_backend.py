"""Demucs separation (pip extra ``anim400k[demucs]``), weights from a local path only.

``DemucsSeparator(model=PATH)``: ``PATH`` is either a serialised model file (a ``.th``
package as written by ``demucs.states.serialize_model`` / ``torch.save`` of
``{"klass", "args", "kwargs", "state"}``), loaded with ``demucs.states.load_model``; or a
folder holding pretrained files (``<name>.th`` / ``<name>.yaml`` bags, e.g. a copy of
``~/.cache/torch/hub/checkpoints``) together with ``model_name=`` (e.g. ``htdemucs``), loaded
with ``demucs.pretrained.get_model(name, repo=PATH)``. Nothing is downloaded.

The mix is resampled to the model's rate and channel count, separated with
``demucs.apply.apply_model`` (8 s chunks, 25 % overlap), and the sources other than
``vocals`` are summed into the backing; both are returned at the input rate.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendUnavailable, InputError, ModelRequired
from ..model import TimeMap
from .base import Separation, to_mono

#: What ``model`` must be (in the message when it is missing).
MODEL_WHAT = "a local .th file or folder"


class DemucsSeparator:
    """Demucs/HTDemucs from a local checkpoint; see the module docstring."""

    name = "demucs"

    def __init__(
        self,
        model: str | Path | None = None,
        model_name: str = "htdemucs",
        device: str = "cpu",
        shifts: int = 0,
        threads: int | None = None,
        progress: bool = False,
    ):
        if model is None:
            raise ModelRequired("demucs", MODEL_WHAT)
        self.path = Path(model)
        self.model_name = model_name
        self.device = device
        self.shifts = shifts
        self.threads = threads
        #: demucs' own progress bar over its chunks, drawn when stderr is a terminal
        self.progress = progress
        self._model: Any = None

    def check(self) -> None:
        """Check the model path without loading it: a file, or a folder holding ``model_name``'s
        ``.yaml`` bag or a ``.th`` file (what ``demucs.pretrained.get_model`` reads)."""
        if not self.path.exists():
            raise InputError("demucs model file or folder not found", self.path)
        if self.path.is_dir() and not ((self.path / f"{self.model_name}.yaml").is_file()
                                       or any(self.path.glob("*.th"))):
            raise InputError(f"no {self.model_name}.yaml or .th file in the demucs model folder", self.path)
        if self.path.is_file() and self.path.stat().st_size == 0:
            raise InputError("empty demucs model file", self.path)

    def load(self) -> Any:
        """Load (once) and return the demucs model (checked first: :meth:`check`)."""
        if self._model is not None:
            return self._model
        self.check()
        try:
            from demucs.pretrained import get_model
            from demucs.states import load_model
        except ImportError as exc:
            raise BackendUnavailable("demucs", "demucs", str(exc)) from exc
        try:
            model = get_model(self.model_name, repo=self.path) if self.path.is_dir() else load_model(self.path)
        except Exception as exc:  # noqa: BLE001 - demucs raises assorted errors for bad files
            raise InputError(f"cannot load a demucs model: {exc}", self.path) from exc
        model.eval()
        if "vocals" not in list(model.sources):
            raise InputError(f"demucs model has no 'vocals' source (sources: {model.sources})", self.path)
        self._model = model
        return model

    def separate(
        self,
        audio: np.ndarray,
        sr: int,
        reference: np.ndarray | None = None,
        time_map: TimeMap | None = None,
    ) -> Separation:
        """Separate ``audio`` (``reference``/``time_map`` are ignored)."""
        import soxr
        import torch
        from demucs.apply import apply_model

        model = self.load()
        if self.threads:
            torch.set_num_threads(self.threads)
        x = to_mono(audio)
        msr = int(model.samplerate)
        y = soxr.resample(x, sr, msr) if sr != msr else x
        chans = int(model.audio_channels)
        wav = torch.from_numpy(np.ascontiguousarray(np.tile(y[None, :], (chans, 1)), dtype=np.float32))
        ref = wav.mean(0)
        scale = float(ref.std()) or 1.0
        wav = (wav - ref.mean()) / scale
        with torch.no_grad():
            out = apply_model(model, wav[None], shifts=self.shifts, split=True, overlap=0.25, device=self.device,
                              progress=self.progress and sys.stderr.isatty())
        out = (out[0] * scale + ref.mean()).mean(dim=1).cpu().numpy()  # (sources, n) mono
        k = list(model.sources).index("vocals")
        vocals = out[k]
        backing = out.sum(axis=0) - vocals
        if sr != msr:
            vocals = soxr.resample(vocals, msr, sr)
            backing = soxr.resample(backing, msr, sr)
        n = x.size
        return Separation(
            backing=_fit(backing, n), vocals=_fit(vocals, n), sr=sr, method=f"demucs/{type(model).__name__}"
        )


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x[:n] if x.size >= n else np.pad(x, (0, n - x.size))
