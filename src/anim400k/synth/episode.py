"""Synthetic dubbed episodes with known ground truth (speech timings, speakers, stems, subtitles).

The episode is planned on the JP medium's timeline (the *common* timeline of the
content). The JP mix is ``backing + jp_speech`` on that timeline; the EN mix is
``backing + en_speech`` built on the same timeline and then mapped into the EN
medium's timeline ``t_en = offset + t_jp * (1 + drift)`` (linear interpolation),
like a dub whose release has a different intro length and playback speed. With a
positive offset the EN medium starts with ``offset`` seconds of content that
precedes the JP medium's start (backing only); with a negative one it starts later
in the content. Both media end at the same moment of content.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..formats.subtitles import write_srt
from ..fsutil.atomic import write_json_atomic
from .lines import Line, ms_of, plan_episode
from .mixdown import add_backing, speech_tracks, stems_of
from .phrases import PHRASES
from .speech import speaker_voices
from .timeline import Timeline
from .truth import Truth, TruthLine, TruthSubtitle, load_truth
from .video import make_frame
from .writer import AudioTrack, write_episode_media, write_wav

log = logging.getLogger(__name__)

STEM_FILES = {
    "backing": "backing.wav",
    "jp_speech": "jp_speech.wav",
    "jp_mix": "jp_mix.wav",
    "en_backing": "en_backing.wav",
    "en_speech": "en_speech.wav",
    "en_mix": "en_mix.wav",
}
MAX_SPEAKERS = 12
MAX_DURATION = 1800.0  # s (a 24-minute episode fits); peak memory is ~250 MB + ~230 MB per minute of episode
#: the shortest demo episode (s): a shorter one may hold no line, its EN track then the JP audio (refused by the build)
MIN_DEMO_DURATION = 5.0


@dataclass(frozen=True, slots=True)
class SynthEpisode:
    """Paths of a synthetic episode's files.

    ``media`` is the one MKV (H.264 video, ``jpn`` and ``eng`` audio); with
    ``separate_files`` also ``jp_media`` (video + ``jpn`` audio) and ``en_media``
    (``eng`` audio only, ``.mka``). ``stems_dir`` holds the WAV stems named in the truth.
    """

    out_dir: Path
    media: Path
    subtitles: Path
    truth: Path
    stems_dir: Path
    jp_media: Path | None = None
    en_media: Path | None = None

    def load_truth(self) -> Truth:
        """Read this episode's :class:`Truth`."""
        return load_truth(self.truth)


def make_episode(
    out_dir: str | Path,
    duration: float = 60.0,
    seed: int = 0,
    offset: float = 0.0,
    drift: float = 0.0,
    n_speakers: int = 3,
    separate_files: bool = False,
    *,
    sample_rate: int = 48000,
    fps: int = 25,
    width: int = 320,
    height: int = 180,
    speech_fraction: float | None = None,
    audio_codec: str = "flac",
    video: bool = True,
    embed_subtitles: bool = True,
    name: str = "episode",
    voices: str = "neural",
) -> SynthEpisode:
    """Synthesise a dubbed episode with known truth into ``out_dir``; return its paths.

    Writes ``{name}.mkv`` (H.264 test pattern with a frame counter, FLAC audio ``jpn``
    and ``eng``, and, with ``embed_subtitles``, an ``eng`` SubRip subtitle stream),
    ``{name}.en.srt`` (EN subtitles for the JP audio, JP timeline), ``truth.json`` and
    the WAV stems (see ``docs/synthetic.md``). ``offset`` (seconds) and ``drift``
    (relative) define the true map ``t_en = offset + t_jp * (1 + drift)``.
    ``separate_files`` also writes ``{name}.jp.mkv`` (video, ``jpn`` audio, subtitles)
    and ``{name}.en.mka`` (``eng`` audio). ``video=False`` leaves the video stream out
    (faster, for audio-only tests). ``voices="neural"`` speaks Japanese with Kokoro's Japanese
    voices and English with the neural English pool (lines cached on disk, see
    :mod:`anim400k.tts.cache`); ``voices="espeak"`` uses espeak-ng for both (fast, for unit
    tests that need no realistic speech). The same arguments give byte-identical files.
    """
    _check_arguments(duration, drift, n_speakers, sample_rate, audio_codec, offset)
    sr = int(sample_rate)
    tl = Timeline(float(duration), float(offset), 1.0 + float(drift), sr)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ss = np.random.SeedSequence(int(seed))
    rng_plan, rng_music, rng_level, rng_sub = (np.random.default_rng(s) for s in ss.spawn(4))

    spk_voices = speaker_voices(n_speakers, voices)
    lines = plan_episode(rng_plan, spk_voices, tl, speech_fraction)
    jp_c, en_c = speech_tracks(lines, tl, n_speakers, rng_level)
    backing, jp_c, en_c = add_backing(jp_c, en_c, tl, bool(lines), rng_music, rng_level)
    stems = stems_of(backing, jp_c, en_c, tl)
    truth_lines, subs = _truth_lines(lines, tl, rng_sub)
    truth = Truth(
        duration=float(duration),
        sample_rate=sr,
        seed=int(seed),
        offset=float(offset),
        drift=float(drift),
        speakers=[v.speaker for v in spk_voices],
        lines=truth_lines,
        subtitles=subs,
        stems=dict(STEM_FILES),
        en_duration=round(tl.n_en / sr, 6),
        voices={v.speaker: {"jp": v.jp.label, "en": v.en.label} for v in spk_voices},
        base_dir=out,
    )
    return _write_episode(out, name, stems, subs, truth, tl, fps, width, height, video, embed_subtitles,
                          separate_files, audio_codec)


def _check_arguments(
    duration: float, drift: float, n_speakers: int, sample_rate: int, audio_codec: str, offset: float
) -> None:
    """Raise ValueError on arguments :func:`make_episode` cannot honour."""
    if not 2.0 <= duration <= MAX_DURATION:
        raise ValueError(f"duration must be in [2, {MAX_DURATION:.0f}] s, got {duration}")
    if not -0.2 < drift < 0.2:
        raise ValueError(f"drift must be within +-20 %, got {drift}")
    if not 1 <= n_speakers <= MAX_SPEAKERS:
        raise ValueError(f"n_speakers must be in [1, {MAX_SPEAKERS}], got {n_speakers}")
    if sample_rate % 1000:
        raise ValueError("sample_rate must be a multiple of 1000")
    if audio_codec not in ("flac", "aac"):
        raise ValueError(f"audio_codec must be 'flac' or 'aac', got {audio_codec!r}")
    if float(offset) + float(duration) * (1.0 + float(drift)) < 1.0:
        raise ValueError(f"offset {offset} leaves an EN medium shorter than 1 s")


def _truth_lines(
    lines: list[Line], tl: Timeline, rng: np.random.Generator
) -> tuple[list[TruthLine], list[TruthSubtitle]]:
    """The truth of every line (in JP start order) and its EN subtitle (a little wider than the JP speech)."""
    sr = tl.sr
    truth_lines, subs = [], []
    for i, ln in enumerate(sorted(lines, key=lambda x: (x.jp_start, x.speaker))):
        jp, en, sub = PHRASES[ln.phrase]
        jp_end = ln.jp_start + ms_of(ln.jp_audio, sr)
        en_end = ln.en_start + ms_of(ln.en_audio, sr)
        truth_lines.append(
            TruthLine(i, f"spk{ln.speaker}", ln.jp_start / 1000, jp_end / 1000, tl.to_en(ln.en_start),
                      tl.to_en(en_end), jp, en, sub)
        )
        s0 = max(0, ln.jp_start - int(rng.integers(0, 151)))
        s1 = min(tl.n_jp * 1000 // sr, jp_end + int(rng.integers(100, 401)))
        subs.append(TruthSubtitle(s0 / 1000, s1 / 1000, sub))
    return truth_lines, subs


def _write_episode(
    out: Path, name: str, stems: dict[str, np.ndarray], subs: list[TruthSubtitle], truth: Truth,
    tl: Timeline, fps: int, width: int, height: int, video: bool, embed_subtitles: bool,
    separate_files: bool, audio_codec: str,
) -> SynthEpisode:
    """Write the stems, the SRT, the media (one MKV, plus JP/EN files with ``separate_files``) and truth.json."""
    sr = tl.sr
    for key, fname in STEM_FILES.items():
        write_wav(out / fname, stems[key], sr)
    srt_path = out / f"{name}.en.srt"
    write_srt(srt_path, subs)
    n_frames = int(round(tl.duration * fps)) if video else 0

    def frame_fn(k: int) -> np.ndarray:
        return make_frame(k, width, height, fps)

    tracks = [AudioTrack(stems["jp_mix"], "jpn", "Japanese"), AudioTrack(stems["en_mix"], "eng", "English")]
    media = out / f"{name}.mkv"
    sub_in = srt_path if embed_subtitles and subs else None
    write_episode_media(media, tracks, sr, frame_fn if video else None, n_frames, fps, audio_codec, sub_in)
    jp_media = en_media = None
    if separate_files:
        jp_media, en_media = out / f"{name}.jp.mkv", out / f"{name}.en.mka"
        write_episode_media(
            jp_media, tracks[:1], sr, frame_fn if video else None, n_frames, fps, audio_codec, sub_in
        )
        write_episode_media(en_media, tracks[1:], sr, None, 0, fps, audio_codec)
    truth_path = out / "truth.json"
    write_json_atomic(truth_path, json.loads(json.dumps(truth.to_dict())))
    return SynthEpisode(out, media, srt_path, truth_path, out, jp_media, en_media)
