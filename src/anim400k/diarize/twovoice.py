"""Two simultaneous voices in one frame: periodicity left after cancelling the dominant voice.

Overlapped speech without a speaker change (an interjection spoken inside another speaker's line)
leaves no trace in the frame-level re-segmentation, which gives each frame one speaker. What it
does leave is a second fundamental frequency: a sum of two voiced sounds is periodic in neither
voice's period alone. Per frame (``FRAME`` s every ``HOP`` s, on the speech low-passed to
``LOWPASS`` Hz and taken at 8 kHz), :func:`two_voice_track`:

1. finds the dominant period ``T1`` with the normalised difference function
   ``d(tau) = sum (x[n] - x[n + tau])^2 / (e[0] + e[tau])`` (0 for a periodic frame, ~1 for noise;
   the shortest lag within ``tolerance`` of the best one, a guard against octave errors);
2. cancels that voice with the comb filter ``y[n] = x[n] - x[n + T1]`` (fractional lag by linear
   interpolation; de Cheveigne's cancellation model of concurrent vowels);
3. measures the periodicity left in ``y`` away from the multiples and halves of ``T1``.

One voice cancels to a residual without a period of its own; two voices leave the second one.
``second`` (1 - the residual's best normalised difference) is the overlap evidence; ``f1`` / ``f2``
are the two F0s (Hz), ``residual`` the share of the frame's energy the cancellation left.
:func:`other_voice_turns` turns runs of an F0 far from a turn speaker's pitch into labels for the
speaker of that pitch (docs/diarization.md, *Another voice inside a line*).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

FRAME = 0.04
HOP = 0.02
SR = 8000
LOWPASS = 1500.0


@dataclass
class TwoVoiceTrack:
    """Per-frame two-voice analysis (frame ``i`` covers ``[i * HOP, i * HOP + FRAME]`` s)."""

    f1: np.ndarray
    periodicity: np.ndarray
    f2: np.ndarray
    second: np.ndarray
    residual: np.ndarray
    level: np.ndarray


def _diff(frames_a: np.ndarray, frames_b: np.ndarray, n: int, tmax: int) -> np.ndarray:
    """Normalised difference ``d(tau)`` for ``tau = 0..tmax`` of windows ``a[:n]`` against ``b[tau:tau+n]``."""
    import scipy.fft

    nfft = 1 << int(np.ceil(np.log2(n + tmax + 1)))
    fa = scipy.fft.rfft(frames_a[:, :n], nfft, axis=1)
    fb = scipy.fft.rfft(frames_b, nfft, axis=1)
    cross = scipy.fft.irfft(np.conj(fa) * fb, nfft, axis=1)[:, : tmax + 1]
    e0 = np.sum(frames_a[:, :n] ** 2, axis=1, keepdims=True)
    c = np.concatenate([np.zeros((len(frames_b), 1)), np.cumsum(frames_b**2, axis=1)], axis=1)
    lags = np.arange(tmax + 1)
    et = c[:, lags + n] - c[:, lags]
    return np.clip((e0 + et - 2 * cross) / np.maximum(e0 + et, 1e-12), 0.0, 2.0)


#: tracks longer than this many seconds are analysed in pieces of ``PIECE`` s (each with ``MARGIN`` s
#: of the track either side for the filters to settle): the whole-track float64 copies, resampled and
#: filtered, would take ~2.5 GB for two hours; shorter tracks go through whole, as they always did
WHOLE_MAX = 2700.0
PIECE = 600.0
MARGIN = 2.0


def two_voice_track(audio: np.ndarray, sr: int, fmin: float = 70.0, fmax: float = 450.0,
                    tolerance: float = 0.1, guard: float = 0.04, batch: int = 2048) -> TwoVoiceTrack:
    """:class:`TwoVoiceTrack` of mono ``audio`` at ``sr`` Hz (see the module docstring).

    A track longer than :data:`WHOLE_MAX` seconds is analysed piece by piece (the same frames; values
    equal to float rounding away from the track's ends, which the pieces share with the whole)."""
    hop_in = HOP * sr
    if len(audio) <= WHOLE_MAX * sr or abs(hop_in - round(hop_in)) > 1e-9:
        return _two_voice_track(audio, sr, fmin, fmax, tolerance, guard, batch)
    per_piece = int(round(PIECE / HOP))  # frames per piece
    margin = int(round(MARGIN / HOP))
    total = len(audio) / sr
    parts: list[TwoVoiceTrack] = []
    first = 0  # global index of the first frame of the piece's core
    while first * HOP < total:
        lo = max(0, first - margin)  # piece audio from frame ``lo``'s start (a whole number of samples)
        end = first + per_piece
        a, b = int(round(lo * hop_in)), min(len(audio), int(round((end + margin) * hop_in)))
        piece = _two_voice_track(audio[a:b], sr, fmin, fmax, tolerance, guard, batch)
        last_piece = b >= len(audio)
        keep = slice(first - lo, None if last_piece else end - lo)
        parts.append(TwoVoiceTrack(*(getattr(piece, f.name)[keep] for f in dataclasses.fields(TwoVoiceTrack))))
        if last_piece:
            break
        first = end
    return TwoVoiceTrack(*(np.concatenate([getattr(p, f.name) for p in parts])
                           for f in dataclasses.fields(TwoVoiceTrack)))


def _two_voice_track(audio: np.ndarray, sr: int, fmin: float, fmax: float, tolerance: float, guard: float,
                     batch: int) -> TwoVoiceTrack:
    """:func:`two_voice_track` of the whole ``audio`` at once."""
    from scipy.signal import butter, resample_poly, sosfiltfilt

    x = np.asarray(audio, dtype=np.float64)
    if sr != SR:
        g = np.gcd(int(sr), SR)
        x = resample_poly(x, SR // g, int(sr) // g)
    n, hop = int(round(FRAME * SR)), int(round(HOP * SR))
    tmin, tmax = int(SR / fmax), int(np.ceil(SR / fmin))
    empty = np.zeros(0)
    if len(x) < n:
        return TwoVoiceTrack(empty, empty, empty, empty, empty, empty)
    x = sosfiltfilt(butter(6, LOWPASS / (SR / 2), output="sos"), x)
    starts = np.arange(0, len(x) - n + 1, hop)
    span = n + 2 * tmax + 2
    xp = np.pad(x, (0, span))
    out = {k: [] for k in ("f1", "p1", "f2", "p2", "res", "lev")}
    for a in range(0, len(starts), batch):
        st = starts[a : a + batch]
        fr = xp[st[:, None] + np.arange(span)[None, :]]
        d1 = _diff(fr, fr[:, : n + tmax + 1], n, tmax)
        reg = d1[:, tmin:]
        best = reg.min(axis=1)
        is_dip = np.zeros_like(reg, dtype=bool)
        is_dip[:, 1:-1] = (reg[:, 1:-1] <= reg[:, :-2]) & (reg[:, 1:-1] <= reg[:, 2:])
        is_dip[np.arange(len(reg)), reg.argmin(axis=1)] = True
        lag = np.argmax(is_dip & (reg <= best[:, None] + tolerance), axis=1)
        rows = np.arange(len(reg))
        left, mid = reg[rows, np.maximum(lag - 1, 0)], reg[rows, lag]
        right = reg[rows, np.minimum(lag + 1, reg.shape[1] - 1)]
        den = left - 2 * mid + right
        shift = np.where(np.abs(den) > 1e-9, 0.5 * (left - right) / np.where(den == 0, 1, den), 0.0)
        t1 = tmin + lag + np.clip(shift, -0.5, 0.5)
        # cancel: y[m] = x[m] - x[m + T1] (linear interpolation), m over n + tmax + 1 samples
        m = np.arange(n + tmax + 1)[None, :]
        pos = m + t1[:, None]
        i0 = np.floor(pos).astype(int)
        w = pos - i0
        delayed = (1 - w) * np.take_along_axis(fr, i0, axis=1) + w * np.take_along_axis(fr, i0 + 1, axis=1)
        y = fr[:, : n + tmax + 1] - delayed
        d2 = _diff(y, y, n, tmax)[:, tmin:]
        lags = (tmin + np.arange(d2.shape[1]))[None, :] / t1[:, None]
        near = np.zeros_like(d2, dtype=bool)
        for r in (0.5, 1.0, 2.0, 3.0):
            near |= np.abs(lags / r - 1.0) < guard
        d2 = np.where(near, 2.0, d2)
        j = d2.argmin(axis=1)
        e_x = np.sum(fr[:, :n] ** 2, axis=1)
        e_y = np.sum(y[:, :n] ** 2, axis=1)
        out["f1"].append(SR / t1)
        out["p1"].append(1.0 - mid)
        out["f2"].append(SR / (tmin + j))
        out["p2"].append(1.0 - d2[rows, j])
        out["res"].append(e_y / np.maximum(2 * e_x, 1e-12))
        out["lev"].append(10 * np.log10(e_x / n + 1e-10))
    cat = {k: np.concatenate(v) for k, v in out.items()}
    return TwoVoiceTrack(cat["f1"], cat["p1"], cat["f2"], cat["p2"], cat["res"], cat["lev"])


def overlap_score(track: TwoVoiceTrack, smooth: float = 0.2, floor_db: float = 25.0) -> np.ndarray:
    """Per-frame overlap evidence: ``second x sqrt(residual)`` (a second period, in a residual that
    holds a real share of the energy), 0 in frames more than ``floor_db`` under the episode's loud
    level (95th percentile), averaged over ``smooth`` seconds."""
    if track.level.size == 0:
        return np.zeros(0)
    loud = float(np.percentile(track.level, 95))
    raw = np.where(track.level > loud - floor_db, track.second * np.sqrt(np.clip(track.residual, 0, 1)), 0.0)
    w = max(1, int(round(smooth / HOP)))
    return np.convolve(raw, np.ones(w) / w, mode="same")


def other_voice_turns(turns: list, track: TwoVoiceTrack, speaker_pitch: dict[str, float], far: float = 0.5,
                      threshold: float | None = 0.3, near: float = 0.5, who: str = "pitch", min_run: float = 0.2,
                      pad: float = 0.1, fill: int = 2, voiced: float = 0.5, floor_db: float = 15.0,
                      margin: float = 0.0, speaker_spread: dict[str, float] | None = None,
                      max_spread: float | None = None, with_host: bool = False) -> list:
    """Overlap turns for another speaker's voice heard inside a turn (an interjection under a line).

    Evidence per frame of ``track`` inside a turn (its level within ``floor_db`` of the episode's
    loud level): the dominant F0 (periodicity >= ``voiced``) lies more than ``far`` octaves from
    the turn speaker's median pitch (``speaker_pitch``: log2 Hz), or, where :func:`overlap_score`
    exceeds ``threshold`` (None: not used), the second F0 does. A run of at least ``min_run``
    seconds of such frames (gaps of up to ``fill`` frames bridged, within one turn) is labelled,
    padded by ``pad`` s either side within the turn, with another speaker: ``who="pitch"``: the one
    whose median pitch is nearest the run's median far F0 (within ``near`` octaves); ``"time"``: the
    speaker of the nearest turn of another speaker; ``"both"``: of the nearest other speakers before
    and after the turn, the one nearer in pitch (within ``near``). Confidence: the turn's.
    Turns of a speaker whose pitch spread (``speaker_spread``: e.g. the 10th-90th percentile range of
    their windows' pitch, octaves) exceeds ``max_spread`` are skipped: a cluster that holds two
    voices has no median to be far from.

    ``with_host=True`` returns ``(turn, share)`` pairs instead, ``share`` being the part of the run's
    frames where the turn speaker's own voice is heard as well (an F0, dominant or second with
    salience >= 0.5, within 0.15 octave of their median): low when the run is not an overlap but a
    stretch of the turn that belongs to the other speaker alone.
    """
    from ..model import Turn

    n = len(track.f1)
    names = [s for s, p in speaker_pitch.items() if np.isfinite(p)]
    if n == 0 or len(names) < 2:
        return []
    times = np.arange(n) * HOP + FRAME / 2
    ordered = sorted(t for t in turns if t.end > t.start)
    host_turn = np.full(n, -1)
    for j, t in enumerate(ordered):
        host_turn[(times >= t.start) & (times < t.end)] = j
    pitch_of = dict(speaker_pitch)
    if speaker_spread is not None and max_spread is not None:
        pitch_of = {s: p if speaker_spread.get(s, 0.0) <= max_spread else np.nan for s, p in pitch_of.items()}
    own = np.array([pitch_of.get(ordered[j].speaker, np.nan) if j >= 0 else np.nan for j in host_turn])
    loud = float(np.percentile(track.level, 95))
    lf1, lf2 = np.log2(np.maximum(track.f1, 1e-3)), np.log2(np.maximum(track.f2, 1e-3))
    ok = (host_turn >= 0) & np.isfinite(own) & (track.level > loud - floor_db)
    dom = ok & (track.periodicity >= voiced) & (np.abs(lf1 - own) > far)
    far_f = np.where(dom, lf1, np.nan)
    if threshold is not None:
        sec = ok & ~dom & (overlap_score(track) > threshold) & (np.abs(lf2 - own) > far)
        far_f = np.where(sec, lf2, far_f)
    ev = np.isfinite(far_f)
    with np.errstate(invalid="ignore"):
        host_seen = (((np.abs(lf2 - own) < 0.15) & (track.second >= 0.5))
                     | ((np.abs(lf1 - own) < 0.15) & (track.periodicity >= voiced)))
    out: list = []
    i = 0
    while i < n:
        if not ev[i]:
            i += 1
            continue
        j = last = i
        while j + 1 < n and host_turn[j + 1] == host_turn[i] and (ev[j + 1] or j + 1 - last <= fill):
            j += 1
            if ev[j]:
                last = j
        if (last - i + 1) * HOP >= min_run - 1e-9:
            h = ordered[host_turn[i]]
            spk = _who(ordered, host_turn[i], float(np.nanmedian(far_f[i : last + 1])), speaker_pitch, near, who,
                       margin)
            lo, hi = max(h.start, times[i] - HOP / 2 - pad), min(h.end, times[last] + HOP / 2 + pad)
            if spk is not None and hi > lo:
                turn = Turn(float(lo), float(hi), spk, h.confidence)
                seen = ev[i : last + 1]
                out.append((turn, float(host_seen[i : last + 1][seen].mean())) if with_host else turn)
        i = last + 1
    return out


def _who(ordered: list, k: int, f: float, speaker_pitch: dict[str, float], near: float, who: str,
         margin: float = 0.0) -> str | None:
    """The other speaker of an interjection inside ``ordered[k]`` whose F0 is ``f`` (log2 Hz)."""
    host = ordered[k].speaker
    if who == "pitch":
        cands = [s for s in speaker_pitch if s != host]
    else:
        before = next((t for t in reversed(ordered[:k]) if t.speaker != host), None)
        after = next((t for t in ordered[k + 1 :] if t.speaker != host), None)
        if who == "time":
            gaps = [(ordered[k].start - t.end, t.speaker) for t in (before,) if t is not None]
            gaps += [(t.start - ordered[k].end, t.speaker) for t in (after,) if t is not None]
            return min(gaps)[1] if gaps else None
        cands = [t.speaker for t in (before, after) if t is not None]
    dist = [(abs(speaker_pitch.get(s, np.nan) - f), s) for s in cands if np.isfinite(speaker_pitch.get(s, np.nan))]
    if not dist:
        return None
    d, s = min(dist)
    rivals = [abs(p - f) for r, p in speaker_pitch.items() if r not in (host, s) and np.isfinite(p)]
    if rivals and min(rivals) < d + margin:
        return None
    return s if d <= near else None
