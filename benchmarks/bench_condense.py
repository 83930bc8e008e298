"""Isochrony with and without condensing, on a synthetic episode whose EN lines are made wordy.

    python benchmarks/bench_condense.py [--duration 60] [--seed 0]

The episode's subtitles are rewritten the way loose translations run long (contractions spelled
out, a discourse marker in front of every line, "you know, really" after every other line), then
the episode is dubbed with each condenser. Baseline: ``--condense none`` (time-stretch only, the
paper's baseline dub). Prints, per condenser, the lines that overflow their slot, the lines cut,
the lines condensed, the mean |end error| and its ratio to the baseline's.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

SPELLED_OUT = {
    "it's": "it is", "don't": "do not", "i'm": "i am", "can't": "cannot", "won't": "will not",
    "isn't": "is not", "you're": "you are", "we're": "we are", "let's": "let us", "that's": "that is",
    "i'll": "i will", "didn't": "did not", "what's": "what is", "we'll": "we will", "they're": "they are",
}
OPENERS = ("Well, you know, ", "Um, so, ", "Oh, ", "Listen, ")


def wordy(text: str, i: int) -> str:
    """``text`` as a loose translation might give it (longer, same content)."""
    for short, long in SPELLED_OUT.items():
        text = re.sub(rf"\b{re.escape(short)}\b", lambda m, lng=long: lng.capitalize() if m.group(0)[0].isupper()
                      else lng, text, flags=re.IGNORECASE)
    text = OPENERS[i % len(OPENERS)] + text[:1].lower() + text[1:]
    return text.rstrip(".!?") + ", you know, really." if i % 2 else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="episode length in seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import pysubs2

    from anim400k.dub.pipeline import DubOptions, dub
    from anim400k.synth import make_episode

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        ep = make_episode(Path(tmp) / "ep", duration=args.duration, seed=args.seed, n_speakers=3)
        subs = pysubs2.load(str(ep.subtitles))
        for i, event in enumerate(subs):
            event.text = wordy(event.plaintext, i)
        long_srt = Path(tmp) / "wordy.srt"
        subs.save(str(long_srt))
        for condense in ("none", "rules", "rules+trim"):
            opts = DubOptions(subtitles=str(long_srt), condense=condense, progress=False)
            results[condense] = dub(ep.media, Path(tmp) / f"{condense}.mkv", opts)
    base = results["none"].mean_abs_end_error or 0.0
    print(f"episode: {args.duration:.0f} s, seed {args.seed}, {len(results['none'].lines)} lines, wordy subtitles")
    print("condenser    overflowing  cut  condensed  mean |end error|  vs none")
    for name, rep in results.items():
        err = rep.mean_abs_end_error or 0.0
        ratio = f"{err / base:.2f}x" if base else "-"
        print(
            f"{name:<12} {sum(ln.overflow for ln in rep.lines):>11} {sum(ln.truncated for ln in rep.lines):>4} "
            f"{sum(ln.condensed_from is not None for ln in rep.lines):>10} {err * 1000:>14.0f} ms  {ratio:>7}"
        )


if __name__ == "__main__":
    main()
