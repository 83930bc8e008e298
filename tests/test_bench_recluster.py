"""The re-clustering experiments of the diarization tuning harness (``benchmarks/_recluster.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from anim400k.diarize import Turn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from _recluster import accuracy, line_segments, vbx, wccn  # noqa: E402


def _windows(n: int) -> np.ndarray:
    starts = 0.5 * np.arange(n)
    return np.stack([starts, starts + 1.5], axis=1)


def test_window_accuracy_maps_clusters_and_skips_mixed_windows() -> None:
    w = _windows(20)  # 0-11 s
    ref = [Turn(0.0, 5.0, "a"), Turn(5.0, 11.0, "b")]
    truth = (w[:, 0] + 0.75 >= 5.0).astype(int)
    acc, n = accuracy(w, 1 - truth, ref)  # swapped names are still right
    assert acc == 1.0 and 0 < n < 20  # the windows straddling 5 s are left out
    wrong = 1 - truth
    wrong[0] = truth[0]
    assert abs(accuracy(w, wrong, ref)[0] - (n - 1) / n) < 1e-9


def test_line_segments_cut_at_label_changes_pauses_and_length() -> None:
    w = np.array([[0.0, 1.5], [0.5, 2.0], [1.0, 2.5], [3.0, 4.5], [3.5, 5.0], [4.0, 5.5]])
    assert line_segments(w, np.array([0, 0, 1, 1, 1, 1]), max_len=None).tolist() == [0, 0, 1, 2, 2, 2]
    assert line_segments(w, np.zeros(6, int), max_len=2.0).tolist() == [0, 0, 1, 2, 2, 3]


def test_vbx_corrects_wrong_first_pass_labels() -> None:
    rng = np.random.default_rng(0)
    truth = np.repeat([0, 1, 0, 1], 40)  # two speakers taking turns
    centres = rng.normal(size=(2, 16)) * 1.5
    emb = centres[truth] + rng.normal(size=(len(truth), 16))
    first = truth.copy()
    flip = rng.choice(len(truth), 30, replace=False)
    first[flip] = 1 - first[flip]  # a noisy first pass
    out = vbx(emb, first, None, np.full(len(truth), np.nan), loop=0.8, fa=0.3)
    agree = max(np.mean(out == truth), np.mean(out == 1 - truth))
    assert agree > 0.97 > np.mean(first == truth)


def test_wccn_whitens_the_within_cluster_spread() -> None:
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1, 2], 50)
    x = rng.normal(size=(3, 8))[labels] * 3 + rng.normal(size=(150, 8)) * np.array([5, 1, 1, 1, 1, 1, 1, 0.2])
    z = wccn(x, labels, np.ones(150, bool), pca=8, reg=0.0)
    resid = z - np.stack([z[labels == i].mean(axis=0) for i in range(3)])[labels]
    cov = resid.T @ resid / (150 - 3)
    assert np.allclose(cov, np.eye(8), atol=1e-6)


def test_two_voices_needs_a_second_speaker_with_enough_clean_windows() -> None:
    from _recluster import two_voices

    w = _windows(40)  # 0-21 s
    ref = [Turn(0.0, 16.0, "a"), Turn(16.0, 21.0, "b")]
    everything = np.arange(40)
    assert two_voices(w, everything, ref)  # b: 7 clean windows of 37
    assert not two_voices(w, everything[:34], ref)  # b: 1 clean window
    assert not two_voices(w, everything, ref, min_share=0.3)


def test_half_scores_and_split_by_sum_agree_with_the_diarizer_split() -> None:
    from _recluster import half_scores, split_by_sum

    from anim400k.diarize.views import OtherView, split_by_other

    rng = np.random.default_rng(5)
    truth = np.repeat([0, 1, 2], [30, 20, 20])
    jp = rng.normal(size=(3, 16))
    jp[2] = jp[1] + 0.8 * rng.normal(size=16)
    emb = jp[truth] + 0.3 * rng.normal(size=(70, 16))
    found = np.minimum(truth, 1)
    en = rng.normal(size=(3, 16))
    view = OtherView((en[truth] + 0.3 * rng.normal(size=(70, 16))).astype(np.float32), np.full(70, np.nan),
                     np.zeros(0), np.ones(70, bool))
    scores = {c: s for c, _, _, s in half_scores(emb, found, view)}
    assert scores[1] < 0.5 < scores[0]  # the shared cluster scores low, the one-voice one high
    for t in (scores[1] - 0.01, scores[1] + 0.01, 0.5):
        ours = split_by_other(emb, found, view, t, 8, jp_weight=1.0)
        assert np.array_equal(split_by_sum(emb, found, view, t, 8), ours)
    assert len(np.unique(split_by_sum(emb, found, view, 0.5, 8))) == 3
    assert half_scores(emb, found, None) == []


def test_segment_labels_merge_as_the_diarizer_does_with_pitch_gap_override() -> None:
    """The line-level re-clustering merges "as in the diarizer": it ignored ``pitch_gap_override``, so a tuning
    run of the option with ``_recluster: segments`` measured the veto it was meant to lift."""
    from _recluster import segment_labels

    from anim400k.diarize.embedded_config import EmbeddedConfig

    rng = np.random.default_rng(0)
    voice = rng.normal(size=16)
    voice /= np.linalg.norm(voice)
    other = rng.normal(size=16)
    other -= (other @ voice) * voice
    other /= np.linalg.norm(other)
    raw = np.vstack([voice + 0.05 * rng.normal(size=(40, 16)), other + 0.05 * rng.normal(size=(20, 16))])
    labels = np.repeat([0, 1, 2], 20)  # one voice at two pitches 0.3 octave apart, and another voice
    pitch = np.concatenate([np.full(20, 7.0), np.full(20, 7.3), np.full(20, 7.0)])
    w = _windows(60)
    kept = segment_labels(EmbeddedConfig(), raw, w, pitch, None, raw, labels)
    assert len(np.unique(kept)) == 3  # the pitch gap keeps the one voice's two clusters apart
    merged = segment_labels(EmbeddedConfig(pitch_gap_override=0.95), raw, w, pitch, None, raw, labels)
    assert len(np.unique(merged)) == 2 and len(np.unique(merged[:40])) == 1 and merged[40] != merged[0]
