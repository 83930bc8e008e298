"""``anim400k dub``: dub a video into EN, or every test clip of a dataset (``--dataset``)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..dub.options import DubOptions
from ..interrupts import sigterm_interrupts
from ..registry import CONDENSERS, DIARIZERS, SYNTHESIZERS, TRANSLATORS

#: The flags' defaults are DubOptions' own (one place states them).
_D = DubOptions()


def register(app: typer.Typer) -> None:
    """Add the ``dub`` command to ``app``."""

    @app.command("dub")
    @sigterm_interrupts()  # SIGTERM stops a dub as Ctrl-C does: temporary files removed, one line, exit 143
    def dub_command(
        video: Path = typer.Argument(None, help="Video to dub (omit with --dataset)."),
        out: Path = typer.Option(..., "--out", help="Dubbed video (or, with --dataset, output folder)."),
        subtitles: Path = typer.Option(None, "--subtitles", help="EN subtitles of the source audio (SRT/VTT/ASS)."),
        stream: str = typer.Option(
            str(_D.stream), "--stream",
            help="Source audio stream: language tag or audio index (no stream tagged so: the one untagged "
            "stream, or the one titled with the language; else refused).",
        ),
        other_stream: str = typer.Option(
            str(_D.other_stream), "--other-stream",
            help="The EN dub's audio stream (language tag or audio index): its speech is the diarizer's second "
            "view of each speaker, as in the build ('none', or no such stream: the Japanese vocals alone).",
        ),
        tts: str = typer.Option(
            _D.tts, "--tts",
            help=f"TTS backend: {SYNTHESIZERS.choices()} (neural: the embedded hibari + Kokoro voices).",
        ),
        tts_model: Path = typer.Option(None, "--tts-model", help="Local XTTS model folder."),
        device: str = typer.Option(_D.device, "--device", help="Device of the model backends: cpu, cuda, cuda:N."),
        translator: str = typer.Option(
            _D.translator, "--translator",
            help=f"auto (--translations given: text; EN subtitles there: subtitles; else whisper), "
                 f"{TRANSLATORS.choices()}.",
        ),
        translations: Path = typer.Option(None, "--translations", help="JSON {segment index or 'start-end': text}."),
        whisper_model: Path = typer.Option(
            None, "--whisper-model",
            help="whisper: local faster-whisper model folder (default: the embedded Whisper base, weak).",
        ),
        diarizer: str = typer.Option(
            _D.diarizer or "none", "--diarizer",
            help=f"Diarizer: {DIARIZERS.choices()}, or 'none' (one speaker, VAD only).",
        ),
        pipeline: Path = typer.Option(None, "--pipeline", help="pyannote: local pipeline config.yaml (or folder)."),
        diarizer_model: Path = typer.Option(
            None, "--diarizer-model",
            help="anime: local anime-speaker-embedding folder (default ANIM400K_ANIME_SPEAKER_MODEL); "
                 "pyannote: the same as --pipeline."),
        num_speakers: int = typer.Option(None, "--num-speakers", help="Number of speakers, when known."),
        anchor: str = typer.Option(
            _D.anchor, "--anchor", help="A line shorter than its slot: centre (in the slot) or start (at its start)."
        ),
        min_stretch: float = typer.Option(_D.min_stretch, "--min-stretch", help="Slowest time-stretch factor."),
        max_stretch: float = typer.Option(_D.max_stretch, "--max-stretch", help="Fastest time-stretch factor."),
        condense: str = typer.Option(
            _D.condense, "--condense",
            help=f"Lines too long for their slot: {CONDENSERS.choices()} or MODULE:FUNCTION.",
        ),
        srt: Path = typer.Option(None, "--srt", help="Write an SRT of what was spoken."),
        report: Path = typer.Option(None, "--report", help="Write the JSON report."),
        stems: Path = typer.Option(None, "--stems", help="Write backing/vocals/dub speech stems here."),
        dataset: Path = typer.Option(None, "--dataset", help="Dub every clip of a release split instead."),
        split: str = typer.Option(
            "test", "--split", help="Dataset mode: train, validation (valid), test or all."),
        limit: int = typer.Option(None, "--limit", help="Dataset mode: dub at most this many clips."),
        progress: bool = typer.Option(_D.progress, "--progress/--no-progress", help="Progress bar (on a terminal)."),
    ) -> None:
        """Dub VIDEO into English: a new default 'eng' audio stream beside the original streams."""
        from ..dub.pipeline import DUB_FLAGS
        from ..errors import InputError, backend_flags, check_device
        from ..media.probe import parse_stream_selector

        def s(p: Path | None) -> str | None:
            return str(p) if p is not None else None

        from ..dub.options import check_option_values
        from ..errors import check_number

        if dataset is not None and video is not None:  # VIDEO was ignored: the release was dubbed instead
            raise InputError(f"{video}: give a VIDEO to dub or --dataset DATASET, not both")
        from ..storage import refuse_url

        for what, given in (("the video", video), ("--subtitles", subtitles), ("--translations", translations)):
            refuse_url(given, what)  # 's3://b/x.mkv' read as 's3:/b/x.mkv: video not found'

        if limit is not None:
            check_number("--limit", limit, 1)  # before any input is read: 0 wrote an empty report, exit 0
        check_option_values({"anchor": anchor, "min_stretch": min_stretch, "max_stretch": max_stretch,
                             "num_speakers": num_speakers}, flags=True)  # errors name the flags typed
        check_device("--device", device)
        if translator != "auto" and translator not in TRANSLATORS.names():
            raise InputError(f"unknown translator {translator!r} (choose from: auto, {', '.join(TRANSLATORS.names())})")
        for registry, name in ((SYNTHESIZERS, tts), (DIARIZERS, diarizer)):
            if registry is not DIARIZERS or name != "none":
                registry[name]  # an unknown name: one line listing the choices, before the video is read

        options = DubOptions(
            stream=parse_stream_selector(stream),
            other_stream=None if other_stream.strip().lower() == "none" else parse_stream_selector(other_stream),
            subtitles=s(subtitles),
            translator=translator,
            translations=s(translations),
            whisper_model=s(whisper_model),
            tts=tts,
            tts_model=s(tts_model),
            device=device,
            diarizer=None if diarizer == "none" else diarizer,
            pipeline=s(pipeline),
            diarizer_model=s(diarizer_model),
            num_speakers=num_speakers,
            anchor=anchor,
            min_stretch=min_stretch,
            max_stretch=max_stretch,
            condense=condense,
            srt=s(srt),
            report=s(report),
            stems=s(stems),
            progress=progress,
        )
        if dataset is not None:
            from ..dub.dataset_mode import REPORT_NAME, dub_dataset

            with backend_flags(DUB_FLAGS):  # a missing model names this command's flag
                res = dub_dataset(dataset, out, split=split, options=options, limit=limit)
            used = ", ".join(f"{name} {n}" for name, n in sorted(res.translators.items()))
            typer.echo(f"dubbed {res.n_done}/{len(res.clips)} {res.split} clips into {out}"
                       + (f" (translated by {used})" if used else ""))
            failed = [c for c in res.clips if not c.get("output")]
            if failed:  # as a build with a failed episode: exit 2 (every clip failing exited 0)
                first = failed[0]
                why = first["problems"][0] if first.get("problems") else "not dubbed"
                typer.echo(f"anim400k: error: {len(failed)} of {len(res.clips)} clips not dubbed (the first, "
                           f"{first['jp_clip']}: {why}); each clip's problems are in {Path(out) / REPORT_NAME}",
                           err=True)
                raise typer.Exit(2)
            return
        if video is None:
            raise InputError("give a VIDEO to dub, or --dataset DATASET")
        from ..dub.pipeline import dub

        with backend_flags(DUB_FLAGS):
            rep = dub(video, out, options)
        err = rep.mean_abs_end_error
        typer.echo(
            f"{out}: {len(rep.spoken_lines)}/{len(rep.lines)} lines spoken, "
            f"mean |end error| {'n/a' if err is None else f'{err * 1000:.0f} ms'}, "
            f"{len(rep.problem_lines)} with problems"
            + (f", {len(rep.no_subtitle_lines)} without subtitle text" if rep.no_subtitle_lines else "")
        )
        for p in rep.problems:
            typer.echo(f"warning: {p}", err=True)
        for ln in rep.problem_lines:
            typer.echo(
                f"line {ln.index} ({ln.slot_start:.2f}-{ln.slot_end:.2f} s): {'; '.join(ln.problems)}",
                err=True,
            )
