"""Automatic dubbing (``anim400k dub``): ``from anim400k.dub import dub, DubOptions``.

The names below are loaded on first use, so importing a submodule (``anim400k.dub.mix``) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"dub": "anim400k.dub.pipeline", "dub_audio": "anim400k.dub.pipeline", "DubReport": "anim400k.dub.pipeline",
         "DubOptions": "anim400k.dub.options"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'anim400k.dub' has no attribute {name!r}")


__all__ = sorted(_LAZY)
