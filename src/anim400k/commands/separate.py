"""``anim400k separate MEDIA --out-backing B.flac``: split a mix into backing (M&E) and vocals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..registry import SEPARATORS
from ..signal import ANALYSIS_SR
from . import check_input_file, pick_stream, refuse_one_stream, refuse_unused

#: the comment tag ``separate`` writes into its outputs where the format has one (WAV, FLAC, M4A): the mark by
#: which a re-run knows them for its own (:func:`written_by_separate`)
SEPARATE_MARK = "written by anim400k separate"
SEPARATE_OUTPUT = (f"audio that anim400k separate wrote (its comment tag is not '{SEPARATE_MARK}'; an MP3 or AAC "
                   "output: no audio stream in it)")


def written_by_separate(path: Path) -> bool:
    """Whether ``path`` is an earlier output of ``separate``, which a re-run may replace: a WAV, FLAC or M4A with
    :data:`SEPARATE_MARK` as its comment (a user's own WAV at ``--out-backing`` was replaced, being audio), or,
    in a format that carries no comment (MP3, ADTS AAC), any audio."""
    from ..media.audio import audio_comment, takes_comment
    from ..media.probe import has_audio_stream

    return audio_comment(path) == SEPARATE_MARK if takes_comment(path) else has_audio_stream(path)


def _other_stream(media: Path, streams: list, jp_stream: int, en_stream: str) -> int | None:
    """The second language's mix among ``media``'s audio streams for ``dualtrack``: the ``--en-stream`` choice
    when it is another stream than ``--stream``. With its default (``eng``) and two streams, when that finds no
    other stream (none English, or ``--stream eng`` took the English one), the other of the two is taken, with a
    note, unless it says it is no dub of the programme: titled as a commentary, description or the like, or tagged
    with ``--stream``'s own language (a Japanese commentary beside the Japanese mix was taken for the EN mix and
    the "backing" written was its dialogue). docs/separation.md: "the other audio stream of MEDIA is used when
    there is one" (``--stream eng`` on a jpn + eng file fell back to one track, as did jpn + spa)."""
    from ..errors import InputError
    from ..media.probe import secondary_title

    try:
        picked = pick_stream(media, en_stream, "--en-stream")
    except InputError:
        if len(streams) != 2 or en_stream != "eng":
            raise
        picked = None
    if picked is not None and picked != jp_stream:
        return picked
    if len(streams) != 2 or en_stream != "eng":
        return None
    k = 1 - jp_stream
    other, this = streams[k], streams[jp_stream]
    same_language = bool(other.language) and other.language not in ("und",) and other.language == this.language
    if secondary_title(other.title) or same_language:
        why = f"titled {other.title!r}" if secondary_title(other.title) else f"tagged '{other.language}' as --stream"
        raise InputError(f"no English audio stream, and the other stream ({k}) is no other language's mix ({why}): "
                         "pass --en-media, or --en-stream N to use audio stream N", media)
    tag = f"'{other.language}'" if other.language else "untagged"
    typer.echo(f"note: {media}: no other English audio stream; the other stream ({k}, {tag}) is taken as the "
               "second language's mix", err=True)
    return k


def register(app: typer.Typer) -> None:
    """Add the ``separate`` command."""

    @app.command("separate")
    def separate(
        media: Annotated[Path, typer.Argument(help="Media (or audio file) whose mix to separate.")],
        out_backing: Annotated[Path, typer.Option("--out-backing", help="Backing track output (.flac/.wav).")],
        out_vocals: Annotated[Path | None, typer.Option("--out-vocals", help="Vocals output.")] = None,
        stream: Annotated[str, typer.Option(help="Audio stream of MEDIA: language tag or index.")] = "jpn",
        en_media: Annotated[
            Path | None, typer.Option("--en-media", help="Media with the other language's mix (dualtrack).")
        ] = None,
        en_stream: Annotated[str, typer.Option(help="Audio stream of --en-media.")] = "eng",
        method: Annotated[str, typer.Option(help=f"{SEPARATORS.choices()}.")] = "dualtrack",
        model: Annotated[Path | None, typer.Option(help="demucs: local model file or folder.")] = None,
        model_name: Annotated[str | None, typer.Option(
            help="demucs: model name inside --model folder (default htdemucs).")] = None,
        sr: Annotated[int, typer.Option(help="Processing and output rate in Hz.")] = ANALYSIS_SR,
    ) -> None:
        """Estimate the backing track (and vocals) of MEDIA's mix."""
        from ..errors import InputError, backend_flags
        from ..fsutil.no_clobber import refuse_foreign_output, refuse_overwriting
        from ..media import decode_audio, write_audio
        from ..media.audio import check_audio_output
        from ..separate import get_separator

        refuse_overwriting({"--out-backing": out_backing, "--out-vocals": out_vocals},
                           {"MEDIA": media, "--en-media": en_media})
        for given in (media, en_media):
            if given is not None:
                check_input_file(given)
        if method not in SEPARATORS:
            raise InputError(f"--method must be one of {', '.join(SEPARATORS.names())}, got {method!r}")
        if not 8000 <= sr <= 48000:
            raise InputError(f"--sr must be within 8000..48000 Hz, got {sr}")
        refuse_unused({"--model": model, "--model-name": model_name, "--en-media": en_media},
                      {"--model": "demucs", "--model-name": "demucs", "--en-media": "dualtrack"}, method, "--method")
        for flag, output in (("--out-backing", out_backing), ("--out-vocals", out_vocals)):
            if output is not None:
                check_audio_output(output)  # its format and its folder, before the separation
                refuse_foreign_output(flag, output, written_by_separate, SEPARATE_OUTPUT)
        options: dict[str, object] = {}
        if method == "demucs":
            options = {"model": model, "model_name": model_name or "htdemucs", "progress": True}
        elif method == "dualtrack":
            options = {"log_fallback": False}  # the fallback is one 'warning:' line below, not also a log line
        with backend_flags({"demucs": "--model"}):
            separator = get_separator(method, **options)
        if method == "demucs":
            separator.check()  # type: ignore[attr-defined]  # the model path, before the streams are probed
        jp_stream = pick_stream(media, stream, "--stream")
        en_index = pick_stream(en_media, en_stream, "--en-stream") if en_media is not None else None
        if en_media is not None and en_index is not None:
            refuse_one_stream(media, en_media, jp_stream, en_index,
                              "MEDIA and --en-media are the same audio stream ({index}): --en-media is the other "
                              "language's mix (pass --en-stream N for another stream of the same file)")
        if method == "demucs":
            separator.load()  # type: ignore[attr-defined]  # a broken model fails before the audio is decoded
        mix = decode_audio(media, jp_stream, sr=sr)
        reference = None
        if en_media is not None and en_index is not None:
            reference = decode_audio(en_media, en_index, sr=sr)
        elif method == "dualtrack":
            # the same file may hold the other language
            from ..media import probe

            streams = probe(media).audio_streams
            if len(streams) > 1:
                other = _other_stream(media, streams, jp_stream, en_stream)
                if other is not None and other != jp_stream:
                    reference = decode_audio(media, other, sr=sr)
        result = separator.separate(mix, sr, reference=reference)
        write_audio(out_backing, result.backing, sr, comment=SEPARATE_MARK)
        if out_vocals is not None:
            write_audio(out_vocals, result.vocals, sr, comment=SEPARATE_MARK)
        msg = f"{result.method}: wrote {out_backing}"
        if result.fallback:
            typer.echo(f"warning: {result.reason}; used single-track {result.method}", err=True)
        if result.time_map is not None and not result.fallback:  # the map the two tracks were combined by
            msg += f" (offset {result.time_map.offset * 1000:+.1f} ms, drift {result.time_map.drift * 100:+.4f} %)"
        elif result.time_map is not None:  # a rejected estimate was used by nothing: printed as such, not as used
            msg += (f" (single track: the sync estimate, offset {result.time_map.offset * 1000:+.1f} ms, was not "
                    "reliable and is not used)")
        typer.echo(msg)
