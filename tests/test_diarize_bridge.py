"""Bridging a speaker's own short pauses (``EmbeddedConfig.bridge_gap``)."""

from __future__ import annotations

from anim400k.diarize import Turn, get_diarizer
from anim400k.diarize.base import bridge_pauses, normalize_turns
from anim400k.diarize.embedded_config import LEGACY_OPTIONS, EmbeddedConfig


def test_short_pause_of_one_speaker_is_bridged_and_other_gaps_are_not() -> None:
    turns = [Turn(0.0, 1.0, "c0", 0.8), Turn(1.3, 2.0, "c0", 0.6),  # 0.3 s pause inside c0's line
             Turn(2.5, 3.0, "c1", 0.9),  # another speaker after 0.5 s: never bridged
             Turn(3.2, 4.0, "c0", 0.7), Turn(5.0, 6.0, "c0", 0.7)]  # c0 again; then a 1 s pause
    extra = bridge_pauses(turns, 0.4)
    assert sorted(set(extra) - set(turns)) == [Turn(1.0, 1.3, "c0", 0.8)]
    merged = normalize_turns(extra)
    assert [(t.start, t.end, t.speaker) for t in merged] == [
        (0.0, 2.0, "c0"), (2.5, 3.0, "c1"), (3.2, 4.0, "c0"), (5.0, 6.0, "c0")]
    assert bridge_pauses(turns, 0.0) == turns
    assert EmbeddedConfig().bridge_gap > 0 and LEGACY_OPTIONS["bridge_gap"] == 0.0


def test_diarizer_bridges_a_pause_inside_one_voice() -> None:
    """One espeak voice, two sentences 0.3 s apart: one turn across the pause, two without bridging."""
    from anim400k.testing.speech import speech_track

    audio, truth = speech_track(["The weather is nice today.", "Let us go to the park."], gap=0.3, lead=0.5)
    plain = get_diarizer("embedded", bridge_gap=0.0).diarize(audio, 16000)
    bridged = get_diarizer("embedded").diarize(audio, 16000)
    assert len(plain) == 2 and plain[0].end < truth[1][0] < plain[1].start + 0.05
    assert len(bridged) == 1 and bridged[0].start < truth[0][1] < truth[1][0] < bridged[0].end
