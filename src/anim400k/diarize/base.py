"""The diarization capability: the ``Diarizer`` protocol and the backend registry (``Turn`` lives in the model).

A diarizer answers "who spoke when" for one audio track: ``diarize(audio, sr)`` returns
speaker turns (``start``/``end`` in seconds, a label such as ``spk0``). Turns of different
speakers may overlap (two people talking at once). Backends are chosen by name with
:func:`get_diarizer`; each imports its heavy dependency lazily.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..model import Turn
from ..registry import DIARIZERS


@runtime_checkable
class Diarizer(Protocol):
    """Speaker diarization of one mono audio track."""

    name: str

    def diarize(self, audio: np.ndarray, sr: int) -> list[Turn]:
        """Return the speaker turns of ``audio`` (mono float samples at ``sr`` Hz), sorted by start."""
        ...


def available_diarizers() -> list[str]:
    """Names accepted by :func:`get_diarizer`."""
    return DIARIZERS.names()


def get_diarizer(name: str = "embedded", **options: Any) -> Diarizer:
    """Build the diarizer called ``name`` with backend ``options`` (e.g. ``num_speakers=3``).

    Raises ``InputError`` for an unknown name and ``BackendUnavailable`` when the backend's
    optional dependency is missing.
    """
    return DIARIZERS.create(name, **options)  # type: ignore[no-any-return]


def normalize_turns(turns: Iterable[Turn], min_duration: float = 0.0, merge_gap: float = 0.0) -> list[Turn]:
    """Sort turns, drop those shorter than ``min_duration`` and merge same-speaker turns closer than ``merge_gap``.

    Turns of one speaker that touch or overlap are always merged; different speakers may overlap.
    A merged turn's confidence is the duration-weighted mean of its parts' (``None`` if none has one).
    """
    by_speaker: dict[str, list[Turn]] = {}
    for t in turns:
        if t.end > t.start:
            by_speaker.setdefault(t.speaker, []).append(t)
    out: list[Turn] = []
    for speaker, items in by_speaker.items():
        items.sort()
        group = [items[0]]
        cur_e = items[0].end
        for t in items[1:]:
            if t.start <= cur_e + merge_gap:
                cur_e = max(cur_e, t.end)
                group.append(t)
            else:
                out.append(Turn(group[0].start, cur_e, speaker, _mean_confidence(group)))
                group, cur_e = [t], t.end
        out.append(Turn(group[0].start, cur_e, speaker, _mean_confidence(group)))
    return sorted(t for t in out if t.duration >= min_duration)


def _mean_confidence(turns: list[Turn]) -> float | None:
    known = [(t.duration, t.confidence) for t in turns if t.confidence is not None]
    total = sum(d for d, _ in known)
    if not known:
        return None
    if total <= 0:
        return float(min(c for _, c in known))
    return float(sum(d * c for d, c in known) / total)


def relabel_by_first_appearance(turns: Iterable[Turn], prefix: str = "spk") -> list[Turn]:
    """Rename speakers ``spk0, spk1, ...`` in order of their first turn (stable, readable labels)."""
    ordered = sorted(turns)
    mapping: dict[str, str] = {}
    for t in ordered:
        if t.speaker not in mapping:
            mapping[t.speaker] = f"{prefix}{len(mapping)}"
    return [Turn(t.start, t.end, mapping[t.speaker], t.confidence) for t in ordered]
