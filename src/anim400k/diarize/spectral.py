"""Spectral-envelope statistics per window: a second timbre cue next to the speaker embedding.

A speaker-verification embedding (Resemblyzer's GE2E d-vector, CAM++) is trained to ignore what
does not identify a *person*; two neural TTS voices built from similar data can be one person to
it. Each TTS voice (and each actor's recording chain) still fixes its spectral envelope, which
the classic GMM/BIC diarization features measure directly: the mean of the frame cepstra (DCT of
the log-mel spectrum, ``c0`` left out so level does not count) over a window's loud frames.

Measured on the realistic benchmark's separated JP speech (seeds 0-19, windows whose reference
speaker is unique): 2-means on one pair's windows recovers the two voices with adjusted Rand
index 0.91 (the Kokoro pair ``jf_gongitsune``/``jf_nezumi``) against 0.12 for Resemblyzer's
centred d-vectors; over all pairs 0.97 vs 0.83 (``docs/diarization.md``).

Features are centred over the episode's windows (the track's own colouring, shared by all
speakers, drops out), whitened by their *within-window* covariance (:func:`within_window_whitener`:
what changes between the two halves of one window, i.e. inside one stretch of one voice) and
L2-normalised: their dot products are cosines on the same scale as the centred d-vectors'
(:func:`window_statistics`, :func:`augment`). The whitening weights the directions in which one
voice's speech varies little (its timbre) over those in which it varies a lot (what is said, the
music under it); unlike a within-*cluster* covariance it is estimated without any clustering, so a
pair of voices that a clustering merges still counts as two there. On the realistic benchmark's
episodes (bank v2, seeds 0-49, ``docs/diarization.md``, *Within-window whitening*) it lowered the
DER from 19.5 % to 16.7 % (with the blend weight 0.8 and the count from the blend). ``whiten=None``
(or too few windows) z-scores each coefficient instead, as before.
"""

from __future__ import annotations

import numpy as np

#: Cepstral coefficients kept (``c1..c30`` of 40 mel bands).
N_CEPSTRA = 30
#: Shrinkage of the within-window covariance towards its mean variance (:func:`within_window_whitener`).
WHITEN_SHRINK = 0.3
#: Frames more than this many natural-log units (~13 dB) under the window's loudest frame are left out.
LOUD_RANGE = 3.0
#: Mel frame hop in seconds (Resemblyzer's mel frames, :func:`anim400k.diarize.embedding.mel_frames`).
FRAME = 0.01


def window_cepstra(mel: np.ndarray, windows: np.ndarray, n: int = N_CEPSTRA,
                   loud_range: float = LOUD_RANGE) -> np.ndarray:
    """Mean cepstrum ``c1..cn`` of the loud frames of each window: ``(n_windows, n)``.

    ``mel`` is a (non-log) mel power spectrogram ``(frames, bands)`` at :data:`FRAME` hop;
    ``windows`` are ``(start, end)`` seconds.
    """
    return _pool(_frame_cepstra(mel, n), windows, n, loud_range)


def _frame_cepstra(mel: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per mel frame: the cepstrum ``c1..c(min(n, bands - 1))`` and the loudest band's log power."""
    import scipy.fft

    if len(mel) == 0:
        return np.zeros((0, 0)), np.zeros(0)
    logmel = np.log(mel.astype(np.float64) + 1e-6)
    n = min(n, mel.shape[1] - 1)
    return scipy.fft.dct(logmel, type=2, norm="ortho", axis=1)[:, 1 : n + 1], logmel.max(axis=1)


def _pool(frames: tuple[np.ndarray, np.ndarray], windows: np.ndarray, n: int,
          loud_range: float = LOUD_RANGE) -> np.ndarray:
    """:func:`window_cepstra` from :func:`_frame_cepstra`'s ``frames``."""
    cep, loudness = frames
    out = np.zeros((len(windows), n), np.float32)
    if len(windows) == 0 or len(cep) == 0:
        return out
    idx = np.clip(np.round(np.asarray(windows) / FRAME).astype(int), 0, len(cep))
    for i, (a, b) in enumerate(idx):
        b = max(b, min(a + 1, len(cep)))
        if b <= a:
            continue
        seg, e = cep[a:b], loudness[a:b]
        keep = e > e.max() - loud_range
        out[i, : cep.shape[1]] = (seg[keep] if keep.sum() >= 5 else seg).mean(axis=0)
    return out


def within_window_whitener(mel: np.ndarray, windows: np.ndarray, shrink: float = WHITEN_SHRINK,
                           n: int = N_CEPSTRA) -> np.ndarray | None:
    """Matrix ``M`` whose product with centred window cepstra whitens their within-window covariance.

    Each window's first and second halves (:func:`window_cepstra` of each) differ by what changes
    inside one stretch of one voice, never by who speaks; the covariance of these differences, halved,
    shrunk by ``shrink`` towards its mean variance (times the identity), is the within-window
    covariance ``W``, and ``M = W^(-1/2)`` (eigenvectors over the square roots of the eigenvalues).
    ``None`` with fewer than ``2 n`` windows (too few to estimate ``W``).
    """
    return _whitener(_frame_cepstra(mel, n), windows, shrink, n)


def _whitener(frames: tuple[np.ndarray, np.ndarray], windows: np.ndarray, shrink: float,
              n: int) -> np.ndarray | None:
    """:func:`within_window_whitener` from :func:`_frame_cepstra`'s ``frames``."""
    w = np.asarray(windows, dtype=np.float64).reshape(-1, 2)
    if len(w) < 2 * n or len(frames[0]) == 0:
        return None
    mid = w.mean(axis=1)
    first = _pool(frames, np.stack([w[:, 0], mid], axis=1), n)
    second = _pool(frames, np.stack([mid, w[:, 1]], axis=1), n)
    diff = (first - second).astype(np.float64)
    cov = np.cov(diff.T) / 2.0
    cov = (1.0 - shrink) * cov + shrink * np.trace(cov) / len(cov) * np.eye(len(cov))
    vals, vecs = np.linalg.eigh(cov)
    if vals.max() <= 0:
        return None
    return vecs / np.sqrt(np.maximum(vals, 1e-6 * vals.max()))


def window_statistics(mel: np.ndarray, windows: np.ndarray, whiten: float | None = WHITEN_SHRINK) -> np.ndarray:
    """Each window's spectral statistics, ready for cosines: ``(n_windows, N_CEPSTRA)``, rows of unit length.

    The mean cepstra of :func:`window_cepstra`, centred over the windows and whitened by
    :func:`within_window_whitener` (``whiten``: its shrinkage); with ``whiten=None``, or too few
    windows to estimate the within-window covariance, z-scored per coefficient (:func:`standardise`).
    The mel frames' cepstra are computed once for the windows and their halves.
    """
    from .clustering import l2_normalize

    frames = _frame_cepstra(mel, N_CEPSTRA)
    cep = _pool(frames, windows, N_CEPSTRA)
    m = None if whiten is None else _whitener(frames, windows, whiten, N_CEPSTRA)
    if m is None:
        return standardise(cep)
    x = cep.astype(np.float64)
    return l2_normalize((x - x.mean(axis=0)) @ m)


def span_statistics(mel: np.ndarray, windows: np.ndarray, spans: np.ndarray,
                    whiten: float | None = WHITEN_SHRINK) -> np.ndarray:
    """The spectral statistics of other ``spans`` (seconds, e.g. short runs) of the same ``mel`` frames, in
    the space of :func:`window_statistics` ``(mel, windows, whiten)``: centred by the windows' mean and
    whitened by their within-window covariance (or z-scored by the windows' mean and deviation)."""
    from .clustering import l2_normalize

    frames = _frame_cepstra(mel, N_CEPSTRA)
    cep = _pool(frames, windows, N_CEPSTRA).astype(np.float64)
    extra = _pool(frames, np.asarray(spans, dtype=float).reshape(-1, 2), N_CEPSTRA).astype(np.float64)
    m = None if whiten is None else _whitener(frames, windows, whiten, N_CEPSTRA)
    if len(cep) == 0:
        return l2_normalize(extra)
    mu = cep.mean(axis=0)
    if m is None:
        sd = cep.std(axis=0)
        return l2_normalize((extra - mu) / np.where(sd > 1e-9, sd, 1.0))
    return l2_normalize((extra - mu) @ m)


def standardise(features: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """``features`` z-scored per column over ``rows`` (default all) and L2-normalised per row."""
    from .clustering import l2_normalize

    ref = features if rows is None else features[rows]
    if len(ref) == 0:
        return np.zeros_like(features, dtype=np.float64)
    mu, sd = ref.mean(axis=0), ref.std(axis=0)
    return l2_normalize((features - mu) / np.where(sd > 1e-9, sd, 1.0))


def augment(emb: np.ndarray, spec: np.ndarray, weight: float, rows: np.ndarray | None = None,
            scaled: bool = False) -> np.ndarray:
    """Embeddings whose centred cosines are ``(1 - weight)`` x the centred cosine of ``emb`` plus
    ``weight`` x the cosine of the standardised spectral features ``spec`` (``scaled``: ``spec`` is
    already centred and normalised, e.g. by :func:`window_statistics`, and used as it is).

    The centred, normalised ``emb`` (mean over ``rows``) scaled by ``sqrt(1 - weight)`` is
    concatenated with the standardised ``spec`` scaled by ``sqrt(weight)``: both parts have unit
    length and (nearly) zero mean, so any later centring and normalisation keeps the blend.
    """
    from .clustering import l2_normalize

    if weight <= 0:
        return emb
    ref = emb if rows is None else emb[rows]
    centred = l2_normalize(emb - ref.mean(axis=0))
    part = spec if scaled else standardise(spec, rows)
    return np.hstack([np.sqrt(1.0 - weight) * centred, np.sqrt(weight) * part]).astype(np.float32)


def reweight(blend: np.ndarray, n_emb: int, weight: float, new_weight: float) -> np.ndarray:
    """A :func:`augment` blend (embedding part first, ``n_emb`` columns, spectral share
    ``weight``) with the spectral share changed to ``new_weight``."""
    part_emb = blend[:, :n_emb] / np.sqrt(max(1.0 - weight, 1e-12))
    part_spec = blend[:, n_emb:] / np.sqrt(max(weight, 1e-12))
    return np.hstack([np.sqrt(1.0 - new_weight) * part_emb, np.sqrt(new_weight) * part_spec]).astype(np.float32)
