"""Speech timing of a dub against its source: VAD regions (silero or energy) and onset/end/overlap figures."""

from __future__ import annotations

import math

import numpy as np

from ..registry import VADS as VAD_REGISTRY
from ..signal import frame_levels_db

Regions = list[tuple[float, float]]
VADS = tuple(VAD_REGISTRY.names())


def energy_vad(
    x: np.ndarray,
    sr: int,
    threshold_db: float = -30.0,
    frame_s: float = 0.025,
    hop_s: float = 0.010,
    min_speech_s: float = 0.08,
    min_gap_s: float = 0.25,
) -> Regions:
    """Speech regions where frame RMS is within ``threshold_db`` of the loudest frame (and above -60 dBFS)."""
    frame, hop = max(1, int(frame_s * sr)), max(1, int(hop_s * sr))
    db = frame_levels_db(x, sr, frame_s, hop_s, floor=1e-12)
    if db.size == 0:
        return []
    active = db > max(db.max() + threshold_db, -60.0)
    regions: Regions = []
    start = None
    for i, a in enumerate(np.append(active, False)):
        if a and start is None:
            start = i
        elif not a and start is not None:
            regions.append((start * hop / sr, min(x.size / sr, ((i - 1) * hop + frame) / sr)))
            start = None
    merged: Regions = []
    for s, e in regions:
        if merged and s - merged[-1][1] < min_gap_s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in merged if e - s >= min_speech_s]


def silero_regions(x: np.ndarray, sr: int) -> Regions:
    """silero-vad speech regions for dub evaluation (short words count: 100 ms minimum)."""
    from ..asr.vad import VadOptions
    from ..asr.vad import speech_regions as asr_regions

    return asr_regions(x, sr, VadOptions(min_speech_ms=100, min_silence_ms=250))


def speech_regions(x: np.ndarray, sr: int, vad: str = "silero") -> Regions:
    """Speech regions of ``x`` with the named VAD (``silero`` or ``energy``; :data:`anim400k.registry.VADS`)."""
    return VAD_REGISTRY.load(vad)(x, sr)  # type: ignore[no-any-return]


def total(regions: Regions) -> float:
    """Summed duration of (non-overlapping) regions."""
    return float(sum(e - s for s, e in regions))


def intersection(a: Regions, b: Regions) -> float:
    """Duration covered by both region lists."""
    i = j = 0
    out = 0.0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        out += max(0.0, hi - lo)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def timing(source: Regions, dub: Regions) -> dict[str, float]:
    """Onset/end error (dub minus source, s), speech overlap (IoU) and voiced-duration ratio."""
    nan = math.nan
    if not source or not dub:
        return {
            "onset_error": nan,
            "end_error": nan,
            "overlap": 0.0 if (source or dub) else nan,
            "voiced_ratio": nan if not source else 0.0,
        }
    inter = intersection(source, dub)
    union = total(source) + total(dub) - inter
    return {
        "onset_error": round(dub[0][0] - source[0][0], 3),
        "end_error": round(dub[-1][1] - source[-1][1], 3),
        "overlap": round(inter / union, 4) if union > 0 else nan,
        "voiced_ratio": round(total(dub) / total(source), 4),
    }
