"""Per-speaker summaries of the windows' vectors and pitch: normalised centroids, medians, spreads."""

from __future__ import annotations

import numpy as np

from . import clustering


def speaker_centroids(vectors: np.ndarray, who: np.ndarray, k: int) -> np.ndarray:
    """``(k, d)``: per speaker, the normalised mean of the centred, normalised ``vectors`` (centred over all
    rows, as the clustering's affinity) of the rows ``who`` gives them (zeros for a speaker with none)."""
    x = clustering.centered(vectors)
    out = np.zeros((k, x.shape[1]))
    for i in range(k):
        if np.any(who == i):
            out[i] = x[who == i].mean(axis=0)
    return clustering.l2_normalize(out)


def speaker_medians(values: np.ndarray, who: np.ndarray, k: int) -> np.ndarray:
    """Per speaker, the median of the finite ``values`` of the rows ``who`` gives them (nan: none)."""
    return np.array([nanmedian(values[who == i]) for i in range(k)])


def spread(x: np.ndarray, lo: float = 10.0, hi: float = 90.0) -> float:
    """Range between the ``lo`` and ``hi`` percentiles of the finite values of ``x`` (0 when none)."""
    x = x[np.isfinite(x)]
    return float(np.percentile(x, hi) - np.percentile(x, lo)) if x.size else 0.0


def nanmedian(x: np.ndarray) -> float:
    """The median of the finite values of ``x`` (nan when none)."""
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")
