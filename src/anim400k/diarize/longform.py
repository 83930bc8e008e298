"""Clustering of long episodes (movies, compilations): an even stride of windows, then every window labelled.

NME spectral clustering (:func:`.clustering.nme_spectral`) eigendecomposes an ``n x n`` Laplacian
for each of ~20 candidate prunings: its time grows with ``n^3`` and its memory with ``n^2``
(``n`` = windows, two per second of speech). Above a cap the embedded diarizer clusters an even
stride of the windows (:func:`stride_subset`) with the usual pipeline, then labels every window
with the speaker whose clustered windows it is most alike on average (the affinity the clustering
used, computed in blocks of rows, :func:`assign_to_subset`), with the same sticky prior towards
its neighbours' speaker as the re-assignment rounds (:func:`.clustering.reassign`).
Time and memory then grow linearly with the episode past the cap.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import clustering, views

#: rows of the affinity to the subset computed at once (bounds the memory: rows x subset floats)
ROW_BLOCK = 1024


def stride_subset(n: int, size: int) -> np.ndarray:
    """``min(n, size)`` window indices spread evenly over ``0..n-1`` (first and last included), ascending."""
    if size >= n:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max(1, size))).astype(int))


def subset_view(view: views.OtherView | None, sub: np.ndarray) -> views.OtherView | None:
    """The other track's view at the windows ``sub`` only (its F0 track unchanged)."""
    if view is None:
        return None
    return views.OtherView(view.emb[sub], view.pitch[sub], view.f0, view.valid[sub],
                           None if view.raw is None else view.raw[sub])


def affinity_to(emb: np.ndarray, wpitch: np.ndarray, sub: np.ndarray, view: views.OtherView | None,
                other_weight: float, pitch_weight: float) -> Callable[[np.ndarray], np.ndarray]:
    """A function giving rows ``rows`` x columns ``sub`` of the affinity the clustering of the windows
    ``sub`` used (:func:`.clustering.fused_affinity` of ``emb``, ``wpitch``, then
    :func:`.views.combined_affinity` with ``view``), for any windows ``rows``.

    Embeddings are centred by the mean over ``sub`` (the other view's over ``sub``'s valid windows),
    as the clustering centred them; rows ``sub`` give exactly that clustering's affinity.
    """
    x = clustering.l2_normalize(emb - emb[sub].mean(axis=0))
    xs, ps = x[sub], wpitch[sub]
    use_view = view is not None and other_weight > 0 and view.valid[sub].sum() >= 3
    if use_view:
        vsub = sub[view.valid[sub]]
        o = clustering.l2_normalize(view.emb - view.emb[vsub].mean(axis=0))
        ovalid = view.valid[sub]

    def pitch_gap(p_rows: np.ndarray, p_cols: np.ndarray) -> np.ndarray:
        return np.nan_to_num(np.abs(p_rows[:, None] - p_cols[None, :]), nan=0.0)

    def block(rows: np.ndarray) -> np.ndarray:
        aff = x[rows] @ xs.T
        if pitch_weight > 0:
            aff = aff - pitch_weight * pitch_gap(wpitch[rows], ps)
        if use_view:
            both = view.valid[rows][:, None] & ovalid[None, :]
            other = o[rows] @ o[sub].T
            if pitch_weight > 0:
                other = other - pitch_weight * pitch_gap(view.pitch[rows], view.pitch[sub])
            aff = np.where(both, (1.0 - other_weight) * aff + other_weight * other, aff)
        return aff

    return block


def assign_to_subset(block: Callable[[np.ndarray], np.ndarray], n: int, sub: np.ndarray, sub_labels: np.ndarray,
                     iters: int, stay: float = 0.05) -> np.ndarray:
    """Labels of all ``n`` windows from the labels ``sub_labels`` of the windows ``sub`` (kept as they are).

    Each other window takes the speaker with the highest mean affinity (``block(rows)``: rows x ``sub``)
    to that speaker's windows in ``sub``, plus ``stay`` for each neighbouring window of that speaker, over
    ``iters`` rounds (0: the affinity alone). Every label of ``sub_labels`` keeps its windows.
    """
    k = int(sub_labels.max()) + 1 if len(sub_labels) else 1
    member = np.eye(k)[sub_labels]
    member /= np.maximum(member.sum(axis=0), 1)
    score = np.empty((n, k))
    for a in range(0, n, ROW_BLOCK):
        rows = np.arange(a, min(n, a + ROW_BLOCK))
        score[rows] = block(rows) @ member
    fixed = np.zeros(n, bool)
    fixed[sub] = True
    labels = score.argmax(axis=1)
    labels[sub] = sub_labels
    for _ in range(iters):
        onehot = np.eye(k)[labels]
        prev = np.vstack([onehot[:1], onehot[:-1]])
        nxt = np.vstack([onehot[1:], onehot[-1:]])
        new = np.where(fixed, labels, (score + stay * (prev + nxt)).argmax(axis=1))
        if np.array_equal(new, labels):
            break
        labels = new
    return labels
