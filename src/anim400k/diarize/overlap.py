"""Overlapped speech at speaker changes that have no pause.

Two people who take turns leave a pause between their lines (turn-taking gaps are a few hundred
milliseconds, and a dub's lines are recorded one by one and laid in with gaps), while a line
that starts before the previous one ends leaves none. The frame-level re-segmentation labels
one speaker per frame, so such an overlap shows as a speaker change with no pause, placed near
the second speaker's onset: the first speaker's tail (what is left of their line) goes to the
second. :func:`change_overlaps` finds speaker changes where the two turns touch and the speech
around the change has (almost) no quiet frames, and labels a short span around the change as
both speakers. Changes with a pause are left alone: labelling every touching change as overlap
adds more false alarm than it recovers (docs/diarization.md, *Where the DER comes from*).
:func:`mixture_overlaps` labels overlap inside turns: windows that sound like two speakers' mixture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..signal import frame_levels_db
from . import clustering
from .base import Turn
from .resegment import margin_to_confidence

#: frame length and hop of the level track (seconds)
LEVEL_WINDOW = 0.03
LEVEL_HOP = 0.01


def level_db(audio: np.ndarray, sr: int) -> np.ndarray:
    """Short-term level in dB (``LEVEL_WINDOW`` frames every ``LEVEL_HOP`` s) of mono ``audio``."""
    return frame_levels_db(audio, sr, LEVEL_WINDOW, LEVEL_HOP)


def quiet_time(level: np.ndarray, loud: float, t: float, radius: float, below_db: float) -> float:
    """Seconds of level frames within ``radius`` of ``t`` quieter than ``loud - below_db``."""
    i0, i1 = max(0, int(round((t - radius) / LEVEL_HOP))), max(0, int(round((t + radius) / LEVEL_HOP)))
    seg = level[i0:i1]
    return float((seg < loud - below_db).sum() * LEVEL_HOP)


def change_overlaps(turns: Sequence[Turn], audio: np.ndarray, sr: int, max_quiet: float = 0.16,
                    before: float = 0.15, after: float = 0.4, radius: float = 0.5, below_db: float = 20.0,
                    touch: float = 0.02, place_db: float = 0.0, place_radius: float = 0.4,
                    place_score: np.ndarray | None = None, score_hop: float = 0.02,
                    min_score: float = 0.0) -> list[Turn]:
    """Overlap turns at speaker changes without a pause (to add to ``turns``, which do not overlap).

    A change from turn ``p`` to turn ``q`` (different speakers, ``q`` starting within ``touch``
    seconds of ``p``'s end) counts as overlapped when the speech within ``radius`` seconds of the
    change has at most ``max_quiet`` seconds of frames more than ``below_db`` under the episode's
    loud level (95th percentile of the frame levels). Then ``q``'s speaker is added over the
    ``before`` seconds before the change (within ``p``) and ``p``'s speaker over the ``after``
    seconds after it (within ``q``): the re-segmentation puts such a change near the second
    speaker's onset, so most of the overlap lies after it. Confidence: the lesser of the two
    turns' (``None`` when either has none).

    ``place_db > 0`` places the label by the level instead: of the ``place_radius`` seconds before
    and after the change, the side with fewer frames ``place_db`` under the loud level (fewer
    syllable dips: two voices at once) gets it, ``q``'s speaker over ``before`` seconds when that is
    the side before the change, ``p``'s over ``after`` seconds when it is the side after (both on a tie).
    ``place_score`` (a per-frame two-voice score, frames ``score_hop`` s apart, e.g.
    :func:`.twovoice.overlap_score`) places it on the side whose mean score over ``place_radius`` s is
    higher, and labels nothing where neither side's mean reaches ``min_score``.
    """
    level = level_db(audio, sr)
    if level.size == 0 or max_quiet < 0:
        return []
    loud = float(np.percentile(level, 95))
    ordered = sorted(t for t in turns if t.end > t.start)
    out: list[Turn] = []
    for p, q in zip(ordered[:-1], ordered[1:], strict=True):
        if p.speaker == q.speaker or abs(q.start - p.end) > touch:
            continue
        s = 0.5 * (p.end + q.start)
        if quiet_time(level, loud, s, radius, below_db) > max_quiet:
            continue
        where = "both"
        if place_score is not None:
            k = int(round(s / score_hop))
            w = max(1, int(round(place_radius / score_hop)))
            sb = float(place_score[max(0, k - w) : k].mean()) if k > 0 and k - w < len(place_score) else 0.0
            sa = float(place_score[k : k + w].mean()) if k < len(place_score) else 0.0
            if max(sb, sa) < min_score:
                continue
            where = "before" if sb > sa else "after"
        elif place_db > 0:
            dips_before = quiet_time(level, loud, s - place_radius / 2, place_radius / 2, place_db)
            dips_after = quiet_time(level, loud, s + place_radius / 2, place_radius / 2, place_db)
            where = "before" if dips_before < dips_after else "after" if dips_after < dips_before else "both"
        conf = None if p.confidence is None or q.confidence is None else min(p.confidence, q.confidence)
        if where != "after" and before > 0 and s - max(p.start, s - before) > 0:
            out.append(Turn(max(p.start, s - before), s, q.speaker, conf))
        if where != "before" and after > 0 and min(q.end, s + after) - s > 0:
            out.append(Turn(s, min(q.end, s + after), p.speaker, conf))
    return out


def mixture_overlaps(cwin: np.ndarray, ccent: np.ndarray, windows: np.ndarray, turns: list[Turn], margin: float,
                     hop: float, confidence_scale: float) -> list[Turn]:
    """Overlap turns from windows that match a two-speaker mixture better than any single speaker.

    ``cwin`` / ``ccent``: the windows' and the speakers' (``c<i>``) centred, normalised vectors; a window whose
    best pair's mixture beats its best single speaker by more than ``margin`` labels its central ``hop``
    seconds with the pair's speaker that ``turns`` do not have there (when they have the other); confidence
    from the gain over ``margin`` (:func:`.resegment.margin_to_confidence`, ``confidence_scale``)."""
    k = len(ccent)
    single = cwin @ ccent.T
    best_single = single.max(axis=1)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    mixes = clustering.l2_normalize(np.stack([ccent[i] + ccent[j] for i, j in pairs]))
    mix_sim = cwin @ mixes.T
    best_pair = mix_sim.argmax(axis=1)
    gain = mix_sim[np.arange(len(cwin)), best_pair] - best_single
    out: list[Turn] = []
    for w in np.nonzero(gain > margin)[0]:
        i, j = pairs[int(best_pair[w])]
        mid = 0.5 * (windows[w, 0] + windows[w, 1])
        a, b = max(windows[w, 0], mid - hop / 2), min(windows[w, 1], mid + hop / 2)
        active = {t.speaker for t in turns if t.start < b and t.end > a}
        conf = float(margin_to_confidence(float(gain[w]) - margin, confidence_scale))
        for spk in (f"c{i}", f"c{j}"):
            if spk not in active and active & {f"c{i}", f"c{j}"}:
                out.append(Turn(float(a), float(b), spk, conf))
    return out
