"""Paper-scale build without audio: annotations for ~3,500 episodes from given transcripts.

Generates, episode by episode (streaming, nothing kept), transcripts shaped like the
paper's corpus (about 1.7M JP and 1.2M EN ASR segments in 3,500 24-minute episodes, plus
EN subtitles), then times the audio-free part of the build exactly as the pipeline runs it:

- alignment (``align.align_clips``: the recursive 125 ms merge and the Clip objects),
- subtitle attachment (``align.overlapping_flat``, what ``align_clips`` does with its
  ``subtitles`` argument, on each episode's clips),
- ids (the align stage's per-clip media IDs, ``formats.ids.clip_id``, and speaker fields),
- annotation writing (``release.clip_to_release_dict`` + ``write_annotations``, streamed),
- statistics (``stats.compute_stats`` on the written annotations file, its default jobs).

Prints wall and CPU seconds per phase (statistics' CPU includes its worker processes; the
machine is shared, so CPU time is the steadier figure), the whole, peak RSS of the main
process and of the largest statistics worker, and the ratios against the goal (2 minutes,
4 GB). Run: ``.venv/bin/python benchmarks/bench_paper_scale.py [--episodes 3500]``; fewer
episodes scale the segment counts down with them.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from anim400k.align import align_clips, overlapping_flat
from anim400k.formats.ids import clip_id
from anim400k.model import Segment, Subtitle
from anim400k.release import clip_to_release_dict, write_annotations

PAPER_EPISODES, PAPER_JP, PAPER_EN = 3500, 1_700_000, 1_200_000
KANA = ["わたし", "あなた", "きょう", "ここ", "いく", "みる", "たべる", "ともだち", "がっこう", "はい", "いいえ",
        "すごい", "だめ", "まって", "ほんとう", "なに", "どこ", "いつ", "かえる", "まち"]
EN_WORDS = ["i", "you", "we", "go", "see", "there", "today", "friend", "school", "yes", "no", "wait", "really",
            "what", "where", "when", "home", "town", "now", "come", "back", "think", "know", "right"]


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def episode_segments(rng: np.random.Generator, n_jp: int, n_en: int, duration: float = 1440.0
                     ) -> tuple[list[Segment], list[Segment], list[Subtitle]]:
    """Random but realistic segments: JP lines, EN lines near them, subtitles over the JP lines."""
    jp_start = np.sort(rng.uniform(0, duration - 5, n_jp))
    jp_len = rng.gamma(2.0, 0.6, n_jp) + 0.2
    en_idx = np.sort(rng.choice(n_jp, size=min(n_en, n_jp), replace=False))
    en_start = np.maximum(jp_start[en_idx] + rng.normal(0, 0.15, en_idx.size), 0.0)
    en_len = jp_len[en_idx] * rng.uniform(0.7, 1.6, en_idx.size)
    sub_start, sub_len = jp_start[::2], jp_len[::2] * 2

    def texts(vocab: list[str], n: int, lo: int, hi: int, sep: str, end: str, cap: bool) -> list[str]:
        # all random draws at once (per-text rng calls would dominate the generation time)
        words = rng.integers(0, len(vocab), (n, hi - 1)).tolist()
        counts = rng.integers(lo, hi, n).tolist()
        out = [sep.join([vocab[w] for w in ws[:k]]) + end for ws, k in zip(words, counts, strict=True)]
        return [t.capitalize() for t in out] if cap else out

    jp_t = texts(KANA, n_jp, 2, 5, "", "。", False)
    en_t = texts(EN_WORDS, en_idx.size, 3, 9, " ", ".", True)
    sub_t = texts(EN_WORDS, sub_start.size, 3, 9, " ", ".", True)
    jp = [Segment(s, s + d, t) for s, d, t in zip(jp_start.tolist(), jp_len.tolist(), jp_t, strict=True)]
    en = [Segment(s, s + d, t) for s, d, t in zip(en_start.tolist(), en_len.tolist(), en_t, strict=True)]
    subs = [Subtitle(s, s + d, t) for s, d, t in zip(sub_start.tolist(), sub_len.tolist(), sub_t, strict=True)]
    return jp, en, subs


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=3500)
    ap.add_argument("--jp-segments", type=int, default=None,
                    help="JP segments in all (default: the paper's 1.7M, scaled to --episodes of 3,500)")
    ap.add_argument("--en-segments", type=int, default=None,
                    help="EN segments in all (default: the paper's 1.2M, scaled to --episodes of 3,500)")
    ap.add_argument("--out", type=Path, default=None, help="folder for the annotations file (default: temp)")
    ap.add_argument("--jobs", type=int, default=None, help="compute_stats jobs (default: automatic)")
    args = ap.parse_args()
    if args.jp_segments is None:
        args.jp_segments = round(PAPER_JP * args.episodes / PAPER_EPISODES)
    if args.en_segments is None:
        args.en_segments = round(PAPER_EN * args.episodes / PAPER_EPISODES)
    per_jp = args.jp_segments // args.episodes
    per_en = args.en_segments // args.episodes
    phases = ("alignment", "subtitles", "ids", "writing", "statistics")
    wall = dict.fromkeys(("generate", *phases), 0.0)
    cpu = dict.fromkeys(("generate", *phases), 0.0)
    counts = {"jp": 0, "en": 0, "clips": 0}
    rng = np.random.default_rng(0)

    def tick() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def add(phase: str, t0: tuple[float, float], t1: tuple[float, float]) -> None:
        wall[phase] += t1[0] - t0[0]
        cpu[phase] += t1[1] - t0[1]

    def clips_of(show: str, ep: str) -> Iterator[dict]:
        t0 = tick()
        jp, en, subs = episode_segments(rng, per_jp, per_en)
        t1 = tick()
        clips = align_clips(en, jp)
        t2 = tick()
        # what align_clips does with its subtitles argument (the pipeline passes them there)
        starts = np.array([c.jp_start for c in clips])
        ends = np.array([c.jp_end for c in clips])
        ss = np.array([s.start for s in subs])
        se = np.array([s.end for s in subs])
        idx, bounds = overlapping_flat(starts, ends, ss, se)
        attached, b = [subs[i] for i in idx.tolist()], bounds.tolist()
        for k, c in enumerate(clips):
            c.en_subtitles = attached[b[k]:b[k + 1]]
        t3 = tick()
        # what the align stage adds: media IDs, speakers (synthetic: 1-2 per clip), mixing ratio
        for k, c in enumerate(clips):
            c.speakers = ["spk0", "spk1"] if k % 4 == 0 else ["spk0"]
            c.multi_speaker = len(c.speakers) > 1
            c.mixing_ratio = 0.5
            c.jp_clip = clip_id(show, ep, "jp", c.jp_start, c.jp_end)
            c.en_clip = clip_id(show, ep, "en", c.en_start, c.en_end)
        t4 = tick()
        add("generate", t0, t1)
        add("alignment", t1, t2)
        add("subtitles", t2, t3)
        add("ids", t3, t4)
        counts["jp"] += len(jp)
        counts["en"] += len(en)
        counts["clips"] += len(clips)
        for c in clips:
            yield clip_to_release_dict(c)

    def episodes(show: int) -> Iterator[tuple]:
        for ep in range(20):
            k = show * 20 + ep
            if k < args.episodes:
                yield str(ep + 1), {"synopsis": "An episode."}, clips_of(f"show_{show:04d}", str(ep + 1))

    def shows() -> Iterator[tuple]:
        for show in range((args.episodes + 19) // 20):
            yield f"show_{show:04d}", {"show": f"Show {show}", "genres": ["Action"], "themes": ["School"]}, \
                episodes(show)

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        path = out / "anim400k_annotations.json"
        t0 = tick()
        write_annotations(path, shows())
        t1 = tick()
        add("writing", t0, t1)
        for k in ("generate", "alignment", "subtitles", "ids"):  # the writer's own share is the rest
            wall["writing"] -= wall[k]
            cpu["writing"] -= cpu[k]
        rss_build = peak_rss_gb()
        size_mb = path.stat().st_size / 1e6
        from anim400k.release import load
        from anim400k.stats import MAX_WORKERS, compute_stats, default_jobs

        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = tick()
        jobs = args.jobs or default_jobs(load(path))
        stats = compute_stats(path, jobs=jobs)
        t1 = tick()
        add("statistics", t0, t1)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = children.ru_utime + children.ru_stime - children0.ru_utime - children0.ru_stime
        cpu["statistics"] += child_cpu
    rss = peak_rss_gb()
    rss_child = children.ru_maxrss / 1024**2
    build = sum(wall[k] for k in phases)
    workers = min(jobs - 1, MAX_WORKERS)
    print(f"episodes {args.episodes:,}, JP segments {counts['jp']:,}, EN segments {counts['en']:,}, "
          f"clips {counts['clips']:,}, annotations {size_mb:.0f} MB, stats clips {stats.get('clips'):,}")
    print(f"  {'phase':<11} {'wall':>8} {'CPU':>8}")
    for k in phases:
        print(f"  {k:<11} {wall[k]:7.1f}s {cpu[k]:7.1f}s")
    print(f"  (input generation, not counted: {wall['generate']:.1f} s)")
    print(f"  (statistics: jobs={jobs}, {child_cpu:.1f} s of its CPU in {workers} worker process(es))")
    print(f"total {build:.1f} s wall, {sum(cpu[k] for k in phases):.1f} s CPU; peak RSS: build {rss_build:.2f} GB, "
          f"after statistics {rss:.2f} GB, largest worker {rss_child:.2f} GB")
    mem = rss + rss_child * workers
    print(f"vs goal (120 s, 4 GB): time {build / 120:.2f}x of the budget, "
          f"memory (main + workers) {mem:.2f} GB = {mem / 4:.2f}x of the budget")


if __name__ == "__main__":
    main()
