"""Typed records of a release: clips, episodes (with their poll), characters, shows."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import model
from .codec import timestamp_seconds as _ts
from .schema import EPISODE_FIELDS, type_ok


@dataclass(slots=True)
class ClipRecord:
    """One clip of a release. Times are float seconds (NaN where the file's value is bad)."""

    show_key: str
    episode: str
    index: int
    jp_clip: str
    en_clip: str
    jp_text: str
    en_text: str
    jp_start: float
    jp_end: float
    en_start: float
    en_end: float
    speakers: list[str]
    en_subtitles: list[model.Subtitle] = field(default_factory=list)
    multi_speaker: bool | None = None
    mixing_ratio: float | None = None
    backing_clip: str | None = None
    speaker_confidence: float | None = None

    @property
    def id(self) -> str:
        """The clip's ID: its Japanese clip ID."""
        return self.jp_clip

    @property
    def duration(self) -> float:
        """Length in seconds of the Japanese clip."""
        return self.jp_end - self.jp_start

    @property
    def is_multi_speaker(self) -> bool:
        """``multi_speaker`` if recorded, else whether more than one speaker ID is listed."""
        if self.multi_speaker is not None:
            return self.multi_speaker
        return len(set(self.speakers)) > 1

    @classmethod
    def from_dict(cls, show_key: str, episode: str, index: int, d: dict[str, Any]) -> ClipRecord:
        """Build from a clip object; missing or wrong-typed fields become empty values (validate first)."""
        # hot path (one call per clip): positional construction, few lookups
        get = d.get
        subs = []
        raw_subs = get("en_subtitles")
        if raw_subs.__class__ is list:
            for s in raw_subs:
                if isinstance(s, dict):
                    text = s.get("text", "")
                    subs.append(
                        model.Subtitle(_ts(s.get("start")), _ts(s.get("end")), text if isinstance(text, str) else "")
                    )
        jp_text, en_text, speakers = get("jp_text", ""), get("en_text", ""), get("speakers")
        ms, mr, bc = get("multi_speaker"), get("mixing_ratio"), get("backing_clip")
        return cls(
            show_key,
            episode,
            index,
            str(get("jp_clip", "")),
            str(get("en_clip", "")),
            jp_text if isinstance(jp_text, str) else "",
            en_text if isinstance(en_text, str) else "",
            _ts(get("jp_start_time")),
            _ts(get("jp_end_time")),
            _ts(get("en_start_time")),
            _ts(get("en_end_time")),
            [str(x) for x in speakers] if isinstance(speakers, list) else [],
            subs,
            ms if isinstance(ms, bool) else None,
            float(mr) if mr is not None and mr.__class__ is not bool and isinstance(mr, int | float)
            and math.isfinite(mr) else None,  # type_ok(mr, "float"), inlined (hot path)
            bc if isinstance(bc, str) else None,
            _unit_float(get("speaker_confidence")),
        )


def _unit_float(v: Any) -> float | None:
    """``v`` as a float in 0..1, else ``None``."""
    if v is None or v.__class__ is bool or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
        return None
    return float(v)


@dataclass(slots=True)
class Rating:
    """One row of an episode poll: percent of voters and their number."""

    ratio: float
    number_of_voters: float


@dataclass(slots=True)
class EpisodeRecord:
    """One episode of a show: its metadata and (when loaded with clips) its clips."""

    show_key: str
    number: str
    url: str | None = None
    synopsis: str | None = None
    jp_video_id: str | None = None
    en_video_id: str | None = None
    ratings: dict[str, Rating] = field(default_factory=dict)
    n_clips: int = 0
    clips: list[ClipRecord] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def voters(self) -> float:
        """Total number of poll voters."""
        return sum(r.number_of_voters for r in self.ratings.values())

    @property
    def mean_vote(self) -> float | None:
        """Mean poll score on 1..5: ``sum(score * ratio / 100)``; None without a poll."""
        if not self.ratings or self.voters <= 0 and sum(r.ratio for r in self.ratings.values()) <= 0:
            return None
        total = 0.0
        for score, r in self.ratings.items():
            try:
                total += float(score) * r.ratio / 100.0
            except ValueError:
                continue
        return total

    @classmethod
    def from_dict(cls, show_key: str, number: str, d: dict[str, Any], with_clips: bool = True) -> EpisodeRecord:
        """Build from an episode object (clips parsed only if ``with_clips``)."""
        ratings: dict[str, Rating] = {}
        raw = d.get("ratings")
        if isinstance(raw, dict):
            for score, r in raw.items():
                if (
                    isinstance(r, dict)
                    and type_ok(r.get("ratio"), "float")
                    and type_ok(r.get("number_of_voters"), "float")
                ):
                    ratings[str(score)] = Rating(float(r["ratio"]), float(r["number_of_voters"]))
        clips_raw = d.get("clips") if isinstance(d.get("clips"), list) else []
        clips = (
            [ClipRecord.from_dict(show_key, number, i, c) for i, c in enumerate(clips_raw) if isinstance(c, dict)]
            if with_clips
            else []
        )

        def s(key: str) -> str | None:
            v = d.get(key)
            return v if isinstance(v, str) else None

        return cls(
            show_key=show_key,
            number=number,
            url=s("url"),
            synopsis=s("synopsis"),
            jp_video_id=s("jp_video_id"),
            en_video_id=s("en_video_id"),
            ratings=ratings,
            n_clips=len(clips_raw),
            clips=clips,
            extra={k: v for k, v in d.items() if k not in EPISODE_FIELDS},
        )


@dataclass(slots=True)
class Character:
    """A show's character: description, role, picture IDs, voice actors."""

    name: str
    description: str | None = None
    role: str | None = None
    pic_urls: list[str] = field(default_factory=list)
    voice_actors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Show:
    """One show (season): its metadata fields (as in the file) and its episodes."""

    key: str
    metadata: dict[str, Any]
    episodes: dict[str, EpisodeRecord] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The show's name (falls back to its key)."""
        v = self.metadata.get("show")
        return v if isinstance(v, str) else self.key

    def _str_list(self, key: str) -> list[str]:
        v = self.metadata.get(key)
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []

    @property
    def genres(self) -> list[str]:
        """Genres."""
        return self._str_list("genres")

    @property
    def themes(self) -> list[str]:
        """Themes."""
        return self._str_list("themes")

    @property
    def synopsis(self) -> str | None:
        """Show synopsis."""
        v = self.metadata.get("synopsis")
        return v if isinstance(v, str) else None

    @property
    def characters(self) -> list[Character]:
        """Characters with their descriptions and picture IDs."""
        out = []
        raw = self.metadata.get("characters")
        for name, c in (raw or {}).items() if isinstance(raw, dict) else ():
            if not isinstance(c, dict):
                continue
            out.append(
                Character(
                    name=str(name),
                    description=c.get("description") if isinstance(c.get("description"), str) else None,
                    role=c.get("role") if isinstance(c.get("role"), str) else None,
                    pic_urls=[p for p in c.get("pic_urls") or [] if isinstance(p, str)],
                    voice_actors=[p for p in c.get("Voice Actors") or [] if isinstance(p, str)],
                )
            )
        return out

    def clips(self) -> Iterator[ClipRecord]:
        """The clips of all episodes (loaded ones), in file order."""
        for ep in self.episodes.values():
            yield from ep.clips

    @classmethod
    def from_dict(cls, key: str, d: dict[str, Any], with_clips: bool = True) -> Show:
        """Build from a show object (clips parsed only if ``with_clips``)."""
        eps_raw = d.get("episodes") if isinstance(d.get("episodes"), dict) else {}
        episodes = {
            str(n): EpisodeRecord.from_dict(key, str(n), e, with_clips)
            for n, e in eps_raw.items()
            if isinstance(e, dict)
        }
        return cls(key=key, metadata={k: v for k, v in d.items() if k != "episodes"}, episodes=episodes)

