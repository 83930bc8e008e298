"""Word-list JSON of two transcription services: AssemblyAI and ElevenLabs Scribe.

Both write the transcript as a top-level ``words`` list whose entries carry ``text``, ``start`` and ``end``
(OpenAI's word-only output, read as Whisper JSON, names its words ``word``):

* **AssemblyAI** (``GET /v2/transcript/{id}``): times in **milliseconds** (integers), ``speaker`` (``A``,
  ``B``...) with speaker labels, the language as ``language_code`` (``en_us``, ``ja``), and with speaker labels
  ``utterances`` (one per turn: ``start``, ``end``, ``text``, ``speaker``, ``words``). Told by its own fields
  (``audio_url``, ``status``, ``utterances``, ``audio_duration``, ``speech_model``, ``acoustic_model``) or, without
  them, by word times that are all integers. Read as seconds, its times were 1000 times too late.
* **ElevenLabs Scribe** (``/v1/speech-to-text``): times in seconds, each entry typed ``word``, ``spacing`` (the
  spaces between words) or ``audio_event`` (``(laughs)``: not speech), ``speaker_id`` with diarization, the
  language as ``language_code`` (ISO 639-3: ``eng``, ``jpn``).

Each utterance (AssemblyAI) is a segment; otherwise the words (Scribe's ``word`` entries only) are cut into
segments where the speaker changes and, within one speaker, at sentence ends and pauses, as AWS items without
segments are (:func:`anim400k.formats.transcripts._pause_segments`).
"""

from __future__ import annotations

from typing import Any

from ..model import Word

_ASSEMBLYAI_FIELDS = ("audio_url", "status", "utterances", "audio_duration", "speech_model", "acoustic_model")
_SCRIBE_TYPES = frozenset({"word", "spacing", "audio_event"})


def _entries(obj: Any) -> list[Any] | None:
    words = obj.get("words") if isinstance(obj, dict) else None
    return words if isinstance(words, list) else None


def is_scribe(obj: Any) -> bool:
    """Whether ``obj`` is ElevenLabs Scribe output: ``words`` entries typed ``word``/``spacing``/``audio_event``."""
    words = _entries(obj)
    return bool(words) and any(isinstance(w, dict) and w.get("type") in _SCRIBE_TYPES for w in words)  # type: ignore[union-attr]


def is_assemblyai(obj: Any) -> bool:
    """Whether ``obj`` is an AssemblyAI transcript: ``words`` entries with ``text`` (not ``word``) and no ``type``,
    and AssemblyAI's own fields or integer (millisecond) word times."""
    words = _entries(obj)
    if words is None or not isinstance(obj, dict) or is_scribe(obj):
        return False
    entries = [w for w in words if isinstance(w, dict)]
    if any("word" in w for w in entries):  # OpenAI's words-only output (read as Whisper JSON)
        return False
    if words and not any("text" in w for w in entries):
        return False
    if any(key in obj for key in _ASSEMBLYAI_FIELDS):
        return True
    times = [w.get(k) for w in entries for k in ("start", "end")]
    return bool(times) and all(isinstance(t, int) and not isinstance(t, bool) for t in times)


def stated_language(obj: dict[str, Any]) -> Any:
    """The language the file states (``language_code``), or None."""
    return obj.get("language_code")


def _interval(chk: Any, obj: dict[str, Any], where: str, per_second: float) -> tuple[float, float]:
    """``obj``'s ``start`` and ``end`` (in units of 1 / ``per_second`` s) as seconds, checked as times, in order."""
    times = []
    for field in ("start", "end"):
        if obj.get(field) is None:
            raise chk.fail(f"{where}: missing '{field}'")
        times.append(chk.time(chk.number(obj[field], where, field) / per_second, where, field))
    if times[1] < times[0]:
        raise chk.fail(f"{where}: end {times[1]:g} before start {times[0]:g}")
    return times[0], times[1]


def _word(chk: Any, w: Any, where: str, per_second: float) -> tuple[Word, str | None] | None:
    """One entry as a :class:`Word` (times / ``per_second`` in seconds) and its speaker; None for a Scribe entry
    that is not a word (spacing, an audio event)."""
    if not isinstance(w, dict):
        raise chk.fail(f"{where}: not an object")
    if w.get("type", "word") != "word":
        return None
    text = w.get("text")
    if not isinstance(text, str):
        raise chk.fail(f"{where}: 'text' is {'missing' if text is None else 'not a string'}")
    times = _interval(chk, w, where, per_second)
    speaker = w.get("speaker", w.get("speaker_id"))
    probability = w.get("confidence")
    return (Word(times[0], times[1], text.strip(),
                 float(probability) if isinstance(probability, int | float) and not isinstance(probability, bool)
                 else None),
            str(speaker) if speaker is not None else None)


def service_words(obj: dict[str, Any], chk: Any) -> tuple[str, list[tuple[Word, str | None]]]:
    """``(source, [(word, speaker)])`` of an AssemblyAI or Scribe transcript, in time order; empty words
    (a Scribe entry of spaces typed ``word``) left out."""
    assemblyai = is_assemblyai(obj)
    per_second = 1000.0 if assemblyai else 1.0
    out = []
    for i, w in enumerate(obj.get("words") or []):
        read = _word(chk, w, f"word {i}", per_second)
        if read is not None and read[0].text:
            out.append(read)
    out.sort(key=lambda ws: (ws[0].start, ws[0].end))
    return ("assemblyai" if assemblyai else "elevenlabs-scribe"), out


def utterance_spans(obj: dict[str, Any], chk: Any) -> list[tuple[float, float, str | None, str]]:
    """AssemblyAI's ``utterances`` as ``(start, end, speaker, text)``, times in seconds (empty when it has none)."""
    raw = obj.get("utterances")
    if not isinstance(raw, list):
        return []
    spans = []
    for i, u in enumerate(raw):
        where = f"utterance {i}"
        if not isinstance(u, dict):
            raise chk.fail(f"{where}: not an object")
        times = _interval(chk, u, where, 1000.0)
        speaker, text = u.get("speaker"), u.get("text")
        spans.append((times[0], times[1], str(speaker) if speaker is not None else None,
                      text.strip() if isinstance(text, str) else ""))
    return sorted(spans)
