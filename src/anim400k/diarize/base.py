"""The diarization capability: the ``Diarizer`` protocol, the backend registry and edits of turn lists (``Turn``
lives in the model).

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


def cut_turns(turns: list[Turn], spans: list[Turn]) -> list[Turn]:
    """``turns`` with the time of each of ``spans`` removed (a turn split in two where a span lies inside it)."""
    out = list(turns)
    for s in spans:
        nxt: list[Turn] = []
        for t in out:
            if t.end <= s.start or t.start >= s.end:
                nxt.append(t)
                continue
            if t.start < s.start:
                nxt.append(Turn(t.start, s.start, t.speaker, t.confidence))
            if t.end > s.end:
                nxt.append(Turn(s.end, t.end, t.speaker, t.confidence))
        out = nxt
    return out


def bridge_pauses(turns: list[Turn], gap: float) -> list[Turn]:
    """``turns`` (no overlaps among them) with each pause of at most ``gap`` seconds between two
    consecutive turns of the same speaker filled by that speaker (the confidence of the earlier turn).

    The VAD splits a line at each pause longer than its ``min_silence`` (0.15 s); a line's pauses
    belong to the line (the reference, subtitles and the aligner's segments count them in).
    """
    if gap <= 0:
        return list(turns)
    ordered = sorted(turns)
    out = list(ordered)
    for a, b in zip(ordered[:-1], ordered[1:], strict=True):
        if a.speaker == b.speaker and 0 < b.start - a.end <= gap:
            out.append(Turn(a.end, b.start, a.speaker, a.confidence))
    return out
