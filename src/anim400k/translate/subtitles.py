"""Translation from the episode's EN subtitles: the subtitle text overlapping each segment.

A subtitle that overlaps several segments is shared only between segments that cover a third of
it or lie half inside it (a neighbour's turn that merely grazes it gets none), and its text is
split only between sentences, never inside one: a sentence started by one voice and finished by
another is the worst kind of dubbing error. Each sentence (``.`` ``?`` ``!`` ``…`` and their
full-width forms end one) is laid out over the subtitle's speech in proportion to its length
(the time of the segments it is shared with, gaps left out) and goes whole to the segment that
holds most of its time; a sentence whose time falls on several segments of its segment's speaker
is split further at clause punctuation (``,`` ``;`` ``:`` ``—``) between those segments only.
A segment left without text, whose subtitle also gave a sentence to a neighbour that has another
one, takes the neighbour's sentence nearest to it (so a turn of its own is not left silent).
Several subtitles inside one segment are joined in time order. Segments that get no text have
none (and a problem saying why): their time keeps the backing only. :class:`SubtitleTranslator`
speaks only the dialogue of SDH/CC subtitles (:mod:`anim400k.formats.sdh`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model import Segment, Subtitle
from .base import Line

#: A subtitle counts for a segment when they overlap by at least this many seconds,
#: or by at least half of the shorter of the two.
MIN_OVERLAP_S = 0.2
#: A subtitle overlapping several segments is split only between those covering at least this
#: fraction of it (or half of the segment); e.g. two speakers talking over each other.
SHARE_FRACTION = 1 / 3
#: How the problem of a segment that no subtitle overlaps starts (``dub.report`` counts them).
NO_SUBTITLE = "no subtitle overlaps"


#: Sentence ends: ``. ? ! …`` (repeated, with closing quotes/brackets) before a space, or a
#: full-width ``。 ？ ！`` (no space needed after it).
_SENTENCE_END = re.compile(r"[.?!…]+[\"'”’)\]」』]*(?=\s)|[。？！]+[」』）\"'”’]*\s*")
#: Clause ends: ``, ; :`` before a space, their full-width forms and ``、``, or a dash between words.
_CLAUSE_END = re.compile(r"[,;:]+(?=\s)|[，；：、]+\s*|\s+-{1,2}(?=\s)|\s*[—–]+")
#: Words whose final period does not end a sentence.
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "e.g", "i.e"})


def _split_at(text: str, pattern: re.Pattern[str], abbreviations: frozenset[str] = frozenset()) -> list[str]:
    """``text`` cut after each match of ``pattern`` (never inside a word), pieces stripped, none empty."""
    out, start = [], 0
    for m in pattern.finditer(text):
        word = text[: m.start()].split()[-1:] or [""]
        if m.group(0).strip() == "." and word[0].lower().rstrip(".") in abbreviations:
            continue
        piece = text[start : m.end()].strip()
        if any(ch.isalnum() for ch in piece):  # punctuation alone stays with its neighbour
            out.append(piece)
            start = m.end()
    rest = text[start:].strip()
    if rest:
        if out and not any(ch.isalnum() for ch in rest):
            out[-1] = f"{out[-1]}{rest}" if not rest[:1].isspace() else f"{out[-1]} {rest}"
        else:
            out.append(rest)
    return out


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: cut after ``. ? ! …`` (and ``。？！``), not after ``Mr.``-like abbreviations."""
    return _split_at(" ".join(text.split()), _SENTENCE_END, _ABBREVIATIONS) or ([text.strip()] if text.strip() else [])


def split_clauses(sentence: str) -> list[str]:
    """The clauses of one ``sentence``: cut after ``, ; :`` (and their full-width forms, ``、``) or a dash."""
    return _split_at(sentence, _CLAUSE_END) or ([sentence.strip()] if sentence.strip() else [])


def _weight(text: str) -> float:
    """Speaking-time proxy of ``text``: its letters and digits (at least 1)."""
    return float(max(1, sum(ch.isalnum() for ch in text)))


def _overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    return min(a_end, b_end) - max(a_start, b_start)


def _layout(sub: Subtitle, segments: Sequence[Segment], shared: Sequence[int]) -> list[tuple[int, float, float]]:
    """The subtitle's speech: for each segment it is shared with, ``(index, from, to)`` on a time axis
    that runs over the segments' overlaps with the subtitle only (the gaps between them left out)."""
    spans = sorted(
        ((max(sub.start, segments[i].start), min(sub.end, segments[i].end), i) for i in shared), key=lambda t: t[0]
    )
    out, t = [], 0.0
    for a, b, i in spans:
        length = max(b - a, 0.0)
        out.append((i, t, t + length))
        t += length
    return out


def _shares(f0: float, f1: float, layout: Sequence[tuple[int, float, float]]) -> dict[int, float]:
    """Seconds of each segment under the fraction ``[f0, f1]`` of the laid-out speech."""
    total = layout[-1][2] if layout else 0.0
    a, b = f0 * total, f1 * total
    return {i: max(0.0, min(b, hi) - max(a, lo)) for i, lo, hi in layout}


def _best(shares: dict[int, float], allowed: Sequence[int]) -> int:
    """The segment of ``allowed`` holding most of the time in ``shares`` (the earliest on a tie)."""
    return max(allowed, key=lambda i: shares.get(i, 0.0))


def assign_sentences(
    text: str, sub: Subtitle, segments: Sequence[Segment], shared: Sequence[int]
) -> list[tuple[int, str, dict[int, float]]]:
    """Split ``text`` of ``sub`` between the segments ``shared`` (indices) at sentence boundaries only.

    Each sentence is placed on the subtitle's speech (:func:`_layout`) in proportion to its length
    and goes whole to the segment holding most of its time; when its time also falls on other
    segments of that segment's speaker, it is split at clause punctuation between those segments.
    Returns ``(segment index, text, seconds of each segment under that text)`` in reading order.
    """
    layout = _layout(sub, segments, shared)
    order = [i for i, _, _ in layout]
    sentences = split_sentences(text)
    total = sum(_weight(s) for s in sentences)
    units: list[tuple[int, str, dict[int, float]]] = []
    pos = 0.0
    for sentence in sentences:
        f0, f1 = pos / total, (pos + _weight(sentence)) / total
        pos += _weight(sentence)
        shares = _shares(f0, f1, layout)
        best = _best(shares, order)
        same = [i for i in order if shares[i] > 0 and segments[i].speaker == segments[best].speaker]
        clauses = split_clauses(sentence) if len(same) > 1 else [sentence]
        if len(clauses) == 1:
            units.append((best, sentence, shares))
            continue
        c_total, c_pos = sum(_weight(c) for c in clauses), 0.0
        for clause in clauses:
            c0 = f0 + (f1 - f0) * c_pos / c_total
            c_pos += _weight(clause)
            c_shares = _shares(c0, f0 + (f1 - f0) * c_pos / c_total, layout)
            units.append((_best(c_shares, same), clause, c_shares))
    merged: list[tuple[int, str, dict[int, float]]] = []
    for i, part, shares in units:  # consecutive units of one segment: one piece
        if merged and merged[-1][0] == i:
            j, prev, prev_shares = merged[-1]
            merged[-1] = (j, f"{prev} {part}", {k: prev_shares.get(k, 0.0) + v for k, v in shares.items()})
        else:
            merged.append((i, part, shares))
    return merged


@dataclass
class _Piece:
    """A subtitle's text (or part of it) given to one segment."""

    start: float  # the subtitle's start: pieces of one segment are read in time order
    k: int  # order within the subtitle
    text: str
    sub: int  # which subtitle
    shares: dict[int, float]  # seconds of each segment under this text


def _fill_silent_turns(pieces: list[list[_Piece]], shared_by: list[list[int]], segments: Sequence[Segment]) -> None:
    """Give a segment left without text the sentence nearest to it from a neighbour that has another one.

    The sentence must come from a subtitle shared with the empty segment, lie partly on it, and sit at
    the edge of the neighbour's text facing it (reading order is kept)."""
    for e in range(len(segments)):
        if pieces[e]:
            continue
        options: list[tuple[float, int, _Piece]] = []
        for sid, shared in enumerate(shared_by):
            if e not in shared:
                continue
            pos = shared.index(e)
            for s in (shared[pos - 1] if pos else None, shared[pos + 1] if pos + 1 < len(shared) else None):
                if s is None or len(pieces[s]) < 2:
                    continue
                edge = pieces[s][0] if s > e else pieces[s][-1]
                if edge.sub == sid and edge.shares.get(e, 0.0) > 0:
                    options.append((edge.shares[e], s, edge))
        if options:
            _, s, piece = max(options, key=lambda o: o[0])
            pieces[s].remove(piece)
            pieces[e].append(piece)


def event_text(sub: Subtitle) -> str:
    """An event's text on one line (ASS line breaks ``\\N`` and runs of spaces as single spaces); "" for none."""
    return " ".join(sub.text.replace("\\N", " ").split())


def _counts(sub: Subtitle, seg: Segment, ov: float) -> bool:
    """Whether an overlap of ``ov`` seconds between ``sub`` and ``seg`` counts: :data:`MIN_OVERLAP_S`, or half the
    shorter of the two."""
    return ov > 0 and (ov >= MIN_OVERLAP_S or ov >= 0.5 * min(sub.end - sub.start, seg.end - seg.start))


def subtitle_hits(sub: Subtitle, segments: Sequence[Segment]) -> list[tuple[int, float]]:
    """``(segment index, seconds of overlap)`` of the segments ``sub`` counts for (:func:`_counts`)."""
    hits = []
    for i, seg in enumerate(segments):
        ov = _overlap(sub.start, sub.end, seg.start, seg.end)
        if _counts(sub, seg, ov):
            hits.append((i, ov))
    return hits


def distribute(subtitles: Sequence[Subtitle], segments: Sequence[Segment]) -> list[Line]:
    """One :class:`Line` per segment from the subtitles overlapping it (see module docstring)."""
    pieces: list[list[_Piece]] = [[] for _ in segments]
    shared_by: list[list[int]] = []  # per subtitle (that has text and hits): the segments it is shared with
    ordered = sorted(subtitles, key=lambda s: (s.start, s.end))
    given_to: dict[int, list[int]] = {}  # id of a subtitle -> the segments it was given to
    for sub in ordered:
        text = event_text(sub)
        if not text:
            continue
        hits = subtitle_hits(sub, segments)
        if not hits:
            continue
        if len(hits) > 1:  # shared only with segments it substantially covers (not an overlap's edge)
            sub_len = max(sub.end - sub.start, 1e-3)
            main = [(i, ov) for i, ov in hits if ov >= SHARE_FRACTION * sub_len or ov >= 0.5 * segments[i].duration]
            hits = main or [max(hits, key=lambda h: h[1])]
        sid = len(shared_by)
        shared_by.append(sorted(i for i, _ in hits))
        given_to[id(sub)] = shared_by[sid]
        if len(hits) == 1:
            pieces[hits[0][0]].append(_Piece(sub.start, 0, text, sid, {hits[0][0]: hits[0][1]}))
            continue
        for k, (i, part, shares) in enumerate(assign_sentences(text, sub, segments, shared_by[sid])):
            pieces[i].append(_Piece(sub.start, k, part, sid, shares))
    for segment_pieces in pieces:
        segment_pieces.sort(key=lambda p: (p.start, p.k))
    _fill_silent_turns(pieces, shared_by, segments)
    lines = []
    for e, (seg, segment_pieces) in enumerate(zip(segments, pieces, strict=True)):
        if segment_pieces:
            segment_pieces.sort(key=lambda p: (p.start, p.k))
            lines.append(Line(" ".join(p.text for p in segment_pieces), source_text=seg.text or None))
            continue
        voiced_by = [
            (p.shares.get(e, 0.0), j) for j, ps in enumerate(pieces) for p in ps if e in shared_by[p.sub]
        ]
        if voiced_by:
            j = max(voiced_by)[1]
            lines.append(Line(None, problem=(
                f"no text of its own: the subtitle sentence it shares is spoken whole by segment {j} "
                f"({segments[j].start:.2f}-{segments[j].end:.2f} s); a sentence is not split between segments"
            )))
        else:
            lines.append(Line(None, problem=f"{NO_SUBTITLE} {seg.start:.2f}-{seg.end:.2f} s"
                              f"{_why_no_subtitle(e, seg, ordered, given_to, segments)}"))
    return lines


def _why_no_subtitle(e: int, seg: Segment, ordered: Sequence[Subtitle], given_to: dict[int, list[int]],
                     segments: Sequence[Segment]) -> str:
    """What the report adds to "no subtitle overlaps" for segment ``e``: the overlaps under the threshold
    ("grazed by"), and the events that overlap it enough but were given whole to other segments (they were
    listed as grazes "under 0.2 s" at 0.30 s)."""
    grazes, elsewhere = [], []
    for sub in ordered:
        ov = _overlap(sub.start, sub.end, seg.start, seg.end)
        if ov <= 0 or not event_text(sub):
            continue
        if _counts(sub, seg, ov):
            to = [j for j in given_to.get(id(sub), []) if j != e]
            if to:
                j = to[0]
                elsewhere.append(f"the subtitle at {sub.start:.2f}-{sub.end:.2f} s overlaps it by {ov:.2f} s but "
                                 f"is spoken by segment {j} ({segments[j].start:.2f}-{segments[j].end:.2f} s), "
                                 "which it covers more")
        else:
            grazes.append(ov)
    parts = []
    if grazes:
        grazes.sort(reverse=True)
        parts.append(f"grazed by {', '.join(f'{g:.2f}' for g in grazes[:3])} s, under {MIN_OVERLAP_S:g} s and half "
                     "its length")
    parts.extend(elsewhere[:2])
    return f" enough to count ({'; '.join(parts)})" if parts else ""


class SubtitleTranslator:
    """The ``subtitles`` backend: EN subtitle events (a list or a subtitle file) mapped onto segments."""

    name = "subtitles"

    def __init__(self, subtitles: Sequence[Subtitle] | str | Path) -> None:
        """``subtitles``: events, or a subtitle file to read. Only their spoken text is kept
        (:func:`anim400k.formats.sdh.speech_text`: SDH sound descriptions such as ``[DOOR SLAMS]``,
        speaker labels such as ``KYON:`` and ``♪`` lyrics removed; the event's speaker, named by the file or by
        such a label, kept as ``speaker``: the diarizer's hint); an event left empty is dropped."""
        from ..formats.sdh import speaker_label, speech_text

        if isinstance(subtitles, str | Path):
            from ..formats.subtitles import read_subtitles

            subtitles = read_subtitles(subtitles)
        spoken = (Subtitle(s.start, s.end, speech_text(s.text), s.speaker or speaker_label(s.text)) for s in subtitles)
        self.subtitles = [s for s in spoken if s.text]

    def coverage(self) -> tuple[float, float] | None:
        """First start and last end of the subtitles (None when there are none)."""
        if not self.subtitles:
            return None
        return min(s.start for s in self.subtitles), max(s.end for s in self.subtitles)

    def translate(self, segments: Sequence[Segment], audio: np.ndarray | None, sr: int) -> list[Line]:
        """One line per segment (``audio`` is not used)."""
        return distribute(self.subtitles, segments)
