"""Dash events as speaker cues (``diarize/cue_dashes.py``, ``cue_dash_split.py``, ``cue_dash_relabel.py``: two
speakers in one subtitle event, in order)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import Turn, cue_dash_relabel, cue_dash_split, cue_dashes
from anim400k.diarize import subtitle_cues as sc
from anim400k.errors import InputError


def test_dash_shares_count_each_speakers_characters() -> None:
    assert sc.dash_shares("- No.\n- Yes, it is.") == (0.25,)  # 3 and 9 characters, spaces left out
    assert sc.dash_shares("No.\n- Yes, it is.") == (0.25,)  # the first dash left out
    assert sc.dash_shares("- No. - Yes, it is.") == (0.25,)  # line breaks made spaces by the readers
    assert sc.dash_shares("- Ab\ncd\n- Abcd\\N- Abcdefgh") == (0.25, 0.5)  # a broken line, an ASS break
    assert sc.dash_shares("Not a dash event.") == () and sc.dash_shares("- One dashed line.") == ()
    cues = sc.cues_from_subtitles([(0.0, 1.0, "One."), (1.0, 3.0, "- No.\n- Yes, it is.")])
    assert [c.shares for c in cues] == [(), (0.25,)]


def test_dash_bounds_split_at_the_pause_nearest_the_share() -> None:
    cue = sc.Cue(1.0, 5.0, True, None, (0.5,))
    # speech 1.0-2.0, 2.2-2.6, 3.0-4.4 (3.2 s): half of it is reached at 3.0; the pause 2.6-3.0 is nearest
    regions = np.array([[0.0, 0.5], [1.0, 2.0], [2.2, 2.6], [3.0, 4.4], [5.5, 6.0]])
    assert cue_dashes.dash_bounds(cue, regions) == [(1.0, 2.6), (3.0, 5.0)]
    # the characters' share moves the point: a fifth of the speech is reached at 1.64, nearest pause 2.0-2.2
    assert cue_dashes.dash_bounds(sc.Cue(1.0, 5.0, True, None, (0.2,)), regions) == [(1.0, 2.0), (2.2, 5.0)]
    # no pause inside the event: at the point itself (speech clipped to the event: 1.0-4.5, half at 2.75)
    assert cue_dashes.dash_bounds(cue, np.array([[0.5, 4.5]])) == [(1.0, 2.75), (2.75, 5.0)]
    # three speakers: each boundary at its own pause, in order
    three = sc.Cue(1.0, 5.0, True, None, (0.3, 0.6))
    assert cue_dashes.dash_bounds(three, regions) == [(1.0, 2.0), (2.2, 2.6), (3.0, 5.0)]
    # no speech in the event, or a one-speaker event: no parts
    assert cue_dashes.dash_bounds(cue, np.array([[6.0, 7.0]])) is None
    assert cue_dashes.dash_bounds(sc.Cue(1.0, 5.0, False), regions) is None


def test_windows_of_dash_parts_with_margins() -> None:
    cues = [sc.Cue(0.0, 1.0, False), sc.Cue(1.0, 5.0, True, None, (0.5,))]
    regions = np.array([[1.0, 2.0], [2.2, 2.6], [3.0, 4.4]])  # split at the pause 2.6-3.0
    windows = np.array([[1.0, 2.0], [2.2, 2.6], [3.0, 4.4], [0.75, 1.8], [0.6, 1.8], [2.85, 4.0], [2.75, 4.0],
                        [4.0, 5.25], [4.0, 5.5]])
    event, part = cue_dashes.window_dash_parts(windows, cues, regions, margin=0.2)
    # 0.25 s before the event's start or past its end: within the 0.3 s slack; 0.4 or 0.5 s: no part.
    # 0.15 s before part 2's start (3.0): part 2 (margin 0.2 s); 0.25 s before it: neither part
    assert part.tolist() == [0, 0, 1, 0, -1, 1, -1, 1, -1]
    assert event.tolist() == [1 if p >= 0 else -1 for p in part.tolist()]  # the one-speaker event has no parts
    # a negative margin: windows must stay that far inside the boundary (2.6 | 3.0), the event's edges keep their slack
    _, strict = cue_dashes.window_dash_parts(windows, cues, regions, margin=-0.3)
    assert strict.tolist() == [0, -1, -1, 0, -1, -1, -1, 1, -1]
    # no pause (the point: 3.0): windows crossing it by more than the margin belong to neither part
    e2, p2 = cue_dashes.window_dash_parts(np.array([[1.0, 2.5], [1.6, 3.15], [1.75, 3.25], [2.85, 4.35], [2.7, 4.2]]),
                                          [sc.Cue(1.0, 5.0, True, None, (0.5,))], np.array([[1.0, 5.0]]), margin=0.2)
    assert p2.tolist() == [0, 0, -1, 1, -1] and e2.tolist() == [0, 0, -1, 0, -1]


def test_dash_apart_matrix() -> None:
    event = np.array([0, 0, 0, -1, 2, 2])
    part = np.array([0, 1, 1, -1, 0, 0])
    m = cue_dashes.dash_apart(event, part, 0.3)
    expect = np.zeros((6, 6))
    for i, j in ((0, 1), (0, 2)):
        expect[i, j] = expect[j, i] = -0.3
    assert np.array_equal(m, expect)  # one part's windows, other events and windows of no event: 0
    assert cue_dashes.dash_apart(event, part, 0.0) is None
    assert cue_dashes.dash_apart(np.array([2, 2, -1]), np.array([0, 0, -1]), 0.3) is None  # one part only


def _two_voices(rng: np.random.Generator, n: int, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Window vectors of two voices whose centres are ``gap`` apart (plus a third, distant speaker so that
    centring over the episode keeps both apart from the mean), and each window's true voice."""
    d = 16
    base = rng.normal(size=(3, d))
    centres = np.stack([base[0], base[0] + gap * base[1], base[2]])
    voice = np.repeat([0, 1, 2], n)
    return centres[voice] + 0.3 * rng.normal(size=(3 * n, d)), voice


def test_split_by_dashes_cuts_a_cluster_holding_two_parts() -> None:
    rng = np.random.default_rng(0)
    emb, voice = _two_voices(rng, 30, 1.0)
    labels = np.where(voice == 2, 1, 0)  # the two close voices merged into one cluster
    event = np.full(len(emb), -1)
    part = np.full(len(emb), -1)
    event[[3, 35]] = 0  # a dash event: voice 0 then voice 1
    part[[3, 35]] = [0, 1]
    out = cue_dash_split.split_by_dashes(emb, labels, event, part, max_cos=0.7, max_speakers=8)
    assert len(np.unique(out)) == 3
    for v in (0, 1):  # each voice in one of the two halves
        assert len(np.unique(out[voice == v])) == 1
    assert out[3] != out[35]
    # without a dash event in the cluster, or with the halves' cosine over the limit, nothing is cut
    assert np.array_equal(cue_dash_split.split_by_dashes(emb, labels, np.full(len(emb), -1), part, 0.7, 8), labels)
    assert np.array_equal(cue_dash_split.split_by_dashes(emb, labels, event, part, max_cos=-1.0, max_speakers=8),
                          labels)
    assert np.array_equal(cue_dash_split.split_by_dashes(emb, labels, event, part, 0.7, max_speakers=2), labels)
    # one voice only: the dash parts (a short line given to the wrong speaker) land on one half, no cut
    one = np.where(voice == 1, 0, voice)
    emb1 = emb.copy()
    emb1[voice == 1] = emb[voice == 0] + 0.01 * rng.normal(size=(30, emb.shape[1]))
    cut = list(cue_dash_split.dash_split_cuts(emb1, np.where(one == 2, 1, 0), event, part))
    assert len(cut) == 1 and cut[0][3] > 0.7  # the halves of one voice are alike
    assert np.array_equal(cue_dash_split.split_by_dashes(emb1, np.where(one == 2, 1, 0), event, part, 0.7, 8),
                          np.where(one == 2, 1, 0))


def test_dash_relabel_gives_the_shorter_part_to_the_best_other_speaker() -> None:
    cues = [sc.Cue(1.0, 4.0, True, None, (0.7,))]
    regions = np.array([[1.0, 2.8], [3.0, 3.6]])  # part 1: 1.0-2.8, part 2: 3.0-3.6 (the shorter)
    turns = [Turn(0.0, 1.0, "c1"), Turn(1.0, 3.6, "c0")]
    windows = np.array([[1.0, 2.5], [1.3, 2.8], [3.0, 3.6]])
    wscores = np.array([[0.9, 0.1, 0.3], [0.8, 0.2, 0.2], [0.6, 0.1, 0.5]])  # c0 best everywhere; c2 next at 3.0
    out = cue_dash_relabel.dash_relabel(turns, cues, regions, windows, wscores)
    assert out == [Turn(0.0, 1.0, "c1"), Turn(1.0, 3.0, "c0"), Turn(3.0, 3.6, "c2")]
    assert out[-1].confidence == 0.0
    # parts already given to two speakers: unchanged
    two = [Turn(1.0, 2.9, "c0"), Turn(2.9, 3.6, "c1")]
    assert cue_dash_relabel.dash_relabel(two, cues, regions, windows, wscores) == two
    # one speaker only: nobody to give the part to
    assert cue_dash_relabel.dash_relabel(turns, cues, regions, windows, wscores[:, :1]) == turns


def test_bad_dash_options() -> None:
    from anim400k.diarize import get_diarizer

    with pytest.raises(InputError, match="subtitle_dash_apart"):
        get_diarizer("embedded", subtitle_dash_apart=-0.1)


def test_dash_options_off_by_default_leave_the_turns_as_without_dash_parts(monkeypatch) -> None:
    """By default (``subtitle_dash_apart`` 0, ``subtitle_dash_split`` None, ``subtitle_dash_relabel`` False) the
    dash parts found in the subtitles change nothing: the turns equal those with no window in any dash part; and
    the default count method is NME's eigengap count exactly."""
    from anim400k.diarize import clustering, count, get_diarizer
    from anim400k.diarize.embedded import EmbeddedDiarizer
    from anim400k.diarize.embedded_cluster import count_speakers
    from anim400k.synth.phrases import PHRASES
    from anim400k.synth.speech import Voice, render

    sr = 16000
    voices = (Voice("ja+m3", 40, 150), Voice("ja+f2", 70, 170))
    audio, t, subs = np.zeros(20 * sr, np.float32), 0.3, []
    for i in range(6):
        a = render(PHRASES[i][0], voices[i % 2], sr=sr)
        audio[int(t * sr): int(t * sr) + len(a)] += a
        if i % 2 == 0:
            start = t
        else:  # each pair of lines one dash event: two speakers
            subs.append((start, t + len(a) / sr, "- Ohayou.\n- Konnichiwa."))
        t += len(a) / sr + 0.3
    audio = audio[: int((t + 0.3) * sr)]
    d = get_diarizer("embedded")
    assert (d.config.subtitle_dash_apart, d.config.subtitle_dash_split, d.config.subtitle_dash_relabel) == (
        0.0, None, False)
    seen = []
    real = cue_dashes.window_dash_parts

    def spying(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(int((out[0] >= 0).sum()))
        return out

    monkeypatch.setattr(cue_dashes, "window_dash_parts", spying)
    with_parts = d.diarize(audio, sr, subtitles=subs)
    assert seen and seen[0] > 0  # the premise: windows lie in dash parts

    def none(windows, *args, **kwargs):
        return np.full(len(windows), -1), np.full(len(windows), -1)

    def scrambled(windows, *args, **kwargs):  # every window in one dash event, in parts alternating
        return np.zeros(len(windows), dtype=int), np.arange(len(windows)) % 2

    for parts in (none, scrambled):
        monkeypatch.setattr(cue_dashes, "window_dash_parts", parts)
        assert d.diarize(audio, sr, subtitles=subs) == with_parts
    rng = np.random.default_rng(5)
    x = clustering.l2_normalize(rng.standard_normal((40, 8)))
    aff = np.clip(x @ x.T, 0, None)
    nme = int(clustering.nme_spectral(aff, None, 1, 8).max()) + 1
    assert count_speakers(EmbeddedDiarizer().config, aff, 1, 8) == nme
    assert count.estimate_count(aff, 1, 8) == count.eigengap_count(aff, 1, 8)
