"""Benchmark (issue 15): two characters trading sub-second lines, the case an outside tester found over-counted.

Each episode (60 s, 16 kHz) is made from the realistic voice bank (``_voice_bank.load_bank``, Kokoro voices):
two JP voices take turns in lines cut to 0.5-0.95 s of a take (abrupt cuts on even seeds, 20 ms fades on odd
ones), 0.05-0.3 s apart, the same voice again one time in five; the EN view has two other voices of the bank
at the same times, as a dub's two actors. No music, no subtitles: the windows (1.5 s) hold two speakers almost
everywhere, which is what the case tests.

Each episode is diarized by the embedded diarizer with the EN view (``other=``) and with the JP track alone, by
the current defaults and by the baseline named ``before-2026-12-08`` (the guards of docs/diarization.md,
*Held-out episodes*, switched off); printed: speakers found (truth 2) and DER (pyannote.metrics, 0.25 s
collar) per episode, then the mean DER and the share of episodes with the right count, side by side.

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/bench_diarize_rapid.py --episodes 6
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 16000
#: the options the guards of 2026-12-08 replaced (docs/diarization.md, *Held-out episodes*)
BASELINE = {"split_other_same_actor": None, "small_pitch_gap_override": None, "both_views_pitch_override": None,
            "straddle_cluster_seconds": None, "bad_cluster_dissolve": False}


def rapid_episode(bank: dict[str, list[np.ndarray]], seed: int, duration: float = 60.0) -> tuple:
    """JP speech, EN speech (16 kHz) and the JP reference turns of one episode (module docstring)."""
    from anim400k.diarize import Turn

    rng = np.random.default_rng(700 + seed)
    voices = sorted(bank)
    jp = [str(v) for v in rng.choice(voices, 2, replace=False)]
    en = [str(v) for v in rng.choice([v for v in voices if v not in jp], 2, replace=False)]
    fade = int(0.02 * SR) if seed % 2 else 0
    n = int(duration * SR)
    a, b = np.zeros(n + SR, np.float32), np.zeros(n + SR, np.float32)
    turns, t, who, lead = [], 0.5, 0, int(0.1 * SR)
    while t < duration - 2.0:
        length = int(rng.uniform(0.5, 0.95) * SR)
        u = bank[jp[who]][int(rng.integers(len(bank[jp[who]])))][lead:lead + length].copy()
        e = bank[en[who]][int(rng.integers(len(bank[en[who]])))][lead:lead + length].copy()
        if fade:
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            for x in (u, e):
                x[:fade] *= ramp[: len(x)]
                x[-fade:] *= ramp[::-1][: len(x)]
        s = int(t * SR)
        a[s:s + len(u)] += u
        b[s:s + len(e)] += e
        turns.append(Turn(round(t, 3), round(t + len(u) / SR, 3), jp[who]))
        t += len(u) / SR + rng.uniform(0.05, 0.3)
        who = 1 - who if rng.random() < 0.8 else who
    return a[:n], b[:n], turns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=6)
    ap.add_argument("--bank", choices=("v1", "v2"), default="v2")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="'uem' was approximated")

    import torch
    from _voice_bank import load_bank

    from anim400k.diarize import get_diarizer
    from anim400k.diarize.metrics import der

    torch.set_num_threads(1)
    bank = load_bank(args.bank)
    methods = {"defaults": {}, "before-2026-12-08": BASELINE}
    rows: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for seed in range(args.episodes):
        jp, en, ref = rapid_episode(bank, seed)
        line = [f"seed {seed} ({'fades' if seed % 2 else 'abrupt'}):"]
        for name, opts in methods.items():
            d = get_diarizer("embedded", **opts)
            for view, kw in (("EN view", {"other": en}), ("JP alone", {})):
                hyp = d.diarize(jp, SR, **kw)
                k, e = len({h.speaker for h in hyp}), der(ref, hyp)
                rows.setdefault((name, view), []).append((k, e))
                line.append(f"{name} {view} {k} spk {100 * e:4.1f} %")
        print("  ".join(line), flush=True)
    for (name, view), got in rows.items():
        right = np.mean([k == 2 for k, _ in got])
        print(f"{name:>18} {view:>8}: DER {100 * np.mean([e for _, e in got]):5.1f} %  count right "
              f"{100 * right:3.0f} %  speakers {' '.join(str(k) for k, _ in got)}")


if __name__ == "__main__":
    main()
