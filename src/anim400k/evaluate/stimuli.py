"""Stimulus preparation for listening tests: resampling, anchors, loudness matching, padding.

Pure functions over float32 arrays; file I/O goes through :mod:`anim400k.media`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

#: ITU-R BS.1534-3 anchors: the low anchor is low-passed at 3.5 kHz, the mid anchor at 7 kHz.
ANCHORS: dict[str, float] = {"anchor35": 3500.0, "anchor70": 7000.0}
REFERENCE = "reference"
DEFAULT_LUFS = -23.0
#: Peak ceiling after loudness matching (linear); louder stimuli are scaled down to it.
PEAK_CEILING = 0.98


def load_mono(path: str | Path, sr: int) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``sr`` Hz (any format PyAV reads)."""
    from ..media import decode_audio

    return np.asarray(decode_audio(path, 0, sr=sr, mono=True), dtype=np.float32)


def save_wav(path: str | Path, samples: np.ndarray, sr: int) -> Path:
    """Write 16-bit PCM WAV atomically."""
    from ..media import write_audio

    return write_audio(path, np.asarray(samples, dtype=np.float32), sr)


def lowpass(x: np.ndarray, sr: int, cutoff: float, order: int = 10) -> np.ndarray:
    """Zero-phase Butterworth low-pass (``sosfiltfilt``), so the playhead stays aligned."""
    from scipy.signal import butter, sosfiltfilt

    if cutoff >= sr / 2:
        raise ValueError(f"cutoff {cutoff} Hz is not below the Nyquist frequency of {sr} Hz")
    sos = butter(order, cutoff, btype="low", fs=sr, output="sos")
    if x.size <= 3 * (2 * len(sos) + 1):
        return x.astype(np.float32, copy=True)
    return sosfiltfilt(sos, x).astype(np.float32)


def make_anchor(reference: np.ndarray, sr: int, name: str) -> np.ndarray:
    """The named standard anchor (``anchor35`` / ``anchor70``) of ``reference``."""
    return lowpass(reference, sr, ANCHORS[name])


def integrated_loudness(x: np.ndarray, sr: int) -> float:
    """:func:`anim400k.signal.loudness` in LUFS (its one rule for clips under 400 ms); ``-inf`` for silence."""
    from ..signal import SILENT_LUFS, loudness

    lufs = loudness(x, sr)
    return -math.inf if lufs <= SILENT_LUFS else lufs


def match_loudness(x: np.ndarray, sr: int, target_lufs: float = DEFAULT_LUFS) -> tuple[np.ndarray, float]:
    """Scale ``x`` to ``target_lufs``; returns (scaled, applied gain in dB).

    Silent signals are returned unchanged (gain 0); clips under 400 ms are measured ungated. If the result would
    exceed :data:`PEAK_CEILING` it is scaled down to it (the gain reported includes that).
    """
    lufs = integrated_loudness(x, sr)
    if not math.isfinite(lufs):
        return x.astype(np.float32, copy=True), 0.0
    gain_db = target_lufs - lufs
    y = x * (10.0 ** (gain_db / 20.0))
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > PEAK_CEILING:
        y = y * (PEAK_CEILING / peak)
        gain_db += 20.0 * math.log10(PEAK_CEILING / peak)
    return y.astype(np.float32), gain_db


def pad_to(x: np.ndarray, n: int) -> np.ndarray:
    """Zero-pad (never trim) ``x`` to ``n`` samples."""
    if x.size >= n:
        return x
    return np.concatenate([x, np.zeros(n - x.size, dtype=x.dtype)])


class LoudnessUnreachable(ValueError):
    """A trial cannot be matched to the target without a stimulus peaking above :data:`PEAK_CEILING`.

    ``loudest`` is the loudest target (LUFS) every stimulus of the trial reaches,
    ``stimulus`` the one that limits it.
    """

    def __init__(self, target: float, loudest: float, stimulus: str) -> None:
        self.target, self.loudest, self.stimulus = target, loudest, stimulus
        super().__init__(
            f"{target:g} LUFS cannot be reached without clipping '{stimulus}' "
            f"(the loudest reachable is {math.floor(loudest * 10) / 10:.1f} LUFS)"
        )


def loudest_reachable(stimuli: dict[str, np.ndarray], sr: int) -> tuple[float, str]:
    """The loudest target (LUFS) all ``stimuli`` reach with peaks <= :data:`PEAK_CEILING`.

    Returns ``(lufs, limiting stimulus)``; ``(inf, "")`` when every stimulus is silent.
    """
    best, which = math.inf, ""
    for name, x in stimuli.items():
        lufs = integrated_loudness(x, sr)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        if not math.isfinite(lufs) or peak <= 0:
            continue
        reach = lufs + 20.0 * math.log10(PEAK_CEILING / peak)
        if reach < best:
            best, which = reach, name
    return best, which


def render_trial(
    reference: np.ndarray,
    systems: dict[str, np.ndarray],
    sr: int,
    anchors: tuple[str, ...] = tuple(ANCHORS),
) -> dict[str, np.ndarray]:
    """The raw stimuli of one trial (hidden reference, anchors, systems) zero-padded to a common length.

    Anchors are rendered from the reference; nothing is loudness matched yet (see :func:`prepare_trial`).
    """
    raw: dict[str, np.ndarray] = {REFERENCE: reference}
    for name in anchors:
        raw[name] = make_anchor(reference, sr, name)
    for name, audio in systems.items():
        if name in raw:
            raise ValueError(f"system name {name!r} clashes with a reserved stimulus name")
        raw[name] = audio
    n = max(x.size for x in raw.values())
    return {name: pad_to(np.asarray(x, dtype=np.float32), n) for name, x in raw.items()}


def match_trial(stimuli: dict[str, np.ndarray], sr: int, target_lufs: float = DEFAULT_LUFS) -> dict[str, np.ndarray]:
    """Scale every (already padded) stimulus to ``target_lufs``, measured on the signal as served.

    Never limits a single stimulus (that would unmatch the trial): raises :class:`LoudnessUnreachable`
    when a stimulus would peak above :data:`PEAK_CEILING`. Silent stimuli are left unchanged.
    """
    loudest, which = loudest_reachable(stimuli, sr)
    if target_lufs > loudest:
        raise LoudnessUnreachable(target_lufs, loudest, which)
    out = {}
    for name, x in stimuli.items():
        lufs = integrated_loudness(x, sr)
        if not math.isfinite(lufs):
            out[name] = x.astype(np.float32, copy=True)
            continue
        y = x.astype(np.float64) * (10.0 ** ((target_lufs - lufs) / 20.0))
        out[name] = np.clip(y, -PEAK_CEILING, PEAK_CEILING).astype(np.float32)  # float rounding only
    return out


def prepare_trial(
    reference: np.ndarray,
    systems: dict[str, np.ndarray],
    sr: int,
    target_lufs: float = DEFAULT_LUFS,
    anchors: tuple[str, ...] = tuple(ANCHORS),
) -> dict[str, np.ndarray]:
    """All stimuli of one trial: hidden reference, anchors and systems, padded then loudness matched.

    Every stimulus is zero-padded to the longest one (so that a shared playhead works) *before* its
    loudness is measured, so the level matched is the level of the file served. Anchors are rendered
    from the reference before matching, then matched too. :class:`LoudnessUnreachable` if a stimulus
    would have to be limited to reach ``target_lufs``.
    """
    return match_trial(render_trial(reference, systems, sr, anchors), sr, target_lufs)
