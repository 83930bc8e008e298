"""Given transcripts: lines past the media's end, clips outside the JP medium, low speech coverage."""

from __future__ import annotations

import pytest

from anim400k.dataset.episode_clips import inside_medium, speech_coverage
from anim400k.dataset.release_writer import clips_warnings
from anim400k.model import Segment, Word


def test_transcript_segments_past_the_media_end_are_dropped_or_clipped() -> None:
    segs = [
        Segment(10.0, 12.0, "Inside."),
        Segment(59.5, 61.2, "Straddling the end now.",
                words=[Word(59.5, 60.4, "Straddling"), Word(60.4, 60.9, "the"), Word(60.9, 61.2, "end")]),
        Segment(62.0, 63.5, "This is after the end."),
    ]
    kept, dropped, clipped = inside_medium(segs, 60.0)
    assert (dropped, clipped) == (1, 1)
    assert [s.text for s in kept] == ["Inside.", "Straddling the end now."]
    assert kept[1].end == 60.0
    assert [(w.text, w.end) for w in kept[1].words] == [("Straddling", 60.0)]
    assert segs[1].end == 61.2  # the input is not changed
    assert inside_medium(segs, None) == (segs, 0, 0)


def test_transcript_past_end_and_outside_clips_are_warned() -> None:
    data = {"transcript_past_end": {"en": {"dropped": 1, "clipped": 1}, "ja": {"dropped": 1, "clipped": 0}},
            "clips_outside_jp_medium": 2}
    w = clips_warnings(data)
    assert len(w) == 2
    assert w[0].startswith("1 EN and 1 JP transcript segment(s) past the end of the media were dropped, "
                           "1 EN and 0 JP clipped")
    assert "2 clip(s) outside the JP medium" in w[1]
    none = {"transcript_past_end": {"en": {"dropped": 0, "clipped": 0}, "ja": {"dropped": 0, "clipped": 0}},
            "clips_outside_jp_medium": 0, "transcript_coverage": {"en": 0.9, "ja": None}}
    assert clips_warnings(none) == []
    assert clips_warnings({}) == []  # a clips.json of an earlier version


#: 60 s of speech: 0-40 s and 60-80 s (overlapping and unsorted turns, as an RTTM has them)
SPEECH = [(20.0, 40.0), (0.0, 25.0), (60.0, 80.0)]


@pytest.mark.parametrize(("segments", "share"), [
    ([(0.0, 40.0), (60.0, 80.0)], 1.0),
    ([(0.0, 30.0)], 0.5),  # lines only in the first half
    ([(30.0, 70.0), (90.0, 110.0)], 0.3333),  # every line shifted by +30 s
    ([(40.5, 59.5)], 0.0),  # in the pause
])
def test_transcript_speech_coverage(segments: list[tuple[float, float]], share: float) -> None:
    assert speech_coverage(segments, SPEECH) == pytest.approx(share, abs=1e-3)


def test_low_transcript_coverage_is_warned() -> None:
    assert speech_coverage([(0.0, 10.0)], []) is None
    w = clips_warnings({"transcript_coverage": {"en": 0.2, "ja": 0.49}})
    assert w == [
        "the given EN transcript covers only 20% of the speech the diarization finds "
        "(a partial transcript, shifted times, or another episode's?)",
        "the given JP transcript covers only 49% of the speech the diarization finds "
        "(a partial transcript, shifted times, or another episode's?)",
    ]
    assert clips_warnings({"transcript_coverage": {"en": 0.5}}) == []
