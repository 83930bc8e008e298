"""Voice matching: the source speakers' pitch (pooled per speaker) and pitch shifting toward it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..model import Segment
from ..signal import ANALYSIS_SR, resample
from ..tts.base import VoiceProfile

FMIN, FMAX = 60.0, 500.0
#: pyin's pitch grid in semitones (0.25 is ~8x faster than librosa's 0.1 and ample for a median)
RESOLUTION = 0.25
#: Analysis rate for pitch tracking (speech F0 lies far below its Nyquist frequency).
PITCH_SR = ANALYSIS_SR


def pitch_stats(audio: np.ndarray, sr: int, max_seconds: float = 15.0) -> tuple[float, float, float] | None:
    """Median, 10th and 90th percentile F0 (Hz) of the voiced frames of ``audio`` (librosa.pyin;
    the diarizer's autocorrelation tracker where pyin finds under 10 voiced frames).

    At most ``max_seconds`` of audio are analysed (the loudest part is not chosen: the first
    ``max_seconds``). Returns None when fewer than 10 frames are voiced.
    """
    import librosa

    if audio.size == 0:
        return None
    y = np.asarray(audio, dtype=np.float32)
    if sr != PITCH_SR:
        y = resample(y, sr, PITCH_SR, "soxr_mq")
    y = y[: int(max_seconds * PITCH_SR)]
    if y.size < 2048:
        return None
    f0, voiced, _ = librosa.pyin(
        y,
        fmin=FMIN,
        fmax=FMAX,
        sr=PITCH_SR,
        frame_length=1024,
        hop_length=320,
        center=False,
        resolution=RESOLUTION,
    )
    f0 = f0[voiced & np.isfinite(f0)]
    if f0.size < 10:  # creaky voices (vocal fry) defeat pyin's voicing model: plain autocorrelation
        from ..diarize.pitch import f0_track

        f0 = f0_track(y, PITCH_SR, fmin=FMIN, fmax=FMAX)
        f0 = f0[np.isfinite(f0)]
        if f0.size < 10:
            return None
    p10, p50, p90 = np.percentile(f0, [10, 50, 90])
    return float(p50), float(p10), float(p90)


def speaker_audio(
    audio: np.ndarray, sr: int, segments: Sequence[Segment], speaker: str, max_seconds: float
) -> np.ndarray:
    """The speaker's segments of ``audio`` concatenated, at most ``max_seconds`` long."""
    parts, total = [], 0
    limit = int(max_seconds * sr)
    for seg in segments:
        if seg.speaker != speaker:
            continue
        part = audio[int(seg.start * sr) : int(seg.end * sr)]
        parts.append(part[: limit - total])
        total += len(parts[-1])
        if total >= limit:
            break
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def speaker_profiles(
    vocals: np.ndarray,
    sr: int,
    segments: Sequence[Segment],
    reference_seconds: float = 12.0,
    pitch_seconds: float = 12.0,
) -> dict[str, VoiceProfile]:
    """One :class:`VoiceProfile` per speaker: pitch pooled over the episode and a reference recording."""
    speakers: list[str] = []
    for seg in segments:
        if seg.speaker is not None and seg.speaker not in speakers:
            speakers.append(seg.speaker)
    profiles = {}
    for index, spk in enumerate(speakers):
        ref = speaker_audio(vocals, sr, segments, spk, max(reference_seconds, pitch_seconds))
        stats = pitch_stats(ref, sr, pitch_seconds)
        median, low, high = stats if stats else (None, None, None)
        profiles[spk] = VoiceProfile(
            speaker=spk,
            index=index,
            f0_median=median,
            f0_low=low,
            f0_high=high,
            reference=ref[: int(reference_seconds * sr)].astype(np.float32),
            reference_sr=sr,
        )
    return profiles


def semitones_between(from_hz: float | None, to_hz: float | None, limit: float = 12.0) -> float:
    """Semitones that move ``from_hz`` to ``to_hz`` (0 if either is unknown), clipped to ±``limit``."""
    if not from_hz or not to_hz:
        return 0.0
    return float(np.clip(12.0 * np.log2(to_hz / from_hz), -limit, limit))


#: Semitones between the 20th and 80th percentile of a speaker's per-line median F0 above which its
#: lines are taken for several characters (a male and a female voice are ~15 apart: 75 vs 286 Hz on a
#: synthetic episode dubbed with --num-speakers 1; no speaker of benchmarks/check_dub_voices.py's other
#: seven dubs reached 10).
MIXED_REGISTER_SEMITONES = 10.0


def mixed_register_speakers(
    audio: np.ndarray, sr: int, segments: Sequence[Segment], max_lines: int = 12, line_seconds: float = 2.0
) -> dict[str, tuple[float, float]]:
    """Speakers whose lines sit in registers too far apart for one voice: speaker -> (low, high) Hz, the
    20th and 80th percentile of its lines' median F0 (at least 3 lines with pitch, at most ``max_lines``
    of up to ``line_seconds`` each: pyin on at most 24 s per speaker).

    A diarizer that merged a man and a woman into one speaker gives each of them the same dub voice,
    pitch-matched to the mixture: the man's lines came out at 271 Hz for a 79 Hz voice. The dub cannot
    tell which lines are whose; it says so (the report's ``problems``)."""
    per_speaker: dict[str, list[float]] = {}
    for seg in segments:
        if seg.speaker is None or seg.duration < 0.5:
            continue
        medians = per_speaker.setdefault(seg.speaker, [])
        if len(medians) >= max_lines:
            continue
        part = audio[int(seg.start * sr) : int(min(seg.end, seg.start + line_seconds) * sr)]
        stats = pitch_stats(part, sr, line_seconds)
        if stats:
            medians.append(stats[0])
    mixed = {}
    for spk, medians in per_speaker.items():
        if len(medians) >= 3:
            low, high = (float(v) for v in np.percentile(medians, [20, 80]))
            if 12.0 * np.log2(high / low) > MIXED_REGISTER_SEMITONES:
                mixed[spk] = (low, high)
    return mixed
