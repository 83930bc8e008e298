"""Benchmark: CPU cost of the English ASR (``whisper-tiny-en``, the ``asr_en`` stage) against its WER.

    python benchmarks/bench_asr_en_cost.py EPISODE_DIR [EPISODE_DIR ...] [--candidates NAME ...] [--rounds R]
        [--seconds N]

The named ``baseline`` is the default (Whisper tiny.en, int8, beam 5, windows of ~28 s with their pauses and
0.3 s of context, word timestamps, first passes of up to 8 windows batched, a window's tail decoded again only with
0.2 s of speech in it) with one CTranslate2 worker on one thread; each candidate changes one or
two things of it and transcribes the English track of every episode (``episode.mkv`` + ``truth.json``: a
synthetic episode, e.g. the demo's ``inputs/ep01``) through the build's own path
(:meth:`RegionWhisperTranscriber._decode_windows`, silero-vad regions computed once per episode with the
transcriber's options). Every candidate runs in a process of its own (CTranslate2 reads its environment once
per process), the model loaded and warmed up first; with ``--rounds R`` the list runs R times in turn, so that
the machine's load falls on all alike. Printed per candidate and episode: CPU seconds of the transcription
alone (process time, all threads), its ratio to the baseline's of the same round, wall seconds, windows, and
the WER (``textnorm.wer``, the score stage's measure) of the whole track against the truth's English lines in
time order; ``*`` marks a text that differs from the baseline's.

Candidates (``--candidates``; default: all):

* ``batch-1``, ``batch-2``, ``batch-4``, ``batch-8``: the first decoding pass (beam search) of up to 1 (each
  window alone), 2, 4 or 8 windows decoded as one batch (``decode_batch``, :mod:`anim400k.asr.batched_decoding`);
* ``workers2-batch-1``, ``-2``, ``-4``, ``-8``: the same on 2 CTranslate2 workers of one
  thread each (what a build on 2 cores runs), batches no larger than needed to give each worker one;
* ``batch-16``: up to 16 windows in a batch;
* ``pause-0.4``, ``pause-0.6``, ``pause-0.8``, ``pause-1.0``, ``pause-1.5``, ``pause-2.0``: squeezed windows as
  ``whisper-base`` has them (every pause between a window's regions longer than that cut down to it, the words'
  times mapped back: :meth:`RegionWhisperTranscriber._decode_squeezed`), so fewer windows and encoder passes;
* ``no-timestamps``: ``without_timestamps=True`` (no timestamp tokens decoded; one segment per window, its words
  timed by the alignment pass);
* ``tails-0.2``, ``tails-0.5``: a window's tail (decoded again by faster-whisper after the first pass, from the
  last word heard) decoded only when at least 0.2 or 0.5 s of the window's speech regions lie in it
  (``tail_min_speech_s``, 0.2 the default); ``tails-all``: every tail decoded (``tail_min_speech_s=0``, as
  before the default).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from _candidate_rounds import compare, parse_args

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before NumPy: one BLAS thread, as in a build's stages

SR = 16000

#: a candidate's key for options of faster-whisper's ``transcribe`` (not the transcriber's)
KWARGS = "transcribe_kwargs"

#: name -> transcriber options (over ``num_workers=1, cpu_threads=1``)
CANDIDATES: dict[str, dict[str, Any]] = {
    "baseline": {},
    **{f"batch-{n}": {"decode_batch": n} for n in (1, 2, 4, 8)},
    **{f"workers2-batch-{n}": {"num_workers": 2, "decode_batch": n} for n in (1, 2, 4, 8)},
    "batch-16": {"decode_batch": 16},
    **{f"pause-{p}": {"pause_s": p} for p in (0.4, 0.6, 0.8, 1.0, 1.5, 2.0)},
    "no-timestamps": {KWARGS: {"without_timestamps": True}},
    **{f"tails-{t}": {"tail_min_speech_s": t} for t in (0.2, 0.5)},
    "tails-all": {"tail_min_speech_s": 0.0},
}


def reference(episode: Path, end: float) -> str:
    """The truth's English lines that end in the first ``end`` seconds, in time order."""
    from anim400k.synth import load_truth

    lines = sorted(load_truth(episode / "truth.json").lines, key=lambda ln: ln.en_start)
    return " ".join(ln.en_text for ln in lines if ln.en_end <= end)


def run_candidate(name: str, episodes: list[Path], seconds: float | None) -> list[dict[str, Any]]:
    """Transcribe each episode's English track with candidate ``name`` (in this process): a result per episode."""
    from anim400k import media
    from anim400k.asr import get_transcriber
    from anim400k.asr.faster_whisper_backend import _by_region, pack_regions, squeeze_groups, with_context
    from anim400k.asr.vad import VadOptions, speech_regions
    from anim400k.progress import no_report
    from anim400k.textnorm import wer

    options = dict(CANDIDATES[name])
    extra = options.pop(KWARGS, {})
    asr = get_transcriber("whisper-tiny-en", **{"num_workers": 1, "cpu_threads": 1, **options})
    model = asr.load()
    opts = VadOptions(threshold=asr.vad_threshold, min_silence_ms=asr.min_silence_ms, max_speech_s=asr.max_region_s)
    kwargs: dict[str, Any] = {"language": "en", "task": "transcribe", "beam_size": asr.beam_size,
                              "word_timestamps": True, "without_timestamps": False, **extra}
    out = []
    for k, ep in enumerate(episodes):
        x = media.decode_audio(ep / "episode.mkv", stream="eng", sr=SR)
        x = x[: int((seconds or x.size / SR) * SR)]
        duration = x.size / SR
        regions = speech_regions(x, SR, opts)
        windows = with_context(pack_regions(regions, asr.window_s), asr.context_s, duration)
        if k == 0:  # warm-up: the first decode pays one-off set-up
            asr._decode_windows(model, x, [w for w in windows if w[1] < 30][:2] or windows[:1], kwargs, no_report)
        c0, w0 = time.process_time(), time.perf_counter()
        if asr.pause_s is None:
            decoded = asr._decode_windows(model, x, windows, kwargs, no_report, regions)
        else:
            decoded = asr._decode_squeezed(model, x, regions, kwargs, no_report)
            windows = squeeze_groups(regions, asr.window_s - 2 * asr.context_s, asr.pause_s)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        hyp = " ".join(s.text.strip() for s in _by_region(decoded, regions) if s.text.strip())
        out.append({"episode": str(ep), "seconds": duration, "cpu": cpu, "wall": wall, "windows": len(windows),
                    "wer": wer(reference(ep, duration), hyp), "hyp": hyp})
    return out


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], [c for c in CANDIDATES if c != "baseline"])
    if args.child:
        print(json.dumps({"results": run_candidate(args.child, args.episodes, args.seconds)}))
        return
    import ctranslate2

    from anim400k.asr.faster_whisper_backend import tiny_en_transcriber

    print(f"ctranslate2 {ctranslate2.__version__}; {os.cpu_count()} CPUs; baseline decode_batch "
          f"{tiny_en_transcriber(num_workers=1).decode_batch}; load {os.getloadavg()[0]:.1f}", flush=True)
    compare(__file__, args.candidates, args.episodes, args.seconds, args.rounds, "wer")


if __name__ == "__main__":
    main()
