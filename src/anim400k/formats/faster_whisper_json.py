"""faster-whisper's segments and words written as JSON arrays, read back as Whisper-style objects.

Before faster-whisper 1.1 its ``Segment`` and ``Word`` were ``NamedTuple``\\ s, and ``json.dump`` writes a named
tuple as an array: a program that dumped its result as it came (whisper-asr-webservice's ``faster_whisper``
engine up to v1.6, ``json.dump({"language", "segments", "text"})``) wrote each segment as
``[id, seek, start, end, text, tokens, temperature, avg_logprob, compression_ratio, no_speech_prob, words]``
(1.1's pre-releases moved ``temperature`` last; 0.x had none), and ``json.dumps(segment._asdict())`` (the
example in faster-whisper's issue #94) still wrote each word as ``[start, end, word, probability]``
(faster-whisper PR #667). :func:`segment_object` and :func:`word_object` give such arrays their keys; anything
else comes back unchanged, to be refused where it is read.
"""

from __future__ import annotations

from typing import Any

_WORD_KEYS = ("start", "end", "word", "probability")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def word_object(raw: Any) -> Any:
    """A faster-whisper ``Word`` array ``[start, end, word, probability]`` as an object; else ``raw``."""
    if (isinstance(raw, list) and len(raw) == 4 and _number(raw[0]) and _number(raw[1])
            and isinstance(raw[2], str) and (raw[3] is None or _number(raw[3]))):
        return dict(zip(_WORD_KEYS, raw, strict=True))
    return raw


def segment_object(raw: Any) -> Any:
    """A faster-whisper ``Segment`` array (``[id, seek, start, end, text, tokens, ...]`` with ``words`` the
    array or null among the 10 or 11 fields' last two) as an object with ``start``, ``end``, ``text`` and
    ``words`` (each word through :func:`word_object`); else ``raw``."""
    if not (isinstance(raw, list) and len(raw) in (10, 11) and isinstance(raw[0], int) and _number(raw[2])
            and _number(raw[3]) and isinstance(raw[4], str) and isinstance(raw[5], list)):
        return raw
    tail = raw[9:]
    words = next((v for v in reversed(tail) if v is None or isinstance(v, list)), None)
    obj: dict[str, Any] = {"id": raw[0], "start": raw[2], "end": raw[3], "text": raw[4]}
    if isinstance(words, list):
        obj["words"] = [word_object(w) for w in words]
    return obj
