"""The align stage's work: clips of one episode with subtitles, speakers, mixing ratio and IDs."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..align import align_clips
from ..formats.ids import clip_id
from ..model import EN, JP, Clip, Subtitle
from .context import EpisodeContext
from .options import ANALYSIS_SR


def _speakers(ctx: EpisodeContext, starts: np.ndarray, ends: np.ndarray
              ) -> tuple[list[list[str]], list[float | None]]:
    """Each clip's speakers and the confidence of that speaker set (from the RTTM's turn confidences)."""
    from ..diarize import clip_confidence, clip_speakers
    from ..formats.rttm import read_rttm

    turns = read_rttm(ctx.artifact("jp.rttm"))
    intervals = np.column_stack([starts, ends])
    return clip_speakers(turns, intervals), clip_confidence(turns, intervals)


def _mixing_ratios(ctx: EpisodeContext, starts: np.ndarray, ends: np.ndarray) -> list[float | None]:
    import soundfile as sf

    from ..mixing import mixing_ratios

    mix = ctx.analysis_audio(JP)
    backing, _ = sf.read(ctx.artifact("backing.flac"), dtype="float32")
    n = min(len(mix), len(backing))
    mix, backing = mix[:n], backing[:n]
    fits = mixing_ratios(mix, mix - backing, backing, ANALYSIS_SR, list(zip(starts, ends, strict=True)))
    return [f.ratio_db for f in fits]


MIN_CLIP_SECONDS = 0.05


def _inside_jp_medium(clips: list[Clip], jp_duration: float | None) -> tuple[list[Clip], int]:
    """Clamp clips to the JP medium and drop those with (almost) nothing left in it.

    With an offset between the media, EN speech can fall where the JP medium has no content
    (e.g. before its start); such a clip has no JP audio and is not a bilingual pair.
    """
    kept = []
    for c in clips:
        if jp_duration is not None:
            c.jp_end = min(c.jp_end, round(float(jp_duration), 3))
        if c.jp_duration >= MIN_CLIP_SECONDS:
            kept.append(c)
    return kept, len(clips) - len(kept)


def make_episode_clips(ctx: EpisodeContext) -> dict[str, Any]:
    """Align the episode's transcripts and return the clips.json payload (:meth:`Clip.to_dict` per clip)."""
    from ..formats.transcripts import read_transcript

    en = read_transcript(ctx.artifact(f"{EN}.transcript.json"), language=EN)
    jp = read_transcript(ctx.artifact(f"{JP}.transcript.json"), language=JP)
    tm = ctx.timemap()
    subs = [Subtitle(d["start"], d["end"], d["text"]) for d in ctx.read_json("subtitles.json")]
    clips = align_clips(
        en.segments, jp.segments, subs, tolerance_ms=ctx.options.tolerance_ms,
        jp_to_common=tm.jp_to_en, common_to_jp=tm.en_to_jp,
    )
    jp_duration = ctx.read_json("probe.json")[JP]["duration"]
    clips, outside = _inside_jp_medium(clips, jp_duration)
    jp_s = np.array([c.jp_start for c in clips], dtype=np.float64)
    jp_e = np.array([c.jp_end for c in clips], dtype=np.float64)
    speakers, confidence = _speakers(ctx, jp_s, jp_e) if clips else ([], [])
    ratios = _mixing_ratios(ctx, jp_s, jp_e) if clips else []
    show, ep = ctx.ref.show_key, ctx.ref.episode
    out = []
    for k, c in enumerate(clips):
        c.speakers = speakers[k]
        c.multi_speaker = len(c.speakers) > 1
        c.speaker_confidence = confidence[k]
        c.mixing_ratio = None if ratios[k] is None else round(float(ratios[k]), 3)
        c.jp_clip = clip_id(show, ep, "jp", c.jp_start, c.jp_end)
        c.en_clip = clip_id(show, ep, "en", c.en_start, c.en_end)
        c.backing_clip = clip_id(show, ep, "backing", c.jp_start, c.jp_end) if ctx.options.backing_clips else ""
        out.append(c.to_dict())
    matched = sum(len(c.jp_segments) for c in clips)
    return {
        "episode": ctx.ref.key,
        "n_en_segments": len(en.segments),
        "n_jp_segments": len(jp.segments),
        "unmatched_jp_segments": len(jp.segments) - matched,
        "clips_outside_jp_medium": outside,
        "jp_transcribed": any(s.transcribed for s in jp.segments),
        "en_transcribed": any(s.transcribed for s in en.segments),
        "clips": out,
    }
