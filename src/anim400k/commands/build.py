"""``anim400k build MANIFEST --out DIR``: the dataset build."""

from __future__ import annotations

from typing import Annotated

import typer

from ..model import DEFAULT_TOLERANCE_MS


def register(app: typer.Typer) -> None:
    """Add the ``build`` command."""

    @app.command("build")
    def build(
        manifest: Annotated[str, typer.Argument(help="YAML/JSON manifest (docs/manifest.md): path or URL.")],
        out: Annotated[str, typer.Option("--out", "-o", help="Output folder or fsspec URL (s3://...).")],
        asr_en: Annotated[str, typer.Option(
            help="EN ASR: auto (= whisper-tiny-en), whisper-tiny-en, pocketsphinx, vad, faster-whisper.")] = "auto",
        asr_ja: Annotated[str, typer.Option(help="ASR backend for JP: auto (VAD only), vad, faster-whisper.")] = "auto",
        asr_model: Annotated[str | None, typer.Option(help="Local model folder or cached name.")] = None,
        device: Annotated[
            str, typer.Option(help="auto, cpu or cuda: for the ASR, the diarizer and demucs.")
        ] = "auto",
        tolerance_ms: Annotated[int, typer.Option(help="Alignment merge tolerance in ms.")] = DEFAULT_TOLERANCE_MS,
        sync: Annotated[bool, typer.Option("--sync/--no-sync", help="Estimate JP/EN offset and drift.")] = True,
        diarizer: Annotated[str, typer.Option(help="embedded, anime or pyannote.")] = "embedded",
        separator: Annotated[str, typer.Option(help="dualtrack, hpss or demucs.")] = "dualtrack",
        separator_model: Annotated[
            str | None, typer.Option(help="Local demucs model file or folder (with --separator demucs).")
        ] = None,
        video_clips: Annotated[bool, typer.Option("--video-clips/--no-video-clips")] = True,
        video_height: Annotated[
            int | None, typer.Option(min=2, help="Write video clips at this height (aspect kept; default: source).")
        ] = None,
        backing_clips: Annotated[bool, typer.Option("--backing-clips/--no-backing-clips")] = True,
        frames_fps: Annotated[float | None, typer.Option(help="Also extract frames at this rate.")] = None,
        archive: Annotated[bool, typer.Option("--archive", help="Also write the .tar.gz archives.")] = False,
        jobs: Annotated[int, typer.Option("--jobs", "-j", help="Parallel workers (local runner).")] = 1,
        runner: Annotated[str, typer.Option(help="local or ray.")] = "local",
        address: Annotated[str | None, typer.Option(help="Ray cluster address (with --runner ray).")] = None,
        retries: Annotated[int, typer.Option(help="Retries of a failed task (ray).")] = 2,
        progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
    ) -> None:
        """Build an Anim-400K release from a manifest (resumable: re-run to finish an interrupted build)."""
        from ..dataset.options import BuildOptions
        from ..dataset.pipeline import BuildInterrupted, build_dataset
        from ..dataset.summary import print_summary

        opts = BuildOptions(
            asr_en=asr_en, asr_ja=asr_ja, asr_model=asr_model, asr_device=device, tolerance_ms=tolerance_ms,
            sync=sync, diarizer=diarizer, separator=separator, separator_model=separator_model,
            video_clips=video_clips, video_height=video_height, backing_clips=backing_clips, frames_fps=frames_fps,
            archive=archive, jobs=jobs, runner=runner, ray_address=address, retries=retries, progress=progress,
        )
        try:
            report = build_dataset(manifest, out, opts)
        except BuildInterrupted as exc:
            typer.echo(f"anim400k: {exc.message}", err=True)
            raise typer.Exit(130) from None
        print_summary(report)
        if report.failed:  # some (or every) episode failed: the summary names them
            raise typer.Exit(2)
