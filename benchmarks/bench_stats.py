"""Benchmark: ``anim400k stats`` on a synthetic 100k-clip annotations file.

Generates the file (streamed with ``write_annotations``), then runs, each in a fresh
subprocess: (a) the baseline, ``json.load`` of the whole file; (b) iterating
``load(path).clips()`` (the streamed typed reader alone, what exports use); (c)
``compute_stats`` in one process (``jobs=1``); (d) ``compute_stats`` with its default jobs
(worker processes count the clip texts on a file this large), each the fastest of
``--repeat`` runs. Prints wall time, CPU time (the process and its workers: the steadier
figure on a shared machine) and peak RSS (the main process; the largest worker's after
"+") of each, and the ratios to the baseline.

    .venv/bin/python benchmarks/bench_stats.py [--clips 100000] [--shows 100] [--keep FILE] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JP = [
    "今日はいい天気ですね。",
    "行こう！",
    "本当に？",
    "ありがとうございます。",
    "待って",
    "大丈夫だよ。",
    "何をしているの？",
]
EN = [
    "It's a nice day.",
    "Let's go!",
    "Really?",
    "Thank you very much.",
    "Wait",
    "It's okay.",
    "What are you doing?",
]


def generate(path: Path, n_clips: int, n_shows: int, seed: int = 0) -> None:
    """Write a synthetic annotations file with ``n_clips`` clips over ``n_shows`` shows."""
    from anim400k.formats import ids
    from anim400k.release import write_annotations

    rng = random.Random(seed)
    per_show = n_clips // n_shows
    eps_per_show = 10

    def ts(s: float) -> str:
        ms = round(s * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    def clips(show: str, ep: str, n: int):
        t = 0.0
        for _ in range(n):
            t += rng.uniform(0.5, 4.0)
            d = rng.uniform(0.5, 8.0)
            k = rng.randint(1, 4)
            spk = [f"spk{rng.randint(0, 5)}" for _ in range(rng.randint(1, 2))]
            yield {
                "jp_clip": ids.clip_id(show, ep, "jp", t, t + d),
                "en_clip": ids.clip_id(show, ep, "en", t, t + d),
                "jp_text": "".join(rng.choice(JP) for _ in range(k)),
                "en_text": " ".join(rng.choice(EN) for _ in range(k)),
                "jp_start_time": ts(t),
                "jp_end_time": ts(t + d),
                "en_start_time": ts(t + 0.2),
                "en_end_time": ts(t + d + 0.2),
                "speakers": spk,
                "en_subtitles": [{"start": ts(t), "end": ts(t + d), "text": rng.choice(EN)}],
                "multi_speaker": len(set(spk)) > 1,
                "mixing_ratio": round(rng.random(), 3),
            }
            t += d

    def episodes(show: str):
        for e in range(eps_per_show):
            meta = {
                "url": f"https://example.org/{show}/{e + 1}",
                "ratings": {
                    str(s): {"ratio": 20.0, "number_of_voters": rng.randint(0, 50)} for s in range(1, 6)
                },
                "synopsis": "An episode where things happen and people talk.",
            }
            yield str(e + 1), meta, clips(show, str(e + 1), per_show // eps_per_show)

    def shows():
        for s in range(n_shows):
            key = f"show{s:04d}"
            meta = {
                "show": f"Show {s}",
                "genres": rng.sample(
                    ["Action", "Comedy", "Drama", "Fantasy", "Romance", "Sci-Fi"], rng.randint(1, 4)
                ),
                "themes": rng.sample(["School", "Space", "Music", "Mecha"], rng.randint(0, 3)),
                "synopsis": "A show about things.",
                "characters": {f"C{i}": {"description": "A character.", "role": "main"} for i in range(5)},
            }
            yield key, meta, episodes(key)

    write_annotations(path, shows())


CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
t, c = time.perf_counter(), time.process_time()
jobs = None
if mode == "json":
    with open(path, "rb") as f:
        data = json.load(f)
    n = sum(len(e["clips"]) for s in data.values() for e in s["episodes"].values())
elif mode == "read":
    from anim400k.release import load
    n = sum(1 for _ in load(path).clips())
else:
    from anim400k.release import load
    from anim400k.stats import compute_stats, default_jobs
    jobs = 1 if mode == "stats1" else default_jobs(load(path))
    n = compute_stats(path, jobs=jobs)["clips"]
dt, cpu = time.perf_counter() - t, time.process_time() - c
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": dt, "cpu": cpu + kids.ru_utime + kids.ru_stime, "main_cpu": cpu, "clips": n, "jobs": jobs,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_rss_mb": kids.ru_maxrss / 1024}))
"""


def run_child(mode: str, path: Path, repeat: int = 1) -> dict:
    """Run one measurement in a fresh interpreter ``repeat`` times; return the fastest report."""
    runs = []
    for _ in range(max(1, repeat)):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(path)], check=True, capture_output=True, text=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    """Generate, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--shows", type=int, default=100)
    ap.add_argument("--keep", type=Path, default=None, help="Write the annotations here and keep them.")
    ap.add_argument("--repeat", type=int, default=3, help="Runs per measurement; the fastest is reported.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "anim400k_annotations.json"
        t = time.perf_counter()
        generate(path, args.clips, args.shows)
        gen_s = time.perf_counter() - t
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.clips} clips / {args.shows} shows: {size_mb:.1f} MB in {gen_s:.1f} s")
        base = run_child("json", path, args.repeat)
        rd = run_child("read", path, args.repeat)
        st1 = run_child("stats1", path, args.repeat)
        st = run_child("stats", path, args.repeat)
    rows = (
        ("baseline json.load", base),
        ("load().clips() only", rd),
        ("stats, jobs=1", st1),
        (f"stats, jobs={st['jobs']} (default)", st),
    )
    for name, r in rows:
        rss = f"{r['peak_rss_mb']:.0f} MB" + (f" + {r['worker_rss_mb']:.0f} MB" if r["worker_rss_mb"] else "")
        split = f" (main {r['main_cpu']:.2f} s)" if r["worker_rss_mb"] else ""
        print(f"{name + ':':28s}{r['seconds']:6.2f} s wall, {r['cpu']:6.2f} s CPU{split}, peak RSS {rss} "
              f"({r['clips']} clips)")
    for name, r in rows[1:]:
        print(
            f"ratio {name}/baseline: time {r['seconds'] / base['seconds']:.2f}x, "
            f"CPU {r['cpu'] / base['cpu']:.2f}x, peak RSS {r['peak_rss_mb'] / base['peak_rss_mb']:.2f}x"
        )


if __name__ == "__main__":
    main()
