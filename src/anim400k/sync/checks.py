"""Checks of an estimate that the confidence scores do not see: the EN track being the JP audio itself.

A dub shares the music-and-effects stem but not the dialogue, so once aligned the two mixes
differ wherever either track speaks: cut into 1 s pieces, a dub's pieces correlate at
0.1-0.2 (median) and only its dialogue-free pieces (about 10-15 % in the demo episodes) above
0.9. The same audio twice (a copied file, a mislabelled "English" stream, a re-encode, even at 32 kb/s)
correlates above 0.97 (:data:`~.params.SAME_AUDIO_CORRELATION`) in nearly every piece, and it syncs
perfectly: without this check it gets confidence 1.0, the
dual-track "backing" is the whole JP mix and the "EN" clips carry Japanese.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from .params import SAME_AUDIO_CORRELATION, SAME_AUDIO_PIECE, SAME_AUDIO_PIECES

SAME_AUDIO_REASON = "the EN track is the same audio as the JP track"


def same_audio_fraction(jp: np.ndarray, en: np.ndarray, sr: int, a: float, b: float) -> float:
    """Fraction of 1 s JP pieces that the EN track repeats (correlation >= :data:`~.params.SAME_AUDIO_CORRELATION`)
    under ``t_en = a + b t_jp``.

    Up to :data:`SAME_AUDIO_PIECES` pieces of :data:`SAME_AUDIO_PIECE` seconds spread over the
    overlap; each one's peak normalised cross-correlation with the EN audio at its image
    (±5 ms, so a sub-sample or few-ms error of the map does not matter; the EN piece is
    resampled by ``b``). Silent pieces are left out; 0.0 when none is left.
    """
    import soxr

    margin = 0.005
    dur_j, dur_e = jp.size / sr, en.size / sr
    lo = max(0.0, (margin - a) / b)
    hi = min(dur_j, (dur_e - a) / b - margin) - SAME_AUDIO_PIECE * 1.01 - margin
    if hi <= lo:
        return 0.0
    n_piece = int(SAME_AUDIO_PIECE * sr)
    n_lags = int(2 * margin * sr) + 1
    scores = []
    for t in np.linspace(lo, hi, SAME_AUDIO_PIECES):
        x = jp[int(t * sr) : int(t * sr) + n_piece].astype(np.float64)
        nx = float(np.sqrt((x * x).sum()))
        if nx < 1e-6 * np.sqrt(x.size):
            continue
        es = int((a + b * t - margin) * sr)
        # the piece and both margins on the EN time scale, and 10 ms to spare: resampled by 1/b, an excerpt of
        # (piece * b + 2 margins) came out shorter than the piece and its lags for b > 1.015, so every piece was
        # skipped and a JP track sped up 4.1 % (PAL) was not told for the same audio
        y = en[max(0, es) : es + int(((SAME_AUDIO_PIECE + 2 * margin) * b + 0.01) * sr)].astype(np.float64)
        if abs(b - 1.0) > 1e-6:
            y = soxr.resample(y, sr, sr / b)
        if y.size < x.size + n_lags - 1:
            continue
        n = sfft.next_fast_len(x.size + y.size)
        cc = sfft.irfft(sfft.rfft(y, n) * np.conj(sfft.rfft(x, n)), n)[:n_lags]
        energy = np.concatenate([[0.0], np.cumsum(y * y)])
        ny = np.sqrt(np.maximum(energy[x.size : x.size + n_lags] - energy[:n_lags], 1e-20))
        scores.append(float(np.max(cc / (nx * ny))))
    if not scores:
        return 0.0
    return float(np.mean(np.array(scores) >= SAME_AUDIO_CORRELATION))
