"""Benchmark: CPU cost of the Japanese ASR (``whisper-base``, the ``asr_ja`` stage) against its reading CER.

    python benchmarks/bench_asr_ja_cost.py EPISODE_DIR [EPISODE_DIR ...] [--candidates NAME ...] [--rounds R]
        [--seconds N]

Each candidate changes one thing of the default (named ``baseline``: int8, beam 1, one thread, pauses longer
than 0.6 s cut out of the ~28 s windows, the first greedy pass of up to 4 windows decoded as one batch, word
timestamps, Whisper's timestamp tokens decoded) and transcribes
the JP track of every episode (``episode.mkv`` + ``truth.json``: a synthetic episode, e.g. the demo's
``inputs/ep01``) through the build's own path (:meth:`RegionWhisperTranscriber._decode_squeezed`, silero-vad
regions computed once per episode with the transcriber's options). Every candidate runs in a process of its
own (CTranslate2 reads its environment variables once per process), the model loaded and warmed up first;
with ``--rounds R`` the list runs R times in turn, so that the machine's load falls on all alike. Printed per
candidate and episode: CPU seconds of the transcription alone (process time, all threads), its ratio to the
baseline's of the same round, wall seconds, windows, and the reading CER (``textnorm.cer(reading=True)``,
the score stage's measure) of the whole track against the truth's JP lines.

Candidates (``--candidates``; default: all):

* ``int8_float32``, ``float32``: other CTranslate2 compute types this CPU supports (``int8_float16`` needs
  AVX-512 FP16 or a GPU; ``ctranslate2.get_supported_compute_types('cpu')`` lists them);
* ``mkl``: ``CT2_USE_MKL=1`` (CTranslate2 uses Intel MKL only on Intel CPUs unless told; oneDNN elsewhere);
  ``mkl-packed``: plus ``CT2_USE_EXPERIMENTAL_PACKED_GEMM=1``; ``isa-avx2``: ``CT2_FORCE_CPU_ISA=AVX2``;
* ``threads2``: one worker on 2 intra-op threads; ``workers2``: 2 workers (windows side by side) of 1 thread;
* ``no-timestamps``: ``without_timestamps=True`` (no timestamp tokens; words still timed by alignment);
* ``max-tokens-200``: ``max_new_tokens=200`` per window (a guard against runaway decoding);
* ``pause-0.4``, ``pause-0.3``: pauses cut to 0.4 / 0.3 s (fewer windows);
* ``window-29.5``: windows of up to 29.5 s with their context, not 28 (Whisper reads 30 s);
* ``batch-1``: every window decoded alone (the default before :mod:`anim400k.asr.batched_decoding`; measured
  with the candidates above as the baseline, docs/asr.md);
* ``tails-0.2``: a window's tail (decoded again by faster-whisper after the first pass, from the last word
  heard) decoded only when at least 0.2 s of the window's speech lies in it (the default since this candidate);
  ``tails-all``: every tail decoded (``tail_min_speech_s=0``, as before).
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

#: name -> (environment, transcriber options, extra decoding options)
CANDIDATES: dict[str, tuple[dict[str, str], dict[str, Any], dict[str, Any]]] = {
    "baseline": ({}, {}, {}),
    "int8_float32": ({}, {"compute_type": "int8_float32"}, {}),
    "float32": ({}, {"compute_type": "float32"}, {}),
    "mkl": ({"CT2_USE_MKL": "1"}, {}, {}),
    "mkl-packed": ({"CT2_USE_MKL": "1", "CT2_USE_EXPERIMENTAL_PACKED_GEMM": "1"}, {}, {}),
    "isa-avx2": ({"CT2_FORCE_CPU_ISA": "AVX2"}, {}, {}),
    "threads2": ({}, {"cpu_threads": 2, "num_workers": 1}, {}),
    "workers2": ({}, {"cpu_threads": 1, "num_workers": 2}, {}),
    "no-timestamps": ({}, {}, {"without_timestamps": True}),
    "max-tokens-200": ({}, {}, {"max_new_tokens": 200}),
    "pause-0.4": ({}, {"pause_s": 0.4}, {}),
    "pause-0.3": ({}, {"pause_s": 0.3}, {}),
    "window-29.5": ({}, {"window_s": 29.5}, {}),
    "batch-1": ({}, {"decode_batch": 1}, {}),
    "tails-0.2": ({}, {"tail_min_speech_s": 0.2}, {}),
    "tails-all": ({}, {"tail_min_speech_s": 0.0}, {}),
}


def reference(episode: Path, end: float) -> str:
    """The truth's JP lines that start in the first ``end`` seconds, joined in order."""
    from anim400k.synth import load_truth

    lines = sorted(load_truth(episode / "truth.json").lines, key=lambda ln: ln.jp_start)
    return "".join(ln.jp_text for ln in lines if ln.jp_start < end)


def run_candidate(name: str, episodes: list[Path], seconds: float | None) -> list[dict[str, Any]]:
    """Transcribe each episode's JP track with candidate ``name`` (in this process): a result per episode."""
    from anim400k import media
    from anim400k.asr import get_transcriber
    from anim400k.asr.faster_whisper_backend import _by_region, squeeze_groups
    from anim400k.asr.vad import VadOptions, speech_regions
    from anim400k.progress import no_report
    from anim400k.textnorm import cer

    _, options, extra = CANDIDATES[name]
    asr = get_transcriber("whisper-base", **{"num_workers": 1, "cpu_threads": 1, **options})
    model = asr.load()
    opts = VadOptions(threshold=asr.vad_threshold, min_silence_ms=asr.min_silence_ms, max_speech_s=asr.max_region_s)
    kwargs: dict[str, Any] = {"language": "ja", "task": "transcribe", "beam_size": asr.beam_size,
                              "word_timestamps": True, "without_timestamps": False, **extra}
    out = []
    for k, ep in enumerate(episodes):
        x = media.decode_audio(ep / "episode.mkv", stream="jpn", sr=SR)
        x = x[: int((seconds or x.size / SR) * SR)]
        regions = speech_regions(x, SR, opts)
        if k == 0:  # warm-up
            asr._decode_squeezed(model, x[: 20 * SR], [r for r in regions if r[1] < 20] or regions[:1], kwargs,
                                 no_report)
        c0, w0 = time.process_time(), time.perf_counter()
        decoded = asr._decode_squeezed(model, x, regions, kwargs, no_report)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        hyp = "".join(s.text for s in _by_region(decoded, regions))
        assert asr.pause_s is not None
        windows = len(squeeze_groups(regions, asr.window_s - 2 * asr.context_s, asr.pause_s))
        out.append({"episode": str(ep), "seconds": x.size / SR, "cpu": cpu, "wall": wall, "windows": windows,
                    "cer": cer(reference(ep, x.size / SR), hyp, reading=True), "hyp": hyp})
    return out


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], [c for c in CANDIDATES if c != "baseline"])
    if args.child:
        print(json.dumps({"results": run_candidate(args.child, args.episodes, args.seconds)}))
        return
    import ctranslate2

    types = sorted(ctranslate2.get_supported_compute_types("cpu"))
    print(f"ctranslate2 {ctranslate2.__version__}, compute types {types}; {os.cpu_count()} CPUs; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    compare(__file__, args.candidates, args.episodes, args.seconds, args.rounds, "cer",
            envs={n: CANDIDATES[n][0] for n in CANDIDATES})


if __name__ == "__main__":
    main()
