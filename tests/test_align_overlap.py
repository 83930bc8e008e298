"""The vectorised subtitle overlap (``align.overlapping_flat``) against a brute-force scan.

Small ``_PAIR_BLOCK`` values force the candidate pairs through many blocks, so block
boundaries (a clip's candidates split across blocks is not allowed: each block holds
whole clips) are exercised too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anim400k import align

ms = st.integers(0, 5000)


def brute(a: list[float], b: list[float], ss: list[float], se: list[float]) -> list[list[int]]:
    """Overlap straight from the definition, events ordered by (start, index)."""
    order = sorted(range(len(ss)), key=lambda i: (ss[i], i))
    out = []
    for x, y in zip(a, b, strict=True):
        out.append([i for i in order if se[i] > x and (ss[i] < y or (x == y and ss[i] <= x))])
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(ms, st.integers(0, 800)), max_size=15),
    st.lists(st.tuples(ms, st.integers(0, 2500)), max_size=15),
    st.integers(1, 12),
)
def test_overlapping_flat_equals_brute_force(clips, subs, block):
    a = [s / 1000 for s, _ in clips]
    b = [(s + d) / 1000 for s, d in clips]
    ss = [s / 1000 for s, _ in subs]
    se = [(s + d) / 1000 for s, d in subs]
    want = brute(a, b, ss, se)
    old = align._PAIR_BLOCK
    align._PAIR_BLOCK = block
    try:
        idx, bounds = align.overlapping_flat(np.array(a), np.array(b), np.array(ss), np.array(se))
        lists = align.subtitles_overlapping(np.array(a), np.array(b), np.array(ss), np.array(se))
    finally:
        align._PAIR_BLOCK = old
    assert bounds.tolist()[0] == 0 and len(bounds) == len(a) + 1
    got = [idx[bounds[k] : bounds[k + 1]].tolist() for k in range(len(a))]
    assert got == want
    assert [x.tolist() for x in lists] == want


def test_overlap_edge_cases():
    # zero-length clip inside an event counts; touching ends do not
    idx, bounds = align.overlapping_flat(np.array([1.0, 2.0]), np.array([1.0, 3.0]),
                                         np.array([0.0, 3.0]), np.array([2.0, 4.0]))
    assert [idx[bounds[k]:bounds[k + 1]].tolist() for k in range(2)] == [[0], []]
    # no events, no clips
    assert align.subtitles_overlapping(np.array([0.0]), np.array([1.0]), np.zeros(0), np.zeros(0))[0].size == 0
    assert align.subtitles_overlapping(np.zeros(0), np.zeros(0), np.array([0.0]), np.array([1.0])) == []


def test_align_clips_rejects_negative_times_naming_the_segment():
    from anim400k.model import Segment

    with pytest.raises(ValueError, match="JP segment 1 has a negative time"):
        align.align_clips([Segment(0, 1, "a")], [Segment(0, 1, "x"), Segment(-0.5, 1, "y")])


def test_long_events_are_matched_on_their_own_with_the_same_result() -> None:
    """A cue spanning the whole track (a credit line) made every clip test every event: quadratic (40k clips,
    8.4 s against 0.4 s; an outside tester). Long events are matched apart now: the same pairs as a brute force."""
    import numpy as np

    from anim400k.align import overlapping_flat

    rng = np.random.default_rng(7)
    for sorted_clips in (True, False):
        for _ in range(300):
            n, m = int(rng.integers(0, 10)), int(rng.integers(0, 10))
            a = np.sort(rng.uniform(0, 100, n)) if sorted_clips else rng.uniform(0, 100, n)
            b = a + rng.uniform(0, 3 if sorted_clips else 30, n) * (rng.random(n) > 0.1)  # some zero-length
            s = np.round(rng.uniform(0, 100, m), 1)
            e = s + np.where(rng.random(m) < 0.3, rng.uniform(20, 100, m), rng.uniform(0, 2, m))
            idx, bounds = overlapping_flat(a, b, s, e)
            order = np.argsort(s, kind="stable")
            for k in range(n):
                want = [i for i in order if e[i] > a[k] and (s[i] < b[k] or (b[k] == a[k] and s[i] <= a[k]))]
                assert list(idx[bounds[k]:bounds[k + 1]]) == want
