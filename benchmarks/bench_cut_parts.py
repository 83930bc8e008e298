"""Benchmark: where the cut stage's CPU goes, part by part, on one built episode (one thread).

Run: ``python benchmarks/bench_cut_parts.py WORK_DIR [--whole-only]`` where ``WORK_DIR`` is an episode's
work folder of a finished build (``OUT/work/SHOW/EPISODE``: ``probe.json``, ``clips.json``,
``separate.json``, ``backing.flac``; ``--whole-only``: only the whole cut stage). Each part of the cut runs
as the cut stage runs it, on one thread (``ANIM400K_THREADS=1``, ``OMP_NUM_THREADS=1``), into a temporary
release folder; the CPU seconds are this process's (``time.process_time``). Then the whole cut stage
(``cut_episode``) runs once, so the parts can be checked against it; the rest is the stage's own overhead
(JSON, file sizes).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("ANIM400K_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def timed(rows: list[tuple[str, float]], name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn``, add ``(name, CPU seconds)`` to ``rows``, return its result."""
    t = time.process_time()
    out = fn(*args, **kwargs)
    rows.append((name, time.process_time() - t))
    return out


def context(work: Path, release: Path) -> Any:
    """An :class:`EpisodeContext` over a copy of ``work`` writing into ``release`` (default options)."""
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import BuildOptions
    from anim400k.model import EpisodeRef

    probe = json.loads((work / "probe.json").read_text())
    ref = EpisodeRef("bench", "1", probe["ja"]["source"], probe["en"]["source"])
    return EpisodeContext(ref=ref, work_dir=str(work), release_dir=str(release), options=BuildOptions())


def parts(ctx: Any) -> list[tuple[str, float]]:
    """The cut's parts, one after the other, as ``_cut_media`` runs them; CPU seconds each."""
    import numpy as np

    from anim400k import media
    from anim400k.dataset.backing import release_backing
    from anim400k.dataset.cutting import RELEASE_AUDIO_SR as SR
    from anim400k.formats.ids import AUDIO_ARCHIVE, VIDEO_ARCHIVE, id_path

    rows: list[tuple[str, float]] = []
    clips, probe, root = ctx.clips(), ctx.read_json("probe.json"), Path(ctx.release_dir)
    jp_iv = [(c.jp_start, c.jp_end) for c in clips]
    src = probe["ja"]["source"]
    jp = timed(rows, "decode JP track at 44.1 kHz", media.decode_audio, src, stream=probe["ja"]["audio_index"], sr=SR)
    en = timed(rows, "decode EN track at 44.1 kHz", media.decode_audio, probe["en"]["source"],
               stream=probe["en"]["audio_index"], sr=SR)
    timed(rows, "  of which: decode alone (48 kHz, no resampling)", media.decode_audio, src,
          stream=probe["ja"]["audio_index"], sr=int(probe["ja"]["sample_rate"]))
    vpaths = [id_path(root, VIDEO_ARCHIVE, c.jp_clip, "mp4") for c in clips]
    timed(rows, "video clips (decode, scale, x264, AAC, mux)", media.cut_video_clips, src, jp_iv, vpaths,
          audio=(jp, SR), height=ctx.options.video_height, preset=ctx.options.video_preset)
    jpaths = [id_path(root, AUDIO_ARCHIVE, c.jp_clip, "mp3") for c in clips]
    timed(rows, "MP3: JP clips", media.cut_audio_clips, jp, SR, jp_iv, jpaths)
    epaths = [id_path(root, AUDIO_ARCHIVE, c.en_clip, "mp3") for c in clips]
    timed(rows, "MP3: EN clips", media.cut_audio_clips, en, SR, [(c.en_start, c.en_end) for c in clips], epaths)
    # the full-band backing, whole, then its parts apart
    backing = timed(rows, "full-band backing (release_backing)", release_backing, ctx, jp, en, SR, jp_iv)
    rows.extend(fullband_parts(ctx, jp, en, jp_iv))
    bpaths = [id_path(root, AUDIO_ARCHIVE, str(c.backing_clip), "mp3") for c in clips]
    timed(rows, "MP3: backing clips", media.cut_audio_clips, backing, SR, jp_iv, bpaths)
    # per-clip fixed cost of an MP3: the same audio as one file per clip against one file
    joined = np.concatenate([jp[int(round(a * SR)):int(round(b * SR))] for a, b in jp_iv])
    with tempfile.TemporaryDirectory() as tmp:
        timed(rows, "  MP3: the JP clips' audio as one file (no per-clip cost)", media.write_audio,
              Path(tmp) / "all.mp3", joined, SR)
    return rows


def fullband_parts(ctx: Any, jp: Any, en: Any, jp_iv: list[tuple[float, float]]) -> list[tuple[str, float]]:
    """The full-band backing's parts (cProfile of one more run, timed by CPU seconds): upsampling, STFTs,
    EM steps, ISTFT, the EN level gain (its own STFTs and EN pieces included)."""
    import cProfile
    import pstats

    from anim400k.dataset.backing import release_backing
    from anim400k.dataset.cutting import RELEASE_AUDIO_SR as SR

    prof = cProfile.Profile(time.process_time)
    prof.enable()
    release_backing(ctx, jp, en, SR, jp_iv)
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    want = {"upsample": "  backing: upsampling the 16 kHz estimate (soxr)",
            "_high_band_gain": "  backing: EN level gain (8 pieces)",
            "align_reference_piece": "  backing: EN piece mapped and resampled",
            "stft": "  backing: STFTs", "istft": "  backing: ISTFT",
            "common_component": "  backing: Wiener EM (common_component)"}
    out = []
    for (_file, _line, fn), (_cc, _nc, _tt, ct, _callers) in stats.items():
        if fn in want:
            out.append((want.pop(fn), ct))
    return out


def main() -> None:
    """Print the parts' CPU seconds and the whole stage's."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("work", type=Path)
    ap.add_argument("--whole-only", action="store_true", help="only the whole cut stage")
    args = ap.parse_args()
    from anim400k.dataset.cutting import cut_episode

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(args.work, work)
        ctx = context(work, Path(tmp) / "release")
        clips = ctx.clips()
        print(f"{len(clips)} clips, {sum(c.jp_end - c.jp_start for c in clips):.1f} s of JP clip audio; "
              f"load {os.getloadavg()[0]:.1f}")
        rows = [] if args.whole_only else parts(ctx)
        shutil.rmtree(ctx.release_dir, ignore_errors=True)
        timed(rows, "whole cut stage (cut_episode)", cut_episode, ctx)
    for name, cpu in rows:
        print(f"| {name} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
