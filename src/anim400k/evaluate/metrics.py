"""Automatic dubbing metrics: timing against the source, speech rate, loudness, voice, content.

Per clip (dub vs the JP source and the gold EN clip of the release):

* ``onset_error`` / ``end_error``: first speech start / last speech end of the dub minus the
  source's (seconds; VAD on both: silero-vad, or an energy VAD),
* ``overlap``: intersection over union of the dub's and the source's speech regions,
* ``voiced_ratio``: dub voiced duration / source voiced duration (speech-rate proxy), and with
  ASR ``rate_ratio``: the dub's words per voiced second / the gold EN's,
* ``loudness_diff``: integrated loudness of the dub minus the gold EN (LU, BS.1770 over each file's
  own channels with their BS.1770 weights, measured at :data:`LOUDNESS_SR` so content above the
  analysis rate's 8 kHz Nyquist counts),
* ``speaker_similarity``: cosine of Resemblyzer embeddings of dub and gold EN,
* with an ASR backend: sentence BLEU/chrF (sacrebleu) and WER (jiwer) of the dub's transcript
  against the gold EN's transcript; the summary adds corpus-level BLEU/chrF/WER (a clip whose gold
  transcript normalises to nothing has no WER of its own, its dub's words count as insertions in the
  corpus WER, and it is listed in ``empty_reference``),
* with an ASR backend and the dub's script (``dub_dataset_report.json`` of ``anim400k dub
  --dataset`` records the text each clip speaks): ``intelligibility_wer``, the WER of what the
  ASR hears in the dub against the text it was meant to say (corpus figure in ``corpus``).

Every WER is computed after :func:`anim400k.textnorm.normalize_english` (numbers as words,
contractions expanded by Whisper's rules, punctuation dropped).

Timing, ASR and voice read a mono copy of each file at :data:`SR`: the downmix of
:func:`anim400k.evaluate.stimuli.downmix`, which takes the loudest channel where the mean downmix
cancelled (channels in opposite phase). A dub is silent (:func:`is_silent`) by BS.1770's own rule,
K-weighted over its channels: nothing reaches the -70 LUFS absolute gate.

Timing lives in :mod:`.speech_timing`, voice and content scores in :mod:`.content`, the output files in
:mod:`.metrics_files`; this module measures clips and runs over a dubs folder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..signal import ANALYSIS_SR, below_absolute_gate, k_weighted_loudness, loudness_and_method
from .content import SpeakerEncoder, corpus_text_scores, text_scores, text_signatures
from .speech_timing import VADS, speech_regions, timing, total

SR = ANALYSIS_SR
#: rate loudness is measured at (BS.1770 over the full audio band, not the 16 kHz analysis copy)
LOUDNESS_SR = 48000
#: a dub whose loudness is below BS.1770's absolute gate is silent: nothing to measure in it
SILENT_BELOW_LUFS = -70.0


def is_silent(x: np.ndarray, sr: int, weights: Sequence[float] | None = None) -> bool:
    """Whether ``x`` (mono, or ``(channels, n)`` with BS.1770 channel ``weights``) is silent: all zeros, or no
    K-weighted 400 ms block reaches :data:`SILENT_BELOW_LUFS`, BS.1770's absolute gate
    (:func:`anim400k.signal.below_absolute_gate`: a DC offset or infrasound is silence)."""
    return below_absolute_gate(x, sr, weights)


def loudness_difference(
    dub: np.ndarray,
    gold: np.ndarray,
    sr: int,
    weights: tuple[Sequence[float] | None, Sequence[float] | None] = (None, None),
) -> float:
    """Loudness of ``dub`` minus ``gold`` in LU, both measured the same way.

    Gated BS.1770 (:func:`anim400k.signal.loudness_and_method`) when both clips hold a 400 ms gating block;
    otherwise the K-weighted ungated loudness of both (:func:`anim400k.signal.k_weighted_loudness`), so a
    clip under one block is not set against a K-weighted one with a measure that is not (a 0.35 s gold line
    against a 0.45 s dub of the same 4 kHz tone read +3.9 LU). Each is mono or ``(channels, n)`` with its
    BS.1770 channel weights in ``weights``.
    """
    (a, gated_a), (b, gated_b) = loudness_and_method(dub, sr, weights[0]), loudness_and_method(gold, sr, weights[1])
    if gated_a and gated_b:
        return a - b
    return k_weighted_loudness(dub, sr, weights[0]) - k_weighted_loudness(gold, sr, weights[1])


@dataclass
class ClipMetrics:
    """All metrics of one dubbed clip (NaN where not measurable)."""

    clip: str
    duration: float
    onset_error: float
    end_error: float
    overlap: float
    voiced_ratio: float
    loudness_diff: float
    speaker_similarity: float
    rate_ratio: float = math.nan
    bleu: float = math.nan
    chrf: float = math.nan
    wer: float = math.nan
    intelligibility_wer: float = math.nan
    dub_text: str = ""
    gold_text: str = ""
    script_text: str = ""
    silent: bool = False


def clip_metrics(
    clip: str,
    dub: np.ndarray,
    source: np.ndarray,
    gold: np.ndarray,
    sr: int,
    vad: str = "silero",
    encoder: SpeakerEncoder | None = None,
    transcribe: Callable[[np.ndarray], str] | None = None,
    script: str | None = None,
    loudness_audio: tuple[np.ndarray, np.ndarray, int] | None = None,
    loudness_weights: tuple[Sequence[float] | None, Sequence[float] | None] = (None, None),
) -> ClipMetrics:
    """Metrics of one dub against its JP source (timing) and gold EN (loudness, voice, content).

    ``dub``, ``source`` and ``gold`` are mono at ``sr``. ``loudness_audio`` is ``(dub, gold, rate)`` at the
    rate loudness is measured at (:data:`LOUDNESS_SR` in :func:`evaluate_dubs`), each mono or
    ``(channels, n)`` with its BS.1770 channel weights in ``loudness_weights``; without it ``dub``/``gold``
    at ``sr`` are measured. A silent dub (:func:`is_silent`) is flagged ``silent``; its speaker similarity
    and loudness difference are not computed (nor the difference to a silent gold clip).
    """
    ld, lg, lsr = loudness_audio if loudness_audio is not None else (dub, gold, sr)
    w_dub, w_gold = loudness_weights
    silent = is_silent(ld, lsr, w_dub)
    measurable = not silent and not is_silent(lg, lsr, w_gold)
    # a silent dub holds no speech, whatever a VAD relative to the clip's own peak finds in its hum or DC
    src_r, dub_r = speech_regions(source, sr, vad), [] if silent else speech_regions(dub, sr, vad)
    t = timing(src_r, dub_r)
    m = ClipMetrics(
        clip=clip,
        duration=round(dub.size / sr, 3),
        **t,
        loudness_diff=round(loudness_difference(ld, lg, lsr, loudness_weights), 2) if measurable else math.nan,
        speaker_similarity=encoder.similarity(dub, gold, sr) if encoder and not silent else math.nan,
        silent=silent,
    )
    if transcribe is not None:
        m.dub_text, m.gold_text = transcribe(dub), transcribe(gold)
        m.bleu, m.chrf, m.wer = (text_scores(m.dub_text, m.gold_text)[k] for k in ("bleu", "chrf", "wer"))
        if script:
            from ..textnorm import wer

            m.script_text = script
            w = wer(script, m.dub_text)
            m.intelligibility_wer = round(w, 4) if math.isfinite(w) else math.nan
        gold_r = speech_regions(gold, sr, vad)
        wd, wg = len(m.dub_text.split()), len(m.gold_text.split())
        if wd and wg and total(dub_r) > 0 and total(gold_r) > 0:
            m.rate_ratio = round((wd / total(dub_r)) / (wg / total(gold_r)), 4)
    return m


#: the corpus figures ``metrics.json`` always holds (``null`` when not measured)
CORPUS_KEYS = ("bleu", "chrf", "wer", "intelligibility_wer")

NUMERIC = (
    "onset_error",
    "end_error",
    "overlap",
    "voiced_ratio",
    "rate_ratio",
    "loudness_diff",
    "speaker_similarity",
    "bleu",
    "chrf",
    "wer",
    "intelligibility_wer",
)


@dataclass
class MetricsReport:
    """Per-clip metrics and their summary."""

    dubs: str
    reference: str
    vad: str
    asr: str | None
    clips: list[ClipMetrics]
    #: clips of the release (split) with no dub in the folder
    missing: list[str] = field(default_factory=list)
    #: dubbed clips the release has no JP or gold EN audio for (not measured)
    skipped: list[str] = field(default_factory=list)
    #: clips of the release (split) in all, and how many of them have a dub
    n_clips: int = 0
    n_dubbed: int = 0
    #: measured dubs that are silent (see :func:`is_silent`)
    silent: list[str] = field(default_factory=list)
    #: (with ASR) clips whose gold EN transcript normalises to nothing (a gasp, "Hmm...", nothing heard): their
    #: WER is NaN, while the corpus WER counts what the dub's transcript says there as insertions
    empty_reference: list[str] = field(default_factory=list)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    corpus: dict[str, float] = field(default_factory=dict)
    #: (with ASR) how BLEU/chrF/WER were computed (:func:`~anim400k.evaluate.content.text_signatures`)
    signatures: dict[str, str] = field(default_factory=dict)


def summarise(clips: Sequence[ClipMetrics]) -> dict[str, dict[str, float | None]]:
    """Per metric measured on a clip at least: number of clips measured, mean, median, sample std (None for one
    clip: it was 0.0, "no spread") and the mean of absolute values for errors."""
    out: dict[str, dict[str, float | None]] = {}
    for name in NUMERIC:
        v = np.array([getattr(c, name) for c in clips], dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        row: dict[str, float | None] = {
            "n": int(v.size),
            "mean": round(float(v.mean()), 4),
            "median": round(float(np.median(v)), 4),
            "std": round(float(v.std(ddof=1)), 4) if v.size > 1 else None,  # one value has no spread
        }
        if name.endswith("_error"):
            row["mean_abs"] = round(float(np.abs(v).mean()), 4)
        out[name] = row
    return out


def evaluate_dubs(
    dubs: str | Path,
    reference: str | Path,
    asr: str | None = None,
    vad: str = "silero",
    split: str = "all",
    speaker: bool = True,
    limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> MetricsReport:
    """Measure every dub in ``dubs`` (``DIR/F/UUID.mp3`` keyed by EN clip ID) against the release.

    ``limit``: at most this many clips (None: all; below 1 is :class:`InputError`).
    """
    from ..errors import check_number
    from .dataset import load_clips, system_audio
    from .stimuli import load_channels, load_mono

    if limit is not None:
        check_number("limit", limit, 1)
    if Path(dubs).exists() and not Path(dubs).is_dir():  # was 'no such dubs folder' for a file that is there
        raise InputError("is a file, not a folder of dubs (DIR/F/UUID.mp3 keyed by the EN clip ID)", dubs)
    if not Path(dubs).is_dir():
        raise InputError("no such dubs folder", dubs)
    if vad not in VADS:
        raise InputError(f"unknown VAD {vad!r} (use {', '.join(VADS)})")
    transcribe = None
    if asr:
        from ..asr import get_transcriber

        backend = get_transcriber(asr)

        def transcribe(x: np.ndarray) -> str:
            tr = backend.transcribe(x, SR, "en")
            return " ".join(s.text.strip() for s in tr.segments if s.text.strip())

    scripts = dub_scripts(dubs)
    encoder = SpeakerEncoder() if speaker else None
    report = MetricsReport(str(dubs), str(reference), vad, asr, [])
    clips = load_clips(reference, split)
    dubbed = []
    for clip in clips:
        path = system_audio(dubs, clip.en_clip)
        if path is None:
            report.missing.append(clip.en_clip)
        else:
            dubbed.append((clip, path))
    report.n_clips, report.n_dubbed = len(clips), len(dubbed)
    for clip, path in dubbed:
        if not clip.jp_audio.is_file() or not clip.en_audio.is_file():
            report.skipped.append(clip.en_clip)
            continue
        if progress:
            progress(clip.en_clip)
        dub_l, gold_l = load_channels(path, LOUDNESS_SR), load_channels(clip.en_audio, LOUDNESS_SR)
        m = clip_metrics(
            clip.en_clip,
            load_mono(path, SR),
            load_mono(clip.jp_audio, SR),
            load_mono(clip.en_audio, SR),
            SR,
            vad,
            encoder,
            transcribe,
            scripts.get(clip.en_clip),
            (dub_l.samples, gold_l.samples, LOUDNESS_SR),
            (dub_l.loudness_weights, gold_l.loudness_weights),
        )
        report.clips.append(m)
        if m.silent:
            report.silent.append(m.clip)
        if limit is not None and len(report.clips) >= limit:
            break
    if not report.clips:
        raise InputError(
            "no dub in this folder matches a clip of the reference release (DIR/F/UUID.mp3)", dubs
        )
    report.summary = summarise(report.clips)
    if asr:
        from ..textnorm import empty_reference

        report.corpus = corpus_text_scores(
            [c.dub_text for c in report.clips], [c.gold_text for c in report.clips]
        )
        report.empty_reference = [c.clip for c in report.clips if empty_reference(c.gold_text)]
        report.signatures = text_signatures()
        spoken = [c for c in report.clips if c.script_text]
        if spoken:
            from ..textnorm import wer

            w = wer([c.script_text for c in spoken], [c.dub_text for c in spoken])
            report.corpus["intelligibility_wer"] = round(w, 4) if math.isfinite(w) else math.nan
    for key in CORPUS_KEYS:  # not measured (--asr none, no dub script): null in metrics.json, not a missing key
        report.corpus.setdefault(key, math.nan)
    return report


def dub_scripts(dubs: str | Path) -> dict[str, str]:
    """EN clip ID -> the text its dub speaks: from ``dub_dataset_report.json`` in ``dubs`` (if any), and for a dub
    the report does not list, from its own entry beside its MP3 (``F/UUID.dub.json`` of the same MP3). A later
    run with a smaller ``--limit`` rewrites the report with its clips only while the earlier dubs stay: their
    scripts were lost, and with them their ``intelligibility_wer`` (2 of 37 clips), without a word."""
    import json

    from ..dub.dataset_mode import ENTRY_SUFFIX, REPORT_NAME, kept_entry

    scripts: dict[str, str] = {}
    path = Path(dubs) / REPORT_NAME
    if path.is_file():
        try:
            clips = json.loads(path.read_text(encoding="utf-8")).get("clips", [])
        except (OSError, ValueError, AttributeError) as exc:
            raise InputError(f"cannot read the dub report ({exc})", path) from exc
        scripts = {c["en_clip"]: c["text"] for c in clips
                   if isinstance(c, dict) and c.get("text") and c.get("en_clip")}
    for side in sorted(Path(dubs).glob(f"*/*{ENTRY_SUFFIX}")):
        entry = kept_entry(side.with_name(side.name.removesuffix(ENTRY_SUFFIX) + ".mp3"))
        if entry and entry.get("en_clip") and entry.get("text") and entry["en_clip"] not in scripts:
            scripts[entry["en_clip"]] = entry["text"]
    return scripts
