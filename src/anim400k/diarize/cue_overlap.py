"""Interjections the subtitles show (:mod:`.subtitle_cues`): where an event starts inside an earlier
one-speaker event, a second voice speaks over the first; where the audio's turns have nobody else there, the
speaker whose mixture with the host fits best is added as an overlap turn."""

from __future__ import annotations

import math

import numpy as np

from ..model import Turn
from . import clustering
from .subtitle_cues import Cue
from .turn_cover import speaker_cover, speaker_index


def overlap_spans(cues: list[Cue], min_overlap: float = 0.3, max_len: float = 0.4
                  ) -> list[tuple[float, float, float]]:
    """Where the subtitles show a second voice over a line: ``(host_start, start, end)`` seconds for each
    event that starts at least ``min_overlap`` s after an earlier one-speaker event ``A`` started and at
    least ``min_overlap`` s before ``A`` ends (two events on screen at once: two lines spoken at once).
    ``start`` is that event's start, ``end`` the earliest of its end, ``A``'s end and ``start + max_len``
    (an interjection is short, and an event lingers after its line); ``host_start`` is ``A``'s start (before
    ``start``, ``A``'s speaker alone). Dash events are never ``A`` (their speakers change inside)."""
    starts = np.array([c.start for c in cues])
    ends = np.array([c.end for c in cues])
    one = ~np.array([c.dash for c in cues], dtype=bool)
    out = []
    for i, cue in enumerate(cues):
        hosts = np.nonzero(one[:i] & (cue.start - starts[:i] >= min_overlap) & (ends[:i] - cue.start >= min_overlap))[0]
        if len(hosts):
            h = int(hosts[np.argmin(starts[hosts])])
            out.append((float(starts[h]), cue.start, min(cue.end, float(ends[h]), cue.start + max_len)))
    return out


def overlap_turns(spans: list[tuple[float, float, float]], turns: list[Turn], cwin: np.ndarray,
                  ccent: np.ndarray, windows: np.ndarray, confidence_scale: float = 0.4,
                  present: float = 0.2) -> list[Turn]:
    """An overlap turn for each of :func:`overlap_spans`' spans where ``turns`` (speakers ``c<i>``, row
    ``i`` of ``ccent``) hold no second speaker: the host is the speaker covering most of ``[host_start,
    start]`` (else of the span); when another speaker already covers ``present`` s of the span, nothing is
    added. The speaker added is the ``j`` whose mixture with the host (the normalised sum of their centred
    centroids ``ccent``) best matches the centred window vectors ``cwin`` there, windows (``(n, 2)`` s)
    weighted by their time in the span; its confidence maps how far that mixture beats the host alone
    (``1 - exp(-gain / confidence_scale)``, 0 when it does not)."""
    k = len(ccent)
    out: list[Turn] = []
    if k < 2:
        return out
    for host_start, a, b in spans:
        lead, inside = speaker_cover(turns, host_start, a), speaker_cover(turns, a, b)
        ref = lead or inside
        if not ref:
            continue
        host = max(ref, key=ref.__getitem__)
        h = speaker_index(host, k)
        if h is None or any(spk != host and sec >= present for spk, sec in inside.items()):
            continue
        weight = np.clip(np.minimum(windows[:, 1], b) - np.maximum(windows[:, 0], a), 0.0, None)
        idx = np.nonzero(weight > 0)[0]
        if len(idx) == 0:
            continue
        w = weight[idx] / weight[idx].sum()
        others = [j for j in range(k) if j != h]
        mixes = clustering.l2_normalize(ccent[h][None, :] + ccent[others])
        gains = w @ (cwin[idx] @ mixes.T) - float(w @ (cwin[idx] @ ccent[h]))
        best = int(np.argmax(gains))
        conf = 1.0 - math.exp(-max(float(gains[best]), 0.0) / max(confidence_scale, 1e-9))
        out.append(Turn(float(a), float(b), f"c{others[best]}", conf))
    return out
