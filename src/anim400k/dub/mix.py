"""Mixing the dub: lines over the backing track at the source's speech-to-backing balance,
then the whole loudness-normalised to the original mix and kept clear of clipping."""

from __future__ import annotations

import numpy as np

#: Peak ceiling of the final mix (about -1 dBFS, measured on a 4x oversampled signal).
PEAK_CEILING = 10 ** (-1.0 / 20)
EPS = 1e-9


def rms(x: np.ndarray) -> float:
    """Root mean square of ``x`` (0 for empty input)."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def line_gain(
    line: np.ndarray, source_vocals: np.ndarray, fallback_rms: float, max_gain_db: float = 30.0
) -> float:
    """Gain that gives ``line`` the RMS of the source speech it replaces.

    Keeping the speech level of each slot keeps the source's speech-to-backing mixing ratio
    (the backing is unchanged). ``fallback_rms`` (e.g. the episode's median speech RMS) is used
    when the source slot is silent.
    """
    target = rms(source_vocals)
    if target < 1e-4:
        target = fallback_rms
    g = target / max(rms(line), EPS)
    limit = 10 ** (max_gain_db / 20)
    return float(np.clip(g, 1 / limit, limit))


def loudness(x: np.ndarray, sr: int) -> float | None:
    """Integrated loudness (LUFS, ITU-R BS.1770 via pyloudnorm); None for silence or too-short input."""
    import pyloudnorm

    if x.size < int(0.4 * sr) + 1:
        return None
    value = pyloudnorm.Meter(sr).integrated_loudness(np.asarray(x, dtype=np.float64))
    return float(value) if np.isfinite(value) else None


def true_peak(x: np.ndarray) -> float:
    """Approximate true peak: the maximum of ``|x|`` after 4x polyphase oversampling."""
    from scipy.signal import resample_poly

    if x.size == 0:
        return 0.0
    return float(max(np.max(np.abs(x)), np.max(np.abs(resample_poly(x, 4, 1)))))


def limit_peaks(x: np.ndarray, sr: int, ceiling: float = PEAK_CEILING, release_s: float = 0.05) -> np.ndarray:
    """Keep ``x`` under ``ceiling`` with a look-ahead gain envelope (instant attack, smooth release).

    Gain only goes down where peaks exceed the ceiling, so quiet passages are untouched.
    """
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    if x.size == 0:
        return x
    env = np.abs(x).astype(np.float64) * 1.05  # margin for inter-sample peaks
    window = max(1, int(release_s * sr))
    env = maximum_filter1d(env, size=2 * window + 1)
    gain = np.minimum(1.0, ceiling / np.maximum(env, EPS))
    gain = uniform_filter1d(gain, size=window)  # smooth; still below the per-sample need thanks to max filter
    y = (x * gain).astype(np.float32)
    peak = true_peak(y)
    if peak > ceiling:  # rare residual overshoot: plain gain reduction
        y *= ceiling / peak
    return y


def master(mix: np.ndarray, sr: int, target_lufs: float | None) -> tuple[np.ndarray, float | None]:
    """Normalise ``mix`` to ``target_lufs`` (when both are measurable) and limit its peaks.

    Returns the mastered signal and the gain applied in dB.
    """
    gain_db = None
    current = loudness(mix, sr)
    if target_lufs is not None and current is not None:
        gain_db = float(np.clip(target_lufs - current, -40.0, 40.0))
        mix = mix * np.float32(10 ** (gain_db / 20))
    return limit_peaks(mix.astype(np.float32), sr), gain_db
