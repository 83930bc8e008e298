"""The most coherent *other* alignment of two tracks: what the coherence index at an estimate must beat.

The coherence index (:func:`anim400k.sync.vote.coherence_index`) is ~1 for independent tracks,
but stationary or periodic content shared by the two mixes (a held chord, a drone, a loop)
keeps a constant phase relation at *every* lag, so it raises the index at any alignment:
two tones with a slow tremolo gave an index of 10-25 at every lag of a 15 s pair, i.e.
confidence 1.0 for a wrong offset. Only the excess over the best rival alignment is
evidence for the estimate.
"""

from __future__ import annotations

import math

import numpy as np

from .params import COHERENCE_BAND, COHERENCE_FRAME, FINE_LOW_RATE, RIVAL_EXCLUSION, RIVAL_PHASES


def _unit_stft(x: np.ndarray, fr: int) -> np.ndarray:
    """Unit-magnitude STFT phasors of ``x`` in the coherence band (bins x frames)."""
    from scipy.signal import stft

    f, _, X = stft(x, fs=fr, nperseg=COHERENCE_FRAME)
    band = (f >= COHERENCE_BAND[0]) & (f <= COHERENCE_BAND[1])
    X = X[band]
    return X / (np.abs(X) + 1e-20)


def rival_coherence(
    jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float, max_offset: float, min_overlap: float
) -> tuple[float, float]:
    """``(index, offset)`` of the most coherent alignment ``t_en = offset + b t_jp`` away from ``a``.

    Every offset within ``max_offset`` whose overlap is at least ``min_overlap`` seconds and
    half the estimate's, and which lies more than :data:`RIVAL_EXCLUSION` from ``a``, is
    scored on a grid of 1/:data:`RIVAL_PHASES` of a frame hop (per band bin, a cross-correlation
    of the unit STFT phasors along the frames, by FFT). The index is scaled to the estimate's
    number of frames, so that a loop repeating within the overlap scores as high as the truth
    (the two are then indistinguishable). Returns ``(0.0, a)`` when there is no admissible rival.
    """
    import soxr

    fr = min(FINE_LOW_RATE, sr)
    hop = COHERENCE_FRAME // 2
    xj = soxr.resample(jp, sr, fr) if sr != fr else jp
    z = soxr.resample(en, sr, fr / b)  # EN on the JP time scale
    st_est = a * fr / b  # z sample of JP sample 0 at the estimate
    k_est = (min(xj.size, z.size - st_est) - max(0.0, -st_est)) / hop
    J = _unit_stft(xj, fr)
    nj = J.shape[1]
    min_frames = max(min_overlap * fr / hop, 0.5 * k_est, 4.0)
    best, best_a = 0.0, a
    for p in range(RIVAL_PHASES):
        shift = p * hop // RIVAL_PHASES
        if z.size - shift < COHERENCE_FRAME * 4:
            break
        Z = _unit_stft(z[shift:], fr)
        nz = Z.shape[1]
        n = 1 << math.ceil(math.log2(nj + nz))
        # c[s] = sum_t conj(J[t]) Z[t + s]; s < 0 wraps to n + s
        c = np.fft.ifft(np.conj(np.fft.fft(J, n, axis=1)) * np.fft.fft(Z, n, axis=1), axis=1)
        s = np.arange(-(nj - 1), nz)
        k = (np.minimum(nj, nz - s) - np.maximum(0, -s)).astype(float)
        st = s * hop + shift
        off = st * b / fr
        ok = (k >= min_frames) & (np.abs(off) <= max_offset) & (np.abs(off - a) > RIVAL_EXCLUSION)
        if not ok.any():
            continue
        coh = (np.abs(c[:, s[ok] % n]) ** 2).mean(axis=0) / k[ok] ** 2 * k_est
        i = int(np.argmax(coh))
        if coh[i] > best:
            best, best_a = float(coh[i]), float(off[ok][i])
    return best, best_a
