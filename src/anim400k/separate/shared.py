"""Where two aligned mixes stop sharing their backing: the local phase coherence of JP and EN.

The dual-track separation takes the backing as what the two mixes have in common, so where the
EN music or effects were replaced (a localised song, a re-scored scene) there is nothing
common and the JP backing there goes to the "vocals": on the tester's 20 s replaced-music
stretch the backing SDR fell to 0.3 dB (6.5 dB with a shared stem, 2.8 dB single-track) and
the spectral agreement of the whole episode (0.63) did not show it.

The measure is the sync's coherence index (:func:`anim400k.sync.vote.coherence_index`) over
short windows: per bin of 0.1-1.8 kHz, ``|mean over frames of J E* / |J E*||^2 x frames``,
averaged over the bins, on 64 ms frames that do not overlap (so the frames are independent).
Two mixes that share nothing give ~1 whatever their levels (0.8-1.3 measured); a shared
backing gives 2-35 on the demo episodes even under their dialogue. It is phase-sensitive, so
the louder, different dialogue does not mask the shared stem, and a constant delay (the
fractional-sample remainder of the map) does not lower it.
"""

from __future__ import annotations

import numpy as np

from ..sync.params import COHERENCE_BAND, COHERENCE_FRAME, FINE_LOW_RATE

#: seconds: the coherence window and its step
WINDOW, STEP = 4.0, 1.0
#: a window below this index shares nothing (independent mixes: ~1, at most 1.3 measured)
UNSHARED_INDEX = 1.6
#: the episode's median window must reach this for a local drop to mean anything
SHARED_MEDIAN = 4.0
#: consecutive low windows that make a region (4 windows of 4 s, 1 s apart: 7 s)
MIN_WINDOWS = 4
#: a region whose JP mix has no floor of sound under its dialogue (its 10th-percentile frame level
#: this far under the median) has no backing to lose: it stays dual-track (its backing is ~silent)
SILENT_FLOOR_DB = 30.0


def local_coherence(j: np.ndarray, e: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, index, floor_db)`` per :data:`WINDOW` s window every :data:`STEP` s of aligned mixes.

    ``starts`` in seconds from the first sample; ``floor_db`` is the JP window's 10th-percentile
    frame level relative to its median (dB, <= 0).
    """
    import soxr
    from scipy.signal import stft

    fr = min(FINE_LOW_RATE, sr)
    xj = soxr.resample(j, sr, fr) if sr != fr else j
    xe = soxr.resample(e, sr, fr) if sr != fr else e
    k = int(WINDOW * fr / COHERENCE_FRAME)
    step = max(1, int(round(STEP * fr / COHERENCE_FRAME)))
    n_frames = min(xj.size, xe.size) // COHERENCE_FRAME
    if n_frames < k:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    kw = {"fs": fr, "nperseg": COHERENCE_FRAME, "noverlap": 0, "boundary": None, "padded": False}
    f, _, J = stft(xj[: n_frames * COHERENCE_FRAME], **kw)
    _, _, E = stft(xe[: n_frames * COHERENCE_FRAME], **kw)
    band = (f >= COHERENCE_BAND[0]) & (f <= COHERENCE_BAND[1])
    P = J[band] * np.conj(E[band])
    P /= np.abs(P) + 1e-20
    level = 10 * np.log10((np.abs(J) ** 2).sum(axis=0) + 1e-20)
    cs = np.concatenate([np.zeros((P.shape[0], 1), P.dtype), np.cumsum(P, axis=1)], axis=1)
    starts = np.arange(0, P.shape[1] - k + 1, step)
    index = (np.abs(cs[:, starts + k] - cs[:, starts]) ** 2).mean(axis=0) / k
    floor = np.array([np.percentile(level[s : s + k], 10) - np.median(level[s : s + k]) for s in starts])
    return starts * COHERENCE_FRAME / fr, index, floor


def unshared_regions(j: np.ndarray, e: np.ndarray, sr: int) -> list[tuple[int, int]]:
    """Sample ranges ``[a, b)`` of two aligned mixes where they share no backing while the rest does.

    A region is a run of at least :data:`MIN_WINDOWS` windows whose coherence index is under
    :data:`UNSHARED_INDEX` (spanning the first window's start to the last one's end), in a pair
    whose median index is at least :data:`SHARED_MEDIAN` and where the JP mix has a floor of
    sound under its dialogue (not within :data:`SILENT_FLOOR_DB` of silence in its quiet frames).
    """
    starts, index, floor = local_coherence(j, e, sr)
    if index.size < MIN_WINDOWS or float(np.median(index)) < SHARED_MEDIAN:
        return []
    low = index < UNSHARED_INDEX
    regions: list[tuple[int, int]] = []
    i = 0
    while i < low.size:
        if not low[i]:
            i += 1
            continue
        k = i
        while k + 1 < low.size and low[k + 1]:
            k += 1
        if k - i + 1 >= MIN_WINDOWS and float(np.median(floor[i : k + 1])) > -SILENT_FLOOR_DB:
            a = int(starts[i] * sr)
            b = min(j.size, int((starts[k] + WINDOW) * sr))
            if k == low.size - 1:
                b = j.size  # the last window may stop short of the end
            regions.append((a, b))
        i = k + 1
    return regions
