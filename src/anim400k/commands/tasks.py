"""``anim400k tasks DATASET --out DIR``: secondary-task manifests over show-level splits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``tasks`` command."""

    @app.command("tasks")
    def tasks(
        dataset: Annotated[Path, typer.Argument(help="Release folder or anim400k_annotations.json.")],
        out: Annotated[
            Path, typer.Option(
                "--out", "-o",
                help="Folder for splits.json and <task>/<split>.jsonl (new, empty or an earlier run's; replaced "
                "whole).",
            )
        ],
        seed: Annotated[int, typer.Option(help="Seed of the show shuffle.")] = 0,
        split: Annotated[str, typer.Option(help="train,validation,test proportions.")] = "0.8,0.1,0.1",
        by: Annotated[str, typer.Option(help="Measure proportions in 'clips' or 'shows'.")] = "clips",
        media: Annotated[
            bool,
            typer.Option(
                "--media/--no-media",
                help="Check that each referenced media file exists and leave out rows whose file is "
                "missing (--no-media: write every row unchecked, for annotations-only use).",
            ),
        ] = True,
    ) -> None:
        """Write train/validation/test splits by show and one JSONL manifest per task and split.

        Media paths are absolute. Rows whose media file is missing, and speech-translation
        rows without subtitles, are left out; one line says how many and the first example.
        A split with no rows gets no file (one line names them). Clips with no en_subtitles
        field (original-format release) take their en_text as the speech-translation target.
        The --out folder may not be a release folder nor lie inside one. A run replaces it as a whole
        (written beside it, then swapped in), so it must be new, empty or an earlier run's output.
        """
        from ..tasks import empty_text, left_out_text, parse_proportions, target_source_text, write_task_views

        summary = write_task_views(
            dataset, out, seed=seed, proportions=parse_proportions(split), by=by, check_media=media, progress=True
        )
        for name, keys in summary["splits"].items():
            typer.echo(f"{name}: {len(keys)} show(s)")
        for task, counts in summary["counts"].items():
            typer.echo(f"{task}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for line in (target_source_text(summary["target_sources"]), empty_text(summary["empty"])):
            if line:
                typer.echo(line)
        note = left_out_text(summary["left_out"])
        if note:
            typer.echo(note, err=True)
