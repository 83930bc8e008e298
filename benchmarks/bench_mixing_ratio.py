"""The release's per-clip mixing ratio against the truth, before (baseline) and after the bias correction.

Two sets of synthetic episodes whose true stems are known (``anim400k.synth``, neural voices):

- ``demo``: the episodes ``anim400k demo`` makes (2 x 60 s, its offsets and drift), the music 10-15 LU
  under the speech as synthesized;
- ``levels``: other episodes (seeds 10-13, 45 s) with the music re-levelled to 0, 4, 8 and 12 dB under
  the episode's speech (the stems summed again at 16 kHz, EN with the same backing gain).

Each episode goes through what the build does at 16 kHz: both mixes decoded (``media.decode_audio``),
sync (``analyze_sync``; its map applied when reliable), the dual-track separation, the backing quantised
to 16-bit as in ``backing.flac``. Clips are the truth's JP lines. Per clip the error is the estimate
minus the ratio fitted on the true stems (``fit_mix(mix, true_speech, true_backing)``). Printed per set:
mean error (the bias), median |error|, max |error| and how many clips read high, for

- ``baseline``: ``fit_mix(mix, mix - backing, backing)`` (the release's estimator before the change);
- ``corrected``: :func:`anim400k.mixing.estimated_mixing_ratios` (the release's estimator now).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_mixing_ratio.py [--sets demo levels] [--release DIR]``
(``--release``: also the clips of a release ``anim400k demo --out DIR`` built, from its work folder).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from anim400k import media
from anim400k.demo import demo_offsets
from anim400k.mixing import estimated_mixing_ratios, mixing_ratios
from anim400k.separate import get_separator
from anim400k.signal import loudness, prepare_audio
from anim400k.sync.estimate import analyze_sync
from anim400k.synth import make_episode

SR = 16000
LEVELS_DB = (0.0, 4.0, 8.0, 12.0)


def _pcm16(x: np.ndarray) -> np.ndarray:
    """``x`` as a 16-bit FLAC would give it back."""
    return (np.round(np.clip(x, -1.0, 1.0) * 32767.0) / 32767.0).astype(np.float32)


def _separate(jp: np.ndarray, en: np.ndarray) -> np.ndarray:
    """The build's backing estimate of ``jp`` (sync, then dual-track separation), as read from backing.flac."""
    sync = analyze_sync(jp, en, SR)
    tm = sync.time_map if sync.reliable else None
    sep = get_separator("dualtrack").separate(jp, SR, reference=en, time_map=tm)
    return _pcm16(sep.backing)


def _errors(jp: np.ndarray, speech: np.ndarray, backing: np.ndarray, est: np.ndarray,
            intervals: list[tuple[float, float]]) -> dict[str, np.ndarray]:
    """Per-clip errors (dB) of each estimator against the true-stem fit."""
    n = min(len(jp), len(speech), len(backing), len(est))
    jp, speech, backing, est = jp[:n], speech[:n], backing[:n], est[:n]
    truth = np.array([f.ratio_db for f in mixing_ratios(jp, speech, backing, SR, intervals)])
    base = np.array([f.ratio_db for f in mixing_ratios(jp, jp - est, est, SR, intervals)])
    corr = np.array(estimated_mixing_ratios(jp, est, SR, intervals))
    return {"baseline": base - truth, "corrected": corr - truth}


Case = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float]]]


def demo_cases(root: Path) -> list[Case]:
    """The demo's two 60 s episodes (``anim400k demo``'s seeds, offsets and drift): (mix, true speech,
    true backing, estimated backing, clip intervals) each."""
    cases = []
    for i, (offset, drift) in enumerate(demo_offsets(2, 0)):
        ep = make_episode(root / f"demo{i}", duration=60.0, seed=i, offset=offset, drift=drift, video=False)
        truth = ep.load_truth()
        jp = _pcm16(media.decode_audio(ep.media, "jpn", sr=SR))
        en = _pcm16(media.decode_audio(ep.media, "eng", sr=SR))
        speech = prepare_audio(truth.load_stem("jp_speech"), truth.sample_rate, SR)
        backing = prepare_audio(truth.load_stem("backing"), truth.sample_rate, SR)
        intervals = [(ln.jp_start, ln.jp_end) for ln in truth.lines]
        cases.append((jp, speech, backing, _separate(jp, en), intervals))
    return cases


def levels_cases(root: Path) -> list[Case]:
    """Four 45 s episodes with the music 0, 4, 8 and 12 dB under the speech (as :func:`demo_cases`)."""
    cases = []
    for j, under in enumerate(LEVELS_DB):
        seed = 10 + j
        ep = make_episode(root / f"lv{seed}", duration=45.0, seed=seed, offset=0.6 * j, drift=0.0005 * (j % 2),
                          video=False)
        truth = ep.load_truth()
        stems = {k: prepare_audio(truth.load_stem(k), truth.sample_rate, SR)
                 for k in ("jp_speech", "backing", "en_speech", "en_backing")}
        g = 10 ** ((loudness(stems["jp_speech"], SR) - under - loudness(stems["backing"], SR)) / 20)
        backing = stems["backing"] * g
        jp = stems["jp_speech"] + backing
        en = stems["en_speech"] + stems["en_backing"] * g
        peak = max(float(np.max(np.abs(jp))), float(np.max(np.abs(en))), 1e-9)
        scale = min(1.0, 0.89 / peak)  # as the synthesizer: nothing clips
        jp, en, speech, backing = _pcm16(jp * scale), _pcm16(en * scale), stems["jp_speech"] * scale, backing * scale
        intervals = [(ln.jp_start, ln.jp_end) for ln in truth.lines]
        cases.append((jp, speech, backing, _separate(jp, en), intervals))
    return cases


def release_cases(out: Path) -> list[Case]:
    """The clips of a release ``anim400k demo --out OUT`` built: its work folder's 16 kHz JP mix and
    ``backing.flac``, its ``clips.json`` intervals, the truth of each episode named in its manifest."""
    import json

    import soundfile as sf
    import yaml

    from anim400k.synth import load_truth

    cases = []
    for show in yaml.safe_load((out / "manifest.yaml").read_text(encoding="utf-8"))["shows"]:
        for e in show["episodes"]:
            work = out / "work" / show["key"] / str(e["episode"])
            jp, _ = sf.read(work / "ja.16k.flac", dtype="float32")
            est, _ = sf.read(work / "backing.flac", dtype="float32")
            truth = load_truth(out / e["truth"])
            speech = prepare_audio(truth.load_stem("jp_speech"), truth.sample_rate, SR)
            backing = prepare_audio(truth.load_stem("backing"), truth.sample_rate, SR)
            clips = json.loads((work / "clips.json").read_text(encoding="utf-8"))["clips"]
            cases.append((jp, speech, backing, est, [(c["jp_start"], c["jp_end"]) for c in clips]))
    return cases


def set_errors(cases: list[Case]) -> dict[str, np.ndarray]:
    """Per-clip errors of each estimator over all episodes of a set."""
    per = [_errors(*c) for c in cases]
    return {k: np.concatenate([p[k] for p in per]) for k in per[0]}


def _row(name: str, e: np.ndarray) -> str:
    return (f"  {name:<10} mean {np.mean(e):+6.2f} dB  median|e| {np.median(np.abs(e)):5.2f} dB  "
            f"max|e| {np.max(np.abs(e)):5.2f} dB  sd {np.std(e):4.2f} dB  high {int(np.sum(e > 0))}/{e.size}")


def _report(title: str, cases: list[Case], labels: list[str] | None = None) -> None:
    """Print a set's rows (and, with ``labels``, each episode's)."""
    errs = set_errors(cases)
    print(f"{title} ({errs['baseline'].size} clips):")
    for k, e in errs.items():
        print(_row(k, e))
    for label, case in zip(labels or [], cases, strict=False):
        for k, e in _errors(*case).items():
            print(f"    {label:<12}" + _row(k, e)[2:])


def main() -> None:
    """Run the sets and print the baseline and the corrected estimator side by side."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="*", choices=("demo", "levels"), default=["demo", "levels"])
    ap.add_argument("--release", type=Path, help="also the clips of the release `anim400k demo --out DIR` built")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mixing-ratio-") as tmp:
        for name in args.sets:
            t0 = time.perf_counter()
            cases = (demo_cases if name == "demo" else levels_cases)(Path(tmp))
            labels = None if name == "demo" else [f"{d:.0f} dB under" for d in LEVELS_DB]
            _report(f"{name} set, {time.perf_counter() - t0:.0f} s", cases, labels)
    if args.release:
        _report(f"release {args.release}", release_cases(args.release))


if __name__ == "__main__":
    main()
