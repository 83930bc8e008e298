"""A dubbed file checked against delivery norms with tools other than the dub's own (docs/dubbing.md).

``python benchmarks/check_dub_delivery.py SOURCE DUBBED [--report R.json] [--srt S.srt] [--truth truth.json]``
(``SOURCE`` the video that was dubbed, its JP track the first audio stream; ``DUBBED`` the output of
``anim400k dub``, the new track its last audio stream) prints:

* the output's streams (codec, language, title, dispositions), chapters and file tags;
* whether every stream of the source is copied bit for bit (packet payloads and timestamps, per stream index);
* ``ffmpeg -v error -i DUBBED -f null -`` (imageio-ffmpeg's binary): its messages, none expected;
* the integrated loudness of the JP and the new track (pyloudnorm, and FFmpeg's ``ebur128=peak=true`` with
  its true peak, the reference meter), samples at full scale and DC;
* the new track's length against the video's (in samples; an AAC frame is 1024);
* A/V sync: the lag of the new track against the JP track (both on their timestamps) at the start and
  near the end, where only the shared backing sounds (0 expected: no offset, no drift);
* with ``--report``: the distribution of start offsets and end errors of the placed lines; with ``--srt``:
  the SRT parsed by the ``srt`` package against the placed lines; with ``--truth`` (a synthetic episode's):
  the placed lines against the true JP lines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
from typing import Any

import av
import imageio_ffmpeg
import numpy as np
import pyloudnorm

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def decode(path: str, index: int) -> tuple[np.ndarray, int, float]:
    """Audio stream ``index`` of ``path`` as float64 ``(channels, n)``, its rate and its first timestamp (s)."""
    with av.open(path) as c:
        st = c.streams.audio[index]
        frames = list(c.decode(st))
        x = np.concatenate([f.to_ndarray() for f in frames], axis=1)
        if x.dtype.kind == "i":
            x = x / float(np.iinfo(x.dtype).max + 1)
        return x.astype(np.float64), st.rate, float(frames[0].pts * frames[0].time_base)


def ebur128(path: str, index: int) -> tuple[float, float]:
    """FFmpeg's integrated loudness (LUFS) and true peak (dBTP) of audio stream ``index``."""
    err = subprocess.run([FFMPEG, "-nostats", "-hide_banner", "-i", path, "-map", f"0:a:{index}", "-af",
                          "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True).stderr
    return (float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1]),
            float(re.findall(r"Peak:\s+(-?[\d.inf]+) dBFS", err)[-1]))


def packets(path: str) -> dict[tuple[str, str, int], list[tuple[Any, Any, str]]]:
    """Per stream, keyed by (type, codec, n-th stream of that type and codec; the dub adds its track after the
    copied streams of its kind, attachments come after it): (pts, dts, SHA-1 of the payload) of every packet."""
    out: dict[tuple[str, str, int], list[tuple[Any, Any, str]]] = {}
    with av.open(path) as c:
        keys, seen = {}, {}
        for s in c.streams:
            kind = (s.type, s.codec_context.name if s.codec_context else "")
            keys[s.index] = (*kind, seen.setdefault(kind, 0))
            seen[kind] += 1
        for p in c.demux():
            if p.size:
                out.setdefault(keys[p.stream.index], []).append((p.pts, p.dts, hashlib.sha1(bytes(p)).hexdigest()))
    return out


def lag(j: np.ndarray, e: np.ndarray, offset: int, start: int, width: int, reach: int = 2048) -> int:
    """The lag (samples) of ``e`` against ``j`` around ``start`` (``e``'s index = ``j``'s - ``offset``)."""
    seg = j[start : start + width]

    def score(k: int) -> float:
        b = start - offset + k
        return float(np.dot(seg, e[b : b + width])) if 0 <= b and b + width <= len(e) else -np.inf

    return max(range(-reach, reach + 1), key=score)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source")
    ap.add_argument("dubbed")
    ap.add_argument("--report")
    ap.add_argument("--srt")
    ap.add_argument("--truth")
    ap.add_argument("--sync-at", type=float, nargs=2, default=(0.3, None), metavar=("START", "END"),
                    help="seconds where only the backing sounds (default: 0.3 and 1 s before the end)")
    args = ap.parse_args()
    with av.open(args.dubbed) as c:
        print(f"{c.format.name}: start {c.start_time}, duration {c.duration / 1e6:.3f} s, tags {dict(c.metadata)}, "
              f"chapters {[(ch['start'], ch['end'], dict(ch['metadata'])) for ch in c.chapters()]}")
        for s in c.streams:
            print(f"  #{s.index} {s.type} {s.codec_context.name if s.codec_context else ''} {s.language} "
                  f"{dict(s.metadata)} disposition={s.disposition!r}")
        n_audio = len(c.streams.audio)
        video = c.streams.video[0] if c.streams.video else None
        stamps = [(float(p.pts * p.time_base), float(p.duration * p.time_base)) for p in c.demux(video)
                  if p.pts is not None] if video is not None else []
    src, out = packets(args.source), packets(args.dubbed)
    for i, pk in src.items():
        copy = out.get(i, [])
        print(f"stream {i}: {len(pk)} packets, payload bit-exact {[p[2] for p in pk] == [p[2] for p in copy]}, "
              f"timestamps equal {[p[:2] for p in pk] == [p[:2] for p in copy]}")
    err = subprocess.run([FFMPEG, "-v", "error", "-i", args.dubbed, "-f", "null", "-"], capture_output=True, text=True)
    print(f"ffmpeg -v error: exit {err.returncode}, messages {err.stderr.strip()!r}")
    jp, jsr, jt0 = decode(args.source, 0)
    en, esr, et0 = decode(args.dubbed, n_audio - 1)
    for name, x, sr, path, idx in (("JP", jp, jsr, args.source, 0), ("new", en, esr, args.dubbed, n_audio - 1)):
        lufs = pyloudnorm.Meter(sr).integrated_loudness(x.T) if x.shape[0] <= 5 else float("nan")
        i, tp = ebur128(path, idx)
        print(f"{name}: pyloudnorm {lufs:.2f} LUFS, ffmpeg ebur128 I {i} LUFS, true peak {tp} dBTP, "
              f"{int((np.abs(x) >= 1 - 2**-15).sum())} samples at full scale, DC {np.abs(x.mean(axis=1)).max():.1e}, "
              f"{x.shape[0]} ch {sr} Hz")
    if stamps:
        span = max(a + d for a, d in stamps) - min(a for a, _ in stamps)
        print(f"length: new track {en.shape[1] / esr:.5f} s, video {span:.5f} s, "
              f"{en.shape[1] - span * esr:+.0f} samples")
    if esr == jsr:
        j, e = jp.mean(axis=0), en.mean(axis=0)
        offset = int(round((et0 - jt0) * jsr))
        end = args.sync_at[1] if args.sync_at[1] is not None else len(j) / jsr - 1.0
        for t in (args.sync_at[0], end):
            k = lag(j, e, offset, int(t * jsr), int(0.9 * jsr))
            print(f"A/V: new track against the JP track at {t:.1f} s: {k} samples ({k / jsr * 1000:+.2f} ms)")
    if not args.report:
        return
    lines = [ln for ln in json.load(open(args.report))["lines"] if ln["speech_start"] is not None]
    se, ee = np.array([ln["start_error"] for ln in lines]), np.array([ln["end_error"] for ln in lines])
    late = sum(ln["speech_start"] > ln["slot_end"] for ln in lines)
    print(f"start offset (s): min {se.min():.3f} median {np.median(se):.3f} max {se.max():.3f}; "
          f"before the slot {(se < -1e-6).sum()}, after its end {late}")
    print(f"end error (s): min {ee.min():.3f} median {np.median(ee):.3f} max {ee.max():.3f}; "
          f"overruns {(ee > 1e-3).sum()}; mean |end error| {np.abs(ee).mean():.3f}")
    if args.srt:
        import srt

        subs = list(srt.parse(open(args.srt, encoding="utf-8").read()))
        worst = max(max(abs(s.start.total_seconds() - ln["speech_start"]),
                        abs(s.end.total_seconds() - ln["speech_end"])) for s, ln in zip(subs, lines, strict=False))
        print(f"srt: {len(subs)} events for {len(lines)} lines, texts equal "
              f"{[s.content for s in subs] == [ln['en_text'] for ln in lines]}, largest time difference {worst:.4f} s")
    if args.truth:
        truth = json.load(open(args.truth))["lines"]
        diffs = []
        for ln in lines:
            best = max(truth, key=lambda t: min(t["jp_end"], ln["speech_end"]) - max(t["jp_start"], ln["speech_start"]))
            diffs.append(ln["speech_start"] - best["jp_start"])
        d = np.abs(diffs)
        print(f"against the true JP lines: onset median {np.median(diffs):.3f} s, mean |.| {d.mean():.3f}, "
              f"max |.| {d.max():.3f}")


if __name__ == "__main__":
    main()
