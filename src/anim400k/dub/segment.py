"""Single-speaker speech segments from diarization turns.

Turns of one speaker separated by short gaps are merged; segments longer than
``max_len`` are split at their quietest pause (lowest vocal energy), repeatedly; very
short segments are dropped. Times are seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..model import Segment

HOP_S = 0.02


def frame_energy(audio: np.ndarray, sr: int, hop_s: float = HOP_S) -> np.ndarray:
    """RMS energy per ``hop_s`` frame of ``audio`` (smoothed over ~100 ms)."""
    hop = max(1, int(round(hop_s * sr)))
    n = len(audio) // hop
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    frames = audio[: n * hop].reshape(n, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return np.convolve(rms, np.ones(5) / 5, mode="same")


def _turn_fields(turn: Any) -> tuple[float, float, str]:
    if isinstance(turn, tuple | list):
        return float(turn[0]), float(turn[1]), str(turn[2])
    return float(turn.start), float(turn.end), str(turn.speaker)


def merge_turns(turns: Iterable[Any], merge_gap: float = 0.3) -> list[Segment]:
    """Merge consecutive turns of the same speaker separated by at most ``merge_gap`` seconds.

    Turns may be ``(start, end, speaker)`` tuples or objects with those attributes.
    Overlapping turns of different speakers are cut at the midpoint of the overlap.
    """
    items = sorted((_turn_fields(t) for t in turns), key=lambda t: (t[0], t[1]))
    out: list[Segment] = []
    for start, end, spk in items:
        if end <= start:
            continue
        if out and out[-1].speaker == spk and start - out[-1].end <= merge_gap:
            out[-1].end = max(out[-1].end, end)
            continue
        if out and start < out[-1].end:  # overlap with another speaker: split the overlap
            mid = 0.5 * (start + out[-1].end)
            out[-1].end, start = mid, mid
        out.append(Segment(start=start, end=end, speaker=spk))
    return out


def split_long(seg: Segment, energy: np.ndarray, max_len: float, min_len: float, hop_s: float = HOP_S) -> list[Segment]:
    """Split ``seg`` at its quietest frames until every part is at most ``max_len`` seconds."""
    if seg.duration <= max_len:
        return [seg]
    lo = int((seg.start + min_len) / hop_s)
    hi = int((seg.end - min_len) / hop_s)
    hi = min(hi, len(energy))
    if hi <= lo:
        cut = 0.5 * (seg.start + seg.end)
    else:
        window = energy[lo:hi]
        floor, typical = float(window.min()), float(np.median(window))
        quiet = np.flatnonzero(window <= floor + 0.1 * (typical - floor))  # the deepest pauses
        centre = 0.5 * (seg.start + seg.end) / hop_s - lo
        best = int(quiet[np.argmin(np.abs(quiet - centre))])  # of those, the one nearest the middle
        cut = (lo + best) * hop_s + 0.5 * hop_s
    left = Segment(start=seg.start, end=cut, speaker=seg.speaker)
    right = Segment(start=cut, end=seg.end, speaker=seg.speaker)
    return split_long(left, energy, max_len, min_len, hop_s) + split_long(right, energy, max_len, min_len, hop_s)


def trim_to_speech(seg: Segment, energy: np.ndarray, threshold: float, hop_s: float = HOP_S) -> Segment | None:
    """Shrink ``seg`` to the frames whose energy is above ``threshold`` (None if none are)."""
    a, b = int(seg.start / hop_s), min(len(energy), int(np.ceil(seg.end / hop_s)))
    loud = np.flatnonzero(energy[a:b] > threshold)
    if loud.size == 0:
        return None
    start = float(max(seg.start, (a + loud[0]) * hop_s))
    end = float(min(seg.end, (a + loud[-1] + 1) * hop_s))
    return Segment(start=start, end=end, speaker=seg.speaker)


def speech_segments(
    turns: Iterable[Any],
    vocals: np.ndarray,
    sr: int,
    merge_gap: float = 0.3,
    max_len: float = 10.0,
    min_len: float = 0.3,
) -> list[Segment]:
    """Single-speaker segments: merged turns, trimmed to audible speech, long ones split at pauses."""
    energy = frame_energy(vocals, sr)
    threshold = 0.1 * float(np.percentile(energy, 95)) if energy.size else 0.0
    out: list[Segment] = []
    for seg in merge_turns(turns, merge_gap):
        trimmed = trim_to_speech(seg, energy, threshold) if energy.size else seg
        if trimmed is None:
            continue
        for part in split_long(trimmed, energy, max_len, min_len):
            if part.duration >= min_len:
                out.append(part)
    return out


#: how far (s) :func:`speech_spans` follows a segment's speech past its ends
MAX_SPEECH_EXTENSION_S = 1.0
#: ... or, where a subtitle event the segment overlaps runs on further, to its end, by at most this (s)
MAX_SUBTITLE_EXTENSION_S = 3.0
#: ... while the vocals stay within this factor of the segment's own speech level (its frames' 75th percentile
#: RMS: -10.5 dB), so that the music a single-track separator leaves in its "vocals" between lines is not taken
#: for speech (a global threshold opened the gate over it and holed the backing by 10-20 dB between lines)
SPEECH_LEVEL_FACTOR = 0.3
#: ... bridging dips shorter than this (s): a breath or a consonant's pause inside the running speech
SPEECH_DIP_S = 0.12


def speech_spans(segments: Iterable[Segment], vocals: np.ndarray, sr: int,
                 limit: float = MAX_SPEECH_EXTENSION_S,
                 subtitles: Sequence[tuple[float, float]] = ()) -> list[tuple[float, float]]:
    """Each segment's span, widened over the speech that runs on from either end at the segment's own level
    (:data:`SPEECH_LEVEL_FACTOR`, dips up to :data:`SPEECH_DIP_S` bridged), by at most ``limit`` seconds, or as far
    as a subtitle event it overlaps reaches (``subtitles``: their ``(start, end)``), up to
    :data:`MAX_SUBTITLE_EXTENSION_S`.

    The dub's vocal gate keeps the JP vocals out of the backing within these spans. A segment can end before its
    speech does (the next speaker's subtitle cue in an overlap of two lines ended it): gated at the segment,
    0.25-0.4 s of JP dialogue stayed in the English track at full level; a line whose event ran 1.5 s past its
    segment (its text spoken by that segment) kept 1.5 s of Japanese at 0.5-0.74 of full level.
    """
    energy = frame_energy(vocals, sr)
    spans = [(seg.start, seg.end) for seg in segments]
    if not energy.size:
        return spans
    dip = max(1, int(round(SPEECH_DIP_S / HOP_S)))
    out = []
    for start, end in spans:
        a, b = int(start / HOP_S), min(len(energy), int(np.ceil(end / HOP_S)))
        if b <= a:
            out.append((start, end))
            continue
        events = [(s0, s1) for s0, s1 in subtitles if s0 < end and s1 > start]
        before = min(MAX_SUBTITLE_EXTENSION_S, max([limit, *(start - s0 for s0, _ in events)]))
        after = min(MAX_SUBTITLE_EXTENSION_S, max([limit, *(s1 - end for _, s1 in events)]))
        loud = energy > SPEECH_LEVEL_FACTOR * float(np.percentile(energy[a:b], 75))
        lo = _run_end(loud, a - 1, -1, int(round(before / HOP_S)), dip)
        hi = _run_end(loud, b, 1, int(round(after / HOP_S)), dip)
        out.append((min(start, (lo + 1) * HOP_S) if lo < a - 1 else start, max(end, hi * HOP_S) if hi > b else end))
    return out


def _run_end(loud: np.ndarray, i: int, step: int, reach: int, dip: int) -> int:
    """From frame ``i`` going ``step`` (+1, -1), the frame just past the last loud frame reached through dips of at
    most ``dip`` quiet frames, within ``reach`` frames of ``i``; ``i`` itself when the first frames are quiet."""
    last, quiet, k = i, 0, i
    while 0 <= k < len(loud) and abs(k - i) < reach:
        if loud[k]:
            last, quiet = k + step, 0
        else:
            quiet += 1
            if quiet > dip:
                break
        k += step
    return last
