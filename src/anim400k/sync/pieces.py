"""A piecewise map for an edited EN medium: one line per side of a located edit, each refined on its own.

:func:`~anim400k.sync.estimate._edit` finds the coarse windows agreeing on two offsets and
:func:`~anim400k.sync.estimate._locate_edit` the JP interval where the offset changes. Here each side
gets the sample-precise fine passes (:func:`~anim400k.sync.refine.fine_passes`) on its own JP span
and the EN around its image, the two lines share one slope (an edit moves the offset, not the
speed), and the break comes from a frame-wise phase score of each line (:func:`line_scores`,
:func:`find_break`). The edit is taken as a pure cut or a pure addition: the first line holds up to
``c0`` and the second from ``c1``, the EN images meeting end to end. For a cut (second offset lower)
``c1 = c0 + (a1 - a2) / b`` and JP ``[c0, c1)`` has no EN counterpart; for an addition ``c1 = c0``
and EN ``[a1 + b c0, a2 + b c0)`` has no JP counterpart.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..model import MapPiece, TimeMap
from .params import COARSE_TOLERANCE, COHERENCE_BAND, COHERENCE_FRAME, FINE_LOW_RATE
from .refine import fine_passes
from .result import SyncResult, fine_agreement, window_confidence

#: seconds of EN either side of a piece's image given to its fine passes (their widest search is 0.5 s)
EN_MARGIN = 1.0
#: seconds added either side of the located change for the break search (its 3 s segments' half, plus 2 s)
BREAK_MARGIN = 3.5
#: seconds at either end of the break search taken as matching their line (the level a match scores)
REFERENCE_SECONDS = 2.0
#: frames of the break score: COHERENCE_FRAME samples at FINE_LOW_RATE (64 ms), every quarter frame (16 ms)
BREAK_HOP = COHERENCE_FRAME // 4
#: a line's reference level must reach this mean frame score for its break to be located (noise: ~0 +- 0.07)
MIN_REFERENCE_SCORE = 0.05


class PieceFit(NamedTuple):
    """One side's refined line ``t_en = a + b t_jp`` and its fine matches (global times)."""

    a: float
    b: float
    fine: list[tuple[float, float, bool]]


def fit_piece(jp: np.ndarray, en: np.ndarray, sr: int, jp_span: tuple[float, float], a: float, b: float
              ) -> PieceFit | None:
    """Fine passes on JP ``jp_span`` against the EN around its image under ``t_en = a + b t_jp``.

    None when the fine stage fails on that piece.
    """
    p0, p1 = max(0.0, jp_span[0]), min(jp.size / sr, jp_span[1])
    e0 = max(0.0, a + b * p0 - EN_MARGIN)
    e1 = min(en.size / sr, a + b * p1 + EN_MARGIN)
    if p1 - p0 < 4.0 or e1 - e0 < 4.0:
        return None
    i0, j0 = int(round(p0 * sr)), int(round(e0 * sr))
    p0, e0 = i0 / sr, j0 / sr
    xj, xe = jp[i0 : int(round(p1 * sr))], en[j0 : int(round(e1 * sr))]
    a_local = a + b * p0 - e0  # the line in the slices' times
    a2, b2, fine = fine_passes(xj, xe, sr, np.zeros(0), a_local, b, None, None)
    if not fine:
        return None
    return PieceFit(e0 + a2 - b2 * p0, b2, [(x + p0, y + e0, i) for x, y, i in fine])


def common_slope(fits: list[PieceFit]) -> tuple[float, list[float]]:
    """One slope for all pieces (their fine slopes weighted by inliers) and each piece's offset at it,
    kept right at the centre of its inlier matches."""
    weights = np.array([max(1, sum(1 for m in f.fine if m[2])) for f in fits], dtype=np.float64)
    b = float(np.sum(weights * np.array([f.b for f in fits])) / weights.sum())
    offsets = []
    for f in fits:
        xm = float(np.mean([m[0] for m in f.fine if m[2]] or [m[0] for m in f.fine]))
        offsets.append(f.a + (f.b - b) * xm)
    return b, offsets


def line_scores(jp: np.ndarray, en: np.ndarray, sr: int, t0: float, t1: float, a: float, b: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(times, scores)``: per 64 ms JP frame (every 16 ms) of ``[t0, t1)``, how well EN under
    ``t_en = a + b t_jp`` matches it.

    The score is the mean over the bins of 0.1-1.8 kHz (the coherence index's band) of the real part
    of the unit cross-spectrum ``J E* / |J E*|``, after the EN excerpt is resampled onto the JP time
    grid and its sub-sample remainder applied as a phase ramp: ~0 (+- 0.07) where EN holds other
    content, positive where the two share the backing under the line (bins where the shared stem
    dominates have phase ~0). Frames where EN has no audio score 0.
    """
    import soxr
    from scipy.signal import stft

    fr = min(FINE_LOW_RATE, sr)
    xj = soxr.resample(jp[int(t0 * sr) : int(t1 * sr)], sr, fr)
    t0 = int(t0 * sr) / sr
    e_start = a + b * t0  # EN time of JP t0
    pos = e_start * fr / b  # in samples of EN resampled to fr / b (one sample per JP sample)
    e_lo = max(0, int(math.floor(e_start * sr)) - sr)
    ye = soxr.resample(en[e_lo : int((a + b * t1) * sr) + sr], sr, fr / b)
    shift = pos - e_lo * fr / (b * sr)
    k = int(math.floor(shift))
    frac = shift - k
    ze = np.zeros(xj.size, np.float32)
    lo, hi = max(0, -k), min(xj.size, ye.size - k)
    if hi > lo:
        ze[lo:hi] = ye[k + lo : k + hi]
    kw = {"fs": fr, "nperseg": COHERENCE_FRAME, "noverlap": COHERENCE_FRAME - BREAK_HOP, "boundary": None,
          "padded": False}
    f, times, J = stft(xj, **kw)
    _, _, E = stft(ze, **kw)
    band = (f >= COHERENCE_BAND[0]) & (f <= COHERENCE_BAND[1])
    E = E[band] * np.exp(2j * np.pi * f[band] * frac / fr)[:, None]
    P = J[band] * np.conj(E)
    mag = np.abs(P)
    live = mag > 1e-12 * (mag.max() + 1e-30)
    u = np.where(live, P / np.where(live, mag, 1.0), 0.0)
    return t0 + times, np.real(u).mean(axis=0)


def find_break(s1: np.ndarray, s2: np.ndarray, hop: float, gap: float, n_ref: int) -> int | None:
    """Frame index ``c``: line 1 holds before ``c`` and line 2 from ``c + gap / hop`` (a pure cut of ``gap``
    seconds from EN, or a pure addition to EN when ``gap`` is 0).

    Maximises ``sum(s1[:c]) + sum(s2[c + gap:])``: the frames of a cut count for neither line, and
    no threshold is needed (unmatched frames score ~0 either way). None when a line's level over
    its ``n_ref`` reference frames (the first frames match line 1, the last line 2) is too low to
    tell a match from no match.
    """
    n = s1.size
    if min(float(np.mean(s1[:n_ref])), float(np.mean(s2[n - n_ref :]))) < MIN_REFERENCE_SCORE:
        return None
    g = int(round(gap / hop))
    if g >= n:
        return None
    pre = np.concatenate([[0.0], np.cumsum(s1)])  # pre[c] = line 1 on frames < c
    suf = np.concatenate([np.cumsum(s2[::-1])[::-1], [0.0]])  # suf[c] = line 2 on frames >= c
    c = np.arange(n - g + 1)
    return int(c[int(np.argmax(pre[c] + suf[c + g]))])


def piecewise_result(
    jp: np.ndarray,
    en: np.ndarray,
    sr: int,
    edit: dict[str, Any],
    coarse: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    b: float,
    windows: list[tuple[float, float, float, bool]],
) -> SyncResult | None:
    """The piecewise map of a located edit (``edit["at"]`` set) with a confidence of its own, or None.

    ``coarse``: the windows' ``(t_jp, t_en, peak ratio, fit inlier)``; ``b`` the fit's slope. Each
    side's fine passes must pass on its own piece, and the break points must be found
    (:func:`find_break`); otherwise None (the caller keeps the capped, unreliable result).
    Confidence = the window score (both groups' windows agreeing, their peak ratio) x the weaker
    side's fine agreement.
    """
    at = edit.get("at")
    if at is None:
        return None
    first, second = edit["lines"]
    dur_j = jp.size / sr
    fits = []
    for line, span in ((first, (0.0, at[0])), (second, (at[1], dur_j))):
        fit = fit_piece(jp, en, sr, span, line["offset"], b)
        if fit is None:
            return None
        fits.append(fit)
    b, (a1, a2) = common_slope(fits)
    r0, r1 = max(0.0, at[0] - BREAK_MARGIN), min(dur_j, at[1] + BREAK_MARGIN)
    times, s1 = line_scores(jp, en, sr, r0, r1, a1, b)
    _, s2 = line_scores(jp, en, sr, r0, r1, a2, b)
    hop = BREAK_HOP / min(FINE_LOW_RATE, sr)
    n_ref = max(1, int(REFERENCE_SECONDS / hop))
    if s1.size < 2 * n_ref + 1:
        return None
    gap = max(0.0, (a1 - a2) / b)  # JP seconds cut from EN (0: an addition; its EN span is a2 - a1)
    found = find_break(s1, s2, hop, gap, n_ref)
    if found is None:
        return None
    c0 = float(times[0] - 0.5 * hop + found * hop)
    c1 = c0 + gap
    pieces = (MapPiece(-math.inf, c0, a1), MapPiece(c1, math.inf, a2))
    tj, te, psr, _ = coarse
    member = np.zeros(tj.size, dtype=bool)
    for line in (first, second):
        member |= np.abs(te - (line["offset"] + b * tj)) < COARSE_TOLERANCE
    peak = float(np.median(psr[member])) if member.any() else 0.0
    confidence = min(window_confidence(float(member.mean()), peak, f.fine) for f in fits)
    main = a1 if first["fit"] else a2
    time_map = TimeMap(main, b - 1.0, confidence, pieces)
    fine = [m for f in fits for m in f.fine]
    gaps_j, gaps_e = time_map.jp_gaps(), time_map.en_gaps()
    said = [f"JP {x:.2f}-{y:.2f} s has no EN counterpart (cut from EN)" for x, y in gaps_j]
    said += [f"EN {x:.2f}-{y:.2f} s has no JP counterpart (added to EN)" for x, y in gaps_e]
    reason = (f"EN is edited at JP {c0:.2f} s: mapped in two pieces (offset {round(a1 * 1000, 1) + 0.0:+.1f} ms "
              f"before, {round(a2 * 1000, 1) + 0.0:+.1f} ms after; fine agreement {fine_agreement(fits[0].fine):.0%} / "
              f"{fine_agreement(fits[1].fine):.0%})" + ("; " + ", ".join(said) if said else ""))
    edit = {k: v for k, v in edit.items() if k != "reason"}
    edit.update(pieces=[p.to_dict() for p in pieces], jp_gaps=[list(g) for g in gaps_j],
                en_gaps=[list(g) for g in gaps_e])
    return SyncResult(
        time_map=time_map,
        confidence=confidence,
        inlier_fraction=float(member.mean()),
        peak_ratio=peak,
        n_windows=tj.size,
        n_fine=len(fine),
        reason=reason,
        windows=windows,
        fine=fine,
        edit=edit,
    )


def describe_pieces(time_map: TimeMap) -> list[str]:
    """One line per piece of a piecewise map and per unmapped span (``anim400k sync``'s print); [] if linear."""
    lines = []
    n = len(time_map.pieces)
    for k, p in enumerate(time_map.pieces):
        if k == 0:
            span = f"JP up to {p.jp_end:.3f} s"
        elif k == n - 1:
            span = f"JP from {p.jp_start:.3f} s"
        else:
            span = f"JP {p.jp_start:.3f}-{p.jp_end:.3f} s"
        lines.append(f"piece {k + 1}: {span}  offset {round(p.offset * 1000, 1) + 0.0:+.1f} ms")
    lines += [f"JP {a:.3f}-{b:.3f} s has no EN counterpart (cut from EN)" for a, b in time_map.jp_gaps()]
    lines += [f"EN {a:.3f}-{b:.3f} s has no JP counterpart (added to EN)" for a, b in time_map.en_gaps()]
    return lines
