"""The data model: plain dataclasses, no I/O.

Times are float seconds everywhere inside the library; they are formatted
(``HH:MM:SS.mmm``) only at the edges (release writer, CLI). The aligner rounds
once to integer microseconds so that a 125 ms gap is exactly 125 000 us, whether it is
written ``1.0 -> 1.125`` (float noise: ``1.125 - 1.0`` is ``0.12499999999999999``) or
``1.0005 -> 1.1255``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

EN = "en"
JP = "ja"
LANGUAGES = (EN, JP)
#: The paper's alignment merge tolerance: segments whose endpoints are this close (ms, inclusive) join one clip.
DEFAULT_TOLERANCE_MS = 125
#: The largest time (seconds) an input file may hold: 10 million seconds, about 116 days, far beyond
#: any episode yet small enough that milliseconds stay exact in a float and fit an int64. Readers of
#: transcripts (Whisper/AWS JSON), RTTM and truth.json refuse larger or non-finite times in one line.
MAX_TIME_S = 1e7
#: Spellings accepted for the two languages (after lower-casing and dropping a region: ``en-US``).
LANGUAGE_ALIASES = {
    "ja": JP, "jp": JP, "jpn": JP, "japanese": JP, "日本語": JP,
    "en": EN, "eng": EN, "english": EN, "英語": EN,
}


def normalize_language(text: str) -> str:
    """``ja``/``en`` for a language code or alias (``jp``, ``jpn``, ``Japanese``, ``en-US``, ``eng``...).

    Anything else raises :class:`ValueError` with a one-line message listing what is accepted.
    """
    key = text.strip().lower().replace("_", "-")
    code = LANGUAGE_ALIASES.get(key) or LANGUAGE_ALIASES.get(key.split("-")[0])
    if code is None:
        raise ValueError(
            f"unknown language {text!r}: use ja (also jp, jpn, japanese) or en (also eng, english)"
        )
    return code


_HH = [f"{h:02d}:" for h in range(100)]
_MMSS = [f"{m:02d}:{sec:02d}" for m in range(60) for sec in range(60)]
_MILLI = [f".{ms:03d}" for ms in range(1000)]


def format_timestamp(seconds: float) -> str:
    """Format seconds as ``HH:MM:SS.mmm`` (rounded to the millisecond, never negative).

    The one timestamp formatter of the package (release writer, reports, SRT with ``,``).
    Built from lookup tables: the release writer calls it four times per clip.
    """
    ms = int(round(seconds * 1000))
    if ms < 0:
        ms = 0
    sec, ms = divmod(ms, 1000)
    h, sec = divmod(sec, 3600)
    return (_HH[h] if h < 100 else f"{h:02d}:") + _MMSS[sec] + _MILLI[ms]


_TS_PART = re.compile(r"[0-9]+")
_TS_LAST = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_timestamp(text: str) -> float:
    """Parse ``HH:MM:SS.mmm`` / ``MM:SS.mmm`` / ``SS.mmm`` (comma also accepted) into seconds.

    Only digits are accepted: a sign (``-00:00:01.000``), ``inf``, ``nan`` or an exponent
    raise :class:`ValueError`.
    """
    parts = text.strip().replace(",", ".").split(":")
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"not a timestamp: {text!r}")
    if not all(_TS_PART.fullmatch(p) for p in parts[:-1]) or not _TS_LAST.fullmatch(parts[-1]):
        raise ValueError(f"not a timestamp: {text!r}")
    total = 0.0
    for part in parts:
        total = total * 60 + float(part)
    return total


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its timing."""

    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(slots=True)
class Segment:
    """A timed stretch of speech (an ASR segment, a VAD region, a subtitle line).

    ``transcribed`` is False for segments whose timing is known but whose text is not
    (e.g. VAD-only segmentation of a language no embedded ASR covers).
    """

    start: float
    end: float
    text: str = ""
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None
    transcribed: bool = True

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(slots=True)
class Transcript:
    """The segments of one audio track, in time order, with the producing backend's name."""

    language: str
    segments: list[Segment]
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Whisper-style JSON: ``{"language", "source", "segments": [{start, end, text, words}]}``."""
        segs = []
        for s in self.segments:
            d: dict[str, Any] = {"start": s.start, "end": s.end, "text": s.text}
            if s.words:
                d["words"] = [
                    {"start": w.start, "end": w.end, "word": w.text}
                    | ({"probability": w.probability} if w.probability is not None else {})
                    for w in s.words
                ]
            if s.speaker is not None:
                d["speaker"] = s.speaker
            if not s.transcribed:
                d["transcribed"] = False
            segs.append(d)
        return {"language": self.language, "source": self.source, "segments": segs}

    @property
    def text(self) -> str:
        """All segment texts joined by spaces."""
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True, slots=True)
class Subtitle:
    """One subtitle event (times in the timeline of the medium it belongs to)."""

    start: float
    end: float
    text: str


@dataclass(slots=True)
class Clip:
    """One aligned clip: a merged group of EN and JP ASR segments (the package's one clip type).

    ``en_start``/``en_end`` are in the EN medium's timeline and ``jp_start``/``jp_end``
    in the JP medium's timeline; both cover the same moment of the episode (the group's
    hull in the common timeline, mapped into each medium). With drift the two lengths
    differ by the factor ``1 + drift``: use :attr:`jp_duration` or :attr:`en_duration`.

    The aligner makes clips, the build keeps them in ``clips.json`` (:meth:`to_dict` /
    :meth:`from_dict`), the release writer and reader turn them into FORMAT.md clip objects
    and back (:mod:`anim400k.release.codec`). A clip read from a release also says where it
    sits (``show_key``, ``episode``, ``index`` within the episode); a clip being built leaves
    those empty. Times read from a release are NaN where the file's value is malformed.
    """

    en_start: float
    en_end: float
    jp_start: float
    jp_end: float
    en_text: str = ""
    jp_text: str = ""
    en_segments: list[int] = field(default_factory=list)
    jp_segments: list[int] = field(default_factory=list)
    en_subtitles: list[Subtitle] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    multi_speaker: bool | None = None
    mixing_ratio: float | None = None
    jp_clip: str = ""
    en_clip: str = ""
    #: ID of the backing-track clip (``""`` when the build cut none; ``None`` when a release gives none)
    backing_clip: str | None = None
    #: how sure the diarization is of ``speakers`` (0..1; ``None`` when the diarizer gives no confidence)
    speaker_confidence: float | None = None
    #: where a clip read from a release sits: show key, episode number, position in the episode
    show_key: str = ""
    episode: str = ""
    index: int = -1

    @property
    def jp_duration(self) -> float:
        """Length in seconds of the Japanese clip (JP timeline): the dataset's hours are JP time."""
        return self.jp_end - self.jp_start

    @property
    def en_duration(self) -> float:
        """Length in seconds of the English clip (EN timeline; ``jp_duration * (1 + drift)``)."""
        return self.en_end - self.en_start

    @property
    def id(self) -> str:
        """The clip's ID: its Japanese clip ID."""
        return self.jp_clip

    @property
    def is_multi_speaker(self) -> bool:
        """``multi_speaker`` if recorded, else whether more than one speaker ID is listed."""
        if self.multi_speaker is not None:
            return self.multi_speaker
        return len(set(self.speakers)) > 1

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (float times, subtitles as dicts), as kept in a build's ``clips.json``.

        The location fields (``show_key``, ``episode``, ``index``) belong to a release, not to
        the clip, and are left out.
        """
        d = asdict(self)
        for k in _CLIP_LOCATION:
            del d[k]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Clip:
        """The clip of a :meth:`to_dict` payload (subtitles back to :class:`Subtitle`)."""
        d = dict(d)
        d["en_subtitles"] = [Subtitle(**s) for s in d.get("en_subtitles", [])]
        return cls(**d)


_CLIP_LOCATION = ("show_key", "episode", "index")


@dataclass(slots=True)
class EpisodeRef:
    """Where an episode's inputs live (as given in a build manifest)."""

    show_key: str
    episode: str
    jp_media: str
    en_media: str
    jp_stream: str | int = "jpn"
    en_stream: str | int = "eng"
    subtitles: str | None = None
    subtitle_stream: str | int | None = None
    transcripts: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: keep the ASS events of signs and songs in the clips' subtitles (:mod:`anim400k.formats.signs`)
    keep_signs: bool = False

    @property
    def key(self) -> str:
        """``show_key/episode``: unique within a build."""
        return f"{self.show_key}/{self.episode}"


@dataclass(frozen=True, slots=True)
class TimeMap:
    """Linear map between the JP and EN media timelines: ``t_en = offset + t_jp * (1 + drift)``.

    ``offset`` is in seconds; ``drift`` is relative (0.041 means the EN medium runs 4.1 %
    slower, i.e. a moment ``t_jp`` seconds into the JP medium happens ``4.1 %`` later in EN).
    ``confidence`` is in [0, 1]; the build falls back to the identity below a threshold.
    """

    offset: float = 0.0
    drift: float = 0.0
    confidence: float = 1.0

    def jp_to_en(self, t):  # type: ignore[no-untyped-def]
        """Map JP-timeline seconds (float or array) to EN-timeline seconds."""
        return self.offset + t * (1.0 + self.drift)

    def en_to_jp(self, t):  # type: ignore[no-untyped-def]
        """Map EN-timeline seconds (float or array) to JP-timeline seconds."""
        return (t - self.offset) / (1.0 + self.drift)


@dataclass(frozen=True, slots=True, order=True)
class Turn:
    """One speaker turn: ``speaker`` talks from ``start`` to ``end`` (seconds).

    ``confidence`` (0..1, ``None`` when the backend gives none) says how sure the diarizer is
    that this speaker, and no other, talks here; it takes no part in comparisons or sorting.
    """

    start: float
    end: float
    speaker: str
    confidence: float | None = field(default=None, compare=False)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start
