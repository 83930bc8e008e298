"""The CLI's commands, one module each; helpers they share."""

from __future__ import annotations

from pathlib import Path


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
