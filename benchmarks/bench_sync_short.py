"""Benchmark: short-media sync (JP <= 45 s) on synthetic episodes with neural voices, and on unrelated pairings.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sync_short.py [--seeds 1 6] [--durations 12 16 20 30]
[--psr 6.0 5.5]``.

Each seed makes, for each duration, three episodes (``anim400k.synth.make_episode``, no video, 2-4 speakers by
seed): no offset, +1.25 s, and -2 s with +1 % drift, cached under ``--cache`` (made once). Each is synced
(``sync.estimate.analyze_sync`` on the decoded MKV tracks at 16 kHz) and counted **reliable** when its confidence
reaches 0.5 and its offset at the middle of JP is within 5 ms of the truth's, **confidently wrong** when the
confidence reaches 0.5 but the error is larger. Unrelated pairings (JP of one episode, EN of another seed's of the
same length) must never be confident. Each ``--psr`` value is run as ``sync.params.PHAT_PRECISE_PSR`` (the peak
height over its sidelobes that vouches for a second candidate's precision); the first is the **baseline** and
every other row prints its counts and the ratio of reliable episodes against it.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

CASES = ((0.0, 0.0), (1.25, 0.0), (-2.0, 0.01))  # (offset s, drift)


def episode(cache: Path, seed: int, duration: float, offset: float, drift: float) -> Path:
    """The MKV of one synthetic episode (made into ``cache`` once)."""
    from anim400k.synth import make_episode

    folder = cache / f"s{seed}_d{duration:g}_o{offset:g}_r{drift:g}"
    media = folder / "episode.mkv"
    if not media.is_file():
        make_episode(folder, duration=duration, seed=seed, offset=offset, drift=drift, n_speakers=2 + seed % 3,
                     video=False, embed_subtitles=False)
    return media


def run(pairs: list[tuple[Path, Path, float | None, float]], psr: float) -> tuple[int, int, int, int]:
    """(reliable, confidently wrong, related total, unrelated confident) over ``pairs`` with this PSR threshold.

    A pair is (JP media, EN media, true offset at JP's middle or None for an unrelated pairing, JP's middle).
    """
    import anim400k.sync.estimate as estimate
    from anim400k.media.audio import decode_audio

    estimate.PHAT_PRECISE_PSR = psr
    reliable = wrong = related = unrelated_confident = 0
    for jp_path, en_path, truth, middle in pairs:
        jp = decode_audio(jp_path, "jpn", sr=16000)
        en = decode_audio(en_path, "eng", sr=16000)
        res = estimate.analyze_sync(jp, en, 16000)
        confident = res.confidence >= 0.5
        if truth is None:
            unrelated_confident += confident
            continue
        related += 1
        tm = res.time_map
        error = abs(tm.offset + (1 + tm.drift) * middle - truth)
        reliable += confident and error <= 0.005
        wrong += confident and error > 0.005
    return reliable, wrong, related, unrelated_confident


def main() -> None:
    """Make (or reuse) the episodes, run each PSR threshold and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs=2, default=(1, 6), help="seed range [first, last)")
    ap.add_argument("--durations", type=float, nargs="+", default=[12.0, 16.0, 20.0, 30.0])
    ap.add_argument("--psr", type=float, nargs="+", default=[6.0], help="PHAT_PRECISE_PSR values; first = baseline")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "anim400k" / "bench_sync_short")
    args = ap.parse_args()
    pairs: list[tuple[Path, Path, float | None, float]] = []
    seeds = range(*args.seeds)
    for d in args.durations:
        for seed in seeds:
            for offset, drift in CASES:
                media = episode(args.cache, seed, d, offset, drift)
                pairs.append((media, media, offset + (1 + drift) * d / 2, d / 2))
        # unrelated: JP of each seed against EN of the next seed's no-offset episode of the same length
        ordered = list(seeds)
        for seed, other in zip(ordered, ordered[1:] + ordered[:1], strict=True):
            if seed != other:
                pairs.append((episode(args.cache, seed, d, 0.0, 0.0), episode(args.cache, other, d, 0.0, 0.0),
                              None, d / 2))
    print(f"{len(pairs)} pairings: durations {args.durations}, seeds {list(seeds)}")
    print(f"{'PHAT_PRECISE_PSR':>17} | reliable (<= 5 ms) | confidently wrong | unrelated confident | vs baseline")
    base = None
    for psr in args.psr:
        reliable, wrong, related, unrelated = run(pairs, psr)
        base = base or max(reliable, 1)
        tag = " (baseline)" if psr == args.psr[0] else ""
        print(f"{psr:>17g} | {reliable:>8d} / {related:<7d} | {wrong:>17d} | {unrelated:>19d} | "
              f"{reliable / base:.2f}x{tag}")


if __name__ == "__main__":
    main()
