"""Isochrony: fit each spoken line into its source slot.

A line starts at its slot's start. Its speed is changed (phase-vocoder time stretch, in
one pass with the pitch shift) within ``[min_stretch, max_stretch]`` so that it ends at the
slot's end; a line that still does not fit overflows into the following silence up to the
next line's start (or the end of the audio), and beyond that is cut with a short fade.
A line left shorter than its slot (it would have to be slowed below ``min_stretch``) starts
at the slot's start (``anchor="start"``) or is centred in the slot (``anchor="centre"``:
the gap is split between onset and end). ``stretch`` > 1 means faster (shorter) speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..signal import resample
from .options import ANCHORS

FADE_S = 0.03


@dataclass
class Fit:
    """How a line of natural length ``natural`` (s) is placed in the slot ``[start, end]``."""

    start: float
    end: float
    natural: float
    stretch: float
    length: float  # seconds after stretching, before any cut
    placed: float  # seconds actually placed (after a cut)
    overflow: bool
    truncated: bool
    #: silence (s) between the slot's start and the speech (a short line centred in its slot)
    lead: float = 0.0

    @property
    def speech_start(self) -> float:
        """Where the placed speech starts (s)."""
        return self.start + self.lead

    @property
    def speech_end(self) -> float:
        """Where the placed speech ends (s)."""
        return self.start + self.lead + self.placed

    @property
    def end_error(self) -> float:
        """Speech end minus slot end (s): positive when the line runs late."""
        return self.speech_end - self.end


def plan_fit(
    natural: float,
    start: float,
    end: float,
    limit: float,
    min_stretch: float = 0.8,
    max_stretch: float = 1.3,
    anchor: str = "start",
) -> Fit:
    """Choose the stretch factor for a line of ``natural`` seconds in ``[start, end]``.

    ``limit`` is the latest time the line may reach (the next line's start or the end of the audio).
    ``anchor`` places a line left shorter than its slot: at the slot's start, or centred in it.
    """
    if anchor not in ANCHORS:
        raise ValueError(f"anchor must be one of {', '.join(ANCHORS)}, got {anchor!r}")
    slot = max(end - start, 1e-3)
    stretch = float(np.clip(natural / slot, min_stretch, max_stretch))
    length = natural / stretch
    overflow = length > slot + 1e-3
    room = max(0.0, limit - start)
    truncated = length > room + 1e-3
    placed = min(length, room)
    lead = max(0.0, (slot - length) / 2) if anchor == "centre" else 0.0
    return Fit(start, end, natural, stretch, length, placed, overflow, truncated, lead)


def stretch_and_shift(y: np.ndarray, sr: int, stretch: float, semitones: float, out_len: int) -> np.ndarray:
    """Time-stretch ``y`` by ``stretch`` (>1 faster) and shift its pitch by ``semitones`` in one
    phase-vocoder pass plus one resampling; the result has exactly ``out_len`` samples."""
    import librosa

    y = np.asarray(y, dtype=np.float32)
    p = 2.0 ** (semitones / 12.0)
    if abs(semitones) > 1e-3 or abs(stretch - 1.0) > 1e-3:
        # stretch by rate a, then resample from sr*p to sr: length L/(a*p) = L/stretch when a = stretch/p
        rate = stretch / p
        if abs(rate - 1.0) > 1e-3:
            y = librosa.effects.time_stretch(y, rate=rate)
        if abs(p - 1.0) > 1e-4:
            y = resample(y, sr * p, sr, "soxr_hq")
    return librosa.util.fix_length(y, size=out_len).astype(np.float32)


def fade_out(y: np.ndarray, sr: int, fade_s: float = FADE_S) -> np.ndarray:
    """Apply a linear fade over the last ``fade_s`` seconds (for lines cut short)."""
    n = min(len(y), int(fade_s * sr))
    if n > 0:
        y = y.copy()
        y[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return y
