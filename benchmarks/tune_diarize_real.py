"""Tuning harness: a grid of embedded-diarizer options on the realistic episodes, features cached.

The episodes are ``bench_diarize_real.py``'s (seed ``i`` -> ``compose_episode(bank, 1000 + i,
2 + i % 5)``, JP speech + EN speech as the second view: its ``dual`` input; ``--bank v1|v2`` picks
the voice bank as there, and episodes of either bank can share one ``--cache``). VAD regions, pitch
tracks and window embeddings are computed once per episode and model and reused by every
configuration, so a configuration over 20 episodes takes seconds once the first has run. Tune
on training seeds (0-19) only; the held-out seeds (20-29) are for one final check.

Each configuration is a JSON object of ``get_diarizer("embedded", **options)`` options, plus
experiment hooks (keys starting with ``_``) that patch the clustering for a measurement:

- ``_fuse``: weight of Resemblyzer in an embedding that concatenates the L2-normalised
  Resemblyzer and CAM++ vectors (``{"embedding": "fused", "_fuse": 0.3}``);
- ``_extra``: clusters beyond the eigengap's count (over-clustering, then the usual merging);
- ``_centred``: merge clusters on centred instead of raw centroids (with ``merge_similarity``);
- ``_count: "silhouette"``: the speaker count that maximises the silhouette of the clustering;
- ``_disagree``: the combined JP + EN affinity minus this times the two views' disagreement
  ``|JP - EN|`` (0.5 with equal weights: the smaller of the two, so either view can keep two
  windows apart);
- ``_count: "bic"`` (with ``_dims``, ``_cov``, ``_penalty``): the count minimising the BIC of a
  Gaussian mixture over the affinity's kernel-PCA coordinates (:func:`bic_count`);
- ``_subs: true``: the diarizer gets the episode's synthetic EN subtitles (``_subtitles.py``; the
  ``subtitle_*`` options say how it uses them);
- ``_names``: with ``_subs``, this share of the one-speaker events names its speaker (``_subtitles.py``:
  the true character, 2 % of them a wrong one; ``_wrong`` sets that share);
- ``_en_split: true`` (with ``_en_share``, ``_en_inside``, ``_en_min``): cut JP clusters where two clusters of the
  EN view's own clustering live mostly inside them (``benchmarks/_en_cluster_split.py``);
- ``_count_add``: speakers added to the count's estimate (over-clustering; the merges then decide);
- ``_oracle_count: true``: the true speaker count of each episode (``num_speakers``: no merging);
- ``_split_log: true``: score every cluster of >= 10 windows (after the first pass) by the JP + EN
  split test (:func:`_recluster.half_scores`) and print the AUC of that score for telling clusters
  holding two voices (:func:`_recluster.two_voices`) from one-voice ones;
- ``_split_sum``: cut the clusters whose JP + EN split score is below this (:func:`_recluster.split_by_sum`);
- ``_recluster``: re-cluster after the first pass (``benchmarks/_recluster.py``): ``"vbx"`` (with
  ``_fa``, ``_fb``, ``_loop``, ``_dims``, ``_over``), ``"wccn"`` (with ``_reg``: the windows whitened
  by the first pass's within-cluster covariance, clustered again) or ``"segments"`` (with
  ``_max_len``: one point per line of the first pass).

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/tune_diarize_real.py \\
        --seeds 0 20 --cache /tmp/tune.pkl \\
        --grid '[{}, {"embedding": "campplus"}, {"embedding": "campplus", "pitch_weight": 0.5}]'

Prints per configuration: mean DER, share of episodes with the right speaker count, share of
clips with the right speaker set (runs of lines; in brackets the clips a release would cut,
``bench_diarize_real.release_clips``), found/true speakers per episode, and the clustering's window
accuracy (one-speaker windows whose cluster maps to their speaker, before re-segmentation).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import pickle
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 16000
HOOKS: dict[str, Any] = {}
LAST: dict[str, np.ndarray] = {}  # the last clustering's windows and labels (window accuracy)
CACHE: dict = {}  # features (VAD, pitch, embeddings) and episodes, kept in ``--cache`` between runs


def _digest(*arrays: np.ndarray) -> str:
    m = hashlib.blake2b(digest_size=16)
    for a in arrays:
        m.update(np.ascontiguousarray(a).tobytes())
    return m.hexdigest()


def _memo(fn: Callable, cache: dict) -> Callable:
    def wrapped(audio: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        key = (fn.__name__, _digest(audio), repr(args), repr(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = fn(audio, *args, **kwargs)
        return cache[key]

    return wrapped


def install_caches_and_hooks() -> None:
    """Cache VAD, pitch and embeddings; add the experiment hooks (see the module docstring)."""
    from anim400k.diarize import clustering, embedded, pitch, vad, views

    cache = CACHE
    vad.speech_regions = _memo(vad.speech_regions, cache)
    pitch.f0_track = _memo(pitch.f0_track, cache)
    embed = embedded.EmbeddedDiarizer._embed

    def cached_embed(self: Any, xn: np.ndarray, windows: np.ndarray, name: str | None = None,
                     mel: np.ndarray | None = None) -> np.ndarray:
        name = name or self.config.embedding
        key = (name, _digest(xn, windows))
        if key not in cache:
            saved, self.config.embedding = self.config.embedding, name
            cache[key] = embed(self, xn, windows, mel=mel)
            self.config.embedding = saved
        return cache[key]

    def hooked_embed(self: Any, xn: np.ndarray, windows: np.ndarray, mel: np.ndarray | None = None) -> np.ndarray:
        if self.config.embedding != "fused":
            return cached_embed(self, xn, windows, mel=mel)
        w = HOOKS.get("fuse", 0.5)
        parts = [np.sqrt(w) * clustering.l2_normalize(cached_embed(self, xn, windows, "resemblyzer")),
                 np.sqrt(1 - w) * clustering.l2_normalize(cached_embed(self, xn, windows, "campplus"))]
        return np.hstack(parts)

    embedded.EmbeddedDiarizer._embed = hooked_embed
    embedded.EMBEDDINGS = (*embedded.EMBEDDINGS, "fused")
    nme, merge = clustering.nme_spectral, clustering.merge_clusters

    def hooked_nme(aff: np.ndarray, num: int | None = None, lo: int = 1, hi: int = 8, seed: int = 0) -> np.ndarray:
        if num is None and HOOKS.get("count") == "silhouette":
            from sklearn.metrics import silhouette_score

            dist = np.clip(aff.max() - aff, 0, None)
            dist = 0.5 * (dist + dist.T)
            np.fill_diagonal(dist, 0.0)
            best, labels = -np.inf, np.zeros(len(aff), int)
            for k in range(max(2, lo), min(hi, len(aff) - 1) + 1):
                lab = nme(aff, k, lo, hi, seed)
                if len(np.unique(lab)) > 1 and (s := silhouette_score(dist, lab, metric="precomputed")) > best:
                    best, labels = s, lab
            return labels
        if num is None and HOOKS.get("count") == "bic":
            num = bic_count(aff, lo, hi, HOOKS.get("dims", 10), HOOKS.get("cov", "tied"), HOOKS.get("penalty", 1.0))
        if num is None and HOOKS.get("extra"):
            num = min(hi, int(nme(aff, None, lo, hi, seed).max()) + 1 + HOOKS["extra"])
        return nme(aff, num, lo, hi, seed)

    def hooked_merge(raw: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        if HOOKS.get("centred"):
            raw = raw - raw.mean(axis=0, keepdims=True)
            other = kwargs.get("other")
            if other is not None:
                emb, pitch_, valid = other
                kwargs["other"] = (emb - emb[valid].mean(axis=0, keepdims=True), pitch_, valid)
        return merge(raw, *args, **kwargs)

    clustering.nme_spectral = hooked_nme
    clustering.merge_clusters = hooked_merge
    combine = views.combined_affinity

    def hooked_combine(aff: np.ndarray, view: Any, emb_weight: float, pitch_weight: float) -> np.ndarray:
        lam = HOOKS.get("disagree", 0.0)
        if not lam or view is None or view.valid.sum() < 3 or emb_weight <= 0:
            return combine(aff, view, emb_weight, pitch_weight)
        idx = np.nonzero(view.valid)[0]
        other = clustering.fused_affinity(view.emb[idx], view.pitch[idx], pitch_weight)
        out = aff.copy()
        sub = np.ix_(idx, idx)
        out[sub] = (1.0 - emb_weight) * aff[sub] + emb_weight * other - lam * np.abs(aff[sub] - other)
        return out

    views.combined_affinity = hooked_combine
    cluster = embedded.EmbeddedDiarizer._cluster

    def hooked_cluster(self: Any, emb: np.ndarray, windows: np.ndarray, wpitch: np.ndarray,
                       view: Any = None, raw: Any = None, events: Any = None, names: Any = None,
                       dash: Any = None, crowded: Any = None, straddled: Any = None) -> np.ndarray:
        import _recluster as rc

        cfg = self.config
        saved = cfg.num_speakers
        if HOOKS.get("oracle_count"):
            cfg.num_speakers = HOOKS["true_k"]
        try:
            labels = cluster(self, emb, windows, wpitch, view, raw, events, names, dash, crowded, straddled)
            mode = HOOKS.get("recluster")
            if mode == "vbx":
                labels = rc.vbx(emb, labels, view, wpitch, HOOKS.get("loop", 0.9), HOOKS.get("fa", 0.3),
                                HOOKS.get("fb", 1.0), HOOKS.get("dims", 10), over=HOOKS.get("over", False))
            elif mode == "wccn" and int(labels.max()) > 0:
                reg = HOOKS.get("reg", 0.3)
                white = rc.wccn(emb, labels, np.ones(len(labels), bool), reg=reg)
                wview = view
                if view is not None and view.valid.sum() > 3 and len(np.unique(labels[view.valid])) > 1:
                    oe = np.where(view.valid[:, None], rc.wccn(view.emb, labels, view.valid, reg=reg), 0.0)
                    wview = dataclasses.replace(view, emb=oe.astype(np.float32), raw=view.raw_emb)
                labels = cluster(self, white, windows, wpitch, wview, raw if raw is not None else emb)
            elif mode == "segments":
                labels = rc.segment_labels(cfg, emb, windows, wpitch, view, raw if raw is not None else emb,
                                           labels, HOOKS.get("max_len", 3.0))
            if "split_log" in HOOKS and "ref" in HOOKS:  # each cluster's split score, and whether it holds two voices
                HOOKS["split_log"] += [(s, rc.two_voices(windows, idx, HOOKS["ref"]))
                                       for _, idx, _, s in rc.half_scores(emb, labels, view)]
            if HOOKS.get("en_split"):
                import _en_cluster_split as ecs

                labels = ecs.split_by_en_clusters(labels, windows, view, cfg.pitch_weight, cfg.max_speakers,
                                                  HOOKS.get("en_share", 0.25), HOOKS.get("en_inside", 0.6),
                                                  HOOKS.get("en_min", 3))
            if HOOKS.get("split_sum") is not None:
                labels = rc.split_by_sum(emb, labels, view, HOOKS["split_sum"], cfg.max_speakers)
        finally:
            cfg.num_speakers = saved
        LAST.update(windows=windows, labels=labels)
        return labels

    embedded.EmbeddedDiarizer._cluster = hooked_cluster
    from anim400k.diarize import embedded_cluster

    count_fn = embedded_cluster.count_speakers

    def hooked_count(cfg: Any, affinity: np.ndarray, lo: int, hi: int) -> int:
        return min(hi, count_fn(cfg, affinity, lo, hi) + HOOKS.get("count_add", 0))

    embedded_cluster.count_speakers = hooked_count


def bic_count(aff: np.ndarray, lo: int, hi: int, dims: int = 10, cov: str = "tied", penalty: float = 1.0) -> int:
    """Speaker count minimising the BIC of a Gaussian mixture over the affinity's kernel-PCA coordinates
    (top ``dims`` eigenvectors scaled by the square roots of their eigenvalues); ``penalty``
    scales BIC's parameter term."""
    from sklearn.mixture import GaussianMixture

    sym = 0.5 * (aff + aff.T)
    vals, vecs = np.linalg.eigh(sym)
    top = np.argsort(vals)[::-1][:dims]
    x = vecs[:, top] * np.sqrt(np.clip(vals[top], 0, None))
    n = len(x)
    best, best_k = np.inf, lo
    for k in range(lo, min(hi, n - 1) + 1):
        g = GaussianMixture(k, covariance_type=cov, n_init=2, random_state=0, reg_covar=1e-4).fit(x)
        ll = g.score(x) * n
        bic = -2 * ll + penalty * g._n_parameters() * np.log(n)
        if bic < best:
            best, best_k = bic, k
    return best_k


def episodes(first: int, count: int, duration: float, bank_version: str = "v1", fit_en: bool = False) -> list[tuple]:
    """``(JP speech, EN speech, reference turns, clips, release clips, seed)`` per seed, as the benchmark's
    ``dual`` input (``bench_diarize_real.py --bank bank_version [--en-fit]``)."""
    from _voice_bank import load_bank
    from bench_diarize_real import compose_episode, release_clips

    from anim400k.diarize.views import other_speech
    from anim400k.model import TimeMap
    from anim400k.separate import get_separator

    bank = load_bank(bank_version)
    sep = get_separator("dualtrack")
    out = []
    for i in range(first, first + count):
        key = ("episode", i, duration, bank_version, "release") + (("fit2",) if fit_en else ())
        if key in CACHE:
            out.append((*CACHE[key][:5], i))
            continue
        en_lines: list = []
        mix, en_mix, ref, clips = compose_episode(bank, 1000 + i, 2 + i % 5, duration, deal=bank_version != "v1",
                                                  en_lines=en_lines, fit_en=fit_en)
        s = sep.separate(mix, SR, reference=en_mix, time_map=TimeMap(0.0, 0.0, 1.0))
        speech = (mix - s.backing[: len(mix)]).astype(np.float32)
        en = other_speech(en_mix, SR, len(mix), s.backing, TimeMap(0.0, 0.0, 1.0))
        CACHE[key] = (speech, en, ref, clips, release_clips(ref, en_lines))
        out.append((*CACHE[key], i))
    return out


def synth_episodes(first: int, count: int, duration: float) -> list[tuple]:
    """The same from ``anim400k.synth.make_episode`` (neural voices; ``bench_diarize_real.py --source synth``):
    seed ``i`` has ``2 + i % 5`` speakers; release clips from the truth's JP and EN lines, and the episode's
    own EN subtitles (its SRT's events, kept in ``SYNTH_SUBS``) for ``_subs``."""
    from bench_diarize_real import release_clips, synth_episode, synth_truth

    from anim400k.diarize.views import other_speech
    from anim400k.model import TimeMap
    from anim400k.separate import get_separator

    sep = get_separator("dualtrack")
    out = []
    for i in range(first, first + count):
        key = ("synth", i, duration)
        if key not in CACHE:
            mix, en_mix, ref, clips = synth_episode(i, 2 + i % 5, duration)
            truth = synth_truth(i, 2 + i % 5, duration)
            en_lines = [(ln["en_start"], ln["en_end"]) for ln in truth["lines"]]
            subs = [(round(e["start"], 3), round(e["end"], 3), e["text"]) for e in truth["subtitles"]]
            s = sep.separate(mix, SR, reference=en_mix, time_map=TimeMap(0.0, 0.0, 1.0))
            speech = (mix - s.backing[: len(mix)]).astype(np.float32)
            en = other_speech(en_mix, SR, len(mix), s.backing, TimeMap(0.0, 0.0, 1.0))
            CACHE[key] = (speech, en, ref, clips, release_clips(ref, en_lines), subs)
        SYNTH_SUBS[i] = CACHE[key][5]
        out.append((*CACHE[key][:5], i))
    return out


#: The synthetic episodes' own subtitles by seed (``--source synth``).
SYNTH_SUBS: dict[int, list[tuple]] = {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs=2, default=(0, 20), metavar=("FIRST", "END"))
    ap.add_argument("--duration", type=float, default=90.0)
    ap.add_argument("--grid", default="[{}]", help="JSON list of option objects")
    ap.add_argument("--cache", type=Path, help="pickle file keeping episodes and features between runs")
    ap.add_argument("--bank", choices=("v1", "v2"), default="v2", help="voice bank (bench_diarize_real.py --bank)")
    ap.add_argument("--en-fit", action=argparse.BooleanOptionalAction, default=True,
                    help="EN takes fitted to their JP lines (bench_diarize_real.py; default: --no-en-fit for the "
                         "EN track of the figures before 2026-12-06)")
    ap.add_argument("--source", choices=("bank", "synth"), default="bank",
                    help="bank: composed from the voice bank; synth: anim400k.synth episodes (bench_diarize_real.py)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="'uem' was approximated")

    import torch
    from _recluster import accuracy as window_accuracy
    from _subtitles import subtitle_tuples, synth_subtitles
    from bench_diarize_real import BREAKDOWN_KEYS, score

    from anim400k.diarize import get_diarizer

    torch.set_num_threads(1)
    if args.cache and args.cache.exists():
        CACHE.update(pickle.loads(args.cache.read_bytes()))
    install_caches_and_hooks()
    if args.source == "synth":
        eps = synth_episodes(args.seeds[0], args.seeds[1] - args.seeds[0], args.duration)
    else:
        eps = episodes(args.seeds[0], args.seeds[1] - args.seeds[0], args.duration, args.bank, args.en_fit)
    for options in json.loads(args.grid):
        opts = dict(options)
        HOOKS.clear()
        HOOKS.update({k[1:]: opts.pop(k) for k in list(opts) if k.startswith("_")})
        if HOOKS.get("split_log"):
            HOOKS["split_log"] = []
        d = get_diarizer("embedded", **opts)
        t0 = time.process_time()
        rows, accs = [], []
        for speech, en, ref, clips, release, seed in eps:
            HOOKS["true_k"] = len({t.speaker for t in ref})
            HOOKS["ref"] = ref
            LAST.clear()
            if not HOOKS.get("subs"):
                kw = {}
            elif seed in SYNTH_SUBS:
                kw = {"subtitles": SYNTH_SUBS[seed]}
            else:
                kw = {"subtitles": subtitle_tuples(synth_subtitles(ref, 1000 + seed, HOOKS.get("names", 0.0),
                                                                   HOOKS.get("wrong", 0.02)))}
            rows.append(score(ref, d.diarize(speech, SR, other=en, **kw), clips, release))
            if LAST:
                accs.append(window_accuracy(LAST["windows"], LAST["labels"], ref))
        win = sum(a * n for a, n in accs) / max(sum(n for _, n in accs), 1)
        der = np.mean([r["der"] for r in rows])
        count = np.mean([r["count_ok"] for r in rows])
        clips_ok = sum(r["clips_ok"] for r in rows) / sum(r["clips"] for r in rows)
        rclips_ok = sum(r["rclips_ok"] for r in rows) / sum(r["rclips"] for r in rows)
        found = " ".join(f"{r['n_hyp']}/{r['n_ref']}" for r in rows)
        parts = " ".join(f"{k} {sum(r[k] for r in rows):.1f}" for k in BREAKDOWN_KEYS)
        pyan = "/".join(f"{sum(r[k] for r in rows):.1f}" for k in ("missed_s", "false_s", "confusion_s"))
        per_episode = " ".join(f"{100 * r['der']:.0f}" for r in rows)
        merged = Counter(" & ".join(sorted(x.split(" & "))) for r in rows for x in r["merged"])
        print(f"{json.dumps(options)}\n    DER {100 * der:5.1f} %  count {100 * count:3.0f} %  "
              f"clips {100 * clips_ok:5.1f} % (release {100 * rclips_ok:5.1f} %)  "
              f"windows {100 * win:5.1f} %  [{found}]  "
              f"{time.process_time() - t0:.0f} CPU s\n"
              f"    missed/false alarm/confusion {pyan} s; {parts}\n"
              f"    missed speakers merged: {dict(merged.most_common())}\n"
              f"    DER per episode: {per_episode}", flush=True)
        if HOOKS.get("split_log"):
            from sklearn.metrics import roc_auc_score

            s, two = np.array([x[0] for x in HOOKS["split_log"]]), np.array([x[1] for x in HOOKS["split_log"]])
            auc = roc_auc_score(two, -s) if 0 < two.sum() < len(two) else float("nan")
            print(f"    split score (JP + EN half cosines): AUC {auc:.2f} over {int(two.sum())} two-voice and "
                  f"{int((~two).sum())} one-voice clusters; two-voice {np.round(np.sort(s[two]), 2).tolist()}; "
                  f"one-voice lowest: {np.round(np.sort(s[~two])[:6], 2).tolist()}", flush=True)
        if args.cache:
            tmp = args.cache.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(CACHE))
            tmp.replace(args.cache)


if __name__ == "__main__":
    main()
