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


def _fake_bank(takes: int) -> dict[str, list[np.ndarray]]:
    """Six voices of ``takes`` distinct noise bursts (0.4-2.4 s), standing in for the Kokoro bank."""
    rng = np.random.default_rng(0)
    voices = ("a", "b", "c", "d", "e", "f")
    return {v: [0.1 * rng.standard_normal(int(16000 * rng.uniform(0.4, 2.4))).astype(np.float32)
                for _ in range(takes)] for v in voices}


def test_dealt_episode_never_repeats_a_take_on_a_track_while_the_voice_has_takes_left() -> None:
    from bench_diarize_real import compose_episode, repeated_takes

    bank = _fake_bank(60)
    for seed in (1000, 1005):  # 2-character episodes of 90 s, as the benchmark's seeds 0 and 5
        takes: list = []
        _, _, turns, _ = compose_episode(bank, seed, 2, 90.0, deal=True, takes=takes)
        assert len(takes) == 2 * len(turns) > 40
        assert len(set(takes)) == len(takes)  # no (track, voice, take) twice
        assert repeated_takes(takes) == 0
    # drawn at random (bank v1's way) the same episode repeats takes, and repeated_takes counts them
    takes = []
    compose_episode(_fake_bank(14), 1000, 2, 90.0, takes=takes)
    jp = [(v, k) for tr, v, k in takes if tr == "jp"]
    assert repeated_takes(takes) == len(jp) - len(set(jp)) > 0


def test_dealt_deck_is_reshuffled_when_a_voice_runs_out() -> None:
    from bench_diarize_real import compose_episode

    takes: list = []
    compose_episode(_fake_bank(3), 1000, 2, 30.0, deal=True, takes=takes)
    for track, voice in {(tr, v) for tr, v, _ in takes}:
        used = [k for tr, v, k in takes if (tr, v) == (track, voice)]
        for start in range(0, len(used) - 2, 3):  # each full deck of 3 uses every take once
            assert sorted(used[start : start + 3]) == [0, 1, 2]


def test_voice_bank_v2_has_sixty_distinct_texts_per_voice_and_v1_is_unchanged() -> None:
    import _voice_bank as vb

    v2 = vb.bank_texts("v2")
    assert set(v2) == set(vb.VOICES)
    for takes in v2.values():
        texts = [t for t, _ in takes]
        assert len(texts) == len(set(texts)) == 60
        assert all(0.9 <= s <= 1.15 for _, s in takes)
    assert len({s for takes in v2.values() for _, s in takes}) == 6 * 60  # each take its own speed
    v1 = vb.bank_texts("v1")
    assert all(len(t) == 14 for t in v1.values())
    # the original generator's draws (seed 2026: texts, then speeds), which the cached v1 bank holds
    assert v1["jf_alpha"][:2] == [("はい。", v1["jf_alpha"][0][1]), ("ちょっと！", v1["jf_alpha"][1][1])]
    assert round(v1["jf_alpha"][0][1], 6) == 1.088183
    assert vb.cache_file("v2").name == "diarize_voice_bank_v2.npz" != vb.cache_file().name
    try:
        vb.bank_texts("v3")
    except ValueError as e:
        assert "v3" in str(e)
    else:
        raise AssertionError("unknown version accepted")


def test_release_clips_merge_lines_as_the_aligner_does() -> None:
    from bench_diarize_real import release_clips

    # JP a 0-2 s and b 1.8-3 s (b over the end of a), c 3.5-5 s whose EN line runs to 6.1 s, d at
    # 6.2 s (within 125 ms of that EN end), e at 8 s alone
    jp = [Turn(0.0, 2.0, "a"), Turn(1.8, 3.0, "b"), Turn(3.5, 5.0, "c"), Turn(6.2, 7.0, "d"), Turn(8.0, 9.0, "e")]
    en = [(0.0, 1.9), (1.8, 2.9), (3.5, 6.1), (6.2, 6.9), (8.0, 8.8)]
    assert release_clips(jp, en).tolist() == [[0.0, 3.0], [3.5, 7.0], [8.0, 9.0]]
    # scored on those clips, a hypothesis that misses b is wrong on the first clip only
    hyp = [Turn(0.0, 3.0, "x"), Turn(3.5, 5.0, "y"), Turn(6.2, 7.0, "z"), Turn(8.0, 9.0, "w")]
    s = score(jp, hyp, np.array([[0.0, 2.0], [1.8, 3.0]]), release_clips(jp, en))
    assert (s["rclips"], s["rclips_ok"], s["rmulti"], s["rmulti_ok"]) == (3, 2.0, 2, 1.0)


def test_composed_episode_reports_its_en_lines() -> None:
    from bench_diarize_real import compose_episode, release_clips

    en_lines: list = []
    _, _, turns, runs = compose_episode(_fake_bank(60), 1000, 3, 60.0, deal=True, en_lines=en_lines)
    assert len(en_lines) == len(turns)
    assert [s for s, _ in en_lines] == sorted(t.start for t in turns)
    rel = release_clips(turns, en_lines)
    assert len(rel) <= len(turns) and np.all(np.diff(rel[:, 0]) > 0)
    assert rel[0, 0] == runs[0, 0]


def test_fitted_en_lines_keep_the_jp_track_and_fit_their_slots() -> None:
    """``fit_en``: the same JP track and reference, EN takes nearer their JP lines' lengths, starts within 0.2 s."""
    from bench_diarize_real import FIT_JITTER, compose_episode

    bank = _fake_bank(60)
    plain_lines: list = []
    fit_lines: list = []
    mix, en_plain, turns, runs = compose_episode(bank, 1003, 4, 60.0, deal=True, en_lines=plain_lines)
    mix2, en_fit, turns2, runs2 = compose_episode(bank, 1003, 4, 60.0, deal=True, en_lines=fit_lines, fit_en=True)
    assert turns2 == turns and np.array_equal(runs2, runs) and np.array_equal(mix2, mix)
    jp_speech = [t.end - t.start for t in sorted(turns)]  # the JP track's lines are the same ones
    assert not np.array_equal(en_fit, en_plain)
    starts = np.array([s for s, _ in fit_lines]) - np.array(sorted(t.start for t in turns))
    assert np.all(np.abs(starts) <= FIT_JITTER + 1e-3) and np.any(np.abs(starts) > 0.01)
    misfit_plain = np.mean([abs((e - s) - d) for (s, e), d in zip(plain_lines, jp_speech, strict=True)])
    misfit_fit = np.mean([abs((e - s) - d) for (s, e), d in zip(fit_lines, jp_speech, strict=True)])
    assert misfit_fit < 0.5 * misfit_plain
