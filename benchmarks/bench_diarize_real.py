"""Benchmark: diarization on realistic synthetic episodes (neural voices, 2-6 characters, loud music).

Episodes are composed from a bank of Kokoro-82M utterances (``_voice_bank.py``: four female
voices, so same-gender pairs are common, a male voice and a shifted male voice): conversations
of 2-6 characters (episode ``i`` has ``2 + i % 5``) with uneven shares of lines, short turns
(interjections under 1 s), overlapping lines (15 % of turns start before the previous one
ends) and the synthetic music-and-effects stem 0-6 dB under the speech (loud music). Clips
are runs of 1-3 consecutive lines; a second set, the clips a release would cut (``release_clips``:
the aligner's 125 ms merge of the JP lines and the EN dub's lines), is scored as well.

Printed per method, side by side: DER (pyannote.metrics' collar=0.25, i.e. +-0.125 s around each
reference boundary, overlaps scored; also at +-0.25 s, NIST md-eval's `-c 0.25`) with
its missed speech and false alarm split by cause (:func:`breakdown`),
episodes whose speaker count is right, missed and false speakers, per-clip speaker-set
accuracy (the clip's speaker set under the release's 0.3 s rule, hypothesis speakers mapped to
reference ones by the DER's optimal mapping), and speed (audio seconds per second, 1 torch
thread). ``new_subs`` is ``new`` with the episode's synthetic EN subtitles as speaker cues
(``_subtitles.py``: seeded events imitating real subtitle timing; ``subs=1`` in an ad-hoc method),
so the table shows the cues with and without side by side. The named baseline is ``current``: the
embedded diarizer as it was before this benchmark (reproduced by ``LEGACY_OPTIONS``). The episodes
come from voice bank v2 (the default: 60 distinct takes per voice, dealt without repeats, see
``_voice_bank.py``; generated once in ~11 minutes on one core); ``--bank v1`` gives the older
episodes (14 takes per voice, drawn at random, so a character replays takes verbatim), on which the
figures in docs/diarization.md before *A larger voice bank* were measured. The summary prints how
many lines per episode reuse a take already heard on the JP track.

    python benchmarks/bench_diarize_real.py [--episodes 10] [--duration 90] [--methods current new] [--bank v1|v2]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SR = 16000
#: ``compose_episode(fit_en=True)``: the EN take is the one nearest the JP line's length among this many next cards
FIT_CHOICES = 12
#: ... and starts up to this many seconds before or after its JP line (as ``anim400k.synth``'s EN lines, +-0.2 s)
FIT_JITTER = 0.2


def compose_episode(bank: dict[str, list[np.ndarray]], seed: int, n_chars: int, duration: float,
                    music_level: float = 1.0, deal: bool = False,
                    takes: list | None = None,
                    en_lines: list | None = None,
                    fit_en: bool = False) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """JP mix and EN mix of one episode (16 kHz), the JP reference turns and the clips ``(n, 2)`` seconds.

    The EN dub has the same music-and-effects stem and lines at the same times, spoken by other
    voices of the bank (other utterances), as a dub's cast would. Each line's take is drawn at
    random from its voice's takes (``deal=False``: bank v1, as it always was; takes repeat), or
    dealt from a shuffled deck per voice and track (``deal=True``: no take is used twice on a
    track until its voice has used them all there; then a fresh deck). ``takes``, when
    given, receives ``(track, voice, take index)`` for every line, ``track`` ``"jp"`` or ``"en"``;
    ``en_lines``, when given, receives each EN line's ``(start, end)`` seconds (for :func:`release_clips`).
    The clips returned are runs of 1-3 JP lines (the measure every earlier figure used).

    ``fit_en`` (with ``deal``): each EN line is the take, among the next :data:`FIT_CHOICES` of its voice's
    deck, whose length is nearest the JP line's, as a dub's adaptation fits a line to its slot (an
    interjection is dubbed by an interjection) and starts within :data:`FIT_JITTER` of it; without it the EN
    take is the next card, of any length, so
    EN lines run into the next line far more often than in a real dub. The JP lines, the music, the reference
    and the random draws are the same either way (the deck is consumed one card a line in both; the JP mix is
    at most scaled, as both mixes share one peak normalisation).
    """
    from anim400k.diarize import Turn
    from anim400k.synth.music import synth_backing

    rng = np.random.default_rng(seed)
    en_rng = np.random.default_rng(seed + 7919)  # fit_en's start jitter
    chars = [str(c) for c in rng.choice(sorted(bank), n_chars, replace=False)]
    share = rng.dirichlet(np.full(n_chars, 2.0)) * 0.6 + 0.4 / n_chars  # uneven, nobody silent
    n = int(duration * SR)
    speech = np.zeros(n + 10 * SR, np.float32)
    en_speech = np.zeros_like(speech)
    en_voice = {c: str(v) for c, v in zip(chars, rng.permutation(sorted(bank))[:n_chars], strict=True)}
    turns: list[Turn] = []
    t, prev, prev_start, prev_end = 0.5, None, 0.5, 0.5
    forced = list(rng.permutation(n_chars))  # everybody speaks early on at least once
    decks: dict[tuple[str, str], list[int]] = {}

    def pick(voice: str, track: str, length: int | None = None) -> int:
        if not deal:
            return int(rng.integers(len(bank[voice])))
        if not decks.get((track, voice)):
            decks[track, voice] = [int(j) for j in rng.permutation(len(bank[voice]))]
        deck = decks[track, voice]
        if length is None:
            return deck.pop()
        near = min(range(max(0, len(deck) - FIT_CHOICES), len(deck)),
                   key=lambda j: abs(len(bank[voice][deck[j]]) - length))
        return deck.pop(near)

    while t < duration - 1.0:
        if forced:
            who = int(forced.pop())
        else:
            who = int(rng.choice(n_chars, p=share))
            if who == prev and rng.random() < 0.6:
                who = int(rng.choice(n_chars, p=share))
        k = pick(chars[who], "jp")
        utt = bank[chars[who]][k] * 10 ** (rng.uniform(-3, 3) / 20)
        start = t
        if prev is not None and who != prev and rng.random() < 0.15:  # overlap the previous line
            start = max(prev_start + 0.3, prev_end - rng.uniform(0.2, 0.8))
        a = int(start * SR)
        speech[a : a + len(utt)] += utt
        en_k = pick(en_voice[chars[who]], "en", len(utt) if fit_en and deal else None)
        en_utt = bank[en_voice[chars[who]]][en_k]
        en_a = a
        if fit_en and deal:  # a dub's line starts near its JP line, not on the sample (its own draws: JP unchanged)
            en_a = max(0, a + int(en_rng.uniform(-FIT_JITTER, FIT_JITTER) * SR))
        en_speech[en_a : en_a + len(en_utt)] += en_utt
        if takes is not None:
            takes += [("jp", chars[who], k), ("en", en_voice[chars[who]], en_k)]
        if en_lines is not None:
            en_start = start + (en_a - a) / SR  # the JP line's start unless fit_en moved it
            en_lines.append((round(en_start, 3), round(en_start + len(en_utt) / SR, 3)))
        end = start + len(utt) / SR
        turns.append(Turn(round(start, 3), round(end, 3), chars[who]))
        prev, prev_start, prev_end = who, start, end
        t = max(end, t) + rng.uniform(0.15, 0.8)
    n = min(len(speech), int((turns[-1].end + 0.5) * SR))
    speech, en_speech = speech[:n], en_speech[:n]
    music = synth_backing(n, SR, rng).astype(np.float32)
    active = np.abs(speech) > 1e-4
    smr_db = rng.uniform(0.0, 6.0)
    s_rms = float(np.sqrt(np.mean(speech[active] ** 2)))
    m_rms = float(np.sqrt(np.mean(music**2))) or 1.0
    backing = music_level * music * (s_rms / m_rms) * 10 ** (-smr_db / 20)
    mix, en_mix = speech + backing, en_speech + backing
    scale = max(1.0, float(np.abs(mix).max()) / 0.95, float(np.abs(en_mix).max()) / 0.95)
    mix, en_mix = (mix / scale).astype(np.float32), (en_mix / scale).astype(np.float32)
    clips, i = [], 0
    while i < len(turns):
        k = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
        group = turns[i : i + k]
        clips.append((group[0].start, max(g.end for g in group)))
        i += k
    return mix, en_mix, sorted(turns), np.array(clips)


def release_clips(turns: list, en_lines: list) -> np.ndarray:
    """The clips a release would cut from these lines, ``(n, 2)`` seconds.

    The build's clip rule (``anim400k.align.group_segments``, 125 ms): EN and JP lines whose ends
    overlap or lie within 125 ms of each other merge, recursively, into one clip. A line spoken over
    the end of the previous one therefore lands in that line's clip, where the runs of
    :func:`compose_episode` may split it between two clips (the overlapped part of the next line then
    counts as a second speaker of a clip that holds 0.2-0.8 s of it).
    """
    from anim400k.align import group_segments

    en = np.array(en_lines, dtype=float).reshape(-1, 2)
    jp = np.array([(t.start, t.end) for t in turns], dtype=float).reshape(-1, 2)
    g = group_segments(en[:, 0], en[:, 1], jp[:, 0], jp[:, 1])
    return np.stack([g.start_ms, g.end_ms], axis=1) / 1000.0


def synth_truth(seed: int, n_chars: int, duration: float) -> dict:
    """``truth.json`` of the episode :func:`synth_episode` made (its lines, subtitles and voices)."""
    import json

    from _voice_bank import cache_file

    return json.loads((cache_file().parent / "diarize_synth" / f"ep{seed}_{n_chars}_{duration:g}" / "truth.json")
                      .read_text(encoding="utf-8"))


def synth_episode(seed: int, n_chars: int, duration: float) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """The same from ``anim400k.synth.make_episode`` (neural voices), kept in the benchmark cache."""
    import soundfile as sf
    from _voice_bank import cache_file

    from anim400k.diarize.audio import to_16k
    from anim400k.diarize.run import load_reference
    from anim400k.synth import make_episode

    folder = cache_file().parent / "diarize_synth" / f"ep{seed}_{n_chars}_{duration:g}"
    if not (folder / "truth.json").exists():
        make_episode(folder, duration=duration, seed=seed, n_speakers=n_chars, video=False)
    mix, sr = sf.read(folder / "jp_mix.wav", dtype="float32")
    en, sr_en = sf.read(folder / "en_mix.wav", dtype="float32")
    ref = load_reference(folder / "truth.json")
    rng = np.random.default_rng(seed)
    clips, i = [], 0
    while i < len(ref):
        k = int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
        group = ref[i : i + k]
        clips.append((group[0].start, max(g.end for g in group)))
        i += k
    return to_16k(mix, sr), to_16k(en, sr_en), ref, np.array(clips)


def score(ref: list, hyp: list, clips: np.ndarray, release: np.ndarray | None = None) -> dict[str, float]:
    """DER parts, speaker counts and per-clip speaker-set accuracy of ``hyp`` against ``ref``.

    ``release`` (clips by the release's rule, :func:`release_clips`) adds the same accuracy on those
    clips (``rclips``, ``rclips_ok``, ``rsingle``/``rmulti`` and their ``_ok``).
    """
    from pyannote.metrics.diarization import DiarizationErrorRate

    from anim400k.diarize import clip_confidence, clip_speakers
    from anim400k.diarize.clips import UNCERTAIN_BELOW
    from anim400k.formats.rttm import turns_to_annotation

    metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
    r, h = turns_to_annotation(ref), turns_to_annotation(hyp)
    d = metric(r, h, detailed=True)
    # pyannote's collar is the total width: 0.25 forgives +-0.125 s; NIST md-eval's "-c 0.25" (+-0.25 s) is 0.5
    d_nist = DiarizationErrorRate(collar=0.5, skip_overlap=False)(r, h, detailed=True)
    mapping = metric.optimal_mapping(r, h) if hyp else {}
    n_ref, n_hyp = len({t.speaker for t in ref}), len({t.speaker for t in hyp})
    ref_sets = clip_speakers(ref, clips)
    right = _sets_right(ref_sets, clip_speakers(hyp, clips), mapping)
    extra: dict[str, float] = {}
    if release is not None:
        rsets = clip_speakers(ref, release)
        rright = _sets_right(rsets, clip_speakers(hyp, release), mapping)
        extra = {"rclips": len(rright), "rclips_ok": float(sum(rright)),
                 "rsingle": sum(len(rs) == 1 for rs in rsets),
                 "rsingle_ok": float(sum(ok for ok, rs in zip(rright, rsets, strict=True) if len(rs) == 1)),
                 "rmulti": sum(len(rs) > 1 for rs in rsets),
                 "rmulti_ok": float(sum(ok for ok, rs in zip(rright, rsets, strict=True) if len(rs) > 1))}
    conf = clip_confidence(hyp, clips)
    sure = [ok for ok, c in zip(right, conf, strict=True) if c is not None and c >= UNCERTAIN_BELOW]
    single = [ok for ok, rs in zip(right, ref_sets, strict=True) if len(rs) == 1]
    multi = [ok for ok, rs in zip(right, ref_sets, strict=True) if len(rs) > 1]
    return {
        **breakdown(ref, hyp),
        "merged": merged_voices(ref, hyp, mapping),
        "der": float(d["diarization error rate"]), "der_nist": float(d_nist["diarization error rate"]),
        "missed_s": float(d["missed detection"]),
        "false_s": float(d["false alarm"]), "confusion_s": float(d["confusion"]), "total_s": float(d["total"]),
        "n_ref": n_ref, "n_hyp": n_hyp, "count_ok": float(n_ref == n_hyp),
        "missed_spk": max(0, n_ref - n_hyp), "false_spk": max(0, n_hyp - n_ref),
        "clips": len(right), "clips_ok": float(sum(right)),
        "sure": len(sure), "sure_ok": float(sum(sure)),
        "single": len(single), "single_ok": float(sum(single)), "multi": len(multi), "multi_ok": float(sum(multi)),
        **extra,
    }


def _sets_right(ref_sets: list, hyp_sets: list, mapping: dict) -> list[bool]:
    """Per clip: the hypothesis speaker set, mapped by ``mapping``, equals the reference set."""
    return [set(rs) == {mapping.get(s, f"?{s}") for s in hs} for rs, hs in zip(ref_sets, hyp_sets, strict=True)]


BREAKDOWN_KEYS = ("miss_overlap", "miss_single", "fa_pad", "fa_far", "fa_extra")


def breakdown(ref: list, hyp: list, collar: float = 0.25, step: float = 0.01, pad: float = 0.5) -> dict[str, float]:
    """Seconds of missed speech and false alarm by cause, on ``step`` frames outside the collar
    (``collar / 2`` either side of each reference boundary, as pyannote's DER scores them).

    ``miss_overlap``: reference overlap (two or more speakers) given fewer speakers;
    ``miss_single``: one-speaker reference speech given none (what the VAD missed);
    ``fa_pad``: speech found within ``pad`` s of reference speech (boundary padding, early starts,
    late ends); ``fa_far``: speech found farther from any line (music and effects);
    ``fa_extra``: more speakers than the reference where it has speech (overlap labels too many).
    """
    if not ref:
        return dict.fromkeys(BREAKDOWN_KEYS, 0.0)
    both = [*ref, *hyp]
    t = np.arange(min(0.0, *(x.start for x in both)), max(x.end for x in both) + 1.0, step) + step / 2
    nr, nh = np.zeros(len(t), int), np.zeros(len(t), int)
    for turns, n in ((ref, nr), (hyp, nh)):
        for spk in {x.speaker for x in turns}:  # a speaker counts once per frame
            on = np.zeros(len(t), bool)
            for x in turns:
                if x.speaker == spk:
                    on[(t >= x.start) & (t < x.end)] = True
            n += on
    keep = np.ones(len(t), bool)
    for x in ref:
        for b in (x.start, x.end):
            keep[np.abs(t - b) < collar / 2] = False
    near = np.zeros(len(t), bool)
    for x in ref:
        near[(t >= x.start - pad) & (t < x.end + pad)] = True
    miss, fa = np.clip(nr - nh, 0, None) * keep, np.clip(nh - nr, 0, None) * keep
    return {"miss_overlap": float(miss[nr >= 2].sum() * step), "miss_single": float(miss[nr == 1].sum() * step),
            "fa_pad": float(fa[(nr == 0) & near].sum() * step), "fa_far": float(fa[(nr == 0) & ~near].sum() * step),
            "fa_extra": float(fa[nr >= 1].sum() * step)}


def merged_voices(ref: list, hyp: list, mapping: dict) -> list[str]:
    """``"a & b"`` for each reference speaker ``a`` that no hypothesis speaker maps to, where ``b`` is the
    reference speaker mapped to the hypothesis speaker that covers most of ``a``'s speech (the
    voice it was merged into; ``?`` when that one maps to nobody)."""
    found = set(mapping.values())
    out = []
    for a in sorted({t.speaker for t in ref} - found):
        cover: dict[str, float] = {}
        for r in (t for t in ref if t.speaker == a):
            for h in hyp:
                cover[h.speaker] = cover.get(h.speaker, 0.0) + max(0.0, min(r.end, h.end) - max(r.start, h.start))
        if cover and max(cover.values()) > 0:
            out.append(f"{a} & {mapping.get(max(cover, key=cover.__getitem__), '?')}")
    return out


def repeated_takes(takes: list, track: str = "jp") -> int:
    """How many of ``track``'s lines reuse a take already used earlier on that track
    (``takes`` as :func:`compose_episode` fills it)."""
    seen: set = set()
    n = 0
    for tr, voice, k in takes:
        if tr == track:
            n += (voice, k) in seen
            seen.add((voice, k))
    return n


def methods() -> dict[str, tuple[dict, str]]:
    """Method name -> (``get_diarizer("embedded", **options)`` options, input).

    Inputs: ``mix`` (the JP mix), ``speech`` (the JP mix minus the backing that the dual-track
    separator estimates from the two mixes: what the build's diarize stage got before dual-track
    diarization), ``dual`` (that JP speech and the EN speech, EN mix minus the same backing, as
    the second view: what the build runs now), ``dual_half`` (the same with the EN track silent
    in the episode's second half: an EN dub with gaps, where the diarizer falls back to JP only).
    The option ``subs=1`` (not a diarizer option) gives the diarizer the episode's synthetic EN
    subtitles (:func:`_subtitles.synth_subtitles`): ``new_subs`` is ``new`` with them; ``names=0.3``
    (with ``subs=1``) names that share of their one-speaker events by the true character (2 % wrong).
    """
    from anim400k.diarize.embedded_config import LEGACY_OPTIONS

    return {"current": (dict(LEGACY_OPTIONS), "mix"), "jp_speech": ({}, "speech"), "new": ({}, "dual"),
            "new_en_half": ({}, "dual_half"), "new_subs": ({"subs": 1, **SUBTITLE_OPTIONS}, "dual")}


#: the ``subtitle_*`` options of the ``new_subs`` method (the EN subtitles as speaker cues)
SUBTITLE_OPTIONS: dict[str, object] = {}


def split_options(opts: dict) -> tuple[dict, bool]:
    """A method's diarizer options without the benchmark's own ``subs`` and ``names`` keys, and whether
    ``subs`` is set (the diarizer then gets the episode's synthetic subtitles, :mod:`_subtitles`)."""
    opts = dict(opts)
    opts.pop("names", None)
    return opts, bool(opts.pop("subs", 0))


def _parse_method(spec: str) -> tuple[str, tuple[dict, str]]:
    """``name:input:key=value,...`` (an ad-hoc variant, for tuning)."""
    name, source, *rest = spec.split(":")
    opts: dict = {}
    for kv in (rest[0].split(",") if rest and rest[0] else []):
        k, v = kv.split("=")
        opts[k] = None if v == "None" else (v if v.isalpha() else float(v) if "." in v else int(v))
    return name, (opts, source)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--duration", type=float, default=90.0)
    ap.add_argument("--methods", nargs="+", default=["current", "jp_speech", "new", "new_subs"],
                    help="names from methods() or ad-hoc 'name:mix|speech|dual|dual_half:key=value,...' "
                         "(subs=1: with the synthetic EN subtitles)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quiet", action="store_true", help="only the summary table")
    ap.add_argument("--source", choices=("bank", "synth"), default="bank",
                    help="bank: episodes composed here; synth: anim400k.synth.make_episode (slow first time)")
    ap.add_argument("--en-fit", action=argparse.BooleanOptionalAction, default=True,
                    help="EN takes chosen by length to fit their JP lines, as a dub's are (compose_episode's fit_en; "
                         "bank v2; the default since 2026-12-06: --no-en-fit for the EN track of the older figures)")
    ap.add_argument("--music", type=float, default=1.0, help="music level (0: clean speech, a diagnostic)")
    ap.add_argument("--bank", choices=("v1", "v2"), default="v2",
                    help="voice bank (_voice_bank.py): v2 (default) 60 takes per voice dealt without repeats, "
                         "v1 14 drawn at random (the older figures)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message="'uem' was approximated")

    import torch
    from _subtitles import subtitle_tuples, synth_subtitles
    from _voice_bank import load_bank

    from anim400k.diarize import get_diarizer
    from anim400k.diarize.views import other_speech

    torch.set_num_threads(args.threads)
    bank = load_bank(args.bank)
    from anim400k.model import TimeMap
    from anim400k.separate import get_separator

    table = methods()
    table.update(_parse_method(m) for m in args.methods if ":" in m)
    args.methods = [m.split(":")[0] for m in args.methods]
    with_subs = {m: split_options(table[m][0])[1] for m in args.methods}
    diarizers = {m: get_diarizer("embedded", **split_options(table[m][0])[0]) for m in args.methods}
    separator = get_separator("dualtrack")
    for d in diarizers.values():
        d.diarize(np.zeros(SR, np.float32), SR)  # load the models once
    rows: dict[str, list[dict]] = {m: [] for m in args.methods}
    repeats: list[int] = []
    for i in range(args.first_seed, args.first_seed + args.episodes):
        n_chars = 2 + i % 5
        release = None
        subs = None
        if args.source == "synth":
            mix, en_mix, ref, clips = synth_episode(i, n_chars, args.duration)
            truth = synth_truth(i, n_chars, args.duration)  # its EN lines (release clips) and its own subtitles
            release = release_clips(ref, [(ln["en_start"], ln["en_end"]) for ln in truth["lines"]])
            own = [(round(e["start"], 3), round(e["end"], 3), e["text"]) for e in truth["subtitles"]]
            subs = {m: own for m in args.methods}
        else:
            takes: list = []
            en_lines: list = []
            mix, en_mix, ref, clips = compose_episode(bank, 1000 + i, n_chars, args.duration, args.music,
                                                      deal=args.bank != "v1", takes=takes, en_lines=en_lines,
                                                      fit_en=args.en_fit)
            repeats.append(repeated_takes(takes))
            release = release_clips(ref, en_lines)
            subs = {m: subtitle_tuples(synth_subtitles(ref, 1000 + i, float(table[m][0].get("names", 0.0))))
                    for m in args.methods}
        inputs: dict[str, tuple[np.ndarray, np.ndarray | None]] = {"mix": (mix, None)}
        if any(table[m][1] != "mix" for m in args.methods):
            sep = separator.separate(mix, SR, reference=en_mix, time_map=TimeMap(0.0, 0.0, 1.0))
            speech = (mix - sep.backing[: len(mix)]).astype(np.float32)
            en_speech = other_speech(en_mix, SR, len(mix), sep.backing, TimeMap(0.0, 0.0, 1.0))
            en_half = en_speech.copy()
            en_half[len(en_half) // 2 :] = 0.0
            inputs.update(speech=(speech, None), dual=(speech, en_speech), dual_half=(speech, en_half))
        line = f"ep {i:2d} ({n_chars} chars, {len(mix) / SR:5.1f} s, {len(clips)} clips):"
        for m, d in diarizers.items():
            audio, other = inputs[table[m][1]]
            t0, c0 = time.perf_counter(), time.process_time()
            kw = {"subtitles": subs[m]} if with_subs[m] and subs is not None else {}
            hyp = d.diarize(audio, SR, **kw) if other is None else d.diarize(audio, SR, other=other, **kw)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            s = score(ref, hyp, clips, release)
            s["rtf"], s["rtf_cpu"] = len(mix) / SR / wall, len(mix) / SR / max(cpu, 1e-9)
            rows[m].append(s)
            line += (f"  {m}: DER {100 * s['der']:5.1f} % spk {s['n_hyp']}/{s['n_ref']} "
                     f"clips {100 * s['clips_ok'] / s['clips']:3.0f} % {s['rtf']:4.0f}x")
            if s["merged"]:
                line += f" (merged {', '.join(s['merged'])})"
        if not args.quiet:
            print(line, flush=True)
    print(f"\n{args.episodes} episodes, {args.duration:.0f} s, 2-6 characters, collar 0.25 s in pyannote's sense "
          f"(total width: +-0.125 s around each reference boundary), overlaps scored")
    if repeats:
        print(f"bank {args.bank}: JP lines reusing a take already heard in the episode: "
              f"{np.mean(repeats):.1f} per episode (min {min(repeats)}, max {max(repeats)})")
    header = f"{'measure':34s}" + "".join(f"{m:>14s}" for m in args.methods) + "   target"
    print(header)

    def agg(m: str, key: str) -> float:
        return float(np.sum([r.get(key, 0.0) for r in rows[m]]))

    def unsure_right(m: str) -> float:
        return (agg(m, "clips_ok") - agg(m, "sure_ok")) / max(agg(m, "clips") - agg(m, "sure"), 1)

    def errors(m: str) -> float:
        return agg(m, "missed_s") + agg(m, "false_s") + agg(m, "confusion_s")

    out = [
        ("DER (mean over episodes)", lambda m: f"{100 * np.mean([r['der'] for r in rows[m]]):.1f} %", "<= 15 %"),
        ("  DER, +-0.25 s collar (NIST md-eval -c 0.25)",
         lambda m: f"{100 * np.mean([r['der_nist'] for r in rows[m]]):.1f} %", ""),
        ("DER (pooled time)", lambda m: f"{100 * errors(m) / agg(m, 'total_s'):.1f} %", ""),
        ("  missed / false alarm / confusion",
         lambda m: "/".join(f"{agg(m, k):.0f}" for k in ("missed_s", "false_s", "confusion_s")) + " s", ""),
        ("    missed: overlap / one speaker",
         lambda m: f"{agg(m, 'miss_overlap'):.0f} / {agg(m, 'miss_single'):.0f} s", ""),
        ("    false alarm: pad / far / extra",
         lambda m: "/".join(f"{agg(m, k):.0f}" for k in ("fa_pad", "fa_far", "fa_extra")) + " s", ""),
        ("speaker count right", lambda m: f"{100 * agg(m, 'count_ok') / len(rows[m]):.0f} %", ">= 90 %"),
        ("missed / false speakers", lambda m: f"{agg(m, 'missed_spk'):.0f} / {agg(m, 'false_spk'):.0f}", ""),
        ("clip speaker set right", lambda m: f"{100 * agg(m, 'clips_ok') / agg(m, 'clips'):.1f} %", ">= 85 %"),
        ("  single-speaker clips", lambda m: f"{100 * agg(m, 'single_ok') / max(agg(m, 'single'), 1):.1f} %", ""),
        ("  multi-speaker clips", lambda m: f"{100 * agg(m, 'multi_ok') / max(agg(m, 'multi'), 1):.1f} %", ""),
        ("clip speaker set right, release clips",
         lambda m: f"{100 * agg(m, 'rclips_ok') / max(agg(m, 'rclips'), 1):.1f} %", ">= 85 %"),
        ("  single / multi-speaker",
         lambda m: f"{100 * agg(m, 'rsingle_ok') / max(agg(m, 'rsingle'), 1):.0f}/"
                   f"{100 * agg(m, 'rmulti_ok') / max(agg(m, 'rmulti'), 1):.0f} %", ""),
        ("clips with a sure speaker set", lambda m: f"{100 * agg(m, 'sure') / agg(m, 'clips'):.1f} %", ""),
        ("  of which right", lambda m: f"{100 * agg(m, 'sure_ok') / max(agg(m, 'sure'), 1):.1f} %", ""),
        ("  uncertain ones right", lambda m: f"{100 * unsure_right(m):.1f} %", ""),
        ("speed (x real time, min)", lambda m: f"{min(r['rtf'] for r in rows[m]):.0f}x", ">= 20x"),
        ("  per CPU second (audio s / CPU s)", lambda m: f"{np.median([r['rtf_cpu'] for r in rows[m]]):.0f}x", ""),
    ]
    for name, fn, target in out:
        print(f"{name:34s}" + "".join(f"{fn(m):>14s}" for m in args.methods) + f"   {target}")
    for m in args.methods:  # which voices the missed speakers were merged into (a pair, in either order)
        pairs = Counter(" & ".join(sorted(x.split(" & "))) for r in rows[m] for x in r["merged"])
        if pairs:
            print(f"missed speakers merged ({m}): " + ", ".join(f"{p} x{n}" for p, n in pairs.most_common()))


if __name__ == "__main__":
    main()
