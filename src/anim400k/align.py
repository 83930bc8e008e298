"""Clip alignment exactly as the Anim-400K paper defines it.

Start from every EN ASR segment and merge, recursively, with any EN or JP segment
whose interval overlaps the group's interval (its hull) or whose nearest endpoint
lies at most ``tolerance_ms`` away (inclusive), until nothing more merges. Each
group is one clip. JP segments that never join an EN segment form no clip.

Equivalence used for speed: the fixpoint groups are exactly the connected runs of
a sweep over all segments sorted by start, where a segment joins the current run
when ``start <= max(end so far) + tolerance``. A run is a clip iff it holds at least
one EN segment. Sorting dominates: O(n log n).

All times are rounded once to integer microseconds (:func:`to_us`) and the tolerance is compared
in microseconds, so the comparison is exact for times given to the microsecond (a gap of
1.0005 -> 1.1255 s is exactly 125 ms and merges; 1.0 -> 1.1254 s is 125.4 ms and does not), while
float noise far below a microsecond (``1.125 - 1.0``, a TimeMap's ``offset + t * (1 + drift)``)
vanishes in the rounding. Clip hulls are reported rounded to whole milliseconds.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .model import DEFAULT_TOLERANCE_MS, EN, JP, MAX_TIME_S, Clip, Segment, Subtitle, TimeMap, Word

#: the largest merge tolerance (ms): any two times of a track
MAX_TOLERANCE_MS = int(MAX_TIME_S * 1000)


def to_ms(seconds: np.ndarray | Sequence[float]) -> np.ndarray:
    """Round seconds to integer milliseconds (int64)."""
    return np.rint(np.asarray(seconds, dtype=np.float64) * 1000.0).astype(np.int64)


def to_us(seconds: np.ndarray | Sequence[float]) -> np.ndarray:
    """Round seconds to integer microseconds (int64): the aligner's unit of comparison.

    Exact for any time written with up to 6 decimals (``MAX_TIME_S`` is 1e13 us, far inside a
    float's exact range), and float noise such as ``1.125 - 1.0 = 0.12499999999999999`` rounds away.
    """
    return np.rint(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)


def us_to_ms(us: np.ndarray) -> np.ndarray:
    """Integer microseconds to integer milliseconds, halves rounded up (exact integer arithmetic)."""
    return (np.asarray(us, dtype=np.int64) + 500) // 1000


@dataclass(slots=True)
class Groups:
    """Result of :func:`group_segments` (array form, for large inputs).

    ``en_group[i]``/``jp_group[j]`` is the clip index of EN segment i / JP segment j, or -1
    for a JP segment that joined no EN segment. ``start_us``/``end_us`` are the clip hulls
    in the common timeline (integer microseconds), in time order; ``start_ms``/``end_ms`` the
    same rounded to whole milliseconds.
    """

    en_group: np.ndarray
    jp_group: np.ndarray
    start_us: np.ndarray
    end_us: np.ndarray

    @property
    def start_ms(self) -> np.ndarray:
        """Clip hull starts in whole milliseconds (halves rounded up)."""
        return us_to_ms(self.start_us)

    @property
    def end_ms(self) -> np.ndarray:
        """Clip hull ends in whole milliseconds (halves rounded up)."""
        return us_to_ms(self.end_us)

    @property
    def n_clips(self) -> int:
        """Number of clips."""
        return int(self.start_us.shape[0])

    @property
    def unmatched_jp(self) -> int:
        """JP segments that joined no clip."""
        return int(np.count_nonzero(self.jp_group < 0))


def group_segments(
    en_start: np.ndarray,
    en_end: np.ndarray,
    jp_start: np.ndarray,
    jp_end: np.ndarray,
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
) -> Groups:
    """Group segments given as arrays of seconds (JP already in the common/EN timeline).

    Raises ``ValueError`` for a segment whose end precedes its start or that has a
    non-finite time. (Negative times are allowed here: JP times mapped into the common
    timeline may precede 0; :func:`align_clips` rejects negative input times.)
    """
    for name, arrays in (("EN", (en_start, en_end)), ("JP", (jp_start, jp_end))):
        for arr in arrays:
            a = np.asarray(arr, dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(a))
            if bad.size:
                raise ValueError(f"{name} segment {int(bad[0])} has a time that is not finite ({a[bad[0]]})")
    es, ee, js, je = (to_us(a) for a in (en_start, en_end, jp_start, jp_end))
    for name, s, e in (("EN", es, ee), ("JP", js, je)):
        if s.shape != e.shape:
            raise ValueError(f"{name} start and end arrays differ in length")
        bad = np.flatnonzero(e < s)
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{name} segment {i} ends before it starts ({s[i] / 1e6:.3f} > {e[i] / 1e6:.3f})")
    n_en = es.shape[0]
    starts = np.concatenate([es, js])
    ends = np.concatenate([ee, je])
    is_en = np.zeros(starts.shape[0], dtype=bool)
    is_en[:n_en] = True
    if starts.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Groups(empty.copy(), empty.copy(), empty.copy(), empty.copy())
    order = np.lexsort((ends, starts))
    s_sorted = starts[order]
    e_sorted = ends[order]
    run_end = np.maximum.accumulate(e_sorted)
    new_run = np.empty(s_sorted.shape[0], dtype=bool)
    new_run[0] = True
    new_run[1:] = s_sorted[1:] > run_end[:-1] + round(float(tolerance_ms) * 1000)
    run_id = np.cumsum(new_run) - 1
    n_runs = int(run_id[-1]) + 1
    has_en = np.zeros(n_runs, dtype=bool)
    has_en[run_id[is_en[order]]] = True
    clip_of_run = np.full(n_runs, -1, dtype=np.int64)
    clip_of_run[has_en] = np.arange(int(has_en.sum()))
    run_first = np.flatnonzero(new_run)
    run_last = np.append(run_first[1:] - 1, s_sorted.shape[0] - 1)
    run_start = s_sorted[run_first]
    run_stop = run_end[run_last]
    group_sorted = clip_of_run[run_id]
    group = np.empty_like(group_sorted)
    group[order] = group_sorted
    return Groups(
        en_group=group[:n_en],
        jp_group=group[n_en:],
        start_us=run_start[has_en],
        end_us=run_stop[has_en],
    )


#: Candidate pairs examined per vectorised block in :func:`overlapping_flat` (bounds memory).
_PAIR_BLOCK = 1 << 20


#: an event more than this many times the median event's length (and over 10 s) is matched on its own in
#: :func:`overlapping_flat`: one event spanning a whole track made every clip test every event (quadratic)
_LONG_EVENT_FACTOR = 8.0
_LONG_EVENT_MIN_S = 10.0


def _overlaps(a: np.ndarray, b: np.ndarray, cs: np.ndarray, ce: np.ndarray) -> np.ndarray:
    """Whether event ``[cs, ce]`` overlaps clip ``[a, b]`` (a zero-length clip: the event contains the instant)."""
    return (ce > a) & ((cs < b) | ((b == a) & (cs <= a)))


def _short_pairs(
    a_all: np.ndarray, b_all: np.ndarray, ss: np.ndarray, se: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(clips, positions)`` of the overlapping pairs of the events at sorted ``positions`` (starts ascending):
    the candidates of every clip (events starting between ``clip start - their longest`` and the clip's end)
    gathered and tested at once, in blocks of about :data:`_PAIR_BLOCK` pairs so that memory stays bounded."""
    n = a_all.shape[0]
    if positions.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ps, pe = ss[positions], se[positions]
    longest = float(np.max(pe - ps))
    lo_all = np.searchsorted(ps, a_all - longest, side="left")
    point = ~(b_all > a_all)  # zero-length clip (b == a): events containing the instant count
    hi_all = np.where(point, np.searchsorted(ps, b_all, side="right"), np.searchsorted(ps, b_all, side="left"))
    span = np.maximum(hi_all - lo_all, 0)
    ends = np.cumsum(span)
    clips: list[np.ndarray] = []
    kept: list[np.ndarray] = []
    k0 = 0
    while k0 < n:
        # clips k0..k1-1 hold at most _PAIR_BLOCK candidates (at least one clip per block)
        base = int(ends[k0 - 1]) if k0 else 0
        k1 = max(int(np.searchsorted(ends, base + _PAIR_BLOCK, side="right")), k0 + 1)
        sp = span[k0:k1]
        total = int(sp.sum())
        if total:
            clip_of = np.repeat(np.arange(k0, k1), sp)
            first = np.cumsum(sp) - sp  # offset of each clip's first candidate
            pos = np.arange(total) - np.repeat(first, sp) + np.repeat(lo_all[k0:k1], sp)
            keep = _overlaps(a_all[clip_of], b_all[clip_of], ps[pos], pe[pos])
            clips.append(clip_of[keep])
            kept.append(positions[pos[keep]])
        k0 = k1
    if not kept:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(clips), np.concatenate(kept)


def _long_pairs(
    a_all: np.ndarray, b_all: np.ndarray, ss: np.ndarray, se: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(clips, positions)`` of the overlapping pairs of the (few, long) events at sorted ``positions``: each
    event tested against the clips it can reach, found by binary search when the clips' starts and ends both
    ascend in start order (an alignment's clips), else against every clip."""
    by_start = np.argsort(a_all, kind="stable")
    a_sorted, b_sorted = a_all[by_start], b_all[by_start]
    searchable = bool(np.all(np.diff(b_sorted) >= 0))
    clips: list[np.ndarray] = []
    kept: list[np.ndarray] = []
    for p in positions.tolist():
        cs, ce = ss[p], se[p]
        if searchable:
            cand = by_start[np.searchsorted(b_sorted, cs, side="left"):np.searchsorted(a_sorted, ce, side="right")]
        else:
            cand = by_start
        hit = cand[_overlaps(a_all[cand], b_all[cand], cs, ce)]
        clips.append(hit)
        kept.append(np.full(hit.size, p, dtype=np.int64))
    if not kept:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(clips), np.concatenate(kept)


def overlapping_flat(
    clip_start: np.ndarray, clip_end: np.ndarray, sub_start: np.ndarray, sub_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`subtitles_overlapping` in flat form: ``(indices, bounds)``.

    Clip ``k``'s events are ``indices[bounds[k]:bounds[k + 1]]`` (in time order). Vectorised: the candidates of
    every clip are the events starting between ``clip start - longest event`` and the clip's end
    (:func:`_short_pairs`); events far longer than the others (:data:`_LONG_EVENT_FACTOR` x the median, over
    :data:`_LONG_EVENT_MIN_S`: a credit or watermark cue over the whole track) are matched on their own
    (:func:`_long_pairs`), or every clip would test every event: 40k clips took 8.4 s, not 0.4 s.
    """
    a_all = np.asarray(clip_start, dtype=np.float64)
    b_all = np.asarray(clip_end, dtype=np.float64)
    n = a_all.shape[0]
    sub_start = np.asarray(sub_start, dtype=np.float64)
    if sub_start.size == 0 or n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(n + 1, dtype=np.int64)
    order = np.argsort(sub_start, kind="stable")
    ss = sub_start[order]
    se = np.asarray(sub_end, dtype=np.float64)[order]
    dur = se - ss
    long = dur > max(_LONG_EVENT_MIN_S, _LONG_EVENT_FACTOR * float(np.median(dur)))
    every = np.arange(ss.size)
    c1, p1 = _short_pairs(a_all, b_all, ss, se, every[~long])
    c2, p2 = _long_pairs(a_all, b_all, ss, se, every[long])
    clips, positions = np.concatenate([c1, c2]), np.concatenate([p1, p2])
    arrange = np.lexsort((positions, clips))  # by clip, then by event start (the sorted position)
    counts = np.bincount(clips, minlength=n) if clips.size else np.zeros(n, dtype=np.int64)
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    return order[positions[arrange]].astype(np.int64, copy=False), bounds


def subtitles_overlapping(
    clip_start: np.ndarray, clip_end: np.ndarray, sub_start: np.ndarray, sub_end: np.ndarray
) -> list[np.ndarray]:
    """For each clip interval, indices of subtitle events overlapping it (strictly, in time order).

    An event overlaps ``[a, b]`` when ``start < b`` and ``end > a``; for a zero-length clip
    an event containing the instant counts. Vectorised over all clips (see
    :func:`overlapping_flat`); O((n + m) log m + candidates), a few events far longer than the rest (a credit
    line over the whole track) matched on their own.
    """
    indices, bounds = overlapping_flat(clip_start, clip_end, sub_start, sub_end)
    return np.split(indices, bounds[1:-1]) if len(bounds) > 1 else []


def _members(group: np.ndarray, start_us: np.ndarray, n_clips: int) -> tuple[list[int], list[int]]:
    """Segment indices sorted by (clip, start; stable) and each clip's first position (n_clips + 1)."""
    by_start = np.argsort(start_us, kind="stable")
    g = group[by_start]
    by_start = by_start[g >= 0]
    g = g[g >= 0]
    members = by_start[np.argsort(g, kind="stable")]
    bounds = np.zeros(n_clips + 1, dtype=np.int64)
    np.cumsum(np.bincount(g, minlength=n_clips), out=bounds[1:])
    return members.tolist(), bounds.tolist()


@dataclass(slots=True)
class Alignment:
    """Result of :func:`align_segments`: the clips, and the clips dropped outside the JP medium.

    :func:`align_piecewise` also counts the EN segments left out in EN-only spans
    (``en_unmapped``), the segments left out across a break (``straddling``) and the places
    where clips on either side of a break would have merged (``split``).
    """

    clips: list[Clip]
    outside_jp_medium: int = 0
    en_unmapped: int = 0
    straddling: int = 0
    split: int = 0


def outside_jp_medium_warning(n: int) -> str:
    """The one-line warning for ``n`` clips dropped outside the JP medium (the build and ``align``)."""
    return f"{n} clip(s) outside the JP medium were dropped (EN speech where the JP medium has no content)"


def _jp_intervals(groups: Groups, back: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The clip hulls mapped back into the JP timeline, rounded to the millisecond, not clamped at 0."""
    if not groups.n_clips:
        return np.zeros(0), np.zeros(0)
    a = np.round(np.asarray(back(groups.start_us / 1e6), dtype=np.float64), 3)
    b = np.round(np.asarray(back(groups.end_us / 1e6), dtype=np.float64), 3)
    return a, b


def align_segments(
    en: Sequence[Segment],
    jp: Sequence[Segment],
    subtitles: Sequence[Subtitle] = (),
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
    jp_to_common: Callable[[np.ndarray], np.ndarray] | None = None,
    common_to_jp: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Alignment:
    """Align EN and JP segments into clips (the paper's recursive merge); see :func:`align_clips`.

    A clip whose JP interval lies wholly before the JP medium's start (EN speech before it, with an
    offset between the media: it maps to negative JP times and would be empty once clamped at 0) is
    not emitted; ``outside_jp_medium`` counts those clips.
    """
    if isinstance(tolerance_ms, bool) or not isinstance(tolerance_ms, numbers.Real) or not (
            math.isfinite(tolerance_ms) and 0 <= tolerance_ms <= MAX_TOLERANCE_MS):
        # the CLI checks it; the API merged overlapping segments apart at -2000 and raised on nan or 10**30
        raise ValueError(f"tolerance_ms must be a number from 0 to {MAX_TOLERANCE_MS}, not {tolerance_ms!r}")
    for k, sub in enumerate(subtitles):  # a NaN one was dropped without a word, an inverted one attached
        if not (math.isfinite(sub.start) and math.isfinite(sub.end) and sub.start <= sub.end):
            raise ValueError(f"subtitle {k} has no valid times ({sub.start}, {sub.end}): finite, end after start")
    raw_en_s = np.array([s.start for s in en], dtype=np.float64)
    en_e = np.array([s.end for s in en], dtype=np.float64)
    raw_jp_s = np.array([s.start for s in jp], dtype=np.float64)
    raw_jp_e = np.array([s.end for s in jp], dtype=np.float64)
    for name, ss, se in (("EN", raw_en_s, en_e), ("JP", raw_jp_s, raw_jp_e)):
        bad = np.flatnonzero((ss < 0) | (se < 0))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{name} segment {i} has a negative time ({ss[i]:.3f}, {se[i]:.3f})")
    fwd = jp_to_common or (lambda t: t)
    back = common_to_jp or (lambda t: t)
    en_s = raw_en_s
    jp_s = fwd(raw_jp_s)
    jp_e = fwd(raw_jp_e)
    groups = group_segments(en_s, en_e, jp_s, jp_e, tolerance_ms)
    n = groups.n_clips
    starts = (groups.start_ms / 1000.0).tolist()
    ends = (groups.end_ms / 1000.0).tolist()
    # the exact hull mapped back, rounded to the millisecond: subtitles are matched on the clip's true
    # JP interval; the stored JP times are the same values clamped at the medium's start (0)
    jp_a, jp_b = _jp_intervals(groups, back)
    outside = ((jp_a < 0) & (jp_b <= 0)).tolist()
    jp_starts = [round(x, 3) for x in np.maximum(jp_a, 0.0).tolist()]
    jp_ends = [round(x, 3) for x in np.maximum(jp_b, 0.0).tolist()]
    en_members, en_bounds = _members(groups.en_group, to_us(en_s), n)
    jp_members, jp_bounds = _members(groups.jp_group, to_us(jp_s), n)
    # texts stripped once per segment, then gathered in member order (join_texts semantics)
    en_texts = [t.strip() if t else "" for t in (en[i].text for i in en_members)]
    jp_texts = [t.strip() if t else "" for t in (jp[j].text for j in jp_members)]
    sub_s = np.array([s.start for s in subtitles], dtype=np.float64)
    sub_e = np.array([s.end for s in subtitles], dtype=np.float64)
    sub_idx, sub_bounds = overlapping_flat(jp_a, jp_b, sub_s, sub_e)
    sub_list = [subtitles[i] for i in sub_idx.tolist()]
    sub_b = sub_bounds.tolist()
    clips = []
    for k in range(n):
        if outside[k]:
            continue
        e0, e1, j0, j1 = en_bounds[k], en_bounds[k + 1], jp_bounds[k], jp_bounds[k + 1]
        clips.append(
            Clip(
                en_start=starts[k],
                en_end=ends[k],
                jp_start=jp_starts[k],
                jp_end=jp_ends[k],
                en_text=" ".join([t for t in en_texts[e0:e1] if t]),
                jp_text="".join(jp_texts[j0:j1]),
                en_segments=en_members[e0:e1],
                jp_segments=jp_members[j0:j1],
                en_subtitles=sub_list[sub_b[k] : sub_b[k + 1]],
            )
        )
    return Alignment(clips, n - len(clips))


def align_clips(
    en: Sequence[Segment],
    jp: Sequence[Segment],
    subtitles: Sequence[Subtitle] = (),
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
    jp_to_common: Callable[[np.ndarray], np.ndarray] | None = None,
    common_to_jp: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[Clip]:
    """Align EN and JP segments into clips (the paper's recursive merge).

    ``en`` segments are in the EN medium's timeline, which is the common timeline.
    ``jp`` segments and ``subtitles`` are in the JP medium's timeline; ``jp_to_common``
    maps JP times into the EN timeline and ``common_to_jp`` maps back (both default to
    the identity, i.e. the media are in sync). Clip texts are the member segments'
    texts in time order; ``en_subtitles`` are the events overlapping the clip's JP
    interval (its true one, before the JP times are clamped at the medium's start).
    Clips wholly before the JP medium's start are dropped (:func:`align_segments`
    counts them).
    """
    return align_segments(en, jp, subtitles, tolerance_ms, jp_to_common, common_to_jp).clips


def align_piecewise(
    en: Sequence[Segment],
    jp: Sequence[Segment],
    time_map: TimeMap,
    subtitles: Sequence[Subtitle] = (),
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
) -> Alignment:
    """Align under a piecewise ``time_map`` (an edited EN medium): each piece on its own.

    A piece takes the EN segments inside its EN image and the JP segments inside its JP span and
    is aligned with its own line (:func:`align_segments`), so no clip straddles a break: clips that
    would have merged across one are **split** there (``split`` counts the breaks where the last
    clip before and the first after lie within ``tolerance_ms`` on either timeline). EN segments
    in an EN-only span (a scene added to EN) have no JP counterpart and are left out
    (``en_unmapped``); a segment reaching across a break, into a cut or an addition, by more than
    :data:`PIECE_SLACK` is left out too (``straddling``; one reaching less is clipped to its piece);
    JP segments in a JP-only span (a scene cut from EN) join no clip, as any JP segment without EN.
    Segment indices in the clips are the given lists'. A linear map gives :func:`align_segments`' result.
    """
    if not time_map.pieces:
        return align_segments(en, jp, subtitles, tolerance_ms, time_map.jp_to_en, time_map.en_to_jp)
    en_piece, en = _assign(en, time_map.en_piece, time_map.en_spans())
    jp_piece, jp = _assign(jp, time_map.jp_piece, [(p.jp_start, p.jp_end) for p in time_map.pieces])
    en_gaps = time_map.en_gaps()
    in_added = sum(1 for s, k in zip(en, en_piece, strict=True)
                   if k is None and any(a <= s.start and s.end <= b for a, b in en_gaps))
    straddling = en_piece.count(None) - in_added
    straddling += sum(1 for s, k in zip(jp, jp_piece, strict=True)
                      if k is None and not any(a <= s.start and s.end <= b for a, b in time_map.jp_gaps()))
    clips: list[Clip] = []
    outside = split = 0
    last: Clip | None = None
    tol = tolerance_ms / 1000.0
    for k in range(len(time_map.pieces)):
        en_idx = [i for i, p in enumerate(en_piece) if p == k]
        jp_idx = [j for j, p in enumerate(jp_piece) if p == k]
        line = time_map.linear(k)
        part = align_segments([en[i] for i in en_idx], [jp[j] for j in jp_idx], subtitles, tolerance_ms,
                              line.jp_to_en, line.en_to_jp)
        outside += part.outside_jp_medium
        for c in part.clips:
            c.en_segments = [en_idx[i] for i in c.en_segments]
            c.jp_segments = [jp_idx[j] for j in c.jp_segments]
        if last is not None and part.clips:
            first = part.clips[0]
            if min(first.en_start - last.en_end, first.jp_start - last.jp_end) <= tol + 1e-9:
                split += 1
        if part.clips:
            last = part.clips[-1]
        clips += part.clips
    return Alignment(clips, outside, in_added, straddling, split)


#: seconds a segment may reach past its piece (the break points are located to ~10 ms): it is clipped to it
PIECE_SLACK = 0.05


def _assign(segments: Sequence[Segment], piece_of: Callable[[float, float], int | None],
            spans: list[tuple[float, float]]) -> tuple[list[int | None], list[Segment]]:
    """Each segment's piece (None: across a break or outside every piece) and the segments, those reaching
    at most :data:`PIECE_SLACK` past their piece clipped to it."""
    pieces: list[int | None] = []
    out: list[Segment] = []
    for s in segments:
        k = piece_of(s.start, s.end)
        if k is None and s.end - s.start > 2 * PIECE_SLACK:
            k = piece_of(s.start + PIECE_SLACK, s.end - PIECE_SLACK)
            if k is not None:
                lo, hi = spans[k]
                s = Segment(max(s.start, lo), min(s.end, hi), s.text,
                            [Word(max(w.start, lo), min(w.end, hi), w.text, w.probability)
                             for w in s.words if w.end > lo and w.start < hi], s.speaker, s.transcribed)
        pieces.append(k)
        out.append(s)
    return pieces, out


def edited_en_warning(en_unmapped: int, straddling: int, split: int) -> str:
    """The one-line warning of an alignment under a piecewise map (the build's clips.json ``edited_en``)."""
    return (f"the EN medium is edited (mapped piecewise): {en_unmapped} EN segment(s) in spans added to EN and "
            f"{straddling} segment(s) reaching across a break were left out; clips were split at {split} break(s)")


def join_texts(texts, sep: str = " ") -> str:  # type: ignore[no-untyped-def]
    """Join stripped, non-empty texts (``sep`` '' for Japanese, which has no spaces)."""
    return sep.join(t.strip() for t in texts if t and t.strip())


# ---------------------------------------------------------------- files


def clip_record(clip: Any) -> dict[str, Any]:
    """A clip as a release-format object (``HH:MM:SS.mmm`` times; ``speakers`` empty here)."""
    from .release import clip_to_release_dict

    d = clip_to_release_dict(clip)
    return {k: v for k, v in d.items() if k not in ("jp_clip", "en_clip") or v}


def align_files(
    en: str | Path,
    jp: str | Path,
    subtitles: str | Path | None = None,
    subtitle_stream: str | int | None = None,
    tolerance_ms: int = DEFAULT_TOLERANCE_MS,
    offset: float = 0.0,
    drift: float = 0.0,
    keep_signs: bool = False,
    *,
    subtitle_option: str | None = "subtitle_stream:",
    on_stream_note: Callable[[str], None] | None = None,
    time_map: TimeMap | None = None,
    on_alignment: Callable[[Alignment], None] | None = None,
) -> tuple[list[Any], int, int, int, dict[str, int]]:
    """Read the EN/JP transcripts (any supported format) and subtitles, and align them.

    ``offset``/``drift`` map the JP timeline onto the EN one (``t_en = offset + t_jp * (1 + drift)``).
    Subtitles are a file (SRT/VTT/ASS) or, for a media container (an MKV, a Matroska ``.mks``...: told by
    content or suffix), its subtitle stream ``subtitle_stream`` (None: the English dialogue stream,
    :func:`anim400k.media.probe.select_en_subtitle_stream`); they are in the JP timeline. ASS events
    that are signs or songs are left out of them unless ``keep_signs`` (:mod:`anim400k.formats.signs`).
    Returns ``(clips, n_en, n_jp, outside, left_out)``: ``outside`` clips lay wholly before the JP
    medium's start and were dropped (:func:`align_segments`); ``left_out`` counts the ASS events left
    out as signs or songs, by style. A container is opened once: the stream is chosen and demuxed from the
    same opening (:func:`anim400k.formats.subtitles.read_subtitle_stream_chosen`); which stream was read, with
    the note on the choice of a stream among several, goes to ``on_stream_note``, ``subtitle_option`` names the
    setting in messages.
    ``time_map`` (e.g. :func:`anim400k.sync.files.read_time_map`'s) replaces ``offset``/``drift``: a
    piecewise one (an edited EN medium) is aligned piece by piece (:func:`align_piecewise`: no clip across a
    break), as the build aligns; ``on_alignment`` gets the :class:`Alignment` (its counts of what a piecewise
    map left out).

    The numbers are checked before any file is read (:class:`~anim400k.errors.InputError` naming
    the option): ``tolerance_ms`` from 0 to ``MAX_TIME_S`` in ms, ``offset`` within
    ``±MAX_TIME_S`` seconds, ``drift`` above -1 (a lower value reverses time) and at most 1.
    """
    from .errors import InputError, check_number
    from .formats.subtitles import SubtitleRead, is_media_file, read_subtitle_stream_chosen, read_subtitles_noted
    from .formats.transcripts import read_transcript

    check_number("--tolerance-ms", tolerance_ms, 0, MAX_TOLERANCE_MS)
    check_number("--offset", offset, -MAX_TIME_S, MAX_TIME_S)
    check_number("--drift", drift, -1.0, 1.0, above=True)
    en_t = read_transcript(en, language=EN)
    if not en_t.segments:
        raise InputError("holds no EN speech segment: no clip can be aligned (each clip starts from an EN segment)", en)
    jp_t = read_transcript(jp, language=JP)
    if subtitles is None:
        subs = SubtitleRead([], {})
    elif Path(subtitles).is_file() and is_media_file(subtitles):
        subs, _, note = read_subtitle_stream_chosen(subtitles, subtitle_stream, subtitle_option, keep_signs=keep_signs,
                                                    describe=True)
        if note and on_stream_note is not None:
            on_stream_note(note)
    else:
        subs = read_subtitles_noted(subtitles, subtitle_stream, subtitle_option, keep_signs=keep_signs,
                                    describe=False)[0]  # a subtitle_stream other than 0 is refused
    tm = TimeMap(offset=offset, drift=drift) if time_map is None else time_map
    try:
        result = align_piecewise(en_t.segments, jp_t.segments, tm, subs.events, tolerance_ms=tolerance_ms)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if on_alignment is not None:
        on_alignment(result)
    return result.clips, len(en_t.segments), len(jp_t.segments), result.outside_jp_medium, subs.left_out
