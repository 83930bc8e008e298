"""A voice left in two clusters merges when both views hear one voice
(:func:`anim400k.diarize.view_merge.merge_alike_in_both_views`, the ``merge_views_jp`` option)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import clustering, embedded_cluster, view_merge
from anim400k.diarize.embedded import EmbeddedDiarizer
from anim400k.diarize.embedded_config import EmbeddedConfig
from anim400k.diarize.views import OtherView
from anim400k.errors import InputError

N = 15  # windows per cluster


def _voices(rng: np.random.Generator, k: int, dim: int = 24) -> np.ndarray:
    return np.linalg.qr(rng.normal(size=(dim, k)))[0].T  # k orthonormal directions


def _episode(same_actor: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray, OtherView]:
    """Three clusters: 0 and 1 one JP voice (1 a little off, as excited lines are), 2 another voice. On the
    other track clusters 0 and 1 have one actor (``same_actor``) or two different ones."""
    rng = np.random.default_rng(seed)
    jp_a, jp_c, shift = _voices(rng, 3)
    en = _voices(rng, 4)
    jp = np.vstack([jp_a + 0.1 * rng.normal(size=(N, len(jp_a))),
                    jp_a + 0.3 * shift + 0.1 * rng.normal(size=(N, len(jp_a))),
                    jp_c + 0.1 * rng.normal(size=(N, len(jp_a)))])
    actors = [en[0], en[0] if same_actor else en[1], en[2]]
    other = np.vstack([a + 0.1 * rng.normal(size=(N, len(a))) for a in actors])
    valid = np.ones(3 * N, dtype=bool)
    valid[N : N + 5] = False  # some windows without the other track's speech
    view = OtherView(emb=other.astype(np.float32), pitch=np.full(3 * N, np.nan), f0=np.zeros(1), valid=valid)
    return jp, np.repeat([0, 1, 2], N), view


def test_centred_centroids_take_the_mean_of_the_rows_away() -> None:
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    cents, counts = clustering.centred_centroids(x, np.array([0, 0, 1, 1]), 2)
    assert counts.tolist() == [2, 2]
    assert np.allclose(cents, clustering.l2_normalize(np.array([[0.5, -0.5], [-0.5, 0.5]])))
    cents, counts = clustering.centred_centroids(x, np.array([0, 0, 1, 1]), 3, np.array([1, 1, 1, 0], bool))
    assert counts.tolist() == [2, 1, 0] and not cents[2].any()


def test_one_voice_in_two_clusters_merges_when_the_other_track_has_one_actor() -> None:
    jp, labels, view = _episode(same_actor=True)
    merged = view_merge.merge_alike_in_both_views(jp, labels, view, 0.6, 0.5)
    assert len(np.unique(merged)) == 2
    assert len(np.unique(merged[: 2 * N])) == 1 and merged[2 * N] != merged[0]


def test_alike_jp_voices_stay_apart_when_their_actors_differ() -> None:
    jp, labels, view = _episode(same_actor=False)
    cents, _ = clustering.centred_centroids(jp, labels, 3)
    assert cents[0] @ cents[1] > 0.6  # the JP track alone would merge them
    assert len(np.unique(view_merge.merge_alike_in_both_views(jp, labels, view, 0.6, 0.5))) == 3


def test_no_merge_without_the_other_view_below_the_floor_or_with_too_few_other_windows() -> None:
    jp, labels, view = _episode(same_actor=True)
    assert len(np.unique(view_merge.merge_alike_in_both_views(jp, labels, None, 0.6, 0.5))) == 3
    assert len(np.unique(view_merge.merge_alike_in_both_views(jp, labels, view, 0.6, 0.5, floor=3))) == 3
    sparse = OtherView(emb=view.emb, pitch=view.pitch, f0=view.f0, valid=view.valid.copy())
    sparse.valid[N : 2 * N - 2] = False  # cluster 1 keeps 2 windows with the other track's speech
    assert len(np.unique(view_merge.merge_alike_in_both_views(jp, labels, sparse, 0.6, 0.5))) == 3
    assert len(np.unique(view_merge.merge_alike_in_both_views(jp, labels, view, 0.99, 0.5))) == 3


def test_the_clustering_stage_applies_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    jp, labels, view = _episode(same_actor=True)
    windows = np.stack([np.arange(3 * N) * 0.5, np.arange(3 * N) * 0.5 + 1.5], axis=1)
    seen: list[tuple[float, float]] = []
    real = view_merge.merge_alike_in_both_views

    def spy(emb: np.ndarray, lab: np.ndarray, v: OtherView | None, jp_min: float, mean_min: float,
            floor: int = 1) -> np.ndarray:
        seen.append((jp_min, mean_min))
        return real(emb, lab, v, jp_min, mean_min, floor)

    monkeypatch.setattr(view_merge, "merge_alike_in_both_views", spy)
    pitch = np.full(3 * N, np.nan)
    embedded_cluster.cluster_all(EmbeddedConfig(merge_views_jp=None), jp, windows, pitch, view)
    assert seen == []  # off
    embedded_cluster.cluster_all(EmbeddedConfig(), jp, windows, pitch, view)
    assert seen == [(0.5, 0.55)]  # the defaults
    embedded_cluster.cluster_all(EmbeddedConfig(merge_views_jp=0.6, merge_views_mean=0.5), jp, windows, pitch, view)
    assert seen[-1] == (0.6, 0.5)
    embedded_cluster.cluster_all(EmbeddedConfig(num_speakers=3), jp, windows, pitch, view)
    embedded_cluster.cluster_all(EmbeddedConfig(other_weight=0), jp, windows, pitch, view)
    assert len(seen) == 2  # a given count is kept; ``other_weight=0`` switches the other view off


def _cast(same_actor: bool, seed: int = 0) -> tuple[np.ndarray, OtherView]:
    """Five clusters of :data:`N` windows in order: 0 and 1 one JP voice (1 further off than in
    :func:`_episode`: the clustering keeps it apart), 2-4 three other voices; on the other track 0 and 1 have
    one actor (``same_actor``) or two."""
    rng = np.random.default_rng(seed)
    jp_a, shift, *jp_others = _voices(rng, 5)
    en = _voices(rng, 6)
    jp = np.vstack([v + 0.1 * rng.normal(size=(N, len(jp_a))) for v in [jp_a, jp_a + 0.7 * shift, *jp_others]])
    actors = [en[0], en[0] if same_actor else en[1], *en[2:5]]
    other = np.vstack([a + 0.1 * rng.normal(size=(N, len(a))) for a in actors])
    return jp, OtherView(emb=other.astype(np.float32), pitch=np.full(5 * N, np.nan), f0=np.zeros(1),
                         valid=np.ones(5 * N, dtype=bool))


def test_the_clustering_stage_merges_a_voice_it_left_in_two_clusters() -> None:
    """The clustering alone leaves the voice in two clusters; the merge joins them when the other track has
    one actor for both, not when it has two, and not with the other view switched off (``other_weight=0``)."""
    windows = np.stack([np.arange(5 * N) * 0.5, np.arange(5 * N) * 0.5 + 1.5], axis=1)
    pitch = np.full(5 * N, np.nan)
    jp, view = _cast(same_actor=True)
    assert embedded_cluster.cluster_all(EmbeddedConfig(merge_views_jp=None), jp, windows, pitch, view).max() == 4
    out = embedded_cluster.cluster_all(EmbeddedConfig(), jp, windows, pitch, view)
    assert out.max() == 3 and len(np.unique(out[: 2 * N])) == 1 and len(np.unique(out[2 * N :])) == 3
    assert out[0] not in out[2 * N :]
    alone = embedded_cluster.cluster_all(EmbeddedConfig(other_weight=0), jp, windows, pitch, None)
    assert alone.max() == 4
    assert np.array_equal(embedded_cluster.cluster_all(EmbeddedConfig(other_weight=0), jp, windows, pitch, view),
                          alone)
    jp, view = _cast(same_actor=False)
    assert embedded_cluster.cluster_all(EmbeddedConfig(), jp, windows, pitch, view).max() == 4


def test_the_options_are_checked() -> None:
    with pytest.raises(InputError, match="merge_views_jp and merge_views_mean must be cosines"):
        EmbeddedDiarizer(merge_views_jp=1.5)
    with pytest.raises(InputError, match="merge_views_jp and merge_views_mean must be cosines"):
        EmbeddedDiarizer(merge_views_mean=-1.5)
    EmbeddedDiarizer(merge_views_jp=None, merge_views_mean=-1.5)  # (not read when off)


def test_the_clustering_stage_passes_the_split_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    """The EN-view split gets its threshold and guards from the options (``views.split_by_other``)."""
    from anim400k.diarize import views

    jp, _labels, view = _episode(same_actor=True)
    windows = np.stack([np.arange(3 * N) * 0.5, np.arange(3 * N) * 0.5 + 1.5], axis=1)
    seen: list[tuple] = []
    real = views.split_by_other

    def spy(emb: np.ndarray, lab: np.ndarray, v: OtherView, max_cos: float, max_speakers: int, **kwargs) -> np.ndarray:
        seen.append((max_cos, kwargs))
        return real(emb, lab, v, max_cos, max_speakers, **kwargs)

    monkeypatch.setattr(views, "split_by_other", spy)
    pitch = np.full(3 * N, np.nan)
    embedded_cluster.cluster_all(EmbeddedConfig(), jp, windows, pitch, view)
    assert seen and seen[-1] == (0.3, {"jp_max": 0.3, "neighbour_max": 0.3, "min_other": 5, "same_actor": 0.96})
    embedded_cluster.cluster_all(EmbeddedConfig(split_other_max=-0.2, split_other_jp_max=None,
                                                split_other_neighbour_max=None, split_other_min_voiced=3,
                                                split_other_same_actor=None),
                                 jp, windows, pitch, view)
    assert seen[-1] == (-0.2, {"jp_max": None, "neighbour_max": None, "min_other": 3,
                               "same_actor": None})  # the split before 2026-12-07
    n = len(seen)
    embedded_cluster.cluster_all(EmbeddedConfig(split_other_max=None), jp, windows, pitch, view)
    assert len(seen) == n  # off
