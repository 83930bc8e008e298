"""The CLI's commands, one module each; helpers they share."""

from __future__ import annotations

from pathlib import Path


def check_input_file(path: Path, what: str = "media file") -> None:
    """Refuse (:class:`~anim400k.errors.InputError` naming ``path``) an input that is not a readable file,
    before any work: ``media file not found``, ``is a folder, not a media file``, ``cannot be read
    (permission denied)``. (click's own check printed its usage block for the last; the CLI turns it off,
    see :func:`anim400k.cli._command`.)"""
    import os

    from ..errors import InputError

    if path.is_dir():
        raise InputError(f"is a folder, not a {what}", path)
    if not path.exists():
        from ..storage import refuse_url

        refuse_url(path, f"the {what}")  # 's3://b/x.mkv' was 's3:/b/x.mkv: media file not found'
        raise InputError(f"{what} not found", path)
    if not os.access(path, os.R_OK):
        raise InputError("cannot be read (permission denied)", path)


def pick_stream(media: Path, value: str, option: str) -> int:
    """The audio-stream index of ``media`` for an option's ``value`` (an index, obeyed, or a language tag)
    as ``dub`` and ``build`` choose it (:func:`anim400k.media.probe.pick_audio_stream`: one untagged
    stream is taken, streams titled with the language are recognised); a choice that was not plain is
    said on stderr in one line naming the file."""
    import typer

    from ..media.probe import pick_audio_stream

    index, note = pick_audio_stream(media, value, option)
    if note:
        typer.echo(f"note: {media}: {note}", err=True)
    return index


def refuse_one_stream(media: Path, other_media: Path, index: int, other_index: int, problem: str) -> None:
    """Refuse (:class:`~anim400k.errors.InputError` naming ``media``, saying ``problem``) two options that
    name one audio stream of one file (the same path, a link to it, or the file's only stream taken for
    both): a comparison of a stream with itself gives a result by construction, not a measurement."""
    from ..errors import InputError
    from ..fsutil.no_clobber import same_file

    if index == other_index and same_file(media, other_media):
        raise InputError(problem.format(index=index), media)


def refuse_unused(given: dict[str, object], used_by: dict[str, str], chosen: str, option: str) -> None:
    """Refuse a model option that the chosen backend does not use (it was ignored, and the user thought
    the model ran): ``given`` maps each flag to its value, ``used_by`` each flag to the backend that
    reads it, ``chosen`` is the backend of ``option`` (``--diarizer``). One line, as ``transcribe``'s
    ``--model applies to --asr faster-whisper, not 'auto'``."""
    from ..errors import InputError

    for flag, value in given.items():
        if value is not None and used_by[flag] != chosen:
            raise InputError(f"{flag} applies to {option} {used_by[flag]}, not '{chosen}'")
