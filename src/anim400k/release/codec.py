"""One clip between the library and the release: float seconds <-> FORMAT.md clip objects."""

from __future__ import annotations

import math
import re
from typing import Any

from .. import model


def clip_to_release_dict(clip: model.Clip) -> dict[str, Any]:
    """A :class:`model.Clip` as a FORMAT.md clip object (plus our extras).

    Times become ``HH:MM:SS.mmm``; ``en_subtitles`` is a list of ``{start, end, text}``;
    ``multi_speaker``/``mixing_ratio``/``backing_clip``/``speaker_confidence`` are left out when unknown.
    """
    ts = model.format_timestamp
    d: dict[str, Any] = {
        "jp_clip": clip.jp_clip,
        "en_clip": clip.en_clip,
        "jp_text": clip.jp_text,
        "en_text": clip.en_text,
        "jp_start_time": ts(clip.jp_start),
        "jp_end_time": ts(clip.jp_end),
        "en_start_time": ts(clip.en_start),
        "en_end_time": ts(clip.en_end),
        "speakers": list(clip.speakers),
        "en_subtitles": [{"start": ts(s.start), "end": ts(s.end), "text": s.text} for s in clip.en_subtitles],
    }
    if clip.multi_speaker is not None:
        d["multi_speaker"] = bool(clip.multi_speaker)
    if clip.mixing_ratio is not None:
        d["mixing_ratio"] = float(clip.mixing_ratio)
    if clip.backing_clip:
        d["backing_clip"] = clip.backing_clip
    if clip.speaker_confidence is not None:
        d["speaker_confidence"] = float(clip.speaker_confidence)
    return d


_HMS_RE = re.compile(r"([0-9]{2}):([0-5][0-9]):([0-5][0-9])")
#: the one timestamp form of a release: ``HH:MM:SS.mmm`` (hours two digits, or more without a
#: leading zero as ``model.format_timestamp`` writes 100 hours and up; minutes and seconds below 60;
#: exactly three fractional digits)
_TIMESTAMP_RE = re.compile(r"([0-9]{2}|[1-9][0-9]{2,}):([0-5][0-9]):([0-5][0-9])\.([0-9]{3})")
_MILLIS = {f"{i:03d}": i for i in range(1000)}
#: "HH:MM:SS" -> seconds, filled as met (a dataset uses a few thousand; bounded anyway)
_HMS: dict[str, int] = {}


def _hms(text: str) -> int | None:
    m = _HMS_RE.fullmatch(text)
    if m is None:
        return None
    h, mi, sec = m.groups()
    value = int(h) * 3600 + int(mi) * 60 + int(sec)
    if len(_HMS) < 400_000:
        _HMS[text] = value
    return value


#: what the reader also takes, besides the strict form: ``H:MM:SS`` with any number of hour digits,
#: minutes and seconds below 60, and an optional fraction of any length after ``.`` or ``,``
#: (e.g. Python's ``str(timedelta)``: ``0:00:01.026000``)
_LENIENT_RE = re.compile(r"([0-9]+):([0-5][0-9]):([0-5][0-9])(?:[.,]([0-9]+))?")


def is_strict_timestamp(value: Any) -> bool:
    """Whether ``value`` is a release timestamp in the one form a release writes, ``HH:MM:SS.mmm``.

    Hours of two digits or more (no leading zero past two), minutes and seconds of two digits below
    60, a ``.`` and three digits: ``00:00:75.000``, ``1:2:3.5``, ``00:00:01``, ``00:00:01,000`` and
    ``000:00:01.026`` are not (what ``anim400k validate`` requires).
    """
    return value.__class__ is str and _TIMESTAMP_RE.fullmatch(value) is not None


def _timestamp_parts(value: Any) -> tuple[int, int, int] | None:
    """``(whole seconds, fraction as an integer, its digits)`` of a release timestamp; None if it is not one
    (the forms and refusals of :func:`timestamp_seconds`; fast path for ``HH:MM:SS.mmm``)."""
    if value.__class__ is str and len(value) == 12 and value[8] == ".":
        ms = _MILLIS.get(value[9:])
        if ms is not None:
            hms = _HMS.get(value[:8])
            if hms is None:
                hms = _hms(value[:8])
            return None if hms is None else (hms, ms, 3)
    if value.__class__ is not str:
        return None
    m = _LENIENT_RE.fullmatch(value.strip())
    if m is None:
        return None
    h, mi, sec, frac = m.groups()
    return int(h) * 3600 + int(mi) * 60 + int(sec), int(frac) if frac else 0, len(frac) if frac else 0


def timestamp_seconds(value: Any) -> float:
    """Seconds of a release timestamp (fast path for ``HH:MM:SS.mmm``); NaN if it is not one.

    The reader is lenient where the meaning is plain (``0:00:01.026000``, ``00:00:01``,
    ``00:00:01,500``: other tools' renderings of a time) and NaN where it is not: minutes or
    seconds of 60 or more (``00:00:75.000``), missing fields (``1:2``), signs, words.
    ``validate`` requires the strict form (:func:`is_strict_timestamp`).
    """
    parts = _timestamp_parts(value)
    if parts is None:
        return float("nan")
    whole, frac, digits = parts
    scale = 10**digits  # one correctly rounded division: "00:00:02.562" is 2.562, not 2 + 0.562 = 2.5620000000000003
    return (whole * scale + frac) / scale


def timestamp_millis(value: Any) -> int | None:
    """Whole milliseconds of a release timestamp (the forms :func:`timestamp_seconds` reads); None if it is not one.

    Exact where float seconds are not: ``00:00:15.431`` minus ``00:00:12.931`` is 2500 ms, while the
    difference of the seconds is 2.4999999999999982. A fraction of more than three digits (``0:00:01.0265``)
    is rounded to the nearest millisecond, half up.
    """
    parts = _timestamp_parts(value)
    if parts is None:
        return None
    whole, frac, digits = parts
    scale = 10**digits
    return whole * 1000 + ((frac * 2000 + scale) // (2 * scale) if digits else 0)


def clip_from_release(show_key: str, episode: str, index: int, d: dict[str, Any]) -> model.Clip:
    """The :class:`model.Clip` of a FORMAT.md clip object, located at ``show_key/episode/index``.

    Missing or wrong-typed fields become empty values and bad times NaN (validate first).
    """
    # hot path (one call per clip): positional construction in model.Clip's field order, few lookups
    ts = timestamp_seconds
    get = d.get
    subs = []
    raw_subs = get("en_subtitles")
    if raw_subs.__class__ is list:
        for s in raw_subs:
            if isinstance(s, dict):
                text = s.get("text", "")
                subs.append(model.Subtitle(ts(s.get("start")), ts(s.get("end")), text if isinstance(text, str) else ""))
    jp_text, en_text, speakers = get("jp_text", ""), get("en_text", ""), get("speakers")
    ms, mr, bc = get("multi_speaker"), get("mixing_ratio"), get("backing_clip")
    return model.Clip(
        ts(get("en_start_time")),
        ts(get("en_end_time")),
        ts(get("jp_start_time")),
        ts(get("jp_end_time")),
        en_text if isinstance(en_text, str) else "",
        jp_text if isinstance(jp_text, str) else "",
        [],
        [],
        subs,
        [str(x) for x in speakers] if isinstance(speakers, list) else [],
        ms if isinstance(ms, bool) else None,
        float(mr) if mr is not None and mr.__class__ is not bool and isinstance(mr, int | float)
        and math.isfinite(mr) else None,  # type_ok(mr, "float"), inlined (hot path)
        str(get("jp_clip", "")),
        str(get("en_clip", "")),
        bc if isinstance(bc, str) else None,
        _unit_float(get("speaker_confidence")),
        show_key,
        episode,
        index,
    )


def _unit_float(v: Any) -> float | None:
    """``v`` as a float in 0..1, else ``None``."""
    if v is None or v.__class__ is bool or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
        return None
    return float(v)
