"""anim400k: aligned bilingual speech datasets from dubbed video, automatic dubbing, dub evaluation.

The public API is re-exported lazily so that ``import anim400k`` stays light. The dubbing library is the
``anim400k.dub`` package (``from anim400k.dub import dub, DubOptions``): a function of the same name here
would be hidden by the subpackage once it is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

from .envdirs import numba_cache_fallback
from .offline import disable_native_telemetry

__version__ = "0.1.0"

# before any backend imports onnxruntime, whose native library starts a telemetry client unless told not to
disable_native_telemetry()
# before librosa imports numba: a cache folder it can write where its defaults cannot be (envdirs)
numba_cache_fallback()

_LAZY = {
    "align_clips": "anim400k.align",
    "build_dataset": "anim400k.dataset.pipeline",
    "load": "anim400k.release",
    "make_episode": "anim400k.synth",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'anim400k' has no attribute {name!r}")


__all__ = sorted(_LAZY)
