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


#: Speech kept around each segment when the vocals are gated (s): the segments are trimmed to audible speech,
#: so breaths, quiet onsets and decays lie just outside them.
GATE_PAD_S = 0.25
#: Raised-cosine ramp at each edge of the gate (s).
GATE_FADE_S = 0.05


def gate_vocals(vocals: np.ndarray, sr: int, spans: Sequence[tuple[float, float]], pad: float = GATE_PAD_S,
                fade: float = GATE_FADE_S) -> np.ndarray:
    """Zero ``vocals`` (in place; returned) outside ``spans`` (seconds) widened by ``pad``, with a ``fade`` ramp.

    The dub's backing is ``mix - vocals``; a single-track separator also takes part of the music into its
    "vocals" where nobody speaks (HPSS on the demo's episode: -36.5 LUFS of music between lines, 4.2 dB of
    the backing's loudness there). Gated, the backing is the source mix itself wherever no speech was found,
    as in the original, instead of a music bed 4 dB quieter between every line.
    """
    n = len(vocals)
    keep = np.zeros(n + 1, dtype=np.int32)  # +1 at a span's start, -1 after its end (then a running sum)
    ramp = max(1, int(round(fade * sr)))
    for a, b in spans:
        lo, hi = max(0, int(round((a - pad) * sr)) - ramp), min(n, int(round((b + pad) * sr)) + ramp)
        if hi > lo:
            keep[lo] += 1
            keep[hi] -= 1
    inside = np.cumsum(keep[:n]) > 0
    edges = np.flatnonzero(np.diff(inside.astype(np.int8), prepend=np.int8(0), append=np.int8(0)))
    up = (0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)).astype(np.float32)
    prev = 0
    for lo, hi in zip(edges[::2], edges[1::2], strict=True):
        vocals[prev:lo] = 0.0
        r = min(ramp, (hi - lo) // 2)
        vocals[lo : lo + r] *= up[:r]
        vocals[hi - r : hi] *= up[:r][::-1]
        prev = hi
    vocals[prev:] = 0.0
    return vocals


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
    peak = 0.0
    margin = 64
    for a in range(0, x.size, block):
        b = min(x.size, a + block)
        peak = max(peak, float(np.max(np.abs(x[a:b]))))  # the samples themselves, a block at a time
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
    return _limit_into(Parts((x,)), None, np.empty_like(x), sr, ceiling, release_s, block)


class Parts:
    """The sum of equal-length float32 mono ``arrays`` (each with its sign, default +1), read a slice at a time.

    ``parts[a:b]`` equals ``(arrays[0] + signs[1] * arrays[1] + ...)[a:b]`` bit for bit (the same float32
    additions in the same order), so a backing ``mix - vocals`` is kept as the two arrays it comes from, and
    backing plus speech is mastered without another full-length array. Only unit-step slices are read.
    """

    def __init__(self, arrays: Sequence[np.ndarray], signs: Sequence[int] | None = None) -> None:
        if not arrays:
            raise ValueError("Parts needs at least one array")
        self.arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
        self.signs = list(signs) if signs is not None else [1] * len(self.arrays)
        n = len(self.arrays[0])
        if any(len(a) != n for a in self.arrays) or len(self.signs) != len(self.arrays) or self.signs[0] != 1:
            raise ValueError(f"Parts needs equal lengths and a first sign of +1, got lengths "
                             f"{[len(a) for a in self.arrays]} and signs {self.signs}")
        self.n = n
        self.ndim = 1
        self.dtype = np.dtype(np.float32)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice):
            raise TypeError("Parts is read by unit-step slices only")
        a, b, step = index.indices(self.n)
        if step != 1:
            raise TypeError("Parts is read by unit-step slices only")
        return self.block(a, max(a, b))

    def block(self, a: int, b: int) -> np.ndarray:
        """Samples ``a:b`` of the sum (a new float32 array)."""
        out = self.arrays[0][a:b].copy()
        for arr, sign in zip(self.arrays[1:], self.signs[1:], strict=True):
            if sign < 0:
                out -= arr[a:b]
            else:
                out += arr[a:b]
        return out

    def materialize(self, out: np.ndarray | None = None) -> np.ndarray:
        """The whole sum as one array, made block by block (into ``out`` when given: it may be one of the
        arrays, each block being read before it is overwritten)."""
        if out is None:
            out = np.empty(self.n, dtype=np.float32)
        elif out.shape != (self.n,) or out.dtype != np.float32:
            raise ValueError(f"materialize needs a float32 ({self.n},) array, got {out.dtype} {out.shape}")
        for a in range(0, self.n, BLOCK):
            out[a : a + BLOCK] = self.block(a, min(self.n, a + BLOCK))
        return out


def _limit_into(
    x: Parts, scale: np.float32 | None, out: np.ndarray, sr: int, ceiling: float, release_s: float, block: int
) -> np.ndarray:
    """:func:`limit_peaks` of ``x`` times ``scale`` (when given), written into ``out`` block by block."""
    window = max(1, int(release_s * sr))
    margin = 2 * window + 2
    n = len(x)
    for a in range(0, n, block):
        b = min(n, a + block)
        lo, hi = max(0, a - margin), min(n, b + margin)
        piece = x.block(lo, hi)
        if scale is not None:
            piece *= scale
        gain = _limiter_gain(piece, ceiling, window)
        out[a:b] = piece[a - lo : b - lo] * gain[a - lo : b - lo]
    peak = true_peak(out, block)
    if peak > ceiling:  # rare residual overshoot: plain gain reduction
        out *= ceiling / peak
    return out


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
    return master_sum([np.asarray(mix, dtype=np.float32)], sr, target_lufs)


def master_sum(
    parts: Sequence[np.ndarray], sr: int, target_lufs: float | None, signs: Sequence[int] | None = None
) -> tuple[np.ndarray, float | None]:
    """:func:`master` of the sum of the equal-length mono ``parts`` (each with its sign of ``signs``, default
    +1: e.g. mix, vocals and speech with signs +1, -1, +1), bit for bit the same as of the summed array.

    The sum is never held whole: the one full-length array made is the result, which first holds the
    plain sum (to measure its loudness) and is then overwritten by each round of the limiter, which reads
    its input from ``parts`` block by block (:data:`BLOCK`). Memory is the parts plus one track.
    """
    x = Parts(parts, signs)
    out = x.materialize()
    if len(x) == 0:
        return out, None
    current = mixing.loudness(out, sr)
    if target_lufs is None or target_lufs <= SILENT_LUFS or current <= SILENT_LUFS:
        return _limit_into(x, None, out, sr, PEAK_CEILING, 0.05, BLOCK), None
    gain_db = float(target_lufs - current)
    # mixing.normalize, without measuring again
    _limit_into(x, np.float32(10 ** (gain_db / 20)), out, sr, PEAK_CEILING, 0.05, BLOCK)
    for _ in range(MAKEUP_ROUNDS):
        miss = float(target_lufs - mixing.loudness(out, sr))
        if abs(miss) <= MAKEUP_TOLERANCE_LU:
            break
        gain_db += miss
        _limit_into(x, np.float32(10 ** (gain_db / 20)), out, sr, PEAK_CEILING, 0.05, BLOCK)
    return out, gain_db
