"""Clip speakers: which episode-level speakers are heard in a clip."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from anim400k.diarize import Turn, clip_speakers, speakers_in_interval
from anim400k.diarize.clips import multi_speaker

TURNS = [Turn(0.0, 4.0, "A"), Turn(3.8, 8.0, "B"), Turn(10.0, 10.2, "C"), Turn(12.0, 14.0, "A")]


def test_boundary_graze_does_not_count():
    # B starts 0.2 s before the clip end: below the 0.3 s minimum
    assert speakers_in_interval(TURNS, 0.5, 4.0) == ["A"]
    assert speakers_in_interval(TURNS, 0.5, 4.2) == ["A", "B"]
    assert multi_speaker(speakers_in_interval(TURNS, 0.5, 4.2))


def test_short_turn_fully_inside_and_short_clip():
    # C speaks 0.2 s: not enough in a long clip ...
    assert speakers_in_interval(TURNS, 9.0, 11.0) == []
    # ... but a clip shorter than 0.6 s needs only half its length
    assert speakers_in_interval(TURNS, 10.0, 10.3) == ["C"]


def test_empty_inputs_and_degenerate_intervals():
    assert speakers_in_interval([], 0, 10) == []
    assert speakers_in_interval(TURNS, 5.0, 5.0) == []
    assert clip_speakers(TURNS, np.zeros((0, 2))) == []
    assert speakers_in_interval(TURNS, 4.0, 0.5) == ["A"]  # reversed interval is tolerated


def test_order_is_by_first_appearance_and_overlapping_turns_merge():
    turns = [Turn(5, 6, "late"), Turn(0, 2, "early"), Turn(1, 3, "early")]
    assert speakers_in_interval(turns, 0, 10) == ["early", "late"]
    assert speakers_in_interval(turns, 1.5, 2.5, min_overlap=0.9) == ["early"]


def _slow(turns, a, b, min_overlap):
    out = []
    need = min(min_overlap, 0.5 * (b - a))
    for spk in dict.fromkeys(t.speaker for t in sorted(turns)):
        # union of this speaker's turns, sampled on a 1 ms grid
        grid = np.arange(a, b, 0.001) + 0.0005
        on = np.zeros(len(grid), bool)
        for t in turns:
            if t.speaker == spk:
                on |= (grid >= t.start) & (grid < t.end)
        if b > a and on.sum() * 0.001 >= need - 0.002:
            out.append(spk)
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 20), st.floats(0.05, 5), st.sampled_from("XYZ")), max_size=12),
    st.floats(0, 20),
    st.floats(0.7, 6),
)
def test_vectorised_matches_brute_force(raw, a, length):
    turns = [Turn(round(s, 3), round(s + d, 3), spk) for s, d, spk in raw]
    b = a + length
    fast = clip_speakers(turns, np.array([[a, b]]), 0.3)[0]
    slow = _slow(turns, a, b, 0.3)
    # grid sampling is exact up to a few ms: allow disagreement only for borderline speakers
    assert set(fast) ^ set(slow) <= {
        s for s in "XYZ" if abs(_covered(turns, s, a, b) - 0.3) < 0.005
    }


def _covered(turns, spk, a, b):
    grid = np.arange(a, b, 0.001) + 0.0005
    on = np.zeros(len(grid), bool)
    for t in turns:
        if t.speaker == spk:
            on |= (grid >= t.start) & (grid < t.end)
    return on.sum() * 0.001


def test_many_clips_at_once():
    rng = np.random.default_rng(0)
    starts = np.sort(rng.uniform(0, 1400, 3000))
    intervals = np.stack([starts, starts + rng.uniform(1, 8, 3000)], axis=1)
    turns = [Turn(float(s), float(s + 2), f"s{i % 4}") for i, s in enumerate(np.arange(0, 1400, 2.5))]
    res = clip_speakers(turns, intervals)
    assert len(res) == 3000
    for i in (0, 1234, 2999):
        assert res[i] == speakers_in_interval(turns, *intervals[i])


def test_pitch_track_in_batches_equals_one_batch(monkeypatch):
    """The F0 tracker works in frame batches (flat memory); the result does not depend on the batch size."""
    from anim400k.diarize import pitch

    sr = 16000
    t = np.arange(sr * 12) / sr
    rng = np.random.default_rng(3)
    phase = 2 * np.pi * np.cumsum(150 + 50 * np.sin(t)) / sr  # F0 glides between 100 and 200 Hz
    x = (np.sin(phase) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    x[sr * 4 : sr * 6] = 0  # a silent stretch: unvoiced frames
    monkeypatch.setattr(pitch, "FRAMES_PER_BATCH", 10**9)
    whole = pitch.f0_track(x, sr)
    monkeypatch.setattr(pitch, "FRAMES_PER_BATCH", 37)
    batched = pitch.f0_track(x, sr)
    assert len(whole) == len(batched) == len(x) // int(0.02 * sr) - 1
    assert np.array_equal(np.isnan(whole), np.isnan(batched)) and np.nanmax(np.abs(whole - batched)) < 1e-6
    voiced = whole[~np.isnan(whole)]
    assert 0.7 * len(whole) < len(voiced) and np.all((voiced > 95) & (voiced < 205))
    assert np.all(np.isnan(whole[210:290]))  # inside the silence


def test_clip_confidence_combines_turn_confidence_and_threshold_margin():
    from anim400k.diarize import clip_confidence

    turns = [Turn(0.0, 4.0, "A", 0.9), Turn(4.0, 8.0, "B", 0.3), Turn(10.0, 12.0, "A", 0.8)]
    iv = np.array([[0.5, 3.5],    # only A, sure
                   [5.0, 7.0],    # only B, unsure turn
                   [1.0, 6.0],    # A 3 s at 0.9, B 2 s at 0.3 -> weighted 0.66
                   [0.5, 4.31],   # B heard 0.31 s where 0.3 s is needed: borderline
                   [8.5, 9.5]])   # no speech
    conf = clip_confidence(turns, iv)
    assert conf[0] == 0.9 and conf[1] == 0.3
    assert conf[2] == round((3 * 0.9 + 2 * 0.3) / 5, 3)
    assert conf[3] is not None and conf[3] < 0.1
    assert conf[4] == 1.0
    # a diarizer without confidences gives none
    assert clip_confidence([Turn(0.0, 4.0, "A")], iv[:2]) == [None, None]
    assert clip_confidence([], iv[:1]) == [None]


def test_merged_turns_keep_a_weighted_confidence_and_labels_keep_it():
    from anim400k.diarize.base import normalize_turns, relabel_by_first_appearance

    merged = normalize_turns([Turn(0.0, 1.0, "x", 1.0), Turn(1.0, 4.0, "x", 0.2), Turn(5.0, 6.0, "y")])
    assert merged[0] == Turn(0.0, 4.0, "x") and abs(merged[0].confidence - 0.4) < 1e-9
    assert merged[1].confidence is None
    assert relabel_by_first_appearance(merged)[0].confidence == merged[0].confidence
