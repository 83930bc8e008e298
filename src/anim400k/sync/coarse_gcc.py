"""Long media, phase-based coarse stage: GCC-PHAT excerpt matches at 2 kHz over a few speed factors.

The band-energy windows (:mod:`.features`) follow whatever dominates the log-mel envelope; in a real
mix that is the dialogue (10-20 dB over the music-and-effects stem), which differs between the two
languages, so most windows can land at random lags. GCC-PHAT weighs every frequency bin by its
phase alone, so the bins where the shared M&E shows between the dialogue's harmonics and pauses
still line up (the short path's :func:`.vote.gcc_vote` relies on the same property).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import fft as sfft
from scipy.signal.windows import tukey

from .line import ransac_line
from .params import (
    COARSE_TOLERANCE,
    GCC_COARSE_AGREEMENT,
    GCC_COARSE_EXCERPTS,
    GCC_COARSE_LIKELY_DRIFTS,
    GCC_COARSE_PIECE,
    GCC_COARSE_PIECES,
    GCC_COARSE_STEP,
    VOTE_RATE,
)


class GccLine(NamedTuple):
    """A coarse line ``t_en = a + b t_jp`` through GCC-PHAT excerpt matches.

    ``matches``: ``(t_jp, t_en, score, inlier)`` per excerpt (centres; ``score`` = the peak of the
    excerpt's summed votes in robust sigmas); ``speeds``: how many speed factors were tried.
    """

    a: float
    b: float
    matches: list[tuple[float, float, float, bool]]
    speeds: int

    @property
    def inlier_fraction(self) -> float:
        """Fraction of the excerpt matches on the line."""
        return float(np.mean([m[3] for m in self.matches])) if self.matches else 0.0


def _excerpt_match(
    xj: np.ndarray, xe: np.ndarray, fr: int, t: float, b: float, max_offset: float
) -> tuple[float, float, float] | None:
    """``(t_jp, t_en, score)`` of the JP excerpt starting at ``t`` (s) for speed factor ``b``, or None.

    The excerpt (:data:`GCC_COARSE_PIECES` pieces of :data:`GCC_COARSE_PIECE` s) is resampled by
    ``b``; each piece's GCC-PHAT against the EN window ``b t ± max_offset`` (scaled to unit noise
    rms, negatives dropped) votes for where the excerpt starts in EN, on blocks as wide as the
    grid's worst warp error over the excerpt (max within a block, then over neighbouring blocks).
    ``score``: the summed votes' peak over their median, in robust sigmas.
    """
    import soxr

    span = GCC_COARSE_PIECE * GCC_COARSE_PIECES
    j0 = int(round(t * fr))
    y = soxr.resample(xj[j0 : j0 + int(span * fr)], fr, fr * b)
    ls = int(GCC_COARSE_PIECE * fr)
    if y.size < 0.9 * span * fr:
        return None
    # spread over the resampled excerpt (slightly overlapping when b < 1)
    starts = np.linspace(0, y.size - ls, GCC_COARSE_PIECES).round().astype(int)
    e0 = max(0, int(math.floor((b * t - max_offset) * fr)))
    e1 = min(xe.size, int(math.ceil((b * t + max_offset) * fr)) + y.size)
    ew = xe[e0:e1]
    n_votes = ew.size - ls - int(starts[-1]) + 1
    blk = max(1, int(math.ceil((0.25 * GCC_COARSE_STEP * span + 0.001) * fr)))
    n_blocks = n_votes // blk
    if n_blocks < 16:
        return None
    nfft = sfft.next_fast_len(ew.size + ls)
    spec_e = sfft.rfft(ew, nfft)
    spec_e /= np.abs(spec_e) + 1e-12
    taper = tukey(ls, 0.2).astype(np.float32)
    votes = np.zeros(n_blocks)
    for s in starts:
        spec_j = sfft.rfft(y[s : s + ls] * taper, nfft)
        spec_j /= np.abs(spec_j) + 1e-12
        # unit-magnitude cross-spectrum: the correlation's noise rms is ~1/sqrt(nfft)
        z = sfft.irfft(spec_e * np.conj(spec_j), nfft)[s : s + n_blocks * blk] * math.sqrt(nfft)
        zb = np.maximum(z, 0.0).reshape(n_blocks, blk).max(axis=1)
        votes += np.maximum(zb, np.maximum(np.roll(zb, 1), np.roll(zb, -1)))
    k = int(np.argmax(votes))
    med = float(np.median(votes))
    mad = float(np.median(np.abs(votes - med))) * 1.4826 + 1e-12
    t_en = (e0 + k * blk + 0.5 * blk) / fr  # where the excerpt's start lies in EN
    return t + 0.5 * span, t_en + 0.5 * span * b, (float(votes[k]) - med) / mad


def _matches(
    xj: np.ndarray, xe: np.ndarray, fr: int, starts: np.ndarray, b: float, max_offset: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The excerpt matches ``(t_jp, t_en, score)`` for speed factor ``b`` (excerpts that fit only)."""
    found = [m for t in starts if (m := _excerpt_match(xj, xe, fr, float(t), b, max_offset)) is not None]
    if not found:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    tj, te, sc = (np.array(v) for v in zip(*found, strict=True))
    return tj, te, sc


def _fit(tj: np.ndarray, te: np.ndarray, sc: np.ndarray, b: float) -> tuple[float, float, np.ndarray] | None:
    """RANSAC line through the matches with a slope within one grid step of ``b``."""
    if tj.size < 3:
        return None
    slopes = (b - GCC_COARSE_STEP, b + GCC_COARSE_STEP)
    return ransac_line(tj, te, np.maximum(sc, 0.0), COARSE_TOLERANCE, slope_range=slopes)


def gcc_coarse(jp: np.ndarray, en: np.ndarray, sr: int, max_offset: float, max_drift: float) -> GccLine | None:
    """A coarse line for long media from GCC-PHAT excerpt matches at 2 kHz, or None.

    :data:`GCC_COARSE_EXCERPTS` JP excerpts spread over the track are matched (see
    :func:`_excerpt_match`) for the likely speed factors first (:data:`GCC_COARSE_LIKELY_DRIFTS`:
    none, 23.976/24 fps, PAL); the speed factor with the highest summed excerpt score wins and a
    RANSAC line goes through its matches. Only when fewer than :data:`GCC_COARSE_AGREEMENT` of the
    excerpts (and 3) agree on it is the rest of the 0.2 % grid within ``max_drift`` scored, on
    every other excerpt, and its two best speed factors matched on all of them. None when no
    line goes through 3 matches and that fraction of them. The cost grows with ``max_offset``
    (each piece is correlated with a ``2 max_offset`` window), hardly with the duration.
    """
    import soxr

    fr = min(VOTE_RATE, sr)
    xj = soxr.resample(jp, sr, fr) if sr != fr else jp
    xe = soxr.resample(en, sr, fr) if sr != fr else en
    span = GCC_COARSE_PIECE * GCC_COARSE_PIECES
    if xj.size < span * fr or xe.size < span * fr:
        return None
    starts = np.linspace(0.0, xj.size / fr - span - 0.01, GCC_COARSE_EXCERPTS)
    tried = 0
    on_all: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # matches on every excerpt, per b

    def best_of(drifts: list[float], every: int) -> list[tuple[float, float]]:
        """``(score, b)`` per speed factor on every ``every``-th excerpt, best first (summed excerpt scores)."""
        nonlocal tried
        out = []
        for d in drifts:
            tried += 1
            found = _matches(xj, xe, fr, starts[::every], 1.0 + d, max_offset)
            if every == 1:
                on_all[1.0 + d] = found
            out.append((float(np.sum(found[2])), 1.0 + d))
        return sorted(out, reverse=True)

    def line_at(b: float) -> GccLine | None:
        tj, te, sc = on_all[b] if b in on_all else _matches(xj, xe, fr, starts, b, max_offset)
        fit = _fit(tj, te, sc, b)
        if fit is None:
            return None
        a, slope, inl = fit
        matches = [(float(x), float(y), float(s), bool(i)) for x, y, s, i in zip(tj, te, sc, inl, strict=True)]
        return GccLine(float(a), float(slope), matches, tried)

    def agreed(line: GccLine | None) -> bool:
        return line is not None and sum(m[3] for m in line.matches) >= max(3, GCC_COARSE_AGREEMENT * len(line.matches))

    likely = [d for d in GCC_COARSE_LIKELY_DRIFTS if abs(d) <= max_drift + 1e-9]
    ranked = best_of(likely, 1)
    first = line_at(ranked[0][1]) if ranked else None
    if first is not None and agreed(first):
        return first._replace(speeds=tried)
    n_steps = int(math.floor(max_drift / GCC_COARSE_STEP + 1e-9))
    grid = [k * GCC_COARSE_STEP for k in range(-n_steps, n_steps + 1)]
    rest = [d for d in grid if min(abs(d - x) for x in likely) > 0.5 * GCC_COARSE_STEP + 1e-9]
    found = None
    for _, b in best_of(rest, 2)[:2]:
        line = line_at(b)
        if line is not None and agreed(line) and (found is None or line.inlier_fraction > found.inlier_fraction):
            found = line
    return found._replace(speeds=tried) if found is not None else None
