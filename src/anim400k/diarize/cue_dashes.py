"""Where the speakers' parts of a dash event are (:attr:`.subtitle_cues.Cue.shares`: two or more speakers in
one subtitle event, in order): the parts' bounds in the event's speech, each window's event and part, and the
cannot-link between windows of two parts of one event."""

from __future__ import annotations

import numpy as np

from .subtitle_cues import Cue

#: seconds a window may reach past a dash event's start (its first part) or end (its last part) and still
#: belong to that part: subtitles lead or lag their speech by a few tenths of a second
DASH_EDGE_SLACK = 0.3


def dash_bounds(cue: Cue, regions: np.ndarray) -> list[tuple[float, float]] | None:
    """The speakers' parts of a dash ``cue``, in order, as ``[(start, end), ...]`` seconds (``len(cue.shares) + 1``
    of them; the first starts at the event's start, the last ends at its end), from the speech ``regions``
    (``(m, 2)`` s, sorted) inside the event. Each boundary goes first to the point where the speech time
    before it reaches its share of the event's characters (:attr:`.subtitle_cues.Cue.shares`), then to the
    pause between two regions inside the event nearest that point (the part before ends where the pause
    starts, the next one starts where it ends); with no pause left there, at the point itself. None when ``cue``
    is no dash event or holds no speech."""
    if not cue.dash or not cue.shares:
        return None
    reg = np.asarray(regions, dtype=float).reshape(-1, 2)
    reg = np.column_stack([np.maximum(reg[:, 0], cue.start), np.minimum(reg[:, 1], cue.end)])
    reg = reg[reg[:, 1] > reg[:, 0]]
    if len(reg) == 0:
        return None
    speech = np.concatenate([[0.0], np.cumsum(reg[:, 1] - reg[:, 0])])
    pauses = [(float(a), float(b)) for a, b in zip(reg[:-1, 1], reg[1:, 0], strict=True) if b > a]
    bounds, lo = [], cue.start
    for share in cue.shares:
        target = min(max(share, 0.0), 1.0) * speech[-1]
        r = min(int(np.searchsorted(speech, target, side="right")) - 1, len(reg) - 1)
        point = float(reg[r, 0] + target - speech[r])
        free = [p for p in pauses if p[0] >= lo]
        if free:
            a, b = min(free, key=lambda p: abs(0.5 * (p[0] + p[1]) - point))
        else:
            a = b = max(point, lo)
        bounds.append((lo, a))
        lo = b
    bounds.append((lo, cue.end))
    return bounds


def window_dash_parts(windows: np.ndarray, cues: list[Cue], regions: np.ndarray, margin: float = 0.2
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per window (``(n, 2)`` s), the index in ``cues`` of the dash event it lies in and its part there
    (:func:`dash_bounds`; ``-1`` and ``-1`` for none): a window belongs to a part when it reaches at most
    ``margin`` s past the part's boundaries with the other parts (negative: it must stay that far inside), and
    at most :data:`DASH_EDGE_SLACK` s past the event's start or end. The first event that takes a window keeps it."""
    event = np.full(len(windows), -1, dtype=int)
    part = np.full(len(windows), -1, dtype=int)
    for i, cue in enumerate(cues):
        bounds = dash_bounds(cue, regions) if cue.dash else None
        if bounds is None:
            continue
        last = len(bounds) - 1
        for p, (lo, hi) in enumerate(bounds):
            lo_slack = DASH_EDGE_SLACK if p == 0 else margin
            hi_slack = DASH_EDGE_SLACK if p == last else margin
            inside = ((windows[:, 0] >= lo - lo_slack) & (windows[:, 1] <= hi + hi_slack)
                      & (np.minimum(windows[:, 1], hi) > np.maximum(windows[:, 0], lo)) & (event < 0))
            part[inside] = p
            event[inside] = i
    return event, part


def dash_apart(event: np.ndarray, part: np.ndarray, amount: float) -> np.ndarray | None:
    """``-amount`` for each pair of windows in two different parts of one dash event (two speakers), 0
    elsewhere (``(n, n)``); None when there is no such pair or ``amount`` is 0."""
    if amount == 0 or not np.any(event >= 0):
        return None
    apart = (event[:, None] == event[None, :]) & (event[:, None] >= 0) & (part[:, None] != part[None, :])
    return np.where(apart, -float(amount), 0.0) if apart.any() else None
