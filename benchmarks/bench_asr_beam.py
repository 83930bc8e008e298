"""Benchmark: the embedded English ASR's settings (Whisper tiny.en): beam size and word timestamps.

    python benchmarks/bench_asr_beam.py EPISODE_DIR [EPISODE_DIR ...] [--beams 5 3 2 1] [--seconds S]

Each ``EPISODE_DIR`` is a synthetic episode (``anim400k.synth.make_episode``: ``episode.mkv`` and
``truth.json``; e.g. the demo's ``inputs/ep01`` or ``bench_workers.py --episodes-dir``'s ``ep1``).
The English track is decoded as the build decodes it (16 kHz mono from the container) and
transcribed by ``whisper-tiny-en`` (after a warm-up decode) with one CTranslate2 worker on one thread, so CPU seconds
(``time.process_time``: the VAD, the encoder passes and the decoding) are comparable between
settings on a shared machine. For each beam size (the first, the default 5, is the named
baseline) and for the baseline without word timestamps (the build needs them: each word goes to
the VAD region that holds it, so without them no segment gets text; shown for its cost) it
prints CPU seconds, the ratio to the
baseline, the English WER against the truth (the ``score`` stage's measure: the episode's true
lines in time order, normalised) and the words that differ from the baseline's transcript.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def english(episode: Path, seconds: float | None) -> tuple[object, str, float]:
    """(16 kHz English audio, its true text in time order, seconds) of a synthetic episode."""
    from anim400k import media
    from anim400k.synth import load_truth

    audio = media.decode_audio(episode / "episode.mkv", stream="eng", sr=16000)
    truth = load_truth(episode / "truth.json")
    lines = sorted(truth.lines, key=lambda ln: ln.en_start)
    if seconds:
        audio = audio[: int(seconds * 16000)]
        lines = [ln for ln in lines if ln.en_end <= seconds]
    return audio, " ".join(ln.en_text for ln in lines), audio.size / 16000


def run(audio: object, beam: int, words: bool) -> tuple[float, str]:
    """CPU seconds and the transcript's text for one setting (one worker, one thread)."""
    from anim400k.asr import get_transcriber

    asr = get_transcriber("whisper-tiny-en", beam_size=beam, word_timestamps=words, num_workers=1, cpu_threads=1)
    asr.load()
    asr.transcribe(audio[: 20 * 16000], 16000, "en")  # warm-up: the first decode pays one-off set-up
    c0 = time.process_time()
    t = asr.transcribe(audio, 16000, "en")
    return time.process_time() - c0, " ".join(s.text.strip() for s in t.segments if s.text.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("episodes", nargs="+", type=Path)
    ap.add_argument("--beams", type=int, nargs="+", default=[5, 3, 2, 1], help="the first is the baseline")
    ap.add_argument("--seconds", type=float, help="only the first S seconds of each episode")
    ap.add_argument("--no-words", action="store_true", help="also the baseline beam without word timestamps")
    args = ap.parse_args()
    from anim400k.textnorm import wer

    settings = [(b, True) for b in args.beams] + ([(args.beams[0], False)] if args.no_words else [])
    for ep in args.episodes:
        audio, ref, dur = english(ep, args.seconds)
        print(f"{ep}: {dur:.0f} s of English, {len(ref.split())} true words; load {os.getloadavg()[0]:.1f}")
        base_cpu, base_text = 0.0, ""
        for beam, words in settings:
            cpu, text = run(audio, beam, words)
            if not base_cpu:
                base_cpu, base_text = cpu, text
            moved = wer(base_text, text) if base_text else 0.0
            label = f"beam {beam}" + ("" if words else ", no word timestamps")
            print(f"  {label:<30} {cpu:7.1f} CPU-s  x{cpu / base_cpu:.2f} of beam {args.beams[0]}  "
                  f"CPU RTF {cpu / dur:.4f}  WER {wer(ref, text):.3f}  (vs baseline text: {moved:.3f})", flush=True)


if __name__ == "__main__":
    main()
