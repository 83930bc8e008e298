"""The Anim-400K release format (``/work/shared/FORMAT.md``): annotations writer, reader, validator.

Writing
    :func:`write_annotations` streams ``anim400k_annotations.json`` to disk one clip at a
    time (never the whole dataset in memory) into a temporary file that is renamed into
    place. The bytes are deterministic: keys in FORMAT.md order (unknown keys after them,
    sorted), ``ensure_ascii=False``, compact separators, and a newline before every show,
    episode and clip so that diffs stay readable.

Reading
    :func:`load` returns a :class:`Dataset` over a release folder or an annotations file
    (ours or the original Anim-400K one). It stream-parses the file one *show* at a time
    with ``ijson`` (C backend), so memory is bounded by the largest show, not the dataset;
    without ``ijson`` it falls back to ``json.load`` of the whole file. Media are never
    loaded: :meth:`Dataset.audio_path` and friends only build paths.

Validating
    :func:`validate_release` lists :class:`Problem` s: missing, unknown and wrong-typed
    fields (naming show, episode, clip index and field), malformed and duplicate IDs,
    clips whose media files are absent.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .. import model
from ..errors import InputError, one_line
from ..fsutil import atomic_path
from . import ids

# ---------------------------------------------------------------------------------------------
# Field tables (FORMAT.md section 1). Types: "str", "int", "float", "bool", "[str]", "object",
# "list" (list of objects). "float" accepts ints too.
# ---------------------------------------------------------------------------------------------

SHOW_FIELDS: dict[str, str] = {
    "show": "str",
    "season": "str",
    "link": "str",
    "type": "str",
    "status": "str",
    "genres": "[str]",
    "themes": "[str]",
    "score": "float",
    "scored_by": "int",
    "rank": "int",
    "popularity": "int",
    "members": "int",
    "favorites": "int",
    "episode_num": "int",
    "aired": "str",
    "premiered": "str",
    "broadcast": "str",
    "producers": "[str]",
    "licensors": "[str]",
    "studios": "[str]",
    "source": "str",
    "avg_duration": "str",
    "rating": "str",
    "related_anime": "object",
    "opening_themes": "[str]",
    "ending_themes": "[str]",
    "staff": "[str]",
    "background": "str",
    "synopsis": "str",
    "characters": "object",
    "episodes": "object",
}
EPISODE_FIELDS: dict[str, str] = {
    "url": "str",
    "ratings": "object",
    "jp_video_id": "str",
    "en_video_id": "str",
    "synopsis": "str",
    "clips": "list",
}
CLIP_FIELDS: dict[str, str] = {
    "jp_clip": "str",
    "en_clip": "str",
    "jp_text": "str",
    "en_text": "str",
    "jp_start_time": "str",
    "jp_end_time": "str",
    "en_start_time": "str",
    "en_end_time": "str",
    "speakers": "[str]",
}
#: Our documented extras (FORMAT.md: "put those in the clip object as extra fields").
CLIP_EXTRA_FIELDS: dict[str, str] = {
    "en_subtitles": "list",
    "multi_speaker": "bool",
    "mixing_ratio": "float",
    "backing_clip": "str",
    "speaker_confidence": "float",
}
CHARACTER_FIELDS: dict[str, str] = {
    "description": "str",
    "role": "str",
    "pic_urls": "[str]",
    "Voice Actors": "[str]",
}
RATING_FIELDS: dict[str, str] = {"ratio": "float", "number_of_voters": "float"}
SUBTITLE_FIELDS: dict[str, str] = {"start": "str", "end": "str", "text": "str"}

#: Fields every clip must have; shows and episodes need only ``episodes``/``clips``
#: (metadata that was not collected stays absent).
REQUIRED_SHOW = ("episodes",)
REQUIRED_EPISODE = ("clips",)
REQUIRED_CLIP = tuple(CLIP_FIELDS)

_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "[str]": "a list of strings",
    "object": "an object",
    "list": "a list",
}


def type_ok(value: Any, kind: str) -> bool:
    """Whether ``value`` is of the field type ``kind`` (see the field tables)."""
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    raise ValueError(f"unknown field type {kind!r}")


def expected(kind: str) -> str:
    """Words for a field type, for messages (``"a list of strings"``)."""
    return _TYPE_WORDS[kind]


# ---------------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------------


def _ordered(d: dict[str, Any], order: Iterable[str], drop: Iterable[str] = ()) -> dict[str, Any]:
    dropped = set(drop)
    known = [k for k in order if k in d and k not in dropped]
    rest = sorted(k for k in d if k not in set(known) and k not in dropped)
    return {k: d[k] for k in known + rest}


_CLIP_ORDER = tuple(CLIP_FIELDS) + tuple(CLIP_EXTRA_FIELDS)
#: key tuple of a clip dict -> its keys in written order, or None when already in order
_CLIP_KEY_ORDERS: dict[tuple[str, ...], tuple[str, ...] | None] = {}


def _ordered_clip(clip: dict[str, Any]) -> dict[str, Any]:
    """``_ordered(clip, _CLIP_ORDER)``, remembering the order per key set (clips share a few)."""
    keys = tuple(clip)
    order = _CLIP_KEY_ORDERS.get(keys, ())
    if order == ():
        order = tuple(_ordered(clip, _CLIP_ORDER))
        order = None if order == keys else order
        if len(_CLIP_KEY_ORDERS) < 1024:
            _CLIP_KEY_ORDERS[keys] = order
    return clip if order is None else {k: clip[k] for k in order}


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _dumps(obj: Any) -> str:
    return _ENCODER.encode(obj)


def _body(d: dict[str, Any]) -> str:
    """The members of a JSON object without its closing brace (``{"a":1,"b":2``)."""
    text = _dumps(d)
    return text[:-1]


_HH = [f"{h:02d}:" for h in range(100)]
_MMSS = [f"{m:02d}:{sec:02d}" for m in range(60) for sec in range(60)]
_MILLI = [f".{ms:03d}" for ms in range(1000)]


def _timestamp(seconds: float) -> str:
    """:func:`model.format_timestamp` (same text) from lookup tables, for the writer's hot path."""
    ms = int(round(seconds * 1000))
    if ms < 0:
        ms = 0
    sec, ms = divmod(ms, 1000)
    h, sec = divmod(sec, 3600)
    return (_HH[h] if h < 100 else f"{h:02d}:") + _MMSS[sec] + _MILLI[ms]


def clip_to_release_dict(clip: model.Clip) -> dict[str, Any]:
    """A :class:`model.Clip` as a FORMAT.md clip object (plus our extras).

    Times become ``HH:MM:SS.mmm``; ``en_subtitles`` is a list of ``{start, end, text}``;
    ``multi_speaker``/``mixing_ratio``/``backing_clip``/``speaker_confidence`` are left out when unknown.
    """
    ts = _timestamp
    d: dict[str, Any] = {
        "jp_clip": clip.jp_clip,
        "en_clip": clip.en_clip,
        "jp_text": clip.jp_text,
        "en_text": clip.en_text,
        "jp_start_time": ts(clip.jp_start),
        "jp_end_time": ts(clip.jp_end),
        "en_start_time": ts(clip.en_start),
        "en_end_time": ts(clip.en_end),
        "speakers": list(clip.speakers),
        "en_subtitles": [{"start": ts(s.start), "end": ts(s.end), "text": s.text} for s in clip.en_subtitles],
    }
    if clip.multi_speaker is not None:
        d["multi_speaker"] = bool(clip.multi_speaker)
    if clip.mixing_ratio is not None:
        d["mixing_ratio"] = float(clip.mixing_ratio)
    if clip.backing_clip:
        d["backing_clip"] = clip.backing_clip
    if clip.speaker_confidence is not None:
        d["speaker_confidence"] = float(clip.speaker_confidence)
    return d


EpisodeInput = tuple[str | int, dict[str, Any], Iterable[dict[str, Any]]]
ShowInput = tuple[str, dict[str, Any], Iterable[EpisodeInput]]


def write_annotations(path: str | Path, shows: Iterable[ShowInput]) -> int:
    """Stream ``anim400k_annotations.json`` to ``path``; return the number of clips written.

    ``shows`` yields ``(show_key, show_fields, episodes)`` where ``episodes`` yields
    ``(episode_number, episode_fields, clips)`` and ``clips`` yields clip dicts (e.g. from
    :func:`clip_to_release_dict`). Any ``episodes``/``clips`` key inside the field dicts is
    ignored. Shows, episodes and clips are written in the order given; the output is only
    renamed into place if every iterator finishes.
    """
    n = 0
    seen_shows: set[str] = set()
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write("{")
        for si, (show_key, show_fields, episodes) in enumerate(shows):
            if show_key in seen_shows:
                raise ValueError(f"show key {show_key!r} given twice")
            seen_shows.add(show_key)
            f.write(("," if si else "") + "\n" + _dumps(str(show_key)) + ":")
            body = _body(_ordered(show_fields, SHOW_FIELDS, drop=("episodes",)))
            f.write(body + ("," if body != "{" else "") + '"episodes":{')
            seen_eps: set[str] = set()
            for ei, (number, ep_fields, clips) in enumerate(episodes):
                number = str(number)
                if number in seen_eps:
                    raise ValueError(f"show {show_key!r}: episode {number!r} given twice")
                seen_eps.add(number)
                f.write(("," if ei else "") + "\n" + _dumps(number) + ":")
                body = _body(_ordered(ep_fields, EPISODE_FIELDS, drop=("clips",)))
                f.write(body + ("," if body != "{" else "") + '"clips":[')
                sep = "\n"
                for clip in clips:
                    f.write(sep + _dumps(_ordered_clip(clip)))
                    sep = ",\n"
                    n += 1
                f.write("]}")
            f.write("}}")
        f.write("\n}\n")
    return n


# ---------------------------------------------------------------------------------------------
# Typed records
# ---------------------------------------------------------------------------------------------


_HMS_RE = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})")
_MILLIS = {f"{i:03d}": i for i in range(1000)}
#: "HH:MM:SS" -> seconds, filled as met (a dataset uses a few thousand; bounded anyway)
_HMS: dict[str, int] = {}


def _hms(text: str) -> int | None:
    m = _HMS_RE.fullmatch(text)
    if m is None:
        return None
    h, mi, sec = m.groups()
    value = int(h) * 3600 + int(mi) * 60 + int(sec)
    if len(_HMS) < 400_000:
        _HMS[text] = value
    return value


def _ts(value: Any) -> float:
    """Seconds of a release timestamp (fast path for ``HH:MM:SS.mmm``); NaN if malformed."""
    if value.__class__ is str and len(value) == 12 and value[8] == ".":
        ms = _MILLIS.get(value[9:])
        if ms is not None:
            hms = _HMS.get(value[:8])
            if hms is None:
                hms = _hms(value[:8])
            if hms is not None:
                return hms + ms / 1000.0
    if value is None:
        return float("nan")
    try:
        return model.parse_timestamp(str(value))
    except ValueError:
        return float("nan")


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


# ---------------------------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------------------------


def _iter_raw_shows(path: Path) -> Iterator[tuple[str, Any]]:
    """``(show_key, show_value)`` pairs of an annotations file, one show in memory at a time."""
    try:
        import ijson
    except ImportError:  # pragma: no cover - ijson is a declared dependency
        ijson = None
    errors: tuple[type[Exception], ...] = (json.JSONDecodeError,)
    if ijson is not None:
        errors += (ijson.JSONError, ijson.IncompleteJSONError)
    try:
        with path.open("rb") as f:
            if ijson is None:
                data = json.load(f)
                if not isinstance(data, dict):
                    raise InputError("the annotations file must hold one JSON object keyed by show", path)
                yield from data.items()
                return
            if _first_char(f) != b"{":
                raise InputError("the annotations file must hold one JSON object keyed by show", path)
            yield from ijson.kvitems(f, "", use_float=True)
    except errors as exc:
        raise InputError(f"not valid JSON: {_json_error_text(exc)}", path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply", path) from exc


def _json_error_text(exc: Exception) -> str:
    """The first line of a JSON error (ijson's yajl messages are bytes quoting the text over lines)."""
    raw = exc.args[0] if exc.args else exc
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return one_line(text.strip().splitlines()[0] if text.strip() else type(exc).__name__, 160)


def _first_char(f: IO[bytes]) -> bytes:
    while True:
        c = f.read(1)
        if c == b"\xef":  # UTF-8 BOM
            f.read(2)
            continue
        if not c or not c.isspace():
            f.seek(f.tell() - len(c))
            return c


class Dataset:
    """A release on disk. Iterating re-reads the annotations file; media are never loaded."""

    def __init__(self, root: Path, annotations: Path) -> None:
        self.root = root
        self.annotations = annotations

    def __repr__(self) -> str:
        return f"Dataset(root={str(self.root)!r}, annotations={str(self.annotations)!r})"

    def iter_raw(self) -> Iterator[tuple[str, Any]]:
        """``(show_key, show_object)`` as parsed from the file (no validation)."""
        return _iter_raw_shows(self.annotations)

    def shows(self, with_clips: bool = True) -> Iterator[Show]:
        """The shows in file order, one in memory at a time (clips left out unless ``with_clips``)."""
        for key, value in self.iter_raw():
            if isinstance(value, dict):
                yield Show.from_dict(str(key), value, with_clips)

    def episodes(self) -> Iterator[EpisodeRecord]:
        """All episodes (with their clips), show by show."""
        for show in self.shows():
            yield from show.episodes.values()

    def clips(self) -> Iterator[ClipRecord]:
        """All clips, in file order."""
        for show in self.shows():
            yield from show.clips()

    def show(self, key: str) -> Show:
        """One show by key (a pass over the file); KeyError if absent."""
        for s in self.shows():
            if s.key == key:
                return s
        raise KeyError(key)

    def audio_path(self, clip_id: str) -> Path:
        """Path of a clip's audio: ``anim400k_audio_clips/F/UUID.mp3`` (may not exist)."""
        return ids.id_path(self.root, ids.AUDIO_ARCHIVE, clip_id, "mp3")

    def video_path(self, clip_id: str) -> Path:
        """Path of a clip's video: ``anim400k_video_clips/F/UUID.mp4`` (may not exist)."""
        return ids.id_path(self.root, ids.VIDEO_ARCHIVE, clip_id, "mp4")

    def picture_path(self, pic_id: str) -> Path:
        """Path of a character picture: ``anim400k_character_pics/F/UUID.jpg`` (may not exist)."""
        return ids.id_path(self.root, ids.PICS_ARCHIVE, pic_id, "jpg")

    def frame_path(self, frame_id: str) -> Path:
        """Path of a video frame: ``anim400k_frames/F/UUID.jpg`` (may not exist)."""
        return ids.id_path(self.root, ids.FRAMES_ARCHIVE, frame_id, "jpg")

    @property
    def frames_table(self) -> Path:
        """Path of the frames table (``anim400k_frames/frames.parquet``; may not exist)."""
        return self.root / ids.FRAMES_ARCHIVE / "frames.parquet"


def load(path: str | Path) -> Dataset:
    """Open a release: a folder holding ``anim400k_annotations.json`` or an annotations file.

    Media paths resolve against the folder (or the annotations file's folder).
    Raises :class:`InputError` if there is no annotations file.
    """
    p = Path(path)
    if p.is_dir():
        ann = p / ids.ANNOTATIONS_FILE
        if not ann.is_file():
            raise InputError(f"no {ids.ANNOTATIONS_FILE} in this folder", p)
        return Dataset(p, ann)
    if p.is_file():
        return Dataset(p.parent, p)
    raise InputError("no such release folder or annotations file", p)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a release, located as precisely as possible.

    ``show``/``episode``/``clip`` (clip index within its episode) say where; a problem with
    ``clip`` set makes only that clip bad, with only ``episode`` set the episode, and so on.
    """

    message: str
    show: str | None = None
    episode: str | None = None
    clip: int | None = None
    field: str | None = None
    kind: str = "error"

    @property
    def where(self) -> str:
        """``show 'K' episode '1' clip 3 field 'jp_clip'`` (only the parts that are known)."""
        parts = []
        if self.show is not None:
            parts.append(f"show {self.show!r}")
        if self.episode is not None:
            parts.append(f"episode {self.episode!r}")
        if self.clip is not None:
            parts.append(f"clip {self.clip}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return " ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _check_fields(
    d: dict[str, Any],
    table: dict[str, str],
    required: Iterable[str],
    loc: dict[str, Any],
    extra_ok: dict[str, str] | None = None,
) -> Iterator[Problem]:
    allowed = dict(table) | dict(extra_ok or {})
    for name in required:
        if name not in d:
            yield Problem("missing field", field=name, **loc)
    for name, value in d.items():
        kind = allowed.get(name)
        if kind is None:
            yield Problem("unknown field", field=name, **loc)
        elif not type_ok(value, kind):
            yield Problem(f"expected {expected(kind)}, got {type(value).__name__}", field=name, **loc)


def _check_id(value: Any, name: str, loc: dict[str, Any]) -> Iterator[Problem]:
    if isinstance(value, str):
        try:
            ids.parse_id(value)
        except ValueError:
            yield Problem(f"malformed ID {value!r} (expected 'F/UUID')", field=name, **loc)


def validate_show(
    key: str,
    show: Any,
    root: Path | None = None,
    seen_ids: set[str] | None = None,
    check_media: bool = True,
) -> Iterator[Problem]:
    """Problems of one show object (and its episodes and clips).

    ``seen_ids`` carries clip IDs across shows to find duplicates; media files are looked up
    under ``root`` when ``check_media``.
    """
    seen = seen_ids if seen_ids is not None else set()
    if not isinstance(show, dict):
        yield Problem(f"expected an object, got {type(show).__name__}", show=key)
        return
    sloc: dict[str, Any] = {"show": key}
    yield from _check_fields(show, SHOW_FIELDS, REQUIRED_SHOW, sloc)
    chars = show.get("characters")
    if isinstance(chars, dict):
        for name, c in chars.items():
            if not isinstance(c, dict):
                yield Problem("expected an object", field=f"characters.{name}", **sloc)
                continue
            for p in _check_fields(c, CHARACTER_FIELDS, (), sloc):
                yield Problem(p.message, field=f"characters.{name}.{p.field}", **sloc)
            for pic in c.get("pic_urls") or []:
                if isinstance(pic, str):
                    yield from _check_id(pic, f"characters.{name}.pic_urls", sloc)
                    if check_media and root is not None and _id_ok(pic):
                        if not ids.id_path(root, ids.PICS_ARCHIVE, pic, "jpg").is_file():
                            yield Problem(
                                f"picture file for {pic!r} is missing",
                                field=f"characters.{name}.pic_urls",
                                **sloc,
                            )
    episodes = show.get("episodes")
    if not isinstance(episodes, dict):
        return
    avg = parse_avg_duration(show.get("avg_duration"))
    max_time = 2 * avg if avg else None
    for number, ep in episodes.items():
        eloc: dict[str, Any] = {"show": key, "episode": str(number)}
        if not isinstance(ep, dict):
            yield Problem(f"expected an object, got {type(ep).__name__}", **eloc)
            continue
        yield from _check_fields(ep, EPISODE_FIELDS, REQUIRED_EPISODE, eloc)
        ratings = ep.get("ratings")
        if isinstance(ratings, dict):
            for score, r in ratings.items():
                if score not in {"1", "2", "3", "4", "5"}:
                    yield Problem("poll scores must be '1'..'5'", field=f"ratings.{score}", **eloc)
                if not isinstance(r, dict):
                    yield Problem("expected an object", field=f"ratings.{score}", **eloc)
                    continue
                for p in _check_fields(r, RATING_FIELDS, RATING_FIELDS, eloc):
                    yield Problem(p.message, field=f"ratings.{score}.{p.field}", **eloc)
        clips = ep.get("clips")
        if not isinstance(clips, list):
            continue
        for i, clip in enumerate(clips):
            yield from _validate_clip(
                clip, {"show": key, "episode": str(number), "clip": i}, root, seen, check_media, max_time
            )


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(hr|hour|h\b|min|m\b|sec|s\b)", re.IGNORECASE)
_DURATION_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_avg_duration(value: Any) -> float | None:
    """Seconds of a show's ``avg_duration`` (``"24 min. per ep."``, ``"1 hr. 55 min."``); None if unknown."""
    if not isinstance(value, str):
        return None
    total = sum(float(n) * _DURATION_UNIT[unit[0].lower()] for n, unit in _DURATION_PART.findall(value))
    return total or None


def _id_ok(value: str) -> bool:
    try:
        ids.parse_id(value)
    except ValueError:
        return False
    return True


def _validate_clip(
    clip: Any, loc: dict[str, Any], root: Path | None, seen: set[str], check_media: bool,
    max_time: float | None = None,
) -> Iterator[Problem]:
    if not isinstance(clip, dict):
        yield Problem(f"expected an object, got {type(clip).__name__}", **loc)
        return
    yield from _check_fields(clip, CLIP_FIELDS, REQUIRED_CLIP, loc, CLIP_EXTRA_FIELDS)
    for name in ("jp_start_time", "jp_end_time", "en_start_time", "en_end_time"):
        v = clip.get(name)
        if not isinstance(v, str):
            continue
        t = _ts(v)
        if v.strip().startswith("-"):
            yield Problem(f"negative time {v!r}", field=name, **loc)
        elif math.isnan(t):
            yield Problem(f"malformed timestamp {v!r} (expected HH:MM:SS.mmm)", field=name, **loc)
        elif max_time is not None and t > max_time:
            yield Problem(
                f"time {v} is past the episode's end (the show's avg_duration is {max_time / 2 / 60:g} min; "
                f"times past twice that are refused)",
                field=name,
                **loc,
            )
    for a, b in (("jp_start_time", "jp_end_time"), ("en_start_time", "en_end_time")):
        va, vb = clip.get(a), clip.get(b)
        if isinstance(va, str) and isinstance(vb, str) and _ts(va) > _ts(vb):
            yield Problem(f"ends before it starts ({va} > {vb})", field=b, **loc)
    conf = clip.get("speaker_confidence")
    if type_ok(conf, "float") and not 0.0 <= conf <= 1.0:
        yield Problem(f"speaker_confidence {conf!r} is outside 0..1", field="speaker_confidence", **loc)
    subs = clip.get("en_subtitles")
    if isinstance(subs, list):
        for j, s in enumerate(subs):
            if not isinstance(s, dict):
                yield Problem("expected an object", field=f"en_subtitles.{j}", **loc)
                continue
            for p in _check_fields(s, SUBTITLE_FIELDS, SUBTITLE_FIELDS, loc):
                yield Problem(p.message, field=f"en_subtitles.{j}.{p.field}", **loc)
    for name in ("jp_clip", "en_clip", "backing_clip"):
        value = clip.get(name)
        if not isinstance(value, str):
            continue
        bad = list(_check_id(value, name, loc))
        yield from bad
        if bad:
            continue
        if name != "backing_clip":
            if value in seen:
                yield Problem(f"duplicate clip ID {value!r}", field=name, **loc)
            seen.add(value)
        if check_media and root is not None:
            media = ids.id_path(root, ids.AUDIO_ARCHIVE, value, "mp3")
            if not media.is_file():
                yield Problem(f"audio file {media.relative_to(root)} is missing", field=name, **loc)


def iter_problems(path: str | Path | Dataset, check_media: bool = True) -> Iterator[Problem]:
    """Stream the problems of a release (see :func:`validate_release`)."""
    ds = path if isinstance(path, Dataset) else load(path)
    seen: set[str] = set()
    shows_seen: set[str] = set()
    for key, value in ds.iter_raw():
        if key in shows_seen:
            yield Problem("duplicate show key", show=key)
        shows_seen.add(key)
        yield from validate_show(key, value, ds.root, seen, check_media)


def build_record_problems(ds: Dataset) -> Iterator[Problem]:
    """Disagreements between a built release's annotations and the build's own record of it.

    A release written by ``anim400k build`` keeps ``build_report.json`` (clip count, episodes)
    and ``catalog.sqlite`` beside its annotations. An annotations file holding other clips or
    episodes than the build recorded (say ``{}`` after two builds raced) is reported; a
    release without those files (hand-made, exported) has nothing to compare.
    """
    import sqlite3

    if ds.annotations.resolve() != (ds.root / ids.ANNOTATIONS_FILE).resolve():
        return
    report_file, catalog_file = ds.root / "build_report.json", ds.root / "catalog.sqlite"
    if not report_file.is_file() and not catalog_file.is_file():
        return
    clips, episodes = 0, set()
    for key, show in ds.iter_raw():
        eps = show.get("episodes") if isinstance(show, dict) else None
        for number, ep in (eps.items() if isinstance(eps, dict) else ()):
            episodes.add(f"{key}/{number}")
            if isinstance(ep, dict) and isinstance(ep.get("clips"), list):
                clips += len(ep["clips"])
    try:
        report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.is_file() else {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        report = None
        yield Problem("build_report.json beside the annotations is unreadable: cannot check them against the build")
    if isinstance(report, dict) and report.get("written", True) and isinstance(report.get("clips"), int):
        if report["clips"] != clips:
            yield Problem(f"the annotations hold {clips} clip(s) but the build that wrote this release recorded "
                          f"{report['clips']} (build_report.json): the file was overwritten or cut short; "
                          f"run the build again")
    if catalog_file.is_file():
        try:
            with contextlib.closing(sqlite3.connect(f"{catalog_file.resolve().as_uri()}?mode=ro", uri=True)) as db:
                built = {row[0] for row in db.execute("SELECT episode FROM episodes")}
        except sqlite3.Error as exc:
            yield Problem(f"catalog.sqlite beside the annotations is unreadable ({one_line(exc)})")
            return
        unknown = sorted(episodes - built)
        if unknown:
            yield Problem(f"{len(unknown)} annotated episode(s) are not in the build's catalog (catalog.sqlite), "
                          f"e.g. {unknown[0]!r}: the annotations do not come from this build")


def validate_release(path: str | Path | Dataset, check_media: bool = True) -> list[Problem]:
    """All problems of a release (folder or annotations file); empty if it is valid.

    Checks: required fields (``episodes``; ``clips``; every FORMAT.md clip field), unknown
    fields (anything outside FORMAT.md and our documented clip extras), field types,
    timestamps (not negative, end not before start, none past twice the show's
    ``avg_duration``), IDs of the form ``F/UUID``, duplicate clip IDs, and (``check_media``) that
    each clip's ``anim400k_audio_clips/F/UUID.mp3`` and each picture exist.
    """
    return list(iter_problems(path, check_media))


class BadItems:
    """Which shows, episodes and clips a list of problems rules out (for ``--skip-bad``)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.shows: set[str] = set()
        self.episodes: set[tuple[str, str]] = set()
        self.clips: set[tuple[str, str, int]] = set()
        self.count = 0
        for p in problems:
            self.count += 1
            if p.show is None:
                continue
            if p.episode is None:
                # a bad metadata field spoils only that field's use; a broken show is skipped
                if p.field is None or p.field == "episodes":
                    self.shows.add(p.show)
            elif p.clip is None:
                if p.field is None or p.field == "clips":
                    self.episodes.add((p.show, p.episode))
            else:
                self.clips.add((p.show, p.episode, p.clip))

    def bad_clip(self, clip: ClipRecord) -> bool:
        """Whether a clip (or its episode or show) is ruled out."""
        return (
            clip.show_key in self.shows
            or (clip.show_key, clip.episode) in self.episodes
            or (clip.show_key, clip.episode, clip.index) in self.clips
        )


def require_valid(ds: Dataset, check_media: bool = False) -> None:
    """Raise :class:`InputError` naming the annotations file and the first problem of ``ds``, if any."""
    for p in iter_problems(ds, check_media):
        raise InputError(f"{p} (run `anim400k validate` for every problem)", ds.annotations)


def check_or_raise(ds: Dataset, skip_bad: bool, check_media: bool = True) -> BadItems:
    """Validate ``ds``; raise :class:`InputError` on the first problem unless ``skip_bad``.

    With ``skip_bad`` return the bad items to leave out (each problem is logged as a warning).
    """
    import logging

    log = logging.getLogger("anim400k.release")
    problems: list[Problem] = []
    for p in iter_problems(ds, check_media):
        if not skip_bad:
            raise InputError(f"{p} (use --skip-bad to leave bad items out)", ds.annotations)
        log.warning("%s: %s (skipped)", ds.annotations, p)
        problems.append(p)
    return BadItems(problems)
