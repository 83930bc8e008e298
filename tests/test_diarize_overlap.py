"""Overlap labels at speaker changes without a pause (``diarize/overlap.py``)."""

from __future__ import annotations

import numpy as np

from anim400k.diarize import Turn
from anim400k.diarize.embedded_config import EmbeddedConfig
from anim400k.diarize.overlap import change_overlaps, level_db, quiet_time

SR = 16000


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def test_change_without_a_pause_is_labelled_with_both_speakers() -> None:
    audio = _noise(4.0)  # speech-level sound all through: the second line starts inside the first
    turns = [Turn(0.0, 2.0, "c0", 0.8), Turn(2.0, 4.0, "c1", 0.6)]
    extra = change_overlaps(turns, audio, SR, max_quiet=0.16, before=0.15, after=0.4)
    assert [(round(t.start, 3), round(t.end, 3), t.speaker) for t in sorted(extra)] == [
        (1.85, 2.0, "c1"), (2.0, 2.4, "c0")]
    assert all(t.confidence == 0.6 for t in extra)
    assert change_overlaps([Turn(0.0, 2.0, "c0"), Turn(2.0, 4.0, "c1", 0.6)], audio, SR)[0].confidence is None


def test_a_pause_or_a_gap_or_one_speaker_gives_no_overlap() -> None:
    audio = _noise(4.0)
    paused = audio.copy()
    paused[int(1.8 * SR) : int(2.1 * SR)] *= 1e-3  # 0.3 s of quiet at the change: turn-taking
    turns = [Turn(0.0, 2.0, "c0"), Turn(2.0, 4.0, "c1")]
    assert change_overlaps(turns, paused, SR) == []
    assert len(change_overlaps(turns, audio, SR)) == 2
    assert change_overlaps([Turn(0.0, 1.7, "c0"), Turn(2.0, 4.0, "c1")], audio, SR) == []  # turns do not touch
    assert change_overlaps([Turn(0.0, 2.0, "c0"), Turn(2.0, 4.0, "c0")], audio, SR) == []  # same speaker
    assert change_overlaps(turns, np.zeros(10, np.float32), SR) == []  # too short for a level frame


def test_placed_on_the_side_without_syllable_dips() -> None:
    """Two voices at once leave no dips; the side of the change with the dips is one speaker."""
    audio = _noise(4.0)
    for k in range(5):  # syllable dips after the change (2.0-2.4 s): the overlap lies before it
        a = int((2.04 + 0.08 * k) * SR)
        audio[a : a + int(0.03 * SR)] *= 0.2
    turns = [Turn(0.0, 2.0, "c0"), Turn(2.0, 4.0, "c1")]
    fixed = change_overlaps(turns, audio, SR, max_quiet=0.5, before=0.3, after=0.3)
    placed = change_overlaps(turns, audio, SR, max_quiet=0.5, before=0.3, after=0.3, place_db=10.0)
    assert {t.speaker for t in fixed} == {"c0", "c1"}
    assert [(round(t.start, 3), round(t.end, 3), t.speaker) for t in placed] == [(1.7, 2.0, "c1")]
    mirrored = change_overlaps(turns, audio[::-1].copy(), SR, max_quiet=0.5, before=0.3, after=0.3, place_db=10.0)
    assert [(round(t.start, 3), round(t.end, 3), t.speaker) for t in mirrored] == [(2.0, 2.3, "c0")]


def test_labels_stay_inside_the_two_turns_and_level_helpers() -> None:
    audio = _noise(3.0)
    extra = change_overlaps([Turn(1.0, 1.1, "c0"), Turn(1.1, 1.3, "c1")], audio, SR, before=0.15, after=0.4)
    assert sorted((round(t.start, 3), round(t.end, 3), t.speaker) for t in extra) == [
        (1.0, 1.1, "c1"), (1.1, 1.3, "c0")]
    level = level_db(audio, SR)
    assert abs(len(level) - 300) <= 3 and np.all(np.abs(level - level.mean()) < 1.0)
    assert quiet_time(level, float(level.max()), 1.5, 0.5, 20.0) == 0.0
    assert quiet_time(level, float(level.max()) + 30.0, 1.5, 0.5, 20.0) >= 0.99


def test_off_by_default_and_wired_into_the_diarizer(monkeypatch) -> None:
    """Off by default (the overlap's side of the change depends on the voices); switched on, the
    diarizer passes its single-speaker turns and the audio to :func:`change_overlaps`."""
    from anim400k.diarize import get_diarizer, overlap
    from anim400k.testing.speech import speech_track

    assert EmbeddedConfig().change_overlap_quiet is None
    calls = []

    def spy(turns, audio, sr, *args, place_db=0.0, place_score=None, min_score=0.0):
        calls.append((len(turns), len(audio), sr, args, place_db, place_score, min_score))
        return [Turn(0.0, 0.2, "c1", 0.5)]

    monkeypatch.setattr(overlap, "change_overlaps", spy)
    audio, _ = speech_track(["The weather is nice today.", "Let us go to the park."], gap=0.3, lead=0.5)
    get_diarizer("embedded").diarize(audio, 16000)
    assert calls == []
    get_diarizer("embedded", num_speakers=2, change_overlap_quiet=0.16).diarize(audio, 16000)
    assert len(calls) == 1 and calls[0][1] == len(audio) and calls[0][2] == 16000
    assert calls[0][3] == (0.16, 0.15, 0.4, 0.5, 20.0)
    assert calls[0][5] is None
    get_diarizer("embedded", num_speakers=2, change_overlap_quiet=0.16, change_overlap_place_score=0.2).diarize(
        audio, 16000)
    assert calls[1][5] is not None and len(calls[1][5]) > 0 and calls[1][6] == 0.2


def test_placed_on_the_side_with_the_second_voice() -> None:
    audio = _noise(4.0)
    turns = [Turn(0.0, 2.0, "c0"), Turn(2.0, 4.0, "c1")]
    score = np.zeros(200)  # 20 ms frames
    score[100:120] = 0.5  # a second voice just after the change
    extra = change_overlaps(turns, audio, SR, before=0.4, after=0.4, place_score=score, min_score=0.2)
    assert [(round(t.start, 3), round(t.end, 3), t.speaker) for t in extra] == [(2.0, 2.4, "c0")]
    score[80:100], score[100:120] = 0.6, 0.0  # ... or just before it
    extra = change_overlaps(turns, audio, SR, before=0.4, after=0.4, place_score=score, min_score=0.2)
    assert [(round(t.start, 3), round(t.end, 3), t.speaker) for t in extra] == [(1.6, 2.0, "c1")]
    assert change_overlaps(turns, audio, SR, place_score=score, min_score=0.7) == []  # no side reaches it
