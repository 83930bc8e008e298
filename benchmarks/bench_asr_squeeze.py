"""Benchmark: Whisper tiny.en windows with the pauses between speech regions squeezed (fewer encoder passes).

    python benchmarks/bench_asr_squeeze.py EPISODE_DIR [EPISODE_DIR ...] [--gaps 1.0 0.6]

A candidate for the embedded English ASR (issue 16), measured and not taken (docs/scaling.md).
Today (the named baseline) each window runs from its first speech region's start to its last
one's end (at most 28 s, pauses included, 0.3 s of context) and Whisper's encoder reads 30 s per
window. Here the regions are grouped so that their audio, with every pause longer than ``gap``
cut down to ``gap`` (half of it kept after the region before, half before the region after), lasts
at most 27.4 s; the cut audio is joined, decoded, and each word's times mapped back onto the
track. Same model, beam 5, word timestamps, one thread; the regions are the transcriber's (VAD
with its options). Prints windows (encoder passes), CPU seconds (ratio to the baseline) and the
English WER against the truth (the ``score`` stage's measure) per episode and setting.
``EPISODE_DIR``: a synthetic episode (``episode.mkv`` + ``truth.json``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy: one BLAS thread, as in a build's stages

import numpy as np  # noqa: E402

SR = 16000
WINDOW_S = 28.0


def groups_of(regions: list[tuple[float, float]], window_s: float, gap: float) -> list[list[tuple[float, float]]]:
    """Consecutive regions whose audio with pauses cut to ``gap`` lasts at most ``window_s``."""
    out: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    length = 0.0
    for a, b in regions:
        if cur:
            step = min(a - cur[-1][1], gap) + (b - a)
            if length + step <= window_s:
                cur.append((a, b))
                length += step
                continue
            out.append(cur)
        cur, length = [(a, b)], b - a
    if cur:
        out.append(cur)
    return out


def spans_of(group: list[tuple[float, float]], lo: float, hi: float, gap: float) -> list[list[float]]:
    """The track spans kept for one group (from ``lo`` to ``hi``, long pauses cut to ``gap``)."""
    spans: list[list[float]] = []
    for i, (a, b) in enumerate(group):
        if i == 0:
            spans.append([lo, b])
            continue
        prev_end = group[i - 1][1]
        if a - prev_end <= gap:
            spans[-1][1] = b
        else:
            spans[-1][1] = prev_end + gap / 2
            spans.append([a - gap / 2, b])
    spans[-1][1] = hi
    return spans


def transcribe(x: np.ndarray, gap: float | None, model: Any, regions: list[tuple[float, float]]) -> tuple[Any, int]:
    """(decoded segments with track times, windows) for one setting (``gap`` None: today's windows)."""
    from anim400k.asr.faster_whisper_backend import pack_regions, with_context

    kwargs = {"language": "en", "task": "transcribe", "beam_size": 5, "word_timestamps": True,
              "without_timestamps": False, "vad_filter": False, "condition_on_previous_text": False}
    dur = x.size / SR
    decoded: list[tuple[Any, float]] = []
    if gap is None:
        windows = with_context(pack_regions(regions, WINDOW_S), 0.3, dur)
        for w0, w1 in windows:
            segs, _ = model.transcribe(x[int(w0 * SR): int(w1 * SR)], **kwargs)
            decoded += [(s, float(w0)) for s in segs]
        return decoded, len(windows)
    groups = groups_of(regions, WINDOW_S - 0.6, gap)
    bounds = with_context([(g[0][0], g[-1][1]) for g in groups], 0.3, dur)
    for group, (lo, hi) in zip(groups, bounds, strict=True):
        spans = spans_of(group, lo, hi, gap)
        parts = [x[int(s * SR): int(e * SR)] for s, e in spans]
        starts = np.cumsum([0] + [p.size for p in parts]) / SR
        segs, _ = model.transcribe(np.concatenate(parts), **kwargs)
        for seg in segs:
            for w in seg.words or []:
                for attr in ("start", "end"):
                    t = float(getattr(w, attr))
                    k = max(0, min(len(spans) - 1, int(np.searchsorted(starts, t, side="right")) - 1))
                    setattr(w, attr, spans[k][0] + min(t - starts[k], spans[k][1] - spans[k][0]))
            decoded.append((seg, 0.0))
    return decoded, len(groups)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episodes", nargs="+", type=Path)
    ap.add_argument("--gaps", type=float, nargs="+", default=[1.0, 0.6], help="pause lengths kept (s)")
    args = ap.parse_args()
    from anim400k import media
    from anim400k.asr import get_transcriber
    from anim400k.asr.faster_whisper_backend import _by_region
    from anim400k.asr.vad import VadOptions, speech_regions
    from anim400k.synth import load_truth
    from anim400k.textnorm import wer

    asr = get_transcriber("whisper-tiny-en", num_workers=1, cpu_threads=1)
    model = asr.load()
    opts = VadOptions(threshold=asr.vad_threshold, min_silence_ms=asr.min_silence_ms, max_speech_s=asr.max_region_s)
    for ep in args.episodes:
        x = media.decode_audio(ep / "episode.mkv", stream="eng", sr=SR)
        ref = " ".join(ln.en_text for ln in sorted(load_truth(ep / "truth.json").lines, key=lambda ln: ln.en_start))
        regions = speech_regions(x, SR, opts)
        list(model.transcribe(x[: 20 * SR], beam_size=5, vad_filter=False)[0])  # warm-up
        print(f"{ep}: {x.size / SR:.0f} s, {len(regions)} speech regions; load {os.getloadavg()[0]:.1f}")
        base = 0.0
        for gap in [None, *args.gaps]:
            c0 = time.process_time()
            decoded, n = transcribe(x, gap, model, regions)
            cpu = time.process_time() - c0
            base = base or cpu
            hyp = " ".join(s.text for s in _by_region(decoded, regions))
            label = "today's windows (baseline)" if gap is None else f"pauses cut to {gap:g} s"
            print(f"  {label:<28} {n:4d} windows  {cpu:7.1f} CPU-s x{cpu / base:.2f}  WER {wer(ref, hyp):.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
