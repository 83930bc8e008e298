"""Experiment (issue 15): cut a JP cluster where the EN track's own clustering finds two actors in it.

The EN view's windows (``view.valid``) are clustered on their own (NME spectral clustering of the EN
fused affinity, the eigengap's count). A JP cluster whose EN-voiced windows fall in two EN clusters,
the second holding at least ``share`` of them (and ``min_n`` windows), both EN clusters lying mostly
(``inside``) in this JP cluster, is cut: the windows of the second EN cluster, and the JP cluster's
windows without EN speech nearest in time to one of them, go to a new speaker. Spill of a neighbour's
EN line into a window belongs to the neighbour's EN cluster, which lies mostly in another JP cluster.
"""

from __future__ import annotations

import numpy as np


def en_labels(view, pitch_weight: float, max_speakers: int) -> np.ndarray:
    """EN cluster of each window (-1 where the EN track has no speech)."""
    from anim400k.diarize import clustering

    idx = np.nonzero(view.valid)[0]
    out = np.full(len(view.valid), -1)
    if len(idx) < 6:
        return out
    aff = clustering.fused_affinity(view.emb[idx], view.pitch[idx], pitch_weight)
    out[idx] = clustering.nme_spectral(aff, None, 1, max_speakers)
    return out


def split_by_en_clusters(labels: np.ndarray, windows: np.ndarray, view, pitch_weight: float, max_speakers: int,
                         share: float = 0.25, inside: float = 0.6, min_n: int = 3,
                         en: np.ndarray | None = None) -> np.ndarray:
    """``labels`` with JP clusters cut where two EN clusters live mostly inside them (module docstring)."""
    if view is None or view.valid.sum() < 6:
        return labels
    en = en_labels(view, pitch_weight, max_speakers) if en is None else en
    out = labels.copy()
    en_size = np.bincount(en[en >= 0], minlength=int(en.max()) + 1) if (en >= 0).any() else np.zeros(0, int)
    for c in np.argsort(-np.bincount(labels)):
        if int(out.max()) + 1 >= max_speakers:
            break
        mine = np.nonzero((labels == c) & (en >= 0))[0]
        if len(mine) < 2 * min_n:
            continue
        counts = np.bincount(en[mine], minlength=len(en_size))
        order = np.argsort(-counts)
        e1, e2 = order[0], order[1] if len(order) > 1 else order[0]
        n1, n2 = counts[e1], counts[e2]
        if e1 == e2 or n2 < max(min_n, share * len(mine)):
            continue
        if n1 / en_size[e1] < inside or n2 / en_size[e2] < inside:
            continue
        new = int(out.max()) + 1
        moved = mine[en[mine] == e2]
        kept = mine[en[mine] == e1]
        out[moved] = new
        rest = np.nonzero((labels == c) & (en < 0))[0]
        if len(rest):
            centre = windows.mean(axis=1)
            dm = np.abs(centre[rest, None] - centre[None, moved]).min(axis=1)
            dk = np.abs(centre[rest, None] - centre[None, kept]).min(axis=1)
            out[rest[dm < dk]] = new
    return out
