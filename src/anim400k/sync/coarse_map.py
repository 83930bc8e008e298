"""A map from the coarse windows alone, for an estimate the sample-precise stage could not confirm.

:func:`~anim400k.sync.estimate.analyze_sync` calls an estimate reliable only when its fine (GCC-PHAT, sample
-precise) matches or the coherence check confirm it. Where they do not, but the coarse windows (20 s band-energy
matches along the episode) agree on one line, that line is known to within their scatter (tens of ms): a 60 s
episode whose 8 windows all read +0.75 to +0.83 s (truth +0.80 s) while the fine matches found nothing (the
music's repeated bars, the dialogue over the shared stem). The build used the identity map there instead, 0.8 s
off, and wrote clips pairing the wrong lines. :func:`coarse_time_map` gives the windows' own map, marked not
sample-precise (``precision_ms``: the separation then uses one track); the same for an edit whose two lines
were found and located but whose pieces the fine stage could not confirm.
"""

from __future__ import annotations

import math

import numpy as np

from ..model import MapPiece, TimeMap
from .result import SyncResult

#: the least windows on one line, and their least share of all windows, for a coarse map
MIN_WINDOWS, MIN_SHARE = 4, 0.75
#: the most the windows may stray from their line (s): median and largest absolute residual
MAX_MEDIAN_RESIDUAL, MAX_RESIDUAL = 0.05, 0.15
#: the precision a coarse map states at least (ms)
PRECISION_FLOOR_MS = 20.0
#: the largest drift a coarse line may have (the search's range)
MAX_DRIFT = 0.05


#: a sloped line is taken over the drift-free one only when it fits the windows this much better (median, s)
DRIFT_EVIDENCE = 0.01
#: half the JP segment that located an edit (s): a segment hitting a line may reach this far past the change
EDIT_SEGMENT_HALF = 1.5


def _line(tj: np.ndarray, te: np.ndarray) -> tuple[float, float, np.ndarray]:
    """``(a, b, residuals)`` of ``te = a + b tj``: Theil-Sen (the median of the pairwise slopes), or no drift
    (``b = 1``) unless the slope fits the windows :data:`DRIFT_EVIDENCE` better. A few windows of tens of ms
    scatter make a slope of a tenth of a percent out of nothing (56 ms at the end of a 60 s episode), while a
    real drift (a PAL speed-up, 4 %) is seconds over an episode."""
    i, j = np.triu_indices(tj.size, 1)
    dt = tj[j] - tj[i]
    keep = dt > 1e-6
    b = float(np.median((te[j] - te[i])[keep] / dt[keep])) if keep.any() else 1.0
    a = float(np.median(te - b * tj))
    a0 = float(np.median(te - tj))
    sloped, flat = te - (a + b * tj), te - (a0 + tj)
    if float(np.median(np.abs(flat))) <= float(np.median(np.abs(sloped))) + DRIFT_EVIDENCE:
        return a0, 1.0, flat
    return a, b, sloped


def coarse_time_map(res: SyncResult) -> TimeMap | None:
    """The coarse windows' map of an unreliable ``res`` (module docstring), or None when they do not make one:
    too few windows on one line (:data:`MIN_WINDOWS`, :data:`MIN_SHARE`), windows straying from it
    (:data:`MAX_MEDIAN_RESIDUAL`, :data:`MAX_RESIDUAL`), an edit not located, or the EN track the JP audio itself.
    The map's ``precision_ms`` is the windows' largest residual (at least :data:`PRECISION_FLOOR_MS`)."""
    if res.reliable or res.same_audio or not res.windows:
        return None
    if res.edit is not None:
        return _edited(res)
    tj = np.array([w[0] for w in res.windows if w[3]], dtype=float)
    te = np.array([w[1] for w in res.windows if w[3]], dtype=float)
    if tj.size < MIN_WINDOWS or tj.size < MIN_SHARE * len(res.windows):
        return None
    a, b, residuals = _line(tj, te)
    spread = np.abs(residuals)
    if abs(b - 1.0) > MAX_DRIFT or float(np.median(spread)) > MAX_MEDIAN_RESIDUAL or float(spread.max()) > MAX_RESIDUAL:
        return None
    return TimeMap(a, b - 1.0, res.confidence, precision_ms=_precision(spread))


def _precision(spread: np.ndarray) -> float:
    return float(max(PRECISION_FLOOR_MS, math.ceil(float(spread.max()) * 1000.0)))


def _edited(res: SyncResult) -> TimeMap | None:
    """Two pieces from a located edit's two lines (``res.edit``: ``lines``, ``drift``, ``at``), or None.

    The change lies somewhere in the located JP span (``at``, widened by half a locating segment): the windows
    cannot place it closer, so that span is left unmapped (its clips are dropped, not given a line seconds off);
    for a cut from EN, the JP seconds with no EN counterpart lie in it too. None when the two lines do not hold
    :data:`MIN_SHARE` of the windows (a third offset: two edits), or their drift is beyond :data:`MAX_DRIFT`."""
    edit = res.edit or {}
    at, lines = edit.get("at"), edit.get("lines") or []
    if at is None or len(lines) != 2 or not all(line.get("windows", 0) >= 2 for line in lines):
        return None
    b = 1.0 + float(edit.get("drift", 0.0))
    if abs(b - 1.0) > MAX_DRIFT:
        return None
    middle = 0.5 * (float(at[0]) + float(at[1]))
    # each line's windows (on its side of the edit, near its line)
    sides = []
    for line, before in zip(lines, (True, False), strict=True):
        near = [(t_jp, t_en) for t_jp, t_en, _, _ in res.windows if (t_jp < middle) == before
                and abs(t_en - (float(line["offset"]) + b * t_jp)) <= MAX_RESIDUAL]
        sides.append((np.array([w[0] for w in near]), np.array([w[1] for w in near])))
    on_lines = sum(tj.size for tj, _ in sides)
    if on_lines < MIN_WINDOWS or on_lines < MIN_SHARE * len(res.windows) or any(tj.size < 2 for tj, _ in sides):
        return None
    # the fit's drift (of both lines' windows) unless no drift fits them as well: as for one line (_line)
    sloped = np.concatenate([te - (np.median(te - b * tj) + b * tj) for tj, te in sides])
    flat = np.concatenate([te - (np.median(te - tj) + tj) for tj, te in sides])
    if float(np.median(np.abs(flat))) <= float(np.median(np.abs(sloped))) + DRIFT_EVIDENCE:
        b, spread = 1.0, np.abs(flat)
    else:
        spread = np.abs(sloped)
    a1, a2 = (float(np.median(te - b * tj)) for tj, te in sides)
    gap = max(0.0, (a1 - a2) / b)  # JP seconds cut from EN (0: an addition)
    lo, hi = float(at[0]) - EDIT_SEGMENT_HALF, float(at[1]) + EDIT_SEGMENT_HALF
    if hi - lo < gap:
        # a cut longer than the span between the last hit of one line and the first of the other: one of the two
        # hits is wrong (repeated music), and either may be: leave out the cut's place under both readings
        lo, hi = min(lo, hi - gap - 2 * EDIT_SEGMENT_HALF), max(hi, lo + gap + 2 * EDIT_SEGMENT_HALF)
    pieces = (MapPiece(-math.inf, lo, a1), MapPiece(hi, math.inf, a2))
    main = a1 if lines[0].get("fit") else a2
    return TimeMap(main, b - 1.0, res.confidence, pieces, precision_ms=_precision(spread))


def describe_coarse(time_map: TimeMap) -> str:
    """``offset +786 ms, no drift`` (or ``drift +4.1000 %``; a piecewise map: each piece's offset)."""
    if time_map.pieces:
        said = ", ".join(f"{p.offset * 1000:+.0f} ms" for p in time_map.pieces)
        return f"two pieces: offset {said}"
    drift = "no drift" if time_map.drift == 0 else f"drift {time_map.drift * 100:+.4f} %"
    return f"offset {time_map.offset * 1000:+.0f} ms, {drift}"
