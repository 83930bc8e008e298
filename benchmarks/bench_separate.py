"""Benchmark: backing-track SDR / SI-SDR per method on synthetic episodes, and real-time factors.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_separate.py [--seeds 0 1 2] [--duration 60]``.

For each seed, ``anim400k.synth.make_episode`` builds an episode with known stems; the JP
mix is separated at 16 kHz by ``dualtrack`` (EN mix + the true TimeMap, and again with the
TimeMap estimated by ``anim400k.sync``), ``hpss`` (REPET-SIM) and ``hpss`` (HPSS), and
the backing estimate is scored against the true backing; "mix" scores the unprocessed JP
mix taken as the backing. The real-time factor is audio seconds per processing second on
this CPU (one thread). The mixing-ratio reconstruction error with the estimated stems is
reported too.

Baseline for the single-track speed: ``librosa-repet-sim`` is the previous implementation
(``librosa.stft`` + ``librosa.decompose.nn_filter`` + ``librosa.util.softmask``, same
blocks and parameters), run in the same process; the last lines give its SDR next to the
NumPy ``hpss/repet-sim`` and the speed ratio (``--quick`` skips the dual-track rows).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402

from anim400k.mixing import fit_mix, remix  # noqa: E402
from anim400k.model import TimeMap  # noqa: E402
from anim400k.separate import get_separator, sdr, si_sdr  # noqa: E402
from anim400k.synth import load_truth, make_episode  # noqa: E402

SR = 16000


def librosa_repet_sim(x: np.ndarray, sr: int, block_s: float = 30.0, ctx_s: float = 2.0) -> np.ndarray:
    """The previous single-track REPET-SIM (librosa ``nn_filter``), kept here as the speed baseline."""
    import librosa

    out = np.zeros_like(x)
    block, ctx = int(block_s * sr), int(ctx_s * sr)
    n_fft = 1 << int(round(np.log2(0.128 * sr)))
    hop = n_fft // 4
    for s in range(0, x.size, block):
        e = min(x.size, s + block)
        a, b = max(0, s - ctx), min(x.size, e + ctx)
        y = x[a:b]
        X = librosa.stft(y, n_fft=n_fft, hop_length=hop)
        S = np.abs(X)
        width = int(librosa.time_to_frames(2.0, sr=sr, hop_length=hop))
        if S.shape[1] <= 2 * width + 2:
            width = max(1, S.shape[1] // 4)
        rep = np.minimum(S, librosa.decompose.nn_filter(S, aggregate=np.median, metric="cosine", width=width))
        mask = librosa.util.softmask(rep, 2.0 * (S - rep), power=2)
        out[s:e] = librosa.istft(X * mask, hop_length=hop, n_fft=n_fft, length=y.size)[s - a : e - a]
    return out


class _Baseline:
    name = "librosa-repet-sim"

    def separate(self, x: np.ndarray, sr: int):  # noqa: ANN201
        class R:
            backing = librosa_repet_sim(x, sr)
            vocals = x - backing

        return R


def main() -> None:
    """Run the benchmark and print one line per method and seed."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="single-track rows only (new vs librosa baseline)")
    args = ap.parse_args()
    import librosa.decompose  # noqa: F401  (the baseline's import is not timed)

    rows: dict[str, list[tuple[float, float]]] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            offset, drift = [(3.2, 0.0), (-2.5, 0.041), (6.0, -0.041)][seed % 3]
            ep = make_episode(
                f"{tmp}/{seed}", duration=args.duration, seed=seed, offset=offset, drift=drift, video=False
            )
            d = ep.truth.parent

            def load(name: str, d=d) -> np.ndarray:  # noqa: B023
                x, sr = sf.read(d / f"{name}.wav", dtype="float32")
                return soxr.resample(x, sr, SR)

            jp, en, backing = load("jp_mix"), load("en_mix"), load("backing")
            truth = load_truth(ep.truth)
            tm = TimeMap(truth.offset, truth.drift, 1.0)
            runs = {
                "mix": None,
                "dualtrack(true map)": (get_separator("dualtrack"), {"reference": en, "time_map": tm}),
                "dualtrack(sync)": (get_separator("dualtrack"), {"reference": en}),
                "hpss/repet-sim": (get_separator("hpss"), {}),
                "hpss/hpss": (get_separator("hpss", algorithm="hpss"), {}),
                "librosa-repet-sim": (_Baseline(), {}),
            }
            if args.quick:
                runs = {k: v for k, v in runs.items() if k in ("hpss/repet-sim", "librosa-repet-sim")}
            for name, spec in runs.items():
                if spec is None:
                    est, rtf = jp, float("inf")
                else:
                    sep, kw = spec
                    t = time.perf_counter()
                    res = sep.separate(jp, SR, **kw)
                    took = time.perf_counter() - t
                    seconds[name] = seconds.get(name, 0.0) + took
                    rtf = jp.size / SR / took
                    est = res.backing
                s1, s2 = sdr(backing, est), si_sdr(backing, est)
                rows.setdefault(name, []).append((s1, s2))
                print(f"seed {seed} {name:22s} SDR {s1:6.2f} dB  SI-SDR {s2:6.2f} dB  real-time x{rtf:.1f}")
                if name == "dualtrack(true map)":
                    # mixing ratio over 3 s clips: estimated stems vs true stems; remix with true stems
                    speech = load("jp_speech")
                    errs, snrs = [], []
                    for a in range(0, jp.size - 3 * SR, 3 * SR):
                        seg = slice(a, a + 3 * SR)
                        if not np.any(speech[seg]):
                            continue
                        est_fit = fit_mix(jp[seg], res.vocals[seg], res.backing[seg], SR)
                        true_fit = fit_mix(jp[seg], speech[seg], backing[seg], SR)
                        errs.append(abs(est_fit.ratio_db - true_fit.ratio_db))
                        rebuilt = remix(speech[seg], backing[seg], true_fit.ratio_db, SR, gain_db=true_fit.gain_db)
                        snrs.append(sdr(jp[seg], rebuilt))
                    print(
                        f"seed {seed} mixing ratio: true-stem remix SNR median {np.median(snrs):.1f} dB; "
                        f"|ratio(estimated stems) - ratio(true stems)| median {np.median(errs):.2f} dB"
                    )
    print("mean over seeds:")
    for name, vals in rows.items():
        v = np.array(vals)
        print(f"  {name:22s} SDR {v[:, 0].mean():6.2f} dB  SI-SDR {v[:, 1].mean():6.2f} dB")
    new, old = np.array(rows["hpss/repet-sim"])[:, 0], np.array(rows["librosa-repet-sim"])[:, 0]
    print(
        f"hpss/repet-sim (NumPy) vs librosa-repet-sim: {seconds['librosa-repet-sim'] / seconds['hpss/repet-sim']:.1f}x "
        f"faster ({seconds['hpss/repet-sim']:.1f} s vs {seconds['librosa-repet-sim']:.1f} s), "
        f"SDR difference per seed {np.round(new - old, 3).tolist()} dB"
    )
    if args.quick:
        return
    dual = np.array(rows["dualtrack(true map)"])[:, 0]
    for base in ("hpss/repet-sim", "mix"):
        gain = dual - np.array(rows[base])[:, 0]
        print(f"dualtrack(true map) SDR over {base} per seed: {np.round(gain, 2).tolist()} dB (target >= 6)")


if __name__ == "__main__":
    main()
