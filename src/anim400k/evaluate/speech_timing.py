"""Speech timing of a dub against its source: VAD regions (silero or energy) and onset/end/overlap figures."""

from __future__ import annotations

import math

import numpy as np

from ..registry import VADS as VAD_REGISTRY
from ..signal import frame_levels_db

Regions = list[tuple[float, float]]
VADS = tuple(VAD_REGISTRY.names())


#: the window (s) by which :func:`energy_vad` places a region's edges to the sample
EDGE_WINDOW_S = 0.005


def energy_vad(
    x: np.ndarray,
    sr: int,
    threshold_db: float = -30.0,
    frame_s: float = 0.025,
    hop_s: float = 0.010,
    min_speech_s: float = 0.08,
    min_gap_s: float = 0.25,
) -> Regions:
    """Speech regions where frame RMS is within ``threshold_db`` of the loudest frame (and above -60 dBFS).

    A region's edges are then placed to the sample: where the mean square of the 5 ms around a sample, inside the
    region's first (last) frame, first (last) reaches that level. They were the outer edges of the first and last
    active frames, ~20 ms wider at each end (a frame that heard the speech by a sample counted).
    """
    frame, hop = max(1, int(frame_s * sr)), max(1, int(hop_s * sr))
    db = frame_levels_db(x, sr, frame_s, hop_s, floor=1e-12)
    if db.size == 0:
        return []
    level = max(db.max() + threshold_db, -60.0)
    active = db > level
    power = 10.0 ** (level / 10.0)
    fine = max(1, int(EDGE_WINDOW_S * sr))
    csum = np.concatenate([[0.0], np.cumsum(np.asarray(x, dtype=np.float64) ** 2)])
    # mean square of the `fine` samples centred on each sample (shorter at the clip's ends)
    lo = np.clip(np.arange(x.size) - fine // 2, 0, x.size)
    hi = np.clip(lo + fine, 0, x.size)
    loud = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1) >= power
    regions: Regions = []
    start = None
    for i, a in enumerate(np.append(active, False)):
        if a and start is None:
            start = i
        elif not a and start is not None:
            a0, b0 = start * hop, min(x.size, start * hop + frame)
            a1 = (i - 1) * hop
            b1 = x.size if i == active.size else min(x.size, a1 + frame)  # (the frames stop short of the end)
            first = np.flatnonzero(loud[a0:b0])
            last = np.flatnonzero(loud[a1:b1])
            s0 = a0 + int(first[0]) if first.size else a0
            e0 = a1 + int(last[-1]) + 1 if last.size else b1
            regions.append((s0 / sr, max(s0, e0) / sr))
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
