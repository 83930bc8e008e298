"""Dual-track separation: the backing is what the JP and EN mixes of an episode have in common.

A dub replaces the dialogue and keeps the music-and-effects (M&E) stem, so after mapping
the EN mix into the JP timeline (:class:`~anim400k.model.TimeMap`: resampled by
``1/(1+drift)`` with soxr, integer shift in time, the fractional-sample remainder as a
phase ramp in the STFT) the two mixes differ only by their dialogue:
``J = B + S_jp`` and ``E = B + S_en``. The EN M&E level is first matched to JP's by the
mode of the per-bin level difference. The backing is then the two-channel Wiener (MMSE)
estimate under a local Gaussian model (:func:`common_component`): the speeches are
independent, so the local cross-spectrum ``Re(J E*)`` (and the local ``min(|J|^2, |E|^2)``)
estimates the backing's variance; 12 EM steps refine it, and

    B = v (J / v_j + E / v_e),   v = 1 / (1/v_b + 1/v_j + 1/v_e)

a per-bin real weighting of the complex STFTs (their phases agree where there is no
dialogue). The vocals are ``J - B``. STFT: ~64 ms Hann window (1024 at 16 kHz), 75 % overlap, local
averages over 3 bins x 5 frames, processed in 30 s blocks.

Tracks that do not share a stem are detected (sync confidence below
:data:`anim400k.sync.params.MIN_CONFIDENCE`, or spectral agreement below ``min_agreement``: the
correlation of the two log-magnitude spectrograms after removing each bin's mean) and
the separator falls back to the single-track :class:`~anim400k.separate.hpss.HpssSeparator`
with a logged warning (unless ``log_fallback=False``); the result says so (``fallback=True``,
``reason``). So does an EN track that is
the JP audio itself (:func:`anim400k.sync.checks.same_audio_fraction`): its "common component"
would be the whole JP mix, dialogue included. JP stretches the EN medium does not cover, and
stretches where the two mixes stop sharing the backing (:func:`.shared.unshared_regions`: EN
music or effects replaced), are separated by the fallback too, with a short crossfade; the
result lists them (``single_track_regions``) and names the unshared ones in ``reason``.
A piecewise map (an edited EN medium, :class:`~anim400k.model.TimeMap` ``pieces``) maps EN
piece by piece; a JP span with no EN counterpart (a scene cut from EN) is separated
single-track too (``single_track_regions``: ``cut from the second mix``). A map that is not
sample-precise (``TimeMap.precision_ms``: EN re-timed with pitch correction, whose phases never
line up with JP's) falls back to the single-track separator as a whole.
"""

from __future__ import annotations

import logging

import numpy as np

from ..model import MapPiece, TimeMap
from ..progress import Counter, Reporter, no_report
from ..sync.checks import SAME_AUDIO_REASON, same_audio_fraction
from ..sync.estimate import analyze_sync
from ..sync.params import MIN_CONFIDENCE, SAME_AUDIO_FRACTION
from ..threads import task_threads, thread_map
from .base import Separation, to_mono
from .hpss import HpssSeparator
from .shared import unshared_regions

log = logging.getLogger(__name__)


#: at most this many 30 s blocks separated at once (each holds ~150 MB of spectrogram arrays at 48 kHz)
MAX_BLOCK_THREADS = 4
#: seconds of JP mix either side of an unshared region that its single-track estimate also sees: little,
#: since the region's music is usually not the rest's (tester's 20 s region: 2.8 dB SDR with 0-2 s of
#: context, 2.0 with 10 s, 1.2-1.8 with 20 s: REPET-SIM then takes its "repeating" frames from elsewhere)
REGION_CONTEXT = 2.0
#: seconds: crossfade between the dual-track and single-track estimates at an unshared region's ends
REGION_FADE = 0.25
#: ``Separation.single_track_regions`` reasons
UNCOVERED_WHY, UNSHARED_WHY = "not covered by the second mix", "the mixes do not share the backing"
#: ``Separation.single_track_regions`` reason of a JP span a piecewise map leaves unmapped (a scene cut from EN)
UNMAPPED_WHY = "cut from the second mix"


class DualTrackSeparator:
    """Backing = common component of two language mixes; see the module docstring.

    ``smoothing`` (bins, frames) and ``iterations`` configure :func:`common_component`.
    """

    name = "dualtrack"

    def __init__(
        self,
        smoothing: tuple[int, int] = (3, 5),
        iterations: int = 12,
        frame_seconds: float = 0.064,
        block_seconds: float = 30.0,
        min_agreement: float = 0.3,
        min_confidence: float = MIN_CONFIDENCE,
        fallback: str = "repet-sim",
        log_fallback: bool = True,
    ):
        self.smoothing = smoothing
        self.iterations = iterations
        self.frame_seconds = frame_seconds
        self.block_seconds = block_seconds
        self.min_agreement = min_agreement
        self.min_confidence = min_confidence
        self.fallback_separator = HpssSeparator(algorithm=fallback)
        #: log a warning when falling back to one track; off for a caller that reports ``Separation.reason``
        #: itself (``anim400k separate`` printed the fallback twice)
        self.log_fallback = log_fallback

    def separate(
        self,
        audio: np.ndarray,
        sr: int,
        reference: np.ndarray | None = None,
        time_map: TimeMap | None = None,
        report: Reporter | None = None,
    ) -> Separation:
        """Separate ``audio`` (JP mix) using ``reference`` (EN mix); estimates ``time_map`` if None.

        ``report`` hears the 30 s blocks separated (unit ``block``; a single-track fallback is one block).
        """
        report = report or no_report
        report(0.0, 1.0, "block")
        result = self._separate(audio, sr, reference, time_map, report)
        if result.fallback:
            report(1.0, 1.0, "block")
        return result

    def _separate(self, audio: np.ndarray, sr: int, reference: np.ndarray | None, time_map: TimeMap | None,
                  report: Reporter) -> Separation:
        """:meth:`separate`, reporting each block separated."""
        x = to_mono(audio)
        if reference is None:
            return self._fallback(x, sr, "no second-language mix was given", None, None)
        ref = to_mono(reference)
        checked_same_audio = time_map is None  # analyze_sync refuses the same audio twice itself
        if time_map is None:
            result = analyze_sync(x, ref, sr)
            time_map = result.time_map
            if not result.reliable:
                reason = f"sync confidence {result.confidence:.2f} < {self.min_confidence:.2f}"
                if result.reason:
                    reason += f" ({result.reason})"
                return self._fallback(x, sr, reason, None, time_map)
        if time_map.confidence < self.min_confidence:
            reason = f"sync confidence {time_map.confidence:.2f} < {self.min_confidence:.2f}"
            return self._fallback(x, sr, reason, None, time_map)
        if not time_map.precise:
            reason = (f"the time map is not sample-precise (within ~{time_map.precision_ms:.0f} ms: EN re-timed "
                      "with pitch correction?), and the common component needs the mixes sample-aligned")
            return self._fallback(x, sr, reason, None, time_map)

        aligned, frac, lo, hi = align_reference(ref, sr, time_map, x.size)
        spans = [(a, b) for a, b in covered_spans(ref.size, sr, time_map, x.size) if b > a]
        if sum(b - a for a, b in spans) < int(1.0 * sr):
            return self._fallback(x, sr, "the two media overlap by less than 1 s", None, time_map)
        n_fft = 1 << int(round(np.log2(self.frame_seconds * sr)))
        gain, agreement = _gain_and_agreement(np.concatenate([x[a:b] for a, b in spans]),
                                              np.concatenate([aligned[a:b] for a, b in spans]), frac, sr, n_fft)
        if agreement < self.min_agreement:
            reason = (
                f"the two mixes agree too little (spectral agreement {agreement:.2f} < "
                f"{self.min_agreement:.2f}): they may not share a music-and-effects stem"
            )
            return self._fallback(x, sr, reason, agreement, time_map)
        if not checked_same_audio and (
            same_audio_fraction(x, ref, sr, time_map.offset, 1.0 + time_map.drift) >= SAME_AUDIO_FRACTION
        ):
            reason = f"{SAME_AUDIO_REASON} (spectral agreement {agreement:.2f}; dubs 0.65-0.74)"
            return self._fallback(x, sr, reason, agreement, time_map)

        backing = np.zeros_like(x)
        block = max(n_fft * 4, int(self.block_seconds * sr))
        margin = n_fft

        def separate_block(s: int) -> None:  # blocks are independent: each writes its own slice
            e = min(hi, s + block)
            a, b = max(lo, s - margin), min(hi, e + margin)
            y = _common_block(x[a:b], aligned[a:b] * gain, frac, n_fft, self.smoothing, self.iterations)
            backing[s:e] = y[s - a : e - a]

        starts = range(lo, hi, block)
        blocks = Counter(report, len(starts), "block")
        blocks.add(0)

        def separate_counted(s: int) -> None:
            separate_block(s)
            blocks.tick()

        # NumPy, SciPy's filters and the FFTs release the GIL: blocks run side by side
        thread_map(separate_counted, starts, task_threads(MAX_BLOCK_THREADS), "dualtrack")
        notes: list[str] = []
        regions: list[tuple[float, float, str]] = []
        for a, b in ((0, lo), (hi, x.size)):
            if b - a > 0:  # not covered by the EN medium: single-track estimate there
                backing[a:b] = self.fallback_separator.backing(x[a:b], sr)
                regions.append((a / sr, b / sr, UNCOVERED_WHY))
                notes = ["parts not covered by the second mix were separated single-track"]
        for (_, a), (b, _) in zip(spans, spans[1:], strict=False):
            if b > a:  # a JP span with no EN counterpart (cut from the EN medium): single-track there
                self._single_track_region(x, sr, backing, a, b)
                regions.append((a / sr, b / sr, UNMAPPED_WHY))
                notes.append(f"JP {a / sr:.1f}-{b / sr:.1f} s has no counterpart in the second mix (cut from it): "
                             "separated single-track there")
        unshared = [(s0 + a, s0 + b) for s0, s1 in spans for a, b in unshared_regions(x[s0:s1], aligned[s0:s1], sr)]
        for a, b in unshared:
            self._single_track_region(x, sr, backing, a, b)
            regions.append((a / sr, b / sr, UNSHARED_WHY))
        if unshared:
            spans = ", ".join(f"{a / sr:.1f}-{b / sr:.1f} s" for a, b in unshared)
            note = (
                f"the two mixes do not share the backing at JP {spans} (EN music or effects replaced?): "
                "separated single-track there"
            )
            log.warning("dual-track separation: %s", note)
            notes.insert(0, note)
        return Separation(
            backing=backing,
            vocals=x - backing,
            sr=sr,
            method="dualtrack",
            reason="; ".join(notes),
            agreement=agreement,
            time_map=time_map,
            single_track_regions=sorted(regions),
        )

    def _single_track_region(self, x: np.ndarray, sr: int, backing: np.ndarray, a: int, b: int) -> None:
        """Replace ``backing[a:b]`` by the single-track estimate (seen with context), crossfading at the ends."""
        c0, c1 = region_context(a, b, x.size, sr)
        crossfade_region(backing, self.fallback_separator.backing(x[c0:c1], sr), c0, a, b, sr)

    def _fallback(
        self, x: np.ndarray, sr: int, reason: str, agreement: float | None, time_map: TimeMap | None
    ) -> Separation:
        if self.log_fallback:
            log.warning(
                "dual-track separation not possible: %s; falling back to single-track %s",
                reason,
                self.fallback_separator.algorithm,
            )
        res = self.fallback_separator.separate(x, sr)
        res.fallback = True
        res.reason = reason
        res.agreement = agreement
        res.time_map = time_map
        return res


def region_context(a: int, b: int, n: int, sr: int) -> tuple[int, int]:
    """The samples ``[c0, c1)`` a single-track estimate of region ``[a, b)`` (of ``n``) sees: its
    :data:`REGION_CONTEXT` either side plus the :data:`REGION_FADE`."""
    ctx, fade = int(REGION_CONTEXT * sr), max(1, int(REGION_FADE * sr))
    return max(0, a - ctx - fade), min(n, b + ctx + fade)


def crossfade_region(backing: np.ndarray, single: np.ndarray, c0: int, a: int, b: int, sr: int) -> None:
    """Put ``single`` (an estimate of ``backing[c0:c0 + single.size]``) into ``backing`` over ``[a, b)``,
    crossfading over :data:`REGION_FADE` s centred on each end (none at the array's ends)."""
    fade = max(1, int(REGION_FADE * sr))
    c1 = c0 + single.size
    f0, f1 = max(c0, a - fade // 2), min(c1, b + fade // 2)
    t = np.arange(f0, f1, dtype=np.float64)
    w = np.clip(np.minimum(t - (a - fade / 2), (b + fade / 2) - t) / fade, 0.0, 1.0)
    if a <= 0:
        w[t < a + fade] = 1.0
    if b >= backing.size:
        w[t >= b - fade] = 1.0
    backing[f0:f1] = (w * single[f0 - c0 : f1 - c0] + (1.0 - w) * backing[f0:f1]).astype(backing.dtype)


def align_reference_piece(ref: np.ndarray, sr: int, time_map: TimeMap, a: int, b: int) -> tuple[np.ndarray, float]:
    """The reference mapped into the input's timeline for input samples ``[a, b)`` only: ``(piece, frac)``.

    As :func:`align_reference` but resampling only the reference around the piece (a 24-minute
    episode at 44.1 kHz is never resampled whole): ``piece[k - a]`` is the reference at input time
    ``(k - frac) / sr`` (zeros where it has no audio). ``frac`` in [0, 1) is the piece's own
    fractional remainder (the resampled grid starts at the piece), applied as an STFT phase ramp.
    Without drift the piece and ``frac`` equal :func:`align_reference`'s exactly.
    """
    import soxr

    if time_map.pieces:
        return _align_pieces_window(ref, sr, time_map, a, b), 0.0
    scale = 1.0 + time_map.drift
    start = time_map.offset * sr / scale  # resampled-grid index of input sample 0
    piece = np.zeros(max(0, b - a), dtype=np.float32)
    if abs(time_map.drift) <= 1e-9:
        z, local = ref, start
    else:
        margin = int(0.25 * sr)  # well beyond soxr's filter: the piece's samples equal the whole resample's
        q0 = max(0, int(np.floor((start + a) * scale)) - margin)
        q1 = min(ref.size, int(np.ceil((start + b) * scale)) + margin)
        if q1 <= q0:
            return piece, 0.0
        z = soxr.resample(ref[q0:q1], sr, sr / scale)  # z[m] is the reference at index q0 + m * scale
        local = start - q0 / scale
    i = int(np.floor(local))
    frac = float(local - i)
    lo, hi = max(a, -i), min(b, z.size - i)
    if hi > lo:
        piece[lo - a : hi - a] = z[i + lo : i + hi]
    return piece, frac


def _align_pieces_window(ref: np.ndarray, sr: int, time_map: TimeMap, a: int, b: int) -> np.ndarray:
    """:func:`align_reference_piece` for a piecewise map: each map piece's part of ``[a, b)`` filled on
    its own (fractional remainder applied in the time domain, as :func:`align_reference` does), zeros
    where no piece maps EN audio; only the reference around the window is resampled."""
    import soxr

    scale = 1.0 + time_map.drift
    out = np.zeros(max(0, b - a), dtype=np.float32)
    for (lo, hi), p in zip(covered_spans(ref.size, sr, time_map, b), time_map.pieces, strict=True):
        lo, hi = max(lo, a), min(hi, b)
        if hi <= lo:
            continue
        start = p.offset * sr / scale  # resampled-grid index of input sample 0 in this piece
        if abs(time_map.drift) <= 1e-9:
            out[lo - a : hi - a] = _shifted(ref, start, lo, hi)
            continue
        margin = int(0.25 * sr)
        q0 = max(0, int(np.floor((start + lo) * scale)) - margin)
        q1 = min(ref.size, int(np.ceil((start + hi) * scale)) + margin)
        z = soxr.resample(ref[q0:q1], sr, sr / scale)  # z[m] is the reference at index q0 + m * scale
        got = _shifted(z, start - q0 / scale, lo, hi)
        out[lo - a : lo - a + got.size] = got
    return out


def align_reference(ref: np.ndarray, sr: int, time_map: TimeMap, n: int) -> tuple[np.ndarray, float, int, int]:
    """Map the reference (EN timeline) into the input's (JP) timeline.

    Returns ``(aligned, frac, lo, hi)``: ``aligned[k] ~= ref(offset + (k + frac) ... )``, i.e.
    ``aligned[k]`` is the reference at JP time ``(k - frac) / sr`` up to the fractional
    remainder ``frac`` in [0, 1) samples (applied later as an STFT phase ramp), and
    ``[lo, hi)`` the JP samples the reference covers.

    A piecewise map (an edited EN medium) is applied piece by piece, each piece's fractional
    remainder in the time domain (so ``frac`` is 0); JP spans with no EN counterpart are zeros
    (:func:`covered_spans` lists the covered ones).
    """
    import soxr

    scale = 1.0 + time_map.drift
    z = soxr.resample(ref, sr, sr / scale) if abs(time_map.drift) > 1e-9 else ref
    aligned = np.zeros(n, dtype=np.float32)
    if time_map.pieces:
        spans = covered_spans(ref.size, sr, time_map, n)
        for (lo_k, hi_k), p in zip(spans, _covering_pieces(time_map), strict=True):
            if hi_k > lo_k:
                aligned[lo_k:hi_k] = _shifted(z, p.offset * sr / scale, lo_k, hi_k)
        mapped = [s for s in spans if s[1] > s[0]]
        lo, hi = (mapped[0][0], mapped[-1][1]) if mapped else (0, 0)
        return aligned, 0.0, lo, hi
    start = time_map.offset * sr / scale  # z index of JP sample 0
    i = int(np.floor(start))
    frac = float(start - i)
    lo, hi = max(0, -i), min(n, z.size - i)
    if hi > lo:
        aligned[lo:hi] = z[i + lo : i + hi]
    return aligned, frac, lo, max(lo, hi)


def _covering_pieces(time_map: TimeMap) -> list[MapPiece] | list[TimeMap]:
    """The map's pieces (the map itself for a linear map: it has an ``offset`` too)."""
    return list(time_map.pieces) or [time_map]


def covered_spans(ref_size: int, sr: int, time_map: TimeMap, n: int) -> list[tuple[int, int]]:
    """Per piece of ``time_map`` (one for a linear map), the JP samples ``[lo, hi)`` of ``n`` that the
    reference (``ref_size`` samples) covers through it (``lo == hi`` when none)."""
    scale = 1.0 + time_map.drift
    # soxr's output length, to the sample: it rounds halves up (Python's round() halves to even, a sample short)
    z_size = int(np.floor(ref_size / scale + 0.5)) if abs(time_map.drift) > 1e-9 else ref_size
    out = []
    for p in _covering_pieces(time_map):
        i = int(np.floor(p.offset * sr / scale))
        j0 = 0 if not time_map.pieces or np.isinf(p.jp_start) else int(np.ceil(p.jp_start * sr))
        j1 = n if not time_map.pieces or np.isinf(p.jp_end) else int(np.ceil(p.jp_end * sr))
        lo, hi = max(0, -i, j0), min(n, z_size - i, j1)
        out.append((lo, max(lo, hi)))
    return out


def _shifted(z: np.ndarray, start: float, lo: int, hi: int) -> np.ndarray:
    """``z`` at the fractional indices ``start + k`` for ``k`` in ``[lo, hi)`` (band-limited, by FFT)."""
    from scipy import fft as sfft

    i = int(np.floor(start))
    frac = float(start - i)
    if frac < 1e-6:
        return z[i + lo : i + hi]
    pad = 64
    a, b = i + lo - pad, i + hi + pad
    seg = np.zeros(b - a, dtype=np.float32)
    s0, s1 = max(a, 0), min(b, z.size)
    seg[s0 - a : s1 - a] = z[s0:s1]
    m = sfft.next_fast_len(seg.size)
    spec = sfft.rfft(seg, m)
    spec *= np.exp(2j * np.pi * np.arange(spec.size) * frac / m)
    return sfft.irfft(spec, m)[pad : pad + hi - lo].astype(np.float32)


def _stft_pair(j: np.ndarray, e: np.ndarray, frac: float, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    hop = n_fft // 4
    J = librosa.stft(j, n_fft=n_fft, hop_length=hop)
    E = librosa.stft(e, n_fft=n_fft, hop_length=hop)
    if frac:
        k = np.arange(J.shape[0], dtype=np.float32)[:, None]
        E *= np.exp(2j * np.pi * k * frac / n_fft).astype(np.complex64)
    return J, E


def _common_block(
    j: np.ndarray, e: np.ndarray, frac: float, n_fft: int, smoothing: tuple[int, int], iterations: int
) -> np.ndarray:
    import librosa

    J, E = _stft_pair(j, e, frac, n_fft)
    B = common_component(J, E, smoothing, iterations)
    return librosa.istft(B, hop_length=n_fft // 4, n_fft=n_fft, length=j.size).astype(np.float32)


def common_component(
    J: np.ndarray, E: np.ndarray, smoothing: tuple[int, int] = (3, 5), iterations: int = 10
) -> np.ndarray:
    """MMSE estimate of ``B`` from two aligned STFTs ``J = B + S_j`` and ``E = B + S_e``.

    Local Gaussian model: per bin, ``B``, ``S_j`` and ``S_e`` are independent zero-mean complex
    Gaussians with variances ``v_b``, ``v_j``, ``v_e`` that vary slowly over time-frequency
    (``smoothing`` = (bins, frames) of the local averages). The posterior mean is the
    two-channel Wiener filter ``B = v (J / v_j + E / v_e)``, ``v = 1 / (1/v_b + 1/v_j + 1/v_e)``.
    ``v_b`` starts as the smaller of the local mean ``min(|J|^2, |E|^2)`` and the local mean
    cross-spectrum ``Re(J E*)`` (the speeches are independent, so only the backing
    correlates); ``v_j``/``v_e`` are the local mix powers minus ``v_b``. ``iterations`` EM
    steps then re-estimate ``v_b`` as the local mean of ``|B|^2 + v``.
    """
    from scipy.ndimage import uniform_filter

    def local(x: np.ndarray) -> np.ndarray:
        return uniform_filter(x, size=smoothing, mode="nearest")

    pj = (J.real**2 + J.imag**2).astype(np.float32)
    pe = (E.real**2 + E.imag**2).astype(np.float32)
    mj, me = local(pj), local(pe)
    tiny = np.float32(1e-12 * max(float(mj.mean()), float(me.mean()), 1e-30))
    cross = (J.real * E.real + J.imag * E.imag).astype(np.float32)
    vb = np.minimum(local(np.minimum(pj, pe)), np.maximum(local(cross), 0.0)) + tiny

    def weights(vb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior ``B = wj J + we E`` and its variance ``v`` for the current ``vb``."""
        ivj = 1.0 / (np.maximum(mj - vb, 1e-3 * vb) + tiny)
        ive = 1.0 / (np.maximum(me - vb, 1e-3 * vb) + tiny)
        v = 1.0 / (1.0 / vb + ivj + ive)
        return v * ivj, v * ive, v

    for _ in range(iterations):
        wj, we, v = weights(vb)
        # |B|^2 from real quantities only: |wj J + we E|^2
        vb = local(wj * wj * pj + we * we * pe + 2.0 * wj * we * cross + v) + tiny
    wj, we, _ = weights(vb)
    return (wj * J + we * E).astype(np.complex64)


def _gain_and_agreement(
    j: np.ndarray, e: np.ndarray, frac: float, sr: int, n_fft: int, max_seconds: float = 120.0
) -> tuple[float, float]:
    """EN→JP M&E level factor (mode of per-bin dB differences) and the spectral agreement.

    Uses up to ``max_seconds`` of audio spread over the overlap (8 pieces).
    """
    n = j.size
    piece = int(max_seconds * sr / 8)
    if n > 8 * piece:
        starts = np.linspace(0, n - piece, 8).astype(int)
        j = np.concatenate([j[s : s + piece] for s in starts])
        e = np.concatenate([e[s : s + piece] for s in starts])
    J, E = _stft_pair(j, e, frac, n_fft)
    lj = 20 * np.log10(np.abs(J) + 1e-9)
    le = 20 * np.log10(np.abs(E) + 1e-9)
    gain = level_gain(lj, le)
    if gain is None:
        return 1.0, 0.0
    cj = lj - lj.mean(axis=1, keepdims=True)
    ce = le - le.mean(axis=1, keepdims=True)
    agreement = float(np.sum(cj * ce) / np.sqrt(np.sum(cj * cj) * np.sum(ce * ce) + 1e-12))
    return gain, agreement


def level_gain(lj: np.ndarray, le: np.ndarray) -> float | None:
    """EN→JP M&E level factor from two aligned dB spectrograms: the mode of their per-bin differences
    over the bins within 80 dB of the loudest (histogram of 0.5 dB bins over ±24 dB, smoothed over 3);
    1.0 when the mode is at the histogram's edge, None when fewer than 100 bins are live.
    """
    floor = max(lj.max(), le.max()) - 80.0
    live = (lj > floor) & (le > floor)
    if live.sum() < 100:
        return None
    diff = (lj - le)[live]
    hist, edges = np.histogram(np.clip(diff, -24, 24), bins=96, range=(-24, 24))
    hist = np.convolve(hist, np.ones(3) / 3, mode="same")
    k = int(np.argmax(hist))
    gain_db = float(0.5 * (edges[k] + edges[k + 1]))
    if abs(gain_db) >= 23.0:
        gain_db = 0.0
    return float(10 ** (gain_db / 20))
