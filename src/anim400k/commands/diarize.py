"""``anim400k diarize MEDIA --out X.rttm``: who speaks when in one audio stream of a medium."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..registry import DIARIZERS
from . import check_input_file, pick_stream, refuse_one_stream, refuse_unused


def _timeline_language(media: Path, stream: str) -> str:
    """``en`` or ``ja``: whose timeline of a ground truth the diarized ``stream`` is on. A language tag says it; an
    index names the stream, whose own tag then says it (``--stream 1`` picking the ``eng`` stream was scored
    on the JP timeline: DER 121 % for the same turns that scored 46 % as ``--stream eng``)."""
    from ..media.probe import normalize_language, probe

    value = stream.strip()
    if value.isdigit():
        audio = probe(media).audio_streams
        language = audio[int(value)].language if int(value) < len(audio) else None
        return "en" if normalize_language(language or "") == "eng" else "ja"
    return "en" if value.lower().startswith("en") else "ja"


def register(app: typer.Typer) -> None:
    """Add the ``diarize`` command."""

    @app.command("diarize")
    def diarize(
        media: Annotated[Path, typer.Argument(help="Video or audio file.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="RTTM file to write.")],
        stream: Annotated[str, typer.Option(help="Audio stream: language tag (jpn, eng) or audio index.")] = "jpn",
        other_stream: Annotated[str | None, typer.Option(
            help="The other language's stream of the same file (e.g. eng): its speech is a second view of "
                 "each speaker (embedded, campplus, anime).")] = None,
        subtitles: Annotated[Path | None, typer.Option(
            help="The EN subtitles of the diarized stream (SRT, WebVTT, ASS/SSA, or a media file such as an MKV: "
                 "its English dialogue stream, not a forced, signs-and-songs or SDH one), on its timeline: speaker "
                 "cues (embedded, campplus, anime).")] = None,
        subtitle_stream: Annotated[str | None, typer.Option(
            help="The subtitle stream of a media --subtitles file: index or language tag.",
            show_default="the English dialogue stream")] = None,
        diarizer: Annotated[str, typer.Option(help=f"Backend: {DIARIZERS.choices()}.")] = "embedded",
        num_speakers: Annotated[int | None, typer.Option(help="Known number of speakers.")] = None,
        pipeline: Annotated[Path | None, typer.Option(help="pyannote: local pipeline config.yaml.")] = None,
        model: Annotated[
            Path | None, typer.Option(help="anime: local anime-speaker-embedding folder (embedding_model.pth).")
        ] = None,
        reference: Annotated[
            Path | None, typer.Option(help="truth.json or RTTM to score against (prints DER).")
        ] = None,
        collar: Annotated[float, typer.Option(
            help="DER collar in seconds, total width as in pyannote.metrics: 0.25 forgives +-0.125 s around "
                 "each reference boundary (NIST md-eval's '-c 0.25' is --collar 0.5).")] = 0.25,
        uri: Annotated[str | None, typer.Option(
            help="The RTTM file id (URI) to write, and to read from an RTTM --reference; whitespace and '/' "
                 "become '_'. Give each episode its own when RTTMs of files of the same name are pooled.",
            show_default="the media file's name without suffix")] = None,
    ) -> None:
        """Diarize the stream and write its speaker turns as RTTM."""
        import time

        from ..diarize import check_diarizer
        from ..diarize.metrics import der
        from ..diarize.run import (
            diarize_media,
            load_reference,
            no_subtitles_message,
            other_stream_hint,
            takes_other_track,
            takes_subtitles,
        )
        from ..errors import InputError, backend_flags, check_number
        from ..formats.rttm import rttm_file_id, write_rttm
        from ..model import MAX_TIME_S

        if num_speakers is not None and num_speakers < 1:
            raise InputError(f"--num-speakers must be >= 1, got {num_speakers}")
        refuse_unused({"--model": model, "--pipeline": pipeline}, {"--model": "anime", "--pipeline": "pyannote"},
                      diarizer, "--diarizer")
        check_number("--collar", collar, 0.0, MAX_TIME_S)
        check_input_file(media)
        from ..fsutil.no_clobber import refuse_overwriting
        from ..fsutil.writable import check_output_file

        refuse_overwriting({"--out": out}, {"MEDIA": media, "--reference": reference, "--pipeline": pipeline,
                                            "--subtitles": subtitles})
        check_output_file(out)  # a folder or a read-only place: before the model loads and the audio is decoded
        from ..formats.rttm import is_rttm_file
        from ..fsutil.no_clobber import refuse_foreign_output

        refuse_foreign_output("--out", out, is_rttm_file, "an RTTM file (not every line of it is an RTTM record)")
        if subtitles is not None and not takes_subtitles(diarizer):  # before its pipeline is checked and loaded
            raise InputError(no_subtitles_message(diarizer))
        flags = {"anime": "--model", "pyannote": "--pipeline"}
        with backend_flags(flags):  # the package and the model, before the audio is decoded
            check_diarizer(diarizer, str(pipeline) if diarizer == "pyannote" and pipeline else
                           str(model) if diarizer == "anime" and model else None)
        file_id = rttm_file_id(media.stem if uri is None else uri)  # the RTTM file id written below (whitespace -> _)
        ref = None
        if reference:  # read (and refused when malformed) before the media is decoded, on the stream's timeline
            ref = load_reference(reference, _timeline_language(media, stream), file_id=file_id)
        if subtitle_stream is not None and subtitles is None:
            raise InputError("--subtitle-stream is the stream of a media --subtitles file: give --subtitles")
        events = None
        if subtitles is not None:  # read (and refused when malformed) before the media is decoded
            from ..formats.subtitles import read_subtitles_noted
            from ..media.probe import parse_stream_selector

            read, chosen = read_subtitles_noted(
                subtitles, None if subtitle_stream is None else parse_stream_selector(subtitle_stream),
                "--subtitle-stream")
            events = read.events
            if chosen:  # a media file: which of its subtitle streams was read
                typer.echo(f"note: {subtitles}: {chosen}", err=True)
        sel = pick_stream(media, stream, "--stream")
        other = pick_stream(media, other_stream, "--other-stream") if other_stream is not None else None
        if other is None and takes_other_track(diarizer):
            hint = other_stream_hint(media, sel)
            if hint:
                typer.echo(f"note: {media}: {hint}", err=True)
        if other is not None:
            refuse_one_stream(media, media, sel, other, "--stream and --other-stream are the same audio stream "
                              "({index}): --other-stream is the other language's stream (e.g. eng)")
        options: dict[str, object] = {"progress": True} if diarizer == "pyannote" else {}
        if diarizer == "pyannote" and pipeline is not None:
            options["pipeline"] = pipeline
        if diarizer == "anime" and model is not None:
            options["model"] = str(model)
        t0 = time.perf_counter()
        with backend_flags(flags):
            turns = diarize_media(media, sel, diarizer, num_speakers, other_stream=other, subtitles=events, **options)
        elapsed = time.perf_counter() - t0
        write_rttm(out, turns, file_id=file_id)
        speakers = sorted({t.speaker for t in turns})
        typer.echo(f"{len(turns)} turns, {len(speakers)} speakers -> {out} ({elapsed:.1f} s)")
        if ref is not None:
            d = der(ref, turns, collar=collar, detailed=True)
            assert isinstance(d, dict)
            typer.echo(
                f"DER {100 * d['diarization error rate']:.1f} % (collar {collar:g} s total, +-{collar / 2:g} s; "
                f"missed {d.get('missed detection', 0.0):.1f} s, false alarm {d.get('false alarm', 0.0):.1f} s, "
                f"confusion {d.get('confusion', 0.0):.1f} s of {d.get('total', 0.0):.1f} s)"
            )
