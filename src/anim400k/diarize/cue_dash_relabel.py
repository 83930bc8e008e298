"""Turns relabelled where one speaker holds two consecutive parts of a dash event (:func:`.cue_dashes.dash_bounds`):
the shorter part goes to the best other speaker."""

from __future__ import annotations

import numpy as np

from ..model import Turn
from .cue_dashes import dash_bounds
from .subtitle_cues import Cue
from .turn_cover import speaker_cover, speaker_index


def dash_relabel(turns: list[Turn], cues: list[Cue], regions: np.ndarray, windows: np.ndarray,
                 wscores: np.ndarray) -> list[Turn]:
    """``turns`` (one speaker at a time, speakers ``c<i>``, column ``i`` of ``wscores``) where two consecutive
    parts of a dash event (:func:`.cue_dashes.dash_bounds`) are mostly one speaker's: the speech of the shorter part is
    given to the other speaker whose mean window score there (windows weighted by their time in the part)
    is highest (confidence 0: the audio preferred the first). Parts with no window, or no other speaker,
    stay as they are."""
    k = wscores.shape[1]
    reg = np.asarray(regions, dtype=float).reshape(-1, 2)
    out = list(turns)
    for cue in cues:
        bounds = dash_bounds(cue, reg) if cue.dash else None
        if bounds is None or k < 2:
            continue
        spans = [[(max(a, lo), min(b, hi)) for a, b in reg if min(b, hi) > max(a, lo)] for lo, hi in bounds]
        for p in range(len(bounds) - 1):
            owners = []
            for sp in (spans[p], spans[p + 1]):
                cover: dict[str, float] = {}
                for a, b in sp:
                    for spk, sec in speaker_cover(out, a, b).items():
                        cover[spk] = cover.get(spk, 0.0) + sec
                owners.append(max(cover, key=cover.__getitem__) if cover else None)
            if owners[0] is None or owners[0] != owners[1] or speaker_index(owners[0], k) is None:
                continue
            size = [sum(b - a for a, b in sp) for sp in (spans[p], spans[p + 1])]
            short = spans[p] if size[0] < size[1] else spans[p + 1]
            lo, hi = short[0][0], short[-1][1]
            weight = np.clip(np.minimum(windows[:, 1], hi) - np.maximum(windows[:, 0], lo), 0.0, None)
            if not np.any(weight > 0):
                continue
            score = weight @ wscores / weight.sum()
            score[speaker_index(owners[0], k)] = -np.inf
            who = f"c{int(np.argmax(score))}"
            out = _cut_speaker(out, owners[0], short) + [Turn(float(a), float(b), who, 0.0) for a, b in short]
    return sorted(out)


def _cut_speaker(turns: list[Turn], speaker: str, spans: list[tuple[float, float]]) -> list[Turn]:
    """``turns`` with ``speaker``'s time inside each ``(start, end)`` of ``spans`` removed."""
    out = list(turns)
    for lo, hi in spans:
        nxt: list[Turn] = []
        for t in out:
            if t.speaker != speaker or t.end <= lo or t.start >= hi:
                nxt.append(t)
                continue
            if t.start < lo:
                nxt.append(Turn(t.start, lo, t.speaker, t.confidence))
            if t.end > hi:
                nxt.append(Turn(hi, t.end, t.speaker, t.confidence))
        out = nxt
    return out
