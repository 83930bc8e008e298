"""Probe (issue 15): can a held-out split test on each found speaker (G-means style) find the speakers the count
misses, and can a cluster's temporal pattern tell the junk clusters of the over-counts from minor characters?

On the tuning harness's episodes (``probe_count_rules.collect``: the diarizer with the defaults, its subtitles
given, the clustering's inputs kept), every cluster of the final clustering gets:

- ``heldout``: the windows in time order are cut into blocks of 6; even blocks fit a 2-means split (PCA of
  the fold, 5 restarts), the odd blocks are projected on the line through its two centres, and the share of
  their variance a best 1-D two-way cut explains (Otsu) is kept; then the folds swapped, the mean of both. For
  one Gaussian voice the share stays near 0.64; two voices far apart push it towards 1. Overfitting the split
  cannot inflate it: the projected windows were not used to find the line.
- ``insample``: the same share on the fitting windows themselves (the in-sample figure a plain G-means uses).
- ``lambda2``: the second-smallest eigenvalue of the cluster's own normalised graph Laplacian (its affinity).

A cluster is *merged* when a true speaker that is no cluster's majority covers >= 20 % of its one-speaker
windows, and *pure* when its majority speaker covers >= 90 % of them. Printed: each statistic's AUC (merged vs
pure) per set, and the counts if every cluster of >= ``min_windows`` windows whose ``heldout`` share is above t is
counted twice.

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/probe_split_test.py --sets synth:0:20:/tmp/syn.pkl ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def otsu_share(z: np.ndarray) -> float:
    """The largest share of ``z``'s variance that one threshold's two-way cut explains."""
    z = np.sort(z)
    n = len(z)
    if n < 4 or np.var(z) <= 0:
        return 0.0
    c = np.cumsum(z)
    i = np.arange(1, n)
    m1 = c[:-1] / i
    m2 = (c[-1] - c[:-1]) / (n - i)
    between = i * (n - i) / n**2 * (m1 - m2) ** 2
    return float(between.max() / np.var(z))


def two_means_line(x: np.ndarray, seed: int = 0, restarts: int = 5, dims: int = 8) -> np.ndarray:
    """The unit direction through the two centres of the best 2-means of ``x`` (in its top PCA dimensions)."""
    from sklearn.cluster import KMeans

    mu = x.mean(axis=0)
    u, s, vt = np.linalg.svd(x - mu, full_matrices=False)
    d = max(1, min(dims, len(x) // 4, vt.shape[0]))
    p = (x - mu) @ vt[:d].T
    km = KMeans(2, n_init=restarts, random_state=seed).fit(p)
    w = (km.cluster_centers_[0] - km.cluster_centers_[1]) @ vt[:d]
    return w / (np.linalg.norm(w) + 1e-12)


def heldout_share(x: np.ndarray, block: int = 6) -> tuple[float, float]:
    """(held-out, in-sample) Otsu shares of the 2-means line, fitted on alternate time blocks (docstring)."""
    idx = np.arange(len(x))
    fold = (idx // block) % 2
    held, ins = [], []
    for f in (0, 1):
        a, b = x[fold == f], x[fold != f]
        if len(a) < 8 or len(b) < 8:
            continue
        w = two_means_line(a)
        held.append(otsu_share(b @ w))
        ins.append(otsu_share(a @ w))
    if not held:
        return 0.0, 0.0
    return float(np.mean(held)), float(np.mean(ins))


def lambda2(aff: np.ndarray) -> float:
    """The second-smallest eigenvalue of the normalised Laplacian of a (clipped, symmetric) affinity."""
    a = np.clip(aff, 0, None)
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 0)
    d = a.sum(axis=1) + 1e-9
    lap = np.eye(len(a)) - a / np.sqrt(np.outer(d, d))
    return float(np.linalg.eigvalsh(lap)[1])


def cluster_rows(ep: dict, feature: str) -> list[dict]:
    """One row per cluster of the final labels: its statistics and its truth (docstring)."""
    lab, truth, pure = ep["final"], ep["truth"], ep["pure"]
    x = ep["emb"] if feature == "emb" else ep["raw"]
    k = int(lab.max()) + 1
    majors = {}
    for c in range(k):
        m = (lab == c) & pure
        if m.any():
            majors[c] = np.bincount(truth[m], minlength=ep["K"])
    major_of = {c: int(v.argmax()) for c, v in majors.items()}
    rows = []
    for c in range(k):
        m = lab == c
        order = np.argsort(ep["windows"][m, 0])
        xs = x[m][order]
        held, ins = heldout_share(xs) if m.sum() >= 16 else (0.0, 0.0)
        l2 = lambda2(ep["aff"][np.ix_(m, m)]) if m.sum() >= 4 else 1.0
        v = majors.get(c)
        merged = purec = False
        if v is not None and v.sum() >= 5:
            share = v / v.sum()
            purec = share.max() >= 0.9
            missing = [s for s in range(ep["K"]) if s not in major_of.values()]
            merged = any(share[s] >= 0.2 for s in missing)
        rows.append({"seed": ep["seed"], "c": c, "n": int(m.sum()), "held": held, "ins": ins, "l2": l2,
                     "merged": merged, "pure": purec})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", required=True, help="source:first:end:cache[:duration]")
    ap.add_argument("--feature", choices=("emb", "raw"), default="emb")
    args = ap.parse_args()
    import probe_count_rules as pcr
    from sklearn.metrics import roc_auc_score

    for spec, eps in pcr.collected(args.sets).items():
        rows = [r for ep in eps for r in cluster_rows(ep, args.feature)]
        lab = [r for r in rows if r["merged"] or r["pure"]]
        y = np.array([r["merged"] for r in lab])
        print(f"\n{spec}: clusters {len(rows)}, merged {y.sum()}, pure {(~y).sum()}")
        if 0 < y.sum() < len(y):
            for s, sign in (("held", 1), ("ins", 1), ("l2", -1), ("n", 1)):
                print(f"  AUC {s:5s} {roc_auc_score(y, sign * np.array([r[s] for r in lab])):.3f}")
        for r in rows:
            if r["merged"]:
                print(f"  merged: seed {r['seed']} c{r['c']} n {r['n']} held {r['held']:.3f} ins {r['ins']:.3f} "
                      f"l2 {r['l2']:.3f}")
        pv = np.array([r["held"] for r in rows if r["pure"] and r["n"] >= 16])
        print("  pure held-out shares: " + " ".join(f"p{q} {np.percentile(pv, q):.3f}" for q in (50, 90, 95, 99)))
        for t in (0.7, 0.75, 0.8, 0.85, 0.9):
            right = []
            for ep in eps:
                extra = sum(r["held"] > t for r in rows if r["seed"] == ep["seed"])
                right.append(ep["kf"] + extra == ep["K"])
            found = np.mean([e["kf"] == e["K"] for e in eps])
            print(f"  split above {t}: count right {np.mean(right):.2f} (found {found:.2f})")


if __name__ == "__main__":
    main()
