"""Clustering of window embeddings into speakers, with the number of speakers estimated.

The default is spectral clustering with NME-SC (Park et al., 2019, "Auto-Tuning Spectral
Clustering for Speaker Diarization Using Normalized Maximum Eigengap"): the cosine affinity
matrix is pruned to each row's ``p`` nearest neighbours, and ``p`` and the number of speakers
``k`` are chosen together by minimising ``p / g(p)``, where ``g(p)`` is the largest eigengap of
the graph Laplacian divided by its largest eigenvalue. A final pass merges clusters whose
centroids are nearly identical (so one speaker is not split in two) and folds tiny clusters
into their nearest neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit length (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def centered(embeddings: np.ndarray) -> np.ndarray:
    """Embeddings minus their mean, re-normalised.

    Resemblyzer's d-vectors are non-negative, so all cosine similarities are high; removing the
    episode's mean (channel, recording and language are shared by all speakers) spreads them.
    """
    return l2_normalize(embeddings - embeddings.mean(axis=0, keepdims=True))


def _laplacian_spectrum(affinity: np.ndarray, p: int, max_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(affinity)
    pruned = np.zeros_like(affinity)
    nearest = np.argsort(-affinity, axis=1)[:, :p]
    rows = np.repeat(np.arange(n), p)
    pruned[rows, nearest.ravel()] = 1.0
    sym = 0.5 * (pruned + pruned.T)
    np.fill_diagonal(sym, 0.0)
    lap = np.diag(sym.sum(axis=1)) - sym
    vals, vecs = np.linalg.eigh(lap)
    return vals, vecs, sym


#: from this many items on, the candidate prunings' eigendecompositions run on two threads when the task
#: may use two (:func:`anim400k.threads.task_threads`; a 24-minute episode has ~1,500-3,000 windows)
PARALLEL_FROM = 400


def nme_spectral(
    affinity: np.ndarray,
    num_speakers: int | None = None,
    min_speakers: int = 1,
    max_speakers: int = 8,
    seed: int = 0,
) -> np.ndarray:
    """Cluster the items of a symmetric ``affinity`` matrix (larger = more alike); labels ``0..k-1``.

    With ``num_speakers`` given, ``k`` is fixed; otherwise it is estimated in
    ``[min_speakers, max_speakers]`` by the normalised maximum eigengap.
    """
    from sklearn.cluster import KMeans

    n = len(affinity)
    if n == 0:
        return np.zeros(0, dtype=int)
    if num_speakers is not None:
        min_speakers = max_speakers = int(num_speakers)
    max_speakers = max(1, min(max_speakers, n - 1 if n > 1 else 1))
    min_speakers = max(1, min(min_speakers, max_speakers))
    if n <= 2 or max_speakers == 1:
        return np.zeros(n, dtype=int)
    scored = nme_scores(affinity, min_speakers, max_speakers)
    best = scored[0]
    for item in scored[1:]:  # the first candidate with the smallest ratio, as a loop in order would pick
        if item.ratio < best.ratio:
            best = item
    k = best.k
    if k == 1:
        return np.zeros(n, dtype=int)
    spec = l2_normalize(best.vecs[:, :k])
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(spec)


@dataclass(frozen=True)
class Pruning:
    """One NME candidate: pruning ``p`` (neighbours kept per row), its score ``ratio`` (``p / g(p)``, lower
    is better), the eigengap count ``k`` and the Laplacian's eigenvectors (ascending eigenvalues)."""

    p: int
    ratio: float
    k: int
    vecs: np.ndarray


def nme_candidates(n: int) -> list[int]:
    """The prunings ``p`` NME tries on ``n`` items (up to 20, from 2 to a quarter of ``n``)."""
    max_p = max(2, min(n - 1, int(np.ceil(0.25 * n))))
    return sorted({int(p) for p in np.linspace(2, max_p, num=min(max_p - 1, 20))})


def nme_scores(affinity: np.ndarray, min_speakers: int, max_speakers: int) -> list[Pruning]:
    """Every NME pruning of ``affinity`` (``n > 2`` items) with its eigengap count in
    ``[min_speakers, max_speakers]`` (already clipped to ``n - 1``), in the order of :func:`nme_candidates`."""
    n = len(affinity)

    def score(p: int) -> Pruning:
        vals, vecs, _ = _laplacian_spectrum(affinity, p, max_speakers)
        gaps = np.diff(vals[: max_speakers + 1])
        gaps_range = gaps[min_speakers - 1 : max_speakers]
        k = int(np.argmax(gaps_range)) + min_speakers
        g = float(gaps_range.max()) / max(float(vals[-1]), 1e-10)
        return Pruning(p, p / max(g, 1e-10), k, vecs)

    from ..threads import task_threads, thread_map

    # independent eigendecompositions (LAPACK releases the GIL): the same result, sooner
    return thread_map(score, nme_candidates(n), task_threads(2) if n >= PARALLEL_FROM else 1, "nme")


def centroids(embeddings: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Normalised (weighted) mean embedding of each label ``0..max``."""
    k = int(labels.max()) + 1 if len(labels) else 0
    w = np.ones(len(labels)) if weights is None else weights
    out = np.zeros((k, embeddings.shape[1]))
    np.add.at(out, labels, embeddings * w[:, None])
    return l2_normalize(out)


def merge_clusters(
    raw: np.ndarray,
    labels: np.ndarray,
    durations: np.ndarray,
    pitch: np.ndarray | None = None,
    merge_similarity: float = 0.9,
    max_pitch_gap: float = 0.2,
    min_cluster_duration: float = 2.0,
    min_speakers: int = 1,
    small_cluster: int = 10,
    small_merge_similarity: float = 0.8,
    other: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    other_weight: float = 0.5,
) -> np.ndarray:
    """Merge over-split clusters; return labels renumbered ``0..k-1``.

    Two clusters merge when the cosine similarity of their raw-embedding centroids is at least
    ``merge_similarity`` and their median pitches differ by less than ``max_pitch_gap`` octaves
    (most similar pair first); when the smaller of the two has fewer than ``small_cluster``
    windows its centroid is noisy and ``small_merge_similarity`` applies instead. A cluster with
    less than ``min_cluster_duration`` seconds of windows is folded into the cluster with the most similar centroid.

    ``other`` is the other language's view ``(raw embeddings, pitch, valid)`` at the same windows
    (see :mod:`.views`): where both clusters have at least 3 valid windows, their similarity is the
    ``other_weight``-weighted mean of the two views' centroid cosines, and a pitch gap in either
    view keeps them apart.
    """
    labels = labels.copy()
    while True:
        ids = np.unique(labels)
        if len(ids) <= max(1, min_speakers):
            break
        cents = l2_normalize(np.stack([raw[labels == i].mean(axis=0) for i in ids]))
        sim = cents @ cents.T
        if other is not None:
            sim = _blend_other(sim, labels, ids, other, other_weight)
        np.fill_diagonal(sim, -np.inf)
        dur = np.array([durations[labels == i].sum() for i in ids])
        count = np.array([np.sum(labels == i) for i in ids])
        small = int(np.argmin(dur))
        if dur[small] < min_cluster_duration:
            labels[labels == ids[small]] = ids[int(np.argmax(sim[small]))]
            continue
        if pitch is not None:
            med = np.array([_nanmedian(pitch[labels == i]) for i in ids])
            gap = np.abs(med[:, None] - med[None, :])
            sim = np.where(np.isfinite(gap) & (gap >= max_pitch_gap), -np.inf, sim)
        if other is not None:
            o_emb, o_pitch, o_valid = other
            med = np.array([_nanmedian(o_pitch[(labels == i) & o_valid]) for i in ids])
            gap = np.abs(med[:, None] - med[None, :])
            sim = np.where(np.isfinite(gap) & (gap >= max_pitch_gap), -np.inf, sim)
        smaller = np.minimum(count[:, None], count[None, :])
        margin = sim - np.where(smaller < small_cluster, small_merge_similarity, merge_similarity)
        a, b = np.unravel_index(int(np.argmax(margin)), margin.shape)
        if margin[a, b] < 0:
            break
        labels[labels == ids[b]] = ids[a]
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def merge_centred(embeddings: np.ndarray, labels: np.ndarray, threshold: float, floor: int = 1,
                  min_windows: int = 3) -> np.ndarray:
    """Merge the two clusters whose *centred* centroids are most alike, while their cosine exceeds
    ``threshold`` and more than ``floor`` clusters are left; labels renumbered ``0..k-1``.

    Centroids are the clusters' mean ``embeddings`` minus the mean of all windows (as the clustering's
    affinity centres them); a cluster of fewer than ``min_windows`` windows has no reliable centroid and
    is not merged here.
    """
    labels = np.unique(labels, return_inverse=True)[1]
    mean = embeddings.mean(axis=0)
    while labels.max() + 1 > max(1, floor):
        ids = np.arange(labels.max() + 1)
        counts = np.bincount(labels, minlength=len(ids))
        cents = l2_normalize(np.stack([embeddings[labels == i].mean(axis=0) - mean for i in ids]))
        sim = cents @ cents.T
        ok = counts >= min_windows
        sim = np.where(ok[:, None] & ok[None, :], sim, -np.inf)
        np.fill_diagonal(sim, -np.inf)
        a, b = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if not sim[a, b] > threshold:
            break
        labels = np.unique(np.where(labels == max(a, b), min(a, b), labels), return_inverse=True)[1]
    return labels


def _blend_other(sim: np.ndarray, labels: np.ndarray, ids: np.ndarray,
                 other: tuple[np.ndarray, np.ndarray, np.ndarray], weight: float) -> np.ndarray:
    o_emb, _, o_valid = other
    ok = np.array([np.sum((labels == i) & o_valid) >= 3 for i in ids])
    if ok.sum() < 2:
        return sim
    cents = l2_normalize(np.stack([o_emb[(labels == i) & o_valid].mean(axis=0) if good else o_emb[0] * 0
                                   for i, good in zip(ids, ok, strict=True)]))
    both = ok[:, None] & ok[None, :]
    return np.where(both, (1.0 - weight) * sim + weight * (cents @ cents.T), sim)


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


def fused_affinity(embeddings: np.ndarray, pitch: np.ndarray | None = None, pitch_weight: float = 1.0) -> np.ndarray:
    """Cosine affinity of centred embeddings minus ``pitch_weight`` x the distance in octaves of the
    windows' median pitch (``nan`` pitch = no penalty)."""
    x = centered(embeddings)
    aff = x @ x.T
    if pitch is not None and pitch_weight > 0:
        diff = np.abs(pitch[:, None] - pitch[None, :])
        aff = aff - pitch_weight * np.nan_to_num(diff, nan=0.0)
    return aff
