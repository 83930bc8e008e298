"""Re-clustering experiments for ``tune_diarize_real.py`` (issue 15; none is used by the diarizer).

Each function takes the embedded diarizer's clustering inputs and its first-pass window labels
and returns new labels ``0..k-1``; ``docs/diarization.md`` (*Re-clustering the windows*) has what
they measured:

- :func:`vbx`: a Bayesian HMM over the windows (VBx, after Landini et al. 2022, "Bayesian HMM
  clustering of x-vector sequences"; own code): speaker-loop HMM, Gaussian speakers with a shared
  within-speaker covariance; the PLDA-like model is estimated from the first pass's clusters;
- :func:`wccn`: window features whitened by the first pass's within-cluster covariance
  (self-supervised LDA / WCCN), then clustered again;
- :func:`segment_labels`: one point per line of the first pass (its windows' features averaged),
  the lines clustered, then the windows re-assigned;
- :func:`half_scores` / :func:`split_by_sum`: the JP + EN split test (2-means halves of each
  cluster, centred cosine of the halves' JP centroids plus that of their EN centroids; the
  diarizer's ``split_views_max`` does the same) and :func:`two_voices`, the truth it is scored
  against (*A larger voice bank* in the docs).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.special import logsumexp


def accuracy(windows: np.ndarray, labels: np.ndarray, ref: list) -> tuple[float, int]:
    """Share of one-speaker windows (one reference speaker covers > 0.75 s of it, no other > 0.05 s)
    whose cluster maps to their speaker (optimal one-to-one mapping), and their number."""
    from scipy.optimize import linear_sum_assignment

    spk = sorted({t.speaker for t in ref})
    cov = np.zeros((len(windows), len(spk)))
    for t in ref:
        j = spk.index(t.speaker)
        cov[:, j] += np.clip(np.minimum(windows[:, 1], t.end) - np.maximum(windows[:, 0], t.start), 0, None)
    pure = ((cov > 0.05).sum(axis=1) == 1) & (cov.max(axis=1) > 0.75)
    if not pure.any() or len(labels) == 0:
        return 1.0, 0
    y = cov.argmax(axis=1)
    k = max(int(labels.max()), int(y.max())) + 1
    m = np.zeros((k, k))
    np.add.at(m, (labels[pure], y[pure]), 1)
    r, c = linear_sum_assignment(-m)
    return float(m[r, c].sum() / pure.sum()), int(pure.sum())


def _pca(x: np.ndarray, rows: np.ndarray, dims: int) -> np.ndarray:
    mu = x[rows].mean(axis=0)
    _, s, vt = np.linalg.svd(x[rows] - mu, full_matrices=False)
    return (x - mu) @ vt[: min(dims, len(s))].T


def _scatter(z: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Within-class and between-class covariance of ``z`` by ``labels``."""
    ids = np.unique(labels)
    means = np.stack([z[labels == i].mean(axis=0) for i in ids])
    cnt = np.array([np.sum(labels == i) for i in ids])
    r = z - means[np.searchsorted(ids, labels)]
    within = r.T @ r / max(len(z) - len(ids), 1)
    between = (means * cnt[:, None]).T @ (means - z.mean(axis=0)) / cnt.sum()
    return within, between


def plda_coords(x: np.ndarray, labels: np.ndarray, rows: np.ndarray, dims: int = 10, pca: int = 30,
                reg: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (all rows; fitted on ``rows``) where the within-cluster covariance is I and the
    cluster means' covariance is ``diag(phi)``; returns ``(coords, phi)`` (``dims`` largest ``phi``)."""
    z = _pca(x, rows, pca)
    p = z.shape[1]
    w, b = _scatter(z[rows], labels[rows])
    w = w + reg * np.trace(w) / p * np.eye(p)
    phi, v = scipy.linalg.eigh(b, w)
    order = np.argsort(phi)[::-1][:dims]
    return z @ v[:, order], np.maximum(phi[order], 1e-3)


def _forward_backward(lls: np.ndarray, tr: np.ndarray, ip: np.ndarray) -> tuple:
    ltr = np.log(tr + 1e-8)
    lfw = np.full_like(lls, -np.inf)
    lbw = np.full_like(lls, -np.inf)
    lfw[0] = lls[0] + np.log(ip + 1e-8)
    lbw[-1] = 0.0
    for i in range(1, len(lls)):
        lfw[i] = lls[i] + logsumexp(lfw[i - 1][:, None] + ltr, axis=0)
    for i in range(len(lls) - 2, -1, -1):
        lbw[i] = logsumexp(ltr + lls[i + 1] + lbw[i + 1], axis=1)
    tll = logsumexp(lfw[-1])
    return np.exp(lfw + lbw - tll), tll, lfw, lbw


def vbx_posteriors(blocks: list, gamma: np.ndarray, loop: float = 0.9, fa: float = 0.3, fb: float = 1.0,
                   iters: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """VBx iterations. ``blocks``: ``(x (T, D), phi (D,), mask (T,))`` feature sets (within-speaker
    covariance I, speaker means ~ N(0, diag(phi)); rows outside ``mask`` carry no evidence);
    ``gamma`` (T, S): initial responsibilities. Returns ``(gamma, speaker priors)``."""
    t, s = gamma.shape
    pi = np.full(s, 1.0 / s)
    pre = [(x * np.sqrt(phi), phi, mask.astype(float), -0.5 * (np.sum(x**2, axis=1) + x.shape[1] * np.log(2 * np.pi)))
           for x, phi, mask in blocks]
    for _ in range(iters):
        lp = np.zeros((t, s))
        for rho, phi, m, g in pre:
            gm = gamma * m[:, None]
            inv_l = 1.0 / (1 + fa / fb * gm.sum(axis=0)[:, None] * phi)
            a = inv_l * fa / fb * (gm.T @ rho)
            lp += m[:, None] * fa * (rho @ a.T - 0.5 * (inv_l + a**2) @ phi + g[:, None])
        tr = np.eye(s) * loop + (1 - loop) * pi
        new, tll, lfw, lbw = _forward_backward(lp, tr, pi)
        pi = new[0] + (1 - loop) * pi * np.sum(
            np.exp(logsumexp(lfw[:-1], axis=1, keepdims=True) + lp[1:] + lbw[1:] - tll), axis=0)
        pi = pi / pi.sum()
        done = np.abs(new - gamma).max() < 1e-4
        gamma = new
        if done:
            break
    return gamma, pi


def vbx(emb: np.ndarray, labels: np.ndarray, view: object | None, pitch: np.ndarray, loop: float = 0.9,
        fa: float = 0.3, fb: float = 1.0, dims: int = 10, pca: int = 30, over: bool = False) -> np.ndarray:
    """Window labels after VBx initialised from ``labels`` (``over``: each cluster of >= 10 windows cut
    in two by 2-means first, VBx prunes); JP features, JP pitch and, where valid, the other view's
    features and pitch are separate blocks."""
    n = len(labels)
    if int(labels.max()) < 1:
        return labels
    blocks = []
    x, phi = plda_coords(emb, labels, np.ones(n, bool), dims, pca)
    blocks.append((x, phi, np.ones(n, bool)))
    sources = [(pitch[:, None], np.isfinite(pitch))]
    if view is not None and view.valid.sum() >= 3 and len(np.unique(labels[view.valid])) > 1:
        xo, phio = plda_coords(view.emb, labels, view.valid, dims, pca)
        blocks.append((np.where(view.valid[:, None], xo, 0.0), phio, view.valid.copy()))
        sources.append((view.pitch[:, None], view.valid & np.isfinite(view.pitch)))
    for p, ok in sources:
        if ok.sum() >= 3 and len(np.unique(labels[ok])) > 1:
            xp, php = plda_coords(np.nan_to_num(p), labels, ok, 1, 1)
            blocks.append((np.where(ok[:, None], xp, 0.0), php, ok))
    init = labels.copy()
    if over:
        from sklearn.cluster import KMeans

        for c in np.unique(labels):
            idx = np.nonzero(labels == c)[0]
            if len(idx) >= 10:
                half = KMeans(2, n_init=3, random_state=0).fit_predict(x[idx])
                init[idx[half == 1]] = init.max() + 1
    s = int(init.max()) + 1
    gamma = np.full((n, s), 0.1 / max(s - 1, 1))
    gamma[np.arange(n), init] = 0.9
    gamma, pi = vbx_posteriors(blocks, gamma, loop, fa, fb)
    _, out = np.unique(gamma[:, pi > 1e-3].argmax(axis=1), return_inverse=True)
    return out


def wccn(x: np.ndarray, labels: np.ndarray, rows: np.ndarray, pca: int = 30, reg: float = 0.3) -> np.ndarray:
    """``x`` (PCA to ``pca`` dims, fitted on ``rows``) whitened by the within-cluster covariance of
    ``labels`` on ``rows`` (shrunk towards its mean variance by ``reg``)."""
    z = _pca(x, rows, pca)
    p = z.shape[1]
    w, _ = _scatter(z[rows], labels[rows])
    w = (1 - reg) * w + reg * np.trace(w) / p * np.eye(p)
    ev, vec = np.linalg.eigh(w)
    return (z @ vec / np.sqrt(np.maximum(ev, 1e-12))).astype(np.float32)


def line_segments(windows: np.ndarray, labels: np.ndarray, hop: float = 0.5, gap: float = 0.4,
                  max_len: float | None = 3.0) -> np.ndarray:
    """Segment id per window: runs of consecutive windows with one label, cut where the windows'
    starts are more than ``hop + gap`` apart (a pause between lines) or the run exceeds ``max_len`` s."""
    seg = np.zeros(len(labels), int)
    start = 0
    for i in range(1, len(labels)):
        cut = (labels[i] != labels[i - 1] or windows[i, 0] - windows[i - 1, 0] > hop + gap + 1e-6
               or (max_len is not None and windows[i, 1] - windows[start, 0] > max_len))
        if cut:
            start = i
        seg[i] = seg[i - 1] + int(cut)
    return seg


def segment_means(x: np.ndarray, seg: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``x`` over each segment's ``rows`` (all by default) and the number of rows used."""
    rows = np.ones(len(seg), bool) if rows is None else rows
    n = int(seg.max()) + 1
    out = np.zeros((n, x.shape[1]))
    np.add.at(out, seg[rows], x[rows])
    cnt = np.bincount(seg[rows], minlength=n)
    return out / np.maximum(cnt, 1)[:, None], cnt


def _seg_median(p: np.ndarray, seg: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full(int(seg.max()) + 1, np.nan)
    for s in range(len(out)):
        v = p[(seg == s) & rows & np.isfinite(p)]
        if v.size:
            out[s] = np.median(v)
    return out


def segment_labels(cfg: object, emb: np.ndarray, windows: np.ndarray, wpitch: np.ndarray, view: object | None,
                   raw: np.ndarray, labels: np.ndarray, max_len: float | None = 3.0) -> np.ndarray:
    """Line-level clustering: the first pass's ``labels`` cut into lines (:func:`line_segments`), each
    line one point (mean features, median pitch, the other view's mean over its valid windows), the
    lines spectrally clustered into as many speakers as the first pass found, then the windows
    re-assigned, merged and split as in the diarizer (``cfg``: its :class:`EmbeddedConfig`)."""
    from anim400k.diarize import clustering, views

    k = int(labels.max()) + 1
    if k < 2:
        return labels
    seg = line_segments(windows, labels, cfg.hop, cfg.bridge_gap, max_len)
    semb, _ = segment_means(emb, seg)
    spitch = _seg_median(wpitch, seg, np.ones(len(seg), bool))
    sview = None
    if view is not None:
        oemb, cnt = segment_means(view.emb, seg, view.valid)
        sview = views.OtherView(oemb.astype(np.float32), _seg_median(view.pitch, seg, view.valid), view.f0, cnt >= 1)
    aff = clustering.fused_affinity(semb, spitch, cfg.pitch_weight)
    aff = views.combined_affinity(aff, sview, cfg.other_weight, cfg.pitch_weight)
    out = clustering.nme_spectral(aff, k, 1, cfg.max_speakers)[seg]
    waff = clustering.fused_affinity(emb, wpitch, cfg.pitch_weight)
    waff = views.combined_affinity(waff, view, cfg.other_weight, cfg.pitch_weight)
    out = clustering.reassign(waff, out, cfg.reassign_iters)
    if cfg.num_speakers is None:
        out = clustering.merge_clusters(
            raw, out, windows[:, 1] - windows[:, 0], wpitch, cfg.merge_similarity, cfg.max_pitch_gap,
            cfg.min_cluster_duration, cfg.min_speakers, small_merge_similarity=cfg.small_merge_similarity,
            other=None if view is None else (view.raw_emb, view.pitch, view.valid), other_weight=cfg.other_weight,
            pitch_gap_override=cfg.pitch_gap_override, pitch_gap_spread=cfg.pitch_gap_spread)
        if cfg.split_other_max is not None and view is not None and view.valid.sum() >= 3:
            out = views.split_by_other(emb, out, view, cfg.split_other_max, cfg.max_speakers)
    return out


def half_scores(emb: np.ndarray, labels: np.ndarray, view: object | None, min_windows: int = 10,
                min_share: float = 0.2, min_other: int = 3) -> list[tuple[int, np.ndarray, np.ndarray, float]]:
    """The JP + EN split test's score of each cluster of at least ``min_windows`` windows.

    The diarizer's own test (``views.cluster_half_scores`` with ``jp_weight`` 1, as its
    ``split_views_max`` runs it): the cluster is cut in two by 2-means on its windows' centred
    features ``emb``; the score is the centred cosine of the halves' JP centroids plus that of their
    EN-view centroids (EN-voiced windows only; each view centred over the episode). Returns
    ``(cluster, its window indices, 2-means halves, score)``; clusters whose halves hold under
    ``min_share`` of the windows or under ``min_other`` EN-voiced windows are left out.
    """
    from anim400k.diarize.views import cluster_half_scores

    if view is None or view.valid.sum() < 3:
        return []
    return list(cluster_half_scores(emb, labels, view, jp_weight=1.0, min_share=min_share,
                                    min_windows=min_windows, min_other=min_other))


def split_by_sum(emb: np.ndarray, labels: np.ndarray, view: object | None, threshold: float,
                 max_speakers: int) -> np.ndarray:
    """Labels with each scored cluster (largest first, each once) cut in two where its
    :func:`half_scores` score is below ``threshold`` (the diarizer's own cut, as ``split_views_max`` runs it)."""
    from anim400k.diarize.views import split_by_other

    if view is None or view.valid.sum() < 3:
        return labels.copy()
    return split_by_other(emb, labels, view, threshold, max_speakers, jp_weight=1.0)


def two_voices(windows: np.ndarray, idx: np.ndarray, ref: list, min_windows: int = 3,
               min_share: float = 0.1) -> bool:
    """Whether the windows ``idx`` of a cluster hold two reference speakers: the second most
    frequent speaker of its one-speaker windows (as :func:`accuracy`) has at least
    ``min_windows`` of them and ``min_share`` of the cluster's one-speaker windows."""
    spk = sorted({t.speaker for t in ref})
    w = windows[idx]
    cov = np.zeros((len(w), len(spk)))
    for t in ref:
        cov[:, spk.index(t.speaker)] += np.clip(np.minimum(w[:, 1], t.end) - np.maximum(w[:, 0], t.start), 0, None)
    pure = ((cov > 0.05).sum(axis=1) == 1) & (cov.max(axis=1) > 0.75)
    counts = np.sort(np.bincount(cov[pure].argmax(axis=1), minlength=len(spk)))[::-1] if pure.any() else [0, 0]
    return len(counts) > 1 and counts[1] >= min_windows and counts[1] >= min_share * pure.sum()
