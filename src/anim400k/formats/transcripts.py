"""Transcript files: Whisper-style JSON, AWS Transcribe JSON, and SRT/VTT/ASS subtitles.

:func:`read_transcript` detects the format from the content (a file that parses as JSON is JSON
whatever its name):

* **Whisper-style JSON** (openai-whisper, faster-whisper, whisperX, and this project's own
  output): an object with ``segments`` (or a bare list of segments), each with ``start``,
  ``end``, ``text`` and optional ``words`` ``[{word|text, start, end, probability|score}]``;
  faster-whisper's named tuples dumped as arrays are read by position
  (:mod:`anim400k.formats.faster_whisper_json`).
  whisperX leaves ``start``/``end`` off words it could not align (numerals, symbols); such
  a word gets the previous word's end (or the segment start) as start and the next timed
  word's start (or the segment end) as end; a word with a start but no end keeps its start.
* **whisper.cpp JSON** (``whisper-cli -oj`` / ``-ojf``): ``transcription`` pieces with ``offsets``
  (``from``/``to`` in ms; else ``timestamps`` ``HH:MM:SS,mmm``) and ``text``; with ``-ojf`` also
  ``tokens`` (``text``, ``offsets``, ``p``), joined into words: special tokens (``[_BEG_]``,
  ``[_TT_150]``) are skipped and a token starting with a space begins a word (every token is a word
  in Japanese); a word's probability is its tokens' mean ``p``. The language is ``result.language``.
  Token texts are whisper.cpp's raw bytes: a character split between tokens (invalid UTF-8 in the
  file) is joined back before decoding.
* **AWS Transcribe JSON** (the tool the Anim-400K paper used): ``results.items`` with
  ``start_time``/``end_time`` strings and ``alternatives[0].content``; punctuation items
  carry no time and attach to the preceding word. A segment's speaker is its words' most frequent
  ``speaker_label``: on the items, or (older files) in ``results.speaker_labels.segments[].items``,
  mapped onto the words by time. Segments come from
  ``results.audio_segments`` when present (items by ``id``); otherwise a new segment starts
  after sentence-final punctuation (``. ? ! 。 ？ ！``) or when the silence before the next
  word exceeds :data:`AWS_PAUSE_S` (0.5 s; compared in whole milliseconds, so exactly 0.5 s as
  written never cuts), and where the speaker label changes between two words. A channel-identification
  job (items with ``channel_label``, or
  ``results.channel_labels.channels[].items``) is segmented per channel, the channel label being the
  speaker of a word without ``speaker_label``; a segment's words are sorted by time. Items without ``id``
  and ``channel_label`` (older jobs) are read from each channel's own ``items`` list.
* **AWS Transcribe Call Analytics JSON** (top-level ``Transcript`` turns with ``ParticipantRole`` and
  ``Items`` in ms): one segment per turn, speaker ``AGENT``/``CUSTOMER``
  (:mod:`anim400k.formats.aws_analytics`).
* **AssemblyAI** and **ElevenLabs Scribe** JSON (a top-level ``words`` list of ``text``/``start``/``end``;
  AssemblyAI's times in milliseconds): :mod:`anim400k.formats.word_services`.
* **Subtitles** (SRT, WebVTT, ASS/SSA, and the other formats pysubs2 reads: TTML/DFXP, YouTube SBV...)
  through :func:`anim400k.formats.subtitles.parse_subtitle_words`: one segment per event (YouTube rolling
  and Whisper highlight captions read once, with their word times), only what is spoken
  (:mod:`anim400k.formats.sdh`: SDH sound descriptions, speaker labels and lyrics removed).

Whisper-style JSON also takes the OpenAI Whisper API's ``verbose_json``: its file-level ``words``
(beside ``segments``) become the segments' words. A file that states the other language of the pair
(``language``, ``results.language_code``, ``result.language``, ``language_code``; an AWS multi-language job's
main language, ``results.language_codes``; ``ja-JP``, ``jpn`` and ``japanese`` read ``ja``) from the one it is read
as is refused.

Every malformed input raises :class:`~anim400k.errors.InputError` naming the file and the
exact problem (``segment 12: end 3.2 before start 4.0``).
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil.atomic import write_json_atomic
from ..model import MAX_TIME_S, UNSPACED_LANGUAGES, Segment, Transcript, Word, parse_timestamp
from .aws_analytics import is_call_analytics, parse_call_analytics
from .faster_whisper_json import segment_object, word_object
from .languages import language_code
from .subtitle_text import join_words
from .word_services import is_assemblyai, is_scribe, service_words, stated_language, utterance_spans

AWS_PAUSE_S = 0.5
#: :data:`AWS_PAUSE_S` in whole milliseconds: pauses are compared in ms (AWS writes 2-3 decimals), so a
#: silence of exactly 0.5 s as written (``0.57`` -> ``1.07``) never ends a segment through float noise.
AWS_PAUSE_MS = round(AWS_PAUSE_S * 1000)
SENTENCE_END = frozenset(".?!。？！")


def _file_lang(code: Any, field: str, chk: _Checker) -> str | None:
    """The language stored in the file at ``field``: a string or absent; anything else is refused."""
    if code is None or isinstance(code, str):
        return code
    raise chk.fail(f"{field} is not a language code string ({_short(code)})")


#: The languages a build pairs: a file stating one of them, given as the other, is refused; any other stated
#: language (a Whisper mis-detection, whisper.cpp's ``auto``) is read as the language it is given as.
_PIPELINE_LANGUAGES = frozenset({"en", "ja"})


def _language(stated: Any, given: str | None, chk: _Checker) -> str:
    """The transcript's language: ``given`` (the language it is read as) when set, else the one the file states.

    A file that states the *other* pipeline language (``en`` given, ``ja`` stated after ``ja-JP``/``japanese``
    -> ``ja``, or the reverse) is refused: a Japanese transcript given as the EN one would become the release's
    English text. Any other stated language is overridden by ``given``. A stated value
    that is not a string is refused only when nothing is given (:func:`_file_lang`).
    """
    if not given:
        return language_code(stated)
    want = language_code(given)
    found = language_code(stated) if isinstance(stated, str) else ""
    if found and want and found != want and found in _PIPELINE_LANGUAGES:
        raise chk.fail(f"says its language is {found!r} but is given as the {want.upper()} transcript")
    return want


def _short(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 400-digit number is named, not shown)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        try:
            return f"a {len(str(abs(value)))}-digit number"
        except ValueError:  # beyond Python's int-to-str digit limit
            return "a number of thousands of digits"
    if isinstance(value, _LongInt):
        return f"a {len(value.lstrip('-'))}-digit number"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _LongInt(str):
    """A JSON integer too long for :func:`int` (over :data:`_INT_DIGITS` digits), kept as its text."""


#: Longest JSON integer made an ``int`` (Python's default int-from-text limit).
_INT_DIGITS = 4300


def _json_int(text: str) -> int | str:
    """A JSON integer: an ``int``, or a :class:`_LongInt` beyond :data:`_INT_DIGITS` digits.

    ``json.loads`` would stop at such a number with an error that names no field; kept as text it is
    refused where it is used (``segment 0: end is not a valid time (a 5000-digit number ...)``).
    """
    return int(text) if len(text) <= _INT_DIGITS else _LongInt(text)


class _Checker:
    """Turns raw values into validated float seconds, raising InputError with context."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, problem: str) -> InputError:
        return InputError(problem, self.path)

    def number(self, value: Any, where: str, field: str, time: bool = False) -> float:
        """``value`` (a JSON number or a numeric string, as AWS writes them) as a float >= 0.

        A string is a decimal number as JSON or AWS write it: Python's ``1_000`` digit grouping is refused.

        ``time``: also at most :data:`~anim400k.model.MAX_TIME_S` (seconds).
        """
        if isinstance(value, bool) or value is None:
            raise self.fail(f"{where}: {field} is {'missing' if value is None else 'not a number'}")
        if isinstance(value, str) and "_" in value:  # float() reads '1_0' as 10 (Python's digit grouping)
            raise self.fail(f"{where}: {field} is not a number ({_short(value)})")
        try:
            t = float(value)
        except OverflowError:  # an int too large for a float
            t = math.inf
        except (TypeError, ValueError):
            raise self.fail(f"{where}: {field} is not a number ({_short(value)})") from None
        if time and not (math.isfinite(t) and t <= MAX_TIME_S):
            raise self.fail(f"{where}: {field} is not a valid time ({_short(value)}; "
                            f"times are seconds from 0 to {MAX_TIME_S:.0f})")
        if not math.isfinite(t):
            raise self.fail(f"{where}: {field} is not finite ({_short(value)})")
        if t < 0:
            raise self.fail(f"{where}: negative {field} {t:g}")
        return t

    def time(self, value: Any, where: str, field: str) -> float:
        """``value`` as a time in seconds: a number from 0 to :data:`~anim400k.model.MAX_TIME_S`."""
        return self.number(value, where, field, time=True)

    def interval(self, obj: dict[str, Any], where: str, start_key: str = "start", end_key: str = "end"):  # type: ignore[no-untyped-def]
        if start_key not in obj:
            raise self.fail(f"{where}: missing '{start_key}'")
        if end_key not in obj:
            raise self.fail(f"{where}: missing '{end_key}'")
        s = self.time(obj[start_key], where, start_key)
        e = self.time(obj[end_key], where, end_key)
        if e < s:
            raise self.fail(f"{where}: end {e:g} before start {s:g}")
        return s, e


# ---------------------------------------------------------------- Whisper-style JSON


def _whisper_words(raw: Any, seg_start: float, seg_end: float, where: str, chk: _Checker) -> list[Word]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise chk.fail(f"{where}: 'words' is not a list")
    timed: list[tuple[float | None, float | None, str, float | None]] = []
    for k, w in enumerate(raw):
        wwhere = f"{where} word {k}"
        w = word_object(w)  # faster-whisper's Word named tuple dumped as an array
        if not isinstance(w, dict):
            raise chk.fail(f"{wwhere}: not an object")
        text = w.get("word", w.get("text"))
        if not isinstance(text, str):
            raise chk.fail(f"{wwhere}: missing 'word' text")
        prob = next((w[key] for key in ("probability", "score", "confidence") if w.get(key) is not None), None)
        prob = chk.number(prob, wwhere, "probability") if prob is not None else None
        # whisperX leaves a word it could not align without times: the keys absent, or null (a null time was
        # refused as 'start is missing')
        has_start, has_end = w.get("start") is not None, w.get("end") is not None
        if has_start and has_end:
            s, e = chk.interval(w, wwhere)
            timed.append((s, e, text, prob))
        elif has_start:  # whisperX: a word with its start only keeps it
            timed.append((chk.time(w["start"], wwhere, "start"), None, text, prob))
        else:  # whisperX: an unaligned word
            timed.append((None, None, text, prob))
    # the start of the next word that has one, for each word (one backward pass: linear in the words)
    next_start: list[float] = [seg_end] * len(timed)
    for k in range(len(timed) - 2, -1, -1):
        after = timed[k + 1][0]
        next_start[k] = after if after is not None else next_start[k + 1]
    words = []
    prev_end = seg_start
    for k, (s, e, text, prob) in enumerate(timed):
        if e is None:
            s = prev_end if s is None else s
            e = max(s, next_start[k])
        words.append(Word(s, e, text.strip(), prob))  # whisper's " can't": the token's leading space is no text
        prev_end = e
    return words


def _spread_words(segments: list[Segment], words: list[Word]) -> None:
    """Give each segment the words of a file-level word list (the OpenAI API's ``verbose_json`` keeps its
    words beside ``segments``): a word goes to the last segment starting at or before its middle (the
    first segment for a word before every segment), in time order."""
    starts = [s.start for s in segments]
    for w in sorted(words, key=lambda w: (w.start, w.end)):
        k = max(0, bisect.bisect_right(starts, (w.start + w.end) / 2) - 1)
        segments[k].words.append(w)


def _parse_whisper(obj: Any, chk: _Checker, language: str | None) -> Transcript:
    if isinstance(obj, list):
        raw_segments, lang, source, top_words = obj, None, "", None
    else:
        raw_segments = obj.get("segments")
        lang = obj.get("language")
        source = str(obj.get("source", "") or "")
        top_words = obj.get("words")  # the OpenAI API's verbose_json: the words beside the segments
    if not language:
        _file_lang(lang, "'language'", chk)
    lang = _language(lang, language, chk)
    if (raw_segments is None or raw_segments == []) and isinstance(top_words, list) and top_words:
        # (an empty 'segments' beside the words, as some API clients write it, dropped every word)
        # the OpenAI API asked for word timestamps only: the words alone, cut into segments at pauses
        words = _whisper_words(top_words, 0.0, MAX_TIME_S, "file-level", chk)
        return Transcript(language=lang, segments=_pause_segments(words, lang), source=source or "whisper-json")
    if not isinstance(raw_segments, list):
        raise chk.fail("'segments' is not a list")
    segments = []
    for i, seg in enumerate(raw_segments):
        where = f"segment {i}"
        seg = segment_object(seg)  # faster-whisper's Segment named tuple dumped as an array
        if not isinstance(seg, dict):
            raise chk.fail(f"{where}: not an object")
        start, end = chk.interval(seg, where)
        text = seg.get("text", "")
        if not isinstance(text, str):
            raise chk.fail(f"{where}: 'text' is not a string")
        speaker = seg.get("speaker")
        transcribed = seg.get("transcribed", True)
        if not isinstance(transcribed, bool):  # bool("false") is True
            raise chk.fail(f"{where}: 'transcribed' is not true or false ({_short(transcribed)})")
        segments.append(
            Segment(
                start,
                end,
                text.strip(),
                words=_whisper_words(seg.get("words"), start, end, where, chk),
                speaker=str(speaker) if speaker is not None else None,
                transcribed=transcribed,
            )
        )
    segments.sort(key=lambda s: (s.start, s.end))
    if top_words is not None and segments and not any(s.words for s in segments):
        _spread_words(segments, _whisper_words(top_words, 0.0, MAX_TIME_S, "file-level", chk))
    if not source:  # a Whisper tool's file, not one this package wrote (which names its source)
        segments = spoken_segments(segments, lang)
    return Transcript(language=lang, segments=segments, source=source or "whisper-json")


def spoken_segments(segments: list[Segment], language: str) -> list[Segment]:
    """``segments`` of a Whisper tool's file as speech: what the subtitle rules take for no speech removed
    (:func:`anim400k.formats.sdh.speech_text`: ``[BLANK_AUDIO]``, ``[Music]``, ``(music)``, lyrics), words and
    times with it, and a segment left with no text dropped. openai-whisper keeps the segments it clears (empty
    text, no words) and whisper.cpp writes ``[BLANK_AUDIO]`` over silence: they became clips with no text, or
    stretched a clip over the silence, where the same run's SRT gave the speech alone. A segment marked not
    transcribed (``transcribed: false``, timed speech without text) is kept as it is."""
    from .sdh import speech_text, speech_words

    out = []
    for seg in segments:
        if not seg.transcribed:
            out.append(seg)
            continue
        text = speech_text(seg.text)
        if not text:
            continue
        if text == seg.text:
            out.append(seg)
            continue
        words = speech_words(seg.words) if seg.words else []
        start, end = (words[0].start, max(w.end for w in words)) if words else (seg.start, seg.end)
        out.append(replace(seg, start=start, end=max(start, end), text=text, words=words))
    return out


def _api_words_only(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` is an OpenAI API transcription asked for word timestamps only: ``words`` and
    ``text`` (or ``task``) but no ``segments``."""
    return isinstance(obj.get("words"), list) and ("text" in obj or "task" in obj)


def _pause_segments(words: list[Word], language: str) -> list[Segment]:
    """``words`` (in time order) cut into segments after sentence-final punctuation and where the silence
    before a word exceeds :data:`AWS_PAUSE_MS` (the rule AWS items without segments are cut by)."""
    groups: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.start, w.end)):
        current = groups[-1] if groups else None
        if current and _ms(w.start) - _ms(current[-1].end) <= AWS_PAUSE_MS \
                and not current[-1].text.rstrip().endswith((".", "?", "!", "。", "？", "！")):
            current.append(w)
        else:
            groups.append([w])
    return [Segment(g[0].start, max(w.end for w in g), join_words((w.text for w in g), language), words=g)
            for g in groups]


def _holding(spans: list[tuple[float, float, Any, Any]], by_start: list[int], starts: list[float],
             middle: float, longest: float) -> list[int]:
    """The utterances (indices into ``spans``) whose span holds ``middle``: those starting at or before it, checked
    from the latest start back while one of them (``longest`` at most) could still reach it."""
    out = []
    j = bisect.bisect_right(starts, middle) - 1
    while j >= 0 and starts[j] >= middle - longest:
        k = by_start[j]
        if spans[k][1] >= middle:
            out.append(k)
        j -= 1
    return out


def _parse_word_service(obj: dict[str, Any], chk: _Checker, language: str | None) -> Transcript:
    """AssemblyAI or ElevenLabs Scribe JSON (:mod:`.word_services`): one segment per AssemblyAI utterance (the
    words whose middle lies in it), else the words cut where the speaker changes, at sentence ends and pauses."""
    stated = stated_language(obj)
    if not language:
        _file_lang(stated, "language_code", chk)
    lang = _language(stated, language, chk)
    source, words = service_words(obj, chk)
    spans = utterance_spans(obj, chk) if source == "assemblyai" else []
    segments: list[Segment] = []
    if spans:
        held: list[list[Word]] = [[] for _ in spans]
        left = []  # words no utterance holds: segmented as below
        # the first utterance (in the file's order) holding a word's middle, found by binary search over the spans
        # sorted by start (a scan of every utterance per word took 85 s for 100k words)
        by_start = sorted(range(len(spans)), key=lambda k: (spans[k][0], k))
        starts = [spans[k][0] for k in by_start]
        longest = max(end - start for start, end, _, _ in spans)
        for word, speaker in words:
            middle = (word.start + word.end) / 2
            hits = _holding(spans, by_start, starts, middle, longest)
            k = min(hits) if hits else None
            if k is None:
                left.append((word, speaker))
            else:
                held[k].append(word)
        for (start, end, speaker, text), inside in zip(spans, held, strict=True):
            # the utterance's own text, as the service wrote it (its spaces between Latin words in Japanese)
            seg_text = text.strip() or join_words((w.text for w in inside), lang)
            if seg_text:
                segments.append(Segment(min([start, *(w.start for w in inside)]), max([end, *(w.end for w in inside)]),
                                        seg_text, words=inside, speaker=speaker))
        words = left
    run: list[Word] = []
    for k, (word, speaker) in enumerate(words):
        run.append(word)
        if k + 1 == len(words) or words[k + 1][1] != speaker:
            segments.extend(replace(s, speaker=speaker) for s in _pause_segments(run, lang))
            run = []
    segments.sort(key=lambda s: (s.start, s.end))
    return Transcript(language=lang, segments=segments, source=source)


# ---------------------------------------------------------------- whisper.cpp JSON

#: whisper.cpp's special tokens as ``-ojf`` writes them: ``[_BEG_]``, ``[_TT_150]``, ``[_SOT_]``, ``[_EOT_]``...
_CPP_SPECIAL = re.compile(r"\[_[^\]]*\]")


def _cpp_times(obj: dict[str, Any], where: str, chk: _Checker) -> tuple[float, float] | None:
    """A whisper.cpp segment's or token's ``(start, end)`` in seconds, None when it has no times.

    From ``offsets`` (``from``/``to``, integer milliseconds), else ``timestamps`` (``HH:MM:SS,mmm``).
    """
    off, stamps = obj.get("offsets"), obj.get("timestamps")
    if off is None and stamps is None:
        return None
    field = "offsets" if off is not None else "timestamps"
    raw = off if off is not None else stamps
    if not isinstance(raw, dict):
        raise chk.fail(f"{where}: '{field}' is not an object")
    times = []
    for key in ("from", "to"):
        name = f"{field}.{key}"
        if off is not None:
            t = chk.number(raw.get(key), where, name) / 1000.0
        else:
            try:
                t = parse_timestamp(raw.get(key))  # type: ignore[arg-type]
            except (ValueError, AttributeError):
                raise chk.fail(f"{where}: {name} is not a timestamp ({_short(raw.get(key))})") from None
        times.append(chk.time(t, where, name))
    if times[1] < times[0]:
        raise chk.fail(f"{where}: end {times[1]:g} before start {times[0]:g}")
    return times[0], times[1]


def _cpp_bytes(text: str) -> bytes:
    """A whisper.cpp string's raw bytes: the file is read with ``surrogateescape``, so the bytes of a
    character split between tokens (invalid UTF-8 on their own) come back as they were written."""
    return text.encode("utf-8", "surrogateescape")


def _cpp_pending(data: bytes) -> bool | None:
    """``False`` when ``data`` is whole UTF-8, ``True`` when it is UTF-8 cut inside its last character
    (the rest of it is in the next token), ``None`` when it is not UTF-8 at all."""
    try:
        data.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        return True if exc.reason == "unexpected end of data" and exc.end == len(data) else None


def _cpp_decode(data: bytes, where: str, chk: _Checker) -> str:
    """``data`` (a word's or segment's tokens' bytes joined) decoded as UTF-8, else refused."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise chk.fail(f"{where}: not valid UTF-8 once its tokens are joined ({exc.reason} at byte "
                       f"{exc.start} of {_short(data)})") from None


#: an ``-ojf`` token: its bytes, its ``(start, end)`` (None when untimed) and its ``p``
_CppToken = tuple[bytes, tuple[float, float] | None, float | None]


def _cpp_tokens(raw: Any, where: str, chk: _Checker) -> list[_CppToken]:
    """A segment's ``-ojf`` tokens as ``(bytes, times, p)``, special tokens (``[_BEG_]``) left out."""
    if not isinstance(raw, list):
        raise chk.fail(f"{where}: 'tokens' is not a list")
    out: list[_CppToken] = []
    for k, tok in enumerate(raw):
        twhere = f"{where} token {k}"
        if not isinstance(tok, dict):
            raise chk.fail(f"{twhere}: not an object")
        text = tok.get("text")
        if not isinstance(text, str):
            raise chk.fail(f"{twhere}: 'text' is not a string")
        if not text or _CPP_SPECIAL.fullmatch(text):
            continue
        p = tok.get("p")
        prob = chk.number(p, twhere, "p") if p is not None else None
        out.append((_cpp_bytes(text), _cpp_times(tok, twhere, chk), prob))
    return out


def _cpp_word_dicts(tokens: list[_CppToken], where: str, chk: _Checker, no_space: bool) -> list[dict[str, Any]]:
    """``-ojf`` tokens joined into Whisper-style word dicts (``word``, ``start``/``end`` when timed,
    ``probability`` the tokens' mean ``p``).

    A token whose text starts with a space begins a new word (in a language written without spaces,
    every token does), unless the word so far ends inside a character: whisper.cpp writes each
    token's bytes as they are, so a character split between tokens is joined back here, its bytes
    concatenated and then decoded; the word's times span its tokens.
    """
    words: list[list[_CppToken]] = []
    pending = False
    for data, times, prob in tokens:
        if not words or (not pending and (no_space or data.startswith(b" "))):
            words.append([])
        words[-1].append((data, times, prob))
        pending = bool(_cpp_pending(b"".join(t for t, _, _ in words[-1])))
    out = []
    for n, pieces in enumerate(words):
        w: dict[str, Any] = {"word": _cpp_decode(b"".join(t for t, _, _ in pieces), f"{where} word {n}", chk)}
        timed = [tm for _, tm, _ in pieces if tm is not None]
        if timed:
            w["start"], w["end"] = timed[0][0], max(tm[1] for tm in timed)
        probs = [p for _, _, p in pieces if p is not None]
        if probs:
            w["probability"] = sum(probs) / len(probs)
        out.append(w)
    return out


def _cpp_language(obj: dict[str, Any], chk: _Checker) -> str | None:
    """The language a whisper.cpp file stores: ``result.language``, else ``params.language`` unless ``auto``."""
    result, params = obj.get("result"), obj.get("params")
    language = _file_lang(result.get("language"), "result.language", chk) if isinstance(result, dict) else None
    if not language and isinstance(params, dict):
        language = _file_lang(params.get("language"), "params.language", chk)
        language = None if language == "auto" else language
    if language is not None and _cpp_pending(_cpp_bytes(language)) is not False:
        raise chk.fail("the stored language is not valid UTF-8")
    return language


def _parse_whisper_cpp(obj: dict[str, Any], chk: _Checker, language: str | None) -> Transcript:
    """whisper.cpp's ``-oj``/``-ojf`` JSON: ``transcription`` pieces with ``offsets``, ``text`` and
    (``-ojf``) ``tokens``; the language from ``result.language`` (else ``params.language`` unless ``auto``).

    Texts are taken as the bytes whisper.cpp wrote: a segment whose text ends inside a character
    (``-ml N`` splits segments between tokens, whatever their bytes) is joined with the next ones
    until the character is whole, spanning their times.
    """
    raw_segments = obj.get("transcription")
    if not isinstance(raw_segments, list):
        raise chk.fail("'transcription' is not a list")
    try:
        stated = _cpp_language(obj, chk)
    except InputError:
        if not language:
            raise
        stated = None  # a stored language that cannot be read is not compared with the one given
    lang = _language(stated, language, chk)
    pieces = []  # (where, start, end, text bytes, tokens or None, speaker)
    for i, seg in enumerate(raw_segments):
        where = f"transcription {i}"
        if not isinstance(seg, dict):
            raise chk.fail(f"{where}: not an object")
        times = _cpp_times(seg, where, chk)
        if times is None:
            raise chk.fail(f"{where}: missing 'offsets'")
        text = seg.get("text", "")
        if not isinstance(text, str):
            raise chk.fail(f"{where}: 'text' is not a string")
        tokens = seg.get("tokens")
        toks = None if tokens is None else _cpp_tokens(tokens, where, chk)
        speaker = seg.get("speaker")  # --diarize: "0", "1", or "?" (unknown)
        speaker = str(speaker) if speaker not in (None, "", "?") else None
        if pieces and _cpp_pending(pieces[-1][3]):  # the last one ends inside a character: join
            pw, ps, pe, pt, ptok, pspk = pieces[-1]
            joined = None if ptok is None or toks is None else ptok + toks
            pieces[-1] = (f"{pw}-{i}", ps, max(pe, times[1]), pt + _cpp_bytes(text), joined,
                          pspk if pspk == speaker else None)
        else:
            pieces.append((where, times[0], times[1], _cpp_bytes(text), toks, speaker))
    segments = []
    for where, start, end, data, toks, speaker in pieces:
        words = [] if toks is None else _cpp_word_dicts(toks, where, chk, lang in UNSPACED_LANGUAGES)
        segments.append(Segment(start, end, _cpp_decode(data, where, chk).strip(),
                                words=_whisper_words(words, start, end, where, chk), speaker=speaker))
    segments.sort(key=lambda s: (s.start, s.end))
    return Transcript(language=lang, segments=spoken_segments(segments, lang), source="whisper-cpp-json")


# ---------------------------------------------------------------- AWS Transcribe JSON


def _aws_items(items: Any, chk: _Checker, where_prefix: str = "") -> list[dict[str, Any]]:
    """Validated items: ``{"id", "own_id", "type", "text", "start", "end", "conf", "speaker", "channel"}``
    (``id``: the item's ``id``, else its position, ``own_id`` telling which); ``where_prefix`` is the list's
    place in messages (``"channel_labels channel 1 "``; ``""``: ``results.items``)."""
    if not isinstance(items, list):
        raise chk.fail("results.items is not a list")
    out = []
    for i, it in enumerate(items):
        where = f"{where_prefix}item {i}"
        if not isinstance(it, dict):
            raise chk.fail(f"{where}: not an object")
        kind = it.get("type")
        if kind not in ("pronunciation", "punctuation"):
            raise chk.fail(f"{where}: unknown type {kind!r} (expected pronunciation or punctuation)")
        alts = it.get("alternatives")
        if not isinstance(alts, list) or not alts or not isinstance(alts[0], dict):
            raise chk.fail(f"{where}: missing alternatives[0]")
        content = alts[0].get("content")
        if not isinstance(content, str):
            raise chk.fail(f"{where}: alternatives[0].content is not a string")
        channel = it.get("channel_label")
        rec: dict[str, Any] = {"id": it.get("id", i), "own_id": it.get("id") is not None, "type": kind, "text": content,
                               "speaker": it.get("speaker_label"),
                               "channel": str(channel) if channel is not None else None}
        conf = alts[0].get("confidence")
        rec["conf"] = chk.number(conf, where, "confidence") if conf not in (None, "") else None
        if kind == "pronunciation":
            rec["start"], rec["end"] = chk.interval(it, where, "start_time", "end_time")
        out.append(rec)
    return out


#: A speaker turn: (start, end, speaker label).
_Turn = tuple[float, float, str]


def _aws_speaker_turns(results: dict[str, Any], chk: _Checker) -> tuple[list[_Turn], list[_Turn]]:
    """Speaker turns of older AWS files, ``results.speaker_labels.segments``: (word turns, segment turns).

    Word turns come from each segment's ``items`` (``start_time``/``end_time``/``speaker_label``),
    segment turns from the segments themselves; each list is sorted by start. Absent: two empty lists.
    """
    labels = results.get("speaker_labels")
    if labels is None:
        return [], []
    if not isinstance(labels, dict):
        raise chk.fail("results.speaker_labels is not an object")
    segs = labels.get("segments", [])
    if not isinstance(segs, list):
        raise chk.fail("results.speaker_labels.segments is not a list")
    words: list[_Turn] = []
    turns: list[_Turn] = []
    for k, seg in enumerate(segs):
        where = f"speaker_labels segment {k}"
        if not isinstance(seg, dict):
            raise chk.fail(f"{where}: not an object")
        speaker = seg.get("speaker_label")
        if speaker is not None and "start_time" in seg and "end_time" in seg:
            turns.append((*chk.interval(seg, where, "start_time", "end_time"), str(speaker)))
        items = seg.get("items", [])
        if not isinstance(items, list):
            raise chk.fail(f"{where}: 'items' is not a list")
        for m, it in enumerate(items):
            iwhere = f"{where} item {m}"
            if not isinstance(it, dict):
                raise chk.fail(f"{iwhere}: not an object")
            label = it.get("speaker_label", speaker)
            if label is not None:
                words.append((*chk.interval(it, iwhere, "start_time", "end_time"), str(label)))
    return sorted(words), sorted(turns)


def _speaker_at(turns: list[_Turn], starts: list[float], t: float) -> str | None:
    """The speaker of the last turn starting at or before ``t`` that still holds ``t`` (``starts``: its starts)."""
    k = bisect.bisect_right(starts, t) - 1
    return turns[k][2] if k >= 0 and turns[k][1] >= t else None


def _aws_assign_speakers(items: list[dict[str, Any]], results: dict[str, Any], chk: _Checker) -> None:
    """Give each timed item without ``speaker_label`` the speaker of ``results.speaker_labels`` at its
    middle: the word turn holding it, else the segment turn (older AWS files keep speakers only there)."""
    words, turns = _aws_speaker_turns(results, chk)
    if not words and not turns:
        return
    word_starts, turn_starts = [w[0] for w in words], [t[0] for t in turns]
    for it in items:
        if it["type"] != "pronunciation" or it["speaker"] is not None:
            continue
        mid = (it["start"] + it["end"]) / 2
        it["speaker"] = _speaker_at(words, word_starts, mid) or _speaker_at(turns, turn_starts, mid)


def _ms(seconds: float) -> int:
    """``seconds`` in whole milliseconds (AWS times are written with 2-3 decimals)."""
    return round(seconds * 1000)


def _aws_channel_lists(results: dict[str, Any], chk: _Checker) -> list[tuple[str, list[Any]]]:
    """``(channel label, raw items)`` of each channel of ``results.channel_labels.channels`` (a
    channel-identification job); empty when the file has no ``channel_labels``."""
    labels = results.get("channel_labels")
    if labels is None:
        return []
    channels = labels.get("channels") if isinstance(labels, dict) else None
    if not isinstance(channels, list):
        raise chk.fail("results.channel_labels.channels is not a list")
    out = []
    for k, ch in enumerate(channels):
        where = f"channel_labels channel {k}"
        if not isinstance(ch, dict) or not isinstance(ch.get("items", []), list):
            raise chk.fail(f"{where}: not an object with an 'items' list")
        out.append((str(ch.get("channel_label", f"ch_{k}")), ch.get("items", [])))
    return out


def _aws_channel_of_ids(channels: list[tuple[str, list[Any]]]) -> dict[str, str]:
    """Item id -> channel label, from the channels' items that carry an ``id`` (newer jobs)."""
    out: dict[str, str] = {}
    for label, items in channels:
        for it in items:
            if isinstance(it, dict) and it.get("id") is not None:
                out[str(it["id"])] = str(it.get("channel_label", label))
    return out


def _aws_channel_items(channels: list[tuple[str, list[Any]]], chk: _Checker) -> list[dict[str, Any]]:
    """The items of a channel-identification job read from each channel's own ``items`` list (validated as
    ``results.items`` are), each with its channel: for a file whose items carry no ``id`` to tell them by
    (older jobs), where ``results.items`` alone holds the channels' words merged."""
    out = []
    for k, (label, raw) in enumerate(channels):
        items = _aws_items(raw, chk, f"channel_labels channel {k} ")
        for it in items:
            it["channel"] = it["channel"] or label
        out.extend(items)
    return out


def _aws_by_channel(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``items`` split by channel (``channel``; a job without channel identification is one), each in its
    order, channels in the order they first appear."""
    channels: dict[str | None, list[dict[str, Any]]] = {}
    for it in items:
        channels.setdefault(it["channel"], []).append(it)
    return list(channels.values())


def _aws_time_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` with the words in time order, each punctuation item kept after the word it follows
    (a stable sort: items already in order, as one channel's are, stay as they are)."""
    lead: list[dict[str, Any]] = []
    units: list[list[dict[str, Any]]] = []
    for it in items:
        if it["type"] == "pronunciation":
            units.append([it])
        elif units:
            units[-1].append(it)
        else:
            lead.append(it)
    units.sort(key=lambda u: (u[0]["start"], u[0]["end"]))
    return lead + [it for unit in units for it in unit]


def _aws_segment(items: list[dict[str, Any]], language: str) -> Segment | None:
    """One segment of ``items`` (one channel's): words in time order, from the first word's start to the
    latest word end, so that no word lies outside it."""
    sep = "" if language in UNSPACED_LANGUAGES else " "
    words: list[Word] = []
    text = ""
    speakers: dict[str, int] = {}
    for it in _aws_time_order(items):
        if it["type"] == "punctuation":
            text += it["text"]
            continue
        words.append(Word(it["start"], it["end"], it["text"], it["conf"]))
        text = join_words([text, it["text"]], language) if sep == "" else text + (sep if text else "") + it["text"]
        if it["speaker"] is not None:
            speakers[str(it["speaker"])] = speakers.get(str(it["speaker"]), 0) + 1
    if not words:
        return None
    speaker = max(speakers, key=speakers.__getitem__) if speakers else None
    return Segment(words[0].start, max(w.end for w in words), text.strip(), words=words, speaker=speaker)


def _aws_pause_groups(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """One channel's items (in time order) cut into segments after sentence-final punctuation, where the
    silence before a word exceeds :data:`AWS_PAUSE_MS`, and where the speaker changes (a word whose speaker
    label differs from the previous word's: AWS diarization's turn, ``pain`` spk_0 | ``tolerance.`` spk_1)."""
    groups: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    last_end: float | None = None
    last_speaker: str | None = None
    for it in items:
        if it["type"] == "pronunciation":
            paused = last_end is not None and _ms(it["start"]) - _ms(last_end) > AWS_PAUSE_MS
            turn = it["speaker"] is not None and last_speaker is not None and str(it["speaker"]) != last_speaker
            if current and (paused or turn):
                groups.append(current)
                current = []
            current.append(it)
            last_end = it["end"] if last_end is None else max(last_end, it["end"])
            last_speaker = str(it["speaker"]) if it["speaker"] is not None else last_speaker
        else:
            current.append(it)
            if it["text"] and it["text"][-1] in SENTENCE_END:
                groups.append(current)
                current = []
    if current:
        groups.append(current)
    return groups


def _aws_stated_language(obj: dict[str, Any], results: dict[str, Any]) -> tuple[Any, str]:
    """``(language, field)`` an AWS job states: ``results.language_code`` (one language, given or identified),
    the job's ``language_code``, or for a multi-language identification job (``IdentifyMultipleLanguages``: no
    ``results.language_code``) the language of ``results.language_codes`` with the most speech, else the one most
    of its items name (``language_code`` on each item)."""
    for value, field in ((results.get("language_code"), "results.language_code"),
                         (obj.get("language_code"), "language_code")):
        if value is not None and value != "":
            return value, field
    codes = results.get("language_codes")
    if isinstance(codes, list):
        spoken = [(c.get("duration_in_seconds"), c.get("language_code")) for c in codes if isinstance(c, dict)]
        spoken = [(float(d), code) for d, code in spoken
                  if isinstance(code, str) and code and isinstance(d, int | float | str) and _is_number(d)]
        if spoken:
            return max(spoken, key=lambda dc: dc[0])[1], "results.language_codes"
    items = results.get("items")
    named = [it.get("language_code") for it in items if isinstance(it, dict)] if isinstance(items, list) else []
    named = [code for code in named if isinstance(code, str) and code]
    if named:
        return max(set(named), key=named.count), "results.items[].language_code"
    return None, "results.language_code"


def _is_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value)) and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False


def _parse_aws(obj: dict[str, Any], chk: _Checker, language: str | None) -> Transcript:
    """AWS Transcribe JSON. A channel-identification job (items with ``channel_label``, or
    ``results.channel_labels.channels[].items``) is segmented per channel, and a word without a
    ``speaker_label`` takes its channel's label as speaker."""
    results = obj.get("results")
    if not isinstance(results, dict):
        raise chk.fail("'results' is not an object")
    stated, field = _aws_stated_language(obj, results)
    if not language:
        _file_lang(stated, field, chk)
    lang = _language(stated, language, chk)
    items = _aws_items(results.get("items"), chk)
    channels = _aws_channel_lists(results, chk)
    by_id = _aws_channel_of_ids(channels)
    for it in items:
        if it["channel"] is None and it["own_id"]:  # (an item without an id is not told by its position)
            it["channel"] = by_id.get(str(it["id"]))
    from_channels = any(it["channel"] is None and it["type"] == "pronunciation" for it in items) and any(
        raw for _, raw in channels)
    if from_channels:
        # items that neither say their channel nor are found by id in a channel's list (no ids: older jobs):
        # the channels' own lists hold each channel's words apart
        items = _aws_channel_items(channels, chk)
    _aws_assign_speakers(items, results, chk)
    for it in items:
        if it["speaker"] is None and it["type"] == "pronunciation":
            it["speaker"] = it["channel"]
    groups: list[list[dict[str, Any]]] = []
    audio_segments = results.get("audio_segments")
    if isinstance(audio_segments, list) and audio_segments and not from_channels:  # (they list items by id)
        by_item = {str(it["id"]): it for it in items}
        for k, seg in enumerate(audio_segments):
            ids = seg.get("items") if isinstance(seg, dict) else None
            if not isinstance(ids, list):
                raise chk.fail(f"audio_segments {k}: missing 'items' list")
            missing = [i for i in ids if str(i) not in by_item]
            if missing:
                raise chk.fail(f"audio_segments {k}: item id {missing[0]!r} not in results.items")
            groups.extend(_aws_by_channel([by_item[str(i)] for i in ids]))
    else:
        for channel in _aws_by_channel(items):
            groups.extend(_aws_pause_groups(_aws_time_order(channel)))
    segments = [s for s in (_aws_segment(g, lang) for g in groups) if s is not None]
    segments.sort(key=lambda s: (s.start, s.end))
    return Transcript(language=lang, segments=segments, source="aws-transcribe")


# ---------------------------------------------------------------- entry points


def _subtitle_segments(raw: str, path: Path) -> list[Segment]:
    """The speech of a subtitle file (its decoded text ``raw``): one segment per event, with the word times
    of YouTube rolling and Whisper highlight captions (:mod:`anim400k.formats.wordcues`), and only what is
    spoken (:mod:`anim400k.formats.sdh`: SDH sound descriptions, speaker labels and lyrics removed; an
    event left empty dropped)."""
    from .sdh import speech_text, speech_words
    from .subtitles import parse_subtitle_words

    segments = []
    for spoken in parse_subtitle_words(raw, path):  # the text already read and decoded
        sub = spoken.subtitle
        text = speech_text(sub.text)
        if text:
            segments.append(Segment(sub.start, sub.end, text, speech_words(spoken.words)))
    return segments


def _looks_like_subtitles(head: str, suffix: str) -> bool:
    from .subtitles import SUBTITLE_SUFFIXES

    if suffix in SUBTITLE_SUFFIXES:
        return True
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("WEBVTT", "[Script Info]")):
        return True
    return "-->" in head and not stripped.startswith(("{", "["))


def _load_json(raw: str, path: Path) -> Any:
    """``raw`` parsed as JSON; :class:`InputError` naming the line and column where it is not JSON."""
    if not raw.strip():
        raise InputError("empty file", path)
    try:
        return json.loads(raw, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})", path) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply to be a transcript", path) from exc


def _json_by_content(raw: str, path: Path) -> tuple[bool, Any]:
    """``(True, obj)`` for a file that is JSON by its content (whatever its name), else ``(False, None)``.

    A file whose first non-space character is ``{`` or ``[`` is JSON when it parses as JSON; one that
    does not (an ASS ``[Script Info]``, a MicroDVD ``{1}{25}`` cue) is left to the other readers.
    """
    if not raw.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        return False, None
    try:
        return True, _load_json(raw, path)
    except InputError:
        return False, None


def _whisper_cpp_bytes(data: bytes) -> dict[str, Any] | None:
    """A whisper.cpp JSON file that is not valid UTF-8, parsed with its bad bytes kept (``surrogateescape``).

    whisper.cpp writes each token's text as its raw bytes, so a character split between tokens
    leaves invalid UTF-8 in the file although the joined tokens are whole characters. None when
    ``data`` is not such a file (then the strict decoding's error stands).
    """
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")
    if not text.lstrip(" \t\r\n").startswith("{"):
        return None
    try:
        obj = json.loads(text, parse_int=_json_int)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(obj, dict) and "transcription" in obj and "segments" not in obj and "results" not in obj:
        return obj
    return None


#: The refusal of a file in no format :func:`read_transcript` reads.
#: the lines openai-whisper prints while it transcribes (``--verbose True``), often saved as a ``.txt``
_WHISPER_CONSOLE = re.compile(r"\s*\[(?:\d+:)?\d{1,2}:\d{2}\.\d{3} --> (?:\d+:)?\d{1,2}:\d{2}\.\d{3}\]")
_UNKNOWN_FORMAT = (
    "not a known transcript format (expected Whisper JSON with 'segments' (the OpenAI API's: or 'words'), "
    "whisper.cpp JSON with 'transcription', AWS Transcribe JSON with 'results.items' (Call Analytics: "
    "'Transcript'), AssemblyAI or ElevenLabs Scribe JSON with 'words', or subtitles: SRT, WebVTT, ASS/SSA, "
    "TTML/DFXP, SBV)"
)


def _subtitle_transcript(raw: str, path: Path, language: str | None) -> Transcript:
    """A subtitle file's decoded text ``raw`` as a transcript: one segment per event, only what is spoken
    (:func:`_subtitle_segments`); subtitle files state no language."""
    return Transcript(language=language_code(language), segments=_subtitle_segments(raw, path), source="subtitles")


def read_transcript(path: str | Path, language: str | None = None) -> Transcript:
    """Read a transcript in any supported format (detected by content) as a :class:`Transcript`.

    ``language`` (``ja``, ``en``; ``ja-JP`` is shortened) is the language the transcript is read as:
    a file that states the other of ``en``/``ja`` (Whisper's ``language``, AWS ``results.language_code``,
    whisper.cpp ``result.language``; ``ja-JP``, ``japanese`` -> ``ja``) is refused in one line
    (``says its language is 'ja' but is given as the EN transcript``); files that state none
    (subtitles) take it. Segments come back sorted by start time. A file that parses as JSON is read
    as JSON whatever its name (a Whisper JSON named ``.srt``); otherwise subtitles are told by their
    name or content, and any other text is tried as the subtitle formats
    :func:`~anim400k.formats.subtitles.read_subtitles` reads (TTML/DFXP, YouTube SBV).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("is a folder, not a transcript file" if path.is_dir() else "transcript file not found", path)
    from .subtitles import decode_text

    data = path.read_bytes()
    chk = _Checker(path)
    try:
        raw = decode_text(data, path)
    except InputError:
        cpp = _whisper_cpp_bytes(data)  # whisper.cpp JSON with characters split between tokens
        if cpp is None:
            raise
        return _parse_whisper_cpp(cpp, chk, language)
    is_json, obj = _json_by_content(raw, path)
    if not is_json and _looks_like_subtitles(raw[:4096], path.suffix.lower()):
        return _subtitle_transcript(raw, path, language)
    if not is_json and raw.strip() and not raw.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        # neither JSON nor told as subtitles by name or content: the other formats that subtitle files are
        # read in (TTML/DFXP, YouTube SBV, MPL2...), else the one line that names the formats read; a file that
        # one of them recognises but cannot read (a TTML time it does not know, an SBV timing line that is
        # broken) gets that reader's own line
        from .subtitles import UnknownSubtitleFormat

        try:
            return _subtitle_transcript(raw, path, language)
        except UnknownSubtitleFormat:
            raise InputError(_UNKNOWN_FORMAT, path) from None
    if not is_json and _WHISPER_CONSOLE.match(raw.lstrip("\ufeff")):
        raise InputError("is Whisper's console output ('[00:00.000 --> 00:02.500]  text' lines), not a transcript "
                         "file: let whisper write one (--output_format json, srt or vtt)", path)
    if not is_json:
        obj = _load_json(raw, path)
    if isinstance(obj, dict) and isinstance(obj.get("results"), dict) and "items" in obj["results"]:
        return _parse_aws(obj, chk, language)
    if isinstance(obj, dict) and "segments" not in obj and (is_assemblyai(obj) or is_scribe(obj)):
        return _parse_word_service(obj, chk, language)
    if isinstance(obj, list) or (isinstance(obj, dict) and ("segments" in obj or _api_words_only(obj))):
        return _parse_whisper(obj, chk, language)
    if isinstance(obj, dict) and "transcription" in obj:
        return _parse_whisper_cpp(obj, chk, language)
    if is_call_analytics(obj):
        stated = obj.get("LanguageCode")
        if not language:
            _file_lang(stated, "LanguageCode", chk)
        lang = _language(stated, language, chk)
        return parse_call_analytics(obj, chk, lang, "" if lang in UNSPACED_LANGUAGES else " ")
    raise InputError(_UNKNOWN_FORMAT, path)


def write_transcript(path: str | Path, transcript: Transcript, extra: dict[str, Any] | None = None) -> None:
    """Write ``transcript`` as Whisper-style JSON (``Transcript.to_dict``), atomically.

    ``extra`` adds top-level keys (e.g. the ASR cache's ``anim400k`` provenance block);
    readers ignore them.
    """
    obj = transcript.to_dict()
    if extra:
        obj.update({k: v for k, v in extra.items() if k not in obj})
    write_json_atomic(path, obj)
