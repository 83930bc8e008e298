"""A diarizer's settings checked before any expensive work (no model is loaded)."""

from __future__ import annotations

from ..registry import DIARIZERS


def check_diarizer(name: str, model: str | None = None) -> None:
    """Check the diarizer ``name`` before any expensive work, without loading a model: a known name,
    its Python package installed, and the local model it needs (``model``: the ``anime`` folder or the
    ``pyannote`` pipeline config; else its environment variable) there and complete.

    Raises ``InputError`` / ``ModelRequired`` (no model given) / ``BackendUnavailable`` (package missing).
    """
    from ..errors import BackendUnavailable

    backend = DIARIZERS[name]
    missing = DIARIZERS.missing(name)
    if missing:
        raise BackendUnavailable(name, backend.extra, f"missing Python module {missing[0]}")
    if name == "anime":
        from .anime_embedding import resolve_model

        resolve_model(model)
    elif name == "pyannote":
        from .pyannote_backend import read_pipeline_config, resolve_pipeline_path

        read_pipeline_config(resolve_pipeline_path(model), major=3)  # its checkpoints there (no import)
