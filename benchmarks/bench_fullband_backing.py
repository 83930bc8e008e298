"""Benchmark: the release's backing clips at 44.1 kHz, full band against the 16 kHz estimate upsampled.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_fullband_backing.py [--seeds 0 1 2] [--duration 60]``.

For each seed, ``anim400k.synth.make_episode`` builds an episode with known stems; the JP mix
is separated at 16 kHz as the build's separate stage does (``dualtrack`` with the true map, and
``hpss`` REPET-SIM for the single-track fallback), and the backing is then brought to 44.1 kHz:

- ``upsampled``: the 16 kHz estimate resampled (what the backing clips were before);
- ``fullband``: :func:`anim400k.separate.fullband.fullband_backing` (the 16 kHz estimate below 7 kHz,
  the dual-track estimate at 44.1 kHz above 7.6 kHz);
- ``dualtrack@44.1k``: the whole dual-track separation run again at 44.1 kHz (the alternative);
- ``repet-sim@44.1k``: REPET-SIM at 44.1 kHz (what a single-track backing could take above 8 kHz;
  the build keeps the single-track backing upsampled).

Each is scored (SDR, dB) against the true backing at 44.1 kHz over the full band, below 7.5 kHz
and above 8.3 kHz (8th-order Butterworth, zero phase); CPU seconds are this process's (one thread).

``--clips`` instead compares what the cut stage computes: ``fullband_backing`` over whole 30 s blocks
against it with ``needed`` = the episode's true lines (their JP spans, as clips): only the STFT frames
near them (``fullband.block_pieces``); both scored on the lines' samples only.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("ANIM400K_THREADS", "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402
from scipy.signal import butter, sosfiltfilt  # noqa: E402

from anim400k.model import TimeMap  # noqa: E402
from anim400k.separate import get_separator, sdr  # noqa: E402
from anim400k.separate.fullband import fullband_backing  # noqa: E402
from anim400k.separate.hpss import HpssSeparator  # noqa: E402
from anim400k.synth import load_truth, make_episode  # noqa: E402

LOW_SR, SR = 16000, 44100


def band_sdrs(ref: np.ndarray, est: np.ndarray) -> tuple[float, float, float]:
    """SDR over the full band, below 7.5 kHz and above 8.3 kHz."""
    lp = butter(8, 7500, "lowpass", fs=SR, output="sos")
    hp = butter(8, 8300, "highpass", fs=SR, output="sos")
    return (sdr(ref, est), sdr(sosfiltfilt(lp, ref), sosfiltfilt(lp, est)),
            sdr(sosfiltfilt(hp, ref), sosfiltfilt(hp, est)))


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN201
    """``(fn(*args, **kwargs), CPU seconds)``."""
    t = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - t


def dual44(jp: np.ndarray, en: np.ndarray, tm: TimeMap) -> np.ndarray:
    """The whole dual-track separation at 44.1 kHz (the alternative to :func:`fullband_backing`)."""
    return get_separator("dualtrack").separate(jp, SR, reference=en, time_map=tm).backing


def clip_rows(rows: dict, seed: int, truth: Any, jp: np.ndarray, en: np.ndarray, backing: np.ndarray,
              low: np.ndarray, tm: TimeMap) -> None:
    """``--clips``: the full-band backing over whole blocks and over the frames near the lines, on the lines."""
    spans = [(ln.jp_start, ln.jp_end) for ln in truth.lines]
    on = np.concatenate([np.arange(round(a * SR), min(jp.size, round(b * SR))) for a, b in spans])
    for name, needed in (("fullband: whole blocks", None), ("fullband: near the lines", spans)):
        est, cpu = timed(fullband_backing, jp, SR, low, LOW_SR, en, tm, needed=needed)
        s = band_sdrs(backing[on], est[on])
        rows.setdefault(name, []).append((*s, cpu))
        print(f"seed {seed} {name:24s} SDR full {s[0]:6.2f}  <7.5k {s[1]:6.2f}  >8.3k {s[2]:6.2f} dB  "
              f"CPU {cpu:.2f} s ({sum(b - a for a, b in spans) / (jp.size / SR):.0%} of the episode in lines)",
              flush=True)


def main() -> None:
    """Run the benchmark and print one line per method and seed, then the means."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--clips", action="store_true", help="whole blocks against the frames near the lines only")
    args = ap.parse_args()
    rows: dict[str, list[tuple[float, ...]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            offset, drift = [(3.2, 0.0), (-2.5, 0.041), (6.0, -0.041)][seed % 3]
            ep = make_episode(f"{tmp}/{seed}", duration=args.duration, seed=seed, offset=offset, drift=drift,
                              video=False)
            d = ep.truth.parent

            def load(name: str, rate: int, d=d) -> np.ndarray:  # noqa: B023
                x, sr = sf.read(d / f"{name}.wav", dtype="float32")
                return soxr.resample(x, sr, rate)

            truth = load_truth(ep.truth)
            tm = TimeMap(truth.offset, truth.drift, 1.0)
            j16, e16 = load("jp_mix", LOW_SR), load("en_mix", LOW_SR)
            jp, en, backing = load("jp_mix", SR), load("en_mix", SR), load("backing", SR)
            dual16, c_dual16 = timed(get_separator("dualtrack").separate, j16, LOW_SR, reference=e16, time_map=tm)
            if args.clips:
                clip_rows(rows, seed, truth, jp, en, backing, dual16.backing, tm)
                continue
            rs16, c_rs16 = timed(HpssSeparator().backing, j16, LOW_SR)
            runs: dict[str, tuple[np.ndarray, float]] = {
                "dual: upsampled": (soxr.resample(dual16.backing, LOW_SR, SR)[: jp.size], c_dual16),
                "dual: fullband": timed(fullband_backing, jp, SR, dual16.backing, LOW_SR, en, tm),
                "dual: dualtrack@44.1k": timed(dual44, jp, en, tm),
                "single: upsampled": (soxr.resample(rs16, LOW_SR, SR)[: jp.size], c_rs16),
                "single: repet-sim@44.1k": timed(HpssSeparator().backing, jp, SR),
                "JP mix": (jp, 0.0),
            }
            for name, (est, cpu) in runs.items():
                if name.endswith("fullband"):  # the 16 kHz separation comes first
                    cpu = (cpu, c_dual16 if name.startswith("dual") else c_rs16)
                    label = f"{cpu[0]:.2f} s (+ {cpu[1]:.2f} s at 16 kHz)"
                else:
                    label = f"{cpu:.2f} s"
                s = band_sdrs(backing, est)
                rows.setdefault(name, []).append((*s, cpu[0] if isinstance(cpu, tuple) else cpu))
                print(f"seed {seed} {name:24s} SDR full {s[0]:6.2f}  <7.5k {s[1]:6.2f}  >8.3k {s[2]:6.2f} dB  "
                      f"CPU {label}", flush=True)
    print(f"mean over seeds ({args.duration:.0f} s episodes):")
    for name, vals in rows.items():
        v = np.array(vals).mean(axis=0)
        print(f"  {name:24s} SDR full {v[0]:6.2f}  <7.5k {v[1]:6.2f}  >8.3k {v[2]:6.2f} dB  CPU {v[3]:.2f} s")


if __name__ == "__main__":
    main()
