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

from ..checkpoint_file import check_checkpoint_file
from ..errors import BackendUnavailable, InputError, ModelRequired, reason, shape_mismatch, torch_load_failure
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
        ``.yaml`` bag or a ``.th`` file (what ``demucs.pretrained.get_model`` reads), each weight file whole
        (:func:`anim400k.checkpoint_file.check_checkpoint_file`)."""
        if not self.path.exists():
            raise InputError("demucs model file or folder not found", self.path)
        if self.path.is_dir() and not ((self.path / f"{self.model_name}.yaml").is_file()
                                       or any(self.path.glob("*.th"))):
            raise InputError(f"no {self.model_name}.yaml or .th file in the demucs model folder", self.path)
        for weights in [self.path] if self.path.is_file() else self._weight_files():
            check_checkpoint_file(weights, "a demucs model file")

    def _weight_files(self) -> list[Path]:
        """The ``.th`` files of the folder that ``model_name`` would load (its own, or its bag's models'),
        as far as they can be named without loading (the loader reports what is missing)."""
        names = [self.model_name]
        bag_file = self.path / f"{self.model_name}.yaml"
        if bag_file.is_file():
            import yaml

            try:
                bag = yaml.safe_load(bag_file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                return []  # the loader says what is wrong with it
            models = bag.get("models") if isinstance(bag, dict) else None
            names = [m for m in models if isinstance(m, str)] if isinstance(models, list) else []
        return [f for name in names for f in sorted(self.path.glob("*.th"))
                if f.stem == name or f.stem.startswith(f"{name}-")]

    def load(self) -> Any:
        """Load (once) and return the demucs model (checked first: :meth:`check`).

        A file is read as demucs' own package (:func:`load_model_file`); a folder is searched for
        ``model_name`` as a ``.th`` file or a ``.yaml`` bag (:meth:`_load_from_folder`), as
        ``demucs.pretrained.get_model(name, repo=folder)`` does, with one-line errors naming the file.
        """
        if self._model is not None:
            return self._model
        self.check()
        try:
            import demucs.apply  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable("demucs", "demucs", str(exc)) from exc
        model = self._load_from_folder() if self.path.is_dir() else load_model_file(self.path)
        model.eval()
        if "vocals" not in list(model.sources):
            raise InputError(f"demucs model has no 'vocals' source (sources: {model.sources})", self.path)
        self._model = model
        return model

    def _load_from_folder(self) -> Any:
        """``model_name`` from the folder: its ``.th`` file (``NAME.th`` or ``NAME-CHECKSUM.th``, the
        checksum verified) or its bag ``NAME.yaml`` (``models: [signature, ...]``, optional
        ``weights`` and ``segment``) whose models are ``.th`` files of the folder and must agree in
        sample rate, channels and sources."""
        from demucs.apply import BagOfModels
        from demucs.repo import LocalRepo

        try:
            files = {sig: Path(f) for sig, f in LocalRepo(self.path).list_model().items()}
        except Exception as exc:  # noqa: BLE001 - demucs' ModelLoadingError: two files for one signature
            raise InputError(f"not a usable demucs model folder: {reason(exc)}", self.path) from None
        if self.model_name in files:
            return _load_signature(files, self.model_name)
        bag_file = self.path / f"{self.model_name}.yaml"
        if not bag_file.is_file():
            raise InputError(f"no {self.model_name}.th or {self.model_name}.yaml in the demucs model folder "
                             "(--model-name names one of them)", self.path)
        import yaml

        try:
            bag = yaml.safe_load(bag_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InputError(f"not a readable demucs bag: {reason(exc)}", bag_file) from None
        signatures = bag.get("models") if isinstance(bag, dict) else None
        if not (isinstance(signatures, list) and signatures and all(isinstance(x, str) for x in signatures)):
            raise InputError("not a demucs bag: it needs `models: [signature, ...]` (names of .th files in its "
                             "folder)", bag_file)
        absent = [sig for sig in signatures if sig not in files]
        if absent:
            raise InputError(f"the bag's model {absent[0]!r} is not in its folder (no {absent[0]}.th)", bag_file)
        models = [_load_signature(files, sig) for sig in signatures]
        for attr, words, unit in (("samplerate", "sample rates", " Hz"), ("audio_channels", "channel counts", ""),
                                  ("sources", "sources", "")):
            values = [getattr(m, attr) for m in models]
            if any(v != values[0] for v in values):
                said = ", ".join(f"{sig}: {v}{unit}" for sig, v in zip(signatures, values, strict=True))
                raise InputError(f"the bag mixes models of different {words} ({said}); demucs averages only "
                                 "models that agree", bag_file)
        try:
            return BagOfModels(models, bag.get("weights"), bag.get("segment"))
        except Exception as exc:  # noqa: BLE001 - demucs asserts on weights that do not fit
            raise InputError(f"not a valid demucs bag (check its weights and segment): {reason(exc)}",
                             bag_file) from None

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


#: the keys of demucs' own model package (``demucs.states.serialize_model``)
PACKAGE_KEYS = ("klass", "args", "kwargs", "state")
_SAVE_HINT = "save with demucs' own format: demucs.states.serialize_model, a dict of klass, args, kwargs, state"


def load_model_file(path: Path) -> Any:
    """The model in a demucs package file (a ``.th``: ``torch.save`` of ``{"klass", "args", "kwargs",
    "state"}``), with one-line errors naming ``path``: a file torch cannot read, a plain state dict or
    another dict, weights that do not fit the settings (summarised: how many tensors differ, one example)."""
    import warnings

    import torch
    from demucs.states import load_model

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            package = torch.load(path, "cpu", weights_only=False)  # the user's own file, as demucs loads it
    except Exception as exc:  # noqa: BLE001 - any unreadable file is an input problem
        failure = torch_load_failure(exc, "a demucs model file")
        raise InputError(failure[0] if failure else f"cannot load a demucs model: {reason(exc)}", path) from None
    if not isinstance(package, dict) or not all(k in package for k in PACKAGE_KEYS):
        if isinstance(package, dict) and package and all(isinstance(v, torch.Tensor) for v in package.values()):
            raise InputError(f"a state dict, not a demucs model file ({_SAVE_HINT})", path)
        held = (f"a dict without {', '.join(k for k in PACKAGE_KEYS if k not in package)}"
                if isinstance(package, dict) else f"a {type(package).__name__}")
        raise InputError(f"not a demucs model file: it holds {held} ({_SAVE_HINT})", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Dropping inexistant parameter ..."
            return load_model(package)
    except Exception as exc:  # noqa: BLE001 - demucs raises assorted errors for bad packages
        found = shape_mismatch(exc)
        raise InputError(found or f"cannot load a demucs model: {reason(exc)}", path) from None


def _load_signature(files: dict[str, Path], sig: str) -> Any:
    """The model ``sig`` of a folder's ``.th`` files, its checksum checked when its name carries one."""
    path = files[sig]
    if "-" in path.stem:
        from demucs.repo import check_checksum

        try:
            check_checksum(path, path.stem.rsplit("-", 1)[1])
        except Exception as exc:  # noqa: BLE001 - demucs' ModelLoadingError
            raise InputError(reason(exc), path) from None
    return load_model_file(path)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x[:n] if x.size >= n else np.pad(x, (0, n - x.size))
