"""The dubbing pipeline: segment → translate → speak → match voice → fit timing → mix → mux.

``dub(video, out, options)`` dubs a video file (adds an ``eng`` audio stream, marked
default); :func:`dub_audio` does the work on arrays and is shared with dataset mode. The
stages live in their own modules: :mod:`.speak` (speak each line at a fitting speed, condense
overflowing ones) and :mod:`.place` (pitch per speaker, time fitting, placement, mastering).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fsutil.atomic import write_text_atomic
from ..fsutil.no_clobber import unmarked_file
from ..fsutil.output_sets import committed_together
from ..model import Segment
from ..progress import Reporter
from ..signal import ANALYSIS_SR, resample_streamed
from ..signal import loudness as lufs
from ..translate.base import Line, Translator
from ..tts.base import Synthesizer
from .condense import get_condenser
from .mix import SILENT_LUFS, Parts, gate_vocals
from .options import DubOptions
from .place import mix_down, pitch_shifts, place_lines, speech_at
from .report import REPORT_KEYS, DubReport
from .segment import speech_segments, speech_spans
from .speak import speak_lines
from .subtitle_slots import add_subtitle_slots
from .views import DUB_TITLE, is_dub_title  # DUB_TITLE: the dub track's title (a second dub: "English (dub 2)")
from .voice import mixed_register_speakers, speaker_profiles

log = logging.getLogger(__name__)


#: Stages of :func:`dub_audio`, each one step of its progress bar (plus one per line spoken and one per line placed).
STAGES = ("separate", "segment", "profile", "translate", "speak", "pitch", "fit", "mix")
#: The steps of :func:`dub`'s bar around :data:`STAGES`: the source decoded before them, the file written after
#: (on a 24-minute episode 7-13 s and 37-51 s that the bar did not show: it appeared after the decode and was
#: gone while the video was written).
FILE_STAGES = ("decode", *STAGES, "mux")


def _progress_bar(enabled: bool, stages: Sequence[str] = STAGES) -> Any:
    """A bar over ``stages`` (:func:`anim400k.progress.progress_bar`)."""
    from ..progress import progress_bar

    return progress_bar(enabled, total=len(stages), desc="dub", unit="step", leave=False)


@dataclass
class DubResult:
    """Arrays produced by :func:`dub_audio` (all at the input rate, same length as the input); the stems
    (``speech``, ``backing``, ``vocals``) are None unless asked for (``keep_stems``)."""

    audio: np.ndarray
    speech: np.ndarray | None
    backing: np.ndarray | None
    vocals: np.ndarray | None
    segments: list[Segment]
    report: DubReport
    extra: dict[str, Any] = field(default_factory=dict)


def _resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """``signal.resample(x, sr_from, sr_to, "soxr_hq")``, streamed (the same samples, bounded memory)."""
    return resample_streamed(x, sr_from, sr_to)


def separate(mix: np.ndarray, sr: int, name: str, work_sr: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Vocals and backing of a single-track ``mix`` with the separation backend ``name``.

    With ``work_sr`` below ``sr`` the separator runs at ``work_sr`` (cheaper); the vocals are
    brought back to ``sr`` and the backing is ``mix - vocals``, so it keeps the full band.
    """
    vocals, backing = _separate(mix, sr, name, work_sr)
    return vocals, backing.materialize() if isinstance(backing, Parts) else backing


def _separate(mix: np.ndarray, sr: int, name: str, work_sr: int | None) -> tuple[np.ndarray, np.ndarray | Parts]:
    """:func:`separate` with a backing ``mix - vocals`` left as :class:`Parts` (read a slice at a time,
    one full-length array fewer while the lines are found, spoken and placed)."""
    from ..separate import get_separator

    n = len(mix)
    low = work_sr is not None and work_sr < sr
    src = _resample(mix, sr, work_sr) if low else mix
    stems = get_separator(name).separate(src, work_sr if low else sr)
    vocals = _fit(stems.vocals, len(src))
    if not low:
        return vocals, _fit(stems.backing, n)
    del src, stems  # only the low-rate vocals are needed to make the full-rate ones
    vocals = _fit(_resample(vocals, work_sr, sr), n)  # type: ignore[arg-type]
    return vocals, Parts((mix, vocals), (1, -1))


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)[:n]
    return np.pad(x, (0, n - len(x))) if len(x) < n else x


#: Loudness (LUFS) the source mix is brought to for the analysis stems (segments, speakers, Whisper): EBU R128's
#: programme level, so that a quiet source is segmented as a normal one.
ANALYSIS_LUFS = -23.0


def analysis_vocals(vocals: np.ndarray, sr: int, mix_lufs: float) -> np.ndarray:
    """The vocals at :data:`ANALYSIS_SR`, scaled as a mix of loudness ``mix_lufs`` brought to :data:`ANALYSIS_LUFS`.

    Voice activity (silero-vad) and the diarizers depend on the level: a source 35 dB quieter than the demo's
    (-54 LUFS) gave 27 segments instead of 26 and a line without text. The gain is that of the mix (not of the
    vocals, which may be mostly silence); a silent mix is left as it is. Only the analysis is scaled: the dub
    is placed on the source's own stems and mastered to its loudness.
    """
    vocals16 = _resample(vocals, sr, ANALYSIS_SR)
    if mix_lufs > SILENT_LUFS:
        vocals16 = vocals16 * np.float32(10 ** ((ANALYSIS_LUFS - mix_lufs) / 20))  # a copy: never the caller's
    return vocals16


def find_segments(vocals16: np.ndarray, options: DubOptions, subtitles: Sequence[Any] | None = None,
                  report: Reporter | None = None, other: np.ndarray | None = None) -> list[Segment]:
    """Single-speaker speech segments of the JP speech ``vocals16`` (16 kHz) via the chosen diarizer.

    ``options.diarizer`` names an :mod:`anim400k.diarize` backend (default ``embedded``);
    ``None`` (``--diarizer none``) asks for one speaker over silero-vad speech regions. ``subtitles``
    (the EN subtitle events of the source, on its timeline) go to a diarizer that takes them as
    speaker cues (``uses_subtitles``), ``other`` (the EN speech on the same timeline and rate,
    :mod:`.views`) to one that takes a second view of each speaker (``uses_other_track``), as the
    build's diarize stage passes them. ``report`` hears the diarizer's steps, when it reports them
    (:func:`~anim400k.progress.accepts_report`).
    """
    if options.diarizer:
        from ..diarize import get_diarizer
        from ..progress import accepts_report

        kwargs: dict[str, Any] = {"num_speakers": options.num_speakers} if options.num_speakers else {}
        if options.diarizer == "pyannote":
            kwargs["device"] = options.device
        model = options.diarizer_model_path()
        if model and options.diarizer in ("anime", "pyannote"):
            kwargs["model" if options.diarizer == "anime" else "pipeline"] = model
        diarizer = get_diarizer(options.diarizer, **kwargs)
        extra: dict[str, Any] = {"report": report} if report is not None and accepts_report(diarizer.diarize) else {}
        if subtitles and getattr(diarizer, "uses_subtitles", False):
            extra["subtitles"] = list(subtitles)
        if other is not None and getattr(diarizer, "uses_other_track", False):
            extra["other"] = other
        turns: Sequence[Any] = diarizer.diarize(vocals16, ANALYSIS_SR, **extra)
    else:  # asked for one speaker: voice activity (silero-vad) on the vocals
        from ..diarize.vad import speech_regions

        turns = [(a, b, "spk0") for a, b in speech_regions(vocals16, ANALYSIS_SR)]
    return speech_segments(turns, vocals16, ANALYSIS_SR, options.merge_gap, options.max_segment, options.min_segment)


def subtitle_spans(translator: Translator, duration: float) -> list[tuple[float, float]]:
    """The time of each subtitle event of a ``subtitles`` translator (its dialogue), within the audio; [] for others."""
    subs = getattr(translator, "subtitles", None) or []
    return [(max(0.0, s.start), min(duration, s.end)) for s in subs if s.end > 0 and s.start < duration]


def _segments(mix: np.ndarray, sr: int, mix_lufs: float, vocals16: np.ndarray, other_mix: np.ndarray | None,
              options: DubOptions, translator: Translator, say: Reporter, report: DubReport) -> list[Segment]:
    """:func:`find_segments` on the dual-track views of ``mix`` and ``other_mix`` (:func:`dub_audio`), else on
    ``vocals16``; a fallback of the separation is a problem of the ``report``."""
    subtitles = getattr(translator, "subtitles", None)
    if other_mix is None:
        return find_segments(vocals16, options, subtitles, say)
    from .views import diarization_views

    gain = np.float32(10 ** ((ANALYSIS_LUFS - mix_lufs) / 20)) if mix_lufs > SILENT_LUFS else np.float32(1.0)
    views = diarization_views(_resample(mix, sr, ANALYSIS_SR) * gain, other_mix * gain, ANALYSIS_SR)
    if views.speech is None:
        report.problems.append(f"the EN track was not used as a second view of the speakers ({views.why}): "
                               "the speakers were found in the Japanese vocals alone")
        return find_segments(vocals16, options, subtitles, say)
    return find_segments(views.speech, options, subtitles, say, other=views.other)


def dub_audio(
    mix: np.ndarray,
    sr: int,
    translator: Translator,
    tts: Synthesizer,
    options: DubOptions | None = None,
    source: str = "",
    *,
    source_lufs: float | None = None,
    out_channels: int = 1,
    require_speech: bool = False,
    keep_stems: bool = True,
    bar: Any = None,
    other_mix: np.ndarray | None = None,
) -> DubResult:
    """Dub one mono source track ``mix`` (float32 at ``sr``); returns the dubbed track and a report.

    The dubbed track is mono; it is mastered so that ``out_channels`` copies of it (the channels of
    the track that will be written) have the loudness ``source_lufs`` (the source's BS.1770 loudness
    over its own channels; default: that of ``mix``). With ``require_speech`` a source in which no
    speech is found raises :class:`InputError` (naming ``source``) right after segmentation;
    otherwise it is a problem of the report and the dub is the backing alone. Without ``keep_stems`` the
    result holds the dubbed track only, and the source, its stems and the speech track are let go as soon
    as they are no longer needed (when the caller holds no reference to ``mix``, see :func:`dub`).
    ``bar`` (optional): a progress bar of the caller's (:func:`dub`'s, whose steps include these stages) to
    advance instead of a bar of its own. ``other_mix`` (optional): the source's EN dub track, mono at
    :data:`~anim400k.signal.ANALYSIS_SR` on ``mix``'s timeline: the diarizer then hears the JP speech of the
    dual-track separation with the EN speech as a second view of each speaker, as the build's diarize stage
    does (:mod:`.views`); without it, or when that separation falls back (said in the report's problems), the
    single-track separator's vocals alone.
    """
    options = options or DubOptions()
    held = [mix]
    del mix  # _dub_audio holds the only reference of this frame's (see keep_stems)
    with _progress_bar(options.progress) if bar is None else contextlib.nullcontext(bar) as shown:
        return _dub_audio(held, sr, translator, tts, options, source, shown, source_lufs, out_channels,
                          require_speech, keep_stems, other_mix)


def _dub_audio(
    held: list[np.ndarray], sr: int, translator: Translator, tts: Synthesizer, options: DubOptions, source: str,
    bar: Any, source_lufs: float | None = None, out_channels: int = 1, require_speech: bool = False,
    keep_stems: bool = True, other_mix: np.ndarray | None = None,
) -> DubResult:
    """:func:`dub_audio` of ``held``'s one array (taken out of the list, so that it can be let go)."""
    laps = _Laps(bar)
    mix = np.asarray(held.pop(), dtype=np.float32)
    n = len(mix)
    if source_lufs is None:
        source_lufs = lufs(mix, sr)
    report = DubReport(
        source=source,
        output=None,
        duration=n / sr,
        sample_rate=sr,
        tts=tts.name,
        translator=translator.name,
        translator_model=getattr(translator, "model_name", None),
        diarizer=options.diarizer or "none",
    )
    vocals, backing = _separate(mix, sr, options.separator, options.separation_sr)
    laps.lap("separate")
    mix_lufs = lufs(mix, sr)
    vocals16 = analysis_vocals(vocals, sr, mix_lufs)
    # the diarizer's steps in the bar (a 24-minute episode's segment stage: 50-75 s)
    say = laps.substep("segment")
    segments = _segments(mix, sr, mix_lufs, vocals16, other_mix, options, translator, say, report) \
        if n >= sr // 2 else []
    del other_mix
    if segments and getattr(translator, "subtitles", None):  # every subtitle line voiced: slots for the missed ones
        segments, slot_problems = add_subtitle_slots(segments, translator.subtitles,  # type: ignore[attr-defined]
                                                     n / sr)
        report.problems += slot_problems
    if not segments and require_speech:
        raise InputError("no speech found in the source audio; nothing to dub", source or None)
    # the backing is the source mix wherever no speech was found (the separator's "vocals" hold music there)
    gate_vocals(vocals, sr, speech_spans(segments, vocals16, ANALYSIS_SR, subtitles=subtitle_spans(translator, n / sr)))
    backing = Parts((mix, vocals), (1, -1))
    laps.lap("segment")
    profiles = speaker_profiles(vocals16, ANALYSIS_SR, segments) if options.match_pitch or tts.name != "espeak" else {}
    mixed = mixed_register_speakers(vocals16, ANALYSIS_SR, segments) if profiles else {}
    laps.lap("profile")
    lines: list[Line] = translator.translate(segments, vocals16, ANALYSIS_SR) if segments else []
    del vocals16
    laps.lap("translate")
    if not segments:
        report.problems.append("no speech found in the source audio; nothing to dub")
    bar.total += len(segments)  # one more step per line spoken
    bar.refresh()
    spoken = speak_lines(segments, lines, profiles, tts, get_condenser(options.condense), options, report, bar)
    _say_mixed_registers(mixed, report)
    laps.lap("speak")
    bar.total += len(spoken)  # and one per line placed (the fit of a 24-minute episode: 40 s)
    bar.refresh()
    shifts = pitch_shifts(profiles, spoken, segments) if options.match_pitch else {}
    laps.lap("pitch")
    speech = place_lines(mix, vocals, backing, sr, segments, spoken, shifts, options, report, on_line=bar.update)
    del spoken
    laps.lap("fit")
    if isinstance(backing, Parts):  # one array instead of the two it is read from
        # without stems the vocals are needed no more: their buffer takes the backing (no third track)
        backing = backing.materialize(out=None if keep_stems else vocals)
    if not keep_stems:
        del mix, vocals
    speech_out = speech_at(speech, sr, n)
    del speech
    dubbed = mix_down(backing, speech_out, sr, report, source_lufs, out_channels)
    laps.lap("mix")
    report.seconds = laps.timings
    if not keep_stems:
        return DubResult(dubbed, None, None, None, segments, report)
    return DubResult(dubbed, speech_out, backing, vocals, segments, report)


class _Laps:
    """Seconds per stage of :data:`STAGES`, each finished stage one step of the progress ``bar``."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.timings: dict[str, float] = {}
        self._t0 = time.perf_counter()
        bar.set_postfix_str(STAGES[0])

    def substep(self, name: str) -> Reporter:
        """A :data:`~anim400k.progress.Reporter` that shows how far stage ``name`` is (``segment 3/7``)."""

        def say(done: float, total: float, unit: str) -> None:
            self.bar.set_postfix_str(f"{name} {done:.0f}/{total:.0f}" + ("" if unit == "step" else f" {unit}"))

        return say

    def lap(self, name: str) -> None:
        """Stage ``name`` is done: record its time, advance the bar, name the next stage."""
        now = time.perf_counter()
        self.timings[name] = round(now - self._t0, 3)
        self._t0 = now
        self.bar.update(1)
        following = STAGES.index(name) + 1
        if following < len(STAGES):
            self.bar.set_postfix_str(STAGES[following])


def make_translator(options: DubOptions, video: str | Path | None = None) -> Translator:
    """The translation backend the options ask for (subtitles from a file or the video's subtitle stream);
    ``auto`` resolved as :func:`choose_translator` does."""
    return choose_translator(options, video)[0]


def choose_translator(options: DubOptions, video: str | Path | None = None) -> tuple[Translator, str | None]:
    """The translation backend the options ask for and, for ``auto``, a note saying which one it is and why.

    ``auto`` (the default): ``text`` when ``--translations`` is given; else ``subtitles`` when there are EN
    subtitles (``--subtitles``, or the video's English dialogue stream, picked as for ``subtitles``); else
    ``whisper`` (``--whisper-model``'s model, or the embedded Whisper base), with a note naming why
    (no subtitle stream, none usable, an empty one) and the model. A named translator is built as asked
    (its missing inputs are one-line errors naming the flag).
    """
    if options.translator != "auto":
        return _named_translator(options.translator, options, video), None
    if options.translations:
        return _named_translator("text", options, video), None
    if options.subtitles:
        return _named_translator("subtitles", options, video), None
    why = _video_subtitles_missing(video)
    if why is None:
        translator = _named_translator("subtitles", options, video)
        coverage = getattr(translator, "coverage", None)
        if not (callable(coverage) and coverage() is None):
            return translator, None
        why = "its English subtitle stream holds no event"
    whisper = _named_translator("whisper", options, video)
    model = (f"--whisper-model {options.whisper_model}" if options.whisper_model
             else "the embedded Whisper base (weak: give --subtitles or --whisper-model DIR for better lines)")
    return whisper, (f"{video or 'the audio'}: no EN subtitles ({why}; no --subtitles): the Japanese speech is "
                     f"translated by Whisper's translate task with {model} (--translator auto)")


def _video_subtitles_missing(video: str | Path | None) -> str | None:
    """Why ``video`` has no English subtitle stream to read (None: it has one, or a text stream to try)."""
    if video is None:
        return "no video"
    from ..formats.subtitles import pick_subtitle_stream
    from ..media import probe

    if not probe(video).subtitle_streams:
        return "the video has no subtitle stream"
    try:
        pick_subtitle_stream(video, None, None)
    except InputError as exc:
        return exc.problem
    return None


def _named_translator(name: str, options: DubOptions, video: str | Path | None) -> Translator:
    """The translation backend ``name`` built from ``options`` (subtitles read from the file or the video)."""
    from ..translate import get_translator

    if name == "subtitles":
        from ..formats.subtitles import is_media_file, read_subtitle_stream_chosen

        if options.subtitles:
            if not (Path(options.subtitles).is_file() and is_media_file(options.subtitles)):
                return get_translator("subtitles", subtitles=options.subtitles)
            # a media file (an MKV, a .mks): its English dialogue stream, as the build picks it, not the first
            read, _, chosen = read_subtitle_stream_chosen(options.subtitles, None, None, describe=True)
            log.warning("%s: %s", options.subtitles, chosen)
            return get_translator("subtitles", subtitles=read.events)
        if video is not None:
            from ..media import probe

            if probe(video).subtitle_streams:
                try:  # the English dialogue stream (not a forced, signs-and-songs or SDH one); bitmap ones refused
                    read, _, chosen = read_subtitle_stream_chosen(video, None, None, describe=True)
                except InputError as exc:
                    raise InputError(f"{exc.problem}; give --subtitles, or use --translator auto, whisper or text",
                                     exc.path) from exc
                log.warning("%s: %s", video, chosen)
                return get_translator("subtitles", subtitles=read.events)
        raise InputError("no EN subtitles: give --subtitles, or use --translator auto, whisper or text", video)
    if name == "text":
        if not options.translations:
            raise InputError("--translator text needs --translations T.json", video)
        return get_translator("text", translations=options.translations)
    if name == "whisper":
        return get_translator("whisper", model=options.whisper_model, device=options.device)
    return get_translator(name)


#: The ``anim400k dub`` flag that gives each backend's model (for :func:`anim400k.errors.backend_flags`).
DUB_FLAGS = {"whisper": "--whisper-model", "faster-whisper": "--whisper-model", "xtts": "--tts-model",
             "anime": "--diarizer-model", "pyannote": "--pipeline"}


def check_backends(options: DubOptions) -> None:
    """Check the diarizer's package and local model before any work (it is built only after the
    separation); the translator and the TTS are built, and so checked, before the audio is decoded. A model
    option no backend of the dub uses (``--tts-model`` beside hibari, ``--diarizer-model`` beside the embedded
    diarizer, ``--whisper-model`` beside the subtitles translator) and ``--device cuda`` on a machine without a
    CUDA GPU are refused, as ``anim400k build`` refuses them: they were ignored."""
    from ..dataset.preflight import check_cuda

    if options.tts_model and options.tts != "xtts":
        raise InputError(f"--tts-model applies to --tts xtts, not '{options.tts}'")
    diarizer = options.diarizer or "none"
    if options.diarizer_model and diarizer not in ("anime", "pyannote"):
        raise InputError(f"--diarizer-model applies to --diarizer anime or pyannote, not '{diarizer}'")
    if options.pipeline and diarizer != "pyannote":
        raise InputError(f"--pipeline applies to --diarizer pyannote, not '{diarizer}'")
    if options.whisper_model and options.translator in ("subtitles", "text"):
        raise InputError(f"--whisper-model applies to --translator whisper or auto, not '{options.translator}'")
    if options.device.startswith("cuda"):
        check_cuda(options.device)
    if options.diarizer:
        from ..diarize import check_diarizer

        check_diarizer(options.diarizer, options.diarizer_model_path())


def make_synthesizer(options: DubOptions) -> Synthesizer:
    """The TTS backend the options ask for."""
    from ..tts import get_synthesizer

    if options.tts == "xtts":
        return get_synthesizer("xtts", model_path=options.tts_model, device=options.device)
    return get_synthesizer(options.tts)


def _refuse_empty_subtitles(translator: Translator, path: str) -> None:
    """Raise :class:`InputError` when the translator's subtitles hold no event (a dub would be the backing alone)."""
    coverage = getattr(translator, "coverage", None)
    if callable(coverage) and coverage() is None:
        raise InputError("the subtitles hold no event: no line can be translated (a dub would be the backing "
                         "alone); nothing written", path)


def _say_mixed_registers(mixed: dict[str, tuple[float, float]], report: DubReport) -> None:
    """A report problem (and a warning) per speaker whose lines are in registers too far apart for one voice."""
    for spk, (low, high) in mixed.items():
        voices = sorted({ln.voice for ln in report.lines if ln.speaker == spk and ln.voice})
        problem = (f"speaker {spk}'s lines range in pitch from {low:.0f} to {high:.0f} Hz (median per line): "
                   f"probably several characters merged by the diarizer, all dubbed with one voice "
                   f"({', '.join(voices) or 'none'}); try --num-speakers N or another --diarizer")
        log.warning("%s", problem)
        report.problems.append(problem)


def _first_problem(report: DubReport) -> str:
    """The report's first line problem, shortened for a one-line error."""
    for ln in report.lines:
        for p in ln.problems:
            return str(p)[:120]
    return report.problems[-1][:120] if report.problems else "see the log"


def _coverage_problem(translator: Translator, duration: float) -> str | None:
    """How the subtitles fail to cover the ``duration`` s audio (None: they cover it, or there are none to
    check: empty subtitles are refused before the work, other translators have no coverage)."""
    coverage = getattr(translator, "coverage", None)
    span = coverage() if callable(coverage) else None
    if span is None:
        return None
    start, end = span
    if start >= duration:
        return f"the subtitles start at {start:.1f} s, after the {duration:.1f} s audio ends"
    if end < duration - 5.0 or start > 5.0:
        return f"the subtitles cover only {start:.1f}-{end:.1f} s of the {duration:.1f} s audio"
    return None


def dub_title(info: Any) -> tuple[str, str | None]:
    """The new track's title for the probed ``info`` and a warning when the file holds earlier dubs.

    Dubbing a dubbed file keeps every stream (the earlier dub included) and adds a track with a title
    of its own: ``English (dub 2)`` beside ``English (dub)``, so the two can be told apart.
    """
    titles = {s.title for s in info.audio_streams if s.title}
    earlier = [t for t in titles if is_dub_title(t)]
    if not earlier:
        return DUB_TITLE, None
    k = 2
    while f"{DUB_TITLE[:-1]} {k})" in titles:
        k += 1
    title = f"{DUB_TITLE[:-1]} {k})"
    return title, (f"the file already has {len(earlier)} dubbed track(s) ({', '.join(sorted(earlier))}); "
                   f"they are kept and the new one is titled {title!r}")


def _check_untranslated(report: DubReport, path: str) -> None:
    """An episode-level problem counting the lines that no subtitle overlaps (not spoken)."""
    missing = report.no_subtitle_lines
    if missing:
        report.problems.append(
            f"{path}: {len(missing)} of {len(report.lines)} lines had no subtitle text (no subtitle overlaps "
            "them; their time keeps the backing only): check that the subtitles are timed to this audio"
        )


def _check_outputs(video: Path, out: str | Path, options: DubOptions) -> None:
    """Refuse an output (``--out``, ``--srt``, ``--report``, a stem) that is an input or another output, or
    whose folder cannot be written (read-only, a path through a file): before any work, naming the path."""
    from ..fsutil.no_clobber import refuse_overwriting
    from ..fsutil.writable import check_writable

    files: dict[str, str | Path | None] = {"--out": out, "--srt": options.srt, "--report": options.report}
    refuse_overwriting(
        dub_outputs(out, options),
        {"VIDEO": video, "--subtitles": options.subtitles, "--translations": options.translations},
    )
    check_writable(files, {"--stems": options.stems})
    _refuse_foreign_outputs(out, options)
    if options.stems:
        _refuse_foreign_stems(Path(options.stems))


def holds_dub_track(path: str | Path) -> bool:
    """Whether ``path`` is media with an audio stream that decodes and an audio track a dub added (titled
    :data:`DUB_TITLE`, or ``English (dub 2)``...; :func:`~.views.is_dub_title`): an earlier dub's output."""
    from ..errors import AnimError
    from ..media.probe import has_audio_stream, probe

    try:
        info = probe(path)
    except (AnimError, OSError, ValueError):
        return False
    return any(s.kind == "audio" and is_dub_title(s.title) for s in info.streams) and has_audio_stream(path)


def _refuse_foreign_outputs(out: str | Path, options: DubOptions) -> None:
    """Refuse (:class:`InputError` naming the file) an existing ``--out``, ``--srt`` or ``--report`` that is not
    the kind of file the dub writes there (:func:`~anim400k.fsutil.no_clobber.refuse_foreign_output`): a video an
    earlier dub wrote (:func:`holds_dub_track`), an SRT, a dub report. An earlier dub's files are replaced; a user's
    videos, notes or subtitles are not (any video with audio was taken for an earlier dub: ``dub ep02.mkv --out
    ep01.mkv`` replaced the episode ``ep01.mkv``)."""
    from ..formats.subtitles import is_srt_file
    from ..fsutil.no_clobber import refuse_foreign_output
    from ..fsutil.sniffers import json_object_with

    refuse_foreign_output("--out", out, holds_dub_track,
                          f"a video that anim400k dub wrote (no audio track of it is titled '{DUB_TITLE}')")
    refuse_foreign_output("--srt", options.srt, is_srt_file, "an SRT file (it does not read as SRT cues)")
    refuse_foreign_output("--report", options.report, json_object_with(REPORT_KEYS),
                          "a report that anim400k dub wrote (a JSON object with source, output, summary and lines)")


def _refuse_foreign_stems(folder: Path) -> None:
    """Refuse (:class:`InputError` naming the file) a ``--stems`` folder holding a file of a stem's name
    (``backing.wav``, ...) that no dub wrote: the folder has no :data:`STEMS_MARK` (a dub writes it there
    before its stems). ``--stems`` pointed at an episode's own folder replaced its ``backing.wav``."""
    path = unmarked_file(folder, STEMS_MARK, (f"{name}.wav" for name in STEM_NAMES))
    if path is not None:
        raise InputError(f"--stems: {folder} holds {path.name}, which no dub wrote (no {STEMS_MARK} there): "
                         "the dub would replace it; give --stems a folder of its own", path)


def _decode_source(video: Path, stream: Any, audio_index: int, sr: int) -> tuple[np.ndarray, float]:
    """The source stream's mono downmix (``media``'s normalised weights, a 5.1 centre kept as a stereo downmix
    keeps it: :func:`~anim400k.media.audio.dialogue_downmix_weights`) and its BS.1770 loudness (LUFS)
    over its own channels (L/R/C 1.0, surrounds 1.41, LFE left out), from one decode."""
    from ..media import decode_audio
    from ..media.audio import decoded_channel_names, dialogue_downmix_weights, loudness_weights

    audio = decode_audio(video, audio_index, sr=sr, mono=False)
    names = decoded_channel_names(stream, audio.shape[0])
    source_lufs = lufs(audio, sr, loudness_weights(names))
    mix = audio[0] if audio.shape[0] == 1 else (dialogue_downmix_weights(names) @ audio).astype(np.float32)
    del audio
    return mix, source_lufs


#: the files ``--stems DIR`` writes, ``DIR/NAME.wav``
STEM_NAMES = ("backing", "vocals", "dub_speech", "dub_mix")
#: written into ``--stems DIR`` before the stems: a later dub may replace the stems of a folder holding it
STEMS_MARK = ".anim400k-stems"


def dub_outputs(out: str | Path, options: DubOptions) -> dict[str, Path]:
    """Every file :func:`dub` writes, by the option that names it: ``--out``, ``--srt``, ``--report`` and
    ``--stems NAME.wav`` (each written to a temporary name and renamed: :func:`~anim400k.fsutil.atomic.atomic_path`)."""
    outputs = {"--out": Path(out)}
    outputs |= {flag: Path(path) for flag, path in (("--srt", options.srt), ("--report", options.report)) if path}
    if options.stems:
        outputs |= {f"--stems {name}.wav": Path(options.stems) / f"{name}.wav" for name in STEM_NAMES}
    return outputs


def dub(video: str | Path, out: str | Path, options: DubOptions | None = None, **overrides: Any) -> DubReport:
    """Dub ``video`` into EN and write ``out``: the original streams plus a default ``eng`` audio stream.

    Also writes the SRT of what was spoken (``options.srt``), the JSON report
    (``options.report``) and the stems (``options.stems``) when asked. All these outputs are one set
    (:func:`~anim400k.fsutil.output_sets.committed_together`): none replaces an earlier dub's file until every one is
    written, so a failure or a kill while they are written leaves the earlier files as they were.

    The dub holds a lock on ``out`` (:func:`~anim400k.fsutil.locks.output_lock`: a second dub of the same
    file is refused in one line) and on each other output whose folder exists, and first deletes the hidden
    temporary files of all its outputs (:func:`dub_outputs`) that a killed dub left
    (``.NAME.anim400k-XXXXXXXX.part.EXT``; SIGKILL during the mux leaves one of up to the output's size).
    """
    from ..fsutil.check_notes import output_checks
    from ..fsutil.locks import output_lock
    from ..fsutil.temp_files import remove_stale_temps

    options = dataclasses.replace(options or DubOptions(), **overrides)
    video = Path(video)
    if video.is_dir():  # a folder named like a video (``ep01.mkv/``) was reported as missing
        raise InputError("is a folder, not a media file", video)
    if not video.is_file():
        raise InputError("video not found", video)
    with output_checks(), contextlib.ExitStack() as locks:  # the checks' notes end with this dub, failed or not
        _check_outputs(video, out, options)
        locks.enter_context(output_lock(out, "dub"))
        # the other outputs: locked (so no other dub is writing the temporaries removed) where their folder
        # exists; a folder still to be made holds no temporary file, and is not made before the work
        others = [p for flag, p in dub_outputs(out, options).items() if flag != "--out" and p.parent.is_dir()]
        for path in others:
            locks.enter_context(output_lock(path, "dub"))
        removed = remove_stale_temps(out, *others)
        if removed:
            log.info("removed %d temporary file(s) of the outputs of %s left by a killed dub", removed, out)
        return _dub_locked(video, out, options)


def _other_stream(info: Any, source: Any, options: DubOptions) -> int | None:
    """The audio-stream index of the EN dub's track (``options.other_stream``, :func:`.views.en_view_stream`),
    None when it is off or the video has none."""
    from .views import en_view_stream

    if options.other_stream is None:
        return None
    selector = str(options.other_stream).strip()
    if not selector or (selector.startswith("-") and selector[1:].isdigit()):
        raise InputError(f"--other-stream {options.other_stream!r}: give an audio stream's index (0, 1, ...), a "
                         "language tag, or none")
    if selector.isdigit():  # an index the user chose: one that is no other audio stream was ignored silently
        i, audio = int(selector), info.audio_streams
        if i >= len(audio):
            raise InputError(f"--other-stream {i}: the video has no audio stream #{i} (it has {len(audio)})")
        if audio[i] == source:
            raise InputError(f"--other-stream {i}: is the stream being dubbed; give the EN dub's audio stream")
    from ..media.probe import normalize_language

    chosen = en_view_stream(info, source, options.other_stream)
    # English under any spelling (ENG, en, English) is the default's choice: none there is the vocals alone, as the
    # help says (only 'eng' was); another tag the user named that no stream has was ignored, so it is refused
    if chosen is None and normalize_language(selector) != normalize_language(DubOptions.other_stream):
        raise InputError(f"--other-stream {selector}: no other audio stream is tagged or titled so (give an index, "
                         "or none)")
    return None if chosen is None else info.audio_streams.index(chosen)


def _dub_locked(video: Path, out: str | Path, options: DubOptions) -> DubReport:
    """:func:`dub` once its outputs are checked and ``out`` is locked."""
    from ..media import check_mux, probe
    from ..media.probe import select_source_stream

    get_condenser(options.condense)  # a bad name fails before any work
    check_backends(options)
    info = probe(video)
    if not info.audio_streams:
        raise InputError("the video has no audio stream to dub", video)
    stream, note = select_source_stream(info, options.stream)
    title, earlier = dub_title(info)
    problems: list[str] = [p for p in (note, earlier) if p]
    sr = int(stream.sample_rate or 48000)
    audio_index = info.audio_streams.index(stream)
    out_channels = 1 if (stream.channels or 1) == 1 else 2  # stereo dub for stereo and surround sources
    # an output that cannot take the streams fails now; streams it leaves out (a cover in .mov) are warnings
    problems += check_mux(video, out, channels=out_channels, sr=sr)
    other = _other_stream(info, stream, options)
    translator, chosen = choose_translator(options, video)
    if chosen:
        log.warning("%s", chosen)
        problems.append(chosen)
    _refuse_empty_subtitles(translator, options.subtitles or str(video))
    tts = make_synthesizer(options)
    with _progress_bar(options.progress, FILE_STAGES) as bar:  # one bar from the decode to the written file
        return _dub_decoded(video, out, options, bar, stream, audio_index, sr, out_channels, translator, tts,
                            title, problems, other)


def _dub_decoded(video: Path, out: str | Path, options: DubOptions, bar: Any, stream: Any, audio_index: int, sr: int,
                 out_channels: int, translator: Translator, tts: Synthesizer, title: str,
                 problems: list[str], other: int | None = None) -> DubReport:
    """:func:`_dub_locked` once the inputs are checked and the backends built: decode, dub, write (``bar``
    counts :data:`FILE_STAGES`)."""
    from ..media import decode_audio, mux_audio_track, write_audio

    bar.set_postfix_str("decode")
    t_start = time.perf_counter()
    mix, source_lufs = _decode_source(video, stream, audio_index, sr)
    # the EN dub's track, the diarizer's second view of each speaker (as in the build): 16 kHz mono
    other_mix = None if other is None else decode_audio(video, other, sr=ANALYSIS_SR)
    decode_s = time.perf_counter() - t_start
    if source_lufs <= SILENT_LUFS:
        raise InputError(f"audio stream {audio_index} ({stream.language or 'und'}) is silent "
                         f"(below {SILENT_LUFS:.0f} LUFS): nothing to dub", video)
    bar.update(1)
    source = [mix]
    del mix  # dub_audio holds the only reference and lets the source go once the lines are placed
    result = dub_audio(source.pop(), sr, translator, tts, options, source=str(video), source_lufs=source_lufs,
                       out_channels=out_channels, require_speech=True, keep_stems=bool(options.stems), bar=bar,
                       other_mix=other_mix)
    del other_mix
    bar.set_postfix_str("mux")
    report = result.report
    report.problems[:0] = problems
    subtitles = options.subtitles or str(video)
    coverage = _coverage_problem(translator, report.duration)
    if report.lines and not report.spoken_lines:
        raise InputError(f"no line was spoken ({len(report.lines)} found, none translated: "
                         f"{coverage or _first_problem(report)}); nothing written", options.translations or subtitles)
    if coverage:
        report.problems.append(f"{subtitles}: {coverage}")
    _check_untranslated(report, subtitles)
    # every output is one set: none replaces an earlier dub's file until all of them are written, so an
    # error or a kill while they are written leaves the earlier files whole, never a new video beside an old SRT
    with committed_together(dub_outputs(out, options).values()):
        t_mux = time.perf_counter()
        # the channels are one array seen twice (no copy)
        track = np.broadcast_to(result.audio, (out_channels, len(result.audio))) if out_channels > 1 else result.audio
        mux_audio_track(video, track, sr, out, language="eng", default=True, title=title, notes=[])  # notes: above
        report.output = str(out)
        report.seconds = {
            "decode": round(decode_s, 3),
            **report.seconds,
            "mux": round(time.perf_counter() - t_mux, 3),
        }
        if options.stems:
            stems = Path(options.stems)
            write_text_atomic(stems / STEMS_MARK, "written by anim400k dub --stems: a later dub may replace the "
                              "stems (backing.wav, vocals.wav, dub_speech.wav, dub_mix.wav) in this folder\n")
            for name, x in zip(STEM_NAMES, (result.backing, result.vocals, result.speech, result.audio), strict=True):
                # float samples: the stems come before the mastering gain and limiter, and may pass full scale
                write_audio(stems / f"{name}.wav", x, sr, float_wav=True)  # type: ignore[arg-type]  # keep_stems
        if options.srt:
            report.write_srt(options.srt)
        if options.report:
            report.write_json(options.report)
    bar.update(1)
    return report
