"""Another speaker's voice inside a turn: the two-voice track and the interjection labels (``diarize/twovoice.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import Turn
from anim400k.diarize.base import cut_turns
from anim400k.diarize.embedded import EmbeddedDiarizer
from anim400k.diarize.twovoice import HOP, other_voice_turns, overlap_score, two_voice_track
from anim400k.errors import InputError

SR = 16000


def _voice(f0: float, seconds: float, seed: int = 0, vibrato: float = 0.02) -> np.ndarray:
    """A harmonic voice (20 harmonics, 1/k amplitudes) with a slow vibrato."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f = f0 * (1 + vibrato * np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum(np.sin(k * phase + rng.uniform(0, 6)) / k for k in range(1, 21))
    return (0.1 * x).astype(np.float32)


def test_two_voices_summed_leave_a_second_period_one_voice_does_not() -> None:
    one = two_voice_track(_voice(230, 1.0), SR)
    two = two_voice_track(_voice(230, 1.0) + _voice(140, 1.0, seed=1), SR)
    assert np.median(overlap_score(one)) < 0.1
    assert np.median(overlap_score(two)) > 0.3
    assert abs(np.median(one.f1) / 230 - 1) < 0.03
    found = sorted([np.median(two.f2), np.median(two.f1)])  # the two F0s (the dominant may be an octave down)
    assert abs(found[0] / 140 - 1) < 0.05 or abs(found[0] / 115 - 1) < 0.05
    assert abs(np.median(two.f2) / 140 - 1) < 0.05 or abs(np.median(two.f2) / 230 - 1) < 0.05
    assert len(two_voice_track(np.zeros(100, np.float32), SR).f1) == 0  # shorter than a frame


def test_an_interjection_inside_a_line_gets_its_speaker() -> None:
    host = _voice(210, 3.0)
    audio = host.copy()
    audio[int(1.2 * SR) : int(1.7 * SR)] += 1.5 * _voice(110, 0.5, seed=2)  # a louder, lower voice for 0.5 s
    track = two_voice_track(audio, SR)
    pitch = {"c0": np.log2(210), "c1": np.log2(110), "c2": np.log2(160)}
    turns = [Turn(0.0, 3.0, "c0", 0.7)]
    extra = other_voice_turns(turns, track, pitch, far=0.6, threshold=0.3, margin=0.15)
    assert [t.speaker for t in extra] == ["c1"]
    assert 1.0 < extra[0].start < 1.3 and 1.6 < extra[0].end < 1.9
    assert extra[0].confidence == 0.7
    # no interjection, or no speaker whose pitch clearly matches (two candidates alike): no label
    assert other_voice_turns(turns, two_voice_track(host, SR), pitch, far=0.6, threshold=0.3, margin=0.15) == []
    alike = {"c0": np.log2(210), "c1": np.log2(110), "c2": np.log2(104)}
    assert other_voice_turns(turns, track, alike, far=0.6, threshold=0.3, margin=0.15) == []
    # a voice heard outside any turn is nobody's interjection; nobody else to label
    assert other_voice_turns([Turn(0.0, 1.0, "c0")], track, pitch, far=0.6) == []
    assert other_voice_turns(turns, track, {"c0": np.log2(210)}, far=0.6) == []
    # a host cluster whose own pitch spreads wide (two voices in one cluster) has no median to be far from
    wide = {"c0": 1.2, "c1": 0.2, "c2": 0.2}
    assert other_voice_turns(turns, track, pitch, far=0.6, threshold=0.3, margin=0.15,
                             speaker_spread=wide, max_spread=0.8) == []
    assert len(other_voice_turns(turns, track, pitch, far=0.6, threshold=0.3, margin=0.15,
                                 speaker_spread={"c0": 0.3}, max_spread=0.8)) == 1


def test_the_second_voice_under_a_louder_host_is_found() -> None:
    host = _voice(120, 3.0)
    audio = host.copy()
    audio[int(1.2 * SR) : int(1.7 * SR)] += 0.7 * _voice(300, 0.5, seed=3)  # quieter than the host
    track = two_voice_track(audio, SR)
    inside = slice(int(1.25 / HOP), int(1.65 / HOP))
    assert abs(np.median(np.log2(track.f1[inside])) - np.log2(120)) < 0.1  # the host stays dominant
    assert abs(np.median(np.log2(track.f2[inside])) - np.log2(300)) < 0.1
    pitch = {"c0": np.log2(120), "c1": np.log2(300), "c2": np.log2(200)}
    extra = other_voice_turns([Turn(0.0, 3.0, "c0")], track, pitch, far=0.6, threshold=0.3, margin=0.15)
    assert [t.speaker for t in extra] == ["c1"]
    # without the second-voice evidence the dominant (host) F0 alone finds nothing
    assert other_voice_turns([Turn(0.0, 3.0, "c0")], track, pitch, far=0.6, threshold=None, margin=0.15) == []


def test_unknown_speaker_rule_is_rejected() -> None:
    with pytest.raises(InputError, match="other_voice_who"):
        EmbeddedDiarizer(other_voice_who="loudest")


def test_the_diarizer_passes_its_options_through() -> None:
    """``EmbeddedDiarizer._other_voices``: the config reaches :func:`other_voice_turns`."""
    audio = _voice(210, 3.0)
    audio[int(1.2 * SR) : int(1.7 * SR)] += 1.5 * _voice(110, 0.5, seed=2)
    pitch = np.log2([210.0, 110.0, 160.0])
    wpitch = np.repeat(pitch, 4)  # 4 windows a cluster, no spread
    labels = np.repeat(np.arange(3), 4)
    single = [Turn(0.0, 3.0, "c0", 0.5)]
    on = EmbeddedDiarizer(other_voice_far=0.6)
    assert [t.speaker for t, _ in on._other_voices(single, audio, pitch, wpitch, labels)] == ["c1"]
    assert EmbeddedDiarizer(other_voice_far=1.5)._other_voices(single, audio, pitch, wpitch, labels) == []
    spread = np.where(labels == 0, np.log2(210.0) + np.tile([-0.6, 0.6, -0.6, 0.6], 3), wpitch)
    assert on._other_voices(single, audio, pitch, spread, labels) == []  # a host cluster of two voices


def test_a_run_without_the_host_voice_is_told_from_an_overlap() -> None:
    host = _voice(120, 3.0)
    pitch = {"c0": np.log2(120), "c1": np.log2(300), "c2": np.log2(200)}
    under = host.copy()
    under[int(1.2 * SR) : int(1.7 * SR)] += 0.7 * _voice(300, 0.5, seed=3)  # the host goes on under it
    alone = host.copy()
    alone[int(1.2 * SR) : int(1.7 * SR)] = _voice(300, 0.5, seed=3)  # the other voice alone
    kw = {"far": 0.6, "threshold": 0.3, "margin": 0.15, "with_host": True}
    [(t1, both)] = other_voice_turns([Turn(0.0, 3.0, "c0")], two_voice_track(under, SR), pitch, **kw)
    [(t2, solo)] = other_voice_turns([Turn(0.0, 3.0, "c0")], two_voice_track(alone, SR), pitch, **kw)
    assert t1.speaker == t2.speaker == "c1"
    assert both > 0.5 and solo < 0.1


def test_cut_turns_removes_the_spans() -> None:
    turns = [Turn(0.0, 3.0, "c0", 0.5), Turn(3.0, 4.0, "c1", 0.9)]
    out = cut_turns(turns, [Turn(1.0, 1.5, "c1"), Turn(2.8, 3.2, "c2")])
    assert [(t.start, t.end, t.speaker, t.confidence) for t in sorted(out)] == [
        (0.0, 1.0, "c0", 0.5), (1.5, 2.8, "c0", 0.5), (3.2, 4.0, "c1", 0.9)]
    assert cut_turns(turns, []) == turns
