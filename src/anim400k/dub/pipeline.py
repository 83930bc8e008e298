"""The dubbing pipeline: segment → translate → speak → match voice → fit timing → mix → mux.

``dub(video, out, options)`` dubs a video file (adds an ``eng`` audio stream, marked
default); :func:`dub_audio` does the work on arrays and is shared with dataset mode.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from ..errors import AnimError, InputError
from ..mixing import fit_mix
from ..model import Segment
from ..signal import ANALYSIS_SR, resample
from ..signal import loudness as lufs
from ..translate.base import Line, Translator
from ..tts.base import Synthesizer, UnspeakableText, VoiceProfile
from . import mix as mixing
from .condense import Condenser, get_condenser
from .report import DubReport, LineReport
from .segment import speech_segments
from .timing import fade_out, plan_fit, stretch_and_shift
from .voice import pitch_stats, semitones_between, speaker_profiles

log = logging.getLogger(__name__)

#: Rate of the analysis (diarization, pitch, translation by listening).
#: Rate at which lines are synthesised, stretched and placed (resampled to the output rate once).
SPEECH_SR = 24000


class DubOptions(BaseModel):
    """Options of :func:`dub` (the CLI flags of ``anim400k dub``)."""

    stream: str | int = "jpn"
    subtitles: str | None = None
    translator: str = "subtitles"
    translations: str | None = None
    whisper_model: str | None = None
    tts: str = "neural"
    tts_model: str | None = None
    #: Torch/CTranslate2 device of the model backends (xtts, whisper, pyannote): ``cpu``, ``cuda``, ``cuda:1``.
    device: str = "cpu"
    separator: str = "hpss"
    separation_sr: int | None = 24000
    diarizer: str | None = "embedded"
    #: pyannote: the local pipeline ``config.yaml`` (or its folder); default ``ANIM400K_PYANNOTE_PIPELINE``.
    pipeline: str | None = None
    num_speakers: int | None = None
    min_stretch: float = Field(0.8, gt=0)
    max_stretch: float = Field(1.3, gt=0)
    min_tts_speed: float = Field(0.7, gt=0)
    max_tts_speed: float = Field(1.6, gt=0)
    #: Shorter wording for lines that overflow their slot at the fastest speed: ``rules`` (embedded),
    #: ``rules+trim``, ``none`` or ``package.module:function`` (see :mod:`anim400k.dub.condense`).
    condense: str = "rules"
    match_pitch: bool = True
    merge_gap: float = 0.3
    max_segment: float = 10.0
    min_segment: float = 0.3
    srt: str | None = None
    report: str | None = None
    stems: str | None = None
    #: Show a progress bar (stderr, on a terminal only): stages, then one step per spoken line.
    progress: bool = True


#: Stages of :func:`dub_audio`, each one step of its progress bar (plus one per line spoken).
STAGES = ("separate", "segment", "profile", "translate", "speak", "pitch", "fit", "mix")


def _progress_bar(enabled: bool) -> Any:
    """A bar over :data:`STAGES` (:func:`anim400k.progress.progress_bar`)."""
    from ..progress import progress_bar

    return progress_bar(enabled, total=len(STAGES), desc="dub", unit="step", leave=False)


@dataclass
class DubResult:
    """Arrays produced by :func:`dub_audio` (all at the input rate, same length as the input)."""

    audio: np.ndarray
    speech: np.ndarray
    backing: np.ndarray
    vocals: np.ndarray
    segments: list[Segment]
    report: DubReport
    extra: dict[str, Any] = field(default_factory=dict)


def _resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    return resample(x, sr_from, sr_to, "soxr_hq")


def separate(mix: np.ndarray, sr: int, name: str, work_sr: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vocals and backing of a single-track ``mix`` with the separation backend ``name``.

    With ``work_sr`` below ``sr`` the separator runs at ``work_sr`` (cheaper); the vocals are
    brought back to ``sr`` and the backing is ``mix - vocals``, so it keeps the full band.
    """
    from ..separate import get_separator

    n = len(mix)
    low = work_sr is not None and work_sr < sr
    src = _resample(mix, sr, work_sr) if low else mix
    stems = get_separator(name).separate(src, work_sr if low else sr)
    vocals = _fit(stems.vocals, len(src))
    if not low:
        return vocals, _fit(stems.backing, n)
    vocals = _fit(_resample(vocals, work_sr, sr), n)  # type: ignore[arg-type]
    return vocals, (mix - vocals).astype(np.float32)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)[:n]
    return np.pad(x, (0, n - len(x))) if len(x) < n else x


def find_segments(vocals16: np.ndarray, options: DubOptions) -> list[Segment]:
    """Single-speaker speech segments of the separated vocals (16 kHz) via the chosen diarizer.

    ``options.diarizer`` names an :mod:`anim400k.diarize` backend (default ``embedded``);
    ``None`` (``--diarizer none``) asks for one speaker over silero-vad speech regions.
    """
    if options.diarizer:
        from ..diarize import get_diarizer

        kwargs: dict[str, Any] = {"num_speakers": options.num_speakers} if options.num_speakers else {}
        if options.diarizer == "pyannote":
            kwargs["device"] = options.device
            if options.pipeline:
                kwargs["pipeline"] = options.pipeline
        turns: Sequence[Any] = get_diarizer(options.diarizer, **kwargs).diarize(vocals16, ANALYSIS_SR)
    else:  # asked for one speaker: voice activity (silero-vad) on the vocals
        from ..diarize.vad import speech_regions

        turns = [(a, b, "spk0") for a, b in speech_regions(vocals16, ANALYSIS_SR)]
    return speech_segments(turns, vocals16, ANALYSIS_SR, options.merge_gap, options.max_segment, options.min_segment)


#: How far (relative) a line spoken at an estimated speed may miss its slot before it is spoken
#: again: 20 %, within what time fitting's 0.8-1.3x stretch does well (a Kokoro line costs ~1 s).
ESTIMATE_TOLERANCE = 0.2


def _synthesize(
    tts: Synthesizer, text: str, voice: VoiceProfile | None, slot: float, options: DubOptions
) -> tuple[np.ndarray, float]:
    """Speak ``text``; when it is more than 10 % off its slot, speak it again at the TTS speed
    that fits (within the TTS speed bounds): native rate control sounds better than stretching.

    A backend with ``estimate_seconds(text, voice)`` (the neural voices: an estimate from a
    50x-real-time model) is asked for the natural length first and speaks the line at the speed
    that estimate calls for; only when the estimate was off (the speech is still more than
    :data:`ESTIMATE_TOLERANCE` off its slot, beyond what time fitting does well, and another speed
    would help) is the line spoken a second time."""
    estimate = getattr(tts, "estimate_seconds", None)
    natural = estimate(text, voice) if callable(estimate) else None
    speed = 1.0
    if natural:
        speed = _fitting_speed(natural / max(slot, 1e-3), options)
    audio = tts.synthesize(text, voice, SPEECH_SR, speed=speed)
    need = len(audio) / SPEECH_SR / max(slot, 1e-3) * speed  # natural length / slot
    again = _fitting_speed(need, options)
    tolerance = ESTIMATE_TOLERANCE if natural else 0.1
    if abs(len(audio) / SPEECH_SR / max(slot, 1e-3) - 1.0) <= tolerance or abs(again - speed) < 0.05:
        return audio, speed
    return tts.synthesize(text, voice, SPEECH_SR, speed=again), again


def _fitting_speed(need: float, options: DubOptions) -> float:
    """The TTS speed for a line ``need`` times longer than its slot at speed 1 (1 when within 10 %)."""
    speed = float(np.clip(need, options.min_tts_speed, options.max_tts_speed))
    return 1.0 if abs(need - 1.0) <= 0.1 or abs(speed - 1.0) < 0.05 else speed


#: How many times a line is re-worded when the first shorter wording still does not fit.
CONDENSE_ROUNDS = 3


def _condensed(
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
            audio2, speed2 = _synthesize(tts, shorter, voice, slot, options)
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


def dub_audio(
    mix: np.ndarray,
    sr: int,
    translator: Translator,
    tts: Synthesizer,
    options: DubOptions | None = None,
    source: str = "",
) -> DubResult:
    """Dub one mono source track ``mix`` (float32 at ``sr``); returns the dubbed track and a report."""
    options = options or DubOptions()
    with _progress_bar(options.progress) as bar:
        return _dub_audio(mix, sr, translator, tts, options, source, bar)


def _dub_audio(
    mix: np.ndarray, sr: int, translator: Translator, tts: Synthesizer, options: DubOptions, source: str, bar: Any
) -> DubResult:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    bar.set_postfix_str(STAGES[0])

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        t0 = now
        bar.update(1)
        following = STAGES.index(name) + 1
        if following < len(STAGES):
            bar.set_postfix_str(STAGES[following])

    mix = np.asarray(mix, dtype=np.float32)
    n = len(mix)
    duration = n / sr
    report = DubReport(
        source=source,
        output=None,
        duration=duration,
        sample_rate=sr,
        tts=tts.name,
        translator=translator.name,
        diarizer=options.diarizer or "none",
    )
    vocals, backing = separate(mix, sr, options.separator, options.separation_sr)
    lap("separate")
    vocals16 = _resample(vocals, sr, ANALYSIS_SR)
    segments = find_segments(vocals16, options) if n >= sr // 2 else []
    lap("segment")
    profiles = speaker_profiles(vocals16, ANALYSIS_SR, segments) if options.match_pitch or tts.name != "espeak" else {}
    speaker_index: dict[str | None, int] = {}
    for seg in segments:  # speakers by first appearance: one stable voice each
        speaker_index.setdefault(seg.speaker, len(speaker_index))
    lap("profile")
    lines: list[Line] = translator.translate(segments, vocals16, ANALYSIS_SR) if segments else []
    lap("translate")
    if not segments:
        report.problems.append("no speech found in the source audio; nothing to dub")

    # speak every line
    condenser = get_condenser(options.condense)
    spoken: dict[int, np.ndarray] = {}
    bar.total = len(STAGES) + len(segments)
    bar.refresh()
    for i, (seg, line) in enumerate(zip(segments, lines, strict=True)):
        bar.update(1)
        rec = LineReport(i, seg.speaker, round(seg.start, 3), round(seg.end, 3), line.text, line.source_text)
        report.lines.append(rec)
        if line.problem:
            rec.problems.append(line.problem)
        if not line.text:
            continue
        voice = profiles.get(seg.speaker or "") or VoiceProfile(seg.speaker or "spk", speaker_index.get(seg.speaker, 0))
        rec.voice = tts.voice_name(voice)
        try:
            audio, speed = _synthesize(tts, line.text, voice, seg.duration, options)
        except UnspeakableText as exc:
            rec.problems.append(f"cannot speak: {exc.problem}")
            continue
        except AnimError:
            raise
        except Exception as exc:  # a backend failure on one line must not sink the episode
            log.warning("TTS failed on line %d: %s", i, exc)
            rec.problems.append(f"TTS failed: {type(exc).__name__}: {exc}")
            continue
        if condenser is not None and len(audio) / SPEECH_SR > seg.duration * options.max_stretch + 1e-3:
            audio, speed = _condensed(tts, condenser, line.text, voice, seg.duration, options, audio, speed, rec)
        spoken[i] = audio
        rec.tts_speed = round(speed, 3)
        rec.natural_duration = round(len(audio) / SPEECH_SR, 3)
    lap("speak")

    # one pitch shift per speaker: pooled synthesized pitch -> pooled source pitch
    shifts: dict[str | None, float] = {}
    if options.match_pitch:
        for spk, prof in profiles.items():
            pooled = [spoken[i] for i in spoken if segments[i].speaker == spk]
            if not pooled or prof.f0_median is None:
                continue
            stats = pitch_stats(np.concatenate(pooled), SPEECH_SR, max_seconds=8.0)
            shifts[spk] = semitones_between(stats[0] if stats else None, prof.f0_median)
    lap("pitch")

    # fit timing and place each line at its slot's mixing ratio over the backing
    speech = np.zeros(int(np.ceil(duration * SPEECH_SR)) + 1, dtype=np.float32)
    order = sorted(spoken)
    fits = mixing.source_ratios(mix, vocals, backing, sr, segments)
    speech_lufs = [lufs(vocals[int(s.start * sr) : int(s.end * sr)], sr) for s in segments]
    audible = [v for v in speech_lufs if v > mixing.SILENT_LUFS]
    fallback_lufs = float(np.median(audible)) if audible else -23.0
    for k, i in enumerate(order):
        seg, rec, audio = segments[i], report.lines[i], spoken[i]
        limit = segments[order[k + 1]].start if k + 1 < len(order) else duration
        fit = plan_fit(len(audio) / SPEECH_SR, seg.start, seg.end, limit, options.min_stretch, options.max_stretch)
        semis = shifts.get(seg.speaker, 0.0)
        out_len = int(round(fit.length * SPEECH_SR))
        y = stretch_and_shift(audio, SPEECH_SR, fit.stretch, semis, out_len)
        placed = int(round(fit.placed * SPEECH_SR))
        if fit.truncated:
            y = fade_out(y[:placed], SPEECH_SR)
            rec.problems.append(
                f"does not fit: {fit.length:.2f} s of speech after {fit.stretch:.2f}x in a "
                f"{seg.duration:.2f} s slot with {max(0.0, limit - seg.start):.2f} s of room; cut"
            )
        elif fit.overflow:
            rec.problems.append(f"overflows its slot by {fit.length - seg.duration:.2f} s (spills into silence)")
        a = int(round(seg.start * SPEECH_SR))
        y = y[: max(0, len(speech) - a)]
        b0, b1 = int(round(seg.start * sr)), int(round(seg.start * sr + len(y) * sr / SPEECH_SR))
        slot_lufs = speech_lufs[i] if speech_lufs[i] > mixing.SILENT_LUFS else fallback_lufs
        gain_db = mixing.line_gain_db(y, backing[b0:b1], fits[i].ratio_db, SPEECH_SR, slot_lufs, backing_sr=sr)
        speech[a : a + len(y)] += np.float32(10 ** (gain_db / 20)) * y
        rec.speech_start = round(a / SPEECH_SR, 4)
        rec.speech_end = round((a + len(y)) / SPEECH_SR, 4)
        rec.stretch = round(fit.stretch, 3)
        rec.pitch_shift = round(semis, 2)
        rec.gain_db = round(gain_db, 2)
        rec.source_ratio_db = round(fits[i].ratio_db, 2)
        rec.overflow = fit.overflow
        rec.truncated = fit.truncated
    lap("fit")

    speech_out = _resample(speech, SPEECH_SR, sr)
    speech_out = np.pad(speech_out[:n], (0, max(0, n - len(speech_out))))
    report.source_lufs = lufs(mix, sr)
    dubbed, _ = mixing.master(backing + speech_out, sr, report.source_lufs)
    for rec in report.spoken_lines:  # the ratio the listener gets (after mastering)
        a, b = int(round(rec.speech_start * sr)), int(round(rec.speech_end * sr))
        if b - a > 0:
            rec.dub_ratio_db = round(fit_mix(dubbed[a:b], speech_out[a:b], backing[a:b], sr).ratio_db, 2)
    report.output_lufs = lufs(dubbed, sr)
    lap("mix")
    report.seconds = timings
    return DubResult(dubbed, speech_out, backing, vocals, segments, report)


def make_translator(options: DubOptions, video: str | Path | None = None) -> Translator:
    """The translation backend the options ask for (subtitles from a file or the video's subtitle stream)."""
    from ..translate import get_translator

    if options.translator == "subtitles":
        if options.subtitles:
            return get_translator("subtitles", subtitles=options.subtitles)
        if video is not None:
            from ..media import probe

            info = probe(video)
            if info.subtitle_streams:
                from ..formats.subtitles import read_subtitle_stream

                streams = info.subtitle_streams
                eng = [s for s in streams if (s.language or "").startswith("en")] or streams
                # read_subtitle_stream counts subtitle streams only, not the container's streams
                chosen = streams.index(eng[0])
                return get_translator("subtitles", subtitles=read_subtitle_stream(video, chosen))
        raise InputError("no EN subtitles: give --subtitles, or use --translator whisper or text", video)
    if options.translator == "text":
        if not options.translations:
            raise InputError("--translator text needs --translations T.json", video)
        return get_translator("text", translations=options.translations)
    if options.translator == "whisper":
        return get_translator("whisper", model=options.whisper_model, device=options.device)
    return get_translator(options.translator)


def make_synthesizer(options: DubOptions) -> Synthesizer:
    """The TTS backend the options ask for."""
    from ..tts import get_synthesizer

    if options.tts == "xtts":
        return get_synthesizer("xtts", model_path=options.tts_model, device=options.device)
    return get_synthesizer(options.tts)


def _check_coverage(translator: Translator, duration: float, report: DubReport, path: str) -> None:
    coverage = getattr(translator, "coverage", None)
    if not callable(coverage):
        return
    span = coverage()
    if span is None:
        report.problems.append(f"{path}: the subtitles are empty; no line can be translated")
        return
    start, end = span
    if start >= duration:
        report.problems.append(f"{path}: the subtitles start at {start:.1f} s, after the {duration:.1f} s audio ends")
    elif end < duration - 5.0 or start > 5.0:
        report.problems.append(
            f"{path}: the subtitles cover only {start:.1f}-{end:.1f} s of the {duration:.1f} s audio"
        )


def dub(video: str | Path, out: str | Path, options: DubOptions | None = None, **overrides: Any) -> DubReport:
    """Dub ``video`` into EN and write ``out``: the original streams plus a default ``eng`` audio stream.

    Also writes the SRT of what was spoken (``options.srt``), the JSON report
    (``options.report``) and the stems (``options.stems``) when asked.
    """
    from ..media import decode_audio, mux_audio_track, probe, select_audio_stream, write_audio

    options = (options or DubOptions()).model_copy(update=overrides)
    video = Path(video)
    if not video.is_file():
        raise InputError("video not found", video)
    if options.min_stretch > 1.0 or options.max_stretch < 1.0:
        raise InputError(f"stretch bounds must include 1.0 (got {options.min_stretch}-{options.max_stretch})")
    get_condenser(options.condense)  # a bad name fails before any work
    info = probe(video)
    if not info.audio_streams:
        raise InputError("the video has no audio stream to dub", video)
    problems: list[str] = []
    try:
        stream = select_audio_stream(info, options.stream)
    except InputError:
        if options.stream != "jpn":
            raise
        stream = info.audio_streams[0]
        problems.append(f"no 'jpn' audio stream; dubbed the first audio stream ({stream.language or 'und'})")
    sr = int(stream.sample_rate or 48000)
    audio_index = info.audio_streams.index(stream)
    translator = make_translator(options, video)
    tts = make_synthesizer(options)
    t_start = time.perf_counter()
    mix = decode_audio(video, audio_index, sr=sr, mono=True)
    decode_s = time.perf_counter() - t_start
    result = dub_audio(mix, sr, translator, tts, options, source=str(video))
    report = result.report
    report.problems[:0] = problems
    _check_coverage(translator, report.duration, report, options.subtitles or str(video))
    t_mux = time.perf_counter()
    mux_audio_track(video, result.audio, sr, out, language="eng", default=True, title="English (dub)")
    report.output = str(out)
    report.seconds = {
        "decode": round(decode_s, 3),
        **report.seconds,
        "mux": round(time.perf_counter() - t_mux, 3),
    }
    if options.stems:
        stems = Path(options.stems)
        for name, x in (
            ("backing", result.backing),
            ("vocals", result.vocals),
            ("dub_speech", result.speech),
            ("dub_mix", result.audio),
        ):
            write_audio(stems / f"{name}.wav", x, sr)
    if options.srt:
        report.write_srt(options.srt)
    if options.report:
        report.write_json(options.report)
    return report
