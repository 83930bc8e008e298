"""Check a release, its exports and RTTM files with the formats' own tools, not anim400k's code.

    PYTHONPATH=src python benchmarks/check_conformance.py RELEASE [--exports DIR] [--rttm F.rttm ...]

* every clip MP3/MP4 of ``RELEASE``: ``ffmpeg -v error -i F -f null -`` prints nothing (imageio-ffmpeg's
  binary); the samples the ``ffmpeg`` binary and PyAV decode are equal (the LAME tag's gapless trim) and
  match the annotations' times (MP3s to the sample, MP4 video within a frame); the LAME tag's CRC-16 is the
  one LAME writes (the frame up to the CRC field), which FFmpeg's demuxer checks;
* ``--exports DIR`` (holding ``parquet``, ``hf``, ``lhotse``, ``webdataset`` exports, as
  ``anim400k export RELEASE --format F --out DIR/F`` writes them): ``pyarrow.parquet.read_table``,
  ``datasets.load_from_disk`` (an MP3 decoded), Lhotse's ``CutSet.from_file`` with ``lhotse.qa.validate``
  (audio read), ``webdataset.WebDataset`` (every MP3 decoded by PyAV);
* ``--rttm``: ``pyannote.database.util.load_rttm`` and the NIST fields (10, ``SPEAKER``, channel 1,
  ``<NA>`` where the spec has no value, durations > 0).

Prints one line per check and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import av
import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def _seconds(ts: str) -> float:
    h, m, s = ts.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _ffmpeg_errors(path: Path) -> str:
    run = subprocess.run([FFMPEG, "-hide_banner", "-v", "error", "-i", str(path), "-f", "null", "-"],
                         capture_output=True, text=True)
    return (run.stdout + run.stderr).strip()


def _ffmpeg_samples(path: Path) -> int:
    pcm = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-f", "s16le", "-"],
                         capture_output=True).stdout
    return len(pcm) // 2


def _pyav_samples(data: Path | bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(data) if isinstance(data, bytes) else str(data)) as c:
        st = c.streams.audio[0]
        return sum(f.samples for f in c.decode(st)), st.rate


def _crc16_arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _lame_crc_ok(path: Path) -> bool:
    """Whether the LAME tag's CRC-16 covers the Info frame from its header up to the CRC field (LAME's rule)."""
    data = path.read_bytes()[:4096]
    start = 0
    if data[:3] == b"ID3":
        start = 10 + (data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9])
    tag = max(data.find(b"Info", start), data.find(b"Xing", start))
    flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
    lame = tag + 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    return int.from_bytes(data[lame + 34 : lame + 36], "big") == _crc16_arc(data[start : lame + 34])


def check_media(root: Path) -> list[str]:
    """The clip files of the release at ``root`` against the annotations (module docstring)."""
    ann = json.loads((root / "anim400k_annotations.json").read_text(encoding="utf-8"))
    problems: list[str] = []
    worst = {"mp3": 0.0, "mp4": 0.0}
    n_mp3 = n_mp4 = 0
    for show in ann.values():
        for ep in show["episodes"].values():
            for clip in ep["clips"]:
                jp = _seconds(clip["jp_end_time"]) - _seconds(clip["jp_start_time"])
                en = _seconds(clip["en_end_time"]) - _seconds(clip["en_start_time"])
                wanted = [(clip["jp_clip"], jp), (clip["en_clip"], en)]
                if clip.get("backing_clip"):
                    wanted.append((clip["backing_clip"], jp))
                for cid, length in wanted:
                    path = root / "anim400k_audio_clips" / f"{cid}.mp3"
                    n_mp3 += 1
                    if err := _ffmpeg_errors(path):
                        problems.append(f"{path}: ffmpeg: {err[:120]}")
                    samples, rate = _pyav_samples(path)
                    if (ff := _ffmpeg_samples(path)) != samples:
                        problems.append(f"{path}: ffmpeg decodes {ff} samples, PyAV {samples}")
                    worst["mp3"] = max(worst["mp3"], abs(samples / rate - length))
                    if abs(samples / rate - length) > 1.5 / rate:
                        problems.append(f"{path}: {samples / rate:.4f} s, annotations {length:.4f} s")
                    if not _lame_crc_ok(path):
                        problems.append(f"{path}: LAME tag CRC is not LAME's")
                video = root / "anim400k_video_clips" / f"{clip['jp_clip']}.mp4"
                if not video.exists():
                    continue
                n_mp4 += 1
                if err := _ffmpeg_errors(video):
                    problems.append(f"{video}: ffmpeg: {err[:120]}")
                with av.open(str(video)) as c:
                    vs = c.streams.video[0]
                    fps = float(vs.average_rate)
                    frames = sum(1 for _ in c.decode(vs))
                worst["mp4"] = max(worst["mp4"], abs(frames / fps - jp))
                if abs(frames / fps - jp) > 1 / fps + 1e-6:
                    problems.append(f"{video}: {frames} frames at {fps} fps, annotations {jp:.3f} s")
    print(f"media: {n_mp3} MP3, {n_mp4} MP4; worst |decoded - annotations|: MP3 {worst['mp3'] * 1000:.2f} ms, "
          f"MP4 video {worst['mp4'] * 1000:.1f} ms; {len(problems)} problem(s)")
    return problems


def check_exports(root: Path, exports: Path) -> list[str]:
    """Each export under ``exports`` loaded by its own library (module docstring)."""
    problems: list[str] = []
    ann = json.loads((root / "anim400k_annotations.json").read_text(encoding="utf-8"))
    n = sum(len(ep["clips"]) for show in ann.values() for ep in show["episodes"].values())
    import pyarrow.parquet as pq

    table = pq.read_table(exports / "parquet" / "clips.parquet")
    print(f"parquet: {table.num_rows} clips, columns {', '.join(table.schema.names)}")
    problems += [f"parquet: {table.num_rows} rows, release {n}"] if table.num_rows != n else []
    import datasets

    ds = datasets.load_from_disk(str(exports / "hf"))
    raw = ds.cast_column("jp_audio", datasets.Audio(decode=False))[0]["jp_audio"]["bytes"]
    print(f"hf: {ds.num_rows} rows, first JP MP3 decodes to {_pyav_samples(raw)[0]} samples")
    problems += [f"hf: {ds.num_rows} rows, release {n}"] if ds.num_rows != n else []
    from lhotse import CutSet
    from lhotse.qa import validate

    cuts = CutSet.from_file(exports / "lhotse" / "cuts.jsonl.gz")
    validate(cuts, read_data=True)
    print(f"lhotse: {len(cuts)} cuts valid (lhotse.qa.validate, audio read)")
    problems += [f"lhotse: {len(cuts)} cuts, release {2 * n}"] if len(cuts) != 2 * n else []
    import webdataset as wds

    shards = sorted(glob.glob(str(exports / "webdataset" / "*.tar")))
    samples = 0
    for sample in wds.WebDataset(shards, shardshuffle=False):
        samples += 1
        _pyav_samples(sample["jp.mp3"])
        _pyav_samples(sample["en.mp3"])
        json.loads(sample["json"])
    print(f"webdataset: {samples} samples, every MP3 decoded")
    problems += [f"webdataset: {samples} samples, release {n}"] if samples != n else []
    return problems


def check_rttm(paths: list[Path]) -> list[str]:
    """RTTM files by pyannote and the NIST field rules."""
    from pyannote.database.util import load_rttm

    problems = []
    for path in paths:
        tracks = sum(len(list(a.itertracks())) for a in load_rttm(str(path)).values())
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            f = line.split()
            ok = (len(f) == 10 and f[0] == "SPEAKER" and f[2] == "1" and f[5] == f[6] == f[9] == "<NA>"
                  and float(f[3]) >= 0 and float(f[4]) > 0 and (f[8] == "<NA>" or 0 <= float(f[8]) <= 1))
            if not ok:
                problems.append(f"{path}: line {no}: {line!r}")
        print(f"rttm: {path}: {tracks} turns read by pyannote")
    return problems


def main() -> int:
    """Run the checks the arguments ask for; exit 1 if any failed."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("release", type=Path)
    ap.add_argument("--exports", type=Path)
    ap.add_argument("--rttm", type=Path, nargs="*", default=[])
    args = ap.parse_args()
    problems = check_media(args.release)
    if args.exports:
        problems += check_exports(args.release, args.exports)
    problems += check_rttm(args.rttm)
    for p in problems[:40]:
        print("PROBLEM", re.sub(r"\s+", " ", p))
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
