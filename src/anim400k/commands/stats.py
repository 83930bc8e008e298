"""``anim400k stats DATASET`` (paper-style statistics) and ``anim400k validate DATASET``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: keys of the JSON that ``stats --json`` writes
STATS_KEYS = ("hours", "clips", "shows", "episodes", "languages", "clip_duration_histogram")


def register(app: typer.Typer) -> None:
    """Add the ``stats`` and ``validate`` commands."""

    @app.command("stats")
    def stats(
        dataset: Annotated[Path, typer.Argument(help="Release folder or anim400k_annotations.json.")],
        json_out: Annotated[
            Path | None, typer.Option("--json", help="Also write the statistics as JSON here.")
        ] = None,
        figures: Annotated[
            Path | None, typer.Option("--figures", help="Write PNG figures into this folder.")
        ] = None,
    ) -> None:
        """Print the paper's statistics tables for a release (streamed; memory stays flat)."""
        from rich.console import Console
        from rich.table import Table

        from ..formats.ids import ANNOTATIONS_FILE
        from ..fsutil.atomic import write_json_atomic
        from ..fsutil.no_clobber import refuse_foreign_output, refuse_inside_release, refuse_overwriting
        from ..fsutil.sniffers import json_object_with
        from ..fsutil.writable import check_writable
        from ..progress import file_bar
        from ..release import load
        from ..stats import compute_stats, stats_rows, write_figures

        ds = load(dataset)
        if ds.annotations.name == ANNOTATIONS_FILE:  # a release folder: a later build or export could delete them
            refuse_inside_release("--figures", figures, ds.root)  # (a loose JSON's folder is no release)
        refuse_overwriting({"--json": json_out}, {"DATASET": ds.annotations})
        # before the (paper-scale: minute-long) pass, not after it ('--figures F: File exists')
        check_writable({"--json": json_out}, {"--figures": figures})
        refuse_foreign_output("--json", json_out, json_object_with(STATS_KEYS),
                              "statistics that anim400k stats wrote (a JSON object with hours, clips, shows ...)")
        if figures is not None:
            from ..stats.report import check_figures_folder

            check_figures_folder(figures)  # a genres.png of the user's own there was replaced
        with file_bar(ds.annotations, "stats") as bar:  # drawn only on a terminal
            ds.on_read = bar.update
            result = compute_stats(ds)
        table = Table(title=f"Anim-400K statistics: {dataset}")
        table.add_column("statistic")
        table.add_column("value", justify="right")
        for label, value in stats_rows(result):
            table.add_row(label, value)
        Console().print(table)
        if json_out is not None:
            write_json_atomic(json_out, result)
        if figures is not None:
            for p in write_figures(result, figures):
                typer.echo(f"wrote {p}")

    @app.command("validate")
    def validate(
        dataset: Annotated[Path, typer.Argument(help="Release folder or anim400k_annotations.json.")],
        media: Annotated[
            bool, typer.Option("--media/--no-media", help="Check that media files exist.")
        ] = True,
        limit: Annotated[int, typer.Option(help="Print at most this many problems.")] = 50,
    ) -> None:
        """Check a release against the Anim-400K format; exit 1 if anything is wrong."""
        import itertools
        import sys

        from ..errors import check_number
        from ..progress import file_bar
        from ..release import build_record_problems, iter_problems, load
        from ..release.validate import file_problems

        check_number("--limit", limit, 0)  # -1 printed no problem and '... and 3 more' of 2
        ds = load(dataset)
        from ..fsutil.locks import folder_writer

        writer = folder_writer(ds.root)
        if writer is not None:  # between its annotations and its report the two disagree: no finding of validate's
            typer.echo(f"note: {ds.root}: a build (process {writer}) is writing this release: validated as it stands, "
                       "without the check against the build's record (run validate again when it finishes)", err=True)
        n = 0
        # a bar over the bytes of the annotations file read (drawn only on a terminal); the
        # build-record check is a second pass, so the bar starts again for it
        with file_bar(ds.annotations, "validate") as bar:
            ds.on_read = bar.update
            for problems in (itertools.chain(file_problems(ds), iter_problems(ds, check_media=media)),
                             build_record_problems(ds) if writer is None else iter(())):
                for p in problems:
                    if n < limit:
                        bar.write(f"{ds.annotations}: {p}", file=sys.stdout)  # above the bar
                    n += 1
                bar.reset()
                bar.set_description("validate (build record)")
            ds.on_read = None
        from ..release.unlisted import unlisted_files_warnings

        # files no table lists: a warning, not a problem; a look into the media folders, so not with --no-media
        for line in unlisted_files_warnings(ds.root) if media else []:
            typer.echo(line, err=True)
        if n:
            if n > limit:
                typer.echo(f"... and {n - limit} more")
            typer.echo(f"{n} problem(s)", err=True)
            raise SystemExit(1)  # cli.main ignores typer.Exit codes with standalone_mode=False
        typer.echo(f"{ds.annotations}: valid")
