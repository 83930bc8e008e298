"""Translation quality and cost of the dub's translators on synthetic episodes (known EN text).

    OMP_NUM_THREADS=2 python benchmarks/bench_dub_translate.py [--duration 60] [--seeds 0 1] [--cores 2]
        [--tts neural|espeak]

Each episode (Japanese speech by Kokoro's voices, with its EN dub script and EN subtitles known) is
dubbed twice, each run with an empty TTS cache: ``--translator subtitles`` (the video's EN subtitle
stream) and ``--translator whisper`` with no model (the embedded Whisper base, what ``auto`` uses
when there are no subtitles). Each dub line's translation (before condensing) goes to the true line
it overlaps most; per true line the joined translations are scored against the EN dub script line
and against the EN subtitle (corpus BLEU/chrF and WER, :func:`anim400k.evaluate.content.corpus_text_scores`,
sacrebleu). Also prints the dub's wall time and its translate stage.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def line_texts(report: dict, truth) -> list[str]:  # type: ignore[no-untyped-def]
    """Per true line, the translations of the dub lines that overlap it most, joined in time order."""
    out: list[list[str]] = [[] for _ in truth.lines]
    for ln in report["lines"]:
        text = ln.get("condensed_from") or ln.get("en_text")
        if not text:
            continue
        a, b = ln["slot_start"], ln["slot_end"]
        overlaps = [min(b, t.jp_end) - max(a, t.jp_start) for t in truth.lines]
        best = max(range(len(overlaps)), key=overlaps.__getitem__)
        if overlaps[best] > 0:
            out[best].append(text)
    return [" ".join(parts) for parts in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--tts", default="neural")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(args.cores))
    os.environ.setdefault("ANIM400K_THREADS", str(args.cores))
    from anim400k.dub.pipeline import DubOptions, dub
    from anim400k.evaluate.content import corpus_text_scores
    from anim400k.synth import make_episode

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            ep = make_episode(Path(tmp) / f"ep{seed}", duration=args.duration, seed=seed, n_speakers=3, video=False)
            truth = ep.load_truth()
            for translator in ("subtitles", "whisper"):
                os.environ["ANIM400K_CACHE"] = tempfile.mkdtemp(dir=tmp)  # every line synthesized
                t0 = time.perf_counter()
                rep = dub(ep.media, Path(tmp) / f"{seed}-{translator}.mkv",
                          DubOptions(translator=translator, tts=args.tts, progress=False)).to_dict()
                wall = time.perf_counter() - t0
                hyps = line_texts(rep, truth)
                script = corpus_text_scores(hyps, [t.en_text for t in truth.lines])
                subs = corpus_text_scores(hyps, [t.subtitle for t in truth.lines])
                rows.append((seed, translator, script, subs, wall, rep["seconds"].get("translate"),
                             rep["summary"]["spoken"], rep["summary"]["segments"], len(truth.lines)))
                for t, h in list(zip(truth.lines, hyps, strict=True))[:6]:
                    print(f"  [{seed} {translator}] {t.en_text!r} <- {h!r}")
    print("| seed | translator | BLEU / chrF / WER vs EN script | BLEU / chrF vs EN subtitles | dub wall s "
          "| translate s | spoken / segments | true lines |")
    print("|---|---|---|---|---|---|---|---|")
    for seed, name, script, subs, wall, tr, spoken, segs, n in rows:
        print(f"| {seed} | {name} | {script['bleu']:.1f} / {script['chrf']:.1f} / {script['wer']:.2f} | "
              f"{subs['bleu']:.1f} / {subs['chrf']:.1f} | {wall:.1f} | {tr:.1f} | {spoken}/{segs} | {n} |")
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
