"""The production diarizer: a pyannote.audio pipeline loaded from a local path (never from the hub).

Install with ``pip install 'anim400k[pyannote]'`` and give the pipeline's ``config.yaml`` (or the
folder holding it, e.g. a ``pyannote/speaker-diarization-community-1`` snapshot, or a
``pyannote/speaker-diarization-3.1`` one whose config points at local model checkpoints) with
``pipeline=PATH`` or ``ANIM400K_PYANNOTE_PIPELINE`` (else :class:`~anim400k.errors.ModelRequired`).
See ``docs/diarization.md``.

Before pyannote sees the config, the model entries (``segmentation``, ``embedding``, ``plda``) that
are local paths are resolved against the config's folder and checked, so a missing checkpoint is
reported by name. Works with pyannote.audio 3.1+ and 4.x; nothing is downloaded and pyannote 4's
usage telemetry is switched off.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoint_file import check_checkpoint_file
from ..errors import AnimError, BackendUnavailable, InputError, ModelRequired, described, reason, torch_load_failure
from ..formats.rttm import annotation_to_turns
from ..offline import force_offline
from .base import Turn, relabel_by_first_appearance
from .speechbrain_import import drop_lazy_placeholders

ENV_PIPELINE = "ANIM400K_PYANNOTE_PIPELINE"
#: the pipeline parameters that name model checkpoints (``plda`` only in pyannote.audio 4)
MODEL_KEYS = ("segmentation", "embedding", "plda")
CHECKPOINT_SUFFIXES = (".bin", ".ckpt", ".pt", ".pth", ".safetensors", ".npz")
# pyannote.audio 4 warns at import when torchcodec cannot load FFmpeg; audio is always passed in memory here.
TORCHCODEC_WARNING = r"\s*torchcodec is not installed correctly"


class PyannoteDiarizer:
    """``pyannote.audio.Pipeline`` wrapper: audio array in, :class:`Turn` list out."""

    name = "pyannote"

    def __init__(
        self,
        pipeline: str | Path | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        device: str = "auto",
        progress: bool = False,
    ) -> None:
        for label, value in (("num_speakers", num_speakers), ("min_speakers", min_speakers),
                             ("max_speakers", max_speakers)):
            if value is not None and int(value) < 1:
                raise ValueError(f"{label} must be >= 1, got {value}")
        self.num_speakers = num_speakers
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        #: one bar per pipeline step (segmentation, embeddings), drawn when stderr is a terminal
        self.progress = progress
        pipeline_cls = import_pipeline_class()
        self.config_path = resolve_pipeline_path(pipeline)
        self.device = resolve_device(device)
        self._pipeline = load_pipeline(self.config_path, self.device, pipeline_cls)
        drop_lazy_placeholders()  # pyannote imports speechbrain, whose placeholders trip later imports

    def diarize(self, audio: np.ndarray, sr: int) -> list[Turn]:
        """Run the pipeline on mono ``audio`` (``sr`` Hz) and return its turns (labels ``spk0..``).

        Turns are clipped to the audio's duration (pyannote pads the last window); empty audio
        gives no turns.
        """
        import torch

        samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        if samples.size == 0:
            return []
        waveform = torch.from_numpy(samples).reshape(1, -1)
        kwargs: dict[str, Any] = {}
        if self.num_speakers is not None:
            kwargs["num_speakers"] = int(self.num_speakers)
        if self.min_speakers is not None:
            kwargs["min_speakers"] = int(self.min_speakers)
        if self.max_speakers is not None:
            kwargs["max_speakers"] = int(self.max_speakers)
        hook = StepProgress() if self.progress else None
        if hook is not None:
            kwargs["hook"] = hook
        try:
            output = self._pipeline({"waveform": waveform, "sample_rate": int(sr)}, **kwargs)
        finally:
            if hook is not None:
                hook.close()
        duration = samples.size / float(sr)
        turns = [Turn(max(0.0, t.start), min(duration, t.end), t.speaker)
                 for t in annotation_to_turns(output_annotation(output))]
        return relabel_by_first_appearance(t for t in turns if t.end > t.start)


class StepProgress:
    """A pyannote pipeline hook: one tqdm bar per step that reports progress (stderr, terminal only).

    pyannote's own ``ProgressHook`` draws with rich on stdout; this keeps stdout clean.
    """

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(
        self, step_name: str, step_artifact: Any, file: Any = None, total: int | None = None,
        completed: int | None = None,
    ) -> None:
        """Called by the pipeline after each step and, with ``total``/``completed``, within long steps."""
        if total is None or completed is None:
            return
        from ..progress import progress_bar

        bar = self.bars.get(step_name)
        if bar is None:
            bar = self.bars[step_name] = progress_bar(total=total, desc=step_name, unit="batch", leave=False)
        bar.update(completed - bar.n)

    def close(self) -> None:
        """Close every bar."""
        for bar in self.bars.values():
            bar.close()


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
        raise ModelRequired("pyannote", "a local pipeline config.yaml or its folder", option="pipeline",
                            env=ENV_PIPELINE)
    path = Path(raw).expanduser().absolute()
    if path.is_dir():
        path = path / "config.yaml"
    if not path.is_file():
        raise InputError("pyannote pipeline config not found", path)
    return path


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; other names are checked by torch."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise InputError(f"not a torch device: {device!r} ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailable("pyannote", None, f"device {device!r} asked for but torch sees no CUDA GPU")
    return device


def import_pipeline_class() -> Any:
    """``pyannote.audio.Pipeline``, imported offline; ``BackendUnavailable`` naming the extra if missing."""
    force_offline()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=TORCHCODEC_WARNING)
            from pyannote.audio import Pipeline
    except ImportError as exc:
        raise BackendUnavailable("pyannote", "pyannote", f"pyannote.audio is not installed: {exc}") from None
    drop_lazy_placeholders()
    return Pipeline


def pyannote_major_version() -> int:
    """The installed pyannote.audio major version (3 when it cannot be told)."""
    try:
        from pyannote.audio import __version__
    except ImportError:
        return 3
    head = str(__version__).split(".")[0]
    return int(head) if head.isdigit() else 3


def _is_path_like(value: str) -> bool:
    """A checkpoint entry that names a file or folder rather than a hub id (``org/name``)."""
    return (value.startswith(("/", ".", "~", "$model/")) or value.endswith(CHECKPOINT_SUFFIXES)
            or value.count("/") != 1)


def _local_checkpoint(value: Any, key: str, config_path: Path) -> Any:
    """A model entry with local paths made absolute (relative to the config's folder) and checked.

    ``$model/sub`` (pyannote 4 snapshots) means ``sub`` next to the config. A folder of a model
    (not the PLDA) becomes its ``pytorch_model.bin`` (pyannote 3 loads files only). The embedding
    is given as ``{"checkpoint": path}`` so that pyannote loads it as its own model even when the
    path mentions "wespeaker" or "speechbrain". Hub ids (``pyannote/segmentation-3.0``) are kept:
    they load only from the local Hugging Face cache.
    """
    if isinstance(value, dict):
        if isinstance(value.get("checkpoint"), str) and not value.get("subfolder"):
            inner = _local_checkpoint(value["checkpoint"], key, config_path)
            return {**value, "checkpoint": inner["checkpoint"] if isinstance(inner, dict) else inner}
        return value
    if not isinstance(value, str):
        return value
    raw = value[len("$model/"):].split("@")[0] if value.startswith("$model/") else value
    path = Path(raw).expanduser()
    if not path.is_absolute():  # absolute, so that the entry is not taken for a hub id later
        path = config_path.parent.absolute() / path
    if not (path.exists() or _is_path_like(value)):
        return value
    if path.is_dir() and key != "plda":
        path = path / "pytorch_model.bin"
    if not path.exists():
        raise InputError(f"the {key} checkpoint {value!r} is not there ({path})", config_path)
    if path.is_file() and key != "plda":
        check_checkpoint_file(path, "a pyannote model checkpoint")
    return {"checkpoint": str(path)} if key == "embedding" else str(path)


def read_pipeline_config(config_path: Path, major: int | None = None) -> dict[str, Any]:
    """The pipeline config with its local checkpoints resolved (see :func:`_local_checkpoint`).

    With pyannote.audio 4, a config without ``plda`` whose clustering is not VBx (the
    ``speaker-diarization-3.1`` layout) gets an unused placeholder PLDA: pyannote 4 would otherwise
    fetch community-1's PLDA from the hub although only VBx clustering uses it.
    """
    import yaml

    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"not a readable pyannote pipeline config: {reason(exc)}", config_path) from None
    pipeline = config.get("pipeline") if isinstance(config, dict) else None
    if not isinstance(pipeline, dict) or "name" not in pipeline:
        raise InputError("not a pyannote pipeline config (it needs `pipeline: {name: ..., params: ...}`)",
                         config_path)
    params = pipeline.setdefault("params", {})
    if not isinstance(params, dict):
        raise InputError("pipeline.params must be a mapping", config_path)
    for key in MODEL_KEYS:
        if key in params:
            params[key] = _local_checkpoint(params[key], key, config_path)
    major = pyannote_major_version() if major is None else major
    if (major >= 4 and str(pipeline["name"]).endswith("SpeakerDiarization") and "plda" not in params
            and params.get("clustering", "VBxClustering") != "VBxClustering"):
        from pyannote.audio.core.plda import PLDA

        params["plda"] = PLDA.__new__(PLDA)  # never called: only VBxClustering uses the PLDA
    return config


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: what each model entry must be: (pyannote ``Problem`` names it may solve, the words for it)
_EXPECTED_KIND = {
    "segmentation": (("MONO_LABEL_CLASSIFICATION", "MULTI_LABEL_CLASSIFICATION", "BINARY_CLASSIFICATION"),
                     "segmentation model"),
    "embedding": (("REPRESENTATION",), "speaker-embedding model"),
}


def _model_kind(model: Any) -> tuple[str, str] | None:
    """``(problem name, words)`` of a loaded pyannote ``Model`` (from its specifications); None if unknown."""
    specs = getattr(model, "specifications", None)
    if isinstance(specs, tuple | list):  # a multi-task model: judged by its first task
        specs = specs[0] if specs else None
    problem = getattr(getattr(specs, "problem", None), "name", None)
    if not isinstance(problem, str):
        return None
    for problems, words in _EXPECTED_KIND.values():
        if problem in problems:
            return problem, words
    return problem, f"{problem.lower().replace('_', ' ')} model"


def _checkpoint_of(value: Any) -> str | None:
    """The local checkpoint path of a resolved model entry (``{"checkpoint": path}`` or a path)."""
    if isinstance(value, dict):
        value = value.get("checkpoint")
    return value if isinstance(value, str) else None


def check_model_kinds(pipeline: Any, config: dict[str, Any], config_path: Path) -> None:
    """Refuse a pipeline whose segmentation or embedding entry loaded a model of the other kind.

    pyannote loads any of its checkpoints under either entry (a segmentation ``PyanNet`` as the
    embedding, say, when the two files were swapped) and fails only on the audio, with a
    traceback (``PyanNet.forward() got an unexpected keyword argument 'weights'``). Each loaded
    model's specifications say what it is; a mismatch is one line naming the checkpoint.
    """
    params = config.get("pipeline", {}).get("params", {})
    loaded = {
        "segmentation": getattr(getattr(pipeline, "_segmentation", None), "model", None),
        "embedding": getattr(getattr(pipeline, "_embedding", None), "model_", None),
    }
    for key, model in loaded.items():
        kind = _model_kind(model) if model is not None else None
        if kind is None:
            continue  # not a pyannote model (a speechbrain embedding, ...): pyannote checks its own
        problems, words = _EXPECTED_KIND[key]
        if kind[0] in problems:
            continue
        where = _checkpoint_of(params.get(key)) or str(config_path)
        raise InputError(f"the {key} checkpoint is not a {words}: it holds a {type(model).__name__} "
                         f"{kind[1]} (were the {' and '.join(_EXPECTED_KIND)} checkpoints swapped? "
                         f"see {config_path.name})", where)


def _path_in(value: Any) -> str | None:
    """The path a frame's local variable names: a str or path, or an open file's (NumPy's ``NpzFile.fid``)."""
    if isinstance(value, str | os.PathLike):
        return os.fspath(value)
    name = getattr(getattr(value, "fid", None), "name", None)
    return name if isinstance(name, str) else None


def failing_checkpoint(exc: BaseException, params: dict[str, Any]) -> tuple[str, Path] | None:
    """``(entry, path)`` of the local checkpoint pyannote was loading when it raised ``exc``, else None.

    The local model entries of the resolved ``params`` (a PLDA folder and the files in it) are looked
    for among the local variables of the traceback's frames, innermost first: pyannote's own errors
    (``KeyError: 'pyannote.audio'`` from a bare state dict, NumPy's missing ``plda.npz`` array) do not
    say which file they were reading. The innermost frame holding any entry decides: one of an
    entry's files is named, several name the entry; several entries (the pipeline's own frame)
    or a hub id name none.
    """
    missing = getattr(exc, "filename", None)  # an OSError names its file: a checkpoint's or one in its folder
    if isinstance(missing, str | os.PathLike):
        for key in MODEL_KEYS:
            checkpoint = _checkpoint_of(params.get(key))
            if checkpoint is not None and Path(checkpoint) in (Path(missing), Path(missing).parent):
                return key, Path(missing)
    entries = {c: key for key in MODEL_KEYS if (c := _checkpoint_of(params.get(key))) is not None}
    files: dict[str, tuple[str, Path]] = {}
    for key in MODEL_KEYS:
        checkpoint = _checkpoint_of(params.get(key))
        if checkpoint is None or not Path(checkpoint).exists():  # a hub id is no file to name
            continue
        path = Path(checkpoint)
        files[str(path)] = (key, path)
        if path.is_dir():
            files.update({str(child): (key, child) for child in path.iterdir()})
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        held = [p for p in map(_path_in, frame.f_locals.values()) if p is not None]
        hits = {files[p] for p in held if p in files}
        keys = {key for key, _ in hits} | {entries[p] for p in held if p in entries}
        if not keys:
            continue
        if len(keys) > 1 or not hits:  # the pipeline's own frame (several entries), or a hub id: no file
            return None
        if len(hits) == 1:
            return hits.pop()
        key = keys.pop()
        return key, Path(_checkpoint_of(params[key]) or "")
    return None


def _load_failure(exc: Exception, config: dict[str, Any], config_path: Path) -> InputError:
    """The one-line error for a pipeline pyannote could not load: naming the checkpoint it was reading
    when that is known (else the config), what is wrong, and the exception's type once."""
    params = config["pipeline"]["params"]
    if isinstance(exc, KeyError) and exc.args == ("pyannote.audio",):
        text = ("not a pyannote.audio model checkpoint: it has no 'pyannote.audio' entry (a bare state "
                "dict or another library's model?)")
    else:
        text = described(exc)
    where = failing_checkpoint(exc, params)
    if (isinstance(exc, FileNotFoundError) and where is not None and exc.filename is not None
            and str(where[1]) == os.fspath(exc.filename)):
        text = "the file is not there (FileNotFoundError)"
    if where is not None:
        return InputError(f"cannot load the pyannote pipeline's {where[0]} checkpoint ({config_path.name}): "
                          f"{text}", where[1])
    hub_ids = [v for k, v in params.items() if k in MODEL_KEYS and isinstance(v, str) and not _is_path_like(v)]
    hint = (f" ({', '.join(hub_ids)} is not a local path: hub ids load only from the local Hugging Face "
            "cache, point the config at local checkpoints)") if hub_ids else ""
    return InputError(f"cannot load the pyannote pipeline: {text}{hint}", config_path)


def load_pipeline(config_path: Path, device: str = "cpu", pipeline_cls: Any = None) -> Any:
    """Load ``pyannote.audio.Pipeline`` from a local config, offline; ``InputError`` naming the config if it fails.

    The checkpoints are the user's own local files: they are unpickled as pyannote 4 does
    (``weights_only=False``), also under pyannote 3.
    """
    Pipeline = pipeline_cls or import_pipeline_class()  # noqa: N806
    force_offline()
    major = pyannote_major_version()
    config = read_pipeline_config(config_path, major)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=TORCHCODEC_WARNING)
            if major >= 4:  # pyannote 4 takes the config itself
                pipeline = Pipeline.from_pretrained(config)
            else:  # pyannote 3 reads a file, and its torch.load fails on torch >= 2.6 (weights_only)
                import yaml

                warnings.filterwarnings("ignore", message="Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
                with tempfile.TemporaryDirectory() as tmp, _environ(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1"):
                    resolved = Path(tmp) / "config.yaml"
                    resolved.write_text(yaml.safe_dump(config), encoding="utf-8")
                    pipeline = Pipeline.from_pretrained(str(resolved))
    except AnimError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyannote raises many kinds of errors for bad configs
        failure = torch_load_failure(exc, "a pyannote model checkpoint")
        if failure is not None and failure[1] is not None:  # a checkpoint torch cannot read: named
            raise InputError(failure[0], failure[1]) from None
        raise _load_failure(exc, config, config_path) from None
    if pipeline is None:
        raise InputError("pyannote could not load a pipeline from this config", config_path)
    check_model_kinds(pipeline, config, config_path)
    if device != "cpu":
        import torch

        pipeline.to(torch.device(device))
    return pipeline
