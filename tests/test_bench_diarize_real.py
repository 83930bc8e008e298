"""The realistic-voice diarization benchmark's scoring: which voices the missed speakers merged into."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from anim400k.diarize import Turn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_diarize_real import breakdown, merged_voices, score  # noqa: E402


def test_missed_speaker_is_reported_with_the_voice_it_merged_into() -> None:
    ref = [Turn(0.0, 4.0, "a"), Turn(5.0, 9.0, "b"), Turn(10.0, 12.0, "c")]
    hyp = [Turn(0.0, 4.0, "x"), Turn(5.0, 12.0, "y")]  # c spoken by y, which is b
    s = score(ref, hyp, np.array([[0.0, 4.0], [5.0, 12.0]]))
    assert s["merged"] == ["c & b"]
    assert (s["n_ref"], s["n_hyp"], s["missed_spk"]) == (3, 2, 1)
    assert merged_voices(ref, ref, {"a": "a", "b": "b", "c": "c"}) == []
    # a missed speaker nobody's turns cover is not a merge
    assert merged_voices(ref, hyp[:1], {"x": "a"}) == []


def test_breakdown_splits_missed_and_false_alarm_by_cause() -> None:
    # a 0-4 s, b 3-7 s (1 s of overlap); the hypothesis labels one speaker in the overlap,
    # misses b's last second, pads a's start by 0.4 s and finds 1 s of speech far from any line
    ref = [Turn(0.0, 4.0, "a"), Turn(3.0, 7.0, "b")]
    hyp = [Turn(-0.4, 3.5, "x"), Turn(3.5, 6.0, "y"), Turn(12.0, 13.0, "y")]
    b = breakdown(ref, [Turn(max(0.0, t.start), t.end, t.speaker) for t in hyp[1:]] + [Turn(0.0, 3.5, "x")])
    assert abs(b["miss_overlap"] - 0.75) < 0.03  # 3.125-3.875 (the collars at 3.0 and 4.0 cut the rest)
    assert abs(b["miss_single"] - 0.875) < 0.03  # 6.0-6.875
    assert abs(b["fa_far"] - 1.0) < 0.03
    assert b["fa_pad"] == 0.0 and b["fa_extra"] == 0.0
    padded = breakdown(ref, hyp)
    assert abs(padded["fa_pad"] - 0.275) < 0.03  # -0.4 to -0.125 (the collar takes the rest)
    # labelling both speakers where only one talks is an extra-speaker false alarm
    extra = breakdown(ref, [*ref, Turn(1.0, 2.0, "b")])
    assert abs(extra["fa_extra"] - 1.0) < 0.03 and extra["miss_overlap"] == 0.0
