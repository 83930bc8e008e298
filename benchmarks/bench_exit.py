"""How long ``python -m anim400k transcribe`` takes to exit after its last line (docs/asr.md, "Exit time").

Each run transcribes a few seconds of espeak-ng speech into a fresh ``--out`` (a transcript that exists would be
re-used) and records the wall time of the whole command and the time from its last output line to its exit.
``--src`` picks the source tree to run (e.g. another checkout's ``src``, to compare before/after)::

    PYTHONPATH=src python benchmarks/bench_exit.py --runs 3 --language ja
    PYTHONPATH=src python benchmarks/bench_exit.py --runs 3 --language ja --src /work/main/src
    PYTHONPATH=src python benchmarks/bench_exit.py --runs 3 --language ja --asr vad
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from anim400k.testing.speech import SR, speech_track

TEXT = {"ja": ["こんにちは。今日はいい天気ですね。", "明日は学校に行きます。"],
        "en": ["Hello there, this is a short test.", "We will see how long the command takes to exit."]}
VOICE = {"ja": "ja", "en": "en-us"}


def one_run(src: Path, wav: Path, out: Path, language: str, asr: str) -> tuple[float, float]:
    """(wall seconds, seconds from the last output line to the exit) of one ``transcribe``."""
    out.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "anim400k", "transcribe", str(wav), "--language", language, "--asr", asr,
           "--out", str(out)]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    last = start
    for _line in proc.stdout:
        last = time.monotonic()
    rc = proc.wait()
    end = time.monotonic()
    if rc != 0 or not out.is_file():
        raise SystemExit(f"{' '.join(cmd)}: exit {rc}")
    return end - start, end - last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--language", choices=sorted(TEXT), default="ja")
    ap.add_argument("--asr", default="auto", help="auto (Whisper), vad, whisper-base, whisper-tiny-en")
    ap.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        audio, _ = speech_track(TEXT[args.language], VOICE[args.language])
        wav = Path(tmp) / "speech.wav"
        sf.write(wav, audio, SR)
        runs = [one_run(args.src, wav, Path(tmp) / "t.json", args.language, args.asr) for _ in range(args.runs)]
    walls, exits = [r[0] for r in runs], [r[1] for r in runs]
    print(f"src {args.src}, {args.language}, --asr {args.asr}, {audio.size / SR:.1f} s of speech, load "
          f"{os.getloadavg()[0]:.1f}")
    print("wall s:          " + " ".join(f"{w:.2f}" for w in walls) + f"  (median {statistics.median(walls):.2f})")
    print("last line->exit: " + " ".join(f"{e:.2f}" for e in exits) + f"  (median {statistics.median(exits):.2f})")


if __name__ == "__main__":
    main()
