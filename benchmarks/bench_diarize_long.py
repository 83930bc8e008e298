"""Benchmark: the embedded diarizer on long inputs (movies), against its old whole-episode path.

A synthetic espeak episode (``--base`` seconds, JP and EN speech stems at 16 kHz) is tiled
sample-exactly to each ``--minutes`` length (its truth tiled with it) and diarized with the EN view
(``diarize(jp, 16000, other=en)``), each run in its own process: CPU seconds, peak RSS (``ru_maxrss``,
models and the input arrays included; ``base`` = RSS after the models load), windows ``n`` and DER
(collar 0.25 s, overlaps scored). ``new`` is the default diarizer (an even stride of
``cluster_subset`` windows clustered above ``cluster_cap`` windows, long tracks' mel frames and VAD
cell in blocks); ``old`` is the path before (``cluster_cap=None``, mel frames and the VAD's
recurrent cell in one piece), run only up to ``--old-max`` minutes (its clustering is cubic: ~45
CPU-minutes at two hours). Ratios new / old are printed where both ran.

    python benchmarks/bench_diarize_long.py [--minutes 5 30 120] [--old-max 30] [--base 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SR = 16000


def _child(stems: str, minutes: float, mode: str) -> None:
    """Diarize the tiled episode in this process; print one JSON line."""
    import resource
    import time

    import torch

    torch.set_num_threads(1)
    from anim400k import silero_sequence
    from anim400k.diarize import embedded, embedding, get_diarizer
    from anim400k.diarize.base import Turn
    from anim400k.diarize.metrics import der
    from anim400k.diarize.run import load_reference

    data = np.load(Path(stems) / "stems.npz")
    period = len(data["jp"]) / SR
    reps = max(1, int(round(minutes * 60 / period)))
    jp, en = np.tile(data["jp"], reps), np.tile(data["en"], reps)
    one = load_reference(Path(stems) / "truth.json")
    ref = [Turn(t.start + r * period, t.end + r * period, t.speaker) for r in range(reps) for t in one]
    options: dict[str, object] = {}
    if mode == "old":
        options["cluster_cap"] = None
        embedding.MEL_WHOLE_MAX = 1 << 62
        silero_sequence.LSTM_CHUNK = 1 << 62
    dia = get_diarizer("embedded", **options)
    dia.diarize(np.zeros(SR, np.float32), SR)  # models loaded
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    seen: list[int] = []
    real = embedded.EmbeddedDiarizer._cluster

    def spy(self, emb, *args, **kwargs):  # noqa: ANN001, ANN202
        seen.append(len(emb))
        return real(self, emb, *args, **kwargs)

    embedded.EmbeddedDiarizer._cluster = spy  # type: ignore[method-assign]
    c0 = time.process_time()
    hyp = dia.diarize(jp, SR, other=en)
    cpu = time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps({"minutes": reps * period / 60, "mode": mode, "n": seen[0] if seen else 0, "cpu": cpu,
                      "peak_gb": peak, "base_gb": base, "der": der(ref, hyp),
                      "speakers": len({t.speaker for t in hyp})}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, nargs="+", default=[5.0, 30.0, 120.0])
    ap.add_argument("--old-max", type=float, default=30.0, help="run the old path up to this many minutes")
    ap.add_argument("--base", type=float, default=300.0, help="seconds of the synthetic episode that is tiled")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", nargs=3, metavar=("STEMS", "MINUTES", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], float(args.child[1]), args.child[2])
        return

    import shutil

    import soundfile as sf

    from anim400k.signal import prepare_audio
    from anim400k.synth import make_episode

    with tempfile.TemporaryDirectory() as tmp:
        ep = make_episode(Path(tmp) / "ep", duration=args.base, seed=args.seed, video=False, voices="espeak",
                          embed_subtitles=False)
        jp, sr = sf.read(ep.out_dir / "jp_speech.wav", dtype="float32")
        en, _ = sf.read(ep.out_dir / "en_speech.wav", dtype="float32")
        np.savez(Path(tmp) / "stems.npz", jp=prepare_audio(jp, sr, SR), en=prepare_audio(en, sr, SR))
        shutil.copy(ep.truth, Path(tmp) / "truth.json")
        rows: dict[tuple[float, str], dict] = {}
        for minutes in args.minutes:
            for mode in ("new", "old") if minutes <= args.old_max else ("new",):
                out = subprocess.run([sys.executable, __file__, "--child", tmp, str(minutes), mode],
                                     capture_output=True, text=True, check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                rows[(minutes, mode)] = r
                print(f"{r['minutes']:6.1f} min {mode}: n {r['n']:6d}  CPU {r['cpu']:7.1f} s  "
                      f"peak {r['peak_gb']:5.2f} GB (after load {r['base_gb']:4.2f})  DER {100 * r['der']:5.2f} %  "
                      f"{r['speakers']} speakers", flush=True)
        for minutes in args.minutes:
            new, old = rows.get((minutes, "new")), rows.get((minutes, "old"))
            if new and old:
                print(f"{minutes:6.1f} min new/old: CPU x{new['cpu'] / max(old['cpu'], 1e-9):.2f}  "
                      f"peak x{new['peak_gb'] / max(old['peak_gb'], 1e-9):.2f}  "
                      f"DER {100 * old['der']:.2f} -> {100 * new['der']:.2f} %")


if __name__ == "__main__":
    main()
