"""``anim400k transcribe MEDIA --language ja|en --out T.json``: ASR of one audio stream."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..registry import ASR
from . import check_input_file, pick_stream

#: ``--out`` names that say a subtitle format, which ``transcribe`` does not write
SUBTITLE_OUT_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa", ".sub", ".sbv", ".ttml", ".dfxp", ".txt")


def register(app: typer.Typer) -> None:
    """Add the ``transcribe`` command."""

    @app.command("transcribe")
    def transcribe(
        media: Annotated[Path, typer.Argument(help="Audio or video file.")],
        language: Annotated[str, typer.Option("--language", "-l", help="ja or en (or jp, jpn, eng...).")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Whisper-style transcript JSON to write.")],
        stream: Annotated[
            str | None, typer.Option(help="Audio stream: index among audio streams or language tag.")
        ] = None,
        asr: Annotated[str, typer.Option(
            help=f"{ASR.choices()} (auto: whisper-tiny-en for EN, whisper-base for JP, both shipped in wheels; "
                 "vad: speech regions only, no text).")] = "auto",
        model: Annotated[
            str | None, typer.Option(help="faster-whisper: local CTranslate2 folder or cached name.")
        ] = None,
        device: Annotated[str, typer.Option(help="faster-whisper: auto, cpu or cuda.")] = "auto",
        compute_type: Annotated[str | None, typer.Option(help="faster-whisper: int8, float16, ...")] = None,
        batch_size: Annotated[int, typer.Option(help="faster-whisper: batch size, >= 1 (1 = sequential).")] = 8,
    ) -> None:
        """Transcribe one audio stream (OUT is re-used when made from the same file, stream, settings and model).

        An existing OUT that this command did not write (a user's Whisper or AWS JSON) is refused,
        not replaced; an empty one is written over.
        """
        from ..asr import get_transcriber, transcribe_track
        from ..asr.languages import ENGLISH_ONLY_ASR
        from ..errors import InputError, backend_flags, check_number
        from ..model import normalize_language

        try:
            lang = normalize_language(language)
        except ValueError as exc:
            raise InputError(f"--language: {exc}") from exc
        check_number("--batch-size", batch_size, 1)
        if asr in ENGLISH_ONLY_ASR and lang != "en":
            raise InputError(f"{asr} decodes English only, not '{language}' (use --asr vad or auto)")
        opts: dict[str, object] = {}
        if asr == "faster-whisper":
            opts = {"device": device, "compute_type": compute_type, "batch_size": batch_size, "progress": True}
            if model:
                opts["model"] = model
        else:  # options of faster-whisper alone: ignored by the other backends (cuda ran on the CPU, silently)
            given = [flag for flag, value in (("--model", model), ("--compute-type", compute_type),
                                              ("--batch-size", batch_size != 8), ("--device", device != "auto"))
                     if value]
            if given:
                raise InputError(f"{given[0]} applies to --asr faster-whisper, not '{asr}'")
        check_input_file(media)
        if out.suffix.lower() in SUBTITLE_OUT_SUFFIXES:  # it wrote JSON into en.srt: no subtitle reader read it
            raise InputError(f"transcribe writes Whisper-style JSON, not {out.suffix[1:].upper()}: give --out a "
                             ".json name", out)
        from ..fsutil.no_clobber import refuse_overwriting

        refuse_overwriting({"--out": out}, {"MEDIA": media})
        from ..asr.track import written_by_transcribe
        from ..fsutil.no_clobber import refuse_foreign_output

        refuse_foreign_output("--out", out, written_by_transcribe, "a transcript that anim400k transcribe wrote "
                              "(it has no 'anim400k' settings block)")
        from ..media.probe import default_audio_stream

        chosen: str | int = stream if stream is not None else default_audio_stream(media, lang)
        if isinstance(chosen, str):  # a language tag: picked as dub and build pick it
            chosen = pick_stream(media, chosen, "--stream")
        with backend_flags({"faster-whisper": "--model"}):
            transcriber = get_transcriber(asr, **opts)
            check = getattr(transcriber, "check", None)
            if callable(check):
                check()  # the model folder (complete?) and the device, before the audio is decoded
            t = transcribe_track(media, chosen, lang, transcriber, out)
        speech = sum(s.duration for s in t.segments)
        words = sum(len(s.words) for s in t.segments)
        typer.echo(f"{len(t.segments)} segments, {words} words, {speech:.1f} s of speech "
                   f"({t.source}) -> {out}")
