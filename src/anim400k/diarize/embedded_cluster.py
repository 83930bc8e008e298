"""The embedded diarizer's clustering stage: window labels from the windows' vectors, pitch, the other view
and the subtitle cues, by the options of an :class:`.embedded_config.EmbeddedConfig` (step 4 of
:mod:`.embedded`): the affinities and their constraints, the speaker count, NME spectral clustering,
re-assignment, merges and splits, and the confirmation of extra speakers.
"""

from __future__ import annotations

import dataclasses
import functools
import logging

import numpy as np

from . import clustering, count, cue_dashes, cue_events, cue_names, longform, view_merge, views
from .embedded_config import EmbeddedConfig

log = logging.getLogger(__name__)


def cluster_windows(cfg: EmbeddedConfig, emb: np.ndarray, windows: np.ndarray, wpitch: np.ndarray,
                    view: views.OtherView | None = None, raw: np.ndarray | None = None,
                    events: np.ndarray | None = None, names: np.ndarray | None = None,
                    dash: tuple[np.ndarray, np.ndarray] | None = None,
                    crowded: np.ndarray | None = None, straddled: np.ndarray | None = None) -> np.ndarray:
    """Window labels ``0..k-1``: ``emb`` (embeddings, spectral part included) builds the affinity;
    ``raw`` (the embedding model's own vectors; default ``emb``) gives the count and the merges.
    Windows with ``crowded`` (seconds under two or more subtitle events) of at least ``crowded_seconds``, and
    windows with ``straddled`` (seconds of the window under its second subtitle event: a change of line inside
    it) of at least ``straddle_seconds``, are left out, and above ``cluster_cap`` windows an even stride of
    ``cluster_subset`` of the others is clustered; the windows left out are labelled by their mean affinity to
    its speakers (:mod:`.longform`).
    ``events``: each window's one-speaker subtitle event (-1: none; :func:`.cue_windows.window_events`);
    ``names``: the speaker name of that event (-1: none; :func:`.cue_windows.window_names`); ``dash``: each
    window's dash event and part there (:func:`.cue_dashes.window_dash_parts`).

    Then, with ``crowded_cluster_seconds``, a cluster whose windows sit under two subtitle events for at least
    that long on average (a cluster of overlapped lines, not a character), and with ``straddle_cluster_seconds``
    one whose windows have a second event over them for at least that long on average (windows across changes of
    line), is left out: with ``bad_cluster_dissolve`` (the default) its windows take the speaker of the other
    clusters they are most alike, as crowded windows do; without it, with ``num_speakers`` given (whose count must
    stand) or where fewer clusters would be left than ``min_speakers`` or the speakers the subtitles name
    (:func:`speaker_floor`), the others are clustered again (once).
    Neither happens where fewer than ``crowded_min_share`` of the windows would be left."""
    labels = _cluster_windows(cfg, emb, windows, wpitch, view, raw, events, names, dash, crowded, straddled)
    if crowded is None or cfg.crowded_seconds is None or len(labels) == 0:
        return labels
    sizes = np.maximum(np.bincount(labels), 1)
    bad = np.zeros(len(sizes), dtype=bool)
    if cfg.crowded_cluster_seconds is not None:
        bad |= np.bincount(labels, weights=crowded) / sizes >= cfg.crowded_cluster_seconds
    if straddled is not None and cfg.straddle_cluster_seconds is not None:
        bad |= np.bincount(labels, weights=straddled, minlength=len(sizes)) / sizes >= cfg.straddle_cluster_seconds
    if not (bad.any() and not bad.all()):
        return labels
    floor = speaker_floor(cfg, names, windows)
    if cfg.bad_cluster_dissolve and cfg.num_speakers is None and int((~bad).sum()) >= floor:
        # (a count given, or a floor the rest would go under, stands: the rest is clustered again at it)
        sub = np.nonzero(~bad[labels])[0]
        if len(sub) < max(3, cfg.crowded_min_share * len(labels)):  # as the window rules: too few would be left
            return labels
        log.info("%d of %d clusters are overlapped or straddled lines: their windows go to the others",
                 int(bad.sum()), len(bad))
        block = longform.affinity_to(emb, wpitch, sub, view, cfg.other_weight, cfg.pitch_weight)
        kept = np.unique(labels[sub], return_inverse=True)[1]
        return longform.assign_to_subset(block, len(labels), sub, kept, cfg.reassign_iters)
    log.info("%d of %d clusters are overlapped or straddled lines: clustering without them", int(bad.sum()),
             len(bad))
    again = np.where(bad[labels], np.inf, crowded)
    return _cluster_windows(cfg, emb, windows, wpitch, view, raw, events, names, dash, again, straddled)


def _cluster_windows(cfg: EmbeddedConfig, emb: np.ndarray, windows: np.ndarray, wpitch: np.ndarray,
                     view: views.OtherView | None, raw: np.ndarray | None, events: np.ndarray | None,
                     names: np.ndarray | None, dash: tuple[np.ndarray, np.ndarray] | None,
                     crowded: np.ndarray | None, straddled: np.ndarray | None = None) -> np.ndarray:
    """One clustering of :func:`cluster_windows` (the crowded and straddled windows and those above
    ``cluster_cap`` left out and labelled after)."""
    n = len(emb)
    keep = np.arange(n)
    out = np.zeros(n, dtype=bool)
    if crowded is not None and cfg.crowded_seconds is not None:
        out |= crowded >= cfg.crowded_seconds
    if straddled is not None and cfg.straddle_seconds is not None:
        out |= straddled >= cfg.straddle_seconds
    if out.any():
        clear = np.nonzero(~out)[0]
        if len(clear) >= max(3, cfg.crowded_min_share * n):
            keep = clear
    if cfg.cluster_cap is not None and len(keep) > cfg.cluster_cap:
        keep = keep[longform.stride_subset(len(keep), min(cfg.cluster_subset, cfg.cluster_cap))]
    if len(keep) == n:
        return cluster_all(cfg, emb, windows, wpitch, view, raw, events, names, dash)
    sub = keep
    log.info("%d windows: clustering %d of them, labelling the rest", n, len(sub))
    sub_labels = cluster_all(cfg, emb[sub], windows[sub], wpitch[sub], longform.subset_view(view, sub),
                             None if raw is None else raw[sub], None if events is None else events[sub],
                             None if names is None else names[sub],
                             None if dash is None else (dash[0][sub], dash[1][sub]))
    block = longform.affinity_to(emb, wpitch, sub, view, cfg.other_weight, cfg.pitch_weight)
    labels = longform.assign_to_subset(block, n, sub, sub_labels, cfg.reassign_iters)
    return np.unique(labels, return_inverse=True)[1]


def cluster_all(cfg: EmbeddedConfig, emb: np.ndarray, windows: np.ndarray, wpitch: np.ndarray,
                view: views.OtherView | None = None, raw: np.ndarray | None = None,
                events: np.ndarray | None = None, names: np.ndarray | None = None,
                dash: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """:func:`cluster_windows` on all the given windows (``n x n`` affinities)."""
    if len(emb) < 3:
        return np.zeros(len(emb), dtype=int)
    aff = jp_aff = clustering.fused_affinity(emb, wpitch, cfg.pitch_weight)
    aff = views.combined_affinity(aff, view, cfg.other_weight, cfg.pitch_weight)
    link = None if events is None else cue_events.event_link(events, cfg.subtitle_link)
    if link is not None:  # windows of one subtitle line: one speaker, most likely
        aff, jp_aff = aff + link, jp_aff + link
    apart = None if dash is None else cue_dashes.dash_apart(*dash, cfg.subtitle_dash_apart)
    if apart is not None:  # two parts of a dash event: two speakers, most likely
        aff, jp_aff = aff + apart, jp_aff + apart
    named = None if names is None else cue_names.name_constraints(names, cfg.subtitle_name_link,
                                                                   cfg.subtitle_name_apart)
    unnamed = (aff, jp_aff)
    if named is not None:  # the subtitles name the speakers: same name linked, different names apart
        aff, jp_aff = aff + named, jp_aff + named
    name_count = named is not None and cfg.subtitle_name_count
    least = speaker_floor(cfg, names, windows)
    num = cfg.num_speakers
    count_aff, count_jp = (aff, jp_aff) if name_count or named is None else unnamed
    if num is None and cfg.spectral_count == "embedding" and raw is not None and raw is not emb:
        count_jp = clustering.fused_affinity(raw, wpitch, cfg.pitch_weight)
        if name_count:
            count_jp = count_jp + named
        raw_view = None if view is None else dataclasses.replace(view, emb=view.raw_emb)
        count_aff = views.combined_affinity(count_jp, raw_view, cfg.other_weight, cfg.pitch_weight)
    jp_num = None  # the JP track's own count, when the other view is used
    if num is None and cfg.count_views == "jp" and view is not None and view.valid.sum() >= 3:
        combined_num, jp_num = views.view_counts(count_aff, count_jp, cfg.min_speakers, cfg.max_speakers,
                                                 functools.partial(count_speakers, cfg))
        num = max(combined_num, jp_num, least)
        jp_num = max(jp_num, least)
    elif num is None and (count_aff is not aff or least > cfg.min_speakers):
        # (the eigengap's own count, then the names' floor: a floor on the eigengap's range would
        # pick another gap)
        num = max(count_speakers(cfg, count_aff, cfg.min_speakers, cfg.max_speakers), least)
    elif num is None and cfg.count_method != "eigengap":
        num = count_speakers(cfg, aff, least, cfg.max_speakers)
    labels = partition(cfg, aff, num, emb, windows, wpitch, view, raw, least)
    if cfg.confirm_similarity is not None and jp_num is not None and labels.max() + 1 > jp_num:
        # more speakers than the JP track alone shows: the extra ones must differ in the blend.
        # When merging or splitting changed the count, the windows are clustered at the new count
        # first (a split's halves are then re-drawn from the affinity and must pass the same test).
        if labels.max() + 1 != num:
            labels = partition(cfg, aff, int(labels.max()) + 1, emb, windows, wpitch, view, raw, least)
        labels = clustering.merge_centred(emb, labels, cfg.confirm_similarity, floor=jp_num)
    if cfg.merge_views_jp is not None and cfg.num_speakers is None and cfg.other_weight > 0:
        # one voice left in two clusters (``other_weight=0`` switches the other view off, here as elsewhere)
        labels = view_merge.merge_alike_in_both_views(emb, labels, view, cfg.merge_views_jp, cfg.merge_views_mean,
                                                      floor=least)
    return labels


def speaker_floor(cfg: EmbeddedConfig, names: np.ndarray | None, windows: np.ndarray) -> int:
    """The fewest speakers the clustering may give: ``min_speakers``, and at least as many as the subtitles name
    with enough speech (``subtitle_name_min_speech``; ``names``: each window's name, -1 for none)."""
    least = cfg.min_speakers
    if names is not None and cfg.subtitle_name_min_speech is not None:
        least = max(least, min(cfg.max_speakers, cue_names.name_floor(names, windows, cfg.subtitle_name_min_speech)))
    return least


def count_speakers(cfg: EmbeddedConfig, affinity: np.ndarray, min_speakers: int, max_speakers: int) -> int:
    """The speaker count of ``affinity`` by ``count_method`` (:func:`.count.estimate_count`)."""
    return count.estimate_count(affinity, min_speakers, max_speakers, cfg.count_method, cfg.count_top,
                                cfg.count_resamples, cfg.count_share, cfg.count_max_windows, cfg.count_spread,
                                cfg.count_prefer)


def partition(cfg: EmbeddedConfig, aff: np.ndarray, num: int | None, emb: np.ndarray, windows: np.ndarray,
              wpitch: np.ndarray, view: views.OtherView | None, raw: np.ndarray | None,
              least: int | None = None) -> np.ndarray:
    """NME clustering of ``aff`` into ``num`` speakers (None: the eigengap's count, at least ``least``,
    default ``min_speakers``), re-assignment, then (no ``num_speakers`` given) merging of over-split
    clusters (not below ``least``) and the other view's splits."""
    least = cfg.min_speakers if least is None else least
    labels = clustering.nme_spectral(aff, num, least, cfg.max_speakers)
    if cfg.reassign_iters > 0:
        labels = clustering.reassign(aff, labels, cfg.reassign_iters)
    if cfg.num_speakers is None:
        labels = clustering.merge_clusters(
            emb if raw is None else raw, labels, windows[:, 1] - windows[:, 0], wpitch, cfg.merge_similarity,
            cfg.max_pitch_gap, cfg.min_cluster_duration, least,
            small_merge_similarity=cfg.small_merge_similarity,
            other=None if view is None or cfg.other_weight <= 0 else (view.raw_emb, view.pitch, view.valid),
            other_weight=cfg.other_weight, pitch_gap_override=cfg.pitch_gap_override,
            pitch_gap_spread=cfg.pitch_gap_spread, small_pitch_gap_override=cfg.small_pitch_gap_override,
            both_views_pitch_override=cfg.both_views_pitch_override,
        )
        if view is not None and cfg.other_weight > 0 and view.valid.sum() >= 3:
            if cfg.split_other_max is not None:
                labels = views.split_by_other(emb, labels, view, cfg.split_other_max, cfg.max_speakers,
                                              jp_max=cfg.split_other_jp_max,
                                              neighbour_max=cfg.split_other_neighbour_max,
                                              min_other=cfg.split_other_min_voiced,
                                              same_actor=cfg.split_other_same_actor)
            if cfg.split_views_max is not None:
                labels = views.split_by_other(emb, labels, view, cfg.split_views_max, cfg.max_speakers, jp_weight=1.0)
    return labels
