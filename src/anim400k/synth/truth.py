"""The ground truth of a synthetic episode (``truth.json``) as typed dataclasses."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..media.av_path import av_path
from ..model import Segment, Subtitle, TimeMap


@dataclass(frozen=True, slots=True)
class TruthLine:
    """One spoken line: the JP utterance (JP timeline) and its EN dub (EN timeline)."""

    id: int
    speaker: str
    jp_start: float
    jp_end: float
    en_start: float
    en_end: float
    jp_text: str
    en_text: str
    subtitle: str


#: One EN subtitle event for the JP audio (JP timeline): the model's subtitle event.
TruthSubtitle = Subtitle


@dataclass(slots=True)
class Truth:
    """Everything known about a synthetic episode; stem paths resolve beside ``truth.json``."""

    duration: float
    sample_rate: int
    seed: int
    offset: float
    drift: float
    speakers: list[str]
    lines: list[TruthLine]
    subtitles: list[TruthSubtitle]
    stems: dict[str, str]
    en_duration: float = 0.0
    voices: dict[str, dict[str, str]] = field(default_factory=dict)
    base_dir: Path | None = None

    @property
    def time_map(self) -> TimeMap:
        """The true JP->EN timeline map."""
        return TimeMap(self.offset, self.drift, 1.0)

    def stem_path(self, name: str) -> Path:
        """Path of stem ``name`` (``backing``, ``jp_speech``, ``jp_mix``, ``en_speech``, ``en_mix``, ...)."""
        if name not in self.stems:
            raise KeyError(f"no stem {name!r}; have {sorted(self.stems)}")
        return (self.base_dir or Path(".")) / self.stems[name]

    def load_stem(self, name: str) -> np.ndarray:
        """Decode stem ``name`` (float32 mono at :attr:`sample_rate`)."""
        import av

        with av.open(av_path(self.stem_path(name))) as c:
            parts = [f.to_ndarray().reshape(-1) for f in c.decode(audio=0)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    def segments(self, language: str) -> list[Segment]:
        """The lines as segments of the ``ja`` or ``en`` medium (own timeline, with speaker and text)."""
        if language in ("ja", "jp", "jpn"):
            return [Segment(ln.jp_start, ln.jp_end, ln.jp_text, speaker=ln.speaker) for ln in self.lines]
        if language in ("en", "eng"):
            return [Segment(ln.en_start, ln.en_end, ln.en_text, speaker=ln.speaker) for ln in self.lines]
        raise ValueError(f"unknown language {language!r}")

    def subtitle_events(self) -> list[Subtitle]:
        """The EN subtitles as model objects (JP timeline)."""
        return [Subtitle(s.start, s.end, s.text) for s in self.subtitles]

    def speech_fraction(self, language: str = "ja") -> float:
        """Fraction of the medium's duration covered by at least one line."""
        segs = sorted((s.start, s.end) for s in self.segments(language))
        total, cur_s, cur_e = 0.0, None, None
        for s, e in segs:
            if cur_e is None or s > cur_e:
                if cur_e is not None:
                    total += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        if cur_e is not None:
            total += cur_e - cur_s
        dur = self.duration if language in ("ja", "jp", "jpn") else self.en_duration or self.duration
        return total / dur if dur > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``truth.json``."""
        d = {
            "duration": self.duration,
            "en_duration": self.en_duration,
            "sample_rate": self.sample_rate,
            "seed": self.seed,
            "offset": self.offset,
            "drift": self.drift,
            "speakers": list(self.speakers),
            "voices": self.voices,
            "lines": [asdict(ln) for ln in self.lines],
            "subtitles": [asdict(s) for s in self.subtitles],
            "stems": dict(self.stems),
        }
        return d


def load_truth(path: str | Path) -> Truth:
    """Read a synthetic episode's ``truth.json`` (or the folder holding it)."""
    p = Path(path)
    if p.is_dir():
        p = p / "truth.json"
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        return Truth(
            duration=float(d["duration"]),
            sample_rate=int(d["sample_rate"]),
            seed=int(d["seed"]),
            offset=float(d["offset"]),
            drift=float(d["drift"]),
            speakers=list(d["speakers"]),
            lines=[TruthLine(**ln) for ln in d["lines"]],
            subtitles=[TruthSubtitle(**s) for s in d["subtitles"]],
            stems=dict(d["stems"]),
            en_duration=float(d.get("en_duration", d["duration"])),
            voices=dict(d.get("voices", {})),
            base_dir=p.parent,
        )
    except FileNotFoundError as exc:
        raise InputError("truth file not found", p) from exc
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a synthetic-episode truth file ({exc})", p) from exc
