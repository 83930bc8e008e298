"""``anim400k demo``: synthesize episodes with ground truth and build a release from them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command("demo")
    def demo(
        out: Annotated[Path, typer.Option("--out", "-o", help="Where to put inputs and the release.")] = Path(
            "demo-out"),
        episodes: Annotated[int, typer.Option(help="Number of synthetic episodes.")] = 2,
        seed: Annotated[int, typer.Option(help="Random seed (same seed, same output).")] = 0,
        duration: Annotated[float, typer.Option(help="Length of each episode in seconds (5 to 1800).")] = 60.0,
        jobs: Annotated[str, typer.Option(
            "--jobs", "-j", metavar="auto|N", help="Parallel workers: auto (as build's), 1, N or 0 (one per CPU).")
        ] = "auto",
        progress: Annotated[bool, typer.Option(
            "--progress/--no-progress", help="Progress bars on a terminal (nothing is drawn off one).",
        )] = True,
    ) -> None:
        """Synthesize N dubbed episodes, build the dataset with the embedded defaults, print a summary."""
        from ..dataset.options import BuildOptions
        from ..dataset.pipeline import build_dataset
        from ..dataset.summary import print_summary
        from ..demo import prepare_demo_inputs
        from ..errors import check_number, parse_jobs
        from ..synth.episode import MAX_DURATION, MIN_DEMO_DURATION

        check_number("--episodes", episodes, 1)
        workers = parse_jobs("--jobs", jobs)
        # an episode under ~3 s has no lines: its EN track is the JP audio and the build refuses it
        check_number("--duration", duration, MIN_DEMO_DURATION, MAX_DURATION)

        manifest = prepare_demo_inputs(out, episodes=episodes, seed=seed, duration=duration)
        report = build_dataset(manifest, out, BuildOptions(jobs=workers, progress=progress))
        print_summary(report)
        if report.failed:
            raise typer.Exit(2)
