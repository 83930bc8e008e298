"""The dub's ``speak`` stage: every translated line spoken by the TTS backend at a fitting speed.

:func:`speak_lines` speaks the lines of one source (recording each in the report);
:func:`synthesize` speaks one line at the TTS speed its slot calls for, and :func:`condensed`
asks the condenser for shorter wordings of a line that still overflows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AnimError
from ..model import Segment
from ..translate.base import Line
from ..tts.base import Synthesizer, UnspeakableText, VoiceProfile
from .condense import Condenser
from .report import DubReport, LineReport

if TYPE_CHECKING:
    from .options import DubOptions

log = logging.getLogger(__name__)

#: Rate at which lines are synthesised, stretched and placed (resampled to the output rate once).
SPEECH_SR = 24000
#: How far (relative) a line spoken at an estimated speed may miss its slot before it is spoken
#: again: 20 %, within what time fitting's 0.8-1.3x stretch does well (a Kokoro line costs ~1 s).
ESTIMATE_TOLERANCE = 0.2
#: How many times a line is re-worded when the first shorter wording still does not fit.
CONDENSE_ROUNDS = 3


def synthesize(
    tts: Synthesizer, text: str, voice: VoiceProfile | None, slot: float, options: DubOptions
) -> tuple[np.ndarray, float]:
    """Speak ``text``; when it misses its slot, speak it again at the TTS speed that fits (within the TTS speed
    bounds): native rate control sounds better than stretching.

    A backend with ``estimate_seconds(text, voice)`` (the neural voices: an estimate from a
    50x-real-time model) is asked for the natural length first and speaks the line at the speed
    that estimate calls for. A line that misses its slot by more than the tolerance (:data:`ESTIMATE_TOLERANCE`
    after an estimate, else 10 %), or that is longer than time fitting may squeeze (``max_stretch``), is spoken
    again at the speed its first rendering calls for, and a third time at the speed the two renderings call for
    (a TTS voice's length does not follow its speed in proportion: Kokoro spoke a line in 0.75 s at speed 1.39
    and 1.26 s at speed 1); of the renderings, one that time fitting can squeeze into its slot (within
    ``max_stretch``) is kept before one that overflows, then the one nearest its slot (the second was kept when it
    was further off than the first, and a 0.92 s rendering over a 0.82 s one that fitted a 0.88 s slot).
    """
    slot = max(slot, 1e-3)
    estimate = getattr(tts, "estimate_seconds", None)
    natural = estimate(text, voice) if callable(estimate) else None
    tolerance = ESTIMATE_TOLERANCE if natural else 0.1
    speed = fitting_speed(natural / slot, options) if natural else 1.0
    tries = [(tts.synthesize(text, voice, SPEECH_SR, speed=speed), speed)]
    def nearest() -> tuple[np.ndarray, float]:  # a rendering time fitting can squeeze in first, then the nearest
        return min(tries, key=lambda t: (len(t[0]) / SPEECH_SR > slot * options.max_stretch + 1e-3, _miss(t[0], slot)))

    for _ in range(MAX_RENDERINGS - 1):
        audio, speed = nearest()
        ratio = len(audio) / SPEECH_SR / slot
        if abs(ratio - 1.0) <= tolerance and ratio <= options.max_stretch:
            break
        again = _next_speed(tries, slot, options)
        if again is None:
            break
        tries.append((tts.synthesize(text, voice, SPEECH_SR, speed=again), again))
    return nearest()


#: At most this many renderings of one line (the first, and up to two at corrected speeds).
MAX_RENDERINGS = 3


def _miss(audio: np.ndarray, slot: float) -> float:
    """How far a rendering is off its slot, as a factor (0: exact; a half and double length are equally far)."""
    return abs(float(np.log(max(len(audio), 1) / SPEECH_SR / slot)))


def _next_speed(tries: list[tuple[np.ndarray, float]], slot: float, options: DubOptions) -> float | None:
    """The TTS speed to speak the line at next, from its renderings so far (``(audio, speed)``): in proportion to
    the last one's length at first, then on the power law through the last two (length ~ speed^-k); None when
    it is within 0.01 of a speed already tried (nothing better to expect)."""
    (audio, speed) = tries[-1]
    length = len(audio) / SPEECH_SR
    if len(tries) >= 2:
        (audio0, speed0) = tries[-2]
        length0 = len(audio0) / SPEECH_SR
        k = float(np.log(length0 / length) / np.log(speed / speed0)) if speed != speed0 and length0 != length \
            else 1.0
        k = float(np.clip(k, 0.5, 3.0))  # a voice speaking slower when asked to speak faster: proportional
        want = speed * (length / slot) ** (1.0 / k)
    else:
        want = speed * length / slot
    again = float(np.clip(want, options.min_tts_speed, options.max_tts_speed))
    if any(abs(again - s) < 0.01 for _, s in tries):
        return None
    return again


def fitting_speed(need: float, options: DubOptions) -> float:
    """The TTS speed for a line ``need`` times longer than its slot at speed 1 (1 when within 10 %)."""
    speed = float(np.clip(need, options.min_tts_speed, options.max_tts_speed))
    return 1.0 if abs(need - 1.0) <= 0.1 or abs(speed - 1.0) < 0.05 else speed


def condensed(
    tts: Synthesizer,
    condenser: Condenser,
    text: str,
    voice: VoiceProfile | None,
    slot: float,
    options: DubOptions,
    audio: np.ndarray,
    speed: float,
    rec: LineReport,
) -> tuple[np.ndarray, float]:
    """Speak a condensed wording of ``text`` when it is shorter; otherwise keep ``audio``.

    The condenser is asked again (up to :data:`CONDENSE_ROUNDS` times) while the new speech still
    does not fit. A failing hook or an unspeakable rewording is a problem of the line, not of the episode.
    """
    best_text, best_audio, best_speed = text, audio, speed
    for _ in range(CONDENSE_ROUNDS):
        ratio = slot * options.max_stretch / (len(best_audio) / SPEECH_SR)
        if ratio >= 1.0:
            break
        try:
            shorter = condenser(best_text, ratio)
        except Exception as exc:  # noqa: BLE001 - a user's hook may raise anything
            rec.problems.append(f"condenser failed: {type(exc).__name__}: {exc}")
            break
        if not isinstance(shorter, str) or not shorter.strip() or shorter.strip() == best_text.strip():
            break
        try:
            audio2, speed2 = synthesize(tts, shorter, voice, slot, options)
        except UnspeakableText:
            break
        except Exception as exc:  # noqa: BLE001 - keep the line as best spoken so far
            rec.problems.append(f"TTS failed on the condensed wording: {type(exc).__name__}: {exc}")
            break
        if len(audio2) >= len(best_audio):
            break
        best_text, best_audio, best_speed = shorter, audio2, speed2
    if best_text != text:
        rec.condensed_from, rec.en_text = text, best_text
    return best_audio, best_speed


def speak_lines(
    segments: Sequence[Segment],
    lines: Sequence[Line],
    profiles: dict[str, VoiceProfile],
    tts: Synthesizer,
    condenser: Condenser | None,
    options: DubOptions,
    report: DubReport,
    bar: Any,
) -> dict[int, np.ndarray]:
    """Speak every line (one :class:`LineReport` each, appended to ``report``); segment index -> speech.

    Speakers are numbered by first appearance (one stable voice each); a line that cannot be
    spoken, or whose TTS fails, is recorded as a problem of that line and skipped.
    """
    speaker_index: dict[str | None, int] = {}
    for seg in segments:
        speaker_index.setdefault(seg.speaker, len(speaker_index))
    spoken: dict[int, np.ndarray] = {}
    for i, (seg, line) in enumerate(zip(segments, lines, strict=True)):
        bar.update(1)
        rec = LineReport(i, seg.speaker, round(seg.start, 3), round(seg.end, 3), line.text, line.source_text)
        report.lines.append(rec)
        if line.problem:
            rec.problems.append(line.problem)
        if not line.text:
            continue
        voice = profiles.get(seg.speaker or "") or VoiceProfile(seg.speaker or "spk", speaker_index.get(seg.speaker, 0))
        audio = _speak_line(tts, condenser, line.text, voice, seg, options, rec, i)
        if audio is not None:
            spoken[i] = audio
    for voice, speakers in shared_voices(report.lines).items():
        problem = (f"speakers {', '.join(speakers)} share the voice {voice}: the {tts.name} TTS has no distinct "
                   "voice left for them (or they were cast alike); their lines sound like one character")
        log.warning("%s", problem)
        report.problems.append(problem)
    return spoken


def _base_voice(name: str) -> str:
    """A voice name without what does not make another voice: heart's ``@scale`` (the pitch match overrides
    it) and the order of a blend's voices (``kokoro:a+b`` is ``kokoro:b+a``)."""
    engine, _, rest = re.sub(r"@[0-9.]+$", "", name).rpartition(":")
    return f"{engine}:{'+'.join(sorted(rest.split('+')))}" if engine else rest


def shared_voices(lines: Sequence[LineReport]) -> dict[str, list[str]]:
    """Voices given to more than one speaker: base voice name -> the speakers (in order of first line)."""
    by_voice: dict[str, list[str]] = {}
    for ln in lines:
        if ln.voice is None or ln.speaker is None:
            continue
        speakers = by_voice.setdefault(_base_voice(ln.voice), [])
        if ln.speaker not in speakers:
            speakers.append(ln.speaker)
    return {v: s for v, s in by_voice.items() if len(s) > 1}


def _speak_line(
    tts: Synthesizer,
    condenser: Condenser | None,
    text: str,
    voice: VoiceProfile,
    seg: Segment,
    options: DubOptions,
    rec: LineReport,
    i: int,
) -> np.ndarray | None:
    """One line's speech (condensed when it overflows), or None with the reason in ``rec.problems``."""
    rec.voice = tts.voice_name(voice)
    try:
        audio, speed = synthesize(tts, text, voice, seg.duration, options)
    except UnspeakableText as exc:
        rec.problems.append(f"cannot speak: {exc.problem}")
        return None
    except AnimError:
        raise
    except Exception as exc:  # a backend failure on one line must not sink the episode
        log.warning("TTS failed on line %d: %s", i, exc)
        rec.problems.append(f"TTS failed: {type(exc).__name__}: {exc}")
        return None
    if condenser is not None and len(audio) / SPEECH_SR > seg.duration * options.max_stretch + 1e-3:
        audio, speed = condensed(tts, condenser, text, voice, seg.duration, options, audio, speed, rec)
    rec.tts_speed = round(speed, 3)
    rec.natural_duration = round(len(audio) / SPEECH_SR, 3)
    return audio
