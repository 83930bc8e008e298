"""The backing at the clips' rate (44.1 kHz): the analysis-rate estimate below 7 kHz, a full-rate one above.

The separate stage estimates the backing on the build's 16 kHz analysis audio, so it stops at
8 kHz; the release's backing clips are cut at the JP clips' rate. :func:`fullband_backing` keeps
that 16 kHz estimate (upsampled) below :data:`CROSSOVER` ``[0]`` Hz, where the mixing ratios
were measured on it, and adds above :data:`CROSSOVER` ``[1]`` Hz the dual-track estimate made at
the full rate, with a raised-cosine crossover between (per STFT bin): the two-channel Wiener
estimate (:func:`~.dualtrack.common_component`) of the full-rate JP mix and the EN mix mapped
onto the JP timeline (each block's EN piece resampled on its own,
:func:`~.dualtrack.align_reference_piece`), over the bins above the crossover only, the EN level
matched on those bins.

Where the separation was single-track (a fallback episode, ``hpss``, and a dual-track
separation's single-track regions: EN not covering the JP, or not sharing the backing) the
backing stays band-limited (the 16 kHz estimate upsampled; crossfaded into a region as the
separation crossfades it): REPET-SIM at 44.1 kHz scored -0.1..+0.35 dB SDR above 8.3 kHz on
the synthetic episodes, no better than silence there (0 dB), and what it puts there is half
the JP dialogue's sibilants. ``demucs`` backings stay band-limited too.

Measured on the synthetic episodes (``benchmarks/bench_fullband_backing.py``, docs/separation.md):
above 8.3 kHz the dual-track estimate scores ~8 dB SDR against the true backing, the upsampled
16 kHz one 0 dB (it is silent there); below 7 kHz the result is the 16 kHz estimate.
The work is done in 30 s blocks (side by side on the task's threads, as the separation's), so
no full-rate spectrogram of the episode and no second full-length copy of the EN track is made; of a
block only the frames near the clips are computed (:func:`block_pieces`: the clips cover ~60 % of an
episode, and the estimate of a frame depends on its neighbours up to :data:`CONTEXT_FRAMES` away only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..model import TimeMap
from ..threads import task_threads, thread_map
from .dualtrack import (
    align_reference_piece,
    common_component,
    crossfade_region,
    level_gain,
    region_context,
)
from .stft import istft, stft

#: Hz: the full-band backing is the analysis-rate estimate below the first, the full-rate one above the second
CROSSOVER = (7000.0, 7600.0)
#: seconds: the full-rate STFT frame (2048 samples at 44.1 kHz: above 8 kHz it scored 7.9 dB SDR, a 4096 one 7.5)
FRAME_SECONDS = 0.046
#: seconds of audio per block, and the most seconds the EN level is matched on (8 pieces spread over the episode)
BLOCK_SECONDS, GAIN_SECONDS = 30.0, 120.0
#: at most this many blocks at once: each holds ~185 MB of spectrogram arrays at 44.1 kHz (the cut stage
#: also holds the episode's JP and EN tracks and the backing, ~250 MB each for 24 minutes)
MAX_BLOCK_THREADS = 2
#: EM steps of the high band's Wiener estimate (the 16 kHz separation runs 12): on two 60 s synthetic
#: episodes above 8.3 kHz 12 steps scored 15.6 / 13.1 dB SDR, 4 steps 14.9 / 12.6 dB, 1 step 14.2 / 12.0 dB, at
#: 2.2, 1.4 and 1.25 CPU-s per minute of episode (one thread): 4 keeps most of it for 60 % of the cost
HIGH_BAND_ITERATIONS = 4
#: STFT frames (hops) of context either side of the samples a piece of a block writes: a frame's estimate
#: depends on the frames within 2 of it per local mean (the first estimate, each EM step, the final weights:
#: 12 with 4 steps), a piece's first and last 2 frames see its zero padding, and a sample is made of the
#: 4 frames over it; 24 keeps every written sample clear of all that (docs/separation.md)
CONTEXT_FRAMES = 24


def frame_length(sr: int) -> int:
    """The full-rate STFT's frame (a power of two near :data:`FRAME_SECONDS`)."""
    return 1 << int(round(np.log2(FRAME_SECONDS * sr)))


def crossover_weights(sr: int, n_fft: int) -> np.ndarray:
    """Per STFT bin, the analysis-rate estimate's share: 1 below :data:`CROSSOVER`, 0 above, a raised cosine between."""
    f = np.arange(n_fft // 2 + 1) * sr / n_fft
    lo, hi = CROSSOVER
    t = np.clip((f - lo) / (hi - lo), 0.0, 1.0)
    return (0.5 + 0.5 * np.cos(np.pi * t)).astype(np.float32)


def full_band_possible(method: str, fallback: bool) -> bool:
    """Whether a separation ``method`` made (``separate.json``'s) gets a full-rate high band: a dual-track one."""
    return method == "dualtrack" and not fallback


def upsample(low: np.ndarray, low_sr: int, sr: int, a: int, b: int) -> np.ndarray:
    """Samples ``[a, b)`` (at ``sr``) of ``low`` (at ``low_sr``) resampled, from a piece of it with 0.25 s margins."""
    import soxr

    step = low_sr // math.gcd(low_sr, sr)  # p0 a multiple of it: p0 * sr / low_sr is a whole sample at sr
    margin = int(0.25 * low_sr)
    p0 = max(0, int(np.floor(a * low_sr / sr)) - margin) // step * step
    p1 = min(low.size, int(np.ceil(b * low_sr / sr)) + margin)
    out = np.zeros(b - a, dtype=np.float32)
    if p1 <= p0:
        return out
    up = soxr.resample(np.asarray(low[p0:p1], dtype=np.float32), low_sr, sr)
    s0 = p0 * sr // low_sr  # up[m] is at sample s0 + m
    lo, hi = max(a, s0), min(b, s0 + up.size)
    if hi > lo:
        out[lo - a : hi - a] = up[lo - s0 : hi - s0]
    return out


def fullband_backing(
    jp: np.ndarray,
    sr: int,
    low: np.ndarray,
    low_sr: int,
    en: np.ndarray | None = None,
    time_map: TimeMap | None = None,
    regions: Sequence[tuple[float, float]] = (),
    needed: Sequence[tuple[float, float]] | None = None,
    on_disk: bool = False,
) -> np.ndarray:
    """The full-band backing of the JP mix ``jp`` (mono, ``sr``) from the analysis-rate backing ``low``.

    With ``en`` (the EN mix at ``sr``, its own timeline) and ``time_map`` (JP → EN) the dual-track
    high band is added, except over ``regions`` (seconds: the separation's single-track stretches);
    without them the result is ``low`` upsampled (a single-track or demucs backing). ``needed``
    (seconds) limits the work to them (the clips): to the STFT frames of the blocks that hold them near
    enough to matter (:func:`block_pieces`, each from its block's EN reference, so the clips' samples are
    the whole block's estimate to float rounding); the rest is zeros.
    Returns float32, ``jp``'s length; with ``on_disk`` a writable memory map of an unnamed temporary
    file (:func:`anim400k.media.scratch.scratch_zeros`: the same samples, page cache the system may drop).
    """
    if (en is None) != (time_map is None):
        raise ValueError("the dual-track high band needs both the EN mix and the time map")
    n = jp.size
    if on_disk:
        from ..media.scratch import scratch_zeros

        out = scratch_zeros(n)
    else:
        out = np.zeros(n, dtype=np.float32)
    n_fft = frame_length(sr)
    cross = crossover_weights(sr, n_fft)
    block = max(4 * n_fft, int(BLOCK_SECONDS * sr))
    spans = [(int(a * sr), int(np.ceil(b * sr))) for a, b in needed] if needed is not None else [(0, n)]
    starts = [s for s in range(0, n, block) if any(a < s + block and b > s for a, b in spans)]
    gain = _high_band_gain(jp, en, sr, time_map, n_fft, cross)
    hop = n_fft // 4

    def run_block(s: int) -> None:  # blocks are independent: each writes its own slices
        e = min(n, s + block)
        a_block, b_block = max(0, s - n_fft), min(n, e + n_fft)
        ref, frac = None, 0.0
        if en is not None and time_map is not None:
            # the EN reference of the whole block, sliced for its pieces: resampled (drift) or shifted (a
            # piecewise map) from a piece's own start it would be another interpolation of EN (~1e-3 apart)
            ref, frac = align_reference_piece(en, sr, time_map, a_block, b_block)
            ref *= np.float32(gain)
        for x, y, a, b in block_pieces(s, e, n, spans, n_fft, hop):
            up = upsample(low, low_sr, sr, a, b)
            if ref is None:
                out[x:y] = up[x - a : y - a]
            else:
                out[x:y] = _combine(up, jp[a:b], ref[a - a_block : b - a_block], frac, n_fft, cross)[x - a : y - a]

    thread_map(run_block, starts, task_threads(MAX_BLOCK_THREADS), "fullband")
    if en is not None:
        for t0, t1 in regions:
            a, b = max(0, int(round(t0 * sr))), min(n, int(round(t1 * sr)))
            if b > a and any(x < b and y > a for x, y in spans):
                c0, c1 = region_context(a, b, n, sr)
                crossfade_region(out, upsample(low, low_sr, sr, c0, c1), c0, a, b, sr)
    return out


def block_pieces(s: int, e: int, n: int, spans: Sequence[tuple[int, int]], n_fft: int, hop: int
                 ) -> list[tuple[int, int, int, int]]:
    """The pieces of the block ``[s, e)`` (of ``n`` samples) worth computing for the sample ``spans``: ``(s0, e0,
    a, b)``, write ``[s0, e0)`` from the estimate made on ``[a, b)``.

    The whole block is computed on ``[s - n_fft, e + n_fft)``; a piece covers the spans inside the block (a
    hop more each side), merged where less than two contexts (:data:`CONTEXT_FRAMES`) apart, and is computed
    on them plus a context each side, within the block's range, starting on the block's frame grid: its
    frames are the block's frames, so where the spans fill the block the piece is the block.
    """
    a_block, b_block = max(0, s - n_fft), min(n, e + n_fft)
    context = CONTEXT_FRAMES * hop
    inside = sorted((max(s, x - hop), min(e, y + hop)) for x, y in spans if x < e and y > s)
    merged: list[list[int]] = []
    for x, y in inside:
        if merged and x - merged[-1][1] <= 2 * context:
            merged[-1][1] = max(merged[-1][1], y)
        else:
            merged.append([x, y])
    pieces = []
    for x, y in merged:
        a = max(a_block, a_block + (x - context - a_block) // hop * hop)
        b = min(b_block, y + context)
        pieces.append((x, y, a, b))
    return pieces


def _combine(low: np.ndarray, j: np.ndarray, e: np.ndarray, frac: float, n_fft: int,
             cross: np.ndarray) -> np.ndarray:
    """``low`` below the crossover and the common component of ``j`` and ``e`` above it (computed on
    the bins above the crossover only, plus a few for the local means)."""
    hop = n_fft // 4
    L, J = stft(low, n_fft, hop, single=True), stft(j, n_fft, hop, single=True)
    k0 = max(0, int(np.argmax(cross < 1.0)) - 4)
    E = stft(e, n_fft, hop, single=True)[k0:]
    if frac:
        k = np.arange(k0, k0 + E.shape[0], dtype=np.float32)[:, None]
        E *= np.exp(2j * np.pi * k * frac / n_fft).astype(np.complex64)
    H = common_component(J[k0:], E, (3, 5), HIGH_BAND_ITERATIONS)
    w = cross[k0:, None]
    L[k0:] = w * L[k0:] + (1.0 - w) * H
    return istft(L, n_fft, hop, low.size)


def _high_band_gain(jp: np.ndarray, en: np.ndarray | None, sr: int, time_map: TimeMap | None, n_fft: int,
                    cross: np.ndarray) -> float:
    """The EN→JP level factor of the bins above the crossover (:func:`~.dualtrack.level_gain`), on up to
    :data:`GAIN_SECONDS` of audio in 8 pieces spread over the episode; 1.0 when too little is live."""
    if en is None or time_map is None:
        return 1.0
    hop = n_fft // 4
    piece = int(GAIN_SECONDS * sr / 8)
    if jp.size > 8 * piece:
        starts = np.linspace(0, jp.size - piece, 8).astype(int)
    else:  # a short episode: all of it, once
        starts, piece = np.zeros(1, dtype=int), jp.size
    lj, le = [], []
    top = cross < 1.0
    for s in starts:
        e, frac = align_reference_piece(en, sr, time_map, int(s), int(s) + piece)
        J, E = stft(jp[s : s + piece], n_fft, hop, single=True)[top], stft(e, n_fft, hop, single=True)[top]
        if frac:
            k = np.flatnonzero(top).astype(np.float32)[:, None]
            E *= np.exp(2j * np.pi * k * frac / n_fft).astype(np.complex64)
        covered = np.abs(E).sum(axis=0) > 0  # frames the EN medium covers
        lj.append(20 * np.log10(np.abs(J[:, covered]) + 1e-9))
        le.append(20 * np.log10(np.abs(E[:, covered]) + 1e-9))
    gain = level_gain(np.concatenate(lj, axis=1), np.concatenate(le, axis=1))
    return 1.0 if gain is None else gain
