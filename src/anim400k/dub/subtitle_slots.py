"""Slots for subtitle events that no speech segment covers (or covers in small part), so that every line of the
subtitles is voiced in its own time.

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
from ..translate.subtitles import event_text, subtitle_hits

#: a slot shorter than this (s), once trimmed off its neighbours, is left out (said in the report's problems)
MIN_SLOT_S = 0.3
#: an event that segments cover in part gets a slot when at least this much of it (s), and half of it, lies in no
#: segment: "Thank you, that really helped." (2.3 s) overlapped the segment before it by 0.57 s, was spoken there at
#: 1.39x, 1.7 s early, and its Japanese stayed in the English track at 0.5-0.74 of full level
MIN_UNCOVERED_S = 1.0


def _uncovered(sub: Subtitle, segments: Sequence[Segment]) -> float:
    """Seconds of ``sub`` that lie in no segment."""
    spans = sorted((max(sub.start, s.start), min(sub.end, s.end)) for s in segments if s.end > sub.start
                   and s.start < sub.end)
    covered, reach = 0.0, sub.start
    for a, b in spans:
        a = max(a, reach)
        if b > a:
            covered += b - a
            reach = b
    return max(0.0, (sub.end - sub.start) - covered)


def _needs_slot(sub: Subtitle, segments: Sequence[Segment]) -> bool:
    """Whether an event with text counts for no segment, or lies mostly outside them (:data:`MIN_UNCOVERED_S`)."""
    if not event_text(sub):
        return False
    if not subtitle_hits(sub, segments):
        return True
    return _uncovered(sub, segments) >= max(MIN_UNCOVERED_S, 0.5 * (sub.end - sub.start))


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
    within the audio's ``duration``; events that start after its end are counted in one problem."""
    placed = list(segments)
    added: list[Segment] = []
    problems: list[str] = []
    past = [s for s in subtitles if s.start >= duration and event_text(s)]
    if past:  # dropped without a word before (the code said "said elsewhere"; nothing said it)
        problems.append(f"{len(past)} subtitle event(s) start after the audio's end ({duration:.2f} s), from "
                        f"{min(s.start for s in past):.2f} s: not spoken (are the subtitles for this video?)")
    for sub in sorted((s for s in subtitles if _needs_slot(s, segments)), key=lambda s: (s.start, s.end)):
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
        problems.append(f"{len(added)} subtitle event(s) covered no speech segment, or lay mostly outside them (the "
                        f"speaker search missed their speech), and got a slot of their own: {spans}")
    return sorted(placed, key=lambda s: (s.start, s.end)), problems
