"""Loudness normalisation and the per-clip mixing ratio of speech over backing.

Definition (used by the release's ``mixing_ratio`` field and by the dubbing mixer):

1. Loudness: ``L(x)`` is :func:`anim400k.signal.loudness`, the ITU-R BS.1770-4 integrated
   loudness in LUFS (``pyloudnorm``, K-weighting, 400 ms gating blocks). For clips shorter
   than one gating block (400 ms), or whose gated loudness is undefined (everything below the
   -70 LUFS absolute gate), an ungated fallback is used: ``-0.691 + 10 log10(mean(x^2))`` (the
   BS.1770 formula without K-weighting or gating). Within one clip speech and backing
   always use the same method, so the ratio stays meaningful.
2. Normalise the speech ``s`` and the backing ``b`` of the clip each to the reference
   loudness ``REFERENCE_LUFS`` (-23 LUFS, EBU R128): ``s^ = s * 10^((-23 - L(s))/20)``, same
   for ``b^``.
3. Fit the clip's mix ``m ~= g_s s^ + g_b b^`` by non-negative least squares.
4. ``mixing_ratio = 20 log10(g_s / g_b)`` dB: how loud the speech sits over the backing
   when both are at equal loudness (positive: speech louder). It is clipped to
   ``[-RATIO_LIMIT_DB, +RATIO_LIMIT_DB]`` (a silent stem gives the limit). The overall gain
   is ``gain_db = 20 log10(g_b)``, so ``m ~= 10^(gain_db/20) (10^(ratio/20) s^ + b^)``,
   which :func:`remix` rebuilds.

With *separated* stems (the release: the JP mix and its separated backing) the backing is a
Wiener-type estimate that shrinks where the speech dominates, so ``fit_mix(mix, mix - b, b)``
reads high (+1.65 dB on a demo's 37 clips). :func:`estimated_mixing_ratios`, which the release
uses, takes the backing's loudness from :func:`restored_backing` (the shrinkage undone) instead;
the dubbing mixer keeps :func:`mixing_ratios` on its separated stems, since it places the dub
over that same separated backing. Figures: docs/separation.md, ``benchmarks/bench_mixing_ratio.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .signal import SILENT_LUFS as _SILENT_LUFS
from .signal import loudness, loudness_and_method, ungated_loudness

REFERENCE_LUFS = -23.0
RATIO_LIMIT_DB = 60.0


@dataclass(frozen=True, slots=True)
class MixFit:
    """One clip's fit: ``ratio_db`` (the mixing ratio), ``gain_db``, and the fit's residual SNR (dB)."""

    ratio_db: float
    gain_db: float
    g_speech: float
    g_backing: float
    residual_snr_db: float


def _pair_loudness(s: np.ndarray, b: np.ndarray, sr: int) -> tuple[float, float]:
    """Loudness of speech and backing with one method for both (gated when both allow it)."""
    (ls, gs), (lb, gb) = loudness_and_method(s, sr), loudness_and_method(b, sr)
    if gs != gb:  # one fell back: use the fallback for both
        ls = ungated_loudness(s) if np.any(s) else _SILENT_LUFS
        lb = ungated_loudness(b) if np.any(b) else _SILENT_LUFS
    return ls, lb


def normalize(x: np.ndarray, sr: int, target_lufs: float = REFERENCE_LUFS) -> np.ndarray:
    """``x`` scaled to ``target_lufs`` (unchanged if silent)."""
    lx = loudness(x, sr)
    if lx <= _SILENT_LUFS:
        return np.asarray(x, dtype=np.float32)
    return (np.asarray(x, dtype=np.float64) * 10 ** ((target_lufs - lx) / 20)).astype(np.float32)


def fit_mix(mix: np.ndarray, speech: np.ndarray, backing: np.ndarray, sr: int) -> MixFit:
    """Fit one clip (equal-length mono arrays): ratio, gain and residual SNR (see module docstring)."""
    m = np.asarray(mix, dtype=np.float64)
    s = np.asarray(speech, dtype=np.float64)
    b = np.asarray(backing, dtype=np.float64)
    n = min(m.size, s.size, b.size)
    if n == 0:
        raise ValueError("empty clip")
    m, s, b = m[:n], s[:n], b[:n]
    ls, lb = _pair_loudness(s, b, sr)
    s_hat = s * 10 ** ((REFERENCE_LUFS - ls) / 20) if ls > _SILENT_LUFS else np.zeros_like(s)
    b_hat = b * 10 ** ((REFERENCE_LUFS - lb) / 20) if lb > _SILENT_LUFS else np.zeros_like(b)
    gs, gb = _nnls2(m, s_hat, b_hat)
    resid = m - gs * s_hat - gb * b_hat
    em, er = float(np.dot(m, m)), float(np.dot(resid, resid))
    snr = 10 * np.log10((em + 1e-20) / (er + 1e-20))
    lim = RATIO_LIMIT_DB
    if gs <= 0 and gb <= 0:
        ratio = 0.0
    elif gb <= 0:
        ratio = lim
    elif gs <= 0:
        ratio = -lim
    else:
        ratio = float(np.clip(20 * np.log10(gs / gb), -lim, lim))
    gain = 20 * np.log10(gb) if gb > 0 else (20 * np.log10(gs) - lim if gs > 0 else -lim)
    return MixFit(
        ratio_db=ratio, gain_db=float(gain), g_speech=float(gs), g_backing=float(gb), residual_snr_db=float(snr)
    )


def _nnls2(m: np.ndarray, s: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Non-negative least squares for ``m ~= gs s + gb b`` (closed form, 2 unknowns)."""
    ss, bb, sb = float(np.dot(s, s)), float(np.dot(b, b)), float(np.dot(s, b))
    ms, mb = float(np.dot(m, s)), float(np.dot(m, b))
    det = ss * bb - sb * sb
    if det > 1e-12 * max(ss * bb, 1e-30):
        gs = (ms * bb - mb * sb) / det
        gb = (mb * ss - ms * sb) / det
        if gs >= 0 and gb >= 0:
            return gs, gb
    cands = [(0.0, 0.0)]
    if ss > 0:
        cands.append((max(0.0, ms / ss), 0.0))
    if bb > 0:
        cands.append((0.0, max(0.0, mb / bb)))

    def err(g: tuple[float, float]) -> float:
        return float(np.dot(m - g[0] * s - g[1] * b, m - g[0] * s - g[1] * b))

    return min(cands, key=err)


def clip_mixing_ratio(mix: np.ndarray, speech: np.ndarray, backing: np.ndarray, sr: int) -> float:
    """The mixing ratio (dB, speech over backing at equal loudness) of one clip."""
    return fit_mix(mix, speech, backing, sr).ratio_db


def _span(start: float, end: float, sr: int, n: int) -> tuple[int, int]:
    """The samples ``[a, b)`` of the clip ``(start, end)`` seconds in an ``n``-sample array (empty: ``a == b``)."""
    a = int(np.clip(round(start * sr), 0, n))
    return a, int(np.clip(round(end * sr), a, n))


def mixing_ratios(
    mix: np.ndarray,
    speech: np.ndarray,
    backing: np.ndarray,
    sr: int,
    intervals: Sequence[tuple[float, float]],
) -> list[MixFit]:
    """Fit every clip ``(start, end)`` (seconds) of episode-level arrays (one pass, slicing only)."""
    n = min(len(mix), len(speech), len(backing))
    out = []
    for start, end in intervals:
        a, b = _span(start, end, sr, n)
        if b - a == 0:
            out.append(MixFit(0.0, -RATIO_LIMIT_DB, 0.0, 0.0, 0.0))
            continue
        out.append(fit_mix(mix[a:b], speech[a:b], backing[a:b], sr))
    return out


def remix(
    speech: np.ndarray,
    backing: np.ndarray,
    ratio_db: float,
    sr: int,
    gain_db: float = 0.0,
    target_lufs: float | None = None,
) -> np.ndarray:
    """Rebuild a mix: ``10^(gain/20) (10^(ratio/20) s^ + b^)`` with ``s^``, ``b^`` at -23 LUFS.

    ``speech`` and ``backing`` are mono arrays (the result has the shorter length). With
    ``target_lufs`` the result is then normalised to that loudness (``gain_db`` is ignored).
    """
    s = np.asarray(speech, dtype=np.float64)
    b = np.asarray(backing, dtype=np.float64)
    n = min(s.size, b.size)
    s, b = s[:n], b[:n]
    ls, lb = _pair_loudness(s, b, sr)
    s_hat = s * 10 ** ((REFERENCE_LUFS - ls) / 20) if ls > _SILENT_LUFS else np.zeros_like(s)
    b_hat = b * 10 ** ((REFERENCE_LUFS - lb) / 20) if lb > _SILENT_LUFS else np.zeros_like(b)
    out = 10 ** (ratio_db / 20) * s_hat + b_hat
    if target_lufs is not None:
        return normalize(out, sr, target_lufs)
    return (10 ** (gain_db / 20) * out).astype(np.float32)



#: the exponent ``p`` of :func:`restored_backing` (see there)
SHRINKAGE_EXPONENT = 1.25
#: its STFT: 64 ms Hann window, 75 % overlap (the dual-track separator's)
_STFT_SECONDS, _STFT_OVERLAP = 0.064, 0.75


def restored_backing(mix: np.ndarray, backing: np.ndarray, sr: int,
                     exponent: float = SHRINKAGE_EXPONENT) -> np.ndarray:
    """The separated ``backing`` of ``mix`` with its Wiener shrinkage undone, for its level only.

    A separated backing is the mix weighted per STFT bin by a gain ``W = |B| / |M|`` (at most 1) that
    shrinks where the speech dominates: its power ``W^2 |M|^2`` falls short of the true backing's by the
    estimate's posterior variance. This returns the signal with power ``W^p |M|^2`` per bin (the mix's
    phase), ``p`` = ``exponent``: ``p = 2`` is the estimate itself, ``p = 1`` the expected power under a
    single-mix Wiener filter (``W |M|^2``: too much for a dual-track estimate, which also saw the EN mix).
    """
    from scipy.signal import istft, stft

    m = np.asarray(mix, dtype=np.float64)
    b = np.asarray(backing, dtype=np.float64)
    n = min(m.size, b.size)
    nper = max(16, int(round(_STFT_SECONDS * sr)))
    if n < nper:  # shorter than one window: no bins to weigh
        return b[:n]
    nover = int(nper * _STFT_OVERLAP)
    _, _, mm = stft(m[:n], sr, nperseg=nper, noverlap=nover)
    _, _, bb = stft(b[:n], sr, nperseg=nper, noverlap=nover)
    am = np.abs(mm)
    w = np.minimum(np.abs(bb) / np.maximum(am, 1e-30), 1.0)
    _, out = istft(w ** (exponent / 2) * mm, sr, nperseg=nper, noverlap=nover)
    return np.asarray(out[:n], dtype=np.float64)


def estimated_mixing_ratios(
    mix: np.ndarray,
    backing: np.ndarray,
    sr: int,
    intervals: Sequence[tuple[float, float]],
    exponent: float = SHRINKAGE_EXPONENT,
) -> list[float]:
    """Mixing ratio (dB) of every clip ``(start, end)`` (seconds) from the mix and its *separated* backing.

    The speech is ``mix - backing``; the backing's loudness is that of :func:`restored_backing` (the
    separated backing's shrinkage undone), computed on the clip plus one STFT window either side. The
    ratio is ``L(speech) - L(backing)`` (with true stems the least-squares fit of :func:`fit_mix`
    gives exactly that), clipped as there; an empty clip gives 0.
    """
    m = np.asarray(mix, dtype=np.float64)
    b = np.asarray(backing, dtype=np.float64)
    n = min(m.size, b.size)
    pad = max(16, int(round(_STFT_SECONDS * sr)))
    out = []
    for start, end in intervals:
        a, z = _span(start, end, sr, n)
        if z == a:
            out.append(0.0)
            continue
        a0, z0 = max(0, a - pad), min(n, z + pad)
        restored = restored_backing(m[a0:z0], b[a0:z0], sr, exponent)[a - a0 : z - a0]
        ls, lb = _pair_loudness(m[a:z] - b[a:z], restored, sr)
        out.append(_ratio_of(ls, lb))
    return out


def _ratio_of(ls: float, lb: float) -> float:
    """``ls - lb`` clipped to the limits; a silent stem gives the limit, both silent 0."""
    if ls <= _SILENT_LUFS and lb <= _SILENT_LUFS:
        return 0.0
    if lb <= _SILENT_LUFS:
        return RATIO_LIMIT_DB
    if ls <= _SILENT_LUFS:
        return -RATIO_LIMIT_DB
    return float(np.clip(ls - lb, -RATIO_LIMIT_DB, RATIO_LIMIT_DB))
