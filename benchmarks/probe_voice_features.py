"""Probe (issue 15): do prosody, formants or voice quality tell the confusable Kokoro voices apart?

Two Kokoro Japanese voices are one person to every speaker embedding the project has
(``jf_gongitsune`` / ``jf_nezumi``; less often ``jf_alpha`` / ``jf_tebukuro``). This probe measures,
on the voice bank's clean takes (``_voice_bank.load_bank("v2")``: 6 voices x 60 distinct takes, 16 kHz),
whether feature families the diarizer does not use separate them better than the features it does use.

Segments: each whole take (``take``), and up to ``--windows`` random 1.5 s windows of each take
(``window``; a take shorter than 1.5 s gives one window over itself, as the diarizer's short regions do).

Feature families per segment (:func:`segment_features`):

- ``f0``: the project's F0 track (:func:`anim400k.diarize.pitch.f0_track`) in semitones: mean, std,
  10th / 90th percentile, slope (semitones per second), voiced fraction;
- ``f0 shape``: the same without the level (std, p90 - p10, slope, voiced fraction): what the
  diarizer's median-pitch term does not carry;
- ``formants``: F1-F3 from LPC (order 12 at 10 kHz, pre-emphasised 25 ms frames, voiced loud frames;
  roots with bandwidth < 400 Hz): mean and std of each;
- ``tilt/centroid/HNR``: spectral tilt (dB per octave, 100-5000 Hz), spectral centroid and the
  autocorrelation HNR of the voiced frames, mean and std of each;
- ``jitter/shimmer/H1-H2``: frame-to-frame F0 change (semitones) and level change (dB) over consecutive
  voiced frames (frame-level stand-ins for jitter and shimmer), and H1-H2 (dB);
- ``modulation``: the 10 ms log-energy envelope's modulation spectrum (1-16 Hz centroid, 2-16 Hz peak), its
  peak rate per second and its spread (dB);
- ``mfcc deltas``: std of the deltas and delta-deltas of MFCC c1-c12 over the loud frames.

And the diarizer's own features: ``median F0`` (its pitch term), ``d-vector`` (Resemblyzer,
centred over all segments), ``spectral`` (:func:`anim400k.diarize.spectral.window_statistics`, whitened
by the within-window covariance of all segments) and ``current fused`` (their concatenation for the
classifier; for the score the diarizer's affinity 0.2 x d-vector cosine + 0.8 x spectral cosine - 1.0 x the
median-pitch distance in octaves). ``fused + X`` adds 0.3 x the family's similarity to that affinity.

For each pair of voices, printed: ``acc``, the 5-fold cross-validated balanced accuracy of a logistic
regression (standardised features, balanced classes; folds grouped by take, so windows of one take are
never split between training and test), and ``AUC``, how well an unsupervised similarity ranks
same-voice segment pairs above different-voice ones (segments of one take left out): the cosine for the
d-vectors and the spectral statistics (as the clusterer uses them), minus the Euclidean distance of the
features z-scored over all six voices' segments for the other families. Columns: the pair
``jf_gongitsune`` / ``jf_nezumi`` (``gn``), ``jf_alpha`` / ``jf_tebukuro`` (``at``) and the mean (min) over
the 13 other pairs.

``--episodes CACHE`` measures the same on the separated JP speech of ``tune_diarize_real.py``'s episodes
instead (their one-speaker 1.5 s windows, the current features computed per episode as the diarizer does,
pairs compared inside an episode only; the episodes read from that script's ``--cache``).

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/probe_voice_features.py [--windows 2] [--markdown]
    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/probe_voice_features.py --markdown \
        --episodes /tmp/pp-fit.pkl --en-fit --seeds 0 20

About 2 minutes on one core for the bank (cached; the first call generates it, ~10 min), ~5 minutes for 20
episodes. Results: ``docs/diarization.md``, *Prosody and formants (probe, issue 15)*.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 16000
WINDOW = 1.5
GAP = 0.25
HARD = (("jf_gongitsune", "jf_nezumi"), ("jf_alpha", "jf_tebukuro"))
NEW_FAMILIES = ("f0", "f0 shape", "formants", "tilt/centroid/HNR", "jitter/shimmer/H1-H2", "modulation",
                "mfcc deltas")


def segments(bank: dict[str, list[np.ndarray]], n_windows: int, rng: np.random.Generator
             ) -> dict[str, list[tuple[str, int, int, int]]]:
    """Per level, ``(voice, take, start sample, end sample)`` of every segment."""
    out: dict[str, list[tuple[str, int, int, int]]] = {"take": [], "window": []}
    w = int(WINDOW * SR)
    for voice, takes in bank.items():
        for i, a in enumerate(takes):
            out["take"].append((voice, i, 0, len(a)))
            if len(a) <= w:
                out["window"].append((voice, i, 0, len(a)))
                continue
            for s in sorted(rng.integers(0, len(a) - w + 1, n_windows)):
                out["window"].append((voice, i, int(s), int(s) + w))
    return out


def _frames(x: np.ndarray, n: int, hop: int) -> np.ndarray:
    if len(x) < n:
        x = np.pad(x, (0, n - len(x)))
    return np.lib.stride_tricks.sliding_window_view(x, n)[::hop]


def _nanstats(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    return (float(np.mean(x)), float(np.std(x))) if x.size else (np.nan, np.nan)


def formants(x: np.ndarray, voiced_at: np.ndarray) -> np.ndarray:
    """F1-F3 (Hz) per 10 ms frame of ``x`` (16 kHz) at 10 kHz by LPC; ``nan`` for unvoiced / quiet frames.

    ``voiced_at`` is the 20 ms F0 track's voicing (True per frame)."""
    import librosa
    from scipy.signal import resample_poly

    fs = 10000
    y = resample_poly(x, 5, 8)
    y = np.append(y[0], y[1:] - 0.97 * y[:-1])
    fr = _frames(y, 250, 100) * np.hamming(250)
    out = np.full((len(fr), 3), np.nan)
    energy = 10 * np.log10(np.mean(fr**2, axis=1) + 1e-12)
    t = (np.arange(len(fr)) * 100 + 125) / fs
    vi = np.clip(np.round((t - 0.02) / 0.02).astype(int), 0, max(len(voiced_at) - 1, 0))
    use = (energy > energy.max() - 30) & (voiced_at[vi] if len(voiced_at) else False)
    if not use.any():
        return out
    a = librosa.lpc(fr[use].astype(np.float64) + 1e-9 * np.random.default_rng(0).standard_normal((use.sum(), 250)),
                    order=12, axis=-1)
    comp = np.zeros((len(a), 12, 12))
    comp[:, 0, :] = -a[:, 1:]
    comp[:, np.arange(1, 12), np.arange(11)] = 1.0
    roots = np.linalg.eigvals(comp)
    freq = np.angle(roots) * fs / (2 * np.pi)
    bw = -fs / np.pi * np.log(np.maximum(np.abs(roots), 1e-9))
    ok = (roots.imag > 0) & (freq > 90) & (freq < 4800) & (bw < 400)
    f = np.where(ok, freq, np.inf)
    f.sort(axis=1)
    f = f[:, :3]
    f[~np.isfinite(f)] = np.nan
    out[use] = f
    return out


def segment_features(x: np.ndarray) -> dict[str, np.ndarray]:
    """The new feature families of one segment (16 kHz samples), each a 1-D vector (``nan`` where undefined)."""
    import librosa
    from scipy.signal import find_peaks

    from anim400k.diarize import pitch

    x = np.asarray(x, dtype=np.float64)
    f0 = pitch.f0_track(x.astype(np.float32), SR)
    fr = _frames(x.astype(np.float32), 640, 320)[: len(f0)]
    voiced = np.isfinite(f0)
    semi = 12 * np.log2(f0[voiced] / 100.0) if voiced.any() else np.zeros(0)
    tv = np.nonzero(voiced)[0] * 0.02
    if semi.size >= 3:
        p10, p90 = np.percentile(semi, [10, 90])
        slope = float(np.polyfit(tv, semi, 1)[0]) if np.ptp(tv) > 0 else 0.0
        f0v = [semi.mean(), semi.std(), p10, p90, slope, voiced.mean()]
        shape = [semi.std(), p90 - p10, slope, voiced.mean()]
    else:
        f0v = [np.nan] * 5 + [voiced.mean() if len(voiced) else 0.0]
        shape = [np.nan] * 3 + [voiced.mean() if len(voiced) else 0.0]
    fm = formants(x, voiced)
    fmv = [v for k in range(3) for v in _nanstats(fm[:, k])]
    # spectra of the 40 ms frames: tilt, centroid, H1-H2; HNR from the autocorrelation peak
    nfft = 2048
    spec = np.abs(np.fft.rfft(fr * np.hanning(640), nfft, axis=1)) ** 2 if len(fr) else np.zeros((0, nfft // 2 + 1))
    hz = np.fft.rfftfreq(nfft, 1 / SR)
    band = (hz >= 100) & (hz <= 5000)
    db = 10 * np.log10(spec + 1e-12)
    lx = np.log2(hz[band])
    lx = lx - lx.mean()
    tilt = (db[:, band] - db[:, band].mean(axis=1, keepdims=True)) @ lx / (lx @ lx)
    centroid = (spec[:, band] @ hz[band]) / np.maximum(spec[:, band].sum(axis=1), 1e-12)
    _, peak, _ = pitch._frame_pitch(fr, SR, 60.0, 500.0, 0.85) if len(fr) else (None, np.zeros(0), None)
    r = np.clip(peak, 0.01, 0.99)
    hnr = 10 * np.log10(r / (1 - r))
    h12 = np.full(len(f0), np.nan)
    for i in np.nonzero(voiced)[0]:
        def amp(f: float, row: np.ndarray = db[i]) -> float:
            lo, hi = np.searchsorted(hz, [0.9 * f, 1.1 * f])
            return float(row[lo:max(hi, lo + 1)].max())
        h12[i] = amp(f0[i]) - amp(2 * f0[i])
    vq = (lambda v: v if v.any() else np.ones_like(v))(voiced)
    tch = [*_nanstats(tilt[vq]), *_nanstats(centroid[vq] / 1000), *_nanstats(hnr[vq])]
    level = 10 * np.log10(np.mean(fr**2, axis=1) + 1e-12)
    both = voiced[1:] & voiced[:-1]
    dsemi = np.abs(np.diff(12 * np.log2(np.where(voiced, f0, 1.0))))[both]
    dlev = np.abs(np.diff(level))[both]
    jsh = [float(np.median(dsemi)) if dsemi.size else np.nan, float(np.median(dlev)) if dlev.size else np.nan,
           *_nanstats(h12)]
    # modulation of the 10 ms log-energy envelope
    env = 10 * np.log10(np.mean(_frames(x, 160, 160) ** 2, axis=1) + 1e-10)
    env = np.maximum(env, env.max() - 40)
    e = (env - env.mean()) * np.hanning(len(env))
    ms = np.abs(np.fft.rfft(e, 512)) ** 2
    mf = np.fft.rfftfreq(512, 0.01)
    mb = (mf >= 1) & (mf <= 16)
    mp = (mf >= 2) & (mf <= 16)
    pk, _ = find_peaks(env, prominence=3.0)
    mod = [float(ms[mb] @ mf[mb] / max(ms[mb].sum(), 1e-12)), float(mf[mp][np.argmax(ms[mp])]),
           len(pk) / (len(x) / SR), float(env.std())]
    mf_ = librosa.feature.mfcc(y=x.astype(np.float32), sr=SR, n_mfcc=13, n_fft=400, hop_length=160)[1:13]
    width = min(9, mf_.shape[1] - (1 - mf_.shape[1] % 2))
    if width >= 3:
        d1 = librosa.feature.delta(mf_, width=width)
        d2 = librosa.feature.delta(mf_, width=width, order=2)
        loud = env[: mf_.shape[1]] > env.max() - 15
        loud = np.pad(loud, (0, mf_.shape[1] - len(loud)), constant_values=False)
        loud = loud if loud.sum() >= 3 else np.ones(mf_.shape[1], bool)
        mfd = [*d1[:, loud].std(axis=1), *d2[:, loud].std(axis=1)]
    else:
        mfd = [np.nan] * 24
    fam = {"f0": f0v, "f0 shape": shape, "formants": fmv, "tilt/centroid/HNR": tch,
           "jitter/shimmer/H1-H2": jsh, "modulation": mod, "mfcc deltas": mfd}
    return {k: np.asarray(v, dtype=np.float64) for k, v in fam.items()}


def current_features(bank: dict[str, list[np.ndarray]], segs: list[tuple[str, int, int, int]]
                     ) -> dict[str, np.ndarray]:
    """The diarizer's features of the bank's segments, computed as it does on one track holding all the takes."""
    offsets, parts, pos = {}, [], 0
    for voice, takes in bank.items():
        for i, a in enumerate(takes):
            offsets[voice, i] = pos
            parts += [a, np.zeros(int(GAP * SR), np.float32)]
            pos += len(a) + int(GAP * SR)
    track = np.concatenate(parts).astype(np.float32)
    regions = np.array([(offsets[v, i] / SR, (offsets[v, i] + len(a)) / SR)
                        for v, t in bank.items() for i, a in enumerate(t)])
    wins = np.array([((offsets[v, i] + s) / SR, (offsets[v, i] + e) / SR) for v, i, s, e in segs])
    return track_features(track, regions, wins)


def track_features(track: np.ndarray, regions: np.ndarray, wins: np.ndarray) -> dict[str, np.ndarray]:
    """The diarizer's features of the windows ``wins`` (seconds) of one 16 kHz track whose speech regions
    are ``regions``: centred d-vectors, whitened spectral statistics, median log2-F0."""
    import torch

    from anim400k.diarize import embedding, pitch, spectral
    from anim400k.diarize.clustering import l2_normalize

    torch.set_num_threads(1)
    mel = embedding.mel_frames(embedding.normalize_regions(track, regions))
    dvec = embedding.embed_windows(mel, wins, embedding.load_encoder())
    spec = spectral.window_statistics(mel, wins)
    med = pitch.window_pitch(pitch.f0_track(track, SR), wins)
    return {"d-vector": l2_normalize(dvec - dvec.mean(axis=0)), "spectral": spec, "median F0": med[:, None]}


def episode_windows(cache: Path, first: int, end: int, fit_en: bool, min_share: float = 0.95
                    ) -> tuple[list[tuple[str, str, int]], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The diarizer's 1.5 s windows of the separated JP speech of ``tune_diarize_real.py``'s episodes (read
    from its ``--cache``) whose reference speech is one speaker's (>= ``min_share``): ``(voice, group,
    episode)`` per window (group: the episode and VAD region, so that overlapping windows stay in one
    fold), and the new and current features of the windows, each episode's current ones computed on its
    own track (centring and whitening per episode, as the diarizer does)."""
    import pickle

    import tune_diarize_real as tune

    from anim400k.diarize import embedding, vad

    tune.CACHE.update(pickle.loads(cache.read_bytes()))
    segs: list[tuple[str, str, int]] = []
    new_rows: list[dict[str, np.ndarray]] = []
    cur_parts: list[dict[str, np.ndarray]] = []
    for speech, _en, ref, _clips, _release, seed in tune.episodes(first, end - first, 90.0, "v2", fit_en):
        regions = vad.speech_regions(speech)
        wins = embedding.sliding_windows(regions, WINDOW, 0.5)
        keep, who = [], []
        for k, (a, b) in enumerate(wins):
            cover: dict[str, float] = {}
            for t in ref:
                o = min(b, t.end) - max(a, t.start)
                if o > 0:
                    cover[t.speaker] = cover.get(t.speaker, 0.0) + o
            if cover:
                name, most = max(cover.items(), key=lambda kv: kv[1])
                if most >= min_share * sum(cover.values()) and most >= 0.5 * (b - a):
                    keep.append(k)
                    who.append(name)
        wins = wins[keep]
        region_of = np.searchsorted(regions[:, 0], wins[:, 0], side="right") - 1
        segs += [(name, f"{seed}|{r}", seed) for name, r in zip(who, region_of, strict=True)]
        new_rows += [segment_features(speech[int(a * SR):int(b * SR)]) for a, b in wins]
        cur_parts.append(track_features(speech, regions, wins))
        print(f"episode {seed}: {len(wins)} one-speaker windows", file=sys.stderr, flush=True)
    new = {name: np.stack([r[name] for r in new_rows]) for name in NEW_FAMILIES}
    cur = {k: np.concatenate([c[k] for c in cur_parts]) for k in cur_parts[0]}
    return segs, new, cur


def _cv_accuracy(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(SimpleImputer(), StandardScaler(),
                          LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))
    cv = StratifiedGroupKFold(5, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(model, x, y, groups=groups, cv=cv, scoring="balanced_accuracy")))


def _zscore(x: np.ndarray) -> np.ndarray:
    mu, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    return np.nan_to_num((x - mu) / np.where(sd > 1e-12, sd, 1.0))


def similarities(cur: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Segment x segment similarity of each family: what an unsupervised clusterer could use."""
    sims: dict[str, np.ndarray] = {}
    for name in ("d-vector", "spectral"):
        sims[name] = cur[name] @ cur[name].T
    med = cur["median F0"][:, 0]
    sims["median F0"] = -np.nan_to_num(np.abs(med[:, None] - med[None, :]))
    sims["current fused"] = 0.2 * sims["d-vector"] + 0.8 * sims["spectral"] + sims["median F0"]
    for name in NEW_FAMILIES:
        z = _zscore(new[name])
        d2 = np.sum(z**2, 1)[:, None] + np.sum(z**2, 1)[None, :] - 2 * z @ z.T
        sims[name] = -np.sqrt(np.maximum(d2, 0) / z.shape[1])
    for name in NEW_FAMILIES:
        s = sims[name]
        scale = np.std(s) if np.std(s) > 0 else 1.0
        # the family's similarity on the spectral cosine's scale, added with weight 0.3
        sims[f"fused + {name}"] = sims["current fused"] + 0.3 * (s - s.mean()) / scale * np.std(sims["spectral"])
    return sims


def evaluate(voice: np.ndarray, group: np.ndarray, episode: np.ndarray, cur: dict[str, np.ndarray],
             new: dict[str, np.ndarray]) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
    """Family -> pair of voices -> (CV balanced accuracy, same/different AUC).

    ``voice``, ``group`` (segments of one group: never split between folds, never compared) and
    ``episode`` (segments are compared, and a pair scored, only inside an episode holding both voices) per
    segment."""
    from sklearn.metrics import roc_auc_score

    feats = {**cur, "current fused": np.hstack([cur["d-vector"], cur["spectral"], cur["median F0"]]), **new}
    for name in NEW_FAMILIES:
        feats[f"fused + {name}"] = np.hstack([feats["current fused"], new[name]])
    voices = sorted(set(voice))
    pairs = [(a, b) for i, a in enumerate(voices) for b in voices[i + 1:]]
    scores: dict[str, dict[tuple[str, str], tuple[list, list]]] = {n: {p: ([], []) for p in pairs} for n in feats}
    both: dict[tuple[str, str], list[np.ndarray]] = {p: [] for p in pairs}
    for e in np.unique(episode):
        rows = np.nonzero(episode == e)[0]
        sims = similarities({k: v[rows] for k, v in cur.items()}, {k: v[rows] for k, v in new.items()})
        for a, b in pairs:
            m = np.isin(voice[rows], (a, b))
            if not (np.any(voice[rows] == a) and np.any(voice[rows] == b)):
                continue
            idx = np.nonzero(m)[0]
            both[a, b].append(rows[idx])
            iu = np.triu_indices(len(idx), 1)
            i, j = idx[iu[0]], idx[iu[1]]
            keep = group[rows[i]] != group[rows[j]]
            same = voice[rows[i]][keep] == voice[rows[j]][keep]
            for name in feats:
                scores[name][a, b][0].append(same)
                scores[name][a, b][1].append(sims[name][i[keep], j[keep]])
    out: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
    for name, x in feats.items():
        out[name] = {}
        for a, b in pairs:
            if not both[a, b]:
                continue
            m = np.concatenate(both[a, b])
            y = (voice[m] == b).astype(int)
            acc = _cv_accuracy(x[m], y, group[m]) if min(np.bincount(y, minlength=2)) >= 5 else float("nan")
            same, sim = np.concatenate(scores[name][a, b][0]), np.concatenate(scores[name][a, b][1])
            auc = float(roc_auc_score(same, sim)) if 0 < same.sum() < len(same) else float("nan")
            out[name][a, b] = (acc, auc)
    return out


def table(results: dict[str, dict], markdown: bool) -> list[str]:
    """One row per family: acc / AUC per level for the two hard pairs and the other pairs."""
    levels = list(results)
    names = list(results[levels[0]])
    head = ["family"]
    for group in ("gongitsune/nezumi", "alpha/tebukuro", "other 13 pairs, mean (min)"):
        for lev in levels:
            head += [f"{group} {lev} acc", f"{group} {lev} AUC"]
    rows = [head]
    for name in names:
        row = [name]
        for hard in (*HARD, None):
            for lev in levels:
                r = results[lev][name]
                if hard is not None:
                    acc, auc = r.get(hard, (np.nan, np.nan))
                    row += [f"{acc:.2f}", f"{auc:.3f}"]
                else:
                    oth = np.array([v for k, v in r.items() if k not in HARD])
                    row += [f"{np.nanmean(oth[:, 0]):.2f} ({np.nanmin(oth[:, 0]):.2f})",
                            f"{np.nanmean(oth[:, 1]):.3f} ({np.nanmin(oth[:, 1]):.3f})"]
        rows.append(row)
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        return [lines[0], "|" + "---|" * len(head), *lines[1:]]
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    short = ["family"] + [f"{g}:{lev}:{m}" for g in ("gn", "at", "other") for lev in levels for m in ("acc", "AUC")]
    rows[0] = short
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    return ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bank", default="v2")
    ap.add_argument("--windows", type=int, default=2, help="random 1.5 s windows per take")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--episodes", type=Path, metavar="CACHE",
                    help="instead of the bank: the one-speaker windows of the separated JP speech of "
                         "tune_diarize_real.py's episodes kept in its --cache CACHE")
    ap.add_argument("--seeds", type=int, nargs=2, default=(0, 20), metavar=("FIRST", "END"))
    ap.add_argument("--en-fit", action=argparse.BooleanOptionalAction, default=True,
                    help="the episodes of tune_diarize_real.py (--no-en-fit: its older EN track)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    results = {}
    if args.episodes is not None:
        segs, new, cur = episode_windows(args.episodes, args.seeds[0], args.seeds[1], args.en_fit)
        voice, group, episode = (np.array([s[k] for s in segs]) for k in range(3))
        results["separated"] = evaluate(voice, group, episode, cur, new)
    else:
        from _voice_bank import load_bank

        bank = load_bank(args.bank)
        rng = np.random.default_rng(args.seed)
        for level, segs in segments(bank, args.windows, rng).items():
            per = [segment_features(bank[v][i][s:e]) for v, i, s, e in segs]
            new = {name: np.stack([p[name] for p in per]) for name in NEW_FAMILIES}
            cur = current_features(bank, segs)
            voice = np.array([s[0] for s in segs])
            group = np.array([f"{s[0]}|{s[1]}" for s in segs])
            results[level] = evaluate(voice, group, np.zeros(len(segs), int), cur, new)
            print(f"{level}: {len(segs)} segments", file=sys.stderr, flush=True)
    print("\n".join(table(results, args.markdown)))


if __name__ == "__main__":
    main()
