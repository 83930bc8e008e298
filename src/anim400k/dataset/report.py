"""The build report: per-episode outcomes, and the summary written at the end of a build.

:func:`finish_build` writes the release for the episodes that succeeded and ``build_report.json``
with clip counts, stage time, ground-truth scores, diarization confidence and JP-text checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fsutil.atomic import write_json_atomic
from .context import EpisodeContext
from .manifest import Manifest
from .options import BuildOptions

REPORT_FILE = "build_report.json"


@dataclass(slots=True)
class EpisodeResult:
    """What happened to one episode in a build."""

    key: str
    ok: bool = True
    error: str | None = None
    failed_stage: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    #: CPU seconds (all threads of the process that ran it) of each stage run in this build
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)
    skipped_stages: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BuildReport:
    """The outcome of :func:`anim400k.dataset.pipeline.build_dataset`."""

    out_dir: str
    episodes: list[EpisodeResult]
    clips: int = 0
    hours: float = 0.0
    #: wall seconds per stage, summed over the episodes, of the stages this build ran (a resumed build: not
    #: those an earlier build finished, :attr:`resumed_stages`), in pipeline order
    stage_seconds: dict[str, float] = field(default_factory=dict)
    #: CPU seconds per stage, summed over the episodes, of the stages this build ran (not those it skipped)
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)
    #: per stage, how many episodes this build resumed it in (an earlier build had finished it with the same
    #: inputs and settings: not run, no time), in pipeline order
    resumed_stages: dict[str, int] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unmatched_jp_segments: int = 0
    diarization: dict[str, Any] = field(default_factory=dict)
    #: JP transcript text: episodes whose JP transcript has no text, and the flag that fixes it
    jp_text: dict[str, Any] = field(default_factory=dict)
    #: whether the release (annotations, clips) was written: not when every episode failed
    written: bool = True

    @property
    def failed(self) -> list[EpisodeResult]:
        """Episodes that failed."""
        return [e for e in self.episodes if not e.ok]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "out_dir": self.out_dir, "written": self.written, "clips": self.clips, "hours": self.hours,
            "stage_seconds": self.stage_seconds, "stage_cpu_seconds": self.stage_cpu_seconds,
            "resumed_stages": self.resumed_stages,
            "scores": self.scores, "warnings": self.warnings,
            "unmatched_jp_segments": self.unmatched_jp_segments,
            "diarization": self.diarization,
            "jp_text": self.jp_text,
            "episodes": [
                {"key": e.key, "ok": e.ok, "error": e.error, "failed_stage": e.failed_stage,
                 "stage_seconds": e.stage_seconds, "stage_cpu_seconds": e.stage_cpu_seconds,
                 "skipped_stages": e.skipped_stages}
                for e in self.episodes
            ],
        }


def finish_build(manifest: Manifest, contexts: dict[str, EpisodeContext],
                 results: dict[str, EpisodeResult], options: BuildOptions, out: Path) -> BuildReport:
    """Write the release for the episodes that succeeded and ``build_report.json``; return the report."""
    from .release_writer import write_release

    report = BuildReport(out_dir=str(out), episodes=list(results.values()))
    _stage_times(report, results)
    ok_contexts = [c for k, c in contexts.items() if results[k].ok]
    if not ok_contexts:  # every episode failed: no release (an empty one would validate as fine)
        report.written = False
        report.warnings += _left_release_warning(out)
        write_json_atomic(out / REPORT_FILE, report.to_dict())
        return report
    summary = write_release(manifest, ok_contexts, out, options)
    report.clips, report.hours = summary["clips"], summary["hours"]
    report.unmatched_jp_segments = summary["unmatched_jp_segments"]
    report.warnings += summary["warnings"]
    report.scores = _collect_scores(ok_contexts)
    report.diarization = _collect_diarization(ok_contexts)
    report.jp_text = _collect_jp_text(ok_contexts)
    if report.jp_text.get("empty"):
        report.warnings.append(report.jp_text["message"])
    write_json_atomic(out / REPORT_FILE, report.to_dict())
    return report


def _stage_times(report: BuildReport, results: dict[str, EpisodeResult]) -> None:
    """The report's ``stage_seconds``, ``stage_cpu_seconds`` (this build's runs, summed over the episodes)
    and ``resumed_stages`` (episodes per stage that an earlier build had finished), in pipeline order.

    Only what this build did is timed: the catalog keeps the time of the run that finished each stage, which
    for a resumed stage is an earlier build's (a resumed build reported it again, as if it had just run).
    """
    from .stages import STAGES

    order = {s.name: k for k, s in enumerate(STAGES)}
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    resumed: dict[str, int] = {}
    for res in results.values():
        for stage, sec in res.stage_seconds.items():
            wall[stage] = wall.get(stage, 0.0) + sec
        for stage, sec in res.stage_cpu_seconds.items():
            cpu[stage] = cpu.get(stage, 0.0) + sec
        for stage in res.skipped_stages:
            resumed[stage] = resumed.get(stage, 0) + 1

    def ordered(d: dict[str, Any]) -> list[str]:
        return sorted(d, key=lambda name: (order.get(name, len(order)), name))

    report.stage_seconds = {k: round(wall[k], 3) for k in ordered(wall)}
    report.stage_cpu_seconds = {k: round(cpu[k], 3) for k in ordered(cpu)}
    report.resumed_stages = {k: resumed[k] for k in ordered(resumed)}


def _left_release_warning(out: Path) -> list[str]:
    """When no release is written: a warning that the annotations an earlier build wrote are still there
    (kept, not deleted: ``anim400k validate`` reports them as out of date against this build's report)."""
    from ..formats.ids import ANNOTATIONS_FILE

    if not (out / ANNOTATIONS_FILE).is_file():
        return []
    return [f"{ANNOTATIONS_FILE} is an earlier build's, left as it was: it does not hold this build's episodes "
            f"(`anim400k validate` reports it as out of date until a build writes a release)"]


#: How to get Japanese text when the JP ASR gave none (``--asr-ja vad`` finds speech only; see docs/asr.md).
JP_TEXT_FIX = ("--asr-ja auto (the default: whisper-base, shipped in wheels) or --asr-ja faster-whisper "
               "--asr-model DIR (a CTranslate2 Whisper folder such as faster-whisper-large-v3), or give each "
               "episode's JP transcript")


def _collect_jp_text(contexts: list[EpisodeContext]) -> dict[str, Any]:
    """Which built episodes have a JP transcript without any text (VAD-only ASR), and the fix."""
    from ..formats.transcripts import read_transcript
    from ..model import JP

    empty, given = [], []
    for ctx in contexts:
        p = ctx.artifact(f"{JP}.transcript.json")
        if not p.exists():
            continue
        t = read_transcript(p, language=JP)
        if not any(s.text.strip() for s in t.segments):
            (given if ctx.ref.transcripts.get(JP) else empty).append(ctx.ref.key)
    out: dict[str, Any] = {"episodes": len(contexts), "empty": len(empty) + len(given),
                           "empty_episodes": empty + given}
    parts = []
    if empty:
        out["fix"] = JP_TEXT_FIX
        parts.append(f"Japanese transcripts have no text in {len(empty)} of {len(contexts)} episodes "
                     "(jp_text is empty: --asr-ja vad finds speech only, or the JP ASR heard no words); "
                     f"use {JP_TEXT_FIX}")
    if given:
        parts.append(f"the JP transcript given in the manifest has no text in {len(given)} episode(s) "
                     f"({', '.join(given[:3])}{', ...' if len(given) > 3 else ''}): jp_text is empty there")
    if parts:
        out["message"] = "; ".join(parts)
    return out


def _collect_diarization(contexts: list[EpisodeContext]) -> dict[str, Any]:
    """Per episode: speakers found, clips, and clips whose speaker set is uncertain (confidence < 0.5).

    A clip without a confidence (a diarizer that gives none) counts in ``no_confidence``, not as
    uncertain; ``uncertain_share`` is over the clips that have one.
    """
    from ..diarize.clips import UNCERTAIN_BELOW
    from ..formats.rttm import read_rttm

    per: dict[str, Any] = {}
    totals = {"clips": 0, "rated": 0, "uncertain": 0}
    for ctx in contexts:
        rttm, clips_file = ctx.artifact("jp.rttm"), ctx.artifact("clips.json")
        if not (rttm.exists() and clips_file.exists()):
            continue
        speakers = {t.speaker for t in read_rttm(rttm)}
        conf = [c.speaker_confidence for c in ctx.clips()]
        rated = [c for c in conf if c is not None]
        uncertain = sum(c < UNCERTAIN_BELOW for c in rated)
        per[ctx.ref.key] = {
            "speakers": len(speakers), "clips": len(conf), "uncertain_clips": uncertain,
            "no_confidence": len(conf) - len(rated),
            "uncertain_share": round(uncertain / len(rated), 4) if rated else None,
        }
        totals["clips"] += len(conf)
        totals["rated"] += len(rated)
        totals["uncertain"] += uncertain
    if not per:
        return {}
    return {
        "uncertain_below": UNCERTAIN_BELOW,
        "clips": totals["clips"],
        "uncertain_clips": totals["uncertain"],
        "uncertain_share": round(totals["uncertain"] / totals["rated"], 4) if totals["rated"] else None,
        "episodes": per,
    }


def _collect_scores(contexts: list[EpisodeContext]) -> dict[str, Any]:
    import json

    import numpy as np

    per: dict[str, Any] = {}
    for ctx in contexts:
        p = ctx.artifact("score.json")
        if p.exists():
            per[ctx.ref.key] = json.loads(p.read_text())
    if not per:
        return {}

    def mean(path: tuple[str, str]) -> float:
        vals = [v[path[0]][path[1]] for v in per.values() if path[0] in v and path[1] in v[path[0]]]
        vals = [x for x in vals if x is not None and x == x]  # NaN: not measured (e.g. no EN text)
        return float(np.mean(vals)) if vals else float("nan")

    return {
        "episodes": per,
        "mean": {
            "alignment_f1": mean(("alignment", "f1")),
            "alignment_f1_without_sync": mean(("alignment_without_sync", "f1")),
            "sync_offset_error_ms": mean(("sync", "offset_error_ms")),
            "en_wer": mean(("asr_en", "wer")),
            "jp_cer": mean(("asr_ja", "reading_cer")),
            "der": mean(("diarization", "der")),
            "backing_sdr": mean(("separation", "sdr")),
            "mix_sdr": mean(("separation", "sdr_of_mix")),
        },
    }
