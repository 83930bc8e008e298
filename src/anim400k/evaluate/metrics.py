"""Automatic dubbing metrics: timing against the source, speech rate, loudness, voice, content.

Per clip (dub vs the JP source and the gold EN clip of the release):

* ``onset_error`` / ``end_error``: first speech start / last speech end of the dub minus the
  source's (seconds; VAD on both: silero-vad, or an energy VAD),
* ``overlap``: intersection over union of the dub's and the source's speech regions,
* ``voiced_ratio``: dub voiced duration / source voiced duration (speech-rate proxy), and with
  ASR ``rate_ratio``: the dub's words per voiced second / the gold EN's,
* ``loudness_diff``: integrated loudness of the dub minus the gold EN (LU, BS.1770),
* ``speaker_similarity``: cosine of Resemblyzer embeddings of dub and gold EN,
* with an ASR backend: sentence BLEU/chrF (sacrebleu) and WER (jiwer) of the dub's transcript
  against the gold EN's transcript; the summary adds corpus-level BLEU/chrF/WER,
* with an ASR backend and the dub's script (``dub_dataset_report.json`` of ``anim400k dub
  --dataset`` records the text each clip speaks): ``intelligibility_wer``, the WER of what the
  ASR hears in the dub against the text it was meant to say (corpus figure in ``corpus``).

Every WER is computed after :func:`anim400k.textnorm.normalize_english` (numbers as words,
contractions expanded by Whisper's rules, punctuation dropped).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BackendUnavailable, InputError
from ..fsutil import jsonable, save_figure, write_json_atomic, write_text_atomic
from ..registry import VADS as VAD_REGISTRY
from ..signal import ANALYSIS_SR
from .stimuli import integrated_loudness

Regions = list[tuple[float, float]]
SR = ANALYSIS_SR
VADS = tuple(VAD_REGISTRY.names())


# -- voice activity ----------------------------------------------------------------------------


def energy_vad(
    x: np.ndarray,
    sr: int,
    threshold_db: float = -30.0,
    frame_s: float = 0.025,
    hop_s: float = 0.010,
    min_speech_s: float = 0.08,
    min_gap_s: float = 0.25,
) -> Regions:
    """Speech regions where frame RMS is within ``threshold_db`` of the loudest frame (and above -60 dBFS)."""
    frame, hop = max(1, int(frame_s * sr)), max(1, int(hop_s * sr))
    if x.size < frame:
        return []
    n = 1 + (x.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    rms = np.sqrt(np.mean(x[idx].astype(np.float64) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms)
    active = db > max(db.max() + threshold_db, -60.0)
    regions: Regions = []
    start = None
    for i, a in enumerate(np.append(active, False)):
        if a and start is None:
            start = i
        elif not a and start is not None:
            regions.append((start * hop / sr, min(x.size / sr, ((i - 1) * hop + frame) / sr)))
            start = None
    merged: Regions = []
    for s, e in regions:
        if merged and s - merged[-1][1] < min_gap_s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in merged if e - s >= min_speech_s]


def silero_regions(x: np.ndarray, sr: int) -> Regions:
    """silero-vad speech regions for dub evaluation (short words count: 100 ms minimum)."""
    from ..asr.vad import VadOptions
    from ..asr.vad import speech_regions as asr_regions

    return asr_regions(x, sr, VadOptions(min_speech_ms=100, min_silence_ms=250))


def speech_regions(x: np.ndarray, sr: int, vad: str = "silero") -> Regions:
    """Speech regions of ``x`` with the named VAD (``silero`` or ``energy``; :data:`anim400k.registry.VADS`)."""
    return VAD_REGISTRY.load(vad)(x, sr)  # type: ignore[no-any-return]


def total(regions: Regions) -> float:
    """Summed duration of (non-overlapping) regions."""
    return float(sum(e - s for s, e in regions))


def intersection(a: Regions, b: Regions) -> float:
    """Duration covered by both region lists."""
    i = j = 0
    out = 0.0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        out += max(0.0, hi - lo)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def timing(source: Regions, dub: Regions) -> dict[str, float]:
    """Onset/end error (dub minus source, s), speech overlap (IoU) and voiced-duration ratio."""
    nan = math.nan
    if not source or not dub:
        return {
            "onset_error": nan,
            "end_error": nan,
            "overlap": 0.0 if (source or dub) else nan,
            "voiced_ratio": nan if not source else 0.0,
        }
    inter = intersection(source, dub)
    union = total(source) + total(dub) - inter
    return {
        "onset_error": round(dub[0][0] - source[0][0], 3),
        "end_error": round(dub[-1][1] - source[-1][1], 3),
        "overlap": round(inter / union, 4) if union > 0 else nan,
        "voiced_ratio": round(total(dub) / total(source), 4),
    }


# -- voice and content -------------------------------------------------------------------------


class SpeakerEncoder:
    """Resemblyzer speaker embeddings (its package ships the weights); CPU."""

    def __init__(self) -> None:
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise BackendUnavailable("resemblyzer", None, "pip install resemblyzer") from exc
        self.encoder = VoiceEncoder("cpu", verbose=False)

    def embed(self, x: np.ndarray, sr: int) -> np.ndarray | None:
        """L2-normalised utterance embedding (None when too little speech remains)."""
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(np.asarray(x, dtype=np.float32), source_sr=sr)
        if wav.size < int(0.3 * SR):
            return None
        return np.asarray(self.encoder.embed_utterance(wav), dtype=np.float64)

    def similarity(self, a: np.ndarray, b: np.ndarray, sr: int) -> float:
        """Cosine similarity of the two signals' speakers (NaN if either has too little speech)."""
        ea, eb = self.embed(a, sr), self.embed(b, sr)
        if ea is None or eb is None:
            return math.nan
        return round(float(ea @ eb / (np.linalg.norm(ea) * np.linalg.norm(eb))), 4)


def text_scores(hypothesis: str, reference: str) -> dict[str, float]:
    """Sentence BLEU and chrF (sacrebleu) and WER (jiwer after :func:`anim400k.textnorm.normalize_english`)."""
    import sacrebleu

    from ..textnorm import wer

    out = {
        "bleu": round(sacrebleu.sentence_bleu(hypothesis, [reference]).score, 2),
        "chrf": round(sacrebleu.sentence_chrf(hypothesis, [reference]).score, 2),
    }
    w = wer(reference, hypothesis)
    out["wer"] = round(w, 4) if math.isfinite(w) else math.nan
    return out


def corpus_text_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU/chrF and WER over all clips."""
    import sacrebleu

    from ..textnorm import wer

    if not hypotheses:
        return {}
    w = wer(list(references), list(hypotheses))
    return {
        "bleu": round(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score, 2),
        "chrf": round(sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score, 2),
        "wer": round(w, 4) if math.isfinite(w) else math.nan,
    }


# -- per clip and per system -------------------------------------------------------------------


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
) -> ClipMetrics:
    """Metrics of one dub against its JP source (timing) and gold EN (loudness, voice, content)."""
    src_r, dub_r = speech_regions(source, sr, vad), speech_regions(dub, sr, vad)
    t = timing(src_r, dub_r)
    lo_d, lo_g = integrated_loudness(dub, sr), integrated_loudness(gold, sr)
    m = ClipMetrics(
        clip=clip,
        duration=round(dub.size / sr, 3),
        **t,
        loudness_diff=round(lo_d - lo_g, 2) if math.isfinite(lo_d) and math.isfinite(lo_g) else math.nan,
        speaker_similarity=encoder.similarity(dub, gold, sr) if encoder else math.nan,
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
    missing: list[str] = field(default_factory=list)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    corpus: dict[str, float] = field(default_factory=dict)


def summarise(clips: Sequence[ClipMetrics]) -> dict[str, dict[str, float]]:
    """Per metric: number of clips measured, mean, median, std (and mean of absolute for errors)."""
    out: dict[str, dict[str, float]] = {}
    for name in NUMERIC:
        v = np.array([getattr(c, name) for c in clips], dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        row = {
            "n": int(v.size),
            "mean": round(float(v.mean()), 4),
            "median": round(float(np.median(v)), 4),
            "std": round(float(v.std(ddof=1)) if v.size > 1 else 0.0, 4),
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
    """Measure every dub in ``dubs`` (``DIR/F/UUID.mp3`` keyed by EN clip ID) against the release."""
    from .dataset import load_clips, system_audio
    from .stimuli import load_mono

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
    for clip in load_clips(reference, split):
        path = system_audio(dubs, clip.en_clip)
        if path is None:
            continue
        if not clip.jp_audio.is_file() or not clip.en_audio.is_file():
            report.missing.append(clip.en_clip)
            continue
        if progress:
            progress(clip.en_clip)
        report.clips.append(
            clip_metrics(
                clip.en_clip,
                load_mono(path, SR),
                load_mono(clip.jp_audio, SR),
                load_mono(clip.en_audio, SR),
                SR,
                vad,
                encoder,
                transcribe,
                scripts.get(clip.en_clip),
            )
        )
        if limit and len(report.clips) >= limit:
            break
    if not report.clips:
        raise InputError(
            "no dub in this folder matches a clip of the reference release (DIR/F/UUID.mp3)", dubs
        )
    report.summary = summarise(report.clips)
    if asr:
        report.corpus = corpus_text_scores(
            [c.dub_text for c in report.clips], [c.gold_text for c in report.clips]
        )
        spoken = [c for c in report.clips if c.script_text]
        if spoken:
            from ..textnorm import wer

            w = wer([c.script_text for c in spoken], [c.dub_text for c in spoken])
            report.corpus["intelligibility_wer"] = round(w, 4) if math.isfinite(w) else math.nan
    return report


def dub_scripts(dubs: str | Path) -> dict[str, str]:
    """EN clip ID -> the text its dub speaks, from ``dub_dataset_report.json`` in ``dubs`` (if any)."""
    import json

    from ..dub.dataset_mode import REPORT_NAME

    path = Path(dubs) / REPORT_NAME
    if not path.is_file():
        return {}
    try:
        clips = json.loads(path.read_text(encoding="utf-8")).get("clips", [])
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(f"cannot read the dub report ({exc})", path) from exc
    return {c["en_clip"]: c["text"] for c in clips if isinstance(c, dict) and c.get("text") and c.get("en_clip")}



def plot_metrics(report: MetricsReport, path: str | Path) -> Path:
    """Histograms of onset error, speech overlap, loudness difference and speaker similarity (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("onset_error", "speech onset error (s)"),
        ("overlap", "speech overlap (IoU)"),
        ("loudness_diff", "loudness dub - gold EN (LU)"),
        ("speaker_similarity", "speaker similarity"),
    )
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), dpi=100)
    for ax, (name, label) in zip(axes, panels, strict=True):
        v = np.array([getattr(c, name) for c in report.clips], float)
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(v, bins=min(20, max(3, v.size)), color="#3c6ee6", alpha=0.85)
            ax.axvline(float(np.mean(v)), color="#d9363e", lw=1.5, label=f"mean {np.mean(v):.2f}")
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(label)
    axes[0].set_ylabel("clips")
    fig.suptitle(f"Dub metrics: {Path(report.dubs).name} ({len(report.clips)} clips)")
    fig.tight_layout()
    return save_figure(fig, path)


def write_metrics(report: MetricsReport, out: str | Path) -> dict[str, Path]:
    """Write ``metrics.json`` (clips, summary, corpus scores), ``metrics.csv`` and ``metrics.png``."""
    import csv
    import io

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "metrics.json", jsonable(asdict(report)))
    buf = io.StringIO()
    cols = [f.name for f in ClipMetrics.__dataclass_fields__.values()]
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for c in report.clips:
        w.writerow(
            {k: ("" if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(c).items()}
        )
    write_text_atomic(out / "metrics.csv", buf.getvalue())
    plot_metrics(report, out / "metrics.png")
    return {"json": out / "metrics.json", "csv": out / "metrics.csv", "plot": out / "metrics.png"}
