"""Speaker cues from the EN subtitles of the diarized track (issue 15): the :class:`Cue` of each event.

A subtitle event is normally one line of one speaker; an event holding two speakers marks each
with a leading dash (``"- Really?\\n- Yes."``), and event boundaries are where speakers change.
The embedded diarizer (:mod:`.embedded`, ``diarize(..., subtitles=)``) uses them as soft cues,
the audio staying the authority (speech no event covers, events over silence, an interjection
merged into its neighbour's event). This module reads the events into cues (:func:`cues_from_subtitles`:
times, :func:`is_dash_event`, :func:`dash_shares`, the named speaker's :func:`speaker_key`); the cues are
used by:

- :mod:`.cue_windows`: per window, the one-speaker event that covers it most (:func:`.cue_windows.window_events`),
  its speaker name (:func:`.cue_windows.window_names`), and the seconds of it under two events at once
  (:func:`.cue_windows.window_crowding`, :func:`.cue_windows.window_straddle`);
- :mod:`.cue_events`: each such window's embedding moved towards its event's mean embedding
  (:func:`.cue_events.pool_events`: a steadier, line-level vector for the clustering and the speaker count);
  an affinity bonus for windows of the same one-speaker event (:func:`.cue_events.event_link`); the
  re-segmentation's per-frame switch penalty, lower near an event boundary and higher inside a one-speaker
  event (:func:`.cue_events.switch_penalties`); a cluster cut in two where its lines, as units, fall into two
  groups that differ in both tracks (:func:`.cue_events.split_by_events`: two characters merged into one speaker);
- :mod:`.cue_overlap`: where an event starts inside an earlier one-speaker event, a second voice speaks over
  the first (an interjection inside another's line); where the audio's turns have nobody else there, the
  speaker whose mixture with the host fits best is added as an overlap (:func:`.cue_overlap.overlap_spans` /
  :func:`.cue_overlap.overlap_turns`);
- :mod:`.cue_dashes`, :mod:`.cue_dash_split`, :mod:`.cue_dash_relabel`: a dash event holds two (or more)
  speakers in order: its speech is cut into parts (at the pause nearest the point its lines' shares of
  characters give: :func:`.cue_dashes.window_dash_parts`), windows of two parts of one event are cannot-linked
  (:func:`.cue_dashes.dash_apart`), a cluster holding both parts of a dash event is cut in two where the cut
  puts them apart (:func:`.cue_dash_split.split_by_dashes`), and a part the turns give to the speaker of the
  event's other part is given to the best other speaker (:func:`.cue_dash_relabel.dash_relabel`);
- :mod:`.cue_names`: where the file names an event's speaker (an ASS Name field, an SDH label:
  :attr:`anim400k.model.Subtitle.speaker`), windows of one name are must-linked, windows of two names
  cannot-linked (affinity raised / lowered: :func:`.cue_names.name_constraints`), and the speaker count is at
  least the number of names with enough speech (:func:`.cue_names.name_floor`). A name that stands for several
  people (:func:`speaker_key`: ``ALL``, ``BOTH``, ``MAN #2``, ``Haruhi & Kyon``, ``NARRATOR``...) is ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError

#: characters that open a speaker's part of a dash event
DASHES = ("-", "\u2010", "\u2013", "\u2014", "\u2212")

#: speaker names that stand for several voices or for nobody in particular (the last word of a name, its
#: numbers dropped: ``MAN #2``, ``OLD WOMAN``, ``ALL``): not a constraint. ``NARRATOR`` is one of them: the
#: narration is often a character's voice-over, and a cannot-link between it and that character's name
#: would split one voice.
GENERIC_SPEAKERS = frozenset({
    "all", "both", "everyone", "everybody", "together", "crowd", "group", "others", "other", "chorus",
    "man", "men", "woman", "women", "boy", "boys", "girl", "girls", "kid", "kids", "child", "children",
    "guy", "guys", "lady", "ladies", "person", "people", "someone", "somebody", "voice", "voices",
    "students", "unknown", "narrator", "narration", "speaker", "crowds", "audience",
})
_GROUP = re.compile(r"[&/+,]|\band\b", re.IGNORECASE)
_NUMBER = re.compile(r"#?\d+")
_ASIDE = re.compile(r"\([^()]*\)")
#: Japanese honorifics after a name (``Haruhi-chan``, ``Koizumi kun``): one character, one key
_HONORIFIC = re.compile(r"[\s-]+(?:chan|kun|san|sama|senpai|sempai|sensei|dono|tan|chin|han|kouhai|kohai)$")


def speaker_key(name: str | None) -> str | None:
    """The constraint key of a subtitle's speaker name: case, spacing and asides such as ``(V.O.)``
    dropped, and a Japanese honorific after the name (``"Haruhi"``, ``"HARUHI (O.S.)"``, ``"Haruhi-chan"`` ->
    ``"haruhi"``); None for no name, a name with no
    letter (``"???"``), a group (``&``, ``/``, ``+``, a comma, ``and``) or a generic label
    (:data:`GENERIC_SPEAKERS`)."""
    if not name:
        return None
    key = " ".join(_ASIDE.sub(" ", name).casefold().split())
    key = _HONORIFIC.sub("", key)
    if not any(c.isalpha() for c in key) or _GROUP.search(key):
        return None
    words = _NUMBER.sub(" ", key).replace("#", " ").split()
    if not words or words[-1].strip(".:") in GENERIC_SPEAKERS:
        return None
    return key


@dataclass(frozen=True)
class Cue:
    """One subtitle event as a speaker cue (seconds on the audio's timeline)."""

    start: float
    end: float
    #: the event marks two or more speakers with leading dashes (speakers may change inside)
    dash: bool
    #: the speaker the file names for the event (:func:`speaker_key`; None: unnamed, generic or a dash event)
    speaker: str | None = None
    #: a dash event: where each speaker's part after the first starts, as shares of the event's characters
    #: (:func:`dash_shares`; ``()`` for a one-speaker event)
    shares: tuple[float, ...] = ()


#: a dash that opens a speaker's part inside a line: after a sentence end and a space (the subtitle readers
#: turn an event's line breaks into spaces, so ``"- Really?\n- Yes."`` reaches the diarizer as
#: ``"- Really? - Yes."``)
_INLINE_DASH = re.compile(r"(?<=[.?!\u2026\"'\u201d\u2019)\]])\s+(?=[" + "".join(DASHES) + r"])")


def is_dash_event(text: str) -> bool:
    """Whether ``text`` (one subtitle event, lines split by newlines or ASS ``\\N``) holds two or more
    speakers marked by leading dashes: at least two dashed lines, or a dashed line after the first. A dash
    after a sentence end inside a line opens a line too (``"- Really? - Yes."``, ``"Really? - Yes."``: an
    event as :func:`anim400k.formats.subtitles.read_subtitles` gives it, line breaks made spaces)."""
    text = text.replace("\\N", "\n").replace("\\n", "\n")
    lines = [ln.strip() for ln in _INLINE_DASH.sub("\n", text).splitlines() if ln.strip()]
    dashed = [ln.startswith(DASHES) for ln in lines]
    return sum(dashed) >= 2 or any(dashed[1:])


def dash_shares(text: str) -> tuple[float, ...]:
    """Where each speaker's part after the first starts in a dash event's ``text``, as shares of its
    characters (spaces and the dashes left out): ``"- No.\\n- Yes, it is."`` -> ``(0.25,)``. A dashed line
    opens a part, a line without a dash continues the part before (a line broken in two); ``()`` when
    ``text`` is no dash event (:func:`is_dash_event`)."""
    if not is_dash_event(text):
        return ()
    text = text.replace("\\N", "\n").replace("\\n", "\n")
    lines = [ln.strip() for ln in _INLINE_DASH.sub("\n", text).splitlines() if ln.strip()]
    sizes: list[int] = []
    for k, ln in enumerate(lines):
        size = len("".join(ln.lstrip("".join(DASHES)).split()))
        if k == 0 or ln.startswith(DASHES):
            sizes.append(size)
        else:
            sizes[-1] += size
    total = sum(sizes)
    if len(sizes) < 2 or total == 0:
        return tuple((k + 1) / len(sizes) for k in range(len(sizes) - 1))
    return tuple(float(x) for x in np.cumsum(sizes)[:-1] / total)


def _fields(event: Any) -> tuple[float, float, str, str | None]:
    """``(start, end, text, speaker)`` of a ``(start, end, text)`` or ``(start, end, text, speaker)`` tuple
    or of an object with ``start``, ``end``, ``text`` and optionally ``speaker``."""
    if isinstance(event, (tuple, list)):
        start, end, text, *rest = event
        if len(rest) > 1:
            raise ValueError(f"{len(event)} fields")
        speaker = rest[0] if rest else None
    else:
        start, end, text = event.start, event.end, event.text
        speaker = getattr(event, "speaker", None)
    return float(start), float(end), str(text), None if speaker is None else str(speaker)


def cues_from_subtitles(subtitles: Iterable[Any]) -> list[Cue]:
    """The :class:`Cue` of each event, sorted by start: ``(start, end, text)`` or ``(start, end, text,
    speaker)`` tuples or subtitle objects (``start``/``end``/``text``, optional ``speaker``). Events with
    no duration are dropped, and so are events that hold no speech and name no speaker (an SDH sound
    description such as ``[DOOR SLAMS]`` or a ``♪`` lyric line: :func:`anim400k.formats.sdh.speech_text`,
    the rule the dub speaks by); a dash event's speaker and generic names are dropped (:func:`speaker_key`);
    times that are not finite, or an event that is neither, raise :class:`InputError`."""
    from ..formats.sdh import speech_text

    out = []
    for i, ev in enumerate(subtitles):
        try:
            start, end, text, speaker = _fields(ev)
        except (TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"subtitle event {i} is not (start, end, text[, speaker]): {exc}") from None
        if not (math.isfinite(start) and math.isfinite(end)):
            raise InputError(f"subtitle event {i} has a time that is not a finite number ({start}, {end})")
        if end > start and (speaker or speech_text(text)):
            dash = is_dash_event(text)
            out.append(Cue(start, end, dash, None if dash else speaker_key(speaker), dash_shares(text)))
    return sorted(out, key=lambda c: (c.start, c.end))
