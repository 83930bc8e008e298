"""TTML/DFXP time expressions that pysubs2 does not read, rewritten as clock times it does.

pysubs2 reads TTML offset times in ``h``/``m``/``s``/``ms`` and clock times ``HH:MM:SS(.fff)``. Netflix's and
many broadcasters' DFXP write ticks (``begin="15000000t"`` with ``ttp:tickRate="10000000"``), and SMPTE-style
files frames (``12f``, ``00:00:05:12``, ``00:00:05:12.1``); pysubs2 refused those as an ``Unsupported time
expression``. :func:`normalise_ttml_times` turns every such ``begin``/``end``/``dur`` value into
``HH:MM:SS.fff`` by TTML 1's rules (W3C TTML1 sections 7.2 and 10.3.1): the frame rate is ``ttp:frameRate``
(default 30) times ``ttp:frameRateMultiplier`` (``"1000 1001"`` for 29.97), a sub-frame is 1 / ``ttp:subFrameRate``
(default 1) of a frame, and a tick 1 / ``ttp:tickRate`` s (default: the frame rate times the sub-frame rate when
``ttp:frameRate`` is given, else 1). An element with a ``dur`` but no ``end`` gets its ``end`` (pysubs2 looks for
a ``duration`` attribute, which TTML does not have, and failed with ``KeyError: 'end'``).
"""

from __future__ import annotations

import re
from fractions import Fraction

_PARAMETER = r'\b(?:[A-Za-z_][\w.-]*:)?{name}\s*=\s*["\']\s*([^"\']*?)\s*["\']'
_TIME_ATTRIBUTE = re.compile(r'(\b(?:begin|end|dur)\s*=\s*["\'])\s*([^"\']*?)\s*(["\'])')
_OFFSET = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|f|t)")
_CLOCK = re.compile(r"(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_CLOCK_FRAMES = re.compile(r"(\d+):(\d{2}):(\d{2}):(\d+)(?:\.(\d+))?")
_START_TAG = re.compile(r"<[A-Za-z_][\w:.-]*\b[^<>]*>")
_UNITS = {"h": Fraction(3600), "m": Fraction(60), "s": Fraction(1), "ms": Fraction(1, 1000)}


def _parameter(text: str, name: str) -> str | None:
    m = re.search(_PARAMETER.format(name=name), text)
    return m.group(1) if m else None


def _whole(value: str) -> int | None:
    """The positive integer ``value`` writes (``25``, ``25.0``, `` 25.00 ``), None for anything else (``29.97``,
    ``0``, ``-1``)."""
    m = re.fullmatch(r"\s*(\d+)(?:\.0*)?\s*", value)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def ttml_rates(text: str) -> tuple[Fraction, Fraction, Fraction]:
    """``(frame rate, sub-frame rate, tick rate)`` of the document (its ``tt`` element's parameters); a rate given
    that is no positive integer is a :class:`ValueError` naming it (``ttp:tickRate="0"`` was taken for 1 tick per
    second: ``10000t`` became 2:46:40)."""
    head = text[:text.find(">", text.find("<tt")) + 1] if "<tt" in text else text[:4096]
    frame = _parameter(head, "frameRate")
    multiplier = _parameter(head, "frameRateMultiplier")
    sub = _parameter(head, "subFrameRate")
    tick = _parameter(head, "tickRate")
    for name, value in (("frameRate", frame), ("subFrameRate", sub), ("tickRate", tick)):
        if value is not None and _whole(value) is None:
            raise ValueError(f"ttp:{name}={value!r} is not a positive integer (TTML 1, 7.2)")
    # a whole number written as a decimal ("25.0", which tools write) is that integer: it was refused
    frame, sub, tick = (None if v is None else str(_whole(v)) for v in (frame, sub, tick))
    if multiplier is not None and not (len(parts := multiplier.split()) == 2 and all(p.isdigit() and int(p) > 0
                                                                                  for p in parts)):
        raise ValueError(f"ttp:frameRateMultiplier={multiplier!r} is not two positive integers (TTML 1, 7.2.5)")
    rate = Fraction(int(frame)) if frame and frame.isdigit() and int(frame) > 0 else Fraction(30)
    if multiplier:
        parts = multiplier.split()
        if len(parts) == 2 and all(p.isdigit() for p in parts) and int(parts[1]) > 0:
            rate *= Fraction(int(parts[0]), int(parts[1]))
    sub_rate = Fraction(int(sub)) if sub and sub.isdigit() and int(sub) > 0 else Fraction(1)
    if tick and tick.isdigit() and int(tick) > 0:
        tick_rate = Fraction(int(tick))
    else:
        tick_rate = rate * sub_rate if frame else Fraction(1)
    return rate, sub_rate, tick_rate


def _clock(seconds: Fraction) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def ttml_seconds(expr: str, rate: Fraction, sub_rate: Fraction, tick_rate: Fraction) -> Fraction | None:
    """Seconds of a TTML time expression (``1.5s``, ``12f``, ``150t``, ``00:00:05.5``, ``00:00:05:12(.1)``);
    None for an expression TTML does not have (left as it is, for pysubs2 to name)."""
    if m := _OFFSET.fullmatch(expr):
        value, unit = Fraction(m.group(1)), m.group(2)
        return value / rate if unit == "f" else value / tick_rate if unit == "t" else value * _UNITS[unit]
    if m := _CLOCK.fullmatch(expr):
        return Fraction(int(m.group(1)) * 3600 + int(m.group(2)) * 60) + Fraction(m.group(3))
    if m := _CLOCK_FRAMES.fullmatch(expr):
        h, mi, s, frames = (int(m.group(k)) for k in range(1, 5))
        sub = Fraction(int(m.group(5))) / sub_rate if m.group(5) else Fraction(0)
        return Fraction(h * 3600 + mi * 60 + s) + (frames + sub) / rate
    return None


def normalise_ttml_times(text: str) -> str:
    """``text`` (a TTML/DFXP document) with its frame and tick times as ``HH:MM:SS.fff`` (module docstring);
    a document without them comes back unchanged."""
    if "<tt" not in text:
        return text
    rates = ttml_rates(text)

    def rewrite(m: re.Match[str]) -> str:
        if m.group(2).endswith(("f", "t")) or _CLOCK_FRAMES.fullmatch(m.group(2)):
            seconds = ttml_seconds(m.group(2), *rates)
            if seconds is not None:
                return f"{m.group(1)}{_clock(seconds)}{m.group(3)}"
        return m.group(0)

    def tag(m: re.Match[str]) -> str:
        element = _TIME_ATTRIBUTE.sub(rewrite, m.group(0))
        times = {a.group(1).split("=")[0].strip(): a.group(2) for a in _TIME_ATTRIBUTE.finditer(element)}
        if "dur" in times and "end" not in times:
            begin, dur = ttml_seconds(times.get("begin", "0s"), *rates), ttml_seconds(times["dur"], *rates)
            if begin is not None and dur is not None:
                close = 2 if element.endswith("/>") else 1
                element = f'{element[:-close].rstrip()} end="{_clock(begin + dur)}"{element[-close:]}'
        return element

    return _START_TAG.sub(tag, text)
