"""``anim400k evaluate``: automatic metrics of a folder of dubs against a release."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import typer

from ..registry import VADS

log = logging.getLogger(__name__)


def evaluate(
    dubs: Path = typer.Argument(..., help="Folder of dubs, DIR/F/UUID.mp3 keyed by the EN clip ID."),
    reference: Path = typer.Option(..., "--reference", help="The release (folder or annotations file)."),
    out: Path = typer.Option(..., "--out", help="Folder for metrics.json, metrics.csv, metrics.png."),
    asr: str = typer.Option(
        "auto", "--asr",
        help="ASR backend for BLEU/chrF/WER and the intelligibility WER (auto = Whisper tiny.en; none: skip).",
    ),
    vad: str = typer.Option("silero", "--vad", help=f"VAD for timing: {VADS.choices()}."),
    split: str = typer.Option("all", "--split", help="Only clips of this split: train/validation/test/all."),
    no_speaker: bool = typer.Option(False, "--no-speaker", help="Skip speaker similarity (Resemblyzer)."),
    limit: int | None = typer.Option(None, "--limit", help="At most this many clips (1 or more)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Clip counter (on a terminal)."),
) -> None:
    """Timing, speech rate, loudness, speaker similarity, BLEU/chrF/WER and intelligibility WER per clip.

    The intelligibility WER (what the ASR hears in the dub against the text it was meant to say)
    needs the dub's script: `dub_dataset_report.json` that `anim400k dub --dataset` writes.
    """
    import torch
    from rich.console import Console
    from rich.table import Table

    from ..errors import check_number
    from ..evaluate.metrics import evaluate_dubs
    from ..fsutil.no_clobber import refuse_inside_release, refuse_overwriting
    from ..fsutil.writable import check_writable

    if limit is not None:
        check_number("--limit", limit, 1)  # before any input is read: 0 measured every clip
    # a folder inside the release: a later build or export of it could delete or swap the metrics (the release
    # is the folder, or the annotations file's folder; a missing --reference is refused when it is read)
    if reference.is_dir() or reference.is_file():
        refuse_inside_release("--out", out, reference if reference.is_dir() else reference.parent)
    refuse_overwriting([(f"--out {n}", out / n) for n in ("metrics.json", "metrics.csv", "metrics.png")],
                       {"--reference": reference})
    # an --out that is a file or cannot be written failed only after every clip was measured ("File exists")
    check_writable({}, {"--out": out})
    from ..evaluate.metrics_files import check_metrics_folder, write_metrics

    check_metrics_folder(out)  # a metrics.csv of another tool in --out was replaced
    from ..evaluate.metrics_files import METRICS_FILES
    from ..fsutil.locks import output_lock
    from ..fsutil.temp_files import remove_stale_temps
    from ..progress import progress_bar

    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    # a second evaluate into the same --out is refused in one line (the two sets of files were renamed into
    # place in turn, mixed); the temporary files of a killed evaluate there are removed first
    with output_lock(out, "evaluate", noun="folder"):
        removed = remove_stale_temps(*(out / name for name in METRICS_FILES))
        if removed:
            log.info("removed %d temporary file(s) in %s left by a killed evaluate", removed, out)
        with progress_bar(progress, desc="evaluate", unit="clip") as bar:
            report = evaluate_dubs(dubs, reference, None if asr == "none" else asr, vad, split, not no_speaker,
                                   limit, lambda _: bar.update(1))
        files = write_metrics(report, out)
    title = f"{dubs}: {report.n_dubbed} of {report.n_clips} clips dubbed"
    if report.missing:
        title += f" ({len(report.missing)} missing)"
    if len(report.clips) != report.n_dubbed:
        title += f", {len(report.clips)} measured"
    table = Table(title=title)
    for col in ("metric", "n", "mean", "median", "std", "mean |x|"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for name, row in report.summary.items():
        table.add_row(
            name,
            str(row["n"]),
            f"{row['mean']:.3f}",
            f"{row['median']:.3f}",
            "–" if row["std"] is None else f"{row['std']:.3f}",
            f"{row['mean_abs']:.3f}" if "mean_abs" in row else "",
        )
    console = Console()
    console.print(table)
    if report.silent:
        console.print(
            f"silent: {len(report.silent)} clip{'s' if len(report.silent) != 1 else ''} "
            "(no speech, loudness or voice to measure; flagged 'silent' in metrics.json/csv)"
        )
    if report.skipped:
        console.print(f"skipped: {len(report.skipped)} dubbed clips without JP or gold EN audio in the release")
    measured = {k: v for k, v in report.corpus.items() if not math.isnan(v)}
    if measured:
        console.print("corpus: " + "  ".join(f"{k}={v:.2f}" for k, v in measured.items()))
    if report.empty_reference:
        n = len(report.empty_reference)
        console.print(
            f"empty reference: {n} of {len(report.clips)} clip{'s' if len(report.clips) != 1 else ''} (the gold EN "
            "transcript has no word: no WER of their own; the corpus WER counts their dubs' words as insertions; "
            "listed as 'empty_reference' in metrics.json)"
        )
    console.print(f"wrote {files['json']}, {files['csv']}, {files['plot']}")


def register(app: typer.Typer) -> None:
    """Add the ``evaluate`` command."""
    app.command("evaluate")(evaluate)
