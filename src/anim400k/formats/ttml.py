"""TTML / DFXP subtitles read as TTML 1 times them: nested ``div``\\ s, timed ``span``\\ s, any TTML namespace.

pysubs2 reads ``body/div/p`` only, with each ``p``'s own ``begin``/``end`` as absolute times, in the
``http://www.w3.org/ns/ttml`` namespace: a ``p`` inside a nested ``div`` was dropped without a word (or the
whole file refused as holding no cue), a ``div begin="1s"`` did not move its paragraphs, a file in DFXP's
original namespace (``http://www.w3.org/2006/10/ttaf1``) was refused as "not SRT", and a paragraph timed on its
``span``\\ s raised ``KeyError: 'end'``. This reader walks the document as TTML 1's timing model says (section
10.4; every element a ``par`` container): an element's ``begin`` and ``end`` count from its parent's begin, a
``dur`` from its own begin, and an element without an end ends with its parent. Each ``p`` with a known
interval is one cue (its spans' text included); a ``p`` without one gives a cue per timed ``span`` in it.
``<br/>`` is a line break; ``metadata`` is no text. Times are read by
:func:`anim400k.formats.ttml_times.ttml_seconds` (offsets, clocks, ticks and frames at the document's rates).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from ..errors import InputError
from ..model import Subtitle
from .subtitle_text import close_lyric_lines, collapse
from .ttml_times import ttml_rates, ttml_seconds

#: a document's frame, sub-frame and tick rates (:func:`~anim400k.formats.ttml_times.ttml_rates`)
_Rates = tuple[Fraction, Fraction, Fraction]

#: elements whose content is not shown text
_NOT_TEXT = frozenset({"metadata", "set", "styling", "layout", "head", "animation"})


def is_ttml(text: str) -> bool:
    """Whether ``text`` is a TTML/DFXP document (an XML document whose root element is ``tt``)."""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    return head.startswith("<") and re.search(r"<(?:[A-Za-z_][\w.-]*:)?tt[\s>]", head) is not None


def _local(tag: object) -> str:
    name = tag if isinstance(tag, str) else ""
    return name.rsplit("}", 1)[-1].split(":")[-1]


def _attr(elem: ET.Element, name: str) -> str | None:
    for key, value in elem.attrib.items():
        if _local(key) == name:
            return value.strip()
    return None


def _seconds(value: str | None, what: str, rates: _Rates, path: Path) -> Fraction | None:
    if value is None or value == "":
        return None
    seconds = ttml_seconds(value, *rates)
    if seconds is None:
        raise InputError(f"TTML time {what}={value!r} is not a time TTML 1 defines", path)
    return seconds


def _ms(seconds: Fraction | float) -> float:
    """Exact seconds rounded to the millisecond (halves to even), once, where a cue's time is stored."""
    return round(Fraction(seconds) * 1000) / 1000


def _interval(elem: ET.Element, parent: tuple[Fraction, Fraction | float], rates: _Rates, path: Path
              ) -> tuple[Fraction, Fraction | float]:
    """``elem``'s active interval (absolute seconds, exact; an open end ``inf``) within its parent's."""
    p_begin, p_end = parent
    begin = _seconds(_attr(elem, "begin"), "begin", rates, path)
    end = _seconds(_attr(elem, "end"), "end", rates, path)
    dur = _seconds(_attr(elem, "dur"), "dur", rates, path)
    start = p_begin + (begin or 0)
    stop: Fraction | float = p_begin + end if end is not None else math.inf
    if dur is not None:
        stop = min(stop, start + dur)
    if math.isinf(stop):
        stop = p_end
    return start, min(stop, p_end)


def _text(elem: ET.Element) -> str:
    """The shown text of ``elem``: its text and its children's, ``<br/>`` a line break."""
    parts = [elem.text or ""]
    for child in elem:
        name = _local(child.tag)
        if name == "br":
            parts.append("\n")
        elif name not in _NOT_TEXT:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _plain(text: str) -> str:
    return collapse(close_lyric_lines("\n".join(line.strip() for line in text.split("\n"))))


def parse_ttml(text: str, path: str | Path) -> list[Subtitle]:
    """The cues of a TTML/DFXP document (module docstring), in document order; ``path`` names it in errors."""
    path = Path(path)
    try:
        rates = ttml_rates(text)  # the document's frame, sub-frame and tick rates (tick and frame times)
    except ValueError as exc:
        raise InputError(str(exc), path) from None
    try:
        root = ET.fromstring(text.lstrip("\ufeff \t\r\n"))
    except ET.ParseError as exc:
        raise InputError(f"not well-formed TTML/DFXP XML ({exc})", path) from exc
    if _local(root.tag) != "tt":
        raise InputError(f"not a TTML/DFXP document (its root element is <{_local(root.tag)}>, not <tt>)", path)
    body = next((e for e in root if _local(e.tag) == "body"), None)
    cues: list[Subtitle] = []
    if body is None:
        return cues

    def walk(elem: ET.Element, parent: tuple[Fraction, Fraction | float]) -> None:
        span = _interval(elem, parent, rates, path)
        name = _local(elem.tag)
        if name == "p":
            if not math.isinf(span[1]):
                cues.append(Subtitle(_ms(span[0]), _ms(span[1]), _plain(_text(elem))))
                return
            for child in elem.iter():  # an untimed paragraph: its timed spans are its cues
                if child is not elem and _local(child.tag) == "span" and (
                        _attr(child, "end") is not None or _attr(child, "dur") is not None):
                    s = _interval(child, span, rates, path)
                    if not math.isinf(s[1]):
                        cues.append(Subtitle(_ms(s[0]), _ms(s[1]), _plain(_text(child))))
            return
        if name in ("body", "div"):
            for child in elem:
                walk(child, span)

    walk(body, (Fraction(0), math.inf))
    return [c for c in cues if c.end > c.start or c.text]
