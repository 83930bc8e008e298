"""A sync estimate whose sample-precise matches agree only at the ends is not vouched for (``_vouch_coverage``)."""

from __future__ import annotations

from anim400k.model import TimeMap
from anim400k.sync.estimate import _vouch_coverage
from anim400k.sync.result import SyncResult, longest_unmatched

# the fine matches of another 80 s episode whose EN mix shares the JP one's opening (0-20 s) and ending (62-80 s)
# music: the matches agree there and nowhere between (an outside tester's case, synced at confidence 1.00)
SHARED_ENDS = [(4.0, 4.05, True), (8.5, 8.544, True), (10.0, 10.043, True), (13.0, 13.037, True),
               (17.5, 17.531, True), (22.0, 22.003, False), (26.5, 26.568, False), (31.0, 31.022, False),
               (35.5, 35.465, False), (40.0, 39.993, False), (44.5, 44.444, False), (49.0, 48.96, False),
               (53.5, 53.504, False), (58.0, 58.018, False), (62.5, 62.469, True), (67.0, 66.962, True),
               (70.0, 69.993, True), (71.5, 71.456, True)]


def _result(fine: list[tuple[float, float, bool]], confidence: float = 1.0) -> SyncResult:
    return SyncResult(TimeMap(0.0001, 0.0, confidence), confidence, 0.18, 3.0, 11, len(fine), "", [], fine)


def test_longest_unmatched_run_is_bounded_by_the_agreeing_matches() -> None:
    assert longest_unmatched(SHARED_ENDS) == (17.5, 62.5, 9)
    assert longest_unmatched([(1.0, 1.0, True), (2.0, 2.0, True)]) == (0.0, 0.0, 0)
    assert longest_unmatched([(5.0, 0.0, False), (9.0, 0.0, False), (12.0, 0.0, True)]) == (5.0, 12.0, 2)


def test_matches_agreeing_only_at_the_ends_make_the_estimate_unreliable() -> None:
    res = _vouch_coverage(_result(SHARED_ENDS), 80.0)
    assert not res.reliable and "agree only outside JP 17.5-62.5 s" in res.reason
    assert res.usable_time_map().offset == 0.0  # the build's identity map, with the warning


def test_scattered_disagreeing_matches_leave_a_reliable_estimate_alone() -> None:
    """Dialogue over the shared stem makes some fine matches miss here and there: no long run, no change."""
    fine = [(t, t, k % 3 != 1) for k, t in enumerate(range(2, 78, 4))]
    res = _vouch_coverage(_result(fine), 80.0)
    assert res.reliable and res.confidence == 1.0 and res.reason == ""
    short_run = SHARED_ENDS[:6] + [(t, t, True) for t in (30.0, 40.0, 50.0, 60.0)]  # one miss among agreeing ones
    assert _vouch_coverage(_result(short_run), 80.0).reliable


def test_two_offsets_at_interleaved_places_are_not_called_an_edit() -> None:
    """An M&E 12 dB lower under a +1.3 s offset: 7 windows on +1.35 s (JP 10-70 s) and 3 inside them on +4.84 s were
    reported as "EN is edited" (an outside tester's case); the refusal stands, its reason says what was seen."""
    import numpy as np

    from anim400k.sync.estimate import _edit

    tj = np.arange(0.0, 66.0, 6.0)  # 11 windows of 20 s
    te = tj + 1.35
    inl = np.ones(tj.size, dtype=bool)
    for k in (3, 4, 5):  # JP 28-40 s (centres): music repeated 3.5 s later
        te[k], inl[k] = tj[k] + 4.84, False
    te[8], inl[8] = tj[8] - 7.0, False
    edit = _edit(np.zeros(16000), np.zeros(16000), 16000, (tj, te, np.ones(tj.size), inl), 1.35, 1.0, 20.0)
    assert edit is not None and edit["at"] is None
    assert edit["reason"].startswith("the windows agree on two offsets at interleaved places")
    assert "EN is edited" not in edit["reason"] and "cut from or added to" not in edit["reason"]
