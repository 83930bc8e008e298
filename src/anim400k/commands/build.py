"""``anim400k build MANIFEST --out DIR``: the dataset build."""

from __future__ import annotations

from typing import Annotated

import typer

from ..dataset.options import X264_PRESETS, BuildOptions
from ..registry import ASR, DIARIZERS, SEPARATORS

_D = BuildOptions()  # the defaults: stated once, in BuildOptions
#: Highest ``--frames-fps``: far above any video's frame rate (a higher rate only repeats pictures).
MAX_FRAMES_FPS = 1000.0
#: the tallest --video-height (8K UHD): libx264's limit is near it, and no source is taller
MAX_VIDEO_HEIGHT = 4320


def register(app: typer.Typer) -> None:
    """Add the ``build`` command."""

    @app.command("build")
    def build(
        manifest: Annotated[str, typer.Argument(help="YAML/JSON manifest (docs/manifest.md): path or URL.")],
        out: Annotated[str, typer.Option("--out", "-o", help="Output folder or fsspec URL (s3://...).")],
        asr_en: Annotated[str, typer.Option(
            help=f"EN ASR: {ASR.choices()} (auto = whisper-tiny-en).")] = _D.asr_en,
        asr_ja: Annotated[str, typer.Option(help=f"JP ASR: {ASR.choices()} (auto = whisper-base: Japanese text "
                 "from the shipped Whisper base; vad: speech regions only, empty jp_text, cheaper).")] = _D.asr_ja,
        asr_model: Annotated[str | None, typer.Option(help="Local model folder or cached name.")] = _D.asr_model,
        device: Annotated[
            str, typer.Option(help="auto, cpu or cuda: for the ASR, the diarizer and demucs.")
        ] = _D.asr_device,
        tolerance_ms: Annotated[int, typer.Option(help="Alignment merge tolerance in ms.")] = _D.tolerance_ms,
        sync: Annotated[bool, typer.Option("--sync/--no-sync", help="Estimate JP/EN offset and drift.")] = _D.sync,
        diarizer: Annotated[str, typer.Option(help=f"{DIARIZERS.choices()}.")] = _D.diarizer,
        diarizer_model: Annotated[str | None, typer.Option(
            help="anime: local anime-speaker-embedding folder; pyannote: local pipeline config.yaml (or its "
                 "folder). Default: ANIM400K_ANIME_SPEAKER_MODEL / ANIM400K_PYANNOTE_PIPELINE.")] = _D.diarizer_model,
        separator: Annotated[str, typer.Option(help=f"{SEPARATORS.choices()}.")] = _D.separator,
        separator_model: Annotated[
            str | None, typer.Option(help="Local demucs model file or folder (with --separator demucs).")
        ] = _D.separator_model,
        video_clips: Annotated[bool, typer.Option(
            "--video-clips/--no-video-clips",
            help="Cut an MP4 video clip per clip (anim400k_video_clips/); --no-video-clips: audio clips only.",
        )] = _D.video_clips,
        video_height: Annotated[
            int | None, typer.Option(help="Write video clips at this height, 16 or more, an odd one rounded down to "
                                          "even (display aspect kept, square pixels; default: source).")
        ] = _D.video_height,
        video_preset: Annotated[str, typer.Option(
            help=f"x264 preset of the video clips (CRF 23): {', '.join(X264_PRESETS)}; faster presets cost less "
                 "CPU for a little quality (docs/scaling.md).")] = _D.video_preset,
        backing_clips: Annotated[bool, typer.Option(
            "--backing-clips/--no-backing-clips",
            help="Cut a backing-track (music and effects) MP3 per clip, the clips' backing_clip.",
        )] = _D.backing_clips,
        frames_fps: Annotated[
            float | None, typer.Option(help="Also extract frames at this rate (per second, > 0).")
        ] = _D.frames_fps,
        archive: Annotated[bool, typer.Option("--archive", help="Also write the .tar.gz archives.")] = _D.archive,
        jobs: Annotated[str, typer.Option(
            "--jobs", "-j", metavar="auto|N",
            help="Parallel workers of the local runner: auto (by the audio left and this machine: one process for "
                 "short builds, 3 for one long episode, one per CPU for several), 1 (every stage in this process), "
                 "N, or 0 (one per CPU).")] = "auto",
        runner: Annotated[str, typer.Option(help="local or ray.")] = _D.runner,
        address: Annotated[str | None, typer.Option(help="Ray cluster address (with --runner ray).")] = _D.ray_address,
        retries: Annotated[int, typer.Option(
            help="Retries of a task whose worker died (killed, out of memory), 0 or more: the local pool's "
                 "and Ray's (docs/scaling.md).")] = _D.retries,
        progress: Annotated[bool, typer.Option(
            "--progress/--no-progress", help="Progress bars on a terminal (nothing is drawn off one).",
        )] = _D.progress,
    ) -> None:
        """Build an Anim-400K release from a manifest (resumable: re-run to finish an interrupted build)."""
        from ..dataset.pipeline import BuildInterrupted, build_dataset
        from ..dataset.preflight import BUILD_FLAGS
        from ..dataset.summary import print_summary
        from ..errors import InputError, backend_flags, check_device, check_number, parse_jobs
        from ..model import MAX_TIME_S

        check_number("--tolerance-ms", tolerance_ms, 0, MAX_TIME_S * 1000)
        check_number("--retries", retries, 0, 1000)  # -1 was taken (as 0)
        if video_height is not None:  # not typer's min=2: its usage block, and a type column that cut option names
            # 4x2 clips could not keep square pixels; past 8K (4320) the encoder failed in the cut stage, after the
            # rest of the work, blaming the episode's media ("Invalid argument")
            check_number("--video-height", video_height, 16, MAX_VIDEO_HEIGHT)
        workers = parse_jobs("--jobs", jobs)
        check_device("--device", device, auto=True)
        if frames_fps is not None:
            check_number("--frames-fps", frames_fps, 0, MAX_FRAMES_FPS, above=True)
        if video_preset not in X264_PRESETS:
            raise InputError(f"--video-preset: '{video_preset}' is not an x264 preset (use one of "
                             f"{', '.join(X264_PRESETS)})")

        opts = BuildOptions(
            asr_en=asr_en, asr_ja=asr_ja, asr_model=asr_model, asr_device=device, tolerance_ms=tolerance_ms,
            sync=sync, diarizer=diarizer, diarizer_model=diarizer_model, separator=separator,
            separator_model=separator_model,
            video_clips=video_clips, video_height=video_height, video_preset=video_preset,
            backing_clips=backing_clips, frames_fps=frames_fps,
            archive=archive, jobs=workers, runner=runner, ray_address=address, retries=retries, progress=progress,
        )
        try:
            with backend_flags(BUILD_FLAGS):
                report = build_dataset(manifest, out, opts)
        except BuildInterrupted as exc:
            typer.echo(f"anim400k: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        print_summary(report)
        if report.failed:  # some (or every) episode failed: the summary names them
            raise typer.Exit(2)
