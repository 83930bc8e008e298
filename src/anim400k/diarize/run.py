"""File-level diarization: decode a media stream, diarize it, score it against a reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..signal import ANALYSIS_SR
from .base import Turn, get_diarizer

DIARIZE_SR = ANALYSIS_SR


def diarize_media(
    media: str | Path,
    stream: str | int = "jpn",
    diarizer: str = "embedded",
    num_speakers: int | None = None,
    other_stream: str | int | None = None,
    **options: Any,
) -> list[Turn]:
    """Decode one audio stream of ``media`` (mono, 16 kHz) and diarize it with backend ``diarizer``.

    With ``other_stream`` (the other language's stream of the same medium) both mixes go through
    the dual-track separation and the diarizer gets this stream's speech with the other one's as
    a second view (:mod:`.views`); this stream alone when the separation falls back.
    """
    from ..media import decode_audio

    d = get_diarizer(diarizer, num_speakers=num_speakers, **options)
    audio = decode_audio(media, stream, sr=DIARIZE_SR)
    if other_stream is None:
        return d.diarize(audio, DIARIZE_SR)
    if not getattr(d, "uses_other_track", False):
        raise InputError(f"the {diarizer} diarizer takes one stream (--other-stream needs embedded or anime)")
    from .views import dual_track_speech

    speech, other = dual_track_speech(audio, decode_audio(media, other_stream, sr=DIARIZE_SR), DIARIZE_SR)
    if other is None:
        return d.diarize(speech, DIARIZE_SR)
    return d.diarize(speech, DIARIZE_SR, other=other)  # type: ignore[call-arg]


def load_reference(path: str | Path, language: str = "ja") -> list[Turn]:
    """Reference turns from an RTTM file or a synthetic episode's ``truth.json`` (or its folder).

    For ``truth.json`` each line gives one turn on the JP timeline (``jp_start``/``jp_end``), or on
    the EN timeline when ``language`` is ``en``.
    """
    from ..formats.rttm import read_rttm

    p = Path(path)
    if p.is_dir():
        p = p / "truth.json"
    if p.suffix.lower() != ".json":
        return read_rttm(p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", p) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a readable truth.json: {exc}", p) from None
    prefix = "en" if language.lower().startswith("en") else "jp"
    try:
        return sorted(Turn(float(ln[f"{prefix}_start"]), float(ln[f"{prefix}_end"]), str(ln["speaker"]))
                      for ln in data["lines"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"truth.json lines need speaker, {prefix}_start, {prefix}_end ({exc!r})", p) from None
