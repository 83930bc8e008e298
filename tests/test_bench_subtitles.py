"""The realistic diarization benchmark's synthetic EN subtitles (benchmarks/_subtitles.py) follow their rules."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from anim400k.diarize import Turn
from anim400k.diarize.subtitle_cues import is_dash_event

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import _subtitles as S  # noqa: E402


def _lines(seed: int, n: int = 400) -> list[Turn]:
    """A conversation of 3 speakers: lines of 0.4-4.5 s, gaps of -0.5 (an overlap) to 1 s."""
    rng = np.random.default_rng(seed)
    t, out = 0.5, []
    for _ in range(n):
        start = max(0.0, t + rng.uniform(-0.5, 1.0))
        end = start + rng.uniform(0.4, 4.5)
        out.append(Turn(round(start, 3), round(end, 3), f"s{rng.integers(3)}"))
        t = end
    return sorted(out)


def test_subtitles_follow_the_timing_and_grouping_rules() -> None:
    lines = _lines(1)
    events = S.synth_subtitles(lines, 5)
    assert events == S.synth_subtitles(lines, 5)  # seeded
    assert [(e.start, e.end) for e in events] != [(e.start, e.end) for e in S.synth_subtitles(lines, 6)]
    used = [j for e in events for j in e.lines]
    dropped = set(range(len(lines))) - set(used)
    assert dropped and all(lines[j].end - lines[j].start < S.SHORT for j in dropped)  # only interjections
    kinds = {"dash": 0, "absorbed": 0, "split": 0}
    for e in events:
        assert e.end > e.start
        first, last = lines[e.lines[0]], lines[e.lines[-1]]
        if e.dash:  # two short consecutive lines of different speakers, marked with dashes
            kinds["dash"] += 1
            a, b = (lines[j] for j in e.lines)
            assert e.lines[1] == e.lines[0] + 1 and a.speaker != b.speaker
            assert max(a.end - a.start, b.end - b.start) < S.DASH_MAX and is_dash_event(e.text)
        else:
            assert not is_dash_event(e.text)
        if len(e.lines) > 1 and not e.dash:  # an interjection merged without a dash
            kinds["absorbed"] += 1
            assert all(lines[j].end - lines[j].start < S.SHORT for j in e.lines[1:])
        if used.count(e.lines[0]) == 2 and len(e.lines) == 1:
            kinds["split"] += 1
            assert first.end - first.start > S.SPLIT_MIN
            assert first.start < e.spoken[1] < first.end or first.start < e.spoken[0] < first.end
            continue
        assert abs(e.start - max(0.0, first.start)) <= S.JITTER + 1e-9 or e.start > first.start  # jitter, or
        assert e.end <= max(last.end, first.end) + S.LINGER[1] + S.MIN_DURATION[1] + 1e-9  # pushed by the one before
    assert min(kinds.values()) > 0, kinds
    for a, b in zip(events[:-1], events[1:], strict=True):  # no overlap unless the spoken lines overlap
        if a.spoken[1] <= b.spoken[0]:
            assert a.end <= b.start - S.GAP + 1e-9
    lingering = [e.end - e.spoken[1] for e in events if len(e.lines) == 1 and e.spoken[1] == lines[e.lines[0]].end]
    assert np.median(lingering) > 0.1  # events outlast the speech (clipped at the next event at most)
    assert S.subtitle_tuples(events)[0] == (round(events[0].start, 3), round(events[0].end, 3), events[0].text)


def test_dash_lines_are_as_long_as_their_speech() -> None:
    """A dash line holds about CHARS_PER_S characters per second of its line, so the share of the first line's
    characters follows the share of its speech (the cue ``dash_shares`` reads)."""
    from anim400k.diarize.subtitle_cues import dash_shares

    lines = _lines(2)
    events = [e for e in S.synth_subtitles(lines, 3) if e.dash]
    assert len(events) > 10
    chars = np.array([dash_shares(e.text)[0] for e in events])
    speech = np.array([(lines[e.lines[0]].end - lines[e.lines[0]].start)
                       / sum(lines[j].end - lines[j].start for j in e.lines) for e in events])
    assert np.corrcoef(chars, speech)[0, 1] > 0.8 and np.abs(chars - speech).mean() < 0.1
