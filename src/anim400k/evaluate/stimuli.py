"""Stimulus preparation for listening tests: resampling, anchors, loudness matching, padding.

Pure functions over float32 arrays; file I/O goes through :mod:`anim400k.media`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: ITU-R BS.1534-3 anchors: the low anchor is low-passed at 3.5 kHz, the mid anchor at 7 kHz.
ANCHORS: dict[str, float] = {"anchor35": 3500.0, "anchor70": 7000.0}
REFERENCE = "reference"
DEFAULT_LUFS = -23.0
#: Peak ceiling after loudness matching (linear); louder stimuli are scaled down to it.
PEAK_CEILING = 0.98


#: a mean downmix this far (dB) below the summed power of its weighted channels has cancelled (:func:`downmix`)
CANCELLED_DB = 10.0


def downmix(samples: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Mono float32 of ``(channels, n)`` ``samples`` that cannot cancel a real signal.

    The mean downmix (:func:`anim400k.media.audio.dialogue_downmix_weights`: ``(L + R) / 2``; a 5.1 mix's centre
    weighs 1.414 and its surrounds 0.707, LFE left out, so its dialogue sits against the music where a stereo
    downmix has it, as in the build's and the dub's audio; until 2026-12-06 the centre weighed 0.707), unless
    its power is more than :data:`CANCELLED_DB` below what it would be were the channels unrelated (the sum of
    each channel's power times its weight squared): then channels in opposite phase cancelled (``L = x,
    R = -x`` sums to nothing) and the loudest channel (largest mean square, LFE left out) is used instead.
    A channel alone (one-sided stereo, speech only in a 5.1 centre) does not count as cancelled.
    """
    from ..media.audio import dialogue_downmix_weights

    x = np.asarray(samples, dtype=np.float32)
    if x.shape[0] == 1:
        return np.ascontiguousarray(x[0])
    w = dialogue_downmix_weights(list(names)).astype(np.float64)
    mono = (w.astype(np.float32) @ x).astype(np.float32)
    power = np.mean(np.square(x, dtype=np.float64), axis=1) if x.shape[1] else np.zeros(x.shape[0])
    unrelated = float(np.sum(w**2 * power))
    if unrelated > 0 and float(np.mean(np.square(mono, dtype=np.float64))) < unrelated * 10 ** (-CANCELLED_DB / 10):
        return np.ascontiguousarray(x[int(np.argmax(np.where(w > 0, power, -1.0)))])
    return mono


@dataclass(frozen=True)
class DecodedAudio:
    """A file's audio stream as decoded, every channel kept: ``(channels, n)`` float32 and FFmpeg's channel names."""

    samples: np.ndarray
    names: tuple[str, ...]

    @property
    def loudness_weights(self) -> list[float]:
        """BS.1770 weight of each channel (L/R/C 1.0, surrounds 1.41, LFE 0) for :func:`anim400k.signal.loudness`."""
        from ..media.audio import loudness_weights

        return loudness_weights(self.names)

    def mono(self) -> np.ndarray:
        """The :func:`downmix` of the channels."""
        return downmix(self.samples, self.names)


def load_channels(path: str | Path, sr: int) -> DecodedAudio:
    """Decode the first audio stream of ``path`` at ``sr`` Hz with every channel (any format PyAV reads)."""
    from ..media import decode_audio, probe
    from ..media.audio import decoded_channel_names
    from ..media.probe import select_audio_stream

    x = np.asarray(decode_audio(path, 0, sr=sr, mono=False), dtype=np.float32)
    names = decoded_channel_names(select_audio_stream(probe(path), 0), x.shape[0])
    return DecodedAudio(x, tuple(names))


def load_mono(path: str | Path, sr: int) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``sr`` Hz (any format PyAV reads): the :func:`downmix` of its channels,
    so channels in opposite phase never cancel to silence."""
    return load_channels(path, sr).mono()


def save_wav(path: str | Path, samples: np.ndarray, sr: int) -> Path:
    """Write 16-bit PCM WAV atomically."""
    from ..media import write_audio

    return write_audio(path, np.asarray(samples, dtype=np.float32), sr)


#: ITU-R BS.1534-3 §5.1 mask of the 3.5 kHz anchor's low-pass: pass band ripple at most ±0.1 dB up to f_c,
#: at least 25 dB attenuation at 4 kHz and 50 dB at 4.5 kHz. The 7 kHz anchor gets the same mask moved to
#: 7 kHz (>= 25 dB at 7.5 kHz, >= 50 dB at 8 kHz), the 500 Hz transition webMUSHRA's anchor filters have.
ANCHOR_TRANSITION_HZ = 500.0
#: stop band attenuation of :func:`anchor_filter` (Kaiser window): 60 dB keeps the pass band within ±0.01 dB
ANCHOR_STOP_DB = 60.0


def anchor_filter(sr: int, cutoff: float) -> np.ndarray:
    """Linear-phase (odd-length, symmetric) FIR low-pass meeting BS.1534-3's anchor mask for ``cutoff``.

    Kaiser-window design (``scipy.signal.kaiserord``/``firwin``): pass band edge ``cutoff`` (ripple within
    ±0.01 dB), stop band from ``cutoff`` + :data:`ANCHOR_TRANSITION_HZ` (or the Nyquist frequency, if lower)
    at :data:`ANCHOR_STOP_DB`; the -6 dB point is in the middle of the transition (3.75 kHz for the 3.5 kHz
    anchor, as in webMUSHRA's ``createAnchor35`` filters).
    """
    from scipy.signal import firwin, kaiserord

    nyquist = sr / 2
    if cutoff >= nyquist:
        raise ValueError(f"cutoff {cutoff} Hz is not below the Nyquist frequency of {sr} Hz")
    width = min(ANCHOR_TRANSITION_HZ, nyquist - cutoff)
    numtaps, beta = kaiserord(ANCHOR_STOP_DB, width / nyquist)
    numtaps |= 1  # odd: a whole-sample delay, removed exactly by centring
    return np.asarray(firwin(numtaps, cutoff + width / 2, window=("kaiser", beta), fs=sr), dtype=np.float64)


def lowpass(x: np.ndarray, sr: int, cutoff: float) -> np.ndarray:
    """Zero-phase low-pass of ``x`` with :func:`anchor_filter` (BS.1534-3's anchor mask).

    The linear-phase FIR is applied centred (its delay of half its length removed), so the anchor stays
    sample-aligned with the reference and the playhead stays aligned when switching.
    (It was a 10th-order Butterworth run forwards and backwards: -6 dB at the cut-off itself and -1 dB
    from 3.16 kHz at 48 kHz, outside the mask's ±0.1 dB pass band.)
    """
    from scipy.signal import oaconvolve

    h = anchor_filter(sr, cutoff)
    x = np.asarray(x)
    if x.size == 0:
        return x.astype(np.float32, copy=True)
    full = oaconvolve(x.astype(np.float64), h, mode="full")
    delay = (h.size - 1) // 2
    return full[delay : delay + x.size].astype(np.float32)


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
