"""Sentences and words of clip texts (JP: MeCab with unidic-lite; EN: regular expressions).

Definitions in :mod:`anim400k.stats`; :func:`count_texts` is the fast path used per show.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

#: Japanese sentence marks: 。 in full and half width (U+FF61 ｡), ！？ in full and half width, and the one-code-point
#: forms of doubled marks ‼ ⁇ ⁈ ⁉ (NFKC: ``!!``, ``??``, ``?!``, ``!?``); not … (a pause), not ．(a decimal point in
#: full-width numbers such as ``３．５``)
JP_SENTENCE_MARKS = "。｡！？!?‼⁇⁈⁉"
#: a Japanese sentence: up to the end of a run of sentence marks and the closing brackets or quotes right after
#: it (``行こう!!``, ``え？！``, ``「待って。」`` are one sentence each), or to the end of the line
_JP_SENT = re.compile(rf"[^\n]+?(?:[{JP_SENTENCE_MARKS}]+[」』）)】〕〉》］｣\"”’]*|$)", re.MULTILINE)
#: a piece that holds a word character (not only marks and brackets)
_WORDY = re.compile(r"[^\W_]")
_EN_SENT = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’»)\]}]))\s+|\n+")
#: an English word: a run of letters/digits, joined through one inner ``'``, ``’`` or ``-`` (``don't``, ``well-known``)
#: or, between two digits, one ``.`` or ``,`` (``3.5``, ``1,000``: one word each)
_EN_WORD = re.compile(r"[^\W_]+(?:(?:['’\-]|(?<=\d)[.,](?=\d))[^\W_]+)*")


def split_sentences_jp(text: str) -> list[str]:
    """Japanese sentences: split after a run of :data:`JP_SENTENCE_MARKS` (with the closing brackets or quotes
    right after it) and at newlines; pieces without a word character (blank, or marks only) dropped."""
    return [s.strip() for s in (m.group() for m in _JP_SENT.finditer(text)) if _WORDY.search(s)]


def split_sentences_en(text: str) -> list[str]:
    """English sentences: split after . ! ? followed by whitespace, and at newlines; pieces without a word
    character (blank, ``...``, ``♪ ♪``, a lone dash) dropped, as in Japanese."""
    return [s.strip() for s in _EN_SENT.split(text) if s and _WORDY.search(s)]


def count_words_en(text: str) -> int:
    """Number of English words (letter/digit runs, inner apostrophes and hyphens kept, ``3.5`` and ``1,000`` one
    word each)."""
    return len(_EN_WORD.findall(text))


# MeCab prints only each token's UniDic pos1 as "<pos1>" (no surface, no other features),
# so a text's word count is a few str.count calls on a short string: the lattice and the
# tokens are exactly those of fugashi.Tagger() with unidic-lite (tests compare the two).
_SKIP_POS = ("補助記号", "空白")  # UniDic: punctuation/symbols, whitespace
_SKIP_MARKS = tuple(f"<{p}>" for p in _SKIP_POS)


@lru_cache(maxsize=1)
def _pos_tagger() -> Any:
    try:
        import fugashi
        import unidic_lite
    except ImportError as exc:  # pragma: no cover - declared dependencies
        from ..errors import BackendUnavailable

        raise BackendUnavailable("fugashi/unidic-lite", hint=str(exc)) from exc
    d = unidic_lite.DICDIR
    rc = os.path.join(d, "mecabrc")
    return fugashi.GenericTagger(f'-r "{rc}" -d "{d}" -O "" -F "<%f[0]>" -U "<%f[0]>" -B "" -E ""')


def _pos_string(parse: Any, text: str) -> str:
    try:
        return parse(text)
    except UnicodeEncodeError:  # a lone surrogate (a bad \ud800 escape in the file): MeCab gets U+FFFD
        return parse(text.encode("utf-8", "replace").decode("utf-8"))


def count_words_jp(text: str) -> int:
    """Number of Japanese words: fugashi/unidic-lite tokens that are not punctuation, symbols or space."""
    if not text.strip():
        return 0
    out = _pos_string(_pos_tagger().parse, text)
    return out.count("<") - out.count(_SKIP_MARKS[0]) - out.count(_SKIP_MARKS[1])


# Sentence counting without building the pieces. JP: the sentences' matches, counted (a few microseconds for a
# clip's text). EN: one match per piece of the split that holds a word character: from a word character, lazily
# up to the first separator of _EN_SENT (a sentence mark, an optional closing quote or bracket, whitespace) or a
# newline or the end; the next match starts at the next word character, so wordless pieces ("...", "♪") are
# skipped. About 5x faster than the split (tests compare the two on random text).
_EN_WORDY_PIECE = re.compile(r"[^\W_].*?(?:[.!?][\"'”’»)\]}]?\s|\n|\Z)")


def _count_sentences_jp(text: str) -> int:
    """``len(split_sentences_jp(text))``."""
    wordy = _WORDY.search
    return sum(1 for m in _JP_SENT.finditer(text) if wordy(m.group()))


def _count_sentences_en(text: str) -> int:
    """``len(split_sentences_en(text))``."""
    return len(_EN_WORDY_PIECE.findall(text))


def count_texts(jp_texts: Iterable[str], en_texts: Iterable[str]) -> tuple[int, int, int, int]:
    """``(jp_sentences, jp_words, en_sentences, en_words)`` summed over the given clip texts.

    The same numbers as :func:`split_sentences_jp`/:func:`count_words_jp` and the EN
    counterparts text by text, computed without building lists of pieces.
    """
    parse = _pos_tagger().parse
    skip_a, skip_b = _SKIP_MARKS
    count_jp, count_en, en_words = _count_sentences_jp, _count_sentences_en, _EN_WORD.findall
    js = jw = es = ew = 0
    for t in jp_texts:
        js += count_jp(t)
        if not t.isspace():
            try:
                out = parse(t)
            except UnicodeEncodeError:
                out = _pos_string(parse, t)
            jw += out.count("<") - out.count(skip_a) - out.count(skip_b)
    for t in en_texts:
        es += count_en(t)
        ew += len(en_words(t))
    return js, jw, es, ew

