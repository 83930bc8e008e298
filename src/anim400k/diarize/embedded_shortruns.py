"""The embedded diarizer's short-run stage (step 5 of :mod:`.embedded`, :mod:`.shortruns`): each short run of
speech after the re-segmentation is embedded on its own audio (and in the other track where that has speech
under it) and given to another speaker whose centroid fits it clearly better (``short_run_*`` options).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import clustering, overlap, shortruns, spectral, subtitle_cues, views
from .audio import SR
from .base import Turn, cut_turns
from .embedded_config import EmbeddedConfig
from .embedded_other import OtherTrack
from .speaker_stats import speaker_centroids, speaker_medians


def relabel_short_runs(cfg: EmbeddedConfig, embed: Callable[..., np.ndarray],
                       mel_of: Callable[[np.ndarray], np.ndarray | None], pieces: list[Turn], regions: np.ndarray,
                       x: np.ndarray, xn: np.ndarray, mel: np.ndarray | None, windows: np.ndarray, raw: np.ndarray,
                       emb: np.ndarray, f0: np.ndarray, wpitch: np.ndarray, k: int, view: views.OtherView | None,
                       otrack: OtherTrack | None, cues: list[subtitle_cues.Cue] | None,
                       pool: ThreadPoolExecutor | None = None) -> list[Turn]:
    """The re-segmentation's ``pieces`` (speakers ``c0..c<k-1>``) with each short run that another speaker
    fits clearly better on its own audio given to that speaker (:mod:`.shortruns`).

    ``x``: the JP speech (16 kHz; its pauses cut the runs); ``xn`` and ``mel``: the same level-normalised
    and its mel frames; ``raw`` / ``emb``: the windows' embedding-model / clustering vectors; ``f0``: the
    JP pitch track and ``wpitch`` the windows' pitch on it; ``view`` / ``otrack``: the other track's view
    and analysis; ``cues``: the subtitle events; ``regions``: the speech regions (``short_run_unlabelled``);
    ``pool``: a second thread, which embeds the runs in the other track while this one embeds them in JP;
    ``embed(audio, windows, mel=)`` and ``mel_of(audio)``: the diarizer's window embeddings and mel frames."""
    from . import pitch

    pauses: list[tuple[float, float]] = []
    if cfg.short_run_quiet_db is not None:
        pauses = shortruns.quiet_spans(overlap.level_db(x, SR), overlap.LEVEL_HOP, cfg.short_run_quiet_db,
                                       cfg.short_run_quiet_len)
    runs = shortruns.short_runs(shortruns.speech_runs(pieces, cfg.short_run_pause, cfg.short_run_chain, pauses),
                                cfg.short_run_max, cfg.short_run_min, cfg.short_run_whole)
    if cfg.short_run_unlabelled:
        runs += shortruns.unlabelled(regions, pieces, cfg.short_run_min)
    if not runs or k < 2:
        return pieces
    allowed = None
    if cues and cfg.short_run_cue is not None:
        allowed = shortruns.near_edges(runs, np.array([[c.start, c.end] for c in cues]), cfg.short_run_cue)
        if not allowed.any():
            return pieces
    spans = np.array([[r.start, r.end] for r in runs])
    who = shortruns.centroid_windows(windows, pieces, k, cfg.window, cfg.short_run_confidence, exclude=runs)
    pw = cfg.pitch_weight if cfg.short_run_pitch is None else cfg.short_run_pitch
    run_pitch = pitch.window_pitch(f0, spans, min_voiced=3)
    base = emb if cfg.short_run_spectral else raw
    oargs = None  # the other track's view of the runs, where it has speech under them
    if view is not None and otrack is not None and cfg.short_run_other and cfg.other_weight > 0:
        ok = views.covered_fraction(spans, otrack.regions) >= cfg.other_min_cover
        idx = np.nonzero(view.valid)[0]
        if ok.any() and len(idx) >= 3:
            obase = view.emb[idx] if cfg.short_run_spectral else view.raw_emb[idx]
            oargs = (otrack.yn, otrack.mel, windows[idx], view.raw_emb[idx], obase, spans[ok],
                     cfg.short_run_spectral and view.raw is not None)
    ofuture = None
    if pool is not None and oargs is not None:
        ofuture = pool.submit(span_vectors, cfg, embed, mel_of, *oargs)
    vec = span_vectors(cfg, embed, mel_of, xn, mel, windows, raw, base, spans, cfg.short_run_spectral)
    scores = shortruns.speaker_scores(vec, speaker_centroids(base, who, k), run_pitch,
                                      speaker_medians(wpitch, who, k), pw)
    if oargs is not None:
        ovec = ofuture.result() if ofuture is not None else span_vectors(cfg, embed, mel_of, *oargs)
        owho = who[idx]
        oscore = shortruns.speaker_scores(
            ovec, speaker_centroids(obase, owho, k), pitch.window_pitch(otrack.f0, spans[ok], min_voiced=3),
            speaker_medians(view.pitch[idx], owho, k), pw)
        w = cfg.other_weight
        oscore = np.where(np.isfinite(oscore), oscore, scores[ok])  # no window of theirs there: JP's
        scores[ok] = (1 - w) * scores[ok] + w * oscore
    new = shortruns.relabel(runs, scores, cfg.short_run_margin, k, allowed)
    return cut_turns(pieces, new) + new if new else pieces


def span_vectors(cfg: EmbeddedConfig, embed: Callable[..., np.ndarray],
                 mel_of: Callable[[np.ndarray], np.ndarray | None], audio_n: np.ndarray, mel: np.ndarray | None,
                 windows: np.ndarray, raw: np.ndarray, base: np.ndarray, spans: np.ndarray, blend: bool) -> np.ndarray:
    """Vectors of ``spans`` of the level-normalised ``audio_n``, each embedded alone (repeated to the
    ``window`` length), in the centred space of the ``windows``' vectors ``base``: their embedding-model
    vectors ``raw``, or (``blend``) those blended with the spectral statistics of ``mel`` as
    :func:`.spectral.augment` blends them; rows of unit length."""
    samples, wins = shortruns.tiled(audio_n, spans, SR, cfg.window)
    vec = embed(samples, wins, mel=mel_of(samples))
    if blend and mel is not None and cfg.spectral_weight > 0:
        spec = spectral.span_statistics(mel, windows, spans, cfg.spectral_whiten)
        w = cfg.spectral_weight
        part = clustering.l2_normalize(vec - raw.mean(axis=0))
        vec = np.hstack([np.sqrt(1.0 - w) * part, np.sqrt(w) * spec])
    return clustering.l2_normalize(vec - base.mean(axis=0))
