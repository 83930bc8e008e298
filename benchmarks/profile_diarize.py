"""Profile: where the embedded diarizer's CPU time goes on one long dual-track episode (issue 16).

One episode of ``--duration`` seconds is composed from the voice bank as ``bench_diarize_real.py`` composes
them (Kokoro voices, 2-6 characters, loud music, the EN dub as the second view, its synthetic EN subtitles
as cues: what the build's diarize stage gets), separated by the dual-track separator, then diarized once
under cProfile on one thread (``ANIM400K_THREADS=1``, one torch thread: cProfile sees only its own
thread; ``--no-profile`` times the call alone, with the ``ANIM400K_THREADS`` and ``--torch-threads`` given).
Printed: CPU seconds of the diarize call, a table of its parts (cumulative time of the functions named,
which do not nest in each other; the mel frames and d-vectors by what asked for them), and the SHA-256 of
the RTTM text the build would write (to check that a change leaves the output alone). ``--stats FILE``
keeps the raw profile (``python -m pstats FILE``).

    python benchmarks/profile_diarize.py [--duration 300] [--seed 1003] [--chars 5] [--stats /tmp/d.prof]
    ANIM400K_THREADS=2 python benchmarks/profile_diarize.py --no-profile [--torch-threads 1]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
SR = 16000

#: (part, [(module file suffix, function name), ...]): the parts of the table, each the sum of the
#: cumulative time of its functions (chosen so that none of them calls another of the table's)
PARTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("VAD (silero, JP + EN)", [("diarize/vad.py", "speech_regions")]),
    ("spectral statistics", [("diarize/spectral.py", "window_statistics"),
                             ("diarize/spectral.py", "span_statistics")]),
    ("pitch (F0 tracks + window medians)", [("diarize/pitch.py", "f0_track"), ("diarize/pitch.py", "window_pitch")]),
    ("clustering: affinities", [("diarize/clustering.py", "fused_affinity")]),
    ("clustering: NME eigendecompositions", [("diarize/clustering.py", "nme_scores")]),
    ("clustering: k-means on the spectrum", [("sklearn/cluster/_kmeans.py", "fit_predict")]),
    ("clustering: re-assignment", [("diarize/clustering.py", "reassign")]),
    ("clustering: merges, splits", [("diarize/clustering.py", "merge_clusters"),
                                    ("diarize/views.py", "split_by_other"),
                                    ("diarize/clustering.py", "merge_centred")]),
    ("re-segmentation (Viterbi)", [("diarize/embedded.py", "_resegment")]),
    ("short runs: the rest", [("diarize/embedded_shortruns.py", "relabel_short_runs")]),
    ("two-voice track + other voices", [("diarize/twovoice.py", "two_voice_track"),
                                        ("diarize/twovoice.py", "other_voice_turns")]),
    ("level normalisation, frame power", [("diarize/embedding.py", "normalize_regions"),
                                          ("diarize/audio.py", "frame_power")]),
    ("resampling to 16 kHz", [("diarize/audio.py", "to_16k")]),
    ("overlaps, subtitle cues", [("diarize/overlap.py", "mixture_overlaps"),
                                 ("diarize/cue_overlap.py", "overlap_turns")]),
]


def episode(seed: int, n_chars: int, duration: float) -> tuple[np.ndarray, np.ndarray, list]:
    """JP speech, EN speech (both minus the dual-track backing) and the synthetic EN subtitles."""
    from _subtitles import subtitle_tuples, synth_subtitles
    from _voice_bank import load_bank
    from bench_diarize_real import compose_episode

    from anim400k.diarize.views import other_speech
    from anim400k.model import TimeMap
    from anim400k.separate import get_separator

    mix, en_mix, ref, _ = compose_episode(load_bank("v2"), seed, n_chars, duration, deal=True)
    sep = get_separator("dualtrack").separate(mix, SR, reference=en_mix, time_map=TimeMap(0.0, 0.0, 1.0))
    speech = (mix - sep.backing[: len(mix)]).astype(np.float32)
    en = other_speech(en_mix, SR, len(mix), sep.backing, TimeMap(0.0, 0.0, 1.0))
    return speech, en, subtitle_tuples(synth_subtitles(ref, seed, 0.0))


#: which of the diarizer's functions asked for mel frames / d-vectors -> the part it belongs to
CALLERS = {"_diarize_in": "JP windows", "_diarize": "JP windows", "other_track": "EN windows",
           "other_view_at": "EN windows", "span_vectors": "short runs"}


class Timed:
    """CPU seconds of :func:`anim400k.diarize.embedding.mel_frames` and ``embed_windows`` by what asked for
    them (:data:`CALLERS`), the functions wrapped in place for the run."""

    def __init__(self) -> None:
        from anim400k.diarize import embedding

        self.seconds: dict[tuple[str, str], float] = {}
        for name in ("mel_frames", "embed_windows"):
            setattr(embedding, name, self._wrap(name, getattr(embedding, name)))

    def _wrap(self, name: str, fn):  # noqa: ANN001, ANN202
        def timed(*args, **kw):  # noqa: ANN002, ANN003, ANN202
            frame, who = sys._getframe(1), "other"
            while frame is not None:
                if frame.f_code.co_name in CALLERS:
                    who = CALLERS[frame.f_code.co_name]
                    break
                frame = frame.f_back
            t0 = time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                key = (name, who)
                self.seconds[key] = self.seconds.get(key, 0.0) + time.process_time() - t0
        return timed


def part_table(stats: pstats.Stats, timed: Timed) -> list[tuple[str, float]]:
    """Seconds of each of :data:`PARTS` in ``stats`` (cumulative time of its functions), the mel frames and
    d-vectors by what asked for them, the short runs without their mel frames and d-vectors."""
    raw = stats.stats  # type: ignore[attr-defined]
    out = []
    for name, funcs in PARTS:
        total = 0.0
        for (file, _, fn), (_, _, _, cum, _) in raw.items():
            if any(file.endswith(suffix) and fn == want for suffix, want in funcs):
                total += cum
        if name.startswith("short runs"):
            total -= sum(v for (_, who), v in timed.seconds.items() if who == "short runs")
        out.append((name, total))
    for fn, label in (("mel_frames", "mel frames"), ("embed_windows", "d-vector LSTM")):
        for who in ("JP windows", "EN windows", "short runs", "other"):
            if (fn, who) in timed.seconds:
                out.insert(len(out) - len(PARTS) + 1, (f"{label}: {who}", timed.seconds[fn, who]))
    return out


def rttm_digest(turns: list) -> str:
    """SHA-256 (16 hex digits) of the RTTM text the build writes for ``turns`` (confidences included)."""
    from anim400k.formats.rttm import format_rttm

    return hashlib.sha256(format_rttm(turns, "ep").encode()).hexdigest()[:16]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=1003)
    ap.add_argument("--chars", type=int, default=5)
    ap.add_argument("--stats", type=Path, default=None)
    ap.add_argument("--no-profile", action="store_true", help="time the call without cProfile")
    ap.add_argument("--repeat", type=int, default=1,
                    help="with --no-profile: diarize this many times, report the least wall and CPU time")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch's intra-op threads (the build's diarize stage sets 1)")
    args = ap.parse_args()
    os.environ.setdefault("ANIM400K_THREADS", "1")
    import torch

    torch.set_num_threads(args.torch_threads)
    from anim400k.diarize import get_diarizer

    speech, en, subs = episode(args.seed, args.chars, args.duration)
    d = get_diarizer("embedded")
    d.diarize(np.zeros(SR, np.float32), SR)  # load the models
    timed = Timed()
    prof = cProfile.Profile(time.process_time)  # CPU time: the machine may be shared
    wall = cpu = float("inf")
    for _ in range(max(1, args.repeat) if args.no_profile else 1):
        from anim400k.diarize import clustering

        if hasattr(clustering, "clear_spectrum_cache"):  # each call from scratch
            clustering.clear_spectrum_cache()
        t0, c0 = time.perf_counter(), time.process_time()
        if args.no_profile:
            turns = d.diarize(speech, SR, other=en, subtitles=subs)
        else:
            turns = prof.runcall(d.diarize, speech, SR, other=en, subtitles=subs)
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    print(f"episode {len(speech) / SR:.0f} s, seed {args.seed}, {args.chars} characters; "
          f"{os.environ['ANIM400K_THREADS']} thread(s), {args.torch_threads} torch: "
          f"wall {wall:.2f} s, CPU {cpu:.2f} s; "
          f"{len(turns)} turns, {len({t.speaker for t in turns})} speakers, RTTM {rttm_digest(turns)}")
    if args.no_profile:
        return
    stats = pstats.Stats(prof)
    if args.stats:
        stats.dump_stats(str(args.stats))
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]  # (tottime sum)
    print(f"{'part':40s} {'s':>7s} {'share':>6s}   (profiled total {total:.2f} s)")
    for name, sec in part_table(stats, timed):
        print(f"{name:40s} {sec:7.2f} {100 * sec / total:5.1f} %")


if __name__ == "__main__":
    main()
