"""The align stage's work: clips of one episode with subtitles, speakers, mixing ratio and IDs."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..align import align_piecewise
from ..formats.ids import clip_id
from ..model import EN, JP, Clip, Segment, Word
from .context import EpisodeContext
from .options import ANALYSIS_SR


def _given_transcript_coverage(ctx: EpisodeContext, en: list[Segment], jp: list[Segment],
                               en_to_jp: Any) -> dict[str, float | None]:
    """Per given transcript (not the ASR's): the share of the episode's speech its segments cover.

    The speech is the diarization's (the RTTM's turns: the JP track's speech, found by the diarizer's
    VAD), so nothing is computed again. The EN transcript is compared on the JP timeline (its times
    mapped with the sync): the dub speaks where the original does.
    """
    from ..formats.rttm import read_rttm

    given = [lang for lang in (EN, JP) if ctx.ref.transcripts.get(lang)]
    if not given:
        return {}
    speech = [(t.start, t.end) for t in read_rttm(ctx.artifact("jp.rttm"))]
    out: dict[str, float | None] = {}
    for lang in given:
        if lang == JP:
            spans = [(s.start, s.end) for s in jp]
        else:
            spans = [(float(en_to_jp(s.start)), float(en_to_jp(s.end))) for s in en]
        out[lang] = speech_coverage(spans, speech)
    return out


def _speakers(ctx: EpisodeContext, starts: np.ndarray, ends: np.ndarray
              ) -> tuple[list[list[str]], list[float | None]]:
    """Each clip's speakers and the confidence of that speaker set (from the RTTM's turn confidences)."""
    from ..diarize import clip_confidence, clip_speakers
    from ..formats.rttm import read_rttm

    turns = read_rttm(ctx.artifact("jp.rttm"))
    intervals = np.column_stack([starts, ends])
    return clip_speakers(turns, intervals), clip_confidence(turns, intervals)


def _mixing_ratios(ctx: EpisodeContext, starts: np.ndarray, ends: np.ndarray) -> list[float | None]:
    """Each clip's mixing ratio from the JP mix and the separated backing: with the embedded separators
    (dual-track, HPSS) the backing's shrinkage undone (:func:`anim400k.mixing.estimated_mixing_ratios`,
    calibrated on their estimates); with demucs the plain fit (:func:`anim400k.mixing.mixing_ratios`),
    since the correction reads low on a backing that is not shrunk."""
    import soundfile as sf

    from ..mixing import estimated_mixing_ratios, mixing_ratios

    mix = ctx.analysis_audio(JP)
    backing, _ = sf.read(ctx.artifact("backing.flac"), dtype="float32")
    n = min(len(mix), len(backing))
    mix, backing = mix[:n], backing[:n]
    intervals = list(zip(starts, ends, strict=True))
    if ctx.options.separator in UNSHRUNK_SEPARATORS:
        return [f.ratio_db for f in mixing_ratios(mix, mix - backing, backing, ANALYSIS_SR, intervals)]
    return list(estimated_mixing_ratios(mix, backing, ANALYSIS_SR, intervals))


#: Separators whose backing is not a shrunk (Wiener-type) estimate of the mix: the release's mixing
#: ratio takes the plain fit on their stems (docs/separation.md).
UNSHRUNK_SEPARATORS = frozenset({"demucs"})


MIN_CLIP_SECONDS = 0.05


def _inside_jp_medium(clips: list[Clip], jp_duration: float | None) -> tuple[list[Clip], int]:
    """Clamp clips to the JP medium's end and drop those with (almost) nothing left in it.

    With an offset between the media, EN speech can fall where the JP medium has no content; such a
    clip has no JP audio and is not a bilingual pair. Clips wholly before the medium's start are
    already dropped (and counted) by :func:`~anim400k.align.align_segments`. A clamped clip keeps the
    subtitle events overlapping its stored JP interval (those starting before its new end), as
    ``anim400k validate`` requires: the aligner matched them on the interval before the clamp.
    """
    kept = []
    for c in clips:
        if jp_duration is not None and c.jp_end > (end := round(float(jp_duration), 3)):
            c.jp_end = end
            c.en_subtitles = [s for s in c.en_subtitles if s.start < end]
        if c.jp_duration >= MIN_CLIP_SECONDS:
            kept.append(c)
    return kept, len(clips) - len(kept)


#: a clip reaching outside the EN medium is kept (clamped) only if at least this share of its EN span is inside
MIN_EN_INSIDE_SHARE = 0.5


def inside_en_medium(clips: list[Clip], en_duration: float | None) -> tuple[list[Clip], int, int]:
    """Clamp clips' EN times to the EN medium and drop those with little left in it.

    Returns (kept clips, dropped, clipped). A clip's EN times are its group's hull on the EN timeline,
    which takes in the JP segments mapped there: where the EN medium is shorter than the JP one (or
    the offset maps JP speech before its start), they can lie outside the EN medium, where there is
    no EN audio. A clip is dropped when under :data:`MIN_EN_INSIDE_SHARE` of its EN span (or under
    ``MIN_CLIP_SECONDS``) lies inside: its EN clip would hold the tail of a line whose JP holds the whole (an EN
    track starting 7.5 s into the JP one paired two JP lines with 0.9 s of the second's English).
    ``en_duration`` None (unknown) clamps only at 0.
    """
    end = None if en_duration is None else round(float(en_duration), 3)
    kept: list[Clip] = []
    clipped = 0
    for c in clips:
        start, stop = max(c.en_start, 0.0), c.en_end if end is None else min(c.en_end, end)
        if stop - start < MIN_CLIP_SECONDS or stop - start < MIN_EN_INSIDE_SHARE * (c.en_end - c.en_start) - 1e-3:
            continue
        if (start, stop) != (c.en_start, c.en_end):
            clipped += 1
            c.en_start, c.en_end = start, stop
        kept.append(c)
    return kept, len(clips) - len(kept), clipped


#: EN and JP media whose lengths differ by more than this after the sync (seconds) are reported
MEDIA_LENGTH_TOLERANCE = 2.0


def media_length_mismatch(jp_duration: float | None, en_duration: float | None, jp_to_en: Any
                          ) -> dict[str, float] | None:
    """The two media's lengths when, after the sync, the EN medium ends more than
    :data:`MEDIA_LENGTH_TOLERANCE` seconds before or after the JP medium's end mapped onto it; else None.

    (A truncated file, another cut of the episode, or extra material at the end of one of them.)
    """
    if jp_duration is None or en_duration is None:
        return None
    difference = float(en_duration) - float(jp_to_en(float(jp_duration)))
    if abs(difference) <= MEDIA_LENGTH_TOLERANCE:
        return None
    return {"jp": round(float(jp_duration), 3), "en": round(float(en_duration), 3), "difference": round(difference, 3)}


def inside_medium(segments: list[Segment], duration: float | None) -> tuple[list[Segment], int, int]:
    """Drop the segments that start at or past the medium's end and clip those that straddle it.

    Returns (kept segments, dropped, clipped). A given transcript can hold lines past the end of the
    medium (another cut of the episode, a longer file): such lines have no audio, and clips made of
    them would be silence with text. Words past the end are dropped and a straddling word is clipped;
    a clipped segment keeps its text. ``duration`` None (unknown) keeps everything.
    """
    if duration is None:
        return list(segments), 0, 0
    end = round(float(duration), 3)
    kept: list[Segment] = []
    dropped = clipped = 0
    for s in segments:
        if s.start >= end - MIN_CLIP_SECONDS:
            dropped += 1
            continue
        if s.end > end:
            clipped += 1
            words = [Word(w.start, min(w.end, end), w.text, w.probability) for w in s.words if w.start < end]
            s = Segment(s.start, end, s.text, words, s.speaker, s.transcribed)
        kept.append(s)
    return kept, dropped, clipped


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, merged intervals."""
    out: list[tuple[float, float]] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


#: a given transcript whose segments cover less than this share of the speech found is reported
MIN_TRANSCRIPT_COVERAGE = 0.5


def speech_coverage(segments: list[tuple[float, float]], speech: list[tuple[float, float]]) -> float | None:
    """Share of the ``speech`` regions' time that the ``segments`` cover (None: no speech found)."""
    from ..evaluate.speech_timing import intersection, total

    sp = _union(speech)
    if total(sp) <= 0:
        return None
    return round(intersection(_union(segments), sp) / total(sp), 4)


def medium_length(ctx: EpisodeContext, probe: dict[str, Any], lang: str) -> float | None:
    """Seconds of one language's stream on its medium's timeline: the audio stage's decoded track (sample 0 is
    the container's start), so a file holding both languages gives each stream's own end, not the container's
    (the longer stream's); the probed container length when that track cannot be read."""
    import soundfile as sf

    try:
        info = sf.info(str(ctx.artifact(f"{lang}.16k.flac")))
    except (OSError, RuntimeError, sf.LibsndfileError):
        return probe[lang]["duration"]
    return info.frames / info.samplerate if info.samplerate else probe[lang]["duration"]


def make_episode_clips(ctx: EpisodeContext) -> dict[str, Any]:
    """Align the episode's transcripts and return the clips.json payload (:meth:`Clip.to_dict` per clip)."""
    from ..formats.transcripts import read_transcript

    en = read_transcript(ctx.artifact(f"{EN}.transcript.json"), language=EN)
    jp = read_transcript(ctx.artifact(f"{JP}.transcript.json"), language=JP)
    probe = ctx.read_json("probe.json")
    en_length, jp_length = medium_length(ctx, probe, EN), medium_length(ctx, probe, JP)
    en_segs, en_dropped, en_clipped = inside_medium(en.segments, en_length)
    jp_segs, jp_dropped, jp_clipped = inside_medium(jp.segments, jp_length)
    tm = ctx.timemap()
    coverage = _given_transcript_coverage(ctx, en_segs, jp_segs, tm.en_to_jp)
    subs = ctx.subtitles()
    # a piecewise map (an edited EN medium): each piece aligned on its own, no clip across a break
    aligned = align_piecewise(en_segs, jp_segs, tm, subs, tolerance_ms=ctx.options.tolerance_ms)
    clips, short = _inside_jp_medium(aligned.clips, jp_length)
    outside = aligned.outside_jp_medium + short  # before the JP medium's start, past its end, or too short
    clips, outside_en, en_medium_clipped = inside_en_medium(clips, en_length)
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
        "unmatched_jp_segments": len(jp_segs) - matched,
        "clips_outside_jp_medium": outside,
        "clips_past_en_medium": {"dropped": outside_en, "clipped": en_medium_clipped},
        "edited_en": ({"en_unmapped": aligned.en_unmapped, "straddling": aligned.straddling, "split": aligned.split}
                      if tm.pieces else None),
        "media_length_mismatch": media_length_mismatch(jp_length, en_length, tm.jp_to_en),
        "transcript_past_end": {EN: {"dropped": en_dropped, "clipped": en_clipped},
                                JP: {"dropped": jp_dropped, "clipped": jp_clipped}},
        "transcripts_given": [lang for lang in (EN, JP) if ctx.ref.transcripts.get(lang)],
        "transcript_coverage": coverage,
        "jp_transcribed": any(s.transcribed for s in jp.segments),
        "en_transcribed": any(s.transcribed for s in en.segments),
        "clips": out,
    }
