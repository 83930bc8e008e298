"""The score stage: an episode's outputs against its ground truth (synthetic episodes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..align import align_clips
from ..errors import AnimError, InputError, one_line
from ..model import EN, JP, Segment, TimeMap
from ..scoring import alignment_score
from ..storage import local_input
from .context import EpisodeContext
from .options import ANALYSIS_SR


def true_clip_intervals(truth: Any, tolerance_ms: int) -> list[tuple[float, float]]:
    """Ground-truth clips: the paper's alignment applied to the true line timings."""
    en = [Segment(ln.en_start, ln.en_end) for ln in truth.lines]
    jp = [Segment(ln.jp_start, ln.jp_end) for ln in truth.lines]
    tm = TimeMap(truth.offset, truth.drift)
    clips = align_clips(en, jp, tolerance_ms=tolerance_ms, jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp)
    return [(c.en_start, c.en_end) for c in clips]


def score_episode(ctx: EpisodeContext) -> dict[str, Any]:
    """Alignment F1 (with and without sync), sync error, English WER, Japanese reading CER, DER and backing
    SDR for one episode.

    The truth file itself must read (:class:`InputError`, as the probe stage checks). A score that cannot
    be computed (a stem the truth names is missing or unreadable) is left out and its reason is one line
    in ``warnings``: the scores are for the report, and the built episode is kept.
    """
    from ..formats.transcripts import read_transcript
    from ..synth import load_truth

    truth_file = str(ctx.ref.metadata["truth"])
    truth = load_truth(local_input(truth_file))
    tol = ctx.options.tolerance_ms
    gt = true_clip_intervals(truth, tol)
    pred = [(c.en_start, c.en_end) for c in ctx.clips()]
    out: dict[str, Any] = {"alignment": alignment_score(pred, gt)}
    en = read_transcript(ctx.artifact(f"{EN}.transcript.json"), language=EN)
    jp = read_transcript(ctx.artifact(f"{JP}.transcript.json"), language=JP)
    nosync = align_clips(en.segments, jp.segments, tolerance_ms=tol)
    out["alignment_without_sync"] = alignment_score([(c.en_start, c.en_end) for c in nosync], gt)
    tm = ctx.timemap()
    out["sync"] = {"offset_error_ms": abs(tm.offset - truth.offset) * 1000,
                   "drift_error_pct": abs(tm.drift - truth.drift) * 100}
    out["asr_en"] = english_wer(truth, en)
    out["asr_ja"] = japanese_cer(truth, jp)
    warnings: list[str] = []
    for name, what, score in (("diarization", "diarization DER", _der), ("separation", "backing SDR", _sdr)):
        try:
            out[name] = score(ctx, truth)
        except (AnimError, OSError, RuntimeError, KeyError, ValueError) as exc:
            warnings.append(f"{what} not scored: {one_line(exc)} (ground truth {truth_file})")
    out["warnings"] = warnings
    return out


def english_wer(truth: Any, transcript: Any) -> dict[str, float]:
    """WER of the EN transcript against the true EN lines (episode text in time order, normalised).

    NaN when the transcript has no text (a VAD-only backend or an imported untranscribed file).
    """
    from ..textnorm import wer

    ref = " ".join(ln.en_text for ln in sorted(truth.lines, key=lambda ln: ln.en_start))
    hyp = " ".join(s.text.strip() for s in transcript.segments if s.text and s.text.strip())
    if not hyp and transcript.segments and not any(s.transcribed for s in transcript.segments):
        return {"wer": float("nan"), "words": len(ref.split())}
    return {"wer": wer(ref, hyp), "words": len(ref.split())}


def japanese_cer(truth: Any, transcript: Any) -> dict[str, float]:
    """Reading CER of the JP transcript against the true JP lines (episode text in time order).

    Both sides are turned into their katakana reading (:func:`anim400k.textnorm.cer` with ``reading=True``):
    the synthetic lines are written in kana, Whisper writes kanji. NaN when the transcript has no text
    (``--asr-ja vad``, or an imported untranscribed file), as :func:`english_wer`.
    """
    from ..textnorm import cer

    ref = "".join(ln.jp_text for ln in sorted(truth.lines, key=lambda ln: ln.jp_start))
    hyp = "".join(s.text.strip() for s in transcript.segments if s.text and s.text.strip())
    if not hyp and transcript.segments and not any(s.transcribed for s in transcript.segments):
        return {"reading_cer": float("nan"), "lines": len(truth.lines)}
    return {"reading_cer": cer(ref, hyp, reading=True), "lines": len(truth.lines)}


def _der(ctx: EpisodeContext, truth: Any) -> dict[str, float]:
    from ..diarize import Turn
    from ..diarize.metrics import der
    from ..formats.rttm import read_rttm

    ref = [Turn(ln.jp_start, ln.jp_end, ln.speaker) for ln in truth.lines]
    hyp = read_rttm(ctx.artifact("jp.rttm"))
    return {"der": float(der(ref, hyp, collar=0.25))}


def _sdr(ctx: EpisodeContext, truth: Any) -> dict[str, float]:
    import soundfile as sf

    from ..separate.metrics import sdr, si_sdr
    from ..signal import prepare_audio

    ref, sr = sf.read(_stem_file(truth, "backing"), dtype="float32")
    ref = prepare_audio(ref, sr, ANALYSIS_SR)
    est, _ = sf.read(ctx.artifact("backing.flac"), dtype="float32")
    mix = ctx.analysis_audio(JP)
    n = min(len(ref), len(est), len(mix))
    return {"sdr": float(sdr(ref[:n], est[:n])), "si_sdr": float(si_sdr(ref[:n], est[:n])),
            "sdr_of_mix": float(sdr(ref[:n], mix[:n]))}


def _stem_file(truth: Any, name: str) -> Path:
    """The file of the truth's stem ``name``; :class:`InputError` when the truth names none or it is missing."""
    try:
        path = truth.stem_path(name)
    except KeyError as exc:
        raise InputError(f"the ground truth names no {name!r} stem") from exc
    if not path.is_file():
        raise InputError(f"{name} stem not found", path)
    return path
