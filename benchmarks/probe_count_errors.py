"""Probe (issue 15): what the speaker-count errors are made of, episode by episode.

On the tuning harness's episodes (``probe_count_rules.collect``: the diarizer with its subtitles, the
clustering's inputs and final window labels kept), each cluster is given the true speaker owning most of its
one-speaker windows (``pure``: one speaker covers > 75 % of the window and no other > 0.05 s). Then:

- **under-counts**: the speakers owning no cluster (merged into another speaker's), with how many one-speaker
  windows each has in the whole episode (windows of 1.5 s every 0.5 s: 3 windows are ~2.5 s of clean speech);
- **over-counts**: the clusters owning no speaker of their own (no one-speaker window, or a speaker another,
  larger cluster owns), with their size, the share of their windows holding >= 0.2 s of overlapped speech in
  the reference, and their mean seconds under two subtitle events at once
  (:func:`anim400k.diarize.cue_windows.window_crowding`); and, for comparison, the same for the real clusters.

Printed per set: the missed speakers' one-speaker windows against the median speaker's, and the crowding of the
extra clusters against the real ones (docs/diarization.md, *Episode length, and what the count needs*).

    PYTHONPATH=$PWD/src OMP_NUM_THREADS=1 python benchmarks/probe_count_errors.py \\
        --sets synth:0:40:/tmp/syn90.pkl synth:0:20:/tmp/syn300.pkl:300 bank:0:20:/tmp/bank300.pkl:300
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def cluster_owners(ep: dict) -> list[tuple[int, int]]:
    """Per cluster of the final labels: ``(speaker owning most of its one-speaker windows, how many)``."""
    out = []
    for c in range(ep["kf"]):
        counts = [int((ep["pure"] & (ep["truth"] == k) & (ep["final"] == c)).sum()) for k in range(ep["K"])]
        out.append((int(np.argmax(counts)), max(counts)))
    return out


def extra_clusters(owners: list[tuple[int, int]]) -> list[int]:
    """Clusters owning no speaker of their own: no one-speaker window, or a speaker a cluster at least as large
    owns (the larger one keeps it; ties go to the earlier cluster)."""
    extra = []
    for c, (k, m) in enumerate(owners):
        rivals = [d for d, (kd, md) in enumerate(owners) if d != c and kd == k and (md > m or (md == m and d < c))]
        if m == 0 or rivals:
            extra.append(c)
    return extra


def missed_speakers(ep: dict, owners: list[tuple[int, int]]) -> list[int]:
    """True speakers that own no cluster."""
    kept = {k for c, (k, m) in enumerate(owners) if m > 0 and c not in extra_clusters(owners)}
    return [k for k in range(ep["K"]) if k not in kept]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="+", required=True, help="source:first:end:cache[:duration]")
    args = ap.parse_args()
    from probe_count_rules import collected

    from anim400k.diarize import cue_windows, subtitle_cues

    for spec, eps in collected(args.sets).items():
        missed_n, all_n, extra_rows, real_rows = [], [], [], []
        print(f"\n{spec}: count right {np.mean([e['kf'] == e['K'] for e in eps]):.2f} of {len(eps)} episodes")
        for ep in eps:
            n = [int((ep["pure"] & (ep["truth"] == k)).sum()) for k in range(ep["K"])]
            all_n += n
            owners = cluster_owners(ep)
            crowd = cue_windows.window_crowding(ep["windows"], subtitle_cues.cues_from_subtitles(ep["subs"]))
            extra = extra_clusters(owners)
            rows = []
            for c in range(ep["kf"]):
                idx = ep["final"] == c
                rows.append((int(idx.sum()), float((ep["overlap"][idx] >= 0.2).mean()), float(crowd[idx].mean())))
                (extra_rows if c in extra else real_rows).append(rows[-1])
            if ep["kf"] == ep["K"]:
                continue
            missed = missed_speakers(ep, owners)
            missed_n += [n[k] for k in missed]
            print(f"  seed {ep['seed']}: {ep['K']} speakers found as {ep['kf']}; one-speaker windows per speaker {n}; "
                  f"missed {[f'spk{k} ({n[k]})' for k in missed]}; extra clusters "
                  f"{[f'{rows[c][0]} windows' for c in extra]}")
        print(f"  missed speakers' one-speaker windows: {sorted(missed_n)} "
              f"(every speaker's median {np.median(all_n):g})")
        for name, kind in (("extra", extra_rows), ("real", real_rows)):
            if kind:
                a = np.array(kind)
                print(f"  {name} clusters: {len(a)}, median size {np.median(a[:, 0]):g} windows, overlapped windows "
                      f"{a[:, 1].mean():.2f}, mean crowding {a[:, 2].mean():.2f} s "
                      f"(>= 0.6 s: {(a[:, 2] >= 0.6).sum()})")


if __name__ == "__main__":
    main()
