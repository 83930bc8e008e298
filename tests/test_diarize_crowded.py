"""Windows under two subtitle events at once (overlapped speech, most likely) left out of the count and the
clustering (``crowded_seconds``, :func:`anim400k.diarize.cue_windows.window_crowding`)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import cue_windows, subtitle_cues
from anim400k.diarize.embedded import EmbeddedDiarizer
from anim400k.errors import InputError


def _cue(start: float, end: float) -> subtitle_cues.Cue:
    return subtitle_cues.Cue(start, end, dash=False)


def test_window_crowding_counts_the_seconds_under_two_events() -> None:
    cues = [_cue(0.0, 2.0), _cue(1.0, 3.0), _cue(5.0, 6.0), _cue(5.5, 5.8), _cue(5.6, 5.7)]
    windows = np.array([[0.0, 1.5], [1.0, 2.5], [2.5, 4.0], [4.5, 6.0], [10.0, 11.5]])
    got = cue_windows.window_crowding(windows, cues)
    # 1-2 s under two events; 5.5-5.8 s under two or three (counted once)
    np.testing.assert_allclose(got, [0.5, 1.0, 0.0, 0.3, 0.0], atol=1e-9)


def test_window_crowding_without_two_events_is_zero() -> None:
    windows = np.array([[0.0, 1.5], [1.0, 2.5]])
    assert not cue_windows.window_crowding(windows, []).any()
    assert not cue_windows.window_crowding(windows, [_cue(0.0, 3.0)]).any()
    # events that touch but do not overlap
    assert not cue_windows.window_crowding(windows, [_cue(0.0, 1.2), _cue(1.2, 3.0)]).any()


def _two_voices_and_their_mixture(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """40 windows of voice A, 40 of voice B, then 14 windows that hold both (a vector like neither): the
    clustering of all of them finds a third speaker in the mixture."""
    rng = np.random.default_rng(seed)
    d = 64
    a, b = rng.normal(size=d), rng.normal(size=d)
    mix = (a + b) / 2 + 0.9 * rng.normal(size=d)

    def blob(centre: np.ndarray, n: int) -> np.ndarray:
        return centre + 0.35 * rng.normal(size=(n, d))

    emb = np.vstack([blob(a, 40), blob(b, 40), blob(mix, 14)]).astype(np.float32)
    n = len(emb)
    windows = np.stack([np.arange(n) * 1.5, np.arange(n) * 1.5 + 1.5], axis=1)
    crowded = np.r_[np.zeros(80), np.full(14, 1.5)]
    return emb, windows, np.full(n, np.nan), crowded


def test_crowded_windows_do_not_make_a_speaker_of_their_own() -> None:
    emb, windows, wpitch, crowded = _two_voices_and_their_mixture()
    plain = EmbeddedDiarizer(crowded_seconds=None)._cluster(emb, windows, wpitch, crowded=crowded)  # off: all windows
    assert plain.max() + 1 == 3
    labels = EmbeddedDiarizer()._cluster(emb, windows, wpitch, crowded=crowded)  # the default: 1.0 s
    assert EmbeddedDiarizer().config.crowded_seconds == 1.0
    assert labels.max() + 1 == 2
    assert len(set(labels[:40])) == 1 and len(set(labels[40:80])) == 1 and labels[0] != labels[40]
    assert set(labels[80:]) <= {labels[0], labels[40]}  # each mixture window takes one of the two voices


def test_too_few_clear_windows_cluster_them_all() -> None:
    emb, windows, wpitch, crowded = _two_voices_and_their_mixture()
    # 80 of 94 windows clear: under a 0.9 share they are all clustered together, as with the option off
    labels = EmbeddedDiarizer(crowded_seconds=1.0, crowded_min_share=0.9)._cluster(emb, windows, wpitch,
                                                                                   crowded=crowded)
    assert labels.max() + 1 == 3
    # no subtitles: nothing is crowded
    labels = EmbeddedDiarizer(crowded_seconds=1.0)._cluster(emb, windows, wpitch, crowded=np.zeros(len(emb)))
    assert labels.max() + 1 == 3


def test_a_cluster_of_partly_crowded_windows_is_left_out_and_the_rest_clustered_again() -> None:
    emb, windows, wpitch, crowded = _two_voices_and_their_mixture()
    crowded = np.where(crowded > 0, 0.8, 0.0)  # each under 1.0 s: the window rule keeps them all
    crowded[:40:5] = 0.8  # a few windows of a voice are crowded too (a line ending under the next one)
    plain = EmbeddedDiarizer(crowded_cluster_seconds=None)._cluster(emb, windows, wpitch, crowded=crowded)
    assert plain.max() + 1 == 3
    assert EmbeddedDiarizer().config.crowded_cluster_seconds == 0.7
    labels = EmbeddedDiarizer()._cluster(emb, windows, wpitch, crowded=crowded)  # the default
    assert labels.max() + 1 == 2
    assert len(set(labels[:40])) == 1 and len(set(labels[40:80])) == 1 and labels[0] != labels[40]
    # the rule needs the window rule on (crowded_seconds), and a cluster under the threshold stays
    assert EmbeddedDiarizer(crowded_seconds=None)._cluster(emb, windows, wpitch, crowded=crowded).max() + 1 == 3
    assert EmbeddedDiarizer(crowded_cluster_seconds=0.9)._cluster(emb, windows, wpitch,
                                                                  crowded=crowded).max() + 1 == 3


@pytest.mark.parametrize("options", [{"crowded_seconds": 0.0}, {"crowded_seconds": -1.0},
                                     {"crowded_min_share": 1.5}, {"crowded_min_share": -0.1},
                                     {"crowded_cluster_seconds": 0.0}])
def test_crowded_options_are_checked(options: dict) -> None:
    with pytest.raises(InputError, match="crowded"):
        EmbeddedDiarizer(**options)


def test_an_srt_with_two_lines_on_screen_gives_crowded_windows_and_a_dash_event_does_not(tmp_path) -> None:
    from anim400k.formats.subtitles import read_subtitles

    srt = tmp_path / "ep.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:04,000\nWhere are you going?\n\n"
                   "2\n00:00:02,500 --> 00:00:05,000\nWait for me!\n\n"
                   "3\n00:00:06,000 --> 00:00:07,000\n- Really?\n- Yes.\n", encoding="utf-8")
    cues = subtitle_cues.cues_from_subtitles(read_subtitles(srt))
    got = cue_windows.window_crowding(np.array([[2.0, 3.5], [3.5, 5.0], [5.9, 7.0]]), cues)
    np.testing.assert_allclose(got, [1.0, 0.5, 0.0], atol=1e-9)


def test_window_crowding_reads_only_the_windows_span() -> None:
    # an event running to 1e7 s (a malformed file's last line) costs nothing and still counts inside the windows
    cues = [_cue(0.0, 1e7), _cue(1.0, 2.0), _cue(-5.0, 0.5)]
    got = cue_windows.window_crowding(np.array([[0.0, 1.5], [1.5, 3.0]]), cues)
    np.testing.assert_allclose(got, [1.0, 0.5], atol=1e-9)


def test_window_straddle_is_the_second_events_cover() -> None:
    cues = [_cue(0.0, 2.0), _cue(2.2, 4.0), _cue(10.0, 20.0)]
    windows = np.array([[0.0, 1.5], [1.2, 2.7], [1.5, 3.0], [2.5, 4.0], [9.0, 10.5], [3.8, 10.2]])
    got = cue_windows.window_straddle(windows, cues, chunk=2)  # chunks of 2 windows: the same as one pass
    np.testing.assert_allclose(got, [0.0, 0.5, 0.5, 0.0, 0.0, 0.2], atol=1e-9)
    np.testing.assert_allclose(cue_windows.window_straddle(windows, cues), got)
    assert not cue_windows.window_straddle(windows, cues[:1]).any()  # one event: nothing to straddle


def test_straddled_windows_are_left_out_of_the_clustering() -> None:
    emb, windows, wpitch, _ = _two_voices_and_their_mixture()
    straddled = np.r_[np.zeros(80), np.full(14, 1.2)]  # the mixture windows sit across a change of line
    crowded = np.zeros(len(emb))
    window_rule_only = {"straddle_cluster_seconds": None}  # (the cluster rule, when on, would also take them out)
    plain = EmbeddedDiarizer(straddle_seconds=None, **window_rule_only)._cluster(emb, windows, wpitch,
                                                                                 crowded=crowded, straddled=straddled)
    assert plain.max() + 1 == 3
    assert EmbeddedDiarizer().config.straddle_seconds is None  # off by default (docs/diarization.md)
    labels = EmbeddedDiarizer(straddle_seconds=1.0)._cluster(emb, windows, wpitch, crowded=crowded,
                                                             straddled=straddled)
    assert labels.max() + 1 == 2
    assert set(labels[80:]) <= {labels[0], labels[40]}
    # under the threshold they stay in
    assert EmbeddedDiarizer(straddle_seconds=1.3, **window_rule_only)._cluster(
        emb, windows, wpitch, crowded=crowded, straddled=straddled).max() + 1 == 3


def test_straddle_seconds_is_checked() -> None:
    with pytest.raises(InputError, match="straddle_seconds"):
        EmbeddedDiarizer(straddle_seconds=0.0)


def test_a_cluster_of_windows_across_changes_of_line_is_left_out_and_the_rest_clustered_again() -> None:
    emb, windows, wpitch, _ = _two_voices_and_their_mixture()
    crowded = np.zeros(len(emb))
    straddled = np.r_[np.zeros(80), np.full(14, 0.8)]  # each under straddle_seconds (1.0): the window rule keeps them
    straddled[:40:5] = 0.8  # a few of a voice's windows are across a change of line too
    off = EmbeddedDiarizer(straddle_cluster_seconds=None)
    assert off._cluster(emb, windows, wpitch, crowded=crowded, straddled=straddled).max() + 1 == 3
    labels = EmbeddedDiarizer(straddle_cluster_seconds=0.7, bad_cluster_dissolve=False)._cluster(
        emb, windows, wpitch, crowded=crowded, straddled=straddled)
    assert labels.max() + 1 == 2
    assert len(set(labels[:40])) == 1 and len(set(labels[40:80])) == 1 and labels[0] != labels[40]
    assert EmbeddedDiarizer(straddle_cluster_seconds=0.9)._cluster(emb, windows, wpitch, crowded=crowded,
                                                                   straddled=straddled).max() + 1 == 3


@pytest.mark.parametrize("dissolve", [False, True])
def test_a_cluster_of_lines_across_changes_can_be_dissolved_without_clustering_again(dissolve, monkeypatch) -> None:
    """``bad_cluster_dissolve`` gives such a cluster's windows to the other clusters (the most alike) instead of
    clustering the rest again, which can move the count (docs/diarization.md, *Windows across a change of line*)."""
    from anim400k.diarize import embedded_cluster

    calls = []
    real = embedded_cluster.cluster_all
    monkeypatch.setattr(embedded_cluster, "cluster_all", lambda *a, **k: calls.append(1) or real(*a, **k))
    emb, windows, wpitch, _ = _two_voices_and_their_mixture()
    straddled = np.r_[np.zeros(80), np.full(14, 0.9)]
    d = EmbeddedDiarizer(straddle_cluster_seconds=0.8, bad_cluster_dissolve=dissolve)
    labels = d._cluster(emb, windows, wpitch, crowded=np.zeros(len(emb)), straddled=straddled)
    assert labels.max() + 1 == 2
    assert len(set(labels[:40])) == 1 and len(set(labels[40:80])) == 1 and labels[0] != labels[40]
    assert set(labels[80:]) <= {labels[0], labels[40]}
    assert len(calls) == (1 if dissolve else 2)
    # a count given stands: the others are clustered again at it (dissolving made ep914 of an outside tester, 6
    # characters with --num-speakers 6, 5 speakers)
    fixed = EmbeddedDiarizer(num_speakers=3, straddle_cluster_seconds=0.8, bad_cluster_dissolve=dissolve)
    assert fixed._cluster(emb, windows, wpitch, crowded=np.zeros(len(emb)), straddled=straddled).max() + 1 == 3
    # ... and so does a floor (min_speakers 3: a regression tester's seed 504 gave 2)
    floor = EmbeddedDiarizer(min_speakers=3, straddle_cluster_seconds=0.8, bad_cluster_dissolve=dissolve)
    assert floor._cluster(emb, windows, wpitch, crowded=np.zeros(len(emb)), straddled=straddled).max() + 1 == 3
    cfg = EmbeddedDiarizer().config
    assert (cfg.straddle_cluster_seconds, cfg.bad_cluster_dissolve) == (0.8, True)  # the defaults since 2026-12-08


def test_straddle_cluster_seconds_is_checked() -> None:
    with pytest.raises(InputError, match="straddle_cluster_seconds"):
        EmbeddedDiarizer(straddle_cluster_seconds=-1.0)


@pytest.mark.parametrize(("options", "message"), [
    ({"split_other_same_actor": "0.9"}, "split_other_same_actor must be a number or None, got '0.9'"),
    ({"small_pitch_gap_override": "high"}, "small_pitch_gap_override must be a number or None"),
    ({"both_views_pitch_override": [0.9]}, "both_views_pitch_override must be a number or None"),
    ({"straddle_cluster_seconds": "0.8"}, "straddle_cluster_seconds must be a number or None"),
    ({"split_other_max": True}, "split_other_max must be a number or None"),
    ({"bad_cluster_dissolve": "no"}, "bad_cluster_dissolve must be true or false, got 'no'"),
    ({"bad_cluster_dissolve": None}, "bad_cluster_dissolve must be true or false"),
])
def test_options_of_the_wrong_type_are_one_clear_error(options: dict, message: str) -> None:
    """A string or a list failed in a comparison with a bare TypeError naming no option, and ``"no"`` switched
    ``bad_cluster_dissolve`` on (a regression tester, 2026-12-08)."""
    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        EmbeddedDiarizer(**options)
    EmbeddedDiarizer(**{k: None if k != "bad_cluster_dissolve" else False for k in options})  # the off values
