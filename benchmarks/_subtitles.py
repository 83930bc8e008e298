"""EN subtitle events for a benchmark episode's JP lines, imitating real subtitle timing (not the truth).

Used by ``bench_diarize_real.py`` and ``tune_diarize_real.py`` to give the diarizer the subtitles a
build has (docs/diarization.md, *Subtitles as speaker cues*). From the JP reference lines, in order,
with a random generator of its own (``seed``), so the episode itself is unchanged:

- an interjection (a line under ``SHORT`` = 1 s) is left without a subtitle with probability
  ``P_DROP`` (0.25), or, with probability ``P_ABSORB`` (0.25), merged into the previous event without a
  dash when that event is a one-speaker one ending (as spoken) less than 1 s before it;
- two consecutive lines of different speakers, each under ``DASH_MAX`` (2.5 s) and at most ``DASH_GAP``
  (0.6 s) apart, become one dash event (``"- ...\\n- ..."``) with probability ``P_DASH`` (0.3); each dash
  line holds about ``CHARS_PER_S`` (14) characters per second of its line, times ``U(0.75, 1.25)`` (a
  generator of its own: the events are the same as before the dash lines had lengths);
- a line over ``SPLIT_MIN`` (3.0 s) is split into two events with probability ``P_SPLIT`` (0.3), at a
  point drawn uniformly in 35-65 % of its length (not tied to any speaker change);
- every other line is one event.

Timing: each event starts ``U(-0.25, 0.25)`` s from its first line's start (a split's second event
starts at the split point, its first ends there), ends ``U(0.2, 0.8)`` s after its last line's end
(lingering), lasts at least ``U(0.8, 1.0)`` s, and is clipped to end ``GAP`` (0.04 s) before the next
event's start unless the spoken lines themselves overlap.

Speaker names (``names``, default 0: none, the default benchmark): a real file may name each event's
speaker (an ASS Name field, an SDH label, :attr:`anim400k.model.Subtitle.speaker`). With ``names`` = p,
each one-speaker event is named, with probability p, by the true character of its first line, and a named
event gets, with probability ``wrong`` (0.02), another character of the episode instead (a wrong name).
The names have a generator of their own (``seed`` too): the events and their times are the same whatever
``names`` is, and the events named at p = 0.3 are among those named at p = 0.7.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SHORT = 1.0
P_DROP = 0.25
P_ABSORB = 0.25
DASH_MAX = 2.5
DASH_GAP = 0.6
P_DASH = 0.3
SPLIT_MIN = 3.0
P_SPLIT = 0.3
JITTER = 0.25
LINGER = (0.2, 0.8)
MIN_DURATION = (0.8, 1.0)
GAP = 0.04
#: characters per second of speech in a dash event's lines (English subtitles: 12-17)
CHARS_PER_S = 14.0
#: share of named events given a wrong name (``names``)
WRONG = 0.02


@dataclass
class SubEvent:
    """One synthetic subtitle event: times, text and the indices of the JP lines it holds."""

    start: float
    end: float
    text: str
    lines: list[int] = field(default_factory=list)
    dash: bool = False
    #: the event's span as spoken (before the timing rules): first line's start, last line's end
    spoken: tuple[float, float] = (0.0, 0.0)
    #: the speaker the subtitle names (``names``), None when unnamed
    speaker: str | None = None


def name_events(events: list[SubEvent], turns: list, seed: int, names: float, wrong: float = WRONG) -> None:
    """Name a share ``names`` of the one-speaker ``events`` by their first line's true speaker, a share
    ``wrong`` of those by another character instead (module docstring); in place."""
    lines = sorted(turns, key=lambda t: (t.start, t.end))
    characters = sorted({t.speaker for t in lines})
    rng = np.random.default_rng([seed, 0x5B7, 1])
    for e in events:
        draw, mistake, pick = rng.random(), rng.random(), rng.random()  # the same draws whatever ``names``
        if e.dash or not e.lines or draw >= names:
            continue
        true = lines[e.lines[0]].speaker
        others = [c for c in characters if c != true]
        e.speaker = others[int(pick * len(others))] if others and mistake < wrong else true


def _dash_line(i: int, duration: float, rng: np.random.Generator) -> str:
    """The text of line ``i`` in a dash event: about :data:`CHARS_PER_S` characters per second of its
    ``duration`` (times ``U(0.75, 1.25)``), at least ``Line i.``."""
    size = int(round(CHARS_PER_S * duration * rng.uniform(0.75, 1.25)))
    text = f"Line {i}"
    while len(text) + 1 < size:
        text += " la"
    return text + "."


def synth_subtitles(turns: list, seed: int, names: float = 0.0, wrong: float = WRONG) -> list[SubEvent]:
    """Subtitle events for the reference ``turns`` (JP lines, objects with ``start``/``end``/``speaker``),
    by the rules of the module docstring, seeded by ``seed``; sorted by start. ``names``: the share of
    one-speaker events named by their speaker (:func:`name_events`; ``wrong`` of them by a wrong one)."""
    rng = np.random.default_rng([seed, 0x5B7])
    text_rng = np.random.default_rng([seed, 0x5B7, 2])  # dash lines' lengths (the events' draws unchanged)
    lines = sorted(turns, key=lambda t: (t.start, t.end))
    units: list[SubEvent] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        dur = ln.end - ln.start
        if dur < SHORT:
            r = rng.random()
            if r < P_DROP:
                i += 1
                continue
            prev = units[-1] if units else None
            if (r < P_DROP + P_ABSORB and prev is not None and not prev.dash
                    and 0 <= ln.start - prev.spoken[1] < 1.0):
                prev.lines.append(i)
                prev.text += f" Line {i}."
                prev.spoken = (prev.spoken[0], max(prev.spoken[1], ln.end))
                i += 1
                continue
        if i + 1 < len(lines):
            nxt = lines[i + 1]
            if (nxt.speaker != ln.speaker and dur < DASH_MAX and nxt.end - nxt.start < DASH_MAX
                    and nxt.start - ln.end <= DASH_GAP and rng.random() < P_DASH):
                text = f"- {_dash_line(i, dur, text_rng)}\n- {_dash_line(i + 1, nxt.end - nxt.start, text_rng)}"
                units.append(SubEvent(0, 0, text, [i, i + 1], True,
                                      (ln.start, max(ln.end, nxt.end))))
                i += 2
                continue
        if dur > SPLIT_MIN and rng.random() < P_SPLIT:
            cut = ln.start + dur * rng.uniform(0.35, 0.65)
            units.append(SubEvent(0, 0, f"Line {i}, first part", [i], False, (ln.start, cut)))
            units.append(SubEvent(0, 0, f"line {i}, second part.", [i], False, (cut, ln.end)))
            i += 1
            continue
        units.append(SubEvent(0, 0, f"Line {i}.", [i], False, (ln.start, ln.end)))
        i += 1
    for k, u in enumerate(units):
        split_second = k > 0 and units[k - 1].lines == u.lines and u.lines and len(u.lines) == 1 \
            and units[k - 1].spoken[1] == u.spoken[0]
        split_first = k + 1 < len(units) and units[k + 1].lines == u.lines and len(u.lines) == 1 \
            and units[k + 1].spoken[0] == u.spoken[1]
        u.start = u.spoken[0] if split_second else max(0.0, u.spoken[0] + rng.uniform(-JITTER, JITTER))
        u.end = u.spoken[1] if split_first else u.spoken[1] + rng.uniform(*LINGER)
        u.end = max(u.end, u.start + rng.uniform(*MIN_DURATION))
    units.sort(key=lambda u: u.start)
    for a, b in zip(units[:-1], units[1:], strict=True):
        if a.end > b.start - GAP and a.spoken[1] <= b.spoken[0]:  # lines that do not overlap: no overlap
            a.end = max(b.start - GAP, a.start + 0.3)
            if a.end > b.start - GAP:
                b.start = a.end + GAP
                b.end = max(b.end, b.start + 0.3)
    if names > 0:
        name_events(units, turns, seed, names, wrong)
    return units


def subtitle_tuples(events: list[SubEvent]) -> list[tuple]:
    """``(start, end, text)`` of each event, ``(start, end, text, speaker)`` of a named one, as the diarizer
    takes them."""
    return [(round(e.start, 3), round(e.end, 3), e.text) + ((e.speaker,) if e.speaker else ()) for e in events]
