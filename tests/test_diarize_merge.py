"""Merging over-split clusters (:func:`anim400k.diarize.clustering.merge_clusters`): the pitch-gap veto and the
``pitch_gap_override`` option that lifts it for clusters alike enough, and ``pitch_gap_spread`` that lifts it for
clusters whose own pitches range as widely as the gap (default None for both: the veto always holds)."""

from __future__ import annotations

import numpy as np
import pytest

from anim400k.diarize import clustering
from anim400k.diarize.embedded import EmbeddedDiarizer
from anim400k.diarize.embedded_cluster import partition
from anim400k.diarize.embedded_config import EmbeddedConfig
from anim400k.errors import InputError

N = 20  # windows per cluster


def _one_voice_two_pitches(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two clusters of one voice (centroid cosine ~0.99) whose median pitches lie 0.3 octave apart, and a third,
    different voice at the first one's pitch: ``(raw, labels, durations, pitch)``."""
    rng = np.random.default_rng(seed)
    voice, other = clustering.l2_normalize(rng.normal(size=(2, 16)))
    other = other - (other @ voice) * voice
    other /= np.linalg.norm(other)  # orthogonal: nothing alike
    raw = np.vstack([voice + 0.05 * rng.normal(size=(2 * N, 16)), other + 0.05 * rng.normal(size=(N, 16))])
    labels = np.repeat([0, 1, 2], N)
    pitch = np.concatenate([np.full(N, 7.0), np.full(N, 7.3), np.full(N, 7.0)])
    return raw, labels, np.full(3 * N, 1.5), pitch


def _count(labels: np.ndarray) -> int:
    return len(np.unique(labels))


def test_the_pitch_gap_keeps_alike_clusters_apart_unless_the_override_lifts_it() -> None:
    raw, labels, dur, pitch = _one_voice_two_pitches()
    cents = clustering.l2_normalize(np.stack([raw[labels == i].mean(axis=0) for i in range(2)]))
    alike = float(cents[0] @ cents[1])
    assert alike > 0.95
    assert _count(clustering.merge_clusters(raw, labels, dur, pitch)) == 3  # the default: the veto holds
    assert _count(clustering.merge_clusters(raw, labels, dur, pitch, pitch_gap_override=None)) == 3
    merged = clustering.merge_clusters(raw, labels, dur, pitch, pitch_gap_override=0.95)
    assert _count(merged) == 2 and len(np.unique(merged[: 2 * N])) == 1  # the two pitches of one voice
    assert merged[2 * N] != merged[0]  # the other voice is not alike enough, whatever its pitch
    above = clustering.merge_clusters(raw, labels, dur, pitch, pitch_gap_override=min(1.0, alike + 1e-3))
    assert _count(above) == 3  # alike, but less than the override asks
    assert _count(clustering.merge_clusters(raw, labels, dur, None)) == 2  # no pitch: merged by their likeness


def test_a_small_cluster_of_one_voice_merges_across_the_pitch_gap() -> None:
    """``small_pitch_gap_override`` (0.92 by default): a cluster of under 10 windows at least that alike to another
    merges whatever the pitch gap (a one-character episode's few higher lines, held apart beside its voice: 2-3
    speakers, DER 54 %, an outside tester's seed 501); a larger cluster keeps the veto (the confusable pairs of the
    benchmark's longer episodes, docs/diarization.md)."""
    raw, labels, dur, pitch = _one_voice_two_pitches()
    small = labels.copy()
    small[5:N] = 0  # ... the second, higher part of the voice: 5 windows
    small[N:N + 5] = 1
    small[N + 5:2 * N] = 0
    sizes = np.bincount(small)
    assert sizes[1] == 5 and sizes[0] == 2 * N - 5
    pitch = np.where(small == 1, 7.3, 7.0)
    assert EmbeddedConfig().small_pitch_gap_override == 0.92
    from anim400k.diarize.embedded_config import LEGACY_OPTIONS

    assert LEGACY_OPTIONS["small_pitch_gap_override"] is None  # (it acts on one track too: the legacy baseline off)
    assert _count(clustering.merge_clusters(raw, small, dur, pitch, small_pitch_gap_override=None)) == 3
    merged = clustering.merge_clusters(raw, small, dur, pitch, small_pitch_gap_override=0.92)
    assert _count(merged) == 2 and len(np.unique(merged[: 2 * N])) == 1
    assert merged[2 * N] != merged[0]  # the other voice is not alike enough
    # a cluster of 20 windows keeps the veto at the same likeness
    assert _count(clustering.merge_clusters(raw, labels, dur, np.repeat([7.0, 7.3, 7.0], N),
                                            small_pitch_gap_override=0.92)) == 3
    with pytest.raises(InputError, match="small_pitch_gap_override"):
        EmbeddedDiarizer(small_pitch_gap_override=2.0)


def test_the_override_also_lifts_the_other_views_pitch_gap() -> None:
    raw, labels, dur, _ = _one_voice_two_pitches()
    same = np.full(3 * N, 7.0)
    o_pitch = np.concatenate([np.full(N, 8.0), np.full(N, 8.4), np.full(N, 8.0)])  # the EN actor's gap
    other = (raw.copy(), o_pitch, np.ones(3 * N, bool))
    assert _count(clustering.merge_clusters(raw, labels, dur, same, other=other)) == 3
    assert _count(clustering.merge_clusters(raw, labels, dur, same, other=other, pitch_gap_override=0.95)) == 2


def test_a_pair_alike_in_each_view_alone_merges_across_the_other_views_pitch_gap() -> None:
    """``both_views_pitch_override`` (0.94 by default): the EN view's pitch gap does not keep apart two clusters
    whose raw centroids are that alike on the JP track *and* on the EN view (one voice, one EN actor whose takes sit
    higher in some lines: bank seed 16, one character in two clusters, JP 0.952 / EN 0.961, 4 speakers of 3); a
    JP pitch gap still does (two voices trading sub-second lines, every window holding both, have alike centroids
    in both views), and so does the EN gap where the EN actors differ."""
    raw, labels, dur, _ = _one_voice_two_pitches()
    rng = np.random.default_rng(1)
    actor, orth = clustering.l2_normalize(rng.normal(size=(2, 16)))
    orth = orth - (orth @ actor) * actor
    orth /= np.linalg.norm(orth)
    second = (actor + 0.48 * orth) / np.linalg.norm(actor + 0.48 * orth)  # another EN actor, 0.9 alike
    assert 0.88 < float(actor @ second) < 0.92
    one_actor = actor + 0.05 * rng.normal(size=(3 * N, 16))
    two_actors = np.where((labels == 1)[:, None], second, actor) + 0.05 * rng.normal(size=(3 * N, 16))
    jp_level = np.full(3 * N, 7.0)
    jp_gap = np.repeat([7.0, 7.3, 7.0], N)
    en_gap = np.repeat([7.0, 7.4, 7.0], N)  # the EN actor's takes higher in the second cluster
    valid = np.ones(3 * N, bool)
    assert EmbeddedConfig().both_views_pitch_override == 0.94

    def count(o_emb: np.ndarray, override: float | None, pitch: np.ndarray = jp_level,
              o_valid: np.ndarray = valid) -> int:
        return _count(clustering.merge_clusters(raw, labels, dur, pitch, other=(o_emb, en_gap, o_valid),
                                                both_views_pitch_override=override))

    assert count(one_actor, None) == 3  # the EN view's pitch gap
    assert count(one_actor, 0.94) == 2
    assert count(one_actor, 0.94, jp_gap) == 3  # a JP pitch gap still keeps them apart
    assert count(two_actors, 0.94) == 3  # blended over 0.9, but two EN actors: the gap holds
    assert _count(clustering.merge_clusters(raw, labels, dur, jp_level, other=(two_actors, jp_level, valid))) == 2
    few = valid.copy()
    few[N:2 * N - 2] = False  # under 3 EN windows in a cluster: too few to say one actor, the gap holds
    assert count(one_actor, 0.94, o_valid=few) == 3
    with pytest.raises(InputError, match="both_views_pitch_override"):
        EmbeddedDiarizer(both_views_pitch_override=-2.0)


def test_the_diarizers_partition_passes_the_option_on() -> None:
    """:func:`.embedded_cluster.partition` (the clustering stage) merges with the config's ``pitch_gap_override``."""
    raw, labels, _dur, pitch = _one_voice_two_pitches()
    aff = np.where(labels[:, None] == labels[None, :], 0.9, 0.0)  # three clear blocks: NME finds all three
    windows = np.stack([np.arange(3 * N) * 0.5, np.arange(3 * N) * 0.5 + 1.5], axis=1)
    cfg = EmbeddedConfig(reassign_iters=0)
    assert _count(partition(cfg, aff, None, raw, windows, pitch, None, None)) == 3
    cfg = EmbeddedConfig(reassign_iters=0, pitch_gap_override=0.95)
    assert _count(partition(cfg, aff, None, raw, windows, pitch, None, None)) == 2


def _pitches(spread: float, seed: int) -> np.ndarray:
    """Window pitches of the three clusters: medians exactly 7.0, 7.3 and 7.0 octaves; the first two with the
    given spread (normal noise, re-centred on the median), the third steady."""
    rng = np.random.default_rng(seed)
    parts = []
    for centre in (7.0, 7.3):
        noise = spread * rng.normal(size=N)
        parts.append(centre + noise - np.median(noise))
    return np.concatenate([*parts, np.full(N, 7.0)])


def test_pitch_spread_is_a_robust_standard_deviation_of_the_finite_pitches() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(7.0, 0.1, 4000)
    values[::10] = np.nan
    assert abs(clustering.pitch_spread(values) - 0.1) < 0.01
    assert clustering.pitch_spread(np.array([7.0, 7.5, np.nan])) == 0.0  # too few to tell


def test_the_spread_option_lifts_the_veto_only_for_a_voice_that_ranges_widely_in_pitch() -> None:
    """The same 0.3-octave gap: apart when both clusters hold steady pitches (two voices), merged when the
    clusters' own pitches spread as widely as the gap (one voice, calm and excited)."""
    raw, labels, dur, _ = _one_voice_two_pitches()
    steady, wide = _pitches(0.02, 2), _pitches(0.3, 2)
    for pitch in (steady, wide):
        assert _count(clustering.merge_clusters(raw, labels, dur, pitch)) == 3  # the default veto: any gap
    assert _count(clustering.merge_clusters(raw, labels, dur, steady, pitch_gap_spread=2.0)) == 3
    merged = clustering.merge_clusters(raw, labels, dur, wide, pitch_gap_spread=2.0)
    assert _count(merged) == 2 and len(np.unique(merged[: 2 * N])) == 1
    assert merged[2 * N] != merged[0]  # the other voice is not alike, whatever its pitch


def test_pitch_gap_spread_reaches_the_partition_and_is_checked() -> None:
    raw, labels, _dur, _ = _one_voice_two_pitches()
    wide = _pitches(0.3, 3)
    aff = np.where(labels[:, None] == labels[None, :], 0.9, 0.0)
    windows = np.stack([np.arange(3 * N) * 0.5, np.arange(3 * N) * 0.5 + 1.5], axis=1)
    assert _count(partition(EmbeddedConfig(reassign_iters=0), aff, None, raw, windows, wide, None, None)) == 3
    cfg = EmbeddedConfig(reassign_iters=0, pitch_gap_spread=2.0)
    assert _count(partition(cfg, aff, None, raw, windows, wide, None, None)) == 2
    with pytest.raises(InputError, match="pitch_gap_spread must be"):
        EmbeddedDiarizer(pitch_gap_spread=-1.0)
