"""Captions written word by word, read as the spoken text once.

Two common kinds of SRT/WebVTT file show each spoken line several times:

* **YouTube auto-captions** (``yt-dlp --write-auto-subs``) are *rolling*: each cue shows the line
  before it again above its new line, a ~10 ms cue re-shows the new line alone, and the new line
  carries inline word times (``hello<00:00:00.640><c> everyone</c>``). Read verbatim, every line
  came back two or three times.
* **openai-whisper** ``--word_timestamps True --highlight_words True`` writes one cue per word,
  each repeating the whole line with that word underlined (``Hello <u>there</u> friend.``), plus a
  plain cue for each pause between words. Read verbatim, a line came back once per word.

:func:`spoken_cues` tells both from the cues (:func:`caption_kind`) and gives one event per spoken
line, with word times when the file has them; other files pass through unchanged (no words).

* rolling: a file in which, of the cues with inline timestamps (``<hh:mm:ss.mmm>``) after the first,
  one at least and half at least begin with the last line of the cue before them. Each cue keeps
  only its new lines: the lines that follow the longest run of leading lines equal to the end of the
  previous cue's lines (so the ~10 ms repeat cues, which hold only the line already shown, are
  dropped). Its words: the text before the first inline timestamp starts at the cue's start, the
  text after each timestamp at that time, and each ends where the next begins (the last at the cue's
  end); a line whose pieces are not one word each (no inline times) has no words.
* highlight: a file in which at least half of the cues with ``<u>`` (and one) touch a cue of the same plain
  text (the next or the one before, at most :data:`HIGHLIGHT_GAP` apart): one ``<u>`` for emphasis in an
  ordinary SRT made the whole file highlight captions, merging a line said twice seconds apart and dropping every
  WebVTT voice. Consecutive touching cues with the same plain text, one of them with ``<u>``, are one event from
  the first's start to the last's end, unless a cue underlines a word at or before the one its group last
  underlined: that is the same line said again (``Yes.`` twice), a new event. Its words are the underlined
  words, each timed by its own cue, when together
  they are the line's text (an SRT that underlines a word for emphasis gets no words).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model import Subtitle, Word

#: A WebVTT inline timestamp as YouTube writes them (``<00:00:01.040>``; the short ``<00:01.040>`` too).
_INLINE_STAMP = re.compile(r"<((?:\d+:)?\d+:\d+\.\d+)>")
#: Seconds between two cues that openai-whisper's highlight captions write as one line's (they touch: each word's
#: cue ends where the next, or the pause's, begins).
HIGHLIGHT_GAP = 0.1
#: An underline tag (openai-whisper's highlighted word).
_UNDERLINE = re.compile(r"<u>(.*?)</u>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Cue:
    """One SRT/WebVTT cue as written: times in seconds and its payload with its markup."""

    start: float
    end: float
    payload: str


@dataclass(frozen=True, slots=True)
class SpokenCue:
    """One spoken line: the event (plain text) and its words (empty when the file does not time them)."""

    subtitle: Subtitle
    words: tuple[Word, ...] = ()


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.split(":")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total


def _lines(cue: Cue, plain: Callable[[str], str]) -> list[tuple[str, str]]:
    """The cue's non-blank lines as ``(plain text, raw line)``."""
    out = []
    for raw in cue.payload.split("\n"):
        text = plain(raw)
        if text:
            out.append((text, raw))
    return out


def caption_kind(cues: Sequence[Cue], plain: Callable[[str], str]) -> str | None:
    """``"rolling"`` (YouTube auto-captions), ``"highlight"`` (openai-whisper ``--highlight_words``) or None
    (any other file), by the rules of the module docstring."""
    underlined = [k for k, c in enumerate(cues) if _UNDERLINE.search(c.payload)]
    if underlined and 2 * sum(_repeats_a_neighbour(cues, k, plain) for k in underlined) >= len(underlined):
        return "highlight"
    stamped = rolled = 0
    prev: list[str] = []
    for cue in cues:
        lines = [t for t, _ in _lines(cue, plain)]
        if _INLINE_STAMP.search(cue.payload):
            stamped += 1
            rolled += bool(stamped > 1 and prev and lines and lines[0] == prev[-1])
        prev = lines
    return "rolling" if rolled and rolled >= (stamped - 1) / 2 else None


def _touching_same(a: Cue, b: Cue, plain: Callable[[str], str]) -> bool:
    """Whether cue ``b`` follows ``a`` within :data:`HIGHLIGHT_GAP` with the same plain text."""
    return b.start - a.end <= HIGHLIGHT_GAP and plain(a.payload) == plain(b.payload)


def _repeats_a_neighbour(cues: Sequence[Cue], k: int, plain: Callable[[str], str]) -> bool:
    """Whether cue ``k`` touches the cue before or after it with the same plain text."""
    return (k > 0 and _touching_same(cues[k - 1], cues[k], plain)) or (
        k + 1 < len(cues) and _touching_same(cues[k], cues[k + 1], plain))


def _overlap_run(prev: list[str], lines: list[str]) -> int:
    """The longest ``j`` with the first ``j`` of ``lines`` equal to the last ``j`` of ``prev``."""
    for j in range(min(len(prev), len(lines)), 0, -1):
        if lines[:j] == prev[-j:]:
            return j
    return 0


def _stamped_words(raw: str, start: float, end: float, plain: Callable[[str], str]) -> list[Word] | None:
    """The words of one rolling line from its inline timestamps; None when a piece is not one word."""
    parts = _INLINE_STAMP.split(raw)  # text, stamp, text, stamp, text...
    pieces = [(start, parts[0])] + [(_seconds(parts[k]), parts[k + 1]) for k in range(1, len(parts) - 1, 2)]
    timed = [(t, plain(text)) for t, text in pieces if plain(text)]
    if any(len(text.split()) != 1 for _, text in timed):
        return None
    words = []
    for k, (t, text) in enumerate(timed):
        s = min(max(t, start), end)
        e = timed[k + 1][0] if k + 1 < len(timed) else end
        words.append(Word(round(s, 3), round(min(max(e, s), end), 3), text))
    return words


def _rolling(cues: Sequence[Cue], plain: Callable[[str], str]) -> list[SpokenCue]:
    out = []
    prev: list[str] = []
    for cue in cues:
        lines = _lines(cue, plain)
        texts = [t for t, _ in lines]
        new = lines[_overlap_run(prev, texts):]
        prev = texts
        if not new:
            continue
        words: list[Word] | None = []
        for _, raw in new:
            line_words = _stamped_words(raw, cue.start, cue.end, plain)
            words = None if words is None or line_words is None else words + line_words
        text = " ".join(t for t, _ in new)
        out.append(SpokenCue(Subtitle(cue.start, cue.end, text), tuple(words or ())))
    return out


def _underlined_word(cue: Cue, plain: Callable[[str], str]) -> int | None:
    """The index, among the words of the cue's plain text, of its underlined word (None: none)."""
    m = _UNDERLINE.search(cue.payload)
    return None if m is None else len(plain(cue.payload[: m.start()]).split())


def _highlight(cues: Sequence[Cue], plain: Callable[[str], str],
               speaker: Callable[[str], str | None] | None = None) -> list[SpokenCue]:
    groups: list[list[Cue]] = []
    last_word: int | None = None  # the underlined word of the current group's latest cue that has one
    for cue in cues:
        word = _underlined_word(cue, plain)
        # the same line said again ("Yes." "Yes."): its underline starts over at or before the last one
        again = word is not None and last_word is not None and word <= last_word
        if groups and _touching_same(groups[-1][-1], cue, plain) and not again:
            groups[-1].append(cue)
        else:
            groups.append([cue])
            last_word = None
        if word is not None:
            last_word = word
    out = []
    for group in groups:
        if not any(_UNDERLINE.search(c.payload) for c in group):
            out.extend(SpokenCue(Subtitle(c.start, c.end, plain(c.payload), speaker(c.payload) if speaker else None))
                       for c in group)
            continue
        words = []
        for c in group:
            m = _UNDERLINE.search(c.payload)
            if m is not None and plain(m.group(1)):
                words.append(Word(c.start, c.end, plain(m.group(1))))
        start, end, text = group[0].start, max(c.end for c in group), plain(group[0].payload)
        if " ".join(w.text for w in words).split() != text.split():
            words = []  # underlining that is not one word per cue (emphasis): not word times
        said = speaker(group[0].payload) if speaker else None
        out.append(SpokenCue(Subtitle(start, end, text, said), tuple(words)))
    return out


def spoken_cues(
    cues: Sequence[Cue], plain: Callable[[str], str], speaker: Callable[[str], str | None] | None = None
) -> list[SpokenCue]:
    """One :class:`SpokenCue` per spoken line of ``cues`` (in file order; ``plain`` turns a payload or a
    line into plain text): rolling and highlight captions collapsed (module docstring), any other file's
    cues one each, without words, with the speaker ``speaker`` finds in the payload (WebVTT ``<v Name>``)."""
    kind = caption_kind(cues, plain)
    if kind == "rolling":
        return _rolling(cues, plain)
    if kind == "highlight":
        return _highlight(cues, plain, speaker)
    return [SpokenCue(Subtitle(c.start, c.end, plain(c.payload), speaker(c.payload) if speaker else None))
            for c in cues]
