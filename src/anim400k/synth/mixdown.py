"""The audio of a synthetic episode: speech tracks levelled per speaker, the music under them, the stems."""

from __future__ import annotations

import numpy as np

from ..signal import loudness
from .lines import Line
from .music import synth_backing
from .timeline import Timeline


def padded_loudness(x: np.ndarray, sr: int) -> float:
    """:func:`anim400k.signal.loudness` of ``x`` zero-padded to 0.5 s (a short line is levelled as if in
    half a second of silence; kept so that the synthetic episodes stay the same)."""
    if len(x) < sr // 2:
        x = np.concatenate([x, np.zeros(sr // 2 - len(x) + 1, dtype=x.dtype)])
    return loudness(x, sr)


def limit_peaks(x: np.ndarray, sr: int, ceiling: float, window_s: float = 0.005) -> np.ndarray:
    """Smooth peak limiter: ``|out| <= ceiling`` with a gain that changes over ~``window_s``."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    w = max(1, int(window_s * sr))
    env = uniform_filter1d(maximum_filter1d(np.abs(x), 2 * w + 1), w)
    return x * np.minimum(1.0, ceiling / np.maximum(env, 1e-12))


def level_to(x: np.ndarray, sr: int, lufs: float, ceiling: float = 0.5) -> np.ndarray:
    """``x`` at loudness ``lufs`` with its (espeak-typical, high) peaks limited near ``ceiling``."""
    y = np.asarray(x, dtype=np.float64)
    for _ in range(2):  # normalise, limit, renormalise the little loudness the limiter took
        y = limit_peaks(y * 10 ** ((lufs - padded_loudness(y, sr)) / 20), sr, ceiling)
    return y


def add_at(dst: np.ndarray, start: int, sig: np.ndarray) -> None:
    """Add ``sig`` into ``dst`` from sample ``start`` on (the part outside ``dst`` is dropped)."""
    a, b = max(0, start), min(len(dst), start + len(sig))
    if a < b:
        dst[a:b] += sig[a - start : b - start]


def speech_tracks(
    lines: list[Line], tl: Timeline, n_speakers: int, rng: np.random.Generator
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
            add_at(arr, tl.origin + start * sr // 1000, level_to(audio, sr, target + extra))
    return jp_c, en_c


def add_backing(
    jp_c: np.ndarray, en_c: np.ndarray, tl: Timeline, has_lines: bool,
    rng_music: np.random.Generator, rng_level: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The music 10-15 LU under the JP speech; all three scaled down together when a mix would clip."""
    sr, origin = tl.sr, tl.origin
    backing = synth_backing(tl.n_common, sr, rng_music)
    speech_lufs = padded_loudness(jp_c[origin:], sr) if has_lines else -18.0
    if not np.isfinite(speech_lufs):
        speech_lufs = -18.0
    back_target = speech_lufs - float(rng_level.uniform(10.0, 15.0))
    backing *= 10 ** ((back_target - padded_loudness(backing[origin:], sr)) / 20)
    peak = max(np.max(np.abs(backing + jp_c)), np.max(np.abs(backing + en_c)), 1e-9)
    if peak > 0.89:
        g = 0.89 / peak
        backing, jp_c, en_c = backing * g, jp_c * g, en_c * g
    return backing, jp_c, en_c


def stems_of(backing: np.ndarray, jp_c: np.ndarray, en_c: np.ndarray, tl: Timeline) -> dict[str, np.ndarray]:
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
