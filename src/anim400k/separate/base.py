"""The separation Protocol, its result type and the backend registry.

A :class:`Separator` splits a mix into a backing track (music and effects) and vocals
(dialogue), both at the input's rate and length, in the input's timeline. Dual-track
backends also take the other language's mix of the same episode (``reference``) and the
:class:`~anim400k.model.TimeMap` from the input's timeline to the reference's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..model import TimeMap
from ..registry import SEPARATORS
from ..signal import to_mono

__all__ = ["Separation", "Separator", "available_separators", "get_separator", "to_mono"]


@dataclass(slots=True)
class Separation:
    """A separation result; unpacks as ``backing, vocals = separator.separate(...)``.

    ``method`` is the algorithm that produced the output (``fallback`` is True when a
    dual-track request fell back to a single-track method, ``reason`` says why).
    ``agreement`` is the dual-track spectral agreement of the two mixes (None otherwise).
    ``single_track_regions`` lists the ``(start, end, why)`` stretches (seconds of the input) that
    a dual-track separation had to separate single-track (not covered by the second mix, or
    the mixes do not share the backing there).
    """

    backing: np.ndarray
    vocals: np.ndarray
    sr: int
    method: str
    fallback: bool = False
    reason: str = ""
    agreement: float | None = None
    time_map: TimeMap | None = None
    single_track_regions: list[tuple[float, float, str]] = field(default_factory=list)

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.backing
        yield self.vocals


@runtime_checkable
class Separator(Protocol):
    """A source-separation backend.

    ``separate(audio, sr, reference=None, time_map=None) -> Separation``: ``audio`` is a
    mono float mix (``(n,)``; ``(channels, n)`` is averaged); ``reference`` the other
    language's mix (its own timeline) and ``time_map`` maps ``audio``'s timeline to the
    reference's (``t_ref = offset + t * (1 + drift)``). Single-track backends ignore both.
    """

    name: str

    def separate(
        self,
        audio: np.ndarray,
        sr: int,
        reference: np.ndarray | None = None,
        time_map: TimeMap | None = None,
    ) -> Separation: ...


def available_separators() -> list[str]:
    """Names accepted by :func:`get_separator`."""
    return SEPARATORS.names()


def get_separator(name: str = "dualtrack", **options: Any) -> Separator:
    """Build the separation backend ``name`` (``dualtrack``, ``hpss`` or ``demucs``) with ``options``."""
    return SEPARATORS.create(name, **options)  # type: ignore[no-any-return]
