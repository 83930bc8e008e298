"""Issue 5's stage set on synthetic episodes: diarization, separation, mixing ratios.

For each seed, synthesizes a 60 s episode (3 speakers with overlaps, shared M&E stem),
then runs the embedded defaults exactly as the build does (16 kHz analysis audio):
sync (needed by dual-track), dual-track separation, the HPSS/REPET fallback for
comparison, embedded diarization, and per-clip mixing ratios. Prints DER, backing SDR of
each method and of the unprocessed mix, and the real-time factor of the stage set
(episode seconds / processing seconds; goal >= 5x on this 2-core machine).

Run: ``.venv/bin/python benchmarks/bench_stage_set.py [--seeds 0 1 2] [--duration 60]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from anim400k import media
from anim400k.diarize import Turn, clip_speakers, get_diarizer
from anim400k.diarize.metrics import der
from anim400k.mixing import mixing_ratios
from anim400k.separate import get_separator, sdr
from anim400k.sync.estimate import analyze_sync
from anim400k.synth import make_episode

SR = 16000


def run_seed(seed: int, duration: float, root: Path) -> dict[str, float]:
    """Synthesize one episode and time the stage set on it."""
    from scipy.signal import resample_poly

    ep = make_episode(root / f"ep{seed}", duration=duration, seed=seed, offset=0.8 * (seed % 3), video=False)
    truth = ep.load_truth()
    jp = media.decode_audio(ep.media, "jpn", sr=SR)
    en = media.decode_audio(ep.media, "eng", sr=SR)
    backing_true = resample_poly(truth.load_stem("backing"), SR, truth.sample_rate).astype(np.float32)
    c0 = time.process_time()
    t0 = time.perf_counter()
    sync = analyze_sync(jp, en, SR)
    tm = sync.time_map if sync.reliable else None
    t1 = time.perf_counter()
    sep = get_separator("dualtrack").separate(jp, SR, reference=en, time_map=tm)
    t2 = time.perf_counter()
    turns = get_diarizer("embedded").diarize(jp, SR)
    t3 = time.perf_counter()
    intervals = [(ln.jp_start, ln.jp_end) for ln in truth.lines]
    fits = mixing_ratios(jp, jp - sep.backing, sep.backing, SR, intervals)
    clip_speakers(turns, np.array(intervals))
    t4 = time.perf_counter()
    cpu = time.process_time() - c0
    hpss = get_separator("hpss").separate(jp, SR)
    n = min(len(backing_true), len(jp))
    ref = [Turn(ln.jp_start, ln.jp_end, ln.speaker) for ln in truth.lines]
    total = t4 - t0
    return {
        "seed": seed, "duration": duration, "der": float(der(ref, turns, collar=0.25)),
        "sdr_dualtrack": sdr(backing_true[:n], sep.backing[:n]), "sdr_hpss": sdr(backing_true[:n], hpss.backing[:n]),
        "sdr_mix": sdr(backing_true[:n], jp[:n]), "sync_s": t1 - t0, "separate_s": t2 - t1, "diarize_s": t3 - t2,
        "mixing_s": t4 - t3, "total_s": total, "rtf": duration / total, "clips": len(fits),
        "rtf_cpu": duration / cpu,
    }


def main() -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--duration", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_seed(s, args.duration, Path(tmp)) for s in args.seeds]
    print(f"{'seed':>4} {'DER':>6} {'SDR dual':>9} {'SDR hpss':>9} {'SDR mix':>8} {'sync':>6} {'sep':>6} "
          f"{'diar':>6} {'mix':>6} {'x real time':>11} {'x (CPU)':>8}")
    for r in rows:
        print(f"{r['seed']:>4} {100 * r['der']:5.1f}% {r['sdr_dualtrack']:8.1f}  {r['sdr_hpss']:8.1f}  "
              f"{r['sdr_mix']:7.1f} {r['sync_s']:6.2f} {r['separate_s']:6.2f} {r['diarize_s']:6.2f} "
              f"{r['mixing_s']:6.2f} {r['rtf']:10.1f}x {r['rtf_cpu']:7.1f}x")
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "seed"}
    print(f"mean: DER {100 * mean['der']:.1f} % (goal <= 20 %); dual-track SDR {mean['sdr_dualtrack']:.1f} dB = "
          f"{mean['sdr_dualtrack'] - mean['sdr_hpss']:+.1f} dB vs HPSS fallback, "
          f"{mean['sdr_dualtrack'] - mean['sdr_mix']:+.1f} dB vs the mix (goal +6 dB each); "
          f"stage set {mean['rtf']:.1f}x real time wall, {mean['rtf_cpu']:.1f}x per CPU second (goal >= 5x)")


if __name__ == "__main__":
    main()
