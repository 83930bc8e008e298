"""Are the dub's voices one per speaker and distinct? Resemblyzer similarity of the dubbed lines.

    OMP_NUM_THREADS=2 python benchmarks/bench_dub_voices.py [--duration 60] [--speakers 4] [--seed 0]
        [--tts neural] [--baseline espeak|none]

Dubs a synthetic episode (neural voices, ``--speakers`` speakers) with the embedded pipeline,
cuts every dubbed line out of the dub's speech stem and embeds it with Resemblyzer's
``VoiceEncoder`` (the d-vector model shipped in the package). Lines are grouped by the voice
the dub gave them. Prints, per voice, the mean cosine similarity between its own lines
(``within``) and, per pair of voices, the mean similarity across their lines (``between``);
the dub passes when the lowest ``within`` is above the highest ``between``. The baseline
(``--baseline espeak``) prints the same figures for the espeak-ng dub of the same episode.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path

import numpy as np


def voice_similarities(tts: str, ep, tmp: Path, min_s: float = 0.6) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """(within-voice mean similarity per voice, between-voice mean similarity per pair) of a dub."""
    from resemblyzer import VoiceEncoder

    from anim400k.dub.pipeline import DubOptions, dub
    from anim400k.media import decode_audio

    out = tmp / tts
    report = dub(ep.media, out / "dub.mkv", DubOptions(subtitles=str(ep.subtitles), tts=tts, stems=str(out / "stems")))
    sr = 16000
    speech = decode_audio(out / "stems" / "dub_speech.wav", 0, sr=sr)
    encoder = VoiceEncoder("cpu", verbose=False)
    emb: dict[str, list[np.ndarray]] = {}
    for ln in report.spoken_lines:
        a, b = int(ln.speech_start * sr), int(ln.speech_end * sr)
        if (b - a) / sr >= min_s:
            emb.setdefault(ln.voice, []).append(encoder.embed_utterance(speech[a:b].astype(np.float32)))
    within = {}
    for voice, vecs in emb.items():
        sims = [float(np.dot(x, y)) for x, y in itertools.combinations(vecs, 2)]
        if sims:
            within[voice] = (float(np.mean(sims)), len(vecs))
    between = {}
    for (va, xa), (vb, xb) in itertools.combinations(emb.items(), 2):
        between[(va, vb)] = float(np.mean([float(np.dot(x, y)) for x in xa for y in xb]))
    return within, between


def show(name: str, within: dict, between: dict) -> None:
    print(f"{name}: within-voice similarity (mean over pairs of its lines)")
    for voice, (sim, n) in sorted(within.items()):
        print(f"  {voice:28s} {sim:.3f}  ({n} lines)")
    print(f"{name}: between-voice similarity (mean over pairs of lines)")
    for (va, vb), sim in sorted(between.items(), key=lambda kv: -kv[1]):
        print(f"  {va} vs {vb}: {sim:.3f}")
    lo = min(s for s, _ in within.values()) if within else float("nan")
    hi = max(between.values()) if between else float("nan")
    verdict = "yes" if lo > hi else "no"
    print(f"{name}: lowest within {lo:.3f}, highest between {hi:.3f}; within > between for every voice: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--speakers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tts", default="neural")
    parser.add_argument("--baseline", default="espeak", help="a second TTS backend to compare with, or 'none'")
    args = parser.parse_args()
    from anim400k.synth import make_episode

    with tempfile.TemporaryDirectory() as tmp:
        ep = make_episode(Path(tmp) / "ep", duration=args.duration, seed=args.seed, n_speakers=args.speakers)
        truth = ep.load_truth()
        print(f"episode: {args.duration:.0f} s, {args.speakers} speakers, voices {truth.voices}")
        for tts in [args.tts] + ([args.baseline] if args.baseline not in ("none", args.tts) else []):
            within, between = voice_similarities(tts, ep, Path(tmp))
            show(tts, within, between)


if __name__ == "__main__":
    main()
