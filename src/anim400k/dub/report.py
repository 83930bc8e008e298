"""The dub report: one record per line plus episode-level timing figures, written as JSON/SRT."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..fsutil.atomic import write_json_atomic
from ..model import Subtitle


@dataclass
class LineReport:
    """What happened to one segment's line."""

    index: int
    speaker: str | None
    slot_start: float
    slot_end: float
    en_text: str | None = None
    source_text: str | None = None
    #: the translation before condensing, when ``en_text`` is a shorter wording of it
    condensed_from: str | None = None
    speech_start: float | None = None
    speech_end: float | None = None
    natural_duration: float | None = None
    tts_speed: float = 1.0
    stretch: float | None = None
    pitch_shift: float = 0.0
    voice: str | None = None
    gain_db: float | None = None
    source_ratio_db: float | None = None
    dub_ratio_db: float | None = None
    overflow: bool = False
    truncated: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def spoken(self) -> bool:
        """True when speech was placed for this line."""
        return self.speech_start is not None

    @property
    def start_error(self) -> float | None:
        """Speech start minus slot start (s)."""
        return None if self.speech_start is None else self.speech_start - self.slot_start

    @property
    def end_error(self) -> float | None:
        """Speech end minus slot end (s); positive when late."""
        return None if self.speech_end is None else self.speech_end - self.slot_end

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with the timing errors included."""
        d = asdict(self)
        d["start_error"] = self.start_error
        d["end_error"] = self.end_error
        return d


@dataclass
class DubReport:
    """Everything :func:`anim400k.dub.pipeline.dub` did to one input."""

    source: str
    output: str | None
    duration: float
    sample_rate: int
    tts: str
    translator: str
    #: the model that translated (``whisper``: the model folder or name, or the embedded Whisper base's id)
    translator_model: str | None = None
    diarizer: str | None = None
    lines: list[LineReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    source_lufs: float | None = None
    output_lufs: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def spoken_lines(self) -> list[LineReport]:
        """Lines for which speech was placed."""
        return [ln for ln in self.lines if ln.spoken]

    @property
    def problem_lines(self) -> list[LineReport]:
        """Lines with at least one problem."""
        return [ln for ln in self.lines if ln.problems]

    @property
    def no_subtitle_lines(self) -> list[LineReport]:
        """Lines that no subtitle overlaps (``translate.subtitles.NO_SUBTITLE``): not spoken, their time
        keeps the backing; many of them suggest subtitles timed to another cut or origin."""
        from ..translate.subtitles import NO_SUBTITLE

        return [ln for ln in self.lines if any(p.startswith(NO_SUBTITLE) for p in ln.problems)]

    @property
    def mean_abs_end_error(self) -> float | None:
        """Mean absolute end-time error (s) over spoken lines (None when nothing was spoken)."""
        errs = [abs(ln.end_error) for ln in self.spoken_lines if ln.end_error is not None]
        return float(np.mean(errs)) if errs else None

    @property
    def max_abs_start_error(self) -> float | None:
        """Largest absolute start-time error (s) over spoken lines."""
        errs = [abs(ln.start_error) for ln in self.spoken_lines if ln.start_error is not None]
        return float(np.max(errs)) if errs else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "source": self.source,
            "output": self.output,
            "duration": self.duration,
            "sample_rate": self.sample_rate,
            "tts": self.tts,
            "translator": self.translator,
            "translator_model": self.translator_model,
            "diarizer": self.diarizer,
            "summary": {
                "segments": len(self.lines),
                "spoken": len(self.spoken_lines),
                "overflowing": sum(ln.overflow for ln in self.lines),
                "truncated": sum(ln.truncated for ln in self.lines),
                "condensed": sum(ln.condensed_from is not None for ln in self.lines),
                "with_problems": len(self.problem_lines),
                "no_subtitle": len(self.no_subtitle_lines),
                "mean_abs_end_error": self.mean_abs_end_error,
                "max_abs_start_error": self.max_abs_start_error,
                "source_lufs": self.source_lufs,
                "output_lufs": self.output_lufs,
            },
            "problems": self.problems,
            "seconds": self.seconds,
            "lines": [ln.to_dict() for ln in self.lines],
        }

    def write_json(self, path: str | Path) -> None:
        """Write the report as JSON (atomically)."""
        write_json_atomic(path, _plain(self.to_dict()))

    def write_srt(self, path: str | Path) -> None:
        """Write an SRT of what was spoken, timed to the placed speech."""
        from ..formats.subtitles import write_srt

        write_srt(path, [Subtitle(ln.speech_start or 0.0, ln.speech_end or 0.0, ln.en_text or "")
                         for ln in self.spoken_lines])


#: top-level keys of every report :meth:`DubReport.to_dict` gives (``dub --report`` may replace a file with them)
REPORT_KEYS = ("source", "output", "summary", "lines")


def _plain(obj: Any) -> Any:
    """``obj`` with numpy scalars turned into Python numbers (for JSON)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
