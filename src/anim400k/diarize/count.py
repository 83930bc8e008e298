"""Speaker-count estimators for an affinity matrix, beside NME's single best pruning.

NME (:func:`.clustering.nme_spectral`) reads the count from the largest eigengap of the one pruning with the
best score; on the realistic benchmark that choice flips with float rounding between machines
(docs/diarization.md, *A stable speaker count*). The estimators here look at more than one decision:

- ``eigengap``: NME's own count (the default; what the diarizer always did);
- ``consensus``: the median of the eigengap counts of the ``top`` best-scoring prunings;
- ``stability``: for NME's count and its neighbours, cluster ``resamples`` seeded subsamples of the windows
  (``share`` of them, at most ``max_items`` windows first taken at an even stride) at each candidate count and
  keep the count whose clusterings agree best with one another (mean adjusted Rand index on the shared windows;
  Lange et al. 2004, von Luxburg 2010), NME's count winning ties within ``prefer``;
- ``pruning_stability``: the same agreement, measured between the clusterings of the ``resamples`` best NME
  prunings of all windows (no new eigendecomposition).
"""

from __future__ import annotations

import itertools

import numpy as np

from . import clustering

COUNT_METHODS = ("eigengap", "consensus", "stability", "pruning_stability")


def _range(n: int, min_speakers: int, max_speakers: int) -> tuple[int, int]:
    hi = max(1, min(max_speakers, n - 1 if n > 1 else 1))
    return max(1, min(min_speakers, hi)), hi


def eigengap_count(affinity: np.ndarray, min_speakers: int = 1, max_speakers: int = 8) -> int:
    """NME's count: the eigengap of the best-scoring pruning (:func:`.clustering.nme_spectral`)."""
    if len(affinity) == 0:
        return 1
    return clustering.nme_count(affinity, min_speakers, max_speakers)


def _ranked(affinity: np.ndarray, lo: int, hi: int) -> list[clustering.Pruning]:
    scored = clustering.nme_scores(affinity, lo, hi)
    order = sorted(range(len(scored)), key=lambda i: (scored[i].ratio, i))  # ties: the earlier pruning, as NME
    return [scored[i] for i in order]


def consensus_count(affinity: np.ndarray, min_speakers: int = 1, max_speakers: int = 8, top: int = 5) -> int:
    """The median (the lower one for an even number) of the eigengap counts of the ``top`` best-scoring NME
    prunings of ``affinity``."""
    n = len(affinity)
    lo, hi = _range(n, min_speakers, max_speakers)
    if n <= 2 or hi == 1:
        return 1
    ks = sorted(s.k for s in _ranked(affinity, lo, hi)[: max(1, top)])
    return int(ks[(len(ks) - 1) // 2])


def ari(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labellings of the same items (1: the same partition; ~0: chance).
    Two one-cluster labellings agree fully (1.0)."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1.0)

    def pairs(x: np.ndarray) -> float:
        return float(np.sum(x * (x - 1.0)) / 2.0)

    index, rows, cols, total = pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(axis=0)), pairs(np.array(len(a)))
    expected = rows * cols / total if total > 0 else 0.0
    top = 0.5 * (rows + cols) - expected
    return 1.0 if top == 0 else float((index - expected) / top)


def _kmeans(spec: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    if k == 1:
        return np.zeros(len(spec), dtype=int)
    return KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(clustering.l2_normalize(spec[:, :k]))


def _agreement(runs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean ARI over pairs of ``(item indices, labels)`` runs, on the items both hold."""
    scores = []
    for (ia, la), (ib, lb) in itertools.combinations(runs, 2):
        _, pa, pb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
        if len(pa) >= 2:
            scores.append(ari(la[pa], lb[pb]))
    return float(np.mean(scores)) if scores else 0.0


def _choose(scores: dict[int, float], k0: int, prefer: float) -> int:
    """The candidate with the highest agreement; NME's ``k0`` keeps the choice unless beaten by more than
    ``prefer``; among the others, ties go to the smaller count."""
    best = max(sorted(scores), key=lambda k: scores[k])
    return k0 if k0 in scores and scores[k0] >= scores[best] - prefer else best


def stability_count(affinity: np.ndarray, min_speakers: int = 1, max_speakers: int = 8, resamples: int = 12,
                    share: float = 0.8, max_items: int = 300, spread: int = 1, prefer: float = 0.02,
                    seed: int = 0) -> int:
    """The count in NME's count +- ``spread`` (within the range, at least 2 unless NME says 1) whose
    clusterings of ``resamples`` random subsamples (``share`` of the windows; at most ``max_items`` windows,
    an even stride, before that) agree best (mean pairwise ARI); each subsample is pruned as NME's best
    pruning of the full affinity (the same share of neighbours). Seeded: the same input gives the same count."""
    n = len(affinity)
    lo, hi = _range(n, min_speakers, max_speakers)
    if n <= 2 or hi == 1:
        return 1
    ranked = _ranked(affinity, lo, hi)
    k0, p_share = ranked[0].k, ranked[0].p / n
    ks = [k for k in range(max(lo, 2, k0 - spread), min(hi, k0 + spread) + 1)]
    if k0 == 1 or len(ks) < 2:
        return k0
    base = np.arange(n) if n <= max_items else np.unique(np.linspace(0, n - 1, max_items).round().astype(int))
    m = max(3, int(round(share * len(base))))
    rng = np.random.default_rng(seed)
    runs: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in ks}
    for b in range(resamples):
        idx = np.sort(rng.choice(base, size=min(m, len(base)), replace=False))
        p = int(min(len(idx) - 1, max(2, round(p_share * len(idx)))))
        _, vecs, _ = clustering._laplacian_spectrum(affinity[np.ix_(idx, idx)], p, max(ks))
        for k in ks:
            runs[k].append((idx, _kmeans(vecs, k, seed + b)))
    return _choose({k: _agreement(r) for k, r in runs.items()}, k0, prefer)


def pruning_stability_count(affinity: np.ndarray, min_speakers: int = 1, max_speakers: int = 8,
                            resamples: int = 8, spread: int = 1, prefer: float = 0.02, seed: int = 0) -> int:
    """As :func:`stability_count`, the runs being the clusterings of all windows under the ``resamples``
    best-scoring NME prunings (their eigenvectors reused)."""
    n = len(affinity)
    lo, hi = _range(n, min_speakers, max_speakers)
    if n <= 2 or hi == 1:
        return 1
    ranked = _ranked(affinity, lo, hi)
    k0 = ranked[0].k
    ks = [k for k in range(max(lo, 2, k0 - spread), min(hi, k0 + spread) + 1)]
    if k0 == 1 or len(ks) < 2:
        return k0
    every = np.arange(n)
    runs = {k: [(every, _kmeans(s.vecs, k, seed)) for s in ranked[: max(2, resamples)]] for k in ks}
    return _choose({k: _agreement(r) for k, r in runs.items()}, k0, prefer)


def estimate_count(affinity: np.ndarray, min_speakers: int = 1, max_speakers: int = 8, method: str = "eigengap",
                   top: int = 5, resamples: int = 12, share: float = 0.8, max_items: int = 300, spread: int = 1,
                   prefer: float = 0.02, seed: int = 0) -> int:
    """The speaker count of ``affinity`` in ``[min_speakers, max_speakers]`` by ``method``
    (:data:`COUNT_METHODS`; see the module docstring)."""
    if method == "eigengap":
        return eigengap_count(affinity, min_speakers, max_speakers)
    if method == "consensus":
        return consensus_count(affinity, min_speakers, max_speakers, top)
    if method == "stability":
        return stability_count(affinity, min_speakers, max_speakers, resamples, share, max_items, spread, prefer, seed)
    if method == "pruning_stability":
        return pruning_stability_count(affinity, min_speakers, max_speakers, resamples, spread, prefer, seed)
    raise ValueError(f"unknown count method {method!r} (choose from {', '.join(COUNT_METHODS)})")
