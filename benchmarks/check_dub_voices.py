"""Independent check of ``anim400k dub``'s voice casting, placement and loudness on synthetic episodes.

    OMP_NUM_THREADS=2 python benchmarks/check_dub_voices.py --work /tmp/dv [--episodes e3 e4 e2 e8]
        [--src DIR] [--tag NAME] [--no-dub]

Inputs are made with ``anim400k.synth.make_episode`` (Kokoro's Japanese voices, known truth); each
is dubbed by the ``anim400k dub`` CLI in a subprocess with its defaults (neural TTS, embedded
diarizer, the episode's EN subtitles) and ``--report``/``--stems``. Everything measured below reads
only the files: the report JSON, the dub's speech stem ``stems/dub_speech.wav``, the episode's
``truth.json`` and clean JP speech stem ``jp_speech.wav``, with soundfile, librosa (pyin),
pyloudnorm and Resemblyzer's ``VoiceEncoder`` loaded here (nothing of ``anim400k`` is imported to
measure):

1. per dubbed line: where the speech really is in the stem (10 ms frames within 50 dB of the line's
   loudest frame) against its slot (+-50 ms) and against the report's ``speech_start``/``speech_end``;
   a hard end (its last 20 ms within 10 dB of the line's median active frame, then silence: a word
   cut, or a final consonant's decay cut by the TTS's trim) beside the report's ``truncated``; the
   BS.1770 loudness spread (max - min, LU) of each character's lines, beside the same spread of
   the clean JP speech over the same slots, and the spread of the per-line difference dub - JP (the
   dub follows the source's level line by line: its own spread is the source's, plus this);
2. casting, per true character (each line goes to the truth speaker whose JP lines its slot
   overlaps most): Resemblyzer d-vectors of lines >= 0.6 s, mean cosine within a character and
   across each pair (a pair is *distinct* when its across-cosine is below both characters'
   within-cosine), median F0 (pyin) of the dub against the character's clean JP speech
   (semitones; register = below/above 165 Hz);
3. consistency: the report's voice names per character, and the share of lines whose nearest
   character centroid (leave-one-out) is their own; the within/across test also between the diarized
   speakers (what the casting is given: two speakers sharing a voice fail it);
4. the report's ``problems`` (a warning naming speakers that share a voice is expected where the
   pool runs out).

Episodes (``--episodes``): ``e3`` 30 s/3 speakers/seed 0, ``e4`` 40 s/4/seed 1, ``e2`` 30 s/2/seed 2,
``e8`` 60 s/8/seed 3, ``e8n8`` the same with ``--num-speakers 8``, ``e2n1`` e2 with ``--num-speakers 1``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SR = 16000
HIGH_F0 = 165.0
#: name -> (episode folder, duration, seed, speakers, extra dub arguments)
EPISODES: dict[str, tuple[str, float, int, int, list[str]]] = {
    "e3": ("e3", 30.0, 0, 3, []),
    "e4": ("e4", 40.0, 1, 4, []),
    "e2": ("e2", 30.0, 2, 2, []),
    "e8": ("e8", 60.0, 3, 8, []),
    "e8n8": ("e8", 60.0, 3, 8, ["--num-speakers", "8"]),
    "e2n1": ("e2", 30.0, 2, 2, ["--num-speakers", "1"]),
    "e4n4": ("e4", 40.0, 1, 4, ["--num-speakers", "4"]),
    "e2s": ("e2s", 30.0, 2, 2, []),
}
#: e2s: e2 plus a third character (jf_tebukuro) with one 0.5 s line in the pause at 10.9 s
SHORT_LINE = ("spk9", "kokoro:jf_tebukuro", "ほんとう?", "Really?", 10.9, 0.5)


def make_inputs(work: Path, names: list[str]) -> None:
    """Synthetic episodes (the project's maker: inputs only)."""
    from anim400k.synth import make_episode

    for name in names:
        folder, duration, seed, n, _ = EPISODES[name]
        base = "e2" if folder == "e2s" else folder
        if not (work / base / "truth.json").exists():
            make_episode(work / base, duration=duration, seed=seed, n_speakers=n, video=False)
        if folder == "e2s" and not (work / folder / "truth.json").exists():
            add_short_line(work / base, work / folder)


def add_short_line(src: Path, dst: Path) -> None:
    """A copy of episode ``src`` (as WAV + SRT + truth) with :data:`SHORT_LINE` added."""
    import re

    import soundfile as sf

    from anim400k.tts.neural import speak

    speaker, voice, jp_text, en_text, at, seconds = SHORT_LINE
    natural = speak(jp_text, voice, 1.0, "ja")
    line = speak(jp_text, voice, round(len(natural) / 24000 / seconds, 3), "ja")
    dst.mkdir(parents=True, exist_ok=True)
    truth = json.loads((src / "truth.json").read_text())
    stems = {}
    for stem in ("jp_speech", "jp_mix"):
        x, sr = sf.read(str(src / f"{stem}.wav"), dtype="float32")
        stems[stem] = (x, sr)
    x, sr = stems["jp_speech"]
    import librosa

    y = librosa.resample(line, orig_sr=24000, target_sr=sr)
    rms = [float(np.sqrt(np.mean(x[int(t["jp_start"] * sr) : int(t["jp_end"] * sr)] ** 2))) for t in truth["lines"]]
    y *= float(np.median(rms)) / float(np.sqrt(np.mean(y**2)))
    a = int(at * sr)
    for stem, (z, _) in stems.items():
        z = z.copy()
        z[a : a + len(y)] += y
        sf.write(str(dst / f"{stem}.wav"), z, sr, subtype="FLOAT")
        if stem == "jp_mix":
            sf.write(str(dst / "episode.wav"), z, sr, subtype="PCM_16")
    end = at + len(y) / sr
    truth["lines"].append({"speaker": speaker, "jp_start": at, "jp_end": round(end, 3)})
    truth["voices"][speaker] = {"jp": voice, "en": "?"}
    (dst / "truth.json").write_text(json.dumps(truth))
    blocks = [b for b in re.split(r"\n\s*\n", (src / "episode.en.srt").read_text().strip()) if b.strip()]
    events = [(b.splitlines()[1], "\n".join(b.splitlines()[2:])) for b in blocks]

    def stamp(t: float) -> str:
        return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{int(t % 60):02d},{int(round(t % 1 * 1000)):03d}"

    events.append((f"{stamp(at)} --> {stamp(end)}", en_text))
    events.sort(key=lambda e: e[0])
    (dst / "episode.en.srt").write_text("\n\n".join(f"{i + 1}\n{t}\n{x}" for i, (t, x) in enumerate(events)) + "\n")


def run_dub(work: Path, name: str, tag: str, src: str | None) -> Path:
    """``anim400k dub`` on the episode (CLI subprocess); the output folder."""
    folder, *_, extra = EPISODES[name]
    ep, out = work / folder, work / f"out{tag}" / name
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    media = ep / "episode.mkv" if (ep / "episode.mkv").exists() else ep / "episode.wav"
    dubbed = out / f"dub.{'mkv' if media.suffix == '.mkv' else 'mka'}"
    cmd = [sys.executable, "-m", "anim400k", "dub", str(media), "--out", str(dubbed),
           "--subtitles", str(ep / "episode.en.srt"), "--report", str(out / "r.json"), "--stems",
           str(out / "stems"), "--no-progress", *extra]
    t = time.time()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    (out / "log").write_text(proc.stdout + proc.stderr)
    print(f"{name}: dub exit {proc.returncode} in {time.time() - t:.0f} s", flush=True)
    if proc.returncode:
        raise SystemExit(f"{name}: dub failed: {proc.stderr.strip().splitlines()[-1:]}")
    return out


def load(path: Path) -> np.ndarray:
    """Mono float32 at :data:`SR`."""
    import librosa
    import soundfile as sf

    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return librosa.resample(x, orig_sr=sr, target_sr=SR) if sr != SR else x


def frames_db(x: np.ndarray, hop: int = SR // 100) -> np.ndarray:
    """RMS level (dB) of 10 ms frames."""
    n = len(x) // hop
    if n == 0:
        return np.zeros(0)
    f = x[: n * hop].reshape(n, hop).astype(np.float64)
    return 10 * np.log10(np.mean(f**2, axis=1) + 1e-12)


def extent(x: np.ndarray, t0: float, t1: float) -> tuple[float, float, float] | None:
    """(start, end, tail dB) of the speech in ``x[t0:t1]`` (frames within 50 dB of the loudest), or None;
    tail: the last 20 ms' level over the median of the frames within 35 dB of the loudest."""
    a = max(0, int(t0 * SR))
    db = frames_db(x[a : int(t1 * SR)])
    if db.size == 0 or db.max() < -70:
        return None
    active = np.flatnonzero(db > db.max() - 50)
    s, e = active[0], active[-1]
    med = float(np.median(db[db > db.max() - 35]))
    tail = float(np.max(db[max(s, e - 1) : e + 1])) - med  # last 20 ms
    return a / SR + s * 0.01, a / SR + (e + 1) * 0.01, tail


def lufs(x: np.ndarray) -> float | None:
    """BS.1770 integrated loudness (None under 0.4 s or silent)."""
    import pyloudnorm

    if len(x) < int(0.41 * SR):
        return None
    v = pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64))
    return float(v) if np.isfinite(v) else None


def median_f0(x: np.ndarray) -> float | None:
    """Median pyin F0 (Hz) of the voiced frames (first 10 s)."""
    import librosa

    x = x[: 10 * SR]
    if len(x) < 2048:
        return None
    f0, voiced, _ = librosa.pyin(x, fmin=60, fmax=500, sr=SR, frame_length=1024, hop_length=320, resolution=0.25)
    f0 = f0[voiced & np.isfinite(f0)]
    return float(np.median(f0)) if f0.size >= 10 else None


def true_speaker(t0: float, t1: float, truth: dict) -> str | None:
    """The truth speaker whose JP lines overlap [t0, t1] most."""
    ov: dict[str, float] = {}
    for ln in truth["lines"]:
        o = min(t1, ln["jp_end"]) - max(t0, ln["jp_start"])
        if o > 0:
            ov[ln["speaker"]] = ov.get(ln["speaker"], 0.0) + o
    return max(ov, key=ov.get) if ov else None  # type: ignore[arg-type]


def semitones(a: float | None, b: float | None) -> float | None:
    """12 log2(a/b), None when either is unknown."""
    return None if not a or not b else float(12 * np.log2(a / b))


def measure(work: Path, name: str, out: Path, encoder) -> dict:  # type: ignore[no-untyped-def]
    """Every check on one dub (see the module docstring)."""
    ep = work / EPISODES[name][0]
    truth = json.loads((ep / "truth.json").read_text())
    report = json.loads((out / "r.json").read_text())
    speech = load(out / "stems" / "dub_speech.wav")
    jp = load(ep / "jp_speech.wav")
    spoken = [ln for ln in report["lines"] if ln["speech_start"] is not None]
    spoken.sort(key=lambda ln: ln["slot_start"])
    lines = []
    for k, ln in enumerate(spoken):
        lo = spoken[k - 1]["slot_end"] if k else 0.0
        hi = spoken[k + 1]["slot_start"] if k + 1 < len(spoken) else len(speech) / SR
        ext = extent(speech, max(lo, ln["slot_start"] - 0.5), min(hi, ln["slot_end"] + 0.5))
        if ext is None:
            lines.append({"index": ln["index"], "silent": True})
            continue
        s, e, tail = ext
        seg = speech[int(s * SR) : int(e * SR)]
        lines.append({
            "index": ln["index"], "speaker": ln["speaker"], "voice": ln["voice"], "pitch_shift": ln["pitch_shift"],
            "character": true_speaker(ln["slot_start"], ln["slot_end"], truth),
            "slot": (ln["slot_start"], ln["slot_end"]), "measured": (round(s, 3), round(e, 3)),
            "in_slot": s >= ln["slot_start"] - 0.05 and e <= ln["slot_end"] + 0.05,
            "reported": (ln["speech_start"], ln["speech_end"]),
            "report_agrees": abs(s - ln["speech_start"]) <= 0.05 and abs(e - ln["speech_end"]) <= 0.05,
            "hard_end": tail > -10.0, "truncated": ln["truncated"], "lufs": lufs(seg),
            "jp_lufs": lufs(jp[int(ln["slot_start"] * SR) : int(ln["slot_end"] * SR)]),
            "emb": encoder.embed_utterance(seg) if e - s >= 0.6 else None, "audio": seg,
        })
    chars = sorted({ln["character"] for ln in lines if ln.get("character")})
    per_char = {}
    for c in chars:
        mine = [ln for ln in lines if ln.get("character") == c]
        jp_lines = [jp[int(t["jp_start"] * SR) : int(t["jp_end"] * SR)] for t in truth["lines"] if t["speaker"] == c]
        both = [ln for ln in mine if ln["lufs"] is not None and ln["jp_lufs"] is not None]
        dub_l, jp_l = [ln["lufs"] for ln in both], [ln["jp_lufs"] for ln in both]
        offsets = [d - j for d, j in zip(dub_l, jp_l, strict=True)]
        embs = [ln["emb"] for ln in mine if ln["emb"] is not None]
        within = [float(np.dot(a, b)) for a, b in itertools.combinations(embs, 2)]
        f0_dub = median_f0(np.concatenate([ln["audio"] for ln in mine]))
        f0_jp = median_f0(np.concatenate(jp_lines)) if jp_lines else None
        per_char[c] = {
            "lines": len(mine), "voices": sorted({ln["voice"] for ln in mine}),
            "true_voices": truth["voices"].get(c),
            "pitch_shift": sorted({round(ln["pitch_shift"], 1) for ln in mine}),
            "lu_spread_dub": round(max(dub_l) - min(dub_l), 1) if len(dub_l) > 1 else None,
            "lu_spread_jp": round(max(jp_l) - min(jp_l), 1) if len(jp_l) > 1 else None,
            "lu_offset_spread": round(max(offsets) - min(offsets), 1) if len(offsets) > 1 else None,
            "within": round(float(np.mean(within)), 3) if within else None, "embs": embs,
            "f0_dub": f0_dub and round(f0_dub), "f0_jp": f0_jp and round(f0_jp),
            "f0_gap_st": (g := semitones(f0_dub, f0_jp)) and round(g, 1),
            "register_fits": None if not f0_dub or not f0_jp else (f0_dub >= HIGH_F0) == (f0_jp >= HIGH_F0),
        }
    pairs = {}
    for a, b in itertools.combinations(chars, 2):
        ea, eb = per_char[a]["embs"], per_char[b]["embs"]
        if not ea or not eb:
            continue
        across = float(np.mean([float(np.dot(x, y)) for x in ea for y in eb]))
        wa, wb = per_char[a]["within"], per_char[b]["within"]
        limit = min(w for w in (wa, wb) if w is not None) if (wa or wb) else 1.0
        pairs[f"{a}-{b}"] = {"across": round(across, 3), "distinct": across < limit,
                             "same_report_voice": bool(set(per_char[a]["voices"]) & set(per_char[b]["voices"]))}
    # the same between the diarized speakers (what the casting was given): a shared voice shows here
    by_spk: dict[str, list[np.ndarray]] = {}
    for ln in lines:
        if ln.get("emb") is not None:
            by_spk.setdefault(ln["speaker"], []).append(ln["emb"])
    spk_within = {k: float(np.mean([float(np.dot(a, b)) for a, b in itertools.combinations(v, 2)]))
                  for k, v in by_spk.items() if len(v) > 1}
    speaker_pairs = {}
    for a, b in itertools.combinations(sorted(by_spk), 2):
        across = float(np.mean([float(np.dot(x, y)) for x in by_spk[a] for y in by_spk[b]]))
        own = [spk_within[k] for k in (a, b) if k in spk_within]
        speaker_pairs[f"{a}-{b}"] = {"across": round(across, 3), "distinct": not own or across < min(own)}
    # consistency: nearest character centroid (leave-one-out) of each embedded line
    hits = total = 0
    for c in chars:
        for i, e in enumerate(per_char[c]["embs"]):
            cents = {}
            for d in chars:
                pool = [x for j, x in enumerate(per_char[d]["embs"]) if not (d == c and j == i)]
                if pool:
                    m = np.mean(pool, axis=0)
                    cents[d] = float(np.dot(e, m / np.linalg.norm(m)))
            if len(cents) > 1:
                total += 1
                hits += max(cents, key=cents.get) == c  # type: ignore[arg-type]
    for c in chars:
        per_char[c].pop("embs")
    placed = [ln for ln in lines if not ln.get("silent")]
    return {
        "episode": name, "lines_spoken": len(spoken), "speakers_found": sorted({ln["speaker"] for ln in spoken}),
        "silent_lines": sum(bool(ln.get("silent")) for ln in lines),
        "in_slot": f"{sum(ln['in_slot'] for ln in placed)}/{len(placed)}",
        "report_agrees": f"{sum(ln['report_agrees'] for ln in placed)}/{len(placed)}",
        "hard_end": [ln["index"] for ln in placed if ln["hard_end"]],
        "truncated": [ln["index"] for ln in placed if ln["truncated"]],
        "out_of_slot": [(ln["index"], ln["slot"], ln["measured"]) for ln in placed if not ln["in_slot"]],
        "report_differs": [(ln["index"], ln["reported"], ln["measured"]) for ln in placed if not ln["report_agrees"]],
        "characters": per_char, "pairs": pairs,
        "nearest_centroid_own": f"{hits}/{total}",
        "speaker_pairs": speaker_pairs,
        "speaker_pairs_not_distinct": [k for k, v in speaker_pairs.items() if not v["distinct"]],
        "voice_problems": [p for p in report["problems"] if "voice" in p],
        "speaker_voices": {s: sorted({ln["voice"] for ln in spoken if ln["speaker"] == s})
                           for s in sorted({ln["speaker"] for ln in spoken})},
    }


def show(r: dict) -> None:
    """Print one episode's figures."""
    print(f"\n== {r['episode']}: {r['lines_spoken']} lines, speakers found {len(r['speakers_found'])}; in slot "
          f"{r['in_slot']}, report agrees with audio {r['report_agrees']}, hard ends {r['hard_end']}, "
          f"truncated {r['truncated']}, nearest-centroid own {r['nearest_centroid_own']}")
    for item in r["out_of_slot"]:
        print(f"   out of slot: line {item[0]} slot {item[1]} speech {item[2]}")
    for item in r["report_differs"]:
        print(f"   report differs: line {item[0]} reported {item[1]} measured {item[2]}")
    print("   speaker -> voice:", r["speaker_voices"])
    for c, v in r["characters"].items():
        print(f"   {c:5s} jp {v['true_voices']['jp'] if v['true_voices'] else '?':28s} dub {','.join(v['voices']):40s} "
              f"lines {v['lines']:2d} within {v['within']} F0 jp/dub {v['f0_jp']}/{v['f0_dub']} gap "
              f"{v['f0_gap_st']} st reg-fit {v['register_fits']} shift {v['pitch_shift']} "
              f"LU spread dub {v['lu_spread_dub']} (jp {v['lu_spread_jp']}; dub-jp {v['lu_offset_spread']})")
    for p, v in r["pairs"].items():
        flag = "  <-- NOT DISTINCT" if not v["distinct"] else "  <-- same voice name" if v["same_report_voice"] else ""
        print(f"   {p:11s} across {v['across']:.3f}{flag}")
    print(f"   diarized speakers' voices not distinct (across >= within): {r['speaker_pairs_not_distinct']} "
          f"of {len(r['speaker_pairs'])} pairs")
    for p in r["voice_problems"]:
        print("   report:", p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--episodes", nargs="+", default=["e3", "e4", "e2", "e8"], choices=sorted(EPISODES))
    parser.add_argument("--tag", default="", help="output folder suffix (outTAG/NAME)")
    parser.add_argument("--src", help="PYTHONPATH for the dub subprocess (e.g. an older src tree)")
    parser.add_argument("--no-dub", action="store_true", help="measure existing outTAG/NAME folders")
    args = parser.parse_args()
    from resemblyzer import VoiceEncoder

    make_inputs(args.work, args.episodes)
    encoder = VoiceEncoder("cpu", verbose=False)
    results = []
    for name in args.episodes:
        out = args.work / f"out{args.tag}" / name
        if not args.no_dub:
            out = run_dub(args.work, name, args.tag, args.src)
        results.append(measure(args.work, name, out, encoder))
        show(results[-1])
    (args.work / f"check{args.tag}.json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
