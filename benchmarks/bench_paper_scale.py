"""Paper-scale build without audio: annotations for ~3,500 episodes from given transcripts.

Generates, episode by episode (streaming, nothing kept), transcripts shaped like the
paper's corpus (about 1.7M JP and 1.2M EN ASR segments in 3,500 24-minute episodes, plus
EN subtitles), then times the audio-free part of the build exactly as the pipeline runs it:

- alignment (``align.align_clips``: the recursive 125 ms merge and the Clip objects),
- subtitle attachment (``align.subtitles_overlapping`` on each episode's clips),
- annotation writing (``formats.release.write_annotations``, streamed),
- statistics (``stats.compute_stats`` on the written annotations file).

Prints seconds per phase, the whole, peak RSS, and the ratios against the goal
(2 minutes, 4 GB). Run: ``.venv/bin/python benchmarks/bench_paper_scale.py [--episodes 3500]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from anim400k.align import align_clips, subtitles_overlapping
from anim400k.formats.release import clip_to_release_dict, write_annotations
from anim400k.model import Segment, Subtitle

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
    en_start = jp_start[en_idx] + rng.normal(0, 0.15, en_idx.size)
    en_len = jp_len[en_idx] * rng.uniform(0.7, 1.6, en_idx.size)
    vocab_j, vocab_e = np.array(KANA), np.array(EN_WORDS)

    def jp_text() -> str:
        return "".join(rng.choice(vocab_j, rng.integers(2, 5))) + "。"

    def en_text() -> str:
        return " ".join(rng.choice(vocab_e, rng.integers(3, 9))).capitalize() + "."

    jp = [Segment(float(s), float(s + d), jp_text()) for s, d in zip(jp_start, jp_len, strict=True)]
    en = [Segment(float(max(s, 0)), float(max(s, 0) + d), en_text()) for s, d in zip(en_start, en_len, strict=True)]
    subs = [Subtitle(float(s), float(s + d), en_text()) for s, d in zip(jp_start[::2], jp_len[::2] * 2, strict=True)]
    return jp, en, subs


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=3500)
    ap.add_argument("--jp-segments", type=int, default=1_700_000)
    ap.add_argument("--en-segments", type=int, default=1_200_000)
    ap.add_argument("--out", type=Path, default=None, help="folder for the annotations file (default: temp)")
    args = ap.parse_args()
    per_jp = args.jp_segments // args.episodes
    per_en = args.en_segments // args.episodes
    t = {"generate": 0.0, "alignment": 0.0, "subtitles": 0.0, "writing": 0.0}
    counts = {"jp": 0, "en": 0, "clips": 0}
    rng = np.random.default_rng(0)

    def clips_of(ep: int) -> Iterator[dict]:
        t0 = time.perf_counter()
        jp, en, subs = episode_segments(rng, per_jp, per_en)
        t1 = time.perf_counter()
        clips = align_clips(en, jp)
        t2 = time.perf_counter()
        starts = np.array([c.jp_start for c in clips])
        ends = np.array([c.jp_end for c in clips])
        ss = np.array([s.start for s in subs])
        se = np.array([s.end for s in subs])
        for c, idx in zip(clips, subtitles_overlapping(starts, ends, ss, se), strict=True):
            c.en_subtitles = [subs[i] for i in idx]
        t3 = time.perf_counter()
        t["generate"] += t1 - t0
        t["alignment"] += t2 - t1
        t["subtitles"] += t3 - t2
        counts["jp"] += len(jp)
        counts["en"] += len(en)
        counts["clips"] += len(clips)
        for c in clips:
            yield clip_to_release_dict(c)

    def episodes(show: int) -> Iterator[tuple]:
        for ep in range(20):
            k = show * 20 + ep
            if k < args.episodes:
                yield str(ep + 1), {"synopsis": "An episode."}, clips_of(k)

    def shows() -> Iterator[tuple]:
        for show in range((args.episodes + 19) // 20):
            yield f"show_{show:04d}", {"show": f"Show {show}", "genres": ["Action"], "themes": ["School"]}, \
                episodes(show)

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        path = out / "anim400k_annotations.json"
        t0 = time.perf_counter()
        write_annotations(path, shows())
        total_stream = time.perf_counter() - t0
        t["writing"] += total_stream - t["generate"] - t["alignment"] - t["subtitles"]
        size_mb = path.stat().st_size / 1e6
        from anim400k.stats import compute_stats

        t0 = time.perf_counter()
        stats = compute_stats(path)
        t["statistics"] = time.perf_counter() - t0
    build = t["alignment"] + t["subtitles"] + t["writing"] + t["statistics"]
    rss = peak_rss_gb()
    print(f"episodes {args.episodes}, JP segments {counts['jp']:,}, EN segments {counts['en']:,}, "
          f"clips {counts['clips']:,}, annotations {size_mb:.0f} MB, stats clips {stats.get('clips')}")
    for k in ("alignment", "subtitles", "writing", "statistics"):
        print(f"  {k:<11} {t[k]:8.1f} s")
    print(f"  (input generation, not counted: {t['generate']:.1f} s)")
    print(f"total {build:.1f} s; peak RSS {rss:.2f} GB")
    print(f"vs goal (120 s, 4 GB): time {build / 120:.2f}x of the budget, memory {rss / 4:.2f}x of the budget")


if __name__ == "__main__":
    main()
