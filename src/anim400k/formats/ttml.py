"""TTML / DFXP subtitles read as TTML 1 times them: nested ``div``\\ s, timed ``span``\\ s, any TTML namespace.

pysubs2 reads ``body/div/p`` only, with each ``p``'s own ``begin``/``end`` as absolute times, in the
``http://www.w3.org/ns/ttml`` namespace: a ``p`` inside a nested ``div`` was dropped without a word (or the
whole file refused as holding no cue), a ``div begin="1s"`` did not move its paragraphs, a file in DFXP's
original namespace (``http://www.w3.org/2006/10/ttaf1``) was refused as "not SRT", and a paragraph timed on its
``span``\\ s raised ``KeyError: 'end'``. This reader walks the document as TTML 1's timing model says (section
10.4; every element a ``par`` container): an element's ``begin`` and ``end`` count from its parent's begin, a
``dur`` from its own begin, and an element without an end ends with its parent. Each ``p`` with a known
interval is one cue (its spans' text included); a ``p`` without one gives a cue per timed ``span`` in it.
``<br/>`` is a line break; ``metadata`` is no text. Tick and frame times are rewritten first
(:func:`anim400k.formats.ttml_times.normalise_ttml_times`).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..errors import InputError
from ..model import Subtitle
from .subtitle_text import close_lyric_lines, collapse
from .ttml_times import normalise_ttml_times

_CLOCK = re.compile(r"^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$")
_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)(h|ms|m|s)$")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
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


def _seconds(value: str | None, what: str, path: Path) -> float | None:
    if value is None or value == "":
        return None
    m = _CLOCK.match(value)
    if m:
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    m = _OFFSET.match(value)
    if m:
        return float(m.group(1)) * _UNITS[m.group(2)]
    raise InputError(f"TTML time {what}={value!r} is not a time TTML 1 defines", path)


def _interval(elem: ET.Element, parent: tuple[float, float], path: Path) -> tuple[float, float]:
    """``elem``'s active interval (absolute seconds) within its parent's ``(begin, end)``."""
    p_begin, p_end = parent
    begin = _seconds(_attr(elem, "begin"), "begin", path)
    end = _seconds(_attr(elem, "end"), "end", path)
    dur = _seconds(_attr(elem, "dur"), "dur", path)
    start = p_begin + (begin or 0.0)
    stop = p_begin + end if end is not None else math.inf
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
        root = ET.fromstring(normalise_ttml_times(text).lstrip("\ufeff \t\r\n"))
    except ET.ParseError as exc:
        raise InputError(f"not well-formed TTML/DFXP XML ({exc})", path) from exc
    if _local(root.tag) != "tt":
        raise InputError(f"not a TTML/DFXP document (its root element is <{_local(root.tag)}>, not <tt>)", path)
    body = next((e for e in root if _local(e.tag) == "body"), None)
    cues: list[Subtitle] = []
    if body is None:
        return cues

    def walk(elem: ET.Element, parent: tuple[float, float]) -> None:
        span = _interval(elem, parent, path)
        name = _local(elem.tag)
        if name == "p":
            if not math.isinf(span[1]):
                cues.append(Subtitle(round(span[0], 3), round(span[1], 3), _plain(_text(elem))))
                return
            for child in elem.iter():  # an untimed paragraph: its timed spans are its cues
                if child is not elem and _local(child.tag) == "span" and (
                        _attr(child, "end") is not None or _attr(child, "dur") is not None):
                    s = _interval(child, span, path)
                    if not math.isinf(s[1]):
                        cues.append(Subtitle(round(s[0], 3), round(s[1], 3), _plain(_text(child))))
            return
        if name in ("body", "div"):
            for child in elem:
                walk(child, span)

    walk(body, (0.0, math.inf))
    return [c for c in cues if c.end > c.start or c.text]
