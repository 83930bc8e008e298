"""Benchmark: real-time factor (processing seconds / audio seconds) of the ASR backends on this CPU.

Input: ~60 s of English espeak-ng speech (sentences separated by 0.4-1.2 s pauses), 16 kHz.
Backends: ``vad`` (silero-vad), ``pocketsphinx`` (bundled en-us model, per VAD region: the
baseline), ``whisper-tiny-en`` (the embedded English default: shipped Whisper tiny.en, int8)
batched (``BatchedInferencePipeline`` over the VAD regions) and one region at a time, each
with its WER against the spoken text (normalised, :mod:`anim400k.textnorm`) and its RTF as a
ratio of pocketsphinx's, and ``faster-whisper`` with a tiny *random* Whisper built offline (d_model 64, 2 layers; its
text is garbage and decoding is capped at ``max_new_tokens`` per window, so its RTF only
reflects the pipeline's overhead, not a real model's cost). RTF < 1 is faster than real time.

    python benchmarks/bench_asr.py [--seconds 60] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
SENTENCES = [
    "The ship left the harbour before dawn.", "Nobody on board knew where it was going.",
    "I told you not to open that door.", "We have less than a minute before they find us.",
    "Listen carefully, because I will only say this once.", "The village was quiet after the storm.",
    "Do you really think we can win this fight?", "My brother used to say that courage is a habit.",
    "Take the left path and do not look back.", "The festival starts tomorrow evening.",
]


def speech(seconds: float, seed: int = 0) -> tuple[np.ndarray, str]:
    """English espeak-ng sentences with random pauses until ``seconds`` of audio, and their text."""
    from anim400k.asr.base import prepare_audio

    rng = np.random.default_rng(seed)
    parts, total, k, said = [], 0, 0, []
    with tempfile.TemporaryDirectory() as tmp:
        while total < seconds * SR:
            wav = Path(tmp) / f"{k}.wav"
            text = SENTENCES[k % len(SENTENCES)]
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(wav), text],
                           check=True, capture_output=True)
            x, sr = sf.read(wav, dtype="float32")
            x = prepare_audio(x, sr, SR)
            parts += [x, np.zeros(int(rng.uniform(0.4, 1.2) * SR), np.float32)]
            total += x.size + parts[-1].size
            said.append(text)
            k += 1
    return np.concatenate(parts), " ".join(said)


def rtf(transcriber, audio: np.ndarray, language: str, said: str = "") -> tuple[float, int, float]:
    from anim400k.textnorm import wer

    t0 = time.perf_counter()
    t = transcriber.transcribe(audio, SR, language)
    seconds = time.perf_counter() - t0
    heard = " ".join(s.text for s in t.segments if s.text)
    return seconds / (audio.size / SR), len(t.segments), wer(said, heard) if said else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from anim400k.asr import get_transcriber

    audio, said = speech(args.seconds)
    print(f"audio: {audio.size / SR:.1f} s of espeak-ng English, {args.threads} thread(s)")
    vad = get_transcriber("vad")
    vad.transcribe(audio[:SR], SR, "en")  # load the model outside the timing
    r, n, _ = rtf(vad, audio, "en")
    print(f"vad (silero-vad):          RTF {r:.4f}  ({n} segments)")
    ps = get_transcriber("pocketsphinx")
    ps._get_decoder()
    base, n, w = rtf(ps, audio, "en", said)
    print(f"pocketsphinx (en-us):      RTF {base:.4f}  ({n} segments)  WER {w:.3f}  [baseline]")
    for batch in (8, 1):
        tiny = get_transcriber("whisper-tiny-en", batch_size=batch, cpu_threads=args.threads)
        tiny.load()
        r, n, w = rtf(tiny, audio, "en", said)
        print(f"whisper-tiny-en batch {batch}:   RTF {r:.4f}  ({n} segments)  WER {w:.3f}  "
              f"time x{r / base:.2f} of pocketsphinx")
    try:
        from anim400k.testing.random_whisper import build_random_whisper
    except ImportError as exc:  # pragma: no cover
        print(f"faster-whisper: skipped ({exc})")
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = build_random_whisper(Path(tmp) / "random-tiny")
        fw = get_transcriber("faster-whisper", model=str(model), device="cpu", cpu_threads=args.threads,
                             beam_size=1, temperature=0.0, max_new_tokens=24, batch_size=8)
        fw.load()
        r, n, _ = rtf(fw, audio, "en")
        print(f"faster-whisper (RANDOM tiny model, batched 8, int8, max_new_tokens 24): "
              f"RTF {r:.4f}  ({n} segments)")


if __name__ == "__main__":
    main()
