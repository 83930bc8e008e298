"""Probe (issue 15): can a learned same-speaker test between clusters, or the eigengap on clean windows, count
the speakers better than the diarizer's eigengap + merging?

On the tuning harness's episodes (``tune_diarize_real.py``: ``--source bank`` with ``--en-fit``, or ``--source
synth``; features from its ``--cache``), each episode is diarized with the defaults (their subtitles given) and the
clustering's inputs are kept: the windows' features, pitch, the EN view and the combined affinity. Then:

1. **Pair features.** For partitions at ``k`` = the found count ``kf``, ``kf + 1``, ``kf + 2``, the true count
   ``K`` and ``K + 1`` (NME spectral clustering at ``k``, re-assignment), every pair of clusters gets: the cosine
   of their centred centroids in the clustering's features, of their raw d-vector centroids, of their centred EN
   view centroids; their median-pitch gaps (JP, EN); the smaller cluster's size; mean within minus mean cross
   affinity. A pair is *same* when both clusters' majority true speaker (over one-speaker windows) is the same.
2. **A logistic regression** on the pairs of the training sets (the first two ``--sets``) gives ``P(same)``;
   its AUC on the other sets' pairs is printed.
3. **Counts** from it, per set: agglomerative merging of a partition at ``kf + 2`` (or 8) while the most alike
   pair has ``P(same)`` above ``t``, then clusters of fewer than ``nmin`` windows folded into their nearest;
   against the found count. And the eigengap count on the one-speaker windows alone (an oracle: the best a
   detector of overlapped and boundary windows could give).

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/probe_count_rules.py \\
        --sets synth:0:20:/tmp/syn.pkl bank:0:20:/tmp/fit.pkl synth:20:40:/tmp/syn2.pkl bank:20:50:/tmp/fit2.pkl

(each cache made first by ``tune_diarize_real.py --source synth --seeds 0 20 --cache /tmp/syn.pkl``, ``--en-fit
--seeds 0 20 --cache /tmp/fit.pkl`` and so on; a few minutes in all once they exist).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

FEATURES = ("c_jp", "c_raw", "c_en", "dp", "dp_en", "n_small", "gap")
GRID = [(t, nmin, start) for t in (0.3, 0.5, 0.7) for nmin in (0, 4, 6, 8) for start in ("kf+2", "8")]


def _median_pitch(p: np.ndarray, lab: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Each cluster's median window pitch: ``p`` is already log2-F0 (``pitch.window_pitch``), so octaves.
    (Before 2026-12-07 this took log2 of it again, squashing the gaps ~5.5x: the ``dp`` / ``dp_en`` features of
    the learned test in docs/diarization.md were measured on that scale.)"""
    rows = np.ones(len(p), bool) if rows is None else rows
    out = np.full(k, np.nan)
    for i in range(k):
        v = p[rows & (lab == i)]
        v = v[np.isfinite(v)]
        if len(v):
            out[i] = np.median(v)
    return out


def pair_features(ep: dict, lab: np.ndarray) -> tuple[list[dict], list[tuple[int, int]]]:
    """The features of every pair of clusters of ``lab`` (module docstring, step 1)."""
    from anim400k.diarize import clustering

    emb, raw, wp, view, aff = ep["emb"], ep["raw"], ep["wpitch"], ep["view"], ep["aff"]
    k = int(lab.max()) + 1
    cj, n = clustering.centred_centroids(emb, lab, k)
    rawc = clustering.l2_normalize(np.stack([raw[lab == i].mean(axis=0) for i in range(k)]))
    pj = _median_pitch(wp, lab, k)
    if view is not None and view.valid.sum() >= 3:
        ce, ne = clustering.centred_centroids(view.emb, lab, k, view.valid)
        pe = _median_pitch(view.pitch, lab, k, view.valid)
    else:
        ce, ne, pe = np.zeros_like(cj), np.zeros(k), np.full(k, np.nan)
    rows, pairs = [], []
    for i in range(k):
        for j in range(i + 1, k):
            mi, mj = lab == i, lab == j
            cross = aff[np.ix_(mi, mj)].mean()
            within = 0.5 * (aff[np.ix_(mi, mi)].mean() + aff[np.ix_(mj, mj)].mean())
            has_en = min(ne[i], ne[j]) >= 3
            rows.append({"c_jp": float(cj[i] @ cj[j]), "c_raw": float(rawc[i] @ rawc[j]),
                         "c_en": float(ce[i] @ ce[j]) if has_en else np.nan,
                         "dp": abs(pj[i] - pj[j]), "dp_en": abs(pe[i] - pe[j]) if has_en else np.nan,
                         "n_small": float(max(1.0, min(n[i], n[j]))), "gap": float(within - cross)})
            pairs.append((i, j))
    return rows, pairs


def design(rows: list[dict]) -> np.ndarray:
    """The regression's inputs: the features (a missing one as 0, the size as its log) and an EN-view flag."""
    return np.array([[0.0 if not np.isfinite(r[f]) else (np.log(r[f]) if f == "n_small" else r[f]) for f in FEATURES]
                     + [float(np.isfinite(r["c_en"]))] for r in rows])


def partition(ep: dict, k: int) -> np.ndarray:
    """NME spectral clustering of the episode's combined affinity at ``k``, re-assigned as the diarizer does."""
    from anim400k.diarize import clustering

    lab = clustering.nme_spectral(ep["aff"], k, 1, 8)
    lab = clustering.reassign(ep["aff"], lab, ep["reassign"])
    return np.unique(lab, return_inverse=True)[1]


def labelled_pairs(ep: dict) -> list[dict]:
    """Pair features with their ``same`` label for the partitions of step 1."""
    out = []
    for k in sorted({ep["kf"], ep["kf"] + 1, ep["kf"] + 2, ep["K"], ep["K"] + 1}):
        if not 2 <= k <= 8:
            continue
        lab = partition(ep, k)
        major = np.full(int(lab.max()) + 1, -1)
        for i in range(len(major)):
            m = (lab == i) & ep["pure"]
            if m.any():
                major[i] = np.bincount(ep["truth"][m]).argmax()
        rows, pairs = pair_features(ep, lab)
        for r, (i, j) in zip(rows, pairs, strict=True):
            if major[i] >= 0 and major[j] >= 0:
                out.append({**r, "same": int(major[i] == major[j])})
    return out


def learned_count(ep: dict, model: Any, t: float, nmin: int, start: str) -> int:
    """Step 3's count: merge while the most alike pair's P(same) > ``t``, then fold clusters under ``nmin``."""
    lab = partition(ep, min(8, ep["kf"] + 2) if start == "kf+2" else 8)
    while lab.max() > 0:
        rows, pairs = pair_features(ep, lab)
        p = model.predict_proba(design(rows))[:, 1]
        if p.max() <= t:
            break
        i, j = pairs[int(p.argmax())]
        lab = np.unique(np.where(lab == j, i, lab), return_inverse=True)[1]
    aff = ep["aff"]
    while lab.max() > 0:
        n = np.bincount(lab)
        s = int(n.argmin())
        if n[s] >= nmin:
            break
        ms = lab == s
        cross = [aff[np.ix_(ms, lab == j)].mean() if j != s else -np.inf for j in range(len(n))]
        lab = np.unique(np.where(ms, int(np.argmax(cross)), lab), return_inverse=True)[1]
    return int(lab.max()) + 1


def collect(spec: str) -> list[dict]:
    """Episodes of one ``--sets`` entry (``source:first:end:cache[:duration]``, 90 s by default) with the
    clustering's inputs kept."""
    import tune_diarize_real as tune
    from _subtitles import subtitle_tuples, synth_subtitles

    from anim400k.diarize import clustering, embedded, get_diarizer, views

    source, first, end, cache, *rest = spec.split(":")
    duration = float(rest[0]) if rest else 90.0
    tune.CACHE.clear()
    tune.CACHE.update(pickle.loads(Path(cache).read_bytes()))
    kept: dict = {}
    cluster = embedded.EmbeddedDiarizer._cluster

    def keep(self: Any, emb: np.ndarray, windows: np.ndarray, wpitch: np.ndarray, view: Any = None,
             raw: Any = None, *args: Any, **kwargs: Any) -> np.ndarray:
        labels = cluster(self, emb, windows, wpitch, view, raw, *args, **kwargs)
        kept.update(emb=emb, windows=windows, wpitch=wpitch, view=view, raw=emb if raw is None else raw, final=labels,
                    events=kwargs.get("events"))
        return labels

    embedded.EmbeddedDiarizer._cluster = keep
    try:
        first_i, end_i = int(first), int(end)
        eps = (tune.synth_episodes(first_i, end_i - first_i, duration) if source == "synth"
               else tune.episodes(first_i, end_i - first_i, duration, "v2", True))
        d = get_diarizer("embedded")
        cfg = d.config
        out = []
        for speech, en, ref, _clips, _release, seed in eps:
            subs = tune.SYNTH_SUBS.get(seed) or subtitle_tuples(synth_subtitles(ref, 1000 + seed, 0.0, 0.02))
            d.diarize(speech, 16000, other=en, subtitles=subs)
            w = kept["windows"]
            speakers = sorted({t.speaker for t in ref})
            cov = np.zeros((len(w), len(speakers)))
            for t in ref:
                cov[:, speakers.index(t.speaker)] += np.clip(np.minimum(w[:, 1], t.end) - np.maximum(w[:, 0], t.start),
                                                             0, None)
            grid = np.zeros(int(np.ceil(max(t.end for t in ref) * 100)) + 2)  # speakers talking, per 10 ms
            for t in ref:
                grid[int(t.start * 100):int(np.ceil(t.end * 100))] += 1
            both = np.concatenate([[0.0], np.cumsum(grid >= 2)]) / 100.0  # seconds of overlapped speech up to t
            a = np.clip((w[:, 0] * 100).astype(int), 0, len(grid))
            b = np.clip((w[:, 1] * 100).astype(int), 0, len(grid))
            jp = clustering.fused_affinity(kept["emb"], kept["wpitch"], cfg.pitch_weight)
            ep = dict(kept, seed=seed, K=len(speakers), kf=int(kept["final"].max()) + 1, jp_aff=jp,
                      aff=views.combined_affinity(jp, kept["view"], cfg.other_weight, cfg.pitch_weight),
                      truth=cov.argmax(axis=1), cov=cov, overlap=both[b] - both[a], subs=subs,
                      pure=((cov > 0.05).sum(axis=1) == 1) & (cov.max(axis=1) > 0.75), reassign=cfg.reassign_iters)
            out.append(ep)
        return out
    finally:
        embedded.EmbeddedDiarizer._cluster = cluster


def collected(specs: list[str]) -> dict[str, list[dict]]:
    """The episodes of each ``--sets`` entry (:func:`collect`), with the harness's caches and hooks installed,
    one torch thread and warnings off, as every probe of the count runs them."""
    import torch
    import tune_diarize_real as tune

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    tune.install_caches_and_hooks()
    return {s: collect(s) for s in specs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", required=True, help="source:first:end:cache; the first two train")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from anim400k.diarize import clustering

    sets = collected(args.sets)
    pairs = {s: [p for ep in eps for p in labelled_pairs(ep)] for s, eps in sets.items()}
    train = [p for s in args.sets[:2] for p in pairs[s]]
    model = LogisticRegression(C=1.0, max_iter=3000).fit(design(train), [p["same"] for p in train])
    print("P(same) coefficients", dict(zip((*FEATURES, "has_en"), np.round(model.coef_[0], 2), strict=True)))
    for s in args.sets:
        y = np.array([p["same"] for p in pairs[s]])
        auc = roc_auc_score(y, model.predict_proba(design(pairs[s]))[:, 1])
        print(f"{s}: pairs {len(y)} ({y.sum()} same), P(same) AUC {auc:.3f}"
              + ("  (training set)" if s in args.sets[:2] else ""))
    print(f"\n{'count right':34s}" + "".join(f"{s.split(':')[0] + ' ' + s.split(':')[1]:>12s}" for s in args.sets))
    print(f"{'found (the diarizer)':34s}" + "".join(f"{np.mean([e['kf'] == e['K'] for e in eps]):12.2f}"
                                                    for eps in sets.values()))

    def eig_pure(ep: dict) -> int:
        i = np.nonzero(ep["pure"])[0]
        sub = np.ix_(i, i)
        return max(clustering.nme_count(ep["aff"][sub], 1, 8), clustering.nme_count(ep["jp_aff"][sub], 1, 8))

    print(f"{'eigengap, one-speaker windows':34s}" + "".join(f"{np.mean([eig_pure(e) == e['K'] for e in eps]):12.2f}"
                                                             for eps in sets.values()))
    for t, nmin, start in GRID:
        name = f"learned t {t} nmin {nmin} from {start}"
        right = [np.mean([learned_count(e, model, t, nmin, start) == e["K"] for e in eps]) for eps in sets.values()]
        print(f"{name:34s}" + "".join(f"{r:12.2f}" for r in right), flush=True)


if __name__ == "__main__":
    main()
