"""A cluster holding two parts of a dash event (two speakers: :func:`.cue_dashes.window_dash_parts`) cut in
two where the cut puts the events' parts apart."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import clustering


def _dash_pairs(idx: np.ndarray, event: np.ndarray, part: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each dash event with windows of two different parts among ``idx`` (one cluster's windows), the
    positions in ``idx`` of its first such part's windows and of the next part's."""
    out = []
    ev = event[idx]
    for e in np.unique(ev[ev >= 0]):
        parts = sorted(set(part[idx[ev == e]].tolist()))
        for p, q in zip(parts[:-1], parts[1:], strict=True):
            out.append((np.nonzero((ev == e) & (part[idx] == p))[0], np.nonzero((ev == e) & (part[idx] == q))[0]))
    return out


def dash_split_cuts(emb: np.ndarray, labels: np.ndarray, event: np.ndarray, part: np.ndarray,
                    min_share: float = 0.15) -> Iterator[tuple[int, np.ndarray, np.ndarray, float, int, int]]:
    """The dash split test of each cluster holding two parts of at least one dash event, largest first:
    ``(cluster, its window indices, the second half's mask over them, the halves' cosine, dash events the
    cut puts apart, dash events it leaves together)``.

    Candidate cuts: 2-means on the cluster's centred, normalised windows of ``emb`` (centred over the
    episode), and 2-means started from the two parts of each of its dash events; the kept candidate puts
    the most events' parts apart (each part on the half holding most of its windows), then has the
    lowest cosine of the halves' centred centroids. Halves with fewer than ``min_share`` of the windows
    (or 2) are no cut."""
    from sklearn.cluster import KMeans

    centred = emb - emb.mean(axis=0)
    x = clustering.l2_normalize(centred)
    for c in np.argsort(-np.bincount(labels)):
        idx = np.nonzero(labels == c)[0]
        pairs = _dash_pairs(idx, event, part)
        if not pairs or len(idx) < 4:
            continue
        xs = x[idx]
        cuts = [KMeans(2, n_init=5, random_state=0).fit_predict(xs)]
        for a, b in pairs:
            init = clustering.l2_normalize(np.stack([xs[a].mean(axis=0), xs[b].mean(axis=0)]))
            cuts.append(KMeans(2, init=init, n_init=1, random_state=0).fit_predict(xs))
        best = None
        for half in cuts:
            second = half == 1
            if min(second.sum(), (~second).sum()) < max(2, min_share * len(idx)):
                continue
            apart = sum(int((second[a].mean() > 0.5) != (second[b].mean() > 0.5)) for a, b in pairs)
            ja, jb = clustering.l2_normalize(np.stack([centred[idx[~second]].mean(axis=0),
                                                       centred[idx[second]].mean(axis=0)]))
            key = (apart, -float(ja @ jb))
            if best is None or key > best[0]:
                best = (key, second)
        if best is not None:
            (apart, neg_cos), second = best
            yield int(c), idx, second, -neg_cos, apart, len(pairs) - apart


def split_by_dashes(emb: np.ndarray, labels: np.ndarray, event: np.ndarray, part: np.ndarray, max_cos: float,
                    max_speakers: int, min_share: float = 0.15) -> np.ndarray:
    """``labels`` with each cluster that holds two parts of a dash event (two speakers) cut in two
    (:func:`dash_split_cuts`, each cluster once, up to ``max_speakers`` speakers) where the cut puts more than
    twice as many of its dash events' parts apart as together (one voice cut in two by chance puts about as
    many either way: a dash on two lines of one speaker, a short line given to its neighbour) and its halves'
    centred centroids have a cosine below ``max_cos``."""
    out = labels.copy()
    for _, idx, second, cos, apart, together in dash_split_cuts(emb, labels, event, part, min_share):
        if int(out.max()) + 1 >= max_speakers:
            break
        if apart > 2 * together and cos < max_cos:
            out[idx[second]] = int(out.max()) + 1
    return out
