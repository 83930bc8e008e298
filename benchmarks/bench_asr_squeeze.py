"""Benchmark: Whisper windows with the pauses between speech regions squeezed (fewer encoder passes).

    python benchmarks/bench_asr_squeeze.py EPISODE_DIR [EPISODE_DIR ...] [--gaps 1.0 0.6] [--language ja] [--seconds N]

``--language en`` (default): the English track with Whisper tiny.en at beam 5, English WER;
``--language ja``: the Japanese track with the shipped Whisper base at beam 1 (the ``--asr-ja auto``
default), reading CER (``textnorm.cer(reading=True)``, the score stage's measure). ``--seconds N``: the
first N seconds of each track only (lines of the truth that start in them).

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


def transcribe(x: np.ndarray, gap: float | None, model: Any, regions: list[tuple[float, float]],
               language: str = "en", beam_size: int = 5) -> tuple[Any, int]:
    """(decoded segments with track times, windows) for one setting (``gap`` None: today's windows)."""
    from anim400k.asr.faster_whisper_backend import (
        decode_kept_spans,
        kept_spans,
        pack_regions,
        squeeze_groups,
        with_context,
    )

    kwargs = {"language": language, "task": "transcribe", "beam_size": beam_size, "word_timestamps": True,
              "without_timestamps": False, "vad_filter": False, "condition_on_previous_text": False}
    dur = x.size / SR
    decoded: list[tuple[Any, float]] = []
    if gap is None:
        windows = with_context(pack_regions(regions, WINDOW_S), 0.3, dur)
        for w0, w1 in windows:
            segs, _ = model.transcribe(x[int(w0 * SR): int(w1 * SR)], **kwargs)
            decoded += [(s, float(w0)) for s in segs]
        return decoded, len(windows)
    groups = squeeze_groups(regions, WINDOW_S - 0.6, gap)
    bounds = with_context([(g[0][0], g[-1][1]) for g in groups], 0.3, dur)
    for group, (lo, hi) in zip(groups, bounds, strict=True):  # the build's own path (RegionWhisperTranscriber)
        decoded += [(seg, 0.0) for seg in decode_kept_spans(model, x, kept_spans(group, lo, hi, gap), **kwargs)]
    return decoded, len(groups)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episodes", nargs="+", type=Path)
    ap.add_argument("--gaps", type=float, nargs="+", default=[1.0, 0.6], help="pause lengths kept (s)")
    ap.add_argument("--language", choices=["en", "ja"], default="en", help="the track and its default model")
    ap.add_argument("--seconds", type=float, default=None, help="only the first N seconds of each track")
    args = ap.parse_args()
    from anim400k import media
    from anim400k.asr import get_transcriber
    from anim400k.asr.faster_whisper_backend import _by_region
    from anim400k.asr.vad import VadOptions, speech_regions
    from anim400k.synth import load_truth
    from anim400k.textnorm import cer, wer

    ja = args.language == "ja"
    asr = get_transcriber("whisper-base" if ja else "whisper-tiny-en", num_workers=1, cpu_threads=1)
    beam = asr.beam_size
    model = asr.load()
    opts = VadOptions(threshold=asr.vad_threshold, min_silence_ms=asr.min_silence_ms, max_speech_s=asr.max_region_s)
    for ep in args.episodes:
        x = media.decode_audio(ep / "episode.mkv", stream="jpn" if ja else "eng", sr=SR)
        end = args.seconds or x.size / SR
        x = x[: int(end * SR)]
        lines = load_truth(ep / "truth.json").lines
        if ja:
            ref = "".join(ln.jp_text for ln in sorted(lines, key=lambda ln: ln.jp_start) if ln.jp_start < end)
        else:
            ref = " ".join(ln.en_text for ln in sorted(lines, key=lambda ln: ln.en_start) if ln.en_start < end)
        regions = speech_regions(x, SR, opts)
        list(model.transcribe(x[: 20 * SR], language=args.language, beam_size=beam, vad_filter=False)[0])  # warm-up
        print(f"{ep}: {x.size / SR:.0f} s, {len(regions)} speech regions; load {os.getloadavg()[0]:.1f}")
        base = 0.0
        for gap in [None, *args.gaps]:
            c0 = time.process_time()
            decoded, n = transcribe(x, gap, model, regions, args.language, beam)
            cpu = time.process_time() - c0
            base = base or cpu
            hyp = ("" if ja else " ").join(s.text for s in _by_region(decoded, regions))
            error = f"reading CER {cer(ref, hyp, reading=True):.4f}" if ja else f"WER {wer(ref, hyp):.4f}"
            label = "pauses kept (baseline)" if gap is None else f"pauses cut to {gap:g} s"
            print(f"  {label:<28} {n:4d} windows  {cpu:7.1f} CPU-s x{cpu / base:.2f}  {error}", flush=True)


if __name__ == "__main__":
    main()
