"""Per-window measures of the subtitle cues (:mod:`.subtitle_cues`): the one-speaker event covering each
window, that event's speaker name, and the seconds of each window under two events at once."""

from __future__ import annotations

import numpy as np

from .subtitle_cues import Cue

#: Windows compared with every event at once in :func:`window_events` (bounds its windows x events matrix:
#: a 2-hour film's ~14,000 windows and ~2,500 events were 290 MB at once).
WINDOW_BLOCK = 2048


def window_events(windows: np.ndarray, cues: list[Cue], min_cover: float = 0.6) -> np.ndarray:
    """Per window (``(n, 2)`` seconds), the index in ``cues`` of the one-speaker event covering at least
    ``min_cover`` of it (the one covering most), or -1 (no such event, or a dash event covers it most)."""
    out = np.full(len(windows), -1, dtype=int)
    if not cues or len(windows) == 0:
        return out
    starts = np.array([c.start for c in cues])
    ends = np.array([c.end for c in cues])
    dash = np.array([c.dash for c in cues])
    for a in range(0, len(windows), WINDOW_BLOCK):
        w = windows[a : a + WINDOW_BLOCK]
        cover = np.clip(np.minimum(w[:, 1:2], ends[None, :]) - np.maximum(w[:, 0:1], starts[None, :]), 0.0, None)
        best = cover.argmax(axis=1)
        length = np.maximum(w[:, 1] - w[:, 0], 1e-9)
        ok = (cover[np.arange(len(w)), best] >= min_cover * length) & ~dash[best]
        out[a : a + len(w)][ok] = best[ok]
    return out


def window_crowding(windows: np.ndarray, cues: list[Cue]) -> np.ndarray:
    """Per window (``(n, 2)`` seconds), the seconds of it during which two or more subtitle events are on
    screen at once (10 ms steps): where the subtitles show two lines together, two characters most likely
    speak at once, and a window there holds both voices."""
    out = np.zeros(len(windows))
    if len(cues) < 2 or len(windows) == 0:
        return out
    step = 0.01
    size = int(np.ceil(max(float(windows[:, 1].max()), 0.0) / step)) + 2  # only the windows' span matters
    shown = np.zeros(size, dtype=np.int32)
    for c in cues:
        a, b = int(round(min(max(c.start, 0.0), size * step) / step)), int(round(min(c.end, size * step) / step))
        if b > a:
            shown[a:b] += 1
    crowded = np.concatenate([[0.0], np.cumsum(shown >= 2)]) * step
    a = np.clip(np.round(windows[:, 0] / step).astype(int), 0, len(shown))
    b = np.clip(np.round(windows[:, 1] / step).astype(int), 0, len(shown))
    return crowded[b] - crowded[a]


def window_straddle(windows: np.ndarray, cues: list[Cue], chunk: int = 512) -> np.ndarray:
    """Per window (``(n, 2)`` seconds), the seconds of it covered by the event that covers it second most
    (0 under fewer than two events): a window over a change of line holds the end of one line and the start
    of the next, most often two characters, and sounds like neither."""
    out = np.zeros(len(windows))
    if len(cues) < 2 or len(windows) == 0:
        return out
    starts = np.array([c.start for c in cues], dtype=float)
    ends = np.array([c.end for c in cues], dtype=float)
    for i in range(0, len(windows), chunk):  # windows x events, a chunk at a time (a movie: 10k x 2k)
        w = windows[i:i + chunk]
        cover = np.clip(np.minimum(w[:, 1:2], ends[None]) - np.maximum(w[:, 0:1], starts[None]), 0.0, None)
        out[i:i + chunk] = np.partition(cover, -2, axis=1)[:, -2]
    return out


def window_names(events: np.ndarray, cues: list[Cue]) -> np.ndarray:
    """Per window, the index of its event's speaker among the cues' distinct names (in order of first
    appearance), or -1 (no one-speaker event, or an event without a usable name); ``events`` as
    :func:`window_events` gives them."""
    ids: dict[str, int] = {}
    cue_name = np.array([ids.setdefault(c.speaker, len(ids)) if c.speaker else -1 for c in cues] + [-1], dtype=int)
    return cue_name[np.where(events >= 0, events, len(cues))]
