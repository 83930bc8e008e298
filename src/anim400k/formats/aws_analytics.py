"""AWS Transcribe **Call Analytics** JSON (``StartCallAnalyticsJob`` output) as a transcript.

A Call Analytics job writes no ``results.items``: its top-level ``Transcript`` lists the turns, each with
``BeginOffsetMillis``/``EndOffsetMillis`` (ms), ``Content``, ``ParticipantRole`` (``AGENT``, ``CUSTOMER``)
and ``Items`` (``Type`` pronunciation/punctuation, ``Content``, ``BeginOffsetMillis``/``EndOffsetMillis``,
``Confidence``; a redacted word is ``[PII]`` with no ``Confidence``); the language is ``LanguageCode``.
Each turn is one segment: its speaker the participant role, its words the pronunciation items, its text
the items joined as a standard AWS job's are (punctuation attached; no spaces in Japanese), else its
``Content``; it spans the turn and every word in it. The two participants' turns may overlap (they are
two channels).
"""

from __future__ import annotations

from typing import Any

from ..model import Segment, Transcript, Word


def is_call_analytics(obj: Any) -> bool:
    """Whether ``obj`` (parsed JSON) is a Call Analytics job's output: a top-level ``Transcript`` list."""
    return isinstance(obj, dict) and isinstance(obj.get("Transcript"), list) and "results" not in obj


def _ms_time(chk: Any, value: Any, where: str, field: str) -> float:
    """A time in milliseconds (``BeginOffsetMillis``) as seconds, validated as a time."""
    if value is None:
        raise chk.fail(f"{where}: missing '{field}'")
    ms = chk.number(value, where, field)
    return chk.time(ms / 1000.0, where, field)


def _interval(chk: Any, obj: dict[str, Any], where: str) -> tuple[float, float]:
    s = _ms_time(chk, obj.get("BeginOffsetMillis"), where, "BeginOffsetMillis")
    e = _ms_time(chk, obj.get("EndOffsetMillis"), where, "EndOffsetMillis")
    if e < s:
        raise chk.fail(f"{where}: end {e:g} before start {s:g}")
    return s, e


def _turn(chk: Any, turn: Any, where: str, sep: str) -> Segment | None:
    """One ``Transcript`` entry as a segment (None when it has neither words nor text)."""
    if not isinstance(turn, dict):
        raise chk.fail(f"{where}: not an object")
    start, end = _interval(chk, turn, where)
    items = turn.get("Items", [])
    if not isinstance(items, list):
        raise chk.fail(f"{where}: 'Items' is not a list")
    words: list[Word] = []
    text = ""
    for k, it in enumerate(items):
        iwhere = f"{where} item {k}"
        if not isinstance(it, dict):
            raise chk.fail(f"{iwhere}: not an object")
        kind, content = it.get("Type"), it.get("Content")
        if kind not in ("pronunciation", "punctuation"):
            raise chk.fail(f"{iwhere}: unknown Type {kind!r} (expected pronunciation or punctuation)")
        if not isinstance(content, str):
            raise chk.fail(f"{iwhere}: Content is not a string")
        if kind == "punctuation":
            text += content
            continue
        s, e = _interval(chk, it, iwhere)
        conf = it.get("Confidence")
        words.append(Word(s, e, content, chk.number(conf, iwhere, "Confidence") if conf is not None else None))
        text += (sep if text else "") + content
    if not words:
        content = turn.get("Content")
        text = content if isinstance(content, str) else ""
    text = " ".join(text.split()) if sep else text.strip()
    if not text:
        return None
    role = turn.get("ParticipantRole")
    return Segment(min([start] + [w.start for w in words]), max([end] + [w.end for w in words]), text,
                   words=words, speaker=str(role) if role not in (None, "") else None)


def parse_call_analytics(obj: dict[str, Any], chk: Any, language: str, sep: str) -> Transcript:
    """A Call Analytics job's output (:func:`is_call_analytics`) as a :class:`Transcript` (module docstring).

    ``chk`` is :mod:`anim400k.formats.transcripts`' checker (errors name the file and the turn), ``language``
    the transcript's language (from ``LanguageCode`` and the one it is read as, checked by the caller) and
    ``sep`` what joins its words (``""`` in Japanese)."""
    segments = [s for k, turn in enumerate(obj["Transcript"])
                if (s := _turn(chk, turn, f"Transcript {k}", sep)) is not None]
    segments.sort(key=lambda s: (s.start, s.end))
    return Transcript(language=language, segments=segments, source="aws-transcribe")
