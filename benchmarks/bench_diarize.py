"""Benchmark: the embedded diarizer's DER and speed on synthetic episodes (known speakers).

For each seed a synthetic episode (``anim400k.synth``, JP track = espeak-ng voices over the
music-and-effects stem, overlapping lines included) is diarized from its 48 kHz JP mix; the
script prints DER (collar 0.25 s, overlaps scored) and the real-time factor (audio seconds per
processing second, after the models are loaded), then two named baselines:

- accuracy baseline "d-vector only": the same pipeline with ``pitch_weight=0`` (no pitch cue);
- speed baseline "per-window embed_utterance": Resemblyzer's own API called once per window
  (versus our batched, packed LSTM passes) on the first episode's windows.

    python benchmarks/bench_diarize.py [--seeds 0 1 2 3] [--duration 120] [--speakers 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--speakers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-baselines", action="store_true")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from anim400k.diarize import get_diarizer
    from anim400k.diarize.metrics import der
    from anim400k.diarize.run import load_reference
    from anim400k.synth import make_episode

    diarizer = get_diarizer("embedded")
    ablation = get_diarizer("embedded", pitch_weight=0.0)
    diarizer.diarize(np.zeros(16000, np.float32), 16000)  # load the models once
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            ep = make_episode(Path(tmp) / f"ep{seed}", duration=args.duration, seed=seed,
                              n_speakers=args.speakers, video=False)
            audio, sr = sf.read(ep.out_dir / "jp_mix.wav", dtype="float32")
            ref = load_reference(ep.truth)
            t0 = time.perf_counter()
            hyp = diarizer.diarize(audio, sr)
            elapsed = time.perf_counter() - t0
            d = der(ref, hyp, detailed=True)
            base = der(ref, ablation.diarize(audio, sr)) if not args.no_baselines else float("nan")
            rtf = len(audio) / sr / elapsed
            rows.append((d["diarization error rate"], rtf, base))
            print(f"seed {seed}: {len({t.speaker for t in hyp})}/{args.speakers} speakers  "
                  f"DER {100 * d['diarization error rate']:5.1f} %  (missed {d['missed detection']:.1f} s, "
                  f"false alarm {d['false alarm']:.1f} s, confusion {d['confusion']:.1f} s of {d['total']:.1f} s)  "
                  f"{rtf:5.1f}x real time   | d-vector only DER {100 * base:5.1f} %")
            if seed == args.seeds[0] and not args.no_baselines:
                first = audio, sr
    ders, rtfs, bases = (np.array(c) for c in zip(*rows, strict=True))
    print(f"\nembedded: mean DER {100 * ders.mean():.1f} % (max {100 * ders.max():.1f} %), "
          f"target <= 20 %; speed {rtfs.mean():.1f}x real time (min {rtfs.min():.1f}x), target >= 15x "
          f"[{args.threads} torch thread(s)]")
    if not args.no_baselines:
        print(f"baseline 'd-vector only' (pitch_weight=0): mean DER {100 * bases.mean():.1f} %  "
              f"-> pitch fusion removes {100 * (1 - ders.mean() / max(bases.mean(), 1e-9)):.0f} % of the error")
        _embedding_speed(*first)


def _embedding_speed(audio: np.ndarray, sr: int) -> None:
    """Batched packed embedding vs Resemblyzer's ``embed_utterance`` once per window."""
    from anim400k.diarize import embedding, vad
    from anim400k.diarize.audio import to_16k

    x = to_16k(audio, sr)
    regions = vad.speech_regions(x)
    windows = embedding.sliding_windows(regions, 1.5, 0.5)
    enc = embedding.load_encoder()
    t0 = time.perf_counter()
    ours = embedding.embed_windows(embedding.mel_frames(embedding.normalize_regions(x, regions)), windows, enc)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = [enc.embed_utterance(x[int(a * 16000) : int(b * 16000)]) for a, b in windows]
    t_base = time.perf_counter() - t0
    agree = float(np.mean(np.sum(ours * np.array(base), axis=1)))
    print(f"embedding {len(windows)} windows: batched {t_ours:.2f} s vs per-window embed_utterance {t_base:.2f} s "
          f"-> {t_base / t_ours:.1f}x faster (mean cosine between the two {agree:.3f})")


if __name__ == "__main__":
    main()
