"""Mixing the dub with :mod:`anim400k.mixing`'s definitions.

1. The source's **mixing ratio** is measured per line slot on the separated stems
   (:func:`source_ratios`: ``mixing.mixing_ratios(mix, vocals, backing, ...)``; speech over
   backing in dB, both at equal loudness).
2. Each dubbed line is scaled so that it sits at its slot's ratio over the backing under it
   (:func:`line_gain_db`). This is the speech term of ``mixing.remix(line, backing_span,
   ratio_db, sr, gain_db=L(backing_span) - REFERENCE_LUFS)``, i.e. ``remix`` with the gain
   that leaves the backing at its original level, so the backing stays continuous across lines.
3. The whole dub is normalised to the source mix's integrated loudness
   (``mixing.normalize``, BS.1770 via pyloudnorm) and kept under -1 dBFS true peak
   (:func:`master`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import mixing
from ..model import Segment

#: Peak ceiling of the final mix (about -1 dBFS, measured on a 4x oversampled signal).
PEAK_CEILING = 10 ** (-1.0 / 20)
#: Below this loudness (LUFS, BS.1770's absolute gate) a stem counts as silent.
SILENT_LUFS = -70.0
#: Largest gain (dB, either way) applied to one line.
MAX_LINE_GAIN_DB = 40.0
EPS = 1e-9


def rms(x: np.ndarray) -> float:
    """Root mean square of ``x`` (0 for empty input)."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def source_ratios(
    mix: np.ndarray, vocals: np.ndarray, backing: np.ndarray, sr: int, segments: Sequence[Segment]
) -> list[mixing.MixFit]:
    """The source's mixing fit (ratio of vocals over backing, dB) in every segment's slot."""
    return mixing.mixing_ratios(mix, vocals, backing, sr, [(s.start, s.end) for s in segments])


def line_gain_db(
    line: np.ndarray,
    backing_span: np.ndarray,
    ratio_db: float,
    sr: int,
    fallback_lufs: float,
    backing_sr: int | None = None,
) -> float:
    """Gain (dB) that puts ``line`` at ``ratio_db`` over ``backing_span`` (the backing under it).

    Loudness as in :func:`anim400k.mixing.loudness`. When the backing is silent or the ratio
    is at ``mixing.RATIO_LIMIT_DB`` (no backing to refer to), the line is brought to
    ``fallback_lufs`` instead (the loudness of the source speech it replaces).
    ``backing_span`` may be at another rate (``backing_sr``) than ``line`` (``sr``).
    """
    ls = mixing.loudness(line, sr)
    if ls <= SILENT_LUFS:
        return 0.0
    lb = mixing.loudness(backing_span, backing_sr or sr)
    if lb <= SILENT_LUFS or abs(ratio_db) >= mixing.RATIO_LIMIT_DB - 1e-6:
        target = fallback_lufs
    else:
        target = lb + ratio_db
    return float(np.clip(target - ls, -MAX_LINE_GAIN_DB, MAX_LINE_GAIN_DB))


#: Samples per block of the true-peak meter and the limiter: memory stays flat on long episodes.
BLOCK = 1 << 20


def true_peak(x: np.ndarray, block: int = BLOCK) -> float:
    """Approximate true peak: the maximum of ``|x|`` after 4x polyphase oversampling.

    Computed in blocks of ``block`` samples, each with 64 samples of context on either side
    (more than the resampling filter's reach), so the result equals the whole-signal one.
    """
    from scipy.signal import resample_poly

    x = np.asarray(x, dtype=np.float32)
    if x.size == 0:
        return 0.0
    peak = float(np.max(np.abs(x)))
    margin = 64
    for a in range(0, x.size, block):
        b = min(x.size, a + block)
        lo, hi = max(0, a - margin), min(x.size, b + margin)
        up = resample_poly(x[lo:hi], 4, 1)
        peak = max(peak, float(np.max(np.abs(up[(a - lo) * 4 : (b - lo) * 4]))))
    return peak


def _limiter_gain(x: np.ndarray, ceiling: float, window: int) -> np.ndarray:
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    env = np.abs(x) * np.float32(1.05)  # margin for inter-sample peaks
    env = maximum_filter1d(env, size=2 * window + 1)
    gain = np.minimum(np.float32(1.0), np.float32(ceiling) / np.maximum(env, np.float32(EPS)))
    return uniform_filter1d(gain, size=window)  # smooth; still below the per-sample need thanks to max filter


def limit_peaks(
    x: np.ndarray, sr: int, ceiling: float = PEAK_CEILING, release_s: float = 0.05, block: int = BLOCK
) -> np.ndarray:
    """Keep ``x`` under ``ceiling`` with a look-ahead gain envelope (instant attack, smooth release).

    Gain only goes down where peaks exceed the ceiling, so quiet passages are untouched. Works in
    blocks of ``block`` samples with twice the filters' reach of context (the same result as in one go).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.size == 0:
        return x
    window = max(1, int(release_s * sr))
    margin = 2 * window + 2
    y = np.empty_like(x)
    for a in range(0, x.size, block):
        b = min(x.size, a + block)
        lo, hi = max(0, a - margin), min(x.size, b + margin)
        gain = _limiter_gain(x[lo:hi], ceiling, window)
        y[a:b] = x[a:b] * gain[a - lo : b - lo]
    peak = true_peak(y, block)
    if peak > ceiling:  # rare residual overshoot: plain gain reduction
        y *= ceiling / peak
    return y


#: Rounds of make-up gain after the limiter (:func:`master`) and the loudness miss (LU) that ends them.
MAKEUP_ROUNDS = 3
MAKEUP_TOLERANCE_LU = 0.03


def master(mix: np.ndarray, sr: int, target_lufs: float | None) -> tuple[np.ndarray, float | None]:
    """Normalise ``mix`` to ``target_lufs`` (``mixing.normalize``) and limit its peaks.

    The limiter lowers the peaks and with them the loudness (0.3 LU on the demo's mono episode), so
    the loudness is measured again after limiting and what is missing is added to the gain before the
    limiter, which runs again (at most :data:`MAKEUP_ROUNDS` times, until within
    :data:`MAKEUP_TOLERANCE_LU`). Where the peak ceiling takes most of each step (a mix made of peaks)
    the result stays below the target; :func:`anim400k.dub.place.mix_down` reports by how much.
    Nothing is normalised when the target is None or silent, or ``mix`` is silent.
    Returns the mastered signal and the gain before the limiter in dB (None when not normalised).
    """
    mix = np.asarray(mix, dtype=np.float32)
    current = mixing.loudness(mix, sr)
    if target_lufs is None or target_lufs <= SILENT_LUFS or current <= SILENT_LUFS:
        return limit_peaks(mix, sr), None
    gain_db = float(target_lufs - current)
    out = limit_peaks(mix * np.float32(10 ** (gain_db / 20)), sr)  # mixing.normalize, without measuring again
    for _ in range(MAKEUP_ROUNDS):
        miss = float(target_lufs - mixing.loudness(out, sr))
        if abs(miss) <= MAKEUP_TOLERANCE_LU:
            break
        gain_db += miss
        out = limit_peaks(mix * np.float32(10 ** (gain_db / 20)), sr)
    return out, gain_db
