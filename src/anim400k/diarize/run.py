"""File-level diarization: decode a media stream, diarize it, score it against a reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError, one_line
from ..model import MAX_TIME_S
from ..signal import ANALYSIS_SR
from .base import Turn, get_diarizer

DIARIZE_SR = ANALYSIS_SR


def _class_says(diarizer: str, flag: str) -> bool:
    """The class attribute ``flag`` of the diarizer class registered as ``diarizer``, told without building it (a
    pipeline is neither checked nor loaded)."""
    from ..registry import DIARIZERS

    return bool(getattr(DIARIZERS.load(diarizer), flag, False))


def takes_subtitles(diarizer: str) -> bool:
    """Whether the diarizer registered as ``diarizer`` takes subtitles (its class's ``uses_subtitles``)."""
    return _class_says(diarizer, "uses_subtitles")


def takes_other_track(diarizer: str) -> bool:
    """Whether the diarizer registered as ``diarizer`` takes the other language's speech (``uses_other_track``)."""
    return _class_says(diarizer, "uses_other_track")


def other_stream_hint(media: str | Path, index: int) -> str | None:
    """A note for ``diarize`` without ``--other-stream`` where ``media`` has another language's main audio stream
    besides its audio stream ``index`` (a number among the audio streams, as ``--stream`` takes it): that stream as
    ``--other-stream`` gets the speech separated from the music and a second view, as the build diarizes (None: no
    such stream). JP and EN look for each other first."""
    from ..media.probe import is_dub_title, normalize_language, probe, secondary_title

    audio = probe(media).audio_streams
    if not 0 <= index < len(audio):
        return None
    mine = normalize_language(audio[index].language)
    others = [(n, lang) for n, s in enumerate(audio)
              if n != index and (lang := normalize_language(s.language)) and lang != mine
              and not secondary_title(s.title) and not is_dub_title(s.title)]
    if not others:
        return None
    partner = {"jpn": "eng", "eng": "jpn"}.get(mine or "")
    at, lang = next((o for o in others if o[1] == partner), others[0])
    return (f"audio stream {index} diarized alone, on its mix (music included): the file also has audio stream "
            f"{at} ({lang}); --other-stream {lang} separates the speech from the music and adds that track as a "
            f"second view, as the build does (docs/diarization.md)")


def no_subtitles_message(diarizer: str) -> str:
    """The one-line refusal of ``--subtitles`` with a diarizer that takes none."""
    return f"the {diarizer} diarizer takes no subtitles (--subtitles needs embedded, campplus or anime)"


def diarize_media(
    media: str | Path,
    stream: str | int = "jpn",
    diarizer: str = "embedded",
    num_speakers: int | None = None,
    other_stream: str | int | None = None,
    subtitles: list[Any] | None = None,
    **options: Any,
) -> list[Turn]:
    """Decode one audio stream of ``media`` (mono, 16 kHz) and diarize it with backend ``diarizer``.

    With ``other_stream`` (the other language's stream of the same medium) both mixes go through
    the dual-track separation and the diarizer gets this stream's speech with the other one's as
    a second view (:mod:`.views`); this stream alone when the separation falls back. ``subtitles``
    (the stream's EN subtitle events, on its timeline) are the diarizer's speaker cues
    (:mod:`.subtitle_cues`; a backend that does not take them is refused).
    """
    from ..media import decode_audio

    d = get_diarizer(diarizer, num_speakers=num_speakers, **options)
    cues: dict[str, Any] = {}
    if subtitles is not None:
        if not getattr(d, "uses_subtitles", False):
            raise InputError(no_subtitles_message(diarizer))
        cues["subtitles"] = subtitles
    audio = decode_audio(media, stream, sr=DIARIZE_SR)
    if other_stream is None:
        return d.diarize(audio, DIARIZE_SR, **cues)
    if not getattr(d, "uses_other_track", False):
        raise InputError(f"the {diarizer} diarizer takes one stream (--other-stream needs embedded, campplus or "
                         "anime)")
    from .views import dual_track_speech

    speech, other = dual_track_speech(audio, decode_audio(media, other_stream, sr=DIARIZE_SR), DIARIZE_SR)
    if other is None:
        return d.diarize(speech, DIARIZE_SR, **cues)
    return d.diarize(speech, DIARIZE_SR, other=other, **cues)  # type: ignore[call-arg]


def load_reference(path: str | Path, language: str = "ja", file_id: str | None = None) -> list[Turn]:
    """Reference turns from an RTTM file or a synthetic episode's ``truth.json`` (or its folder).

    For ``truth.json`` each line gives one turn on the JP timeline (``jp_start``/``jp_end``), or on
    the EN timeline when ``language`` is ``en``.

    An RTTM with one file id gives its turns whatever the id. One with several (several recordings)
    gives the turns of ``file_id`` (the ``anim400k diarize`` command passes the media's stem, spaces
    as ``_``, the id it writes itself); without it, or when no record has it, :class:`InputError`
    lists the ids: the turns of different recordings are never overlaid.
    """
    from ..formats.rttm import read_rttm_files

    p = Path(path)
    if p.is_dir():
        p = p / "truth.json"
    if p.suffix.lower() != ".json":
        per_file = read_rttm_files(p)
        if len(per_file) <= 1:
            return next(iter(per_file.values()), [])
        if file_id is not None and file_id in per_file:
            return per_file[file_id]
        ids = ", ".join(sorted(per_file))
        wanted = f"none is the media's name {file_id!r}" if file_id is not None else "give the one to score"
        raise InputError(f"holds turns of {len(per_file)} recordings (file ids {ids}); {wanted}: "
                         "give its file id with --uri (anim400k diarize), or keep only this recording's SPEAKER "
                         "lines", p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", p) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: JSONDecodeError, over-long integers
        raise InputError(f"not a readable truth.json: {one_line(exc, 120)}", p) from None
    prefix = "en" if language.lower().startswith("en") else "jp"
    try:
        turns = [Turn(float(ln[f"{prefix}_start"]), float(ln[f"{prefix}_end"]), str(ln["speaker"]))
                 for ln in data["lines"]]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"truth.json lines need speaker, {prefix}_start, {prefix}_end ({exc!r})", p) from None
    for i, t in enumerate(turns):
        if not 0 <= t.start <= t.end <= MAX_TIME_S:
            raise InputError(f"lines[{i}]: {prefix}_start {t.start:g} / {prefix}_end {t.end:g} are not times "
                             f"from 0 to {MAX_TIME_S:.0f} s with start <= end", p)
    return sorted(turns)
