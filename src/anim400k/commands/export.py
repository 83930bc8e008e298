"""``anim400k export DATASET --format parquet|hf|lhotse|webdataset --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..registry import EXPORT_FORMATS


def register(app: typer.Typer) -> None:
    """Add the ``export`` command."""

    @app.command("export")
    def export(
        dataset: Annotated[Path, typer.Argument(help="Release folder or anim400k_annotations.json.")],
        fmt: Annotated[str, typer.Option("--format", "-f", help=f"{EXPORT_FORMATS.choices()}.")],
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Output folder (replaced when the export succeeds).")
        ],
        embed_audio: Annotated[
            bool, typer.Option("--embed-audio", help="Embed MP3 bytes (parquet, hf).")
        ] = False,
        shard_size: Annotated[str, typer.Option(help="Target shard / row-group size, e.g. 100MB.")] = "100MB",
        skip_bad: Annotated[
            bool, typer.Option("--skip-bad", help="Leave out bad clips instead of stopping.")
        ] = False,
        no_media: Annotated[
            bool, typer.Option("--no-media", help="Do not check the MP3s (parquet without --embed-audio only).")
        ] = False,
        progress: Annotated[
            bool, typer.Option("--progress/--no-progress", help="Clip counter (on a terminal).")
        ] = True,
    ) -> None:
        """Export a release to a modern format (validated first; bad input stops unless --skip-bad)."""
        from ..exports import export as run_export
        from ..fsutil.writable import check_writable

        check_writable({}, {"--out": out})  # a path through a file was a bare "afile: File exists"
        summary = run_export(
            dataset, fmt, out, embed_audio=embed_audio, shard_size=shard_size, skip_bad=skip_bad,
            progress=progress, check_media=not no_media,
        )
        typer.echo(f"exported {summary['clips']} clip(s) to {summary['out']} ({fmt})")
        for line in summary.get("problem_lines", []):
            typer.echo(line, err=True)
        if summary.get("problems"):
            typer.echo(
                f"skipped {summary['skipped_clips']} clip(s), dropped {summary['dropped_fields']} optional clip "
                f"field(s); every problem is listed in {summary['problems_file']}",
                err=True,
            )
