"""Speaker count from the JP view as well as the combined one, and the windows' re-assignment."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize.clustering import merge_centred, nme_spectral, reassign
from anim400k.diarize.embedded import EmbeddedDiarizer
from anim400k.diarize.views import joint_count, view_counts
from anim400k.errors import InputError


def _voices(rng: np.random.Generator, labels: np.ndarray, spread: float, dim: int = 32) -> np.ndarray:
    centres = rng.normal(size=(int(labels.max()) + 1, dim))
    return centres[labels] + spread * rng.normal(size=(len(labels), dim))


def _affinity(labels: np.ndarray, seed: int) -> np.ndarray:
    x = _voices(np.random.default_rng(seed), labels, 0.3)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x @ x.T


def test_joint_count_keeps_a_character_the_en_view_merges():
    truth = np.repeat([0, 1, 2], [30, 12, 12])
    jp = _affinity(truth, 0)
    en = _affinity(np.minimum(truth, 1), 1)  # characters 1 and 2 have one EN voice
    combined = 0.5 * jp + 0.5 * en
    noise = np.random.default_rng(2).normal(scale=0.1, size=jp.shape)
    blurred = 0.05 * jp + en + noise + noise.T  # a noisy EN view dominates: it hides character 2
    assert nme_spectral(blurred).max() + 1 == 2
    assert joint_count(blurred, jp) == 3
    assert joint_count(combined, jp) == 3
    assert joint_count(en, en) == 2  # no speaker invented when neither view separates them
    assert joint_count(jp, jp, max_speakers=2) == 2


def test_view_counts_are_the_two_eigengap_counts():
    truth = np.repeat([0, 1, 2], [30, 12, 12])
    jp = _affinity(truth, 0)
    en = _affinity(np.minimum(truth, 1), 1)
    assert view_counts(en, jp) == (2, 3)
    assert view_counts(jp, en) == (3, 2)
    assert joint_count(en, jp) == max(view_counts(en, jp))


def test_merge_centred_merges_a_split_voice_down_to_the_floor():
    rng = np.random.default_rng(4)
    truth = np.repeat([0, 1, 2], [40, 30, 30])
    x = _voices(rng, truth, 0.3)
    split = truth.copy()
    split[20:40] = 3  # voice 0 in two clusters
    out = merge_centred(x, split, 0.7)
    assert np.array_equal(out, truth)  # the halves merge back (renumbered 0..k-1), the voices stay apart
    assert np.array_equal(merge_centred(x, split, 0.7, floor=4), split)  # never below the floor
    assert np.array_equal(merge_centred(x, split, 0.999), split)  # nothing that alike
    # two voices that are one in these vectors merge, most alike first, down to the floor
    one = _voices(rng, np.minimum(truth, 1), 0.3)
    assert merge_centred(one, truth, 0.7).max() + 1 == 2
    assert merge_centred(one, split, 0.7, floor=3).max() + 1 == 3
    tiny = split.copy()
    tiny[38:40] = 4  # two windows: no reliable centroid, left alone
    kept = merge_centred(x, tiny, 0.7)
    assert kept.max() + 1 == 4 and len(set(kept[38:40])) == 1 and kept[38] not in set(kept[:38])


def test_confirm_similarity_option():
    assert EmbeddedDiarizer().config.confirm_similarity == 0.7
    assert EmbeddedDiarizer(confirm_similarity=None).config.confirm_similarity is None


def test_bad_count_views_is_clear():
    with pytest.raises(InputError, match="count_views"):
        EmbeddedDiarizer(count_views="both")


def test_reassign_moves_a_stray_window_to_its_speaker():
    rng = np.random.default_rng(1)
    truth = np.repeat([0, 1], 20)
    x = _voices(rng, truth, 0.2)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    aff = x @ x.T
    labels = truth.copy()
    labels[[5, 25]] = 1 - labels[[5, 25]]
    out = reassign(aff, labels, 5)
    assert np.array_equal(out, truth)
    assert np.array_equal(reassign(aff, truth, 5), truth)  # a right labelling stays
    assert np.array_equal(reassign(aff, labels, 0), labels)


def test_nme_candidates_on_two_threads_give_the_same_clusters(monkeypatch):
    """From PARALLEL_FROM items on, the candidate prunings are decomposed on two threads: the same labels
    (and count) as one after the other, with the count estimated and fixed."""
    from anim400k.diarize import clustering
    from anim400k.threads import THREADS_ENV

    labels = np.repeat(np.arange(4), 120)  # 480 windows, 4 voices
    aff = _affinity(labels, seed=3)
    assert len(aff) >= clustering.PARALLEL_FROM
    results = {}
    for threads in ("1", "2"):
        monkeypatch.setenv(THREADS_ENV, threads)
        clustering.clear_spectrum_cache()  # (else the second round reads the first one's spectra)
        results[threads] = (nme_spectral(aff), nme_spectral(aff, num_speakers=3))
    np.testing.assert_array_equal(results["1"][0], results["2"][0])
    np.testing.assert_array_equal(results["1"][1], results["2"][1])
    assert results["2"][0].max() + 1 == 4


def test_pitch_gap_override_out_of_range_is_refused_in_one_line():
    with pytest.raises(InputError, match="pitch_gap_override must be a cosine"):
        EmbeddedDiarizer(pitch_gap_override=1.5)
