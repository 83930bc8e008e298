"""The embedded neural TTS: a pool of offline voices from hibari-tts and Kokoro-82M.

A :class:`NeuralVoice` is one of

- ``hibari:heart`` with its F0 scaled (``hibari:heart@0.70`` speaks 0.7x lower), English only;
- ``kokoro:NAME`` for Kokoro's voices (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro,
  jm_kumo), or ``kokoro:A+B`` for the equal blend of two voices' styles; Japanese from
  Japanese phonemes, English from hibari's English phonemes.

:func:`speak` renders a line (trimmed, float32 at 24 kHz) and caches it on disk by
(text, voice, speed, language) (:mod:`anim400k.tts.cache`). :class:`NeuralSynthesizer` is the
dubbing backend (``--tts neural``, the default): each source speaker gets one voice of the
English pool for the whole episode, chosen by register (source median F0), distinct from the
voices of the speakers before it for up to 16 speakers (the register's own voices, then Kokoro
style blends derived from them, then the other register's); heart is pitch-shaped to the source
speaker's median F0 at synthesis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import hibari as hibari_engine
from . import kokoro as kokoro_engine
from .base import UnspeakableText, VoiceProfile, clean_text
from .cache import cache_key, cached_audio

SAMPLE_RATE = 24000


@dataclass(frozen=True, slots=True)
class NeuralVoice:
    """One neural voice: ``engine`` (``hibari``/``kokoro``), ``names`` (one voice, or several to
    blend, Kokoro only) and ``f0_scale`` (hibari only)."""

    engine: str
    names: tuple[str, ...]
    f0_scale: float = 1.0

    @property
    def name(self) -> str:
        """``engine:a+b[@scale]``: parseable by :func:`parse_voice`."""
        scale = f"@{self.f0_scale:.2f}" if abs(self.f0_scale - 1.0) > 1e-6 else ""
        return f"{self.engine}:{'+'.join(self.names)}{scale}"

    def scaled(self, f0_scale: float) -> NeuralVoice:
        """This voice with another F0 scale (hibari only; Kokoro voices are returned as they are)."""
        if self.engine != "hibari":
            return self
        return NeuralVoice(self.engine, self.names, round(float(f0_scale), 2))


def parse_voice(spec: str) -> NeuralVoice:
    """``"kokoro:jf_alpha"``, ``"kokoro:jf_alpha+jm_kumo"``, ``"hibari:heart@0.7"`` -> :class:`NeuralVoice`."""
    m = re.fullmatch(r"(hibari|kokoro):([a-z_+]+)(?:@([0-9.]+))?", spec.strip())
    if not m:
        raise ValueError(f"not a neural voice: {spec!r} (e.g. kokoro:jf_alpha, hibari:heart@0.8)")
    engine, names, scale = m.group(1), tuple(m.group(2).split("+")), float(m.group(3) or 1.0)
    if engine == "hibari" and names != (hibari_engine.VOICE,):
        raise ValueError(f"hibari voice must be {hibari_engine.VOICE!r} (the only one that ships), got {spec!r}")
    if engine == "kokoro" and any(n not in kokoro_engine.VOICES for n in names):
        raise ValueError(f"unknown Kokoro voice in {spec!r}; choose from {', '.join(kokoro_engine.VOICES)}")
    if not 0.4 <= scale <= 2.0:
        raise ValueError(f"F0 scale must be in [0.4, 2], got {scale} in {spec!r}")
    return NeuralVoice(engine, names, scale)


def _v(spec: str) -> NeuralVoice:
    return parse_voice(spec)


#: Japanese voices of synthetic speakers 0, 1, ... (then blends, so up to 12 stay distinct).
JAPANESE_POOL: tuple[NeuralVoice, ...] = tuple(
    _v(s)
    for s in (
        "kokoro:jm_kumo", "kokoro:jf_alpha", "kokoro:jf_nezumi", "kokoro:jf_tebukuro", "kokoro:jf_gongitsune",
        "kokoro:jm_kumo+jf_tebukuro", "kokoro:jf_alpha+jf_nezumi", "kokoro:jm_kumo+jf_gongitsune",
        "kokoro:jf_tebukuro+jf_gongitsune", "kokoro:jm_kumo+jf_alpha", "kokoro:jf_nezumi+jf_gongitsune",
        "kokoro:jf_alpha+jf_tebukuro",
    )
)
# Median F0 speaking English (librosa.pyin): jm_kumo 89 Hz, heart 202 (x0.62: 122), jf_alpha 275,
# jf_tebukuro 344, jf_gongitsune 254, jf_nezumi 237, jm_kumo+jf_alpha 168, jm_kumo+jf_tebukuro 205.
#: English voices of low-register speakers (source median F0 below HIGH_VOICE_F0), best first.
ENGLISH_LOW: tuple[NeuralVoice, ...] = tuple(
    _v(s) for s in ("kokoro:jm_kumo", "hibari:heart@0.62", "kokoro:jm_kumo+jf_alpha")
)
#: English voices of high-register speakers, best first: each next voice is the one least like
#: the voices before it (Resemblyzer, mean similarity across 6 lines: heart-jf_alpha 0.59,
#: -jf_gongitsune 0.59, -jf_tebukuro 0.64; jf_gongitsune-jf_nezumi 0.77 are the closest pair).
ENGLISH_HIGH: tuple[NeuralVoice, ...] = tuple(
    _v(s)
    for s in ("hibari:heart", "kokoro:jf_alpha", "kokoro:jf_gongitsune", "kokoro:jf_tebukuro", "kokoro:jf_nezumi")
)
#: Derived voices for when a register's pool runs out (more speakers than voices): equal blends of two
#: Kokoro voices' styles, each distinct from the single voices and from the other blends. Low: blends
#: with jm_kumo (the one male voice); high: blends of two female voices. With them 16 speakers get
#: 16 distinct voices; before, the 8th speaker silently got a voice already given to another one.
LOW_BLENDS: tuple[NeuralVoice, ...] = tuple(
    _v(s) for s in ("kokoro:jm_kumo+jf_tebukuro", "kokoro:jm_kumo+jf_gongitsune", "kokoro:jm_kumo+jf_nezumi")
)
HIGH_BLENDS: tuple[NeuralVoice, ...] = tuple(
    _v(s)
    for s in (
        "kokoro:jf_alpha+jf_nezumi", "kokoro:jf_tebukuro+jf_gongitsune", "kokoro:jf_alpha+jf_tebukuro",
        "kokoro:jf_nezumi+jf_gongitsune", "kokoro:jf_alpha+jf_gongitsune", "kokoro:jf_tebukuro+jf_nezumi",
    )
)
#: English voices of synthetic speakers 0, 1, ... (low and high registers interleaved, as JAPANESE_POOL).
ENGLISH_POOL: tuple[NeuralVoice, ...] = tuple(
    _v(s)
    for s in (
        "kokoro:jm_kumo", "hibari:heart", "kokoro:jf_alpha", "kokoro:jf_gongitsune", "kokoro:jf_tebukuro",
        "hibari:heart@0.62", "kokoro:jf_nezumi", "kokoro:jm_kumo+jf_alpha", "hibari:heart@1.25",
        "kokoro:jm_kumo+jf_tebukuro", "kokoro:jf_alpha+jf_nezumi", "hibari:heart@0.8",
    )
)
#: How much longer Kokoro's voices speak a line than heart at speed 1 (measured: 1.05-1.21).
KOKORO_PACE = 1.12
#: Source speakers whose median F0 is at or above this (Hz) get a voice from ENGLISH_HIGH.
HIGH_VOICE_F0 = 165.0
#: heart's median F0 at scale 1 (Hz), to pitch-shape it onto a source speaker's median.
HEART_F0 = 202.0
#: F0 scales heart may take when pitch-shaped onto a speaker (outside, it stops sounding natural).
HEART_SCALE = (0.55, 1.35)


def voice_identity(voice: NeuralVoice) -> tuple[str, frozenset[str]]:
    """What makes two voices the same voice: the engine and the blended voices (not their order, nor
    heart's F0 scale, which the dub's pitch matching overrides)."""
    return voice.engine, frozenset(voice.names)


def phonemes(text: str, language: str) -> list[str]:
    """Kokoro-alphabet phoneme strings of ``text`` (``language`` ``en`` or ``ja``), one per sentence."""
    if language == "ja":
        return kokoro_engine.japanese_phonemes(text)
    if language == "en":
        return hibari_engine.english_phonemes(text)
    raise ValueError(f"language must be 'en' or 'ja', got {language!r}")


def _render(text: str, voice: NeuralVoice, speed: float, language: str) -> np.ndarray:
    parts = []
    chunks = phonemes(text, language)
    limit = kokoro_engine.MAX_TOKENS if voice.engine == "kokoro" else hibari_engine.MAX_PHONEMES
    if len(" ".join(chunks)) <= limit:
        chunks = [" ".join(chunks)]  # one model call for a short multi-sentence line (no inner pauses)
    for ps in chunks:
        if voice.engine == "hibari":
            parts.append(hibari_engine.speak(ps, speed, voice.f0_scale, seed=0))
        else:
            parts.append(kokoro_engine.speak(ps, voice.names, speed))
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return tame_peaks(trim(audio, SAMPLE_RATE), SAMPLE_RATE)


#: Peak-to-RMS ratio (dB) lines are limited to: espeak-ng's and Kokoro's speech sit at ~15 dB;
#: hibari's pulse excitation raised in pitch reaches ~20 dB, which made mixes hit the limiter.
MAX_CREST_DB = 15.0


def tame_peaks(x: np.ndarray, sr: int, crest_db: float = MAX_CREST_DB, window_s: float = 0.005) -> np.ndarray:
    """Smoothly limit peaks above ``crest_db`` over the RMS of the speech (samples over 1 % of the peak)."""
    if x.size == 0:
        return x
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    a = np.abs(x)
    active = x[a > 0.01 * float(a.max())]
    ceiling = float(np.sqrt(np.mean(active.astype(np.float64) ** 2))) * 10 ** (crest_db / 20)
    w = max(1, int(window_s * sr))
    env = uniform_filter1d(maximum_filter1d(a, 2 * w + 1), w)
    gain = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
    return (x * gain).astype(np.float32)


def trim(x: np.ndarray, sr: int, rel: float = 0.02, pad_s: float = 0.01) -> np.ndarray:
    """Cut leading/trailing near-silence (under ``rel`` of the peak), keeping ``pad_s`` around speech."""
    if x.size == 0:
        return x
    thr = rel * float(np.max(np.abs(x)))
    idx = np.flatnonzero(np.abs(x) > thr)
    if idx.size == 0 or thr <= 0:
        return x[:0]
    pad = int(pad_s * sr)
    return x[max(0, idx[0] - pad) : idx[-1] + pad + 1]


def speak(text: str, voice: NeuralVoice | str, speed: float = 1.0, language: str = "en") -> np.ndarray:
    """``text`` spoken by ``voice`` at ``speed`` (>1 faster) in ``language``; float32 mono at 24 kHz,
    trimmed. Cached on disk by (text, voice, speed, language): a second call reads the file."""
    v = parse_voice(voice) if isinstance(voice, str) else voice
    speed = round(float(speed), 3)
    version = hibari_engine.version() if v.engine == "hibari" else kokoro_engine.version()
    key = cache_key(engine=v.engine, version=version, voice=v.name, text=text, speed=speed, language=language)
    return cached_audio(key, lambda: _render(text, v, speed, language))


class NeuralSynthesizer:
    """The default dubbing voices: ``synthesize(text, voice, sr, speed)`` -> float32 mono at ``sr``.

    Each speaker (by ``VoiceProfile.speaker``) is given one voice for the episode on first use:
    the first voice of its register's pool (:data:`ENGLISH_HIGH` at source median F0 >=
    :data:`HIGH_VOICE_F0`, else :data:`ENGLISH_LOW`; unknown pitch alternates by speaker index)
    not yet given to another speaker, then that register's blends (:data:`HIGH_BLENDS`,
    :data:`LOW_BLENDS`), then the other register's voices; past 16 speakers the register's
    least-used voice is shared (the dub report names the speakers that share it). heart
    (hibari) is pitch-shaped to the speaker's median F0 (within :data:`HEART_SCALE`).
    """

    name = "neural"

    def __init__(self, max_chars: int = 400, voices: dict[str, str] | None = None) -> None:
        self.max_chars = max_chars
        self._pinned = {speaker: parse_voice(spec) for speaker, spec in (voices or {}).items()}
        self._assigned: dict[str, NeuralVoice] = dict(self._pinned)
        self._pace: dict[str, float] = {}

    def new_recording(self) -> None:
        """Forget the voices chosen so far (pinned ones stay): the next source's speaker labels are its own.

        Dataset mode dubs clips one by one, each diarized on its own, so a clip's ``S0`` is not the
        previous clip's ``S0``; keeping the old choice gave e.g. a low voice pitch-shifted far up."""
        self._assigned = dict(self._pinned)

    def voice_for(self, voice: VoiceProfile | None) -> NeuralVoice:
        """The neural voice that speaks for ``voice`` (stable per speaker within this synthesizer)."""
        profile = voice or VoiceProfile("spk")
        if profile.speaker in self._assigned:
            return self._assigned[profile.speaker]
        if profile.f0_median is None:
            high = profile.index % 2 == 1
        else:
            high = profile.f0_median >= HIGH_VOICE_F0
        own = (*ENGLISH_HIGH, *HIGH_BLENDS) if high else (*ENGLISH_LOW, *LOW_BLENDS)
        other = (*ENGLISH_LOW, *LOW_BLENDS) if high else (*ENGLISH_HIGH, *HIGH_BLENDS)
        taken = [voice_identity(v) for v in self._assigned.values()]
        fresh = [v for v in (*own, *other) if voice_identity(v) not in taken]
        if fresh:  # the register's own voices (then its derived blends) before the other register's
            chosen = fresh[0]
        else:  # more speakers than distinct voices: the register's least-used voice (the report warns)
            chosen = min(own, key=lambda v: taken.count(voice_identity(v)))
        if chosen.engine == "hibari" and profile.f0_median:
            lo, hi = HEART_SCALE
            chosen = chosen.scaled(float(np.clip(profile.f0_median / HEART_F0, lo, hi)))
        self._assigned[profile.speaker] = chosen
        return chosen

    def voice_name(self, voice: VoiceProfile | None) -> str:
        """The voice's spec (``kokoro:jm_kumo``, ``hibari:heart@0.80``)."""
        return self.voice_for(voice).name

    def estimate_seconds(self, text: str, voice: VoiceProfile | None) -> float | None:
        """About how long ``text`` lasts at speed 1 in ``voice``'s voice, without running Kokoro:
        hibari's heart speaks it (50x faster than real time; its durations are distilled from
        Kokoro's), scaled by how much slower the voice has been than heart on the lines spoken so far
        (:data:`KOKORO_PACE` before the first). Lets the dub speak each line once, at its fitted speed."""
        try:
            line = clean_text(text, self.max_chars)
        except UnspeakableText:
            return None
        v = self.voice_for(voice)
        heart = len(speak(line, parse_voice("hibari:heart"), 1.0, "en")) / SAMPLE_RATE
        if v.engine == "hibari" or heart <= 0:
            return heart or None
        return heart * self._pace.get(v.name, KOKORO_PACE)

    def synthesize(self, text: str, voice: VoiceProfile | None, sr: int, speed: float = 1.0) -> np.ndarray:
        """Speak ``text`` (English) in the speaker's voice at ``speed``, resampled to ``sr``."""
        line = clean_text(text, self.max_chars)
        v = self.voice_for(voice)
        audio = speak(line, v, speed, "en")
        if audio.size == 0:
            raise UnspeakableText(f"no speech for {line[:40]!r}")
        if v.engine == "kokoro":  # learn the voice's pace relative to heart (for estimate_seconds)
            heart = len(speak(line, parse_voice("hibari:heart"), 1.0, "en"))
            if heart > 0:
                seen = len(audio) * float(speed) / heart
                self._pace[v.name] = 0.5 * self._pace.get(v.name, seen) + 0.5 * seen
        if sr != SAMPLE_RATE:
            from ..signal import resample

            audio = resample(audio.astype(np.float64), SAMPLE_RATE, int(sr))
        return np.ascontiguousarray(audio, dtype=np.float32)
