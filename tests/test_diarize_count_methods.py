"""Speaker-count estimators of :mod:`anim400k.diarize.count` and the ``count_method`` option."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import count
from anim400k.diarize.embedded import EmbeddedDiarizer
from anim400k.diarize.embedded_cluster import count_speakers
from anim400k.errors import InputError


def _blocks(sizes: list[int], spread: float, seed: int, dim: int = 24) -> np.ndarray:
    """Cosine affinity of unit vectors around ``len(sizes)`` random centres."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    x = rng.normal(size=(len(sizes), dim))[labels] + spread * rng.normal(size=(len(labels), dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x @ x.T


@pytest.mark.parametrize("method", count.COUNT_METHODS)
@pytest.mark.parametrize("sizes", [[40, 30], [40, 30, 25], [30, 25, 25, 20]])
def test_clear_blocks_give_their_number(method, sizes):
    aff = _blocks(sizes, 0.3, seed=len(sizes))
    assert count.estimate_count(aff, 1, 8, method, resamples=6) == len(sizes)


def test_stability_choice_and_its_preference_for_nme():
    """The most reproducible count wins unless NME's is within ``prefer`` of it; ties among the others go to
    the smaller count; the choice never leaves NME's count +- ``spread``."""
    assert count._choose({2: 0.90, 3: 0.95, 4: 0.80}, 2, 0.02) == 3
    assert count._choose({2: 0.90, 3: 0.95, 4: 0.80}, 2, 0.1) == 2
    assert count._choose({2: 0.95, 3: 0.80, 4: 0.95}, 3, 0.0) == 2
    aff = _blocks([40, 30, 30], 0.3, seed=5)
    k0 = count.eigengap_count(aff)
    for spread in (1, 2):
        got = count.stability_count(aff, resamples=6, spread=spread, prefer=0.0)
        assert abs(got - k0) <= spread
    assert count.stability_count(aff, resamples=6, spread=2, prefer=1.0) == k0  # a large preference: NME's
    assert count.pruning_stability_count(aff, resamples=4, prefer=1.0) == k0


def test_noise_gives_a_stable_choice():
    """No structure: the choice is the same on every call (seeded) and stays within NME's count +- 1."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(120, 24))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    aff = x @ x.T
    k0 = count.eigengap_count(aff)
    for method in count.COUNT_METHODS:
        first = count.estimate_count(aff, 1, 8, method, resamples=6)
        assert first == count.estimate_count(aff, 1, 8, method, resamples=6)
        assert abs(first - k0) <= 1 and 1 <= first <= 8
    # a small perturbation of the affinity (float rounding) does not move the consensus or stability count
    bumped = aff + 1e-9 * rng.normal(size=aff.shape)
    bumped = 0.5 * (bumped + bumped.T)
    for method in ("consensus", "stability"):
        assert count.estimate_count(bumped, 1, 8, method, resamples=6) == count.estimate_count(aff, 1, 8, method,
                                                                                             resamples=6)


def test_consensus_is_the_median_of_the_best_prunings(monkeypatch):
    from anim400k.diarize import clustering

    def fake(aff, lo, hi):
        return [clustering.Pruning(p, ratio, k, np.zeros((3, 3)))
                for p, ratio, k in ((2, 5.0, 4), (3, 1.0, 2), (4, 2.0, 3), (5, 3.0, 3), (6, 4.0, 5))]

    monkeypatch.setattr(clustering, "nme_scores", fake)
    aff = np.eye(10)
    assert count.consensus_count(aff, top=1) == 2  # the best pruning alone: NME's count
    assert count.consensus_count(aff, top=3) == 3  # 2, 3, 3
    assert count.consensus_count(aff, top=5) == 3  # 2, 3, 3, 5, 4
    assert count.consensus_count(aff, top=2) == 2  # the lower median of 2, 3


def test_ari_matches_sklearn_and_edge_cases():
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b = rng.integers(0, 4, 50), rng.integers(0, 3, 50)
        assert count.ari(a, b) == pytest.approx(adjusted_rand_score(a, b))
    a = np.array([0, 0, 1, 1, 2, 2])
    assert count.ari(a, 5 - a) == pytest.approx(1.0)  # relabelled: the same partition
    assert count.ari(np.zeros(6, int), np.zeros(6, int)) == 1.0


def test_small_inputs_and_ranges():
    aff = _blocks([20, 20, 20], 0.3, seed=1)
    for method in count.COUNT_METHODS:
        assert count.estimate_count(aff[:2, :2], 1, 8, method) == 1
        assert count.estimate_count(aff, 1, 2, method, resamples=4) <= 2
        assert count.estimate_count(aff, 4, 8, method, resamples=4) >= 4
    with pytest.raises(ValueError, match="count method"):
        count.estimate_count(aff, 1, 8, "bic")


def test_count_method_option_and_its_validation():
    assert EmbeddedDiarizer().config.count_method == "eigengap"
    assert EmbeddedDiarizer(count_method="stability").config.count_method == "stability"
    with pytest.raises(InputError, match="count_method"):
        EmbeddedDiarizer(count_method="gmm")
    for bad in ({"count_top": 0}, {"count_resamples": 1}, {"count_share": 0.0}, {"count_share": 1.5},
                {"count_prefer": -0.1}, {"count_max_windows": 5}, {"count_spread": 0}):
        with pytest.raises(InputError, match="count_"):
            EmbeddedDiarizer(**bad)


def test_diarizer_count_method_changes_only_the_count_path():
    """With the default the diarizer's count is NME's; with another method on two clear voices the same."""
    aff = _blocks([30, 30], 0.3, seed=2)
    for method in count.COUNT_METHODS:
        d = EmbeddedDiarizer(count_method=method, count_resamples=4)
        assert count_speakers(d.config, aff, 1, 8) == 2
