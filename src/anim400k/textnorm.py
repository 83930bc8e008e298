"""Text normalisation for error rates: English for word error rates (one normaliser for every WER we
report), Japanese for character error rates (:func:`normalize_japanese`, :func:`cer`).

Whisper writes "3" for "three", "10%" for "ten percent" and "Mr." for "mister"; the scripts it
is scored against spell them out. :func:`normalize_english` maps both sides to one form:
lower case, numbers as words (integers, decimals, ordinals, thousands separators, ``%``, ``$``),
a few abbreviations and spelling variants unified, hyphens split, punctuation dropped.
Contractions and apostrophes follow the rules of Whisper's ``EnglishTextNormalizer``
(openai/whisper, MIT): "who's" -> "who is", "don't" -> "do not", "I'm" -> "i am", "can't" ->
"can not", "let's" -> "let us", every other apostrophe becomes a word break; the fillers it
ignores (hmm, mm, uh, um; also "hm") are dropped. ASR cannot hear an apostrophe, and a script's "who is"
spoken and heard as "who's" is no error. (Whisper reads every ``'s`` as "is", so a plural heard
for a possessive, "teachers" for "teacher's", still counts, as it does in Whisper's scores.)
:func:`wer` scores with it (jiwer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
#: Spellings that mean the same word (after lower-casing and dropping the trailing dot).
_VARIANTS = {"ok": "okay", "mr": "mister", "mrs": "missus", "ms": "miss", "dr": "doctor",
             "vs": "versus", "alright": "all right", "till": "until", "til": "until"}
#: Whisper's EnglishTextNormalizer contraction rules (openai/whisper normalizers/english.py, MIT),
#: applied in this order to the lower-cased text.
_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bwon't\b", "will not"), (r"\bcan't\b", "can not"), (r"\blet's\b", "let us"),
        (r"\bain't\b", "aint"), (r"\by'all\b", "you all"), (r"\bwanna\b", "want to"),
        (r"\bkinda\b", "kind of"), (r"\bsorta\b", "sort of"), (r"\bdunno\b", "do not know"),
        (r"\bgotta\b", "got to"), (r"\bgonna\b", "going to"), (r"\bi'ma\b", "i am going to"),
        (r"\bimma\b", "i am going to"), (r"\bwoulda\b", "would have"), (r"\bcoulda\b", "could have"),
        (r"\bshoulda\b", "should have"), (r"\bcause\b", "because"), (r"\bma'am\b", "madam"),
        # perfect tenses
        (r"'d been\b", " had been"), (r"'s been\b", " has been"), (r"'d gone\b", " had gone"),
        (r"'s gone\b", " has gone"), (r"'d done\b", " had done"), (r"'s got\b", " has got"),
        # general contractions
        (r"n't\b", " not"), (r"'re\b", " are"), (r"'s\b", " is"), (r"'d\b", " would"),
        (r"'ll\b", " will"), (r"'t\b", " not"), (r"'ve\b", " have"), (r"'m\b", " am"),
    )
)
#: Fillers Whisper's normaliser drops.
_FILLERS = re.compile(r"\b(hmm|hm|mm|mhm|mmm|uh|um)\b")
_NUMBER = re.compile(r"(?<![\w.])(\$)?(\d[\d,]*)(?:\.(\d+))?(st|nd|rd|th)?(%)?(?![\w])")


def number_words(n: int) -> str:
    """``n`` (a non-negative integer) in English words: 342 -> 'three hundred forty two'."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return number_words(head) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> str:
    """``n`` as an ordinal in words: 3 -> 'third', 21 -> 'twenty first', 100 -> 'one hundredth'."""
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINAL:
        words[-1] = _ORDINAL[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _spell_number(m: re.Match[str]) -> str:
    dollar, whole, frac, suffix, percent = m.groups()
    digits = whole.replace(",", "")
    if not digits.isdigit():
        return m.group(0)
    n = int(digits)
    if suffix and not frac:
        out = ordinal_words(n)
    else:
        out = number_words(n)
        if frac:
            out += " point " + " ".join(_ONES[int(d)] for d in frac)
    if percent:
        out += " percent"
    if dollar:
        out += " dollar" if n == 1 and not frac else " dollars"
    return f" {out} "


def normalize_english(text: str) -> str:
    """``text`` lower-cased, contractions expanded (Whisper's rules), numbers spelt out, variants
    unified and punctuation (apostrophes included) removed."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("&", " and ")
    t = _FILLERS.sub("", t)
    t = re.sub(r"\s+'", "'", t)  # a space before an apostrophe (as Whisper's normaliser)
    for pattern, replacement in _CONTRACTIONS:
        t = pattern.sub(replacement, t)
    t = _NUMBER.sub(_spell_number, t)
    t = t.replace("%", " percent ")
    t = re.sub(r"[^\w\s]|_", " ", t)  # hyphens, dots, commas, quotes, the apostrophes left...
    return " ".join(_VARIANTS.get(w, w) for w in t.split())


def wer(references: Sequence[str] | str, hypotheses: Sequence[str] | str) -> float:
    """Word error rate of ``hypotheses`` against ``references`` after :func:`normalize_english`.

    Sequences are scored as one corpus, as jiwer scores a list: (S + D + I) summed over all pairs
    over the reference words of all pairs. A pair whose reference normalises to nothing (a gasp,
    "Hmm...") has no word to get wrong, but every word of its hypothesis is an insertion and counts.
    NaN when no reference word is left in any pair (a single empty reference included).
    """
    import jiwer

    refs = [references] if isinstance(references, str) else list(references)
    hyps = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    pairs = [(normalize_english(r), normalize_english(h)) for r, h in zip(refs, hyps, strict=True)]
    if not any(r for r, _ in pairs):
        return float("nan")
    return float(jiwer.wer([r for r, _ in pairs], [h for _, h in pairs]))


def empty_reference(text: str) -> bool:
    """Whether ``text`` normalises to nothing (a gasp, "Hmm...", silence): as a reference it has no word, so
    its per-clip WER is NaN, while :func:`wer` of a corpus counts its hypothesis words as insertions."""
    return not normalize_english(text)


# ---------------------------------------------------------------- Japanese: character error rates

_KANJI_DIGITS = "〇一二三四五六七八九"
_KANJI_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
_KANJI_GROUPS = ((10**8, "億"), (10**4, "万"))


def _kanji_below_10000(n: int) -> str:
    out = ""
    for value, unit in _KANJI_UNITS:
        d, n = divmod(n, value)
        if d:
            out += ("" if d == 1 else _KANJI_DIGITS[d]) + unit
    return out + (_KANJI_DIGITS[n] if n else "")


def kanji_number(n: int) -> str:
    """``n`` (0 to 10^12 - 1) in kanji numerals as a script writes it: 3 -> 三, 25 -> 二十五, 1000 -> 千,
    20000 -> 二万. Larger numbers keep their digits."""
    if n == 0:
        return _KANJI_DIGITS[0]
    if n >= 10**12:
        return str(n)
    out = ""
    for value, unit in _KANJI_GROUPS:
        d, n = divmod(n, value)
        if d:
            out += _kanji_below_10000(d) + unit
    return out + _kanji_below_10000(n)


def normalize_japanese(text: str) -> str:
    """``text`` for a character error rate: NFKC (full-width letters and digits as ASCII, half-width kana as
    full-width), Latin letters lower-cased, Arabic integers as kanji numerals (Whisper writes 3時 for a
    script's 三時), punctuation and spaces dropped. Kana and kanji are left as they are: 今日 heard as
    きょう counts as two errors."""
    import unicodedata

    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub(r"\d+(?:,\d{3})*", lambda m: kanji_number(int(m.group().replace(",", ""))), t)
    return re.sub(r"[^\w]|_", "", t)


def japanese_reading(text: str) -> str:
    """``text``'s reading in katakana (pyopenjtalk's, as the Japanese TTS reads it), normalised as
    :func:`normalize_japanese`: 今日は and きょうは both read キョーワ. Scoring readings leaves out which
    script a transcript chose (a script in kana against Whisper's kanji), and also homophones."""
    import pyopenjtalk

    return normalize_japanese(pyopenjtalk.g2p(normalize_japanese(text), kana=True))


def cer(references: Sequence[str] | str, hypotheses: Sequence[str] | str, reading: bool = False) -> float:
    """Character error rate of ``hypotheses`` against ``references`` after :func:`normalize_japanese` (with
    ``reading``: of their katakana readings, :func:`japanese_reading`), scored as one corpus (edits summed
    over the pairs over the reference characters of all pairs; an empty hypothesis is all deletions: 1.0).
    NaN when no reference character is left in any pair."""
    import jiwer

    refs = [references] if isinstance(references, str) else list(references)
    hyps = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    norm = japanese_reading if reading else normalize_japanese
    pairs = [(norm(r), norm(h)) for r, h in zip(refs, hyps, strict=True)]
    if not any(r for r, _ in pairs):
        return float("nan")
    return float(jiwer.cer([r for r, _ in pairs], [h for _, h in pairs]))
