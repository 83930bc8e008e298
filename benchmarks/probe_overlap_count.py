"""Probe (issue 15): do windows of overlapped speech make the extra speakers of the over-counts, and do the
subtitles find them?

On the tuning harness's episodes (``probe_count_rules.collect``: the diarizer with its subtitles, the
clustering's inputs kept), per episode:

- the eigengap count (NME) of the combined affinity over all windows, and over the windows with less than
  0.2 s of overlapped speech in the reference (an oracle detector of overlapped speech);
- the same over the windows with less than ``t`` seconds under two or more subtitle events at once
  (:func:`anim400k.diarize.cue_windows.window_crowding`), for several ``t``, and the share of windows left out;
- how well that crowding finds the overlapped windows (AUC against the reference's >= 0.2 s).

Printed: each count's share right per set. The ``crowded_seconds`` option of the embedded diarizer is built on it
(docs/diarization.md, *Overlapped speech left out of the count*).

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/probe_overlap_count.py \\
        --sets synth:0:20:/tmp/syn.pkl synth:20:40:/tmp/syn2.pkl synth:0:20:/tmp/syn300.pkl:300
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

THRESHOLDS = (0.4, 0.6, 0.8, 1.0, 1.2)


def count_without(ep: dict, keep: np.ndarray) -> int:
    """NME's eigengap count of the episode's combined affinity on the windows ``keep`` (a mask)."""
    from anim400k.diarize import clustering

    i = np.nonzero(keep)[0]
    return clustering.nme_count(ep["aff"][np.ix_(i, i)], 1, 8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", required=True, help="source:first:end:cache[:duration]")
    args = ap.parse_args()
    import probe_count_rules as pcr
    from sklearn.metrics import roc_auc_score

    from anim400k.diarize import cue_windows, subtitle_cues

    for spec, eps in pcr.collected(args.sets).items():
        right: dict[str, list[bool]] = {}
        left_out: dict[float, list[float]] = {t: [] for t in THRESHOLDS}
        truth, crowd = [], []
        for ep in eps:
            k = ep["K"]
            cues = [subtitle_cues.Cue(s[0], s[1], dash=False) for s in ep["subs"]]
            crowded = cue_windows.window_crowding(ep["windows"], cues)
            truth += list(ep["overlap"] >= 0.2)
            crowd += list(crowded)
            right.setdefault("the diarizer (final count)", []).append(ep["kf"] == k)
            right.setdefault("eigengap, all windows", []).append(count_without(ep, np.ones(len(crowded), bool)) == k)
            right.setdefault("eigengap, oracle: overlapped speech < 0.2 s", []).append(
                count_without(ep, ep["overlap"] < 0.2) == k)
            for t in THRESHOLDS:
                right.setdefault(f"eigengap, crowded < {t} s", []).append(count_without(ep, crowded < t) == k)
                left_out[t].append(float(np.mean(crowded >= t)))
        print(f"\n{spec}: crowding against overlapped speech AUC {roc_auc_score(truth, crowd):.3f}")
        for name, r in right.items():
            print(f"  {name:45s} count right {np.mean(r):.2f}")
        print("  windows left out: " + ", ".join(f"{t} s {np.mean(v):.0%}" for t, v in left_out.items()))


if __name__ == "__main__":
    main()
