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

import threading
from collections import OrderedDict

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


def _laplacian(affinity: np.ndarray, p: int, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The graph Laplacian of ``affinity`` pruned to each row's ``p`` nearest neighbours, and that graph
    (``order``: ``np.argsort(-affinity, axis=1)`` when already computed)."""
    n = len(affinity)
    pruned = np.zeros_like(affinity)
    nearest = (np.argsort(-affinity, axis=1) if order is None else order)[:, :p]
    rows = np.repeat(np.arange(n), p)
    pruned[rows, nearest.ravel()] = 1.0
    sym = 0.5 * (pruned + pruned.T)
    np.fill_diagonal(sym, 0.0)
    return np.diag(sym.sum(axis=1)) - sym, sym


def _laplacian_spectrum(affinity: np.ndarray, p: int, max_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lap, sym = _laplacian(affinity, p)
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
    best = best_pruning(nme_scores(affinity, min_speakers, max_speakers))
    k = best.k
    if k == 1:
        return np.zeros(n, dtype=int)
    spec = l2_normalize(best.vecs[:, :k])
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(spec)


def nme_count(affinity: np.ndarray, min_speakers: int = 1, max_speakers: int = 8) -> int:
    """NME's speaker count of ``affinity``: the eigengap count of its best pruning, the number of clusters
    :func:`nme_spectral` returns (its k-means gets that many clusters of rows of which there are more than
    that many distinct ones), without the eigenvectors and the k-means."""
    n = len(affinity)
    max_speakers = max(1, min(max_speakers, n - 1 if n > 1 else 1))
    min_speakers = max(1, min(min_speakers, max_speakers))
    if n <= 2 or max_speakers == 1:
        return 1
    return best_pruning(nme_scores(affinity, min_speakers, max_speakers)).k


def best_pruning(scored: list[Pruning]) -> Pruning:
    """The first candidate with the smallest ratio, as a loop over :func:`nme_candidates` in order picks it."""
    best = scored[0]
    for item in scored[1:]:
        if item.ratio < best.ratio:
            best = item
    return best


class Pruning:
    """One NME candidate: pruning ``p`` (neighbours kept per row), its score ``ratio`` (``p / g(p)``, lower
    is better), the eigengap count ``k`` and the Laplacian's eigenvectors ``vecs`` (ascending eigenvalues).

    NME reads the score and the count from the eigenvalues of every pruning but uses the eigenvectors of
    one, the best: given ``affinity`` instead of ``vecs``, they are computed on first use (the same
    ``eigh`` of the same Laplacian as when every pruning had them, so the same vectors).
    """

    __slots__ = ("p", "ratio", "k", "_vecs", "_affinity")

    def __init__(self, p: int, ratio: float, k: int, vecs: np.ndarray | None = None,
                 affinity: np.ndarray | None = None) -> None:
        if vecs is None and affinity is None:
            raise ValueError("a Pruning needs its eigenvectors or the affinity they come from")
        self.p, self.ratio, self.k = p, ratio, k
        self._vecs, self._affinity = vecs, affinity

    @property
    def vecs(self) -> np.ndarray:
        """The pruned Laplacian's eigenvectors (columns, ascending eigenvalues)."""
        if self._vecs is None:
            self._vecs = _spectrum_cache.vectors(self._affinity, self.p)
            self._affinity = None
        return self._vecs

    def __repr__(self) -> str:
        return f"Pruning(p={self.p}, ratio={self.ratio!r}, k={self.k})"


class _SpectrumCache:
    """The pruned Laplacians' eigenvalues (and the last few eigenvector sets) of recent affinities, keyed by
    the affinity's bytes: the diarizer reads the speaker count from an affinity, then clusters the same
    affinity (same prunings, same spectra) at that count, so half of its eigendecompositions were repeats."""

    def __init__(self, max_values: int = 256, max_vectors: int = 2) -> None:
        self._values: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._vectors: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._max_values, self._max_vectors = max_values, max_vectors
        self._lock = threading.Lock()

    @staticmethod
    def key(affinity: np.ndarray, p: int) -> tuple:
        import hashlib

        a = np.ascontiguousarray(affinity)
        return hashlib.blake2b(a.view(np.uint8), digest_size=16).digest(), a.shape, a.dtype.str, int(p)

    def _get(self, store: OrderedDict, key: tuple) -> np.ndarray | None:
        with self._lock:
            hit = store.get(key)
            if hit is not None:
                store.move_to_end(key)
            return hit

    def _put(self, store: OrderedDict, key: tuple, value: np.ndarray, cap: int) -> None:
        with self._lock:
            store[key] = value
            store.move_to_end(key)
            while len(store) > cap:
                store.popitem(last=False)

    def has_values(self, key: tuple) -> bool:
        """Whether the eigenvalues of ``key`` (:meth:`key`) are kept."""
        with self._lock:
            return key in self._values

    def values(self, affinity: np.ndarray, p: int, key: tuple | None = None,
               order: np.ndarray | None = None) -> np.ndarray:
        """Eigenvalues (ascending) of the Laplacian of ``affinity`` pruned to ``p`` neighbours (``order``: the
        rows' neighbours, most alike first, when already sorted)."""
        key = key or self.key(affinity, p)
        hit = self._get(self._values, key)
        if hit is None:
            hit = np.linalg.eigvalsh(_laplacian(affinity, p, order)[0])
            self._put(self._values, key, hit, self._max_values)
        return hit

    def vectors(self, affinity: np.ndarray, p: int) -> np.ndarray:
        """Eigenvectors (columns, ascending eigenvalues) of the same Laplacian."""
        key = self.key(affinity, p)
        hit = self._get(self._vectors, key)
        if hit is None:
            hit = np.linalg.eigh(_laplacian(affinity, p)[0])[1]
            self._put(self._vectors, key, hit, self._max_vectors)
        return hit

    def nbytes(self) -> int:
        """Bytes of the kept spectra."""
        with self._lock:
            return sum(v.nbytes for store in (self._values, self._vectors) for v in store.values())

    def clear(self) -> None:
        """Forget every kept spectrum."""
        with self._lock:
            self._values.clear()
            self._vectors.clear()


_spectrum_cache = _SpectrumCache()


def clear_spectrum_cache() -> None:
    """Forget the kept spectra of recent affinities (:class:`_SpectrumCache`; tests, memory: the embedded
    diarizer calls it when an episode is done)."""
    _spectrum_cache.clear()


def spectrum_cache_bytes() -> int:
    """Bytes held by the kept spectra of recent affinities (:class:`_SpectrumCache`)."""
    return _spectrum_cache.nbytes()


def nme_candidates(n: int) -> list[int]:
    """The prunings ``p`` NME tries on ``n`` items (up to 20, from 2 to a quarter of ``n``)."""
    max_p = max(2, min(n - 1, int(np.ceil(0.25 * n))))
    return sorted({int(p) for p in np.linspace(2, max_p, num=min(max_p - 1, 20))})


def nme_scores(affinity: np.ndarray, min_speakers: int, max_speakers: int) -> list[Pruning]:
    """Every NME pruning of ``affinity`` (``n > 2`` items) with its eigengap count in
    ``[min_speakers, max_speakers]`` (already clipped to ``n - 1``), in the order of :func:`nme_candidates`.

    Only the eigenvalues are computed here (``eigvalsh``: the tridiagonal reduction without the eigenvectors'
    back-transformation, ~2.3x cheaper at 1,700 items); a pruning's eigenvectors come on first use of its
    ``vecs``. The spectra of an affinity seen recently are reused (:class:`_SpectrumCache`)."""
    n = len(affinity)
    digest = _SpectrumCache.key(affinity, 0)[:3]
    candidates = nme_candidates(n)
    order = None  # every row's neighbours sorted once (not once per pruning), when a spectrum is missing
    if not all(_spectrum_cache.has_values((*digest, p)) for p in candidates):
        order = np.argsort(-affinity, axis=1)

    def score(p: int) -> Pruning:
        vals = _spectrum_cache.values(affinity, p, (*digest, int(p)), order)
        gaps = np.diff(vals[: max_speakers + 1])
        gaps_range = gaps[min_speakers - 1 : max_speakers]
        k = int(np.argmax(gaps_range)) + min_speakers
        g = float(gaps_range.max()) / max(float(vals[-1]), 1e-10)
        return Pruning(p, p / max(g, 1e-10), k, affinity=affinity)

    from ..threads import task_threads, thread_map

    # independent eigendecompositions (LAPACK releases the GIL): the same result, sooner
    return thread_map(score, candidates, task_threads(2) if n >= PARALLEL_FROM else 1, "nme")


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
    pitch_gap_override: float | None = None,
    pitch_gap_spread: float | None = None,
    small_pitch_gap_override: float | None = None,
    both_views_pitch_override: float | None = None,
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
    view keeps them apart, unless their similarity is at least ``pitch_gap_override`` (None: always): one
    voice's shouted or excited lines sit higher than its calm ones without sounding like anyone else.
    ``small_pitch_gap_override`` does the same for pairs whose smaller cluster has under ``small_cluster``
    windows (a voice's few higher lines left beside it; None: off). ``both_views_pitch_override`` lifts the other
    view's pitch gap alone (the JP one still holds) for a pair whose raw centroids are at least that alike on each
    track (one JP voice, one EN actor, whose takes sit higher in some lines; None: off).
    With ``pitch_gap_spread`` (None: off) a gap keeps two clusters apart only when it is also at least that
    many times their pooled within-cluster pitch spread (:func:`pitch_spread`): a voice whose windows range
    widely in pitch may be split at a gap that two steady voices never show.
    """
    labels = labels.copy()
    while True:
        ids = np.unique(labels)
        if len(ids) <= max(1, min_speakers):
            break
        cents = l2_normalize(np.stack([raw[labels == i].mean(axis=0) for i in ids]))
        sim = jp_sim = cents @ cents.T
        other_sim = None if other is None else _other_similarity(labels, ids, other)
        if other_sim is not None:
            sim = np.where(np.isfinite(other_sim), (1.0 - other_weight) * jp_sim + other_weight * other_sim, jp_sim)
        np.fill_diagonal(sim, -np.inf)
        dur = np.array([durations[labels == i].sum() for i in ids])
        count = np.array([np.sum(labels == i) for i in ids])
        small = int(np.argmin(dur))
        if dur[small] < min_cluster_duration:
            labels[labels == ids[small]] = ids[int(np.argmax(sim[small]))]
            continue
        alike = sim.copy()  # before the pitch vetoes
        if pitch is not None:
            sim = np.where(pitch_apart([pitch[labels == i] for i in ids], max_pitch_gap, pitch_gap_spread),
                           -np.inf, sim)
        if other is not None:
            o_emb, o_pitch, o_valid = other
            other_apart = pitch_apart([o_pitch[(labels == i) & o_valid] for i in ids], max_pitch_gap,
                                      pitch_gap_spread)
            if both_views_pitch_override is not None and other_sim is not None:  # one actor's two registers
                both = np.nan_to_num(np.minimum(jp_sim, other_sim), nan=-1.0) >= both_views_pitch_override
                other_apart &= ~both
            sim = np.where(other_apart, -np.inf, sim)
        if pitch_gap_override is not None:
            sim = np.where(alike >= pitch_gap_override, alike, sim)
        smaller = np.minimum(count[:, None], count[None, :])
        if small_pitch_gap_override is not None:
            sim = np.where((smaller < small_cluster) & (alike >= small_pitch_gap_override), alike, sim)
        margin = sim - np.where(smaller < small_cluster, small_merge_similarity, merge_similarity)
        a, b = np.unravel_index(int(np.argmax(margin)), margin.shape)
        if margin[a, b] < 0:
            break
        labels[labels == ids[b]] = ids[a]
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def pitch_spread(values: np.ndarray, min_values: int = 4) -> float:
    """Robust spread (interquartile range / 1.349, a standard deviation for a normal law) of a cluster's
    finite window pitches (octaves); 0 with fewer than ``min_values`` of them."""
    v = values[np.isfinite(values)]
    if len(v) < min_values:
        return 0.0
    q1, q3 = np.percentile(v, [25, 75])
    return float(q3 - q1) / 1.349


def pitch_apart(groups: list[np.ndarray], max_gap: float, spread_ratio: float | None) -> np.ndarray:
    """Pairs of clusters kept apart by their median pitches (``groups``: each cluster's window pitches):
    a gap of at least ``max_gap`` octaves and, with ``spread_ratio``, at least that many pooled spreads."""
    med = np.array([_nanmedian(g) for g in groups])
    gap = np.abs(med[:, None] - med[None, :])
    apart = np.isfinite(gap) & (gap >= max_gap)
    if spread_ratio is not None:
        sd = np.array([pitch_spread(g) for g in groups])
        pooled = np.sqrt(0.5 * (sd[:, None] ** 2 + sd[None, :] ** 2))
        apart &= gap >= spread_ratio * pooled
    return apart


def centred_centroids(emb: np.ndarray, labels: np.ndarray, k: int,
                      rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each cluster's mean of ``emb`` over ``rows`` (default all) minus the mean of those rows, L2-normalised,
    and how many rows each cluster has (a cluster with none gets a zero vector)."""
    rows = np.ones(len(emb), dtype=bool) if rows is None else rows
    cents = np.zeros((k, emb.shape[1]))
    counts = np.bincount(labels[rows], minlength=k)
    if counts.sum() == 0:
        return cents, counts
    np.add.at(cents, labels[rows], emb[rows])
    has = counts > 0
    cents[has] = l2_normalize(cents[has] / counts[has, None] - emb[rows].mean(axis=0))
    return cents, counts


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


def _other_similarity(labels: np.ndarray, ids: np.ndarray,
                      other: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray | None:
    """Cosines of the clusters' other-view centroids (raw embeddings), ``nan`` for a pair where a cluster has
    under 3 valid windows; None when fewer than two clusters have that many."""
    o_emb, _, o_valid = other
    ok = np.array([np.sum((labels == i) & o_valid) >= 3 for i in ids])
    if ok.sum() < 2:
        return None
    cents = l2_normalize(np.stack([o_emb[(labels == i) & o_valid].mean(axis=0) if good else o_emb[0] * 0
                                   for i, good in zip(ids, ok, strict=True)]))
    return np.where(ok[:, None] & ok[None, :], cents @ cents.T, np.nan)


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


def reassign(aff: np.ndarray, labels: np.ndarray, iters: int, stay: float = 0.05) -> np.ndarray:
    """Each window to the speaker with the highest mean affinity (speakers re-estimated each round),
    with a bonus ``stay`` for the speaker of its neighbouring windows (a sticky prior)."""
    labels = labels.copy()
    for _ in range(iters):
        k = int(labels.max()) + 1
        member = np.eye(k)[labels]
        score = aff @ member / np.maximum(member.sum(axis=0), 1)
        prev = np.vstack([member[:1], member[:-1]])
        nxt = np.vstack([member[1:], member[-1:]])
        new = (score + stay * (prev + nxt)).argmax(axis=1)
        if np.array_equal(new, labels):
            break
        _, labels = np.unique(new, return_inverse=True)
    return labels
