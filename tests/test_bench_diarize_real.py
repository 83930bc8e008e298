"""The realistic-voice diarization benchmark's scoring: which voices the missed speakers merged into."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from anim400k.diarize import Turn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_diarize_real import merged_voices, score  # noqa: E402


def test_missed_speaker_is_reported_with_the_voice_it_merged_into() -> None:
    ref = [Turn(0.0, 4.0, "a"), Turn(5.0, 9.0, "b"), Turn(10.0, 12.0, "c")]
    hyp = [Turn(0.0, 4.0, "x"), Turn(5.0, 12.0, "y")]  # c spoken by y, which is b
    s = score(ref, hyp, np.array([[0.0, 4.0], [5.0, 12.0]]))
    assert s["merged"] == ["c & b"]
    assert (s["n_ref"], s["n_hyp"], s["missed_spk"]) == (3, 2, 1)
    assert merged_voices(ref, ref, {"a": "a", "b": "b", "c": "c"}) == []
    # a missed speaker nobody's turns cover is not a merge
    assert merged_voices(ref, hyp[:1], {"x": "a"}) == []
