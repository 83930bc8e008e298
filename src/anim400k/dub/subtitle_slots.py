"""Slots for subtitle events that no speech segment covers, so that every line of the subtitles is voiced.

The segments come from the diarizer's turns over the JP vocals; where it missed a line (a short turn, an overlap, a
quiet reply), the subtitle event with its text counted for no segment and was spoken by nobody: the line vanished
from the dub without a word in the report, and the vocal gate, which removes the JP speech only inside segments,
left the original Japanese at full level in the English track (an outside tester: 3 of 589 lines of a 24-minute
episode). Such an event gets a segment of its own over its time, trimmed off the segments around it, in the voice
of the nearest segment's speaker.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import Segment, Subtitle
from ..translate.subtitles import unplaced

#: a slot shorter than this (s), once trimmed off its neighbours, is left out (said in the report's problems)
MIN_SLOT_S = 0.3


def _nearest_speaker(segments: Sequence[Segment], start: float, end: float) -> str | None:
    """The speaker of the segment nearest to ``[start, end]`` (by the gap between them)."""
    if not segments:
        return None
    gap = [max(0.0, s.start - end, start - s.end) for s in segments]
    return segments[min(range(len(segments)), key=gap.__getitem__)].speaker


def add_subtitle_slots(
    segments: Sequence[Segment], subtitles: Sequence[Subtitle], duration: float, min_slot: float = MIN_SLOT_S
) -> tuple[list[Segment], list[str]]:
    """``segments`` with a segment for each event of ``subtitles`` that counts for none of them, in time order,
    and the problems to report: how many events got a slot, and each one left out for want of room. Slots lie
    within the audio's ``duration`` (an event past its end is the subtitles' problem, said elsewhere)."""
    placed = list(segments)
    added: list[Segment] = []
    problems: list[str] = []
    for sub in unplaced(subtitles, segments):
        start, end = max(0.0, sub.start), min(duration, sub.end)
        if end <= start:
            continue
        for seg in sorted(placed, key=lambda s: s.start):
            if seg.end <= start or seg.start >= end:
                continue
            if seg.start <= start:
                start = max(start, seg.end)
            else:
                end = min(end, seg.start)
        if end - start < min_slot:
            problems.append(f"subtitle {sub.start:.2f}-{sub.end:.2f} s ({sub.text[:40]!r}) covers no speech segment "
                            "and leaves no room beside them: not spoken")
            continue
        slot = Segment(start, end, speaker=_nearest_speaker(placed, start, end) or "spk0")
        placed.append(slot)
        added.append(slot)
    if added:
        spans = ", ".join(f"{s.start:.2f}-{s.end:.2f} s" for s in added[:5]) + (", ..." if len(added) > 5 else "")
        problems.append(f"{len(added)} subtitle event(s) covered no speech segment (the speaker search missed "
                        f"their speech) and got a slot of their own: {spans}")
    return sorted(placed, key=lambda s: (s.start, s.end)), problems
