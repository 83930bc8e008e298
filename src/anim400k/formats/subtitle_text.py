"""Plain text of one subtitle cue, per format: what a viewer reads, without markup.

* ASS/SSA (:func:`ass_text`): read as libass renders it (``ass_render.c``, ``ass_get_next_char``):
  override blocks (``{\\i1}``, ``{\\an8}``: a ``{`` with a ``}`` after it) removed, text drawn in
  drawing mode (``{\\p1}m 0 0 l 100 0{\\p0}``: vector shapes, not words) dropped, ``\\N``, ``\\n``
  and ``\\h`` turned into spaces, and the escaped braces ``\\{`` and ``\\}`` read as the literal
  characters ``{`` and ``}``: ``\\{`` never starts an override block.
* SRT (:func:`srt_text`): HTML-like tags (``<i>``, ``<font color=...>``) and ASS override blocks
  that many SRT files carry (``{\\an8}``) removed; the ASS line breaks and hard space that SRT files
  converted from ASS keep (``\\N``, ``\\n``, ``\\h``) turned into spaces, as FFmpeg's SRT decoder
  and pysubs2 read them (so a cue reads the same in an ``.srt`` file and muxed into an MKV).
* WebVTT (:func:`vtt_text`): ruby annotations (``<rt>`` readings, ``<rp>`` fallback brackets)
  dropped so ``<ruby>漢字<rt>かんじ</rt></ruby>`` reads ``漢字``, every cue tag and inline
  timestamp (``<v Bob>``, ``<c.yellow>``, ``<00:00:03.500>``) removed, character references
  (``&amp;``, ``&lt;``, ``&nbsp;``) decoded, bidi marks dropped. The speaker a cue's voice spans name
  (``<v Roger Bingham>``) is :func:`vtt_voice`.

Whitespace, line breaks included, collapses to single spaces in all three; a line break (``\\N`` too) between
two Japanese characters joins them with nothing (:func:`collapse`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")
#: libass's escapes in event text: ``\N``, ``\n`` (line breaks), ``\h`` (hard space), ``\{``, ``\}``.
_ASS_ESCAPES = re.compile(r"\\([Nnh{}])")
#: ``\pN`` inside an override block: drawing mode on (N > 0) or off (N = 0).
_DRAWING = re.compile(r"\\p(\d+)")
#: An ASS override block that starts with a backslash, as SRT files carry them (``{\an8}``).
_ASS_OVERRIDE_IN_SRT = re.compile(r"\{\\[^}]*\}")
#: ASS line breaks and hard space (``\N``, ``\n``, ``\h``), which FFmpeg and pysubs2 read in SRT too.
_ASS_BREAKS = re.compile(r"\\[Nnh]")
#: An HTML-like tag: ``<`` + optional ``/`` + a letter, so ``I <3 you`` keeps its ``<3``.
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
#: Ruby readings and their fallback parentheses, with their content (WebVTT ``<rt>``, ``<rp>``).
_RUBY_ANNOTATION = re.compile(r"<(rt|rp)(?:[.\s][^>]*)?>.*?(?:</\1\s*>|(?=</ruby\s*>)|$)", re.IGNORECASE | re.DOTALL)
#: A WebVTT inline timestamp tag (``<00:00:03.500>``, ``<03.500>`` style forms included).
_TIMESTAMP_TAG = re.compile(r"<\d+(?::\d+)*(?:\.\d+)?>")
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))


#: a line break with the whitespace around it
_BREAK = re.compile(r"[ \t\f\v\u3000]*[\r\n][\s\u3000]*")


def unspaced(char: str) -> bool:
    """Whether ``char`` is of a script written without spaces between words (Japanese kana, CJK ideographs,
    full-width forms and CJK punctuation; Korean is written with spaces, so not Hangul), or the ellipsis
    Japanese lines end with."""
    code = ord(char) if len(char) == 1 else -1
    return (0x3000 <= code <= 0x30FF or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF
            or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF or char in "…‥")


def _join_break(match: re.Match[str]) -> str:
    text, a, b = match.string, match.start(), match.end()
    return "" if a and b < len(text) and unspaced(text[a - 1]) and unspaced(text[b]) else " "


def collapse(text: str) -> str:
    """``text`` with every run of whitespace (line breaks included) turned into one space, stripped; a line
    break between two characters of a script written without spaces (:func:`unspaced`: ``涼宮ハルヒの\n憂鬱``)
    joins them with nothing, as a reader of Japanese reads the two lines."""
    return _SPACES.sub(" ", _BREAK.sub(_join_break, text)).strip()


def ass_pieces(text: str) -> list[tuple[bool, str]]:
    r"""An ASS/SSA event's ``Text`` split as libass reads it: ``(True, tags)`` for each override block
    (its content, braces left out), ``(False, text)`` for the text between them, escapes kept.

    As in libass's render loop, a ``{`` opens a block only when a ``}`` follows it (a lone ``{`` is
    text), the block ends at the first ``}``, and ``\{`` / ``\}`` are escaped braces, text, so
    ``\{`` never opens a block.
    """
    pieces: list[tuple[bool, str]] = []
    start = i = 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 2] in ("{", "}"):
            i += 2
            continue
        close = text.find("}", i + 1) if text[i] == "{" else -1
        if close < 0:
            i += 1
            continue
        if i > start:
            pieces.append((False, text[start:i]))
        pieces.append((True, text[i + 1 : close]))
        start = i = close + 1
    if start < len(text):
        pieces.append((False, text[start:]))
    return pieces


def _ass_unescape(match: re.Match[str]) -> str:
    return match.group(1) if match.group(1) in "{}" else " " if match.group(1) == "h" else "\n"


#: the notes SDH writes around sung lines
_NOTES = "♪♫"


def _notes(line: str) -> int:
    return sum(line.count(n) for n in _NOTES)


def _starts_with_note(line: str) -> bool:
    return line.lstrip(" \t-‐–—")[:1] in _NOTES if line.strip() else False


def close_lyric_lines(text: str) -> str:
    """``text`` (lines split by ``\n``) with a closing note added to each line that leaves a lyric open, unless
    the next line holding a note closes it (a lyric spanning lines, ``♪ One\ntwo ♪``).

    SDH marks each sung line with a note at its start (``♪ Hare hare yukai\n♪ Hitomi no naka ni``, or a lyric
    line before a spoken one, ``♪ Catch the moment\n- Stop singing!``); joined into one line, the second line's
    note read as the first's closer, so every other sung line was taken for speech and a spoken line after a
    lyric for a lyric (:func:`anim400k.formats.sdh.speech_text`)."""
    if "\n" not in text or not any(n in text for n in _NOTES):
        return text
    lines = text.split("\n")
    out = []
    carried = False  # a lyric opened on an earlier line runs through this one to its closing note
    for k, line in enumerate(lines):
        notes = _notes(line)
        if carried:
            if not notes:
                out.append(line)
                continue
            carried, notes = False, notes - 1  # its first note closes the carried lyric
        if notes % 2 == 1:  # the line leaves a lyric open
            later = next((x for x in lines[k + 1 :] if _notes(x)), None)
            if later is None or _starts_with_note(later):  # no later line closes it: it ends with its line
                line = line.rstrip() + " ♪"
            else:
                carried = True
        out.append(line)
    return "\n".join(out)


def ass_text(text: str) -> str:
    """Plain text of an ASS/SSA event's ``Text`` field (module docstring)."""
    parts = []
    drawing = False
    for is_block, piece in ass_pieces(text):
        if is_block:
            for level in _DRAWING.findall(piece):
                drawing = int(level) > 0
        elif not drawing:
            parts.append(_ASS_ESCAPES.sub(_ass_unescape, piece))
    return collapse(close_lyric_lines("".join(parts)))


def srt_text(text: str) -> str:
    """Plain text of an SRT cue's lines (module docstring)."""
    text = _TAG.sub("", _ASS_OVERRIDE_IN_SRT.sub("", text))
    return collapse(close_lyric_lines(_ASS_BREAKS.sub(lambda m: " " if m.group(0) == "\\h" else "\n", text)))


#: A WebVTT voice span's start tag, ``<v Roger Bingham>`` or with classes ``<v.loud Esme>``: its annotation
#: is the speaker's name (WebVTT, "cue voice span"); ``<v>`` alone names no one.
_VOICE_TAG = re.compile(r"<v(?:\.[^\s>]*)?[ \t\f]+([^>]*)>")


def vtt_voice(text: str) -> str | None:
    """The speaker a WebVTT cue's payload names in its voice spans (``<v Roger Bingham>`` -> ``Roger
    Bingham``; whisper.cpp ``--diarize`` writes ``<v Speaker0>``), references decoded and whitespace
    collapsed; None when it names no one, or two different voices (a cue holding two speakers)."""
    names = {collapse(html.unescape(m.group(1))) for m in _VOICE_TAG.finditer(text)} - {""}
    return names.pop() if len(names) == 1 else None


def vtt_text(text: str) -> str:
    """Plain text of a WebVTT cue's payload (module docstring)."""
    text = _RUBY_ANNOTATION.sub("", text)
    text = _TAG.sub("", _TIMESTAMP_TAG.sub("", text))
    text = _ASS_OVERRIDE_IN_SRT.sub("", text)
    return collapse(close_lyric_lines(html.unescape(text).translate(_BIDI_MARKS)))


_LATIN_END = re.compile(r"[A-Za-z0-9]$")
_LATIN_START = re.compile(r"^[A-Za-z0-9]")


def join_words(words: Iterable[str], language: str) -> str:
    """Words (each without its surrounding spaces) joined as the language writes them: with spaces, or, in a
    language written without them (:data:`anim400k.model.UNSPACED_LANGUAGES`), with nothing but a space between
    two Latin words or numbers (``これは``, ``New``, ``York``, ``です`` -> ``これはNew Yorkです``; they came out
    ``NewYork``)."""
    from ..model import UNSPACED_LANGUAGES

    pieces = [w.strip() for w in words if w and w.strip()]
    if language not in UNSPACED_LANGUAGES:
        return " ".join(pieces)
    out = ""
    for piece in pieces:
        if out and _LATIN_END.search(out) and _LATIN_START.search(piece):
            out += " "
        out += piece
    return out
