"""Merging clusters that both views hear as one voice (issue 15: a voice split in two clusters).

After the clustering a character is sometimes left in two clusters (a few lines said higher or faster than
the rest) that are clearly alike once the episode's average voice is taken away: the *centred* centroids'
cosine. Different characters can be as alike on the JP track alone (same-gender voices of one engine or one
recording chain), but they then have different actors on the other language's track. So a pair merges when
its centred JP centroids are at least ``jp_min`` alike *and* the mean of that and its centred other-view
centroids' cosine is at least ``mean_min`` (docs/diarization.md, *A voice split in two clusters*).
"""

from __future__ import annotations

import numpy as np

from .clustering import centred_centroids
from .views import MIN_OTHER_WINDOWS, OtherView


def merge_alike_in_both_views(emb: np.ndarray, labels: np.ndarray, view: OtherView | None, jp_min: float,
                              mean_min: float, floor: int = 1) -> np.ndarray:
    """Merge the pair of clusters most alike in both views while one passes both thresholds (module
    docstring) and more than ``floor`` clusters are left; labels renumbered ``0..k-1``.

    A pair without :data:`MIN_OTHER_WINDOWS` other-view windows in each cluster is not merged here (nothing to
    tell two alike JP voices apart).
    """
    labels = np.unique(labels, return_inverse=True)[1]
    if view is None:
        return labels
    while labels.max() + 1 > max(1, floor):
        k = int(labels.max()) + 1
        jp, _ = centred_centroids(emb, labels, k)
        other, n_other = centred_centroids(view.emb, labels, k, view.valid)
        c_jp, c_other = jp @ jp.T, other @ other.T
        score = 0.5 * (c_jp + c_other)
        ok = (n_other >= MIN_OTHER_WINDOWS)[:, None] & (n_other >= MIN_OTHER_WINDOWS)[None, :]
        score = np.where(ok & (c_jp >= jp_min), score, -np.inf)
        np.fill_diagonal(score, -np.inf)
        a, b = np.unravel_index(int(np.argmax(score)), score.shape)
        if not score[a, b] >= mean_min:
            break
        labels = np.unique(np.where(labels == max(a, b), min(a, b), labels), return_inverse=True)[1]
    return labels
