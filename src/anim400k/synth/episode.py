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
from ..fsutil import write_json_atomic
from ..signal import loudness
from .music import synth_backing
from .phrases import PHRASES
from .speech import SpeakerVoices, natural_ms, render, speaker_voices
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


@dataclass(slots=True)
class _Line:
    speaker: int
    phrase: int
    kind: str  # "first", "normal", "close" (< 125 ms after the previous), "overlap"
    jp_audio: np.ndarray
    gap_ms: int = 0  # gap before the line (close), or overlap amount (overlap)
    jp_start: int = 0  # ms, JP timeline
    en_start: int = 0  # ms, JP (common) timeline
    en_audio: np.ndarray | None = None

    @property
    def jp_ms(self) -> int:
        return len(self.jp_audio) // 48 if self.jp_audio is not None else 0


def _ms(x: np.ndarray, sr: int) -> int:
    return int(len(x) * 1000 // sr)


def _plan_lines(
    rng: np.random.Generator, voices: list[SpeakerVoices], lo_ms: int, hi_ms: int, target_ms: int, sr: int
) -> list[_Line]:
    """Choose lines and their JP start times (ms) so JP speech covers about ``target_ms``."""
    order = list(rng.permutation(len(PHRASES)))
    lines: list[_Line] = []
    union = 0
    n_spk = len(voices)
    first_speakers = [int(x) for x in rng.permutation(n_spk)]  # everyone speaks early on
    speaker = first_speakers[0]
    # guarantee at least one overlap and one close pair early, whatever the dice say
    force_overlap, force_close = int(rng.integers(2, 4)), int(rng.integers(1, 5))
    while True:
        if not order:
            order = list(rng.permutation(len(PHRASES)))
        phrase = int(order.pop())
        kind = "first" if not lines else "normal"
        u = float(rng.random())
        prev = lines[-1] if lines else None
        has = {ln.kind for ln in lines}
        if (
            prev is not None
            and n_spk > 1
            and (u < 0.12 or (len(lines) >= force_overlap and "overlap" not in has))
        ):
            kind = "overlap"
        elif prev is not None and (u < 0.3 or (len(lines) >= force_close and "close" not in has)):
            kind = "close"
        if len(lines) < n_spk:
            speaker = first_speakers[len(lines)]
            if kind == "overlap" and prev is not None and speaker == prev.speaker:
                kind = "normal"
        elif kind == "overlap" or (n_spk > 1 and rng.random() < 0.75):
            speaker = (speaker + 1 + int(rng.integers(n_spk - 1))) % n_spk if n_spk > 1 else 0
        audio = render(PHRASES[phrase][0], voices[speaker].jp, sr=sr)
        d = _ms(audio, sr)
        line = _Line(speaker, phrase, kind, audio)
        inc = d
        if kind == "overlap":
            if prev is None or prev.jp_ms < 700 or d < 700:
                line.kind = kind = "normal"
            else:
                line.gap_ms = int(rng.integers(250, min(800, prev.jp_ms // 2, d // 2) + 1))
                inc = d - line.gap_ms
        if kind == "close":
            line.gap_ms = int(rng.integers(20, 111))
        if union + inc > target_ms and (target_ms - union) < inc / 2:
            break
        lines.append(line)
        union += inc
        if union >= target_ms:
            break
    # distribute the silence: close gaps fixed, the rest (and lead/tail) random but >= min_gap
    min_gap = 350
    while lines:
        span = union + sum(ln.gap_ms for ln in lines if ln.kind == "close")
        silence = (hi_ms - lo_ms) - span
        k = sum(ln.kind in ("normal",) for ln in lines) + 2
        if silence >= min_gap * k:
            break
        lines.pop()
        union = sum(ln.jp_ms - (ln.gap_ms if ln.kind == "overlap" else 0) for ln in lines)
    if not lines:
        return []
    w = rng.gamma(1.5, 1.0, size=k) + 0.1
    gaps = min_gap + np.floor((silence - min_gap * k) * w / w.sum()).astype(int)
    gi = iter(gaps.tolist())
    frontier = lo_ms + next(gi)
    first = True
    for ln in lines:
        if first:
            ln.jp_start, first = frontier, False
        elif ln.kind == "close":
            ln.jp_start = frontier + ln.gap_ms
        elif ln.kind == "overlap":
            ln.jp_start = frontier - ln.gap_ms
        else:
            ln.jp_start = frontier + next(gi)
        frontier = max(frontier, ln.jp_start + ln.jp_ms)
    return lines


def _place_en(
    rng: np.random.Generator, lines: list[_Line], voices: list[SpeakerVoices], hi_ms: int, sr: int
) -> None:
    """Choose each EN line's start (common timeline, ms) and render it with a length that differs from JP."""
    en_frontier = -(10**9)
    prev_end = None
    rate: dict[str, float] = {}  # per neural voice: natural length / estimated length
    for i, ln in enumerate(lines):
        jit = int(rng.integers(-200, 201))
        start = ln.jp_start + jit
        if ln.kind == "close" and prev_end is not None:
            cand = prev_end + int(rng.integers(20, 101))
            if abs(cand - ln.jp_start) <= 300:
                start = cand
        elif ln.kind != "overlap":
            start = min(max(start, en_frontier + 150), ln.jp_start + 300)
        ln.en_start = start
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None:
            room = hi_ms + 250 - start
        elif nxt.kind == "close":
            room = nxt.jp_start - 60 - start
        elif nxt.kind == "overlap":
            room = 10**9
        else:
            room = nxt.jp_start + 50 - start
        d = ln.jp_ms
        ratio = float(rng.uniform(0.7, 0.88)) if rng.random() < 0.45 else float(rng.uniform(1.15, 1.5))
        target = max(0.6 * d, min(ratio * d, room))
        text = PHRASES[ln.phrase][1]
        v = voices[ln.speaker].en
        est = natural_ms(text, v, sr)
        speed = v.speed_for(est * rate.get(v.name, 1.0) / max(target, 1.0))
        ln.en_audio = render(text, v, speed=speed, sr=sr)
        if v.engine == "neural":  # learn how this voice's pace differs from the estimate
            seen = _ms(ln.en_audio, sr) * float(speed) / float(v.speed) / max(est, 1)
            rate[v.name] = 0.5 * rate.get(v.name, seen) + 0.5 * seen
        prev_end = start + _ms(ln.en_audio, sr)
        en_frontier = max(en_frontier, prev_end)


def _loudness(x: np.ndarray, sr: int) -> float:
    """:func:`anim400k.signal.loudness` of ``x`` zero-padded to 0.5 s (a short line is levelled as if in
    half a second of silence; kept so that the synthetic episodes stay the same)."""
    if len(x) < sr // 2:
        x = np.concatenate([x, np.zeros(sr // 2 - len(x) + 1, dtype=x.dtype)])
    return loudness(x, sr)


def _limit(x: np.ndarray, sr: int, ceiling: float, window_s: float = 0.005) -> np.ndarray:
    """Smooth peak limiter: ``|out| <= ceiling`` with a gain that changes over ~``window_s``."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    w = max(1, int(window_s * sr))
    env = uniform_filter1d(maximum_filter1d(np.abs(x), 2 * w + 1), w)
    return x * np.minimum(1.0, ceiling / np.maximum(env, 1e-12))


def _level(x: np.ndarray, sr: int, lufs: float, ceiling: float = 0.5) -> np.ndarray:
    """``x`` at loudness ``lufs`` with its (espeak-typical, high) peaks limited near ``ceiling``."""
    y = np.asarray(x, dtype=np.float64)
    for _ in range(2):  # normalise, limit, renormalise the little loudness the limiter took
        y = _limit(y * 10 ** ((lufs - _loudness(y, sr)) / 20), sr, ceiling)
    return y


def _add(dst: np.ndarray, start: int, sig: np.ndarray) -> None:
    a, b = max(0, start), min(len(dst), start + len(sig))
    if a < b:
        dst[a:b] += sig[a - start : b - start]


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
    tl = _Timeline(float(duration), float(offset), 1.0 + float(drift), sr)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ss = np.random.SeedSequence(int(seed))
    rng_plan, rng_music, rng_level, rng_sub = (np.random.default_rng(s) for s in ss.spawn(4))

    spk_voices = speaker_voices(n_speakers, voices)
    lines = _plan_episode(rng_plan, spk_voices, tl, speech_fraction)
    jp_c, en_c = _speech_tracks(lines, tl, n_speakers, rng_level)
    backing, jp_c, en_c = _add_backing(jp_c, en_c, tl, bool(lines), rng_music, rng_level)
    stems = _stems(backing, jp_c, en_c, tl)
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


@dataclass(frozen=True, slots=True)
class _Timeline:
    """The JP medium (``duration`` s), the EN medium (``t_en = offset + t_jp * scale``) and the
    common timeline both are built on (sample ``origin`` is ``t_jp = 0``)."""

    duration: float
    offset: float
    scale: float
    sr: int

    @property
    def cover_lo(self) -> float:
        """The earliest JP time (s, may be negative) the EN medium shows."""
        return -self.offset / self.scale

    @property
    def origin(self) -> int:
        return int(np.ceil(max(0.0, -self.cover_lo) * self.sr)) + 1

    @property
    def n_jp(self) -> int:
        return int(round(self.duration * self.sr))

    @property
    def n_common(self) -> int:
        return self.origin + self.n_jp + 1

    @property
    def n_en(self) -> int:
        return int(round((self.offset + self.duration * self.scale) * self.sr))

    def to_en(self, ms: int) -> float:
        """EN medium time (s) of common-timeline ``ms``."""
        return round(self.offset + ms / 1000 * self.scale, 6)


def _plan_episode(
    rng: np.random.Generator, spk_voices: list[SpeakerVoices], tl: _Timeline, speech_fraction: float | None
) -> list[_Line]:
    """The episode's lines, JP and EN rendered and placed (the EN medium covers ``[cover_lo, duration]``)."""
    lo_ms = int(np.ceil(max(0.0, tl.cover_lo) * 1000)) + 300
    hi_ms = int(np.floor(tl.duration * 1000)) - 300
    frac = speech_fraction if speech_fraction is not None else float(rng.uniform(0.45, 0.55))
    target_ms = int(min(frac * tl.duration * 1000, 0.8 * max(0, hi_ms - lo_ms)))
    lines = _plan_lines(rng, spk_voices, lo_ms, hi_ms, target_ms, tl.sr) if hi_ms - lo_ms > 1500 else []
    _place_en(rng, lines, spk_voices, hi_ms, tl.sr)
    return lines


def _speech_tracks(
    lines: list[_Line], tl: _Timeline, n_speakers: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """JP and EN speech on the common timeline, each line at its speaker's loudness (+- a little)."""
    sr = tl.sr
    jp_c = np.zeros(tl.n_common, np.float64)
    en_c = np.zeros(tl.n_common, np.float64)
    spk_level = rng.uniform(-19.0, -17.0, size=n_speakers)
    for ln in lines:
        target = float(spk_level[ln.speaker] + rng.uniform(-1.5, 1.5))
        for arr, audio, start, extra in (
            (jp_c, ln.jp_audio, ln.jp_start, 0.0),
            (en_c, ln.en_audio, ln.en_start, float(rng.uniform(-1, 1))),
        ):
            _add(arr, tl.origin + start * sr // 1000, _level(audio, sr, target + extra))
    return jp_c, en_c


def _add_backing(
    jp_c: np.ndarray, en_c: np.ndarray, tl: _Timeline, has_lines: bool,
    rng_music: np.random.Generator, rng_level: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The music 10-15 LU under the JP speech; all three scaled down together when a mix would clip."""
    sr, origin = tl.sr, tl.origin
    backing = synth_backing(tl.n_common, sr, rng_music)
    speech_lufs = _loudness(jp_c[origin:], sr) if has_lines else -18.0
    if not np.isfinite(speech_lufs):
        speech_lufs = -18.0
    back_target = speech_lufs - float(rng_level.uniform(10.0, 15.0))
    backing *= 10 ** ((back_target - _loudness(backing[origin:], sr)) / 20)
    peak = max(np.max(np.abs(backing + jp_c)), np.max(np.abs(backing + en_c)), 1e-9)
    if peak > 0.89:
        g = 0.89 / peak
        backing, jp_c, en_c = backing * g, jp_c * g, en_c * g
    return backing, jp_c, en_c


def _stems(backing: np.ndarray, jp_c: np.ndarray, en_c: np.ndarray, tl: _Timeline) -> dict[str, np.ndarray]:
    """The stems of :data:`STEM_FILES`: JP ones cut from the common timeline, EN ones resampled onto
    the EN medium's (sample k at ``t_en = k/sr`` shows common position ``origin + (t_en - offset)/scale``)."""
    origin, n_jp, sr = tl.origin, tl.n_jp, tl.sr
    stems: dict[str, np.ndarray] = {}
    stems["backing"] = backing[origin : origin + n_jp].astype(np.float32)
    stems["jp_speech"] = jp_c[origin : origin + n_jp].astype(np.float32)
    stems["jp_mix"] = stems["backing"] + stems["jp_speech"]
    pos = origin + ((np.arange(tl.n_en) / sr - tl.offset) / tl.scale) * sr
    grid = np.arange(tl.n_common)
    stems["en_backing"] = np.interp(pos, grid, backing, left=0.0, right=0.0).astype(np.float32)
    stems["en_speech"] = np.interp(pos, grid, en_c, left=0.0, right=0.0).astype(np.float32)
    stems["en_mix"] = stems["en_backing"] + stems["en_speech"]
    return stems


def _truth_lines(
    lines: list[_Line], tl: _Timeline, rng: np.random.Generator
) -> tuple[list[TruthLine], list[TruthSubtitle]]:
    """The truth of every line (in JP start order) and its EN subtitle (a little wider than the JP speech)."""
    sr = tl.sr
    truth_lines, subs = [], []
    for i, ln in enumerate(sorted(lines, key=lambda x: (x.jp_start, x.speaker))):
        jp, en, sub = PHRASES[ln.phrase]
        jp_end = ln.jp_start + _ms(ln.jp_audio, sr)
        en_end = ln.en_start + _ms(ln.en_audio, sr)
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
    tl: _Timeline, fps: int, width: int, height: int, video: bool, embed_subtitles: bool,
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
