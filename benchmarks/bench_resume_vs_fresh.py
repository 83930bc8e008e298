"""Re-runs checked against a fresh build: for each change, a re-run into an earlier build's folder (B) against a
fresh build of the changed inputs (C), every release file compared by SHA-256, and the stages B ran.

    python -m anim400k demo --out /tmp/ra-demo --episodes 2 --duration 20   # its inputs/ and manifest.yaml
    python benchmarks/bench_resume_vs_fresh.py /tmp/ra-demo /tmp/ra [CHANGE ...]

``ROOT/pristine`` holds a copy of the demo's inputs and manifest; ``ROOT/s`` the inputs each change edits (the
same paths for A, B and C); ``ROOT/A0`` (and ``ROOT/A_nb``, ``--no-backing-clips``) the build every change starts
from, copied (``cp -a``) to ``ROOT/B``. Builds use ``--asr-en vad --asr-ja vad --no-video-clips --jobs 1`` unless
the change is an option. Prints one line per change: exit codes, seconds, ``B==C`` and the stages re-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BASE = ["--asr-en", "vad", "--asr-ja", "vad", "--no-video-clips", "--jobs", "1", "--no-progress"]
ROOT = Path("/tmp/ra")
S = ROOT / "s"


def build(out: Path, opts: list[str]) -> tuple[int, dict[str, list[str]], float]:
    """Build ``ROOT/s/manifest.yaml`` into ``out``: exit code, the stages each episode ran, seconds."""
    t = time.time()
    p = subprocess.run([sys.executable, "-m", "anim400k", "build", str(S / "manifest.yaml"), "--out", str(out),
                        *opts], capture_output=True, text=True, check=False)
    rep = json.loads((out / "build_report.json").read_text())
    return p.returncode, {e["key"]: sorted(e.get("stage_seconds", {})) for e in rep["episodes"]}, time.time() - t


def release_files(out: Path) -> dict[str, str]:
    """SHA-256 of every release file (not the work folder, the catalog or the build report)."""
    skip = ("work/", "catalog.sqlite", "build_report.json", ".")
    return {f.relative_to(out).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(out.rglob("*")) if f.is_file() and not f.relative_to(out).as_posix().startswith(skip)}


def _edit(path: Path, old: str, new: str) -> Callable[[], None]:
    def edit() -> None:
        (S / path).write_text((S / path).read_text().replace(old, new))
    return edit


def _media_other() -> None:  # another episode's file cut to this one's size, its times put back (touch -r)
    p = S / "inputs/ep02/episode.mkv"
    st = p.stat()
    p.write_bytes((S / "inputs/ep01/episode.mkv").read_bytes()[: st.st_size])
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))


def _media_mtime() -> None:
    p = S / "inputs/ep02/episode.mkv"
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 3600 * 10**9))


def _add_episode() -> None:
    shutil.copytree(S / "inputs/ep02", S / "inputs/ep03", copy_function=shutil.copy2)
    with open(S / "manifest.yaml", "a", encoding="utf-8") as f:
        f.write("  - episode: '3'\n    media: inputs/ep03/episode.mkv\n    subtitles: inputs/ep03/episode.en.srt\n"
                "    truth: inputs/ep03/truth.json\n")


def _remove_episode() -> None:
    p = S / "manifest.yaml"
    p.write_text(re.sub(r"  - episode: '2'\n(    .*\n)+", "", p.read_text()))


def _release(name: str, how: str) -> Callable[[], None]:
    def damage() -> None:
        f = sorted((ROOT / "B/anim400k_audio_clips").rglob("*.mp3"))[3] if name == "mp3" \
            else ROOT / "B/anim400k_annotations.json"
        if how == "delete":
            f.unlink()
        else:
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    return damage


def _work(name: str) -> Callable[[], None]:
    def delete() -> None:
        (ROOT / "B/work/synthetic_show_s1/1" / name).unlink()
    return delete


#: change -> (edit between A and B, B's and C's options, the base build)
CHANGES: dict[str, tuple[Callable[[], None] | None, list[str], str]] = {
    "nothing": (None, BASE, "A0"),
    "subtitle text": (_edit(Path("inputs/ep01/episode.en.srt"), "It's a promise.", "It's a vow, ok."), BASE, "A0"),
    "subtitle timing": (_edit(Path("inputs/ep01/episode.en.srt"), "00:00:06,264 --> 00:00:07,616",
                              "00:00:06,364 --> 00:00:07,516"), BASE, "A0"),
    "media other, same size+mtime": (_media_other, BASE, "A0"),
    "media mtime only": (_media_mtime, BASE, "A0"),
    "episode removed": (_remove_episode, BASE, "A0"),
    "episode added": (_add_episode, BASE, "A0"),
    "show title, genre": (_edit(Path("inputs/show.json"), '"Fantasy"', '"Comedy"'), BASE, "A0"),
    "episode number": (_edit(Path("manifest.yaml"), "episode: '2'", "episode: '5'"), BASE, "A0"),
    "--video-height": (None, [*BASE[:4], "--jobs", "1", "--no-progress", "--video-height", "144"], "A0"),
    "--no-backing-clips -> on": (None, BASE, "A_nb"),
    "--frames-fps": (None, [*BASE, "--frames-fps", "0.5"], "A0"),
    "--asr-en vad -> auto": (None, BASE[2:], "A0"),
    "--tolerance-ms": (None, [*BASE, "--tolerance-ms", "300"], "A0"),
    "MP3 deleted": (_release("mp3", "delete"), BASE, "A0"),
    "MP3 truncated": (_release("mp3", "truncate"), BASE, "A0"),
    "annotations deleted": (_release("annotations", "delete"), BASE, "A0"),
    "annotations truncated": (_release("annotations", "truncate"), BASE, "A0"),
    "work sync.json deleted": (_work("sync.json"), BASE, "A0"),
    "work backing.flac deleted": (_work("backing.flac"), BASE, "A0"),
}


def main(demo: Path, root: Path, names: list[str]) -> None:
    global ROOT, S
    ROOT, S = root, root / "s"
    if not (root / "pristine").exists():
        (root / "pristine").mkdir(parents=True)
        shutil.copytree(demo / "inputs", root / "pristine/inputs", copy_function=shutil.copy2)
        shutil.copy2(demo / "manifest.yaml", root / "pristine/manifest.yaml")
    for base, opts in (("A0", BASE), ("A_nb", [*BASE, "--no-backing-clips"])):
        if not (root / base).exists():
            shutil.rmtree(S, ignore_errors=True)
            shutil.copytree(root / "pristine", S, copy_function=shutil.copy2)
            build(root / base, opts)
    for name in names or list(CHANGES):
        edit, opts, base = CHANGES[name]
        for folder in (S, root / "B", root / "C"):
            shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(root / "pristine", S, copy_function=shutil.copy2)
        subprocess.run(["cp", "-a", str(root / base), str(root / "B")], check=True)
        if edit is not None:
            edit()
        rc_b, ran, sec_b = build(root / "B", opts)
        rc_c, _, sec_c = build(root / "C", opts)
        fb, fc = release_files(root / "B"), release_files(root / "C")
        same = fb == fc
        print(f"{name}: exit B {rc_b} C {rc_c}, B {sec_b:.0f} s C {sec_c:.0f} s, B==C {same} "
              f"({len(fb)}/{len(fc)} files), re-run {json.dumps({k: v for k, v in ran.items() if v})}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
