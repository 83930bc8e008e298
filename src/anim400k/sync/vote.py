"""Short media: the GCC-PHAT offset vote over speed factors and the coherence index of two aligned tracks."""

from __future__ import annotations

import math

import numpy as np
from scipy import fft as sfft

from .params import (
    COHERENCE_BAND,
    COHERENCE_FRAME,
    COHERENCE_LOW,
    DRIFT_STEP,
    FINE_LOW_RATE,
    VOTE_RATE,
    VOTE_SEGMENT,
)


def gcc_vote(
    jp: np.ndarray, en: np.ndarray, sr: int, max_offset: float, max_drift: float, min_overlap: float
) -> tuple[float, float, float, float] | None:
    """Coarse ``(a, b, score, psr)`` for short media from phase-coherent (GCC-PHAT) segment votes.

    Both tracks are decimated to :data:`VOTE_RATE`. For every speed factor ``b = 1 + d`` on
    a 0.25 % grid, JP is resampled onto the EN time scale and cut into half-overlapping
    segments (up to 3 s); each segment's GCC-PHAT against the whole EN track (scaled to unit
    noise rms, negative values dropped) votes for the offset ``a`` it implies, on blocks of
    lags as wide as the worst warp error of the grid. With the right ``b`` the segments vote
    for the same ``a``. The best ``b`` is then refined on a grid 8 times finer. ``score`` is
    the winning vote per segment and ``psr`` its peak-to-sidelobe ratio (diagnostics only).
    """
    import soxr

    fr = min(VOTE_RATE, sr)
    xj = soxr.resample(jp, sr, fr) if sr != fr else jp
    xe = soxr.resample(en, sr, fr) if sr != fr else en
    tj, te = xj.size / fr, xe.size / fr
    seg_s = float(np.clip(tj / 4.0, 1.0, VOTE_SEGMENT))
    n_seg = int(np.clip(round(2 * tj / seg_s), 3, 16))
    a_lo = max(-max_offset, -(tj * (1 + max_drift)) + min_overlap)
    a_hi = min(max_offset, te - min_overlap)
    if a_hi <= a_lo:
        return None
    lags = np.arange(int(math.floor(a_lo * fr)), int(math.ceil(a_hi * fr)) + 1)
    step = DRIFT_STEP
    n_steps = int(math.ceil(max_drift / step))
    drifts = np.linspace(-max_drift, max_drift, 2 * n_steps + 1)
    ls = int(seg_s * fr)
    nfft = sfft.next_fast_len(xe.size + ls + 1)
    E = sfft.rfft(xe, nfft)
    taper = np.hanning(ls).astype(np.float32)
    lag0 = lags[0]

    def votes_for(d: float, blk: int) -> np.ndarray | None:
        """Votes on blocks of ``blk`` lags (max within a block, then over neighbouring blocks)."""
        y = soxr.resample(xj, fr, fr * (1.0 + d)) if abs(d) > 1e-9 else xj
        if y.size < ls:
            return None
        n_blocks = lags.size // blk
        lg = lags[: n_blocks * blk]
        votes = np.zeros(n_blocks)
        for s in np.linspace(0, y.size - ls, n_seg).round().astype(int):
            R = E * np.conj(sfft.rfft(y[s : s + ls] * taper, nfft))
            R /= np.abs(R) + 1e-12
            # with a unit-magnitude cross-spectrum the correlation's rms is ~1/sqrt(nfft)
            z = sfft.irfft(R, nfft)[(lg + s) % nfft] * math.sqrt(nfft)
            zb = np.maximum(z, 0.0).reshape(n_blocks, blk).max(axis=1)
            votes += np.maximum(zb, np.maximum(np.roll(zb, 1), np.roll(zb, -1)))
        return votes

    def search(cands: np.ndarray, step: float) -> tuple[float, float, np.ndarray, int, int] | None:
        # a drift error of up to step/2 moves the segments' votes by up to step/4 of the track
        blk = max(1, int(math.ceil((0.25 * step * tj + 0.001) * fr)))
        if lags.size // blk < 3:
            return None
        found = None
        for d in cands:
            votes = votes_for(float(d), blk)
            if votes is None:
                continue
            k = int(np.argmax(votes))
            if found is None or votes[k] > found[0]:
                found = (float(votes[k]), float(d), votes, k, blk)
        return found

    best = search(drifts, step)
    if best is None:
        return None
    fine_step = step / 8
    best = search(best[1] + fine_step * np.arange(-4, 5), fine_step) or best
    peak, d, votes, k, blk = best
    excl = max(2, int(0.05 * fr / blk))
    side = np.concatenate([votes[: max(0, k - excl)], votes[k + excl + 1 :]])
    psr = (peak - float(side.mean())) / (float(side.std()) + 1e-9) if side.size > 8 else 0.0
    return float((lag0 + k * blk + blk // 2) / fr), 1.0 + d, peak / n_seg, psr


def coherence_index(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float) -> tuple[float, int]:
    """Mean magnitude-squared coherence (0.1-1.8 kHz) of JP and EN aligned by ``t_en = a + b t_jp``.

    Returns ``(coherence, n_frames)``; for independent tracks the coherence is ~1/n_frames.
    """
    P = _phasors(jp, en, sr, a, b)
    if P is None:
        return 0.0, 0
    k = P.shape[1]
    return float((np.abs(P.mean(axis=1)) ** 2).mean() * k), k


def coherence_parts(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, parts: int = 3) -> list[float]:
    """The coherence index (as :func:`coherence_index`) of each of ``parts`` equal stretches of the overlap, in
    order; [] when the overlap is too short. A line that holds over part of the tracks only (an EN track with a
    scene cut or added) is coherent there and ~1 elsewhere, where the whole overlap's index still reads high."""
    P = _phasors(jp, en, sr, a, b)
    if P is None or P.shape[1] < parts * 4:
        return []
    return [float((np.abs(q.mean(axis=1)) ** 2).mean() * q.shape[1]) for q in np.array_split(P, parts, axis=1)]


#: a stretch this far (dB) under its track's level over the overlap is silent (:func:`edited_part`)
SILENT_PART_DB = -30.0


def edited_part(
    jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, parts: int = 3, scores: list[float] | None = None
) -> tuple[int, float] | None:
    """``(index, coherence index)`` of the first of ``parts`` stretches of the overlap that the line ``t_en = a + b
    t_jp`` does not hold over (an EN track with a scene cut or added: it reads ~1 there, as unrelated tracks do);
    None when every stretch is coherent at the line or silent.

    A stretch where either track is silent (:data:`SILENT_PART_DB` under that track's level over the overlap: 10 s of
    digital silence in front of both) has no sound to be coherent with; it was taken for an edit, and a right
    estimate got confidence 0.4 (the build then assumed no offset). A stretch that is coherent nowhere but not
    silent stays suspect: a scene cut takes out sound that no EN offset holds (a first version that asked for
    coherence at another offset passed 3 s cuts at confidence 1.00).
    """
    scores = coherence_parts(jp, en, sr, a, b, parts) if scores is None else scores  # (given: the caller's)
    if not scores or min(scores) >= COHERENCE_LOW:
        return None
    lo, hi = max(0.0, -a / b), min(jp.size / sr, (en.size / sr - a) / b)
    step = (hi - lo) / parts

    def level(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0

    j_all = level(jp[int(lo * sr):int(hi * sr)])
    e_all = level(en[int((a + b * lo) * sr):int((a + b * hi) * sr)])
    floor = 10 ** (SILENT_PART_DB / 20)
    for k, score in enumerate(scores):
        if score >= COHERENCE_LOW:
            continue
        t0, t1 = lo + k * step, lo + (k + 1) * step
        j_part = level(jp[int(t0 * sr):int(t1 * sr)])
        e_part = level(en[max(0, int((a + b * t0) * sr)):int((a + b * t1) * sr)])
        if j_part <= floor * j_all or e_part <= floor * e_all:
            continue
        return k, score
    return None


def _phasors(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float) -> np.ndarray | None:
    """The unit cross-spectrum phasors (0.1-1.8 kHz bins x STFT frames) of JP and EN aligned by ``t_en = a + b t_jp``,
    over their overlap; None when it is shorter than 4 frames."""
    import soxr
    from scipy.signal import stft

    fr = min(FINE_LOW_RATE, sr)
    xj = soxr.resample(jp, sr, fr) if sr != fr else jp
    z = soxr.resample(en, sr, fr / b)
    start = int(round(a * fr / b))  # z index of JP sample 0
    lo, hi = max(0, -start), min(xj.size, z.size - start)
    nper = COHERENCE_FRAME
    if hi - lo < 4 * nper:
        return None
    f, _, J = stft(xj[lo:hi], fs=fr, nperseg=nper)
    _, _, E = stft(z[lo + start : hi + start], fs=fr, nperseg=nper)
    band = (f >= COHERENCE_BAND[0]) & (f <= COHERENCE_BAND[1])
    P = J[band] * np.conj(E[band])
    P /= np.abs(P) + 1e-20
    return P


def phat_offset(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, halfwidth: float) -> tuple[float, float]:
    """``(offset, psr)``: the offset near ``a`` (within ``halfwidth`` seconds) at which JP, played at speed ``b``, lines
    up with EN best, the peak of the whole overlap's GCC-PHAT at ``sr`` (sample-precise), and that peak's ratio to its
    sidelobes (its height over their mean, in their standard deviations, lags over 2 ms away and within half a
    second). The vote's offset is only as precise as its lag blocks (20 ms for 30 s)."""
    import soxr

    y = soxr.resample(jp, sr, sr * b) if abs(b - 1.0) > 1e-9 else jp
    nfft = sfft.next_fast_len(y.size + en.size + 1)
    R = sfft.rfft(en, nfft) * np.conj(sfft.rfft(y, nfft))
    R /= np.abs(R) + 1e-12
    z = sfft.irfft(R, nfft)
    lags = np.arange(int(math.floor((a - halfwidth) * sr)), int(math.ceil((a + halfwidth) * sr)) + 1)
    best = int(lags[int(np.argmax(z[lags % nfft]))])
    around = np.arange(best - sr // 2, best + sr // 2 + 1)
    side = z[around[np.abs(around - best) > sr // 500] % nfft]
    psr = (float(z[best % nfft]) - float(side.mean())) / (float(side.std()) + 1e-12)
    return best / sr, psr
