"""Human-readable summary of a build report (a rich table on the terminal)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from .report import BuildReport


def _fmt(value: float, unit: str = "", digits: int = 2) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}{unit}"


def _stage_order(report: BuildReport) -> list[str]:
    """The stages this build ran or resumed, in pipeline order."""
    from .stages import STAGES

    order = {s.name: k for k, s in enumerate(STAGES)}
    names = set(report.stage_seconds) | set(report.resumed_stages)
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def stage_time(report: BuildReport, stage: str) -> str:
    """A stage's time in the summary: this build's wall and CPU seconds (``8.78 s (4.20 CPU-s)``) when it ran,
    ``resumed (done before)`` when an earlier build had finished it in every episode, ``resumed in 1 of 2
    episodes (done before)`` when it ran in no episode and was resumed in some only (another failed before it,
    or does not have the stage), both when it ran in some episodes and was resumed in others
    (``0.16 s (0.07 CPU-s); resumed in 1 episode``). An earlier build's time is never shown as this one's."""
    secs, cpu = report.stage_seconds.get(stage), report.stage_cpu_seconds.get(stage)
    resumed = report.resumed_stages.get(stage, 0)
    if secs is None:
        episodes = len(report.episodes)
        if resumed >= episodes:
            return "resumed (done before)"
        return f"resumed in {resumed} of {episodes} episodes (done before)"
    text = f"{secs:.2f} s" + ("" if cpu is None else f" ({cpu:.2f} CPU-s)")
    if resumed:
        text += f"; resumed in {resumed} episode{'s' if resumed > 1 else ''}"
    return text


def print_summary(report: BuildReport, console: Console | None = None) -> None:
    """Print clips, hours, per-stage time, failures, warnings and ground-truth scores."""
    console = console or Console(stderr=False)
    ok = len(report.episodes) - len(report.failed)
    table = Table(title="anim400k build", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("episodes built", f"{ok} / {len(report.episodes)}")
    table.add_row("clips", str(report.clips))
    table.add_row("hours of clips (JP audio)", f"{report.hours:.4f}")
    table.add_row("JP segments in no clip", str(report.unmatched_jp_segments))
    if report.resumed_stages:  # a resumed build: the stage runs (one per stage and episode) now, and done before
        ran = sum(len(e.stage_seconds) for e in report.episodes)
        table.add_row("stage runs in this build / resumed", f"{ran} / {sum(report.resumed_stages.values())} "
                      "(done before)")
    for stage in _stage_order(report):
        table.add_row(f"time: {stage}", stage_time(report, stage))
    jp = report.jp_text
    if jp:
        table.add_row("episodes with JP text", f"{jp['episodes'] - jp['empty']} / {jp['episodes']}")
    mean = report.scores.get("mean", {})
    if mean:
        table.add_row("alignment score (F1 vs truth)", _fmt(mean.get("alignment_f1")))
        table.add_row("alignment score without sync", _fmt(mean.get("alignment_f1_without_sync")))
        table.add_row("sync offset error", _fmt(mean.get("sync_offset_error_ms"), " ms", 1))
        table.add_row("English WER (ASR vs truth)", _fmt(mean.get("en_wer"), "", 3))
        table.add_row("Japanese CER (ASR vs truth, readings)", _fmt(mean.get("jp_cer"), "", 3))
        table.add_row("diarization DER (collar +-0.125 s)", _fmt(100 * mean.get("der", float("nan")), " %", 1))
        table.add_row("backing SDR (mix as estimate)",
                      f"{_fmt(mean.get('backing_sdr'), ' dB', 1)} ({_fmt(mean.get('mix_sdr'), ' dB', 1)})")
    dia = report.diarization
    if dia:
        counts = ", ".join(str(e["speakers"]) for e in dia["episodes"].values())
        table.add_row("speakers per episode", counts if len(dia["episodes"]) <= 8 else f"{counts[:40]}...")
        share = dia.get("uncertain_share")
        table.add_row("clips with an uncertain speaker set",
                      f"{dia['uncertain_clips']} ({_fmt(None if share is None else 100 * share, ' %', 1)})")
    console.print(table)
    for e in report.failed:
        console.print(f"[red]failed[/red] {e.key} in stage {e.failed_stage}: {e.error}", soft_wrap=True,
                      markup=True, highlight=False)
    for w in report.warnings:
        console.print(f"[yellow]warning[/yellow] {w}", soft_wrap=True, highlight=False)
    if report.written:
        console.print(f"release written to {report.out_dir}", soft_wrap=True, highlight=False)
    else:
        console.print(f"[red]no episode was built: no release written[/red] (see {report.out_dir}/build_report.json)",
                      soft_wrap=True, highlight=False)
