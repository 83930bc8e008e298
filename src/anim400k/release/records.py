"""Typed records of a release: episodes (with their poll and clips), characters, shows.

Clips are :class:`anim400k.model.Clip` (read by :func:`.codec.clip_from_release`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .. import model
from .codec import clip_from_release
from .schema import EPISODE_FIELDS, type_ok


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
    clips: list[model.Clip] = field(default_factory=list)
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
                    str(score) in POLL_SCORES  # "five", "" or "6" counted voters and moved the mean vote
                    and isinstance(r, dict)
                    and type_ok(r.get("ratio"), "float")
                    and type_ok(r.get("number_of_voters"), "float")
                ):
                    ratings[str(score)] = Rating(float(r["ratio"]), float(r["number_of_voters"]))
        clips_raw = d.get("clips") if isinstance(d.get("clips"), list) else []
        clips = (
            [clip_from_release(show_key, number, i, c) for i, c in enumerate(clips_raw) if isinstance(c, dict)]
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
                    # a string is no list: iterated, '43/43951cb0-...' counted 39 pictures
                    pic_urls=[p for p in _listed(c.get("pic_urls")) if isinstance(p, str)],
                    voice_actors=[p for p in _listed(c.get("Voice Actors")) if isinstance(p, str)],
                )
            )
        return out

    def clips(self) -> Iterator[model.Clip]:
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


#: FORMAT.md's poll scores: ``ratings`` maps each to its share of the voters
POLL_SCORES = frozenset({"1", "2", "3", "4", "5"})


def _listed(value: Any) -> list[Any]:
    """``value`` if it is a list, else ``[]`` (a field of the wrong type holds no items)."""
    return value if isinstance(value, list) else []
