"""The driver shared by ``bench_asr_ja_cost.py`` and ``bench_asr_en_cost.py``: candidates in fresh processes.

Each candidate runs as ``python SCRIPT EPISODES --child NAME [--seconds N]`` in a process of its own (CTranslate2
reads its environment once per process), printing one JSON line ``{"results": [...]}``, one dict per episode with
``episode``, ``cpu``, ``wall``, ``windows``, ``hyp`` and the script's quality figure. :func:`compare` runs the
named ``baseline`` and the candidates ``rounds`` times in turn and prints each one's CPU ratio to the baseline of
the same round, per episode and in total, with ``*`` where a text differs from the baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def parse_args(description: str, candidates: list[str]) -> argparse.Namespace:
    """The command line both benchmarks take: episode folders (each a synthetic episode: ``episode.mkv`` and
    ``truth.json``), ``--candidates`` (of ``candidates``; default all), ``--rounds``, ``--seconds`` and the hidden
    ``--child NAME`` a spawned candidate runs with."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("episodes", nargs="+", type=Path)
    ap.add_argument("--candidates", nargs="+", default=candidates, choices=candidates)
    ap.add_argument("--rounds", type=int, default=1, help="run the list this many times in turn")
    ap.add_argument("--seconds", type=float, default=None, help="only the first N seconds of each track")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    for ep in args.episodes:
        if not (ep / "episode.mkv").is_file() or not (ep / "truth.json").is_file():
            raise SystemExit(f"{ep}: not a synthetic episode (needs episode.mkv and truth.json)")
    return args


def spawn(script: str, name: str, episodes: list[Path], seconds: float | None,
          env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The per-episode results of candidate ``name`` of ``script``, run in a fresh process (``env`` added)."""
    cmd = [sys.executable, script, *map(str, episodes), "--child", name]
    if seconds:
        cmd += ["--seconds", str(seconds)]
    proc = subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"candidate {name} failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
    return json.loads(lines[-1])["results"]


def compare(script: str, candidates: list[str], episodes: list[Path], seconds: float | None, rounds: int,
            quality: str, envs: Mapping[str, Mapping[str, str]] | None = None) -> None:
    """Run ``baseline`` and ``candidates`` ``rounds`` times in turn and print CPU ratios and ``quality``
    (the results' key, printed upper-case: ``cer``, ``wer``) per episode, then the median ratios."""
    envs = envs or {}
    ratios: dict[str, list[float]] = {}
    for r in range(rounds):
        base = spawn(script, "baseline", episodes, seconds, envs.get("baseline"))
        print(f"round {r + 1} (load {os.getloadavg()[0]:.1f})")
        for name in ["baseline", *candidates]:
            res = base if name == "baseline" else spawn(script, name, episodes, seconds, envs.get(name))
            cpu, bcpu = sum(e["cpu"] for e in res), sum(e["cpu"] for e in base)
            ratios.setdefault(name, []).append(cpu / bcpu)
            per = "  ".join(f"{Path(e['episode']).name}: {e['windows']}w {e['cpu']:.1f} CPU-s "
                            f"x{e['cpu'] / b['cpu']:.2f} {e['wall']:.1f} s {quality.upper()} {e[quality]:.4f}"
                            f"{'' if e['hyp'] == b['hyp'] else '*'}"
                            for e, b in zip(res, base, strict=True))
            print(f"  {name:<17} total {cpu:6.1f} CPU-s x{cpu / bcpu:.2f} | {per}", flush=True)
    if rounds > 1:
        print("median CPU ratio to the baseline: " + ", ".join(
            f"{n} x{sorted(v)[len(v) // 2]:.2f}" for n, v in ratios.items() if n != "baseline"))
    print("(* = text differs from the baseline's)")
