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
    **options: Any,
) -> list[Turn]:
    """Decode one audio stream of ``media`` (mono, 16 kHz) and diarize it with backend ``diarizer``."""
    from ..media import decode_audio

    audio = decode_audio(media, stream, sr=DIARIZE_SR)
    return get_diarizer(diarizer, num_speakers=num_speakers, **options).diarize(audio, DIARIZE_SR)


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
