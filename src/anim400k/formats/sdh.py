"""What of an SDH / closed-caption subtitle is spoken: sound descriptions, speaker labels and lyrics removed.

"English (SDH)" and "[CC]" tracks, for deaf and hard-of-hearing viewers, write more than the
dialogue: ``[DOOR SLAMS]``, ``(GASPS)``, ``(sighs)``, a speaker's name before the line
(``KYON: Not again.``) and song lyrics between ``♪`` signs. Text that is spoken (a dub's lines) or
taken for speech (a subtitle file read as a transcript) keeps only the dialogue (:func:`speech_text`,
:func:`speech_words`); subtitles stored as subtitles keep their text as written.

Removed:

* a **bracketed description**: anything in ``[...]`` (``[DOOR SLAMS]``, ``[Music]``, ``[in Japanese]``);
  in ``(...)`` when it reads as one, not as a spoken aside: no sentence punctuation (``. ? ! …``)
  inside, and either no lowercase letter (``(GASPS)``, ``(KYON)``) or a lowercase first letter where
  an utterance starts (at the start, after a sentence end, a colon or a dash: ``(sighs) Not again.``,
  ``Fine. (laughs nervously)``); ``(Why me?)``, ``(Mom)`` and ``I (really) mean it`` stay (thoughts,
  names, asides);
* a **speaker label**: a name in capitals followed by a colon at the start of the text or after a
  dialogue dash (``KYON:``, ``- MAN #2:``, ``MRS. SUZUMIYA:``, ``HARUHI (O.S.):``, ``MIKURU & ITSUKI:``; two
  characters at least), when the name is name-like (one of its words is neither a number nor a common
  word that is no name, :data:`NOT_NAMES`: ``OK: fine``, ``NOTE: ...``, ``P.S.: ...``, ``EPISODE 2: ...``
  keep their opening word) and the text goes on after the colon (a lone ``DANGER ZONE:`` is a heading); not
  when the words read as a sentence: a contraction (``HERE'S THE PLAN: WE RUN.``) or, in all-caps captions (no
  lowercase letter in the text), more than two words to a name (``LISTEN TO ME: STOP!``);
* **lyrics**: from a ``♪`` (or ``♫``) to the next one, or to the end of the text when none follows.
* Japanese subtitles' **full-width brackets**: ``［...］`` and ``【...】`` (names, signs); ``（...）`` holding a sound
  (ending in 音 or 声: ``（ドアが閉まる音）``) or a speaker's name that opens a line going on (``（キョン）またか``);
  a line that is a ``（...）`` thought alone stays (spoken over the picture).
* the **speaker-change marker** of US TV closed captions (CEA-608 style), ``>>`` (``>>>``: a change of
  subject) at the start of the text or of a line or after a space; a label after it is a label, as after a
  dialogue dash (``>> KYON: Not again.`` -> ``Not again.``, speaker ``KYON``).

Dashes left with nothing after them and spaces are tidied; a text with no letter or digit left is
empty (its event is dropped by the callers).

:func:`speaker_label` gives the name of a label that opens a text (the event's speaker, kept by the
subtitle reader as :attr:`anim400k.model.Subtitle.speaker`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..model import Word
from .subtitle_text import collapse

_SQUARE = re.compile(r"\[[^\[\]]*\]")
_ROUND = re.compile(r"\(([^()]*)\)")
#: Japanese subtitles' full-width brackets: ``［ハルヒ］``, ``【駅前】`` (names, signs: never spoken) and
#: ``（ドアが閉まる音）`` / ``（キョン）またか`` (a sound, a speaker), where ``（なんでこうなるんだ）`` is a thought
#: spoken over the picture and stays
_FULL_SQUARE = re.compile(r"[［【][^［］【】]*[］】]")
_FULL_ROUND = re.compile(r"（([^（）]*)）")


def _capital_letters(stop: int = 0x2000) -> str:
    """A regex class body of the capital letters up to ``stop`` (Latin with its accents, Greek, Cyrillic...:
    the scripts whose names SDH labels write in capitals), as ranges."""
    ranges: list[list[int]] = []
    for code in range(stop):
        if chr(code).isupper() or chr(code).istitle():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


_CAPS = _capital_letters()
#: a speaker label: a name in capitals, maybe with an aside (``HARUHI (O.S.):``, ``KYON (OFFSCREEN):``; the
#: aside may already be blanked as a description, leaving spaces before the colon), then a colon. The name's
#: capitals are of any of the scripts above (``ÉMILE``, ``ZOË``, a decomposed accent's combining mark too), with
#: digits (``2B``), two characters at least; :func:`_capitals` checks it holds a letter.
#: the longest speaker label's name, less its first and last characters (``GIRL 1 & GIRL 2``, ``NARRATOR #2``): a
#: bound, so that a cue of 30,000 ``-A`` no longer takes the label search 43 s (quadratic backtracking)
MAX_LABEL_CHARS = 40
_LABEL = re.compile(r"(?:^|(?<=[-‐–—]\s)|(?<=[-‐–—]))\s*"
                    rf"(?P<name>[{_CAPS}0-9][{_CAPS}0-9\u0300-\u036f #'.&-]{{0,{MAX_LABEL_CHARS}}}"
                    rf"[{_CAPS}0-9\u0300-\u036f.#])\s*"
                    r"(?:\([A-Z0-9 .'/-]*\)\s*)?:(?=\s|$)")
_DASHES = "-‐–—"
#: Common English words that are not names: a text opening with them and a colon (``OK: fine``, ``NOTE:``,
#: ``P.S.:``, ``TL NOTE:``, ``RE:``, ``WARNING:``) is not a speaker's label. Generic speakers (``MAN``, ``ALL``,
#: ``NARRATOR``, ``VOICE``) are labels, so none of them is here.
NOT_NAMES = frozenset("""
    OK OKAY NO NOPE NAH YES YEAH YEP YUP AYE HEY HI HELLO BYE OH AH AW AHH OOH UH UM ER HM HMM WOW WHOA WELL SO
    ALRIGHT RIGHT SURE FINE GOOD GREAT THANKS PLEASE SORRY WAIT LOOK LISTEN STOP GO COME NOW THEN HERE THERE
    WHAT WHY HOW WHEN WHERE WHO WHICH AND BUT OR IF THE AN OF TO FROM IN ON AT FOR WITH BY AS IS IT ITS THIS
    THAT THESE THOSE NOT ALSO OUT UP DOWN OFF OVER BACK AWAY PS PPS FYI NB RE CC BCC FW FWD SUBJECT DATE TIME
    NOTE NOTES NOTICE QUESTION QUESTIONS ANSWER ANSWERS QA TIP TIPS HINT WARNING CAUTION DANGER ATTENTION
    ALERT IMPORTANT REMINDER UPDATE BREAKING NEWS RESULT RESULTS SCORE TOTAL STEP RULE RULES EXAMPLE EG IE
    ETC VS PART CHAPTER EPISODE DAY WEEK YEAR LOCATION PLACE TL TN TRANSLATION TRANSLATOR LYRICS SIGN TITLE
    NEXT PREVIOUSLY MEANWHILE LATER FIRST SECOND THIRD LAST FINALLY GOAL MISSION OBJECTIVE STATUS LEVEL
    NAME AGE KEY PRICE AM PM AD BC
    I ME MY MINE YOU YOUR YOURS HE HIM HIS SHE HER HERS WE US OUR OURS THEY THEM THEIR THEIRS
    SAY SAYS SAID ASK ASKS ASKED TELL TELLS TOLD REPLIED ANSWERED YELLED SHOUTED WHISPERED WROTE ADDED
""".split())
#: words that open a sentence, not a name: in all-caps captions ``THE PLAN: RUN.``, ``SHE SAID: "RUN!"`` and
#: ``MY ANSWER: NO.`` are dialogue (labels there name a speaker bare: ``PRINCIPAL:``, ``OLD MAN:``)
_SENTENCE_OPENERS = frozenset("THE A AN MY YOUR HIS HER OUR THEIR ITS THIS THAT THESE THOSE I YOU HE SHE WE THEY IT"
                              .split())
_NAME_TOKENS = re.compile(r"[\s&/+-]+")
#: a number, not a name, in a label's words: digits, an ordinal (``1ST``, ``2ND``), a time (``5PM``) or a decade
#: (``90S``), as ``FIRST``, ``PM`` are :data:`NOT_NAMES` (``2B``, ``R2``, ``3PO`` are names)
_NUMBER = re.compile(r"[0-9]+(?:ST|ND|RD|TH|AM|PM|S)?")
_LYRICS = re.compile(r"[♪♫][^♪♫]*(?:[♪♫]|$)")
#: the closed-caption speaker-change marker of US TV captions (CEA-608 style, ``>> Next.``; ``>>>`` a change of
#: subject), at the start of the text or of a line, or after a space: not spoken; it opens a line as a dash does
_CHANGE_MARKER = re.compile(r"(?:^|(?<=\s))>{2,3}(?=\s|$)")
#: text that ends with a speaker-change marker standing alone (``Go >>``, not ``x>>>``)
_ENDS_WITH_MARKER = re.compile(r"(?:^|(?<=\s))>{2,3}$")
_SENTENCE_PUNCT = re.compile(r"[.?!…]")
_LONE_DASH = re.compile(r"(?:^|(?<=\s))[-‐–—](?=\s*(?:[-‐–—]|$))")


def _description(content: str, before: str) -> bool:
    """Whether ``( content )``, after the text ``before``, is a sound description, not a spoken aside."""
    letters = [c for c in content if c.isalpha()]
    if not letters or _SENTENCE_PUNCT.search(content):
        return False
    if not any(c.islower() for c in letters):
        return True
    before = before.rstrip()
    opens = not before or before[-1] in ".?!…:-‐–—" or _ENDS_WITH_MARKER.search(before) is not None
    return letters[0].islower() and opens


def _blanked(text: str, gone: list[bool]) -> str:
    """``text`` with the characters ``gone`` marks as spaces, each speaker-change marker (``>>``) as a dash, so
    that a label after it is at the start of a dialogue line (``>> KYON: Hi.``), as after ``- ``."""
    chars = [" " if g else c for c, g in zip(text, gone, strict=True)]
    for m in _CHANGE_MARKER.finditer(text):
        chars[m.start()] = "-"
    return "".join(chars)


def _described(text: str) -> list[bool]:
    """For each character of ``text``, whether it is in a bracketed description or lyrics (removed)."""
    gone = [False] * len(text)

    def mark(start: int, end: int) -> None:
        for k in range(start, end):
            gone[k] = True

    for m in _LYRICS.finditer(text):
        mark(m.start(), m.end())
    for m in _CHANGE_MARKER.finditer(text):
        mark(m.start(), m.end())
    for m in _SQUARE.finditer(text):
        mark(m.start(), m.end())
    for m in _ROUND.finditer(text):
        if _description(m.group(1), text[: m.start()]):
            mark(m.start(), m.end())
    for m in _FULL_SQUARE.finditer(text):
        mark(m.start(), m.end())
    for m in _FULL_ROUND.finditer(text):
        if _japanese_description(m, text):
            mark(m.start(), m.end())
    return gone


def _japanese_description(m: re.Match[str], text: str) -> bool:
    """Whether ``（...）`` in Japanese subtitle ``text`` is not spoken: a sound (its content ends in 音 "sound" or
    声 "voice": ``（ドアが閉まる音）``, ``（笑い声）``), or a speaker's name opening a line that goes on
    (``（キョン）またか``); a line that is all ``（...）`` otherwise is a thought, spoken, and stays."""
    content = m.group(1).strip()
    if content.endswith(("音", "声")):
        return True
    line_start = text.rfind("\n", 0, m.start()) + 1
    line_end = text.find("\n", m.end())
    before = text[line_start:m.start()].strip(" \t\u3000" + _DASHES)
    after = text[m.end():len(text) if line_end < 0 else line_end]
    return bool(content) and not before and any(c.isalnum() for c in after)


def _capitals(name: str) -> bool:
    """Whether a label's name (capitals and digits, :data:`_LABEL`) holds a letter: ``2B``, not ``10``."""
    return any(c.isalpha() for c in name)


def _name_like(name: str) -> bool:
    """Whether a label's name (before its aside) names someone: one of its words (split at spaces and
    ``& / + -``, dots and ``' #`` dropped) is neither a number (:data:`_NUMBER`: ``2``, ``1ST``, ``5PM``) nor one
    of :data:`NOT_NAMES`, and it is not an
    abbreviation of single letters joined by ``& / +`` (``Q&A``, ``R&D``) nor one of :data:`NOT_NAMES` once
    its signs are dropped."""
    words = [w.replace(".", "").strip("'#") for w in _NAME_TOKENS.split(name)]
    letters = [w for w in words if w]
    if re.search(r"[&/+]", name) and len(letters) > 1 and all(len(w) == 1 and w.isalpha() for w in letters):
        return False
    if "".join(letters) in NOT_NAMES:
        return False
    return any(w and not _NUMBER.fullmatch(w) and w not in NOT_NAMES for w in words)


#: a contraction in a label's words: ``HERE'S``, ``WE'RE``, ``DON'T``, ``I'M``: a sentence, not a name
#: (``KYON'S MOM`` keeps its possessive ``'S`` after a name-like word, so ``'S`` alone is not one)
_CONTRACTION = re.compile(r"(?:N'T|'RE|'LL|'VE|'M|'D)$|^(?:HERE|THERE|WHAT|THAT|IT|LET|HE|SHE|WHO|WHERE|HOW)'S$")
#: the words a label of all-caps captions may have per name (``OLD MAN``, ``MRS. SUZUMIYA``; ``MIKURU & ITSUKI``
#: two names): where every letter is a capital, ``HERE'S THE PLAN: WE RUN.`` opens with a sentence, not a name
_CAPS_LABEL_WORDS = 2


def _sentence_like(name: str, all_caps: bool) -> bool:
    """Whether a label-shaped ``NAME:`` reads as the opening of a sentence: a contraction among its words
    (:data:`_CONTRACTION`), or, in a text with no lowercase letter (all-caps captions, where the words before a
    colon are often spoken: ``LISTEN TO ME: STOP!``), more than :data:`_CAPS_LABEL_WORDS` words in one name or a
    first word that opens sentences (:data:`_SENTENCE_OPENERS`: ``THE PLAN: RUN.``)."""
    words = [w.strip(".") for w in name.split()]
    if any(_CONTRACTION.search(w) for w in words):
        return True
    if not all_caps:
        return False
    if len(words) > 1 and words[0] in _SENTENCE_OPENERS:
        return True
    names = re.split(r"\s*[&/+]\s*", name)
    return any(len([w for w in part.split() if not re.fullmatch(r"#?[0-9]+", w)]) > _CAPS_LABEL_WORDS
               for part in names)


def _ends_dash_dialogue(kept: str, m: re.Match[str]) -> bool:
    """Whether the label ``m`` opens a dialogue dash line that some dialogue comes before (``- KYON: Hi.\n-
    HARUHI:``): a speaker whose line is empty, not a heading."""
    before = kept[: m.start()].rstrip()
    return bool(before) and before[-1] in _DASHES and any(c.isalnum() for c in before[:-1])


def _labels(kept: str, text: str) -> list[re.Match[str]]:
    """The speaker labels of ``text`` (``kept``: it with its descriptions and lyrics blanked): a name-like
    name in capitals (:func:`_capitals`, :func:`_name_like`) and a colon, with the text going on after it (a
    description counts: ``KYON: [SIGHS]``) or on a dialogue dash line after other dialogue whose lines are
    labelled (an empty line: ``- KYON: Hi.\n- HARUHI:``); a text that ends at the colon (``DANGER ZONE:``,
    ``KYON:``) is a heading, not a label, and so is the last dash line of unlabelled dialogue (``- BUT WHY?\n-
    BECAUSE:``, a line of all-caps captions that goes on in the next event)."""
    all_caps = not any(c.islower() for c in kept)
    found = [m for m in _LABEL.finditer(kept) if _capitals(m.group("name")) and _name_like(m.group("name"))
             and not _sentence_like(m.group("name"), all_caps)]
    going_on = [m for m in found if text[m.end():].strip()]
    return [m for m in found if m in going_on or (going_on and _ends_dash_dialogue(kept, m))]


def _removed(text: str) -> list[bool]:
    """For each character of ``text``, whether the rules remove it."""
    gone = _described(text)
    kept = _blanked(text, gone)
    for m in _labels(kept, text):
        for k in range(m.start(), m.end()):
            gone[k] = True
    return gone


def _tidy(text: str) -> str:
    text = collapse(text)
    while True:
        tidier = collapse(_LONE_DASH.sub("", text))
        if tidier == text:
            break
        text = tidier
    return text if any(c.isalnum() for c in text) else ""


def speech_text(text: str) -> str:
    """``text`` without its sound descriptions, speaker labels and lyrics (module docstring); ``""``
    when nothing spoken is left."""
    gone = _removed(text)
    # removed text reads as a line break: a space between words, nothing between Japanese characters (collapse)
    return _tidy("".join("\n" if g else c for c, g in zip(text, gone, strict=True)))


def speaker_label(text: str) -> str | None:
    """The speaker label (module docstring) that opens ``text``, without its colon (``"KYON: Not again."``
    -> ``"KYON"``; ``"- KYON: ..."`` too), when it is the text's only label; None otherwise (no label, a
    label after some dialogue, or two labels: an event of two speakers). Bracketed descriptions and
    lyrics before it are skipped (``"[SIGHS] KYON: Not again."``)."""
    gone = _described(text)
    kept = _blanked(text, gone)
    labels = _labels(kept, text)
    if len(labels) != 1 or kept[: labels[0].start()].strip(" \t\n-‐–—"):
        return None
    return labels[0].group(0).strip()[:-1].strip()


def speech_words(words: Sequence[Word]) -> list[Word]:
    """``words`` (of one event, in order) without those the rules of :func:`speech_text` remove from the
    joined text; a word partly removed keeps its remaining characters and its times."""
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w.text)))
        pos += len(w.text) + 1
    joined = " ".join(w.text for w in words)
    gone = _removed(joined)
    out = []
    for w, (a, b) in zip(words, spans, strict=True):
        rest = _tidy("".join(c for c, g in zip(joined[a:b], gone[a:b], strict=True) if not g))
        if rest:
            out.append(Word(w.start, w.end, rest, w.probability))
    return out
