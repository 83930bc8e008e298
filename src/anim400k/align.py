"""Clip alignment exactly as the Anim-400K paper defines it.

Start from every EN ASR segment and merge, recursively, with any EN or JP segment
whose interval overlaps the group's interval (its hull) or whose nearest endpoint
lies at most ``tolerance_ms`` away (inclusive), until nothing more merges. Each
group is one clip. JP segments that never join an EN segment form no clip.

Equivalence used for speed: the fixpoint groups are exactly the connected runs of
a sweep over all segments sorted by start, where a segment joins the current run
when ``start <= max(end so far) + tolerance``. A run is a clip iff it holds at least
one EN segment. Sorting dominates: O(n log n). All times are rounded once to
integer milliseconds so that the tolerance comparison is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .model import Clip, Segment, Subtitle

DEFAULT_TOLERANCE_MS = 125


def to_ms(seconds: np.ndarray | Sequence[float]) -> np.ndarray:
    """Round seconds to integer milliseconds (int64)."""
    return np.rint(np.asarray(seconds, dtype=np.float64) * 1000.0).astype(np.int64)


@dataclass(slots=True)
class Groups:
    """Result of :func:`group_segments` (array form, for large inputs).

    ``en_group[i]``/``jp_group[j]`` is the clip index of EN segment i / JP segment j, or -1
    for a JP segment that joined no EN segment. ``start_ms``/``end_ms`` are the clip hulls
    in the common timeline, in time order.
    """

    en_group: np.ndarray
    jp_group: np.ndarray
    start_ms: np.ndarray
    end_ms: np.ndarray

    @property
    def n_clips(self) -> int:
        """Number of clips."""
        return int(self.start_ms.shape[0])

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
    es, ee, js, je = (to_ms(a) for a in (en_start, en_end, jp_start, jp_end))
    for name, s, e in (("EN", es, ee), ("JP", js, je)):
        if s.shape != e.shape:
            raise ValueError(f"{name} start and end arrays differ in length")
        bad = np.flatnonzero(e < s)
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{name} segment {i} ends before it starts ({s[i] / 1000:.3f} > {e[i] / 1000:.3f})")
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
    new_run[1:] = s_sorted[1:] > run_end[:-1] + int(tolerance_ms)
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
        start_ms=run_start[has_en],
        end_ms=run_stop[has_en],
    )


def subtitles_overlapping(
    clip_start: np.ndarray, clip_end: np.ndarray, sub_start: np.ndarray, sub_end: np.ndarray
) -> list[np.ndarray]:
    """For each clip interval, indices of subtitle events overlapping it (strictly, in time order).

    An event overlaps ``[a, b]`` when ``start < b`` and ``end > a``; for a zero-length clip
    an event containing the instant counts. Works in O((n + m) log m) for sorted, mostly
    non-overlapping subtitle tracks.
    """
    if sub_start.size == 0:
        return [np.zeros(0, dtype=np.int64) for _ in range(len(clip_start))]
    order = np.argsort(sub_start, kind="stable")
    ss = sub_start[order]
    se = sub_end[order]
    longest = float(np.max(se - ss))
    out = []
    for a, b in zip(clip_start, clip_end, strict=True):
        lo = int(np.searchsorted(ss, a - longest, side="left"))
        hi = int(np.searchsorted(ss, b, side="left" if b > a else "right"))
        cand = np.arange(lo, hi)
        cs, ce = ss[lo:hi], se[lo:hi]
        keep = (ce > a) & ((cs < b) | ((b == a) & (cs <= a)))
        out.append(order[cand[keep]])
    return out


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
    interval.
    """
    for name, segs in (("EN", en), ("JP", jp)):
        for i, seg in enumerate(segs):
            if seg.start < 0 or seg.end < 0:
                raise ValueError(f"{name} segment {i} has a negative time ({seg.start:.3f}, {seg.end:.3f})")
    fwd = jp_to_common or (lambda t: t)
    back = common_to_jp or (lambda t: t)
    en_s = np.array([s.start for s in en], dtype=np.float64)
    en_e = np.array([s.end for s in en], dtype=np.float64)
    jp_s = fwd(np.array([s.start for s in jp], dtype=np.float64))
    jp_e = fwd(np.array([s.end for s in jp], dtype=np.float64))
    groups = group_segments(en_s, en_e, jp_s, jp_e, tolerance_ms)
    start = groups.start_ms / 1000.0
    end = groups.end_ms / 1000.0
    jp_start = np.maximum(back(start), 0.0) if len(start) else start
    jp_end = np.maximum(back(end), 0.0) if len(end) else end
    members_en: list[list[int]] = [[] for _ in range(groups.n_clips)]
    members_jp: list[list[int]] = [[] for _ in range(groups.n_clips)]
    for i in np.argsort(to_ms(en_s), kind="stable"):
        members_en[groups.en_group[i]].append(int(i))
    for j in np.argsort(to_ms(jp_s), kind="stable"):
        g = groups.jp_group[j]
        if g >= 0:
            members_jp[g].append(int(j))
    sub_s = np.array([s.start for s in subtitles], dtype=np.float64)
    sub_e = np.array([s.end for s in subtitles], dtype=np.float64)
    subs_of = subtitles_overlapping(jp_start, jp_end, sub_s, sub_e)
    clips = []
    for k in range(groups.n_clips):
        clips.append(
            Clip(
                en_start=float(start[k]),
                en_end=float(end[k]),
                jp_start=round(float(jp_start[k]), 3),
                jp_end=round(float(jp_end[k]), 3),
                en_text=join_texts(en[i].text for i in members_en[k]),
                jp_text=join_texts((jp[j].text for j in members_jp[k]), sep=""),
                en_segments=members_en[k],
                jp_segments=members_jp[k],
                en_subtitles=[subtitles[int(i)] for i in subs_of[k]],
            )
        )
    return clips


def join_texts(texts, sep: str = " ") -> str:  # type: ignore[no-untyped-def]
    """Join stripped, non-empty texts (``sep`` '' for Japanese, which has no spaces)."""
    return sep.join(t.strip() for t in texts if t and t.strip())
