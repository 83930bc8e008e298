"""The dub's ``pitch``, ``fit`` and ``mix`` stages: spoken lines onto the source's timeline and mix.

:func:`pitch_shifts` chooses one pitch shift per speaker, :func:`place_lines` time-fits each
line into its slot (:mod:`anim400k.dub.timing`) at its slot's mixing ratio over the backing
(:mod:`anim400k.dub.mix`), and :func:`mix_down` masters backing + speech to the source's loudness.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..mixing import fit_mix
from ..model import Segment
from ..signal import loudness as lufs
from ..signal import resample_streamed
from ..tts.base import VoiceProfile
from . import mix as mixing
from .report import DubReport, LineReport
from .speak import SPEECH_SR
from .timing import Fit, fade_out, plan_fit, stretch_and_shift
from .voice import pitch_stats, semitones_between

if TYPE_CHECKING:
    from .options import DubOptions

#: Largest pitch shift (semitones) either way.
MAX_SHIFT = 12.0


def pitch_shifts(
    profiles: dict[str, VoiceProfile], spoken: dict[int, np.ndarray], segments: Sequence[Segment]
) -> dict[str | None, float]:
    """One pitch shift (semitones) per speaker: pooled synthesized pitch -> pooled source pitch.

    The shift is checked once on the shifted speech and corrected by what is still off: on a low,
    creaky voice the median F0 is not shifted with the audio (pyin's voicing keeps other frames once
    the pitch moves), e.g. jm_kumo's pooled median moved by -1.38 semitones measured 2.5 below its
    target when a line's text changed from "is our secret." to "This is our secret."."""
    shifts: dict[str | None, float] = {}
    for spk, prof in profiles.items():
        pooled = [spoken[i] for i in spoken if segments[i].speaker == spk]
        if not pooled or prof.f0_median is None:
            continue
        audio = np.concatenate(pooled)[: int(8.0 * SPEECH_SR)]
        stats = pitch_stats(audio, SPEECH_SR, max_seconds=8.0)
        shift = semitones_between(stats[0] if stats else None, prof.f0_median)
        if stats and abs(shift) > 1e-3:
            check = pitch_stats(stretch_and_shift(audio, SPEECH_SR, 1.0, shift, len(audio)), SPEECH_SR, max_seconds=8.0)
            if check:
                shift = float(np.clip(shift + semitones_between(check[0], prof.f0_median), -MAX_SHIFT, MAX_SHIFT))
        shifts[spk] = shift
    return shifts


def place_lines(
    mix: np.ndarray,
    vocals: np.ndarray,
    backing: np.ndarray | mixing.Parts,
    sr: int,
    segments: Sequence[Segment],
    spoken: dict[int, np.ndarray],
    shifts: dict[str | None, float],
    options: DubOptions,
    report: DubReport,
    on_line: Callable[[], object] | None = None,
) -> np.ndarray:
    """The dub's speech track (at :data:`SPEECH_SR`): every spoken line time-fitted, pitch-shifted and
    placed at its slot's mixing ratio over the backing; each line's report gets what was done, and
    ``on_line`` (a progress bar's ``update``) is called once per line placed."""
    duration = len(mix) / sr
    speech = np.zeros(int(np.ceil(duration * SPEECH_SR)) + 1, dtype=np.float32)
    order = sorted(spoken)
    fits = mixing.source_ratios(mix, vocals, backing, sr, segments)
    speech_lufs = [lufs(vocals[int(s.start * sr) : int(s.end * sr)], sr) for s in segments]
    audible = [v for v in speech_lufs if v > mixing.SILENT_LUFS]
    fallback_lufs = float(np.median(audible)) if audible else -23.0
    # each line may spill until the next line's speech starts (a line shorter than its slot sits in its middle):
    # planned from the last line back; the next slot's start cut lines with silence still before the next speech
    planned: dict[int, tuple[Fit, float]] = {}
    limit = duration
    for i in reversed(order):
        seg = segments[i]
        fit = plan_fit(len(spoken[i]) / SPEECH_SR, seg.start, seg.end, limit, options.min_stretch,
                       options.max_stretch, options.anchor)
        planned[i] = (fit, limit)
        limit = max(seg.start, fit.speech_start)
    for i in order:
        seg, rec, audio = segments[i], report.lines[i], spoken[i]
        fit, limit = planned[i]
        semis = shifts.get(seg.speaker, 0.0)
        y = _fitted(audio, fit, semis, seg, limit, rec)
        a = int(round(fit.speech_start * SPEECH_SR))
        y = y[: max(0, len(speech) - a)]
        b0, b1 = int(round(fit.speech_start * sr)), int(round(fit.speech_start * sr + len(y) * sr / SPEECH_SR))
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
        if on_line is not None:
            on_line()
    return speech


def _fitted(audio: np.ndarray, fit: Fit, semis: float, seg: Segment, limit: float, rec: LineReport) -> np.ndarray:
    """``audio`` stretched and shifted as ``fit`` says; cut with a fade (a problem of the line) when it
    does not fit before ``limit``, and an overflow into the following silence noted."""
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
    return y


#: How far (LU) the dub may fall below the source's loudness before the report says so.
LOUDNESS_TOLERANCE_LU = 0.1


def speech_at(speech: np.ndarray, sr: int, n: int) -> np.ndarray:
    """The speech track of :func:`place_lines` (at :data:`SPEECH_SR`) at ``sr``, trimmed or padded to ``n``
    (libsoxr HQ streamed into the result: :func:`anim400k.signal.resample_streamed`)."""
    return resample_streamed(speech, SPEECH_SR, sr, n)


def mix_down(
    backing: np.ndarray | mixing.Parts,
    speech_out: np.ndarray,
    sr: int,
    report: DubReport,
    source_lufs: float,
    out_channels: int = 1,
) -> np.ndarray:
    """The dubbed track: backing + speech (:func:`speech_at`, at ``sr``), mastered to the source's loudness;
    records the loudness of both tracks and the ratio the listener gets per line (after mastering).

    ``source_lufs`` is the source's BS.1770 loudness over its own channels. The dub is written as
    ``out_channels`` copies of the returned mono track, so its per-channel target is
    ``source_lufs - 10 log10(out_channels)``: a stereo dub whose two channels are the same measures
    3.01 LU above either one, and then equals the source. ``backing`` may be a :class:`mixing.Parts`
    (``mix - vocals``): the sum is read block by block, so memory is the inputs plus the one result.
    """
    report.source_lufs = float(source_lufs)
    spread_db = 10 * np.log10(max(1, out_channels))
    parts = [*backing.arrays, speech_out] if isinstance(backing, mixing.Parts) else [backing, speech_out]
    signs = [*backing.signs, 1] if isinstance(backing, mixing.Parts) else None
    dubbed, _ = mixing.master_sum(parts, sr, report.source_lufs - spread_db, signs)
    for rec in report.spoken_lines:
        a, b = int(round((rec.speech_start or 0.0) * sr)), int(round((rec.speech_end or 0.0) * sr))
        if b - a > 0:
            rec.dub_ratio_db = round(fit_mix(dubbed[a:b], speech_out[a:b], backing[a:b], sr).ratio_db, 2)
    out_lufs = lufs(dubbed, sr)
    report.output_lufs = out_lufs + spread_db if out_lufs > mixing.SILENT_LUFS else out_lufs
    short = report.source_lufs - report.output_lufs
    if out_lufs > mixing.SILENT_LUFS and short > LOUDNESS_TOLERANCE_LU:
        report.problems.append(f"the dub is {short:.2f} LU quieter than the source: the -1 dBFS true-peak "
                               "ceiling leaves no room for more gain")
    return dubbed
