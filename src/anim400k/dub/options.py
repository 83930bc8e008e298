"""Options of the dubbing pipeline (:class:`DubOptions`).

A plain dataclass in a light module (no numpy, no pydantic), so ``anim400k dub`` reads its
flags' defaults from here without slowing ``anim400k --help``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import InputError, check_number

#: The allowed range of each number option: field -> (minimum, maximum or None, minimum excluded).
#: The stretch bounds hold 1.0 (a line at its natural length): min_stretch in (0, 1], max_stretch >= 1.
RANGES: dict[str, tuple[float, float | None, bool]] = {
    "min_stretch": (0.0, 1.0, True),
    "max_stretch": (1.0, None, False),
    "min_tts_speed": (0.0, None, True),
    "max_tts_speed": (0.0, None, True),
}
#: The ``anim400k dub`` flag of each option that has one: errors name what the user typed.
FLAGS = {"min_stretch": "--min-stretch", "max_stretch": "--max-stretch", "num_speakers": "--num-speakers",
         "anchor": "--anchor"}
#: Where a line shorter than its slot goes (``anchor``).
ANCHORS = ("start", "centre")


@dataclass
class DubOptions:
    """Options of :func:`anim400k.dub.pipeline.dub` (the CLI flags of ``anim400k dub``).

    Invalid values (a speed <= 0 or not finite, stretch bounds that do not hold 1.0, a ``num_speakers`` below 1, an
    unknown anchor: :func:`check_option_values`) raise :class:`InputError` with one line.
    Change fields with :func:`dataclasses.replace` (which checks them again).
    """

    def diarizer_model_path(self) -> str | None:
        """The local model of ``diarizer``: ``diarizer_model``, or ``pipeline`` for pyannote."""
        return self.diarizer_model or (self.pipeline if self.diarizer == "pyannote" else None)

    stream: str | int = "jpn"
    #: The EN dub's audio stream (language tag or audio-stream index) whose speech is the diarizer's second
    #: view of each speaker, beside the JP speech of the dual-track separation, as in the build's diarize
    #: stage (:mod:`anim400k.dub.views`); ``None``, or no such stream: the single-track vocals alone.
    other_stream: str | int | None = "eng"
    subtitles: str | None = None
    #: ``auto`` (``text`` with ``translations``, else ``subtitles`` when there are EN subtitles, else
    #: ``whisper`` on the speech: :func:`anim400k.dub.pipeline.choose_translator`), ``subtitles``, ``whisper``
    #: or ``text``
    translator: str = "auto"
    translations: str | None = None
    #: ``whisper``'s local CTranslate2 model folder (or a name in the local HF cache); None: the embedded
    #: Whisper base shipped in wheels (``anim400k.asr.whisper_base``)
    whisper_model: str | None = None
    tts: str = "neural"
    tts_model: str | None = None
    #: Torch/CTranslate2 device of the model backends (xtts, whisper, pyannote): ``cpu``, ``cuda``, ``cuda:1``.
    device: str = "cpu"
    separator: str = "hpss"
    separation_sr: int | None = 24000
    diarizer: str | None = "embedded"
    #: pyannote: the local pipeline ``config.yaml`` (or its folder); default ``ANIM400K_PYANNOTE_PIPELINE``.
    pipeline: str | None = None
    #: the diarizer's local model: the ``anime`` folder (default ``ANIM400K_ANIME_SPEAKER_MODEL``), or for
    #: ``pyannote`` the same as ``pipeline`` (either may be given)
    diarizer_model: str | None = None
    num_speakers: int | None = None
    #: Slowest time stretch (< 1 slows down): 1, lines are slowed only by the TTS's own rate control,
    #: never below ``min_tts_speed`` = 0.9. Slowed further, short lines were misheard ("Wait!" heard as
    #: "ways"); the phase vocoder's slowing cost most (demo intelligibility WER 0.18 with 0.7 x 0.8,
    #: ~0.09 with 0.9 x 0.95, 0.064 with 0.9 x 1, docs/dubbing.md).
    min_stretch: float = 1.0
    max_stretch: float = 1.3
    min_tts_speed: float = 0.9
    max_tts_speed: float = 1.6
    #: Where a line left shorter than its slot goes: ``centre`` (the gap split between onset and end;
    #: demo dubs: mean |onset error| 0.12 s, |end error| 0.08 s) or ``start`` (0.05 s, 0.18 s).
    anchor: Literal["start", "centre"] = "centre"
    #: Shorter wording for lines that overflow their slot at the fastest speed: ``rules`` (embedded),
    #: ``rules+trim``, ``none`` or ``package.module:function`` (see :mod:`anim400k.dub.condense`).
    condense: str = "rules"
    match_pitch: bool = True
    merge_gap: float = 0.3
    max_segment: float = 10.0
    min_segment: float = 0.3
    srt: str | None = None
    report: str | None = None
    stems: str | None = None
    #: Show a progress bar (stderr, on a terminal only): stages, then one step per spoken line.
    progress: bool = True

    def __post_init__(self) -> None:
        check_option_values({name: getattr(self, name) for name in (*RANGES, "num_speakers", "anchor")})
        for name in RANGES:
            setattr(self, name, float(getattr(self, name)))
        if self.pipeline and self.diarizer_model and self.pipeline != self.diarizer_model:
            raise InputError("give the pyannote pipeline once: --pipeline or --diarizer-model, not both")


def check_option_values(values: Mapping[str, Any], flags: bool = False) -> None:
    """Raise :class:`InputError` (one line, with the allowed range) for a value of ``values`` (field -> value)
    out of its range (:data:`RANGES`), a ``num_speakers`` below 1 or an unknown ``anchor``.

    The option is named as the user gave it: with ``flags`` (``anim400k dub``) by its flag,
    ``--min-stretch must be a finite number above 0 and at most 1, not 0.0``; else as the field,
    ``dub option min_stretch must be ...``.
    """

    def name(field: str) -> str:
        return FLAGS[field] if flags and field in FLAGS else f"dub option {field}"

    for field, value in values.items():
        if field in RANGES:
            low, high, above = RANGES[field]
            number = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else value
            check_number(name(field), number, low, high, above=above)
        elif field == "num_speakers" and value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name(field)} must be an integer >= 1 (omit it to count the speakers), "
                                 f"not {value!r}")
        elif field == "anchor" and value not in ANCHORS:
            raise InputError(f"{name(field)} must be one of {', '.join(ANCHORS)}, not {value!r}")
