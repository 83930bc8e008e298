"""Condensing: a shorter wording for a line that does not fit its slot even at the fastest speed.

The isochrony step after time-stretching (DESIGN: "bounded time-stretch, then re-phrase/condense
hooks"). A *condenser* is any callable ``(text, ratio) -> str`` that returns a shorter wording of
``text`` aiming at ``ratio`` (0 < ratio < 1) times its spoken length; it may return ``text``
unchanged when it cannot do better. Choose one by name with :func:`get_condenser`:

- ``rules`` (embedded default): rewrites in order of how little they change the meaning, stopping
  as soon as the text is short enough: contractions (``do not`` -> ``don't``; ``I am`` -> ``I'm``
  only before another word, never clause-final), repeated words (``no, no, no`` -> ``no``),
  interjections and discourse markers (``well,`` ``you know,`` ``um``), intensifiers (``really``,
  ``very``, ...), asides in brackets or dashes. Content words are kept.
- ``rules+trim``: ``rules``, then, when still too long, only the leading sentences that fit.
- ``none``: never condense (the paper's baseline: time-stretch only).
- ``package.module:function``: your own hook, e.g. an MT or LLM rephraser, imported by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import InputError
from ..registry import CONDENSERS

Condenser = Callable[[str, float], str]

_CONTRACT_ALWAYS = [
    (r"\bcannot\b", "can't"),
    (r"\bcan not\b", "can't"),
    (r"\bdo not\b", "don't"),
    (r"\bdoes not\b", "doesn't"),
    (r"\bdid not\b", "didn't"),
    (r"\bwill not\b", "won't"),
    (r"\bwould not\b", "wouldn't"),
    (r"\bshould not\b", "shouldn't"),
    (r"\bcould not\b", "couldn't"),
    (r"\bmust not\b", "mustn't"),
    (r"\bis not\b", "isn't"),
    (r"\bare not\b", "aren't"),
    (r"\bwas not\b", "wasn't"),
    (r"\bwere not\b", "weren't"),
    (r"\bhave not\b", "haven't"),
    (r"\bhas not\b", "hasn't"),
    (r"\bhad not\b", "hadn't"),
    (r"\blet us\b", "let's"),
]
# pronoun + auxiliary: contracted only when another word follows ("Yes, it is." stays as it is)
_PRONOUN_AUX = [
    (r"\bI am\b", "I'm"),
    (r"\b(you|we|they) are\b", r"\1're"),
    (r"\b(he|she|it|that|what|there|here|who|where) is\b", r"\1's"),
    (r"\b(I|you|we|they|he|she|it|that) will\b", r"\1'll"),
    (r"\b(I|you|we|they) have\b(?!\s+to\b)", r"\1've"),  # not "have to" (obligation)
    (r"\b(I|you|we|they|he|she) would\b", r"\1'd"),
]
_FOLLOWED_BY_WORD = r"(?=\s+[A-Za-z])"

_INTERJECTIONS = r"(?:well|so|oh|ah+|um+|uh+|er+|hmm+|you know|i mean|like|okay|ok|hey|look|listen|now|see)"
_INTENSIFIERS = r"(?:really|very|actually|basically|literally|totally|truly|quite|just|simply|certainly)"


def _keep_case(replacement: str, original: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def _sub_keep_case(pattern: str, replacement: str, text: str) -> str:
    regex = re.compile(pattern, re.IGNORECASE)
    return regex.sub(lambda m: _keep_case(m.expand(replacement), m.group(0)), text)


def spoken_length(text: str) -> int:
    """Letters and digits in ``text``: the length measure condensing aims at (a proxy for speaking time)."""
    return sum(ch.isalnum() for ch in text)


def tidy(text: str) -> str:
    """Collapse the spacing and punctuation left by removals; capitalise the first letter."""
    t = re.sub(r"\s+", " ", text)
    t = re.sub(r"\s+([,.;:!?])", r"\1", t)
    t = re.sub(r",(\s*[,.;:!?])+", lambda m: m.group(0)[-1] if m.group(0)[-1] != "," else ",", t)
    t = re.sub(r"^[\s,;:]+", "", t)
    t = re.sub(r"([.!?])\s*,\s*", r"\1 ", t)
    t = t.strip()
    return t[:1].upper() + t[1:] if t else t


def contract(text: str) -> str:
    """Standard English contractions; pronoun + auxiliary only before another word."""
    out = text
    for pattern, repl in _CONTRACT_ALWAYS:
        out = _sub_keep_case(pattern, repl, out)
    for pattern, repl in _PRONOUN_AUX:
        out = _sub_keep_case(pattern + _FOLLOWED_BY_WORD, repl, out)
    return out


def drop_repeats(text: str) -> str:
    """``no, no, no`` -> ``no``; ``I, I think`` -> ``I think``."""
    return re.sub(r"\b(\w+)(?:[,\s]+\1\b)+", r"\1", text, flags=re.IGNORECASE)


def _sentence_start(m: re.Match[str]) -> str:
    """Keep the sentence's opening (start or end punctuation) and capitalise its new first word."""
    return m.group(1) + m.group(2).upper()


def drop_fillers(text: str) -> str:
    """Interjections and discourse markers set off by commas, hesitations, and intensifiers."""
    out, previous = text, None
    while out != previous:  # "Um, so, well, ..." loses one marker per pass
        previous = out
        out = re.sub(rf"(^|[.!?]\s+){_INTERJECTIONS}\s*,\s*(\w)", _sentence_start, out, flags=re.IGNORECASE)
        out = re.sub(rf"(,\s*){_INTERJECTIONS}\s*,\s*", r"\1", out, flags=re.IGNORECASE)
    out = re.sub(r",\s*(?:you know|i mean|you see|right|okay|ok|then)\s*(?=[.!?]|$)", "", out, flags=re.IGNORECASE)
    out = re.sub(r"\b(?:um+|uh+|er+|hmm+)\b[,.]?\s*", "", out, flags=re.IGNORECASE)
    out = re.sub(rf"\b{_INTENSIFIERS}\s+(?=\w)", "", out, flags=re.IGNORECASE)
    return out


def drop_asides(text: str) -> str:
    """Text in brackets, and asides between dashes."""
    out = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", text)
    return re.sub(r"\s*(?:--|—|–)[^—–]*?(?:--|—|–)\s*", " ", out)


def keep_leading_sentences(text: str, target: float) -> str:
    """The leading sentences of ``text`` that fit ``target`` letters (at least the first)."""
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", text.strip()) if x]
    if not sentences:
        return text
    kept = [sentences[0]]
    for sentence in sentences[1:]:
        if spoken_length(" ".join([*kept, sentence])) > target:
            break
        kept.append(sentence)
    return " ".join(kept)


def condense_rules(text: str, ratio: float) -> str:
    """The embedded condenser: the gentlest rewrites that bring ``text`` to ``ratio`` of its length.

    Only rewrites that keep the content: contractions, repeated words, fillers and intensifiers,
    asides. Stops at the first step that reaches the target; returns its best effort otherwise.
    """
    target = spoken_length(text) * max(0.0, min(1.0, ratio))
    out = text
    for step in (contract, drop_repeats, drop_fillers, drop_asides):
        shorter = tidy(step(out))
        if spoken_length(shorter) > 0:
            out = shorter
        if spoken_length(out) <= target:
            break
    return out


def condense_rules_trim(text: str, ratio: float) -> str:
    """:func:`condense_rules`, then, if still too long, only the leading sentences that fit."""
    out = condense_rules(text, ratio)
    target = spoken_length(text) * max(0.0, min(1.0, ratio))
    return tidy(keep_leading_sentences(out, target)) if spoken_length(out) > target else out


#: The ``none`` condenser: every line is spoken as written.
NO_CONDENSER: Condenser | None = None


def get_condenser(name: str | None) -> Condenser | None:
    """``rules``, ``rules+trim``, ``none`` (or None), or ``package.module:function`` for your own hook."""
    if name is None:
        return None
    hook = CONDENSERS.load(name)
    if hook is not None and not callable(hook):
        raise InputError(f"the condenser {name!r} is not callable")
    return hook  # type: ignore[no-any-return]
