"""Reading speaker turns (speakers ``c<i>``): the seconds of a span each speaker covers, and a label's ``i``."""

from __future__ import annotations

from ..model import Turn


def speaker_cover(turns: list[Turn], start: float, end: float) -> dict[str, float]:
    """Seconds of ``[start, end]`` each speaker's turns cover."""
    out: dict[str, float] = {}
    for t in turns:
        sec = min(t.end, end) - max(t.start, start)
        if sec > 0:
            out[t.speaker] = out.get(t.speaker, 0.0) + sec
    return out


def speaker_index(speaker: str, k: int) -> int | None:
    """``i`` of a ``c<i>`` label below ``k``, else None."""
    if speaker.startswith("c") and speaker[1:].isdigit() and int(speaker[1:]) < k:
        return int(speaker[1:])
    return None
