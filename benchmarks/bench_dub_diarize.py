"""Benchmark: the dub's diarization (its `segment` stage) against a synthetic episode's truth.

Diarizes the first ``--duration`` seconds of an episode (a video with a ``jpn`` and an ``eng``
audio stream, its ``truth.json`` and EN subtitles) the ways the dub and the build can, and prints per
way the speaker count, DER (pyannote.metrics, collar 0.25 s total) with its parts, and which true
speakers each found speaker covers (seconds of shared time), so an extra or merged speaker is
named:

- ``vocals``: what the dub diarized before it took the EN track: the source separated by the dub's
  single-track separator (HPSS at 24 kHz), the vocals at 16 kHz and -23 LUFS
  (:func:`~anim400k.dub.pipeline.analysis_vocals`), with the subtitles;
- ``vocals+en``: the same with the EN mix (music and all) as the other view;
- ``mix``: the JP mix itself with the subtitles (``anim400k diarize MEDIA --subtitles S``);
- ``dual``: the build's diarize stage: the JP mix minus the dual-track backing, the EN speech as the
  other view, the subtitles (``anim400k diarize MEDIA --other-stream eng --subtitles S``);
- ``dual-noother``: the dual-track JP speech without the EN view;
- ``dual-nosubs``: ``dual`` without the subtitles;
- ``dub``: the dub's segment stage as it is now (``dub.pipeline._segments``: with the video's EN track,
  the dual-track views as in ``dual``; its segments).

DER is scored on the turns the diarizer returns and on the dub's segments made of them
(:func:`anim400k.dub.segment.speech_segments`: merged, trimmed, split, short ones dropped).

    python benchmarks/bench_dub_diarize.py /work/ep1440/ep1/episode.mkv --truth /work/ep1440/ep1/truth.json \
        --subtitles /work/ep1440/ep1/episode.en.srt --duration 600 [--ways dub dual]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

WAYS = ("vocals", "vocals+en", "mix", "dual", "dual-noother", "dual-nosubs", "dub", "dub-unscaled")


def spans(turns: Sequence[Any]) -> list[tuple[float, float, str]]:
    """``(start, end, speaker)`` of each turn (a :class:`~anim400k.model.Turn`, a segment or a tuple)."""
    return [(float(t.start), float(t.end), str(t.speaker)) if hasattr(t, "start") else (t[0], t[1], str(t[2]))
            for t in turns]


def clip_turns(turns: Sequence[Any], end: float) -> list[tuple[float, float, str]]:
    """``turns`` cut at ``end`` seconds."""
    return [(a, min(b, end), s) for a, b, s in spans(turns) if a < end]


def coverage(reference: Sequence[Any], hypothesis: Sequence[Any]) -> dict[str, dict[str, float]]:
    """Seconds each hypothesis speaker shares with each reference speaker."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for h in hypothesis:
        for r in reference:
            shared = min(h[1], r[1]) - max(h[0], r[0])
            if shared > 0:
                out[str(h[2])][str(r[2])] += shared
    return out


def describe(name: str, reference: Sequence[Any], hyp: Sequence[Any], seconds: float) -> None:
    """Print one way's figures."""
    from anim400k.diarize.metrics import der
    from anim400k.model import Turn

    hyp = spans(hyp)
    d = der([Turn(*t) for t in reference], [Turn(*t) for t in hyp], detailed=True)
    total = d["total"] or 1.0
    speakers = sorted({str(t[2]) for t in hyp})
    print(f"{name:28s} speakers {len(speakers)}  DER {100 * d['diarization error rate']:5.2f} %  "
          f"(miss {100 * d['missed detection'] / total:.2f}, FA {100 * d['false alarm'] / total:.2f}, "
          f"confusion {100 * d['confusion'] / total:.2f})  turns {len(hyp)}  {seconds:.1f} s")
    cov = coverage(reference, hyp)
    for spk in speakers:
        n = sum(1 for t in hyp if str(t[2]) == spk)
        parts = ", ".join(f"{r} {s:.1f} s" for r, s in sorted(cov[spk].items(), key=lambda kv: -kv[1]))
        print(f"    {spk}: {n} turns; shares {parts or 'nothing'} with the truth")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark."""
    from anim400k.diarize import get_diarizer
    from anim400k.diarize.run import load_reference
    from anim400k.diarize.views import dual_track_speech
    from anim400k.dub.options import DubOptions
    from anim400k.dub.pipeline import _segments, analysis_vocals, separate
    from anim400k.dub.segment import speech_segments
    from anim400k.formats.subtitles import read_subtitles
    from anim400k.media import decode_audio
    from anim400k.signal import ANALYSIS_SR
    from anim400k.signal import loudness as lufs
    from anim400k.translate import get_translator

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("media", type=Path)
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--subtitles", type=Path, required=True)
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--ways", nargs="+", choices=WAYS, default=list(WAYS))
    ap.add_argument("--sr", type=int, default=48000, help="the dub's decode rate (the source's)")
    ap.add_argument("--num-speakers", type=int, default=None, help="the dub's --num-speakers (dub ways only)")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    end = args.duration
    reference = clip_turns(load_reference(args.truth), end)
    # the dub's translator keeps the subtitles' spoken text: the cues the dub hands the diarizer
    translator = get_translator("subtitles", subtitles=read_subtitles(args.subtitles))
    translator.subtitles = subs = [s for s in translator.subtitles if s.start < end]
    print(f"{args.media} 0-{end:.0f} s: {len({t[2] for t in reference})} true speakers, {len(reference)} lines, "
          f"{len(subs)} subtitle events")
    jp16 = decode_audio(args.media, "jpn", sr=ANALYSIS_SR, end=end)
    en16 = decode_audio(args.media, "eng", sr=ANALYSIS_SR, end=end)
    vocals16 = None
    if {"vocals", "vocals+en", "dub", "dub-unscaled"} & set(args.ways):
        t = time.perf_counter()
        mix = decode_audio(args.media, "jpn", sr=args.sr, end=end)
        vocals, _ = separate(mix, args.sr, DubOptions().separator, DubOptions().separation_sr)
        mix_lufs = lufs(mix, args.sr)
        vocals16 = analysis_vocals(vocals, args.sr, mix_lufs)
        del vocals
        print(f"(HPSS separation: {time.perf_counter() - t:.1f} s)")
    dual: tuple[np.ndarray, np.ndarray | None] | None = None
    if {"dual", "dual-noother", "dual-nosubs"} & set(args.ways):
        t = time.perf_counter()
        dual = dual_track_speech(jp16, en16, ANALYSIS_SR)
        view = "none" if dual[1] is None else "yes"
        print(f"(dual-track separation: {time.perf_counter() - t:.1f} s, EN view {view})")
    for way in args.ways:
        t = time.perf_counter()
        if way.startswith("dub"):
            assert vocals16 is not None
            import anim400k.dub.pipeline as dp

            # dub-unscaled: the views at the mixes' own level (no -23 LUFS analysis gain), as the build has them
            dp.ANALYSIS_LUFS = mix_lufs if way == "dub-unscaled" else -23.0
            report = SimpleNamespace(problems=[])
            options = DubOptions(num_speakers=args.num_speakers)
            segments = _segments(mix, args.sr, mix_lufs, vocals16, en16, options, translator, lambda *a: None, report)
            describe(f"{way} (segments)", reference, [(s.start, s.end, s.speaker) for s in segments],
                     time.perf_counter() - t)
            for problem in report.problems:
                print(f"    problem: {problem}")
            print_mixed(vocals16, segments)
            continue
        diarizer = get_diarizer("embedded")
        cues: dict[str, Any] = {} if way == "dual-nosubs" else {"subtitles": subs}
        if way.startswith("vocals"):
            assert vocals16 is not None
            audio = vocals16
            other = en16 if way == "vocals+en" else None
        elif way == "mix":
            audio, other = jp16, None
        else:
            assert dual is not None
            audio, other = dual[0], (None if way == "dual-noother" else dual[1])
        hyp = diarizer.diarize(audio, ANALYSIS_SR, **cues, **({} if other is None else {"other": other}))
        seconds = time.perf_counter() - t
        describe(f"{way} (turns)", reference, hyp, seconds)
        segments = speech_segments(hyp, audio, ANALYSIS_SR)
        describe(f"{way} (segments)", reference, [(s.start, s.end, s.speaker) for s in segments], 0.0)
        if vocals16 is not None and way.startswith("vocals"):
            print_mixed(vocals16, segments)
    import resource

    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


def print_mixed(vocals16: np.ndarray, segments: Sequence[Any]) -> None:
    """The speakers the dub's report would call mixed registers (:func:`anim400k.dub.voice.mixed_register_speakers`)."""
    from anim400k.dub.voice import mixed_register_speakers
    from anim400k.signal import ANALYSIS_SR

    mixed = mixed_register_speakers(vocals16, ANALYSIS_SR, list(segments))
    lines = {spk: sum(1 for s in segments if s.speaker == spk) for spk in mixed}
    print(f"    mixed registers: {', '.join(f'{k} ({v} lines)' for k, v in lines.items()) or 'none'}")


if __name__ == "__main__":
    main()
