"""The data model: plain dataclasses, no I/O.

Times are float seconds everywhere inside the library; they are formatted
(``HH:MM:SS.mmm``) only at the edges (release writer, CLI). The aligner rounds
once to integer microseconds so that a 125 ms gap is exactly 125 000 us, whether it is
written ``1.0 -> 1.125`` (float noise: ``1.125 - 1.0`` is ``0.12499999999999999``) or
``1.0005 -> 1.1255``.
"""

from __future__ import annotations

import math
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


#: languages written without spaces between words (Japanese, Chinese, Thai...): their words join with nothing
UNSPACED_LANGUAGES = ("ja", "zh", "yue", "th", "lo", "my", "km")


@dataclass(slots=True)
class Transcript:
    """The segments of one audio track, in time order, with the producing backend's name."""

    language: str
    segments: list[Segment]
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Whisper-style JSON: ``{"language", "source", "text", "segments": [{id, start, end, text, words}]}``.

        As openai-whisper writes it: the whole ``text``, each segment's ``id``, and in a language written with
        spaces each word with its leading space (``" can't"``): whisper's own subtitle writer joins a cue's words
        with nothing, so words without it read ``Ican'tbelieveit.`` (the readers here strip it again)."""
        spaced = self.language not in UNSPACED_LANGUAGES
        segs = []
        for k, s in enumerate(self.segments):
            d: dict[str, Any] = {"id": k, "start": s.start, "end": s.end, "text": s.text}
            if s.words:
                d["words"] = [
                    {"start": w.start, "end": w.end, "word": f" {w.text.strip()}" if spaced else w.text}
                    | ({"probability": w.probability} if w.probability is not None else {})
                    for w in s.words
                ]
            if s.speaker is not None:
                d["speaker"] = s.speaker
            if not s.transcribed:
                d["transcribed"] = False
            segs.append(d)
        joiner = " " if spaced else ""
        text = joiner.join(s.text.strip() for s in self.segments if s.transcribed and s.text.strip())
        return {"language": self.language, "source": self.source, "text": text, "segments": segs}

    @property
    def text(self) -> str:
        """All segment texts joined by spaces."""
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True, slots=True)
class Subtitle:
    """One subtitle event (times in the timeline of the medium it belongs to).

    ``speaker``: the character the file names for the event, when it names one (an ASS event's Name
    field, a leading SDH label such as ``KYON:``; :mod:`anim400k.formats.subtitles`); a hint for the
    diarizer, not part of the event's identity (equality and hashing ignore it) and not stored in a
    clip's ``en_subtitles`` (FORMAT.md: ``{start, end, text}``).
    """

    start: float
    end: float
    text: str
    speaker: str | None = field(default=None, compare=False)


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
        d["en_subtitles"] = [{"start": s.start, "end": s.end, "text": s.text} for s in self.en_subtitles]
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
class MapPiece:
    """One piece of a piecewise :class:`TimeMap`: JP times in ``[jp_start, jp_end)`` map to
    ``t_en = offset + t_jp * (1 + drift)`` (the map's drift). ``jp_start`` may be ``-inf`` (the first
    piece) and ``jp_end`` ``+inf`` (the last); JSON writes those as ``null``."""

    jp_start: float
    jp_end: float
    offset: float

    def to_dict(self) -> dict[str, float | None]:
        """``{"jp_start", "jp_end", "offset"}`` with ``None`` for an open end."""
        return {"jp_start": None if math.isinf(self.jp_start) else self.jp_start,
                "jp_end": None if math.isinf(self.jp_end) else self.jp_end, "offset": self.offset}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MapPiece:
        """The piece of a :meth:`to_dict` payload."""
        start, end = d.get("jp_start"), d.get("jp_end")
        return cls(-math.inf if start is None else float(start), math.inf if end is None else float(end),
                   float(d["offset"]))


@dataclass(frozen=True, slots=True)
class TimeMap:
    """Map between the JP and EN media timelines: ``t_en = offset + t_jp * (1 + drift)``.

    ``offset`` is in seconds; ``drift`` is relative (0.041 means the EN medium runs 4.1 %
    slower, i.e. a moment ``t_jp`` seconds into the JP medium happens ``4.1 %`` later in EN).
    ``confidence`` is in [0, 1]; the build falls back to the identity below a threshold.

    ``pieces`` (empty: the one line above) make the map piecewise, for an EN medium that was edited
    (a scene cut from it or added to it): each :class:`MapPiece` maps its own JP span with its own
    offset and the common drift; ``offset`` is then the main line's (the sync fit's), kept for
    display. Pieces are in time order on both timelines. A JP span between two pieces has no EN
    counterpart (a **cut** from EN: between the last JP moment matching one piece and the first
    matching the next); an EN span between two pieces' EN images has no JP counterpart (an
    **addition** to EN). :meth:`jp_to_en` maps a JP time in a cut to where the piece before it ends
    in EN (and :meth:`en_to_jp` an EN time in an addition to where the piece before it ends in JP),
    so both stay monotonic; :meth:`jp_piece` / :meth:`en_piece` say whether an interval is mapped.

    ``precision_ms`` (None: sample-precise, the meaning of every map without the field) marks a map
    that is *not* sample-precise (EN re-timed with pitch correction, mapped from short unresampled
    segments: ``anim400k.sync.stretch``) with its precision in milliseconds (the robust scatter of the
    matches it was fitted to; the line itself is usually closer to the truth).
    Alignment and cutting may use such a map; what needs the two mixes sample-aligned (the dual-track
    separation) must not (:attr:`precise`).
    """

    offset: float = 0.0
    drift: float = 0.0
    confidence: float = 1.0
    pieces: tuple[MapPiece, ...] = ()
    precision_ms: float | None = None

    def __post_init__(self) -> None:
        scale = 1.0 + self.drift
        for k, p in enumerate(self.pieces):
            if not p.jp_start < p.jp_end:
                raise ValueError(f"time map piece {k} is empty or reversed (JP {p.jp_start} to {p.jp_end})")
            if k:
                q = self.pieces[k - 1]
                if p.jp_start < q.jp_end or p.offset + p.jp_start * scale < q.offset + q.jp_end * scale - 1e-9:
                    raise ValueError(f"time map pieces {k - 1} and {k} overlap on the JP or EN timeline")
        if self.pieces and not (math.isinf(self.pieces[0].jp_start) and math.isinf(self.pieces[-1].jp_end)):
            raise ValueError("a piecewise time map's first piece must start at -inf and its last end at +inf")
        if self.precision_ms is not None and not (math.isfinite(self.precision_ms) and self.precision_ms > 0):
            raise ValueError(f"a time map's precision_ms must be a positive number of milliseconds, "
                             f"got {self.precision_ms}")

    @property
    def precise(self) -> bool:
        """Whether the map is sample-precise (no ``precision_ms``): the two mixes may be sample-aligned by it."""
        return self.precision_ms is None

    @property
    def piecewise(self) -> bool:
        """Whether the map has pieces (an edited EN medium)."""
        return bool(self.pieces)

    def _scale(self) -> float:
        return 1.0 + self.drift

    def jp_to_en(self, t):  # type: ignore[no-untyped-def]
        """Map JP-timeline seconds (float or array) to EN-timeline seconds (see the class for cuts)."""
        if not self.pieces:
            return self.offset + t * (1.0 + self.drift)
        import numpy as np

        s = self._scale()
        x = np.asarray(t, dtype=np.float64)
        starts = np.array([p.jp_start for p in self.pieces])
        ends = np.array([p.jp_end for p in self.pieces])
        offs = np.array([p.offset for p in self.pieces])
        k = np.clip(np.searchsorted(starts, x, side="right") - 1, 0, len(self.pieces) - 1)
        y = offs[k] + np.minimum(x, ends[k]) * s
        return float(y) if y.ndim == 0 else y

    def en_to_jp(self, t):  # type: ignore[no-untyped-def]
        """Map EN-timeline seconds (float or array) to JP-timeline seconds (see the class for additions)."""
        if not self.pieces:
            return (t - self.offset) / (1.0 + self.drift)
        import numpy as np

        s = self._scale()
        y = np.asarray(t, dtype=np.float64)
        e_starts, e_ends = self._en_spans()
        offs = np.array([p.offset for p in self.pieces])
        k = np.clip(np.searchsorted(e_starts, y, side="right") - 1, 0, len(self.pieces) - 1)
        x = (np.minimum(y, e_ends[k]) - offs[k]) / s
        return float(x) if x.ndim == 0 else x

    def _en_spans(self) -> tuple[Any, Any]:
        """The pieces' EN images: ``(starts, ends)`` arrays (``-inf`` / ``+inf`` at the open ends)."""
        import numpy as np

        s = self._scale()
        with np.errstate(invalid="ignore"):
            starts = np.array([p.offset + p.jp_start * s for p in self.pieces])
            ends = np.array([p.offset + p.jp_end * s for p in self.pieces])
        return starts, ends

    def en_spans(self) -> list[tuple[float, float]]:
        """Each piece's EN image ``(start, end)`` (``-inf`` / ``+inf`` at the open ends; ``[]`` for a linear map)."""
        return [(float(a), float(b)) for a, b in zip(*self._en_spans(), strict=True)] if self.pieces else []

    def jp_piece(self, start: float, end: float) -> int | None:
        """The index of the piece whose JP span holds ``[start, end]`` (0 for a linear map); None when
        the interval reaches into a cut or across a break."""
        if not self.pieces:
            return 0
        for k, p in enumerate(self.pieces):
            if p.jp_start <= start and end <= p.jp_end:
                return k
        return None

    def en_piece(self, start: float, end: float) -> int | None:
        """The index of the piece whose EN image holds ``[start, end]`` (0 for a linear map); None when
        the interval reaches into an addition or across a break."""
        if not self.pieces:
            return 0
        for k, (a, b) in enumerate(zip(*self._en_spans(), strict=True)):
            if a <= start and end <= b:
                return k
        return None

    def jp_gaps(self) -> list[tuple[float, float]]:
        """JP spans with no EN counterpart (scenes cut from EN), in time order."""
        return [(q.jp_end, p.jp_start) for q, p in zip(self.pieces, self.pieces[1:], strict=False)
                if p.jp_start > q.jp_end]

    def en_gaps(self) -> list[tuple[float, float]]:
        """EN spans with no JP counterpart (scenes added to EN), in time order."""
        starts, ends = self._en_spans()
        return [(float(ends[k - 1]), float(starts[k])) for k in range(1, len(self.pieces))
                if starts[k] > ends[k - 1] + 1e-9]

    def linear(self, k: int = 0) -> TimeMap:
        """Piece ``k``'s line as a linear map (the map itself when it has no pieces)."""
        if not self.pieces:
            return self
        return TimeMap(self.pieces[k].offset, self.drift, self.confidence, precision_ms=self.precision_ms)

    def to_dict(self) -> dict[str, Any]:
        """``{"offset", "drift", "confidence"}``, plus ``"pieces"`` only for a piecewise map and
        ``"precision_ms"`` only for one that is not sample-precise (so a precise map's JSON is unchanged)."""
        d: dict[str, Any] = {"offset": self.offset, "drift": self.drift, "confidence": self.confidence}
        if self.pieces:
            d["pieces"] = [p.to_dict() for p in self.pieces]
        if self.precision_ms is not None:
            d["precision_ms"] = self.precision_ms
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimeMap:
        """The map of a :meth:`to_dict` payload (``confidence`` 1 when absent; sample-precise when it has no
        ``precision_ms``, as every map written before the field)."""
        pieces = tuple(MapPiece.from_dict(p) for p in d.get("pieces") or ())
        precision = d.get("precision_ms")
        return cls(float(d["offset"]), float(d["drift"]), float(d.get("confidence", 1.0)), pieces,
                   None if precision is None else float(precision))


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
