"""Translation from the episode's EN subtitles: the subtitle text overlapping each segment.

A subtitle that overlaps several segments is split between them by word count in
proportion to the overlap durations, but only between segments that cover a third of it or
lie half inside it (a neighbour's turn that merely grazes it gets none); several subtitles
inside one segment are joined in time order. Segments that no subtitle overlaps get no
text (and a problem saying so)."""

from __future__ import annotations

from collections.abc import Sequence
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


def split_words(text: str, weights: Sequence[float]) -> list[str]:
    """Split ``text`` into ``len(weights)`` consecutive word groups sized in proportion to ``weights``.

    Every group gets at least one word while there are enough words; the split never breaks a word.
    """
    words = text.split()
    n = len(weights)
    if n == 1 or not words:
        return [" ".join(words)] + [""] * (n - 1)
    w = np.asarray(weights, dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    bounds = np.rint(np.cumsum(w) * len(words)).astype(int)
    bounds[-1] = len(words)
    if len(words) >= n:  # make each group non-empty: bounds strictly increasing within [1, len]
        for i in range(n - 1):
            bounds[i] = max(bounds[i], (bounds[i - 1] if i else 0) + 1)
        for i in range(n - 2, -1, -1):
            bounds[i] = min(bounds[i], bounds[i + 1] - 1)
    out, start = [], 0
    for b in bounds:
        out.append(" ".join(words[start:b]))
        start = max(start, b)
    return out


def _overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    return min(a_end, b_end) - max(a_start, b_start)


def distribute(subtitles: Sequence[Subtitle], segments: Sequence[Segment]) -> list[Line]:
    """One :class:`Line` per segment from the subtitles overlapping it (see module docstring)."""
    pieces: list[list[tuple[float, int, str, str]]] = [[] for _ in segments]
    for sub in sorted(subtitles, key=lambda s: (s.start, s.end)):
        text = " ".join(sub.text.replace("\\N", " ").split())
        if not text:
            continue
        hits = []
        for i, seg in enumerate(segments):
            ov = _overlap(sub.start, sub.end, seg.start, seg.end)
            shorter = min(sub.end - sub.start, seg.end - seg.start)
            if ov > 0 and (ov >= MIN_OVERLAP_S or ov >= 0.5 * shorter):
                hits.append((i, ov))
        if not hits:
            continue
        if len(hits) > 1:  # shared only with segments it substantially covers (not an overlap's edge)
            sub_len = max(sub.end - sub.start, 1e-3)
            main = [(i, ov) for i, ov in hits if ov >= SHARE_FRACTION * sub_len or ov >= 0.5 * segments[i].duration]
            hits = main or [max(hits, key=lambda h: h[1])]
        parts = split_words(text, [ov for _, ov in hits])
        for k, ((i, _), part) in enumerate(zip(hits, parts, strict=True)):
            if part:
                pieces[i].append((sub.start, k, part, text))
    lines = []
    for seg, segment_pieces in zip(segments, pieces, strict=True):
        if not segment_pieces:
            lines.append(Line(None, problem=f"no subtitle overlaps {seg.start:.2f}-{seg.end:.2f} s"))
            continue
        segment_pieces.sort()
        text = " ".join(p[2] for p in segment_pieces)
        lines.append(Line(text, source_text=seg.text or None))
    return lines


class SubtitleTranslator:
    """The ``subtitles`` backend: EN subtitle events (a list or a subtitle file) mapped onto segments."""

    name = "subtitles"

    def __init__(self, subtitles: Sequence[Subtitle] | str | Path) -> None:
        if isinstance(subtitles, str | Path):
            from ..formats.subtitles import read_subtitles

            subtitles = read_subtitles(subtitles)
        self.subtitles = list(subtitles)

    def coverage(self) -> tuple[float, float] | None:
        """First start and last end of the subtitles (None when there are none)."""
        if not self.subtitles:
            return None
        return min(s.start for s in self.subtitles), max(s.end for s in self.subtitles)

    def translate(self, segments: Sequence[Segment], audio: np.ndarray | None, sr: int) -> list[Line]:
        """One line per segment (``audio`` is not used)."""
        return distribute(self.subtitles, segments)
