"""The estimate with its diagnostics (:class:`SyncResult`) and the confidence scores behind it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..model import TimeMap
from .params import COHERENCE_HIGH, COHERENCE_LOW, MIN_CONFIDENCE


@dataclass(slots=True)
class SyncResult:
    """The estimated map with diagnostics.

    ``time_map`` is the estimate itself (even when unreliable); ``reliable`` says whether
    ``confidence >= MIN_CONFIDENCE``; ``reason`` explains a low confidence (e.g. a silent
    track) or a map that is not sample-precise. ``windows`` lists the coarse matches ``(t_jp, t_en, score, inlier)`` and
    ``fine`` the precise ones ``(t_jp, t_en, inlier)`` (for a map that is not sample-precise,
    ``time_map.precision_ms`` set, the short unresampled segments' matches: :mod:`anim400k.sync.stretch`).
    ``edit`` is set when the windows agree
    on two offsets (a scene cut from or added to EN): ``{"lines": [{"offset", "jp_from",
    "jp_to", "windows", "fit"}, ...], "drift", "at"}`` in JP order, window centres; when the
    change was located and each side's fine passes passed (:mod:`anim400k.sync.pieces`), the
    ``time_map`` is piecewise and ``edit`` also holds its ``pieces``, ``jp_gaps`` (JP spans cut
    from EN) and ``en_gaps`` (EN spans added), with a confidence of its own; otherwise the edit
    makes the estimate unreliable. ``same_audio`` when the EN track is the JP audio itself
    (unreliable).
    """

    time_map: TimeMap
    confidence: float
    inlier_fraction: float = 0.0
    peak_ratio: float = 0.0
    n_windows: int = 0
    n_fine: int = 0
    reason: str = ""
    windows: list[tuple[float, float, float, bool]] = field(default_factory=list)
    fine: list[tuple[float, float, bool]] = field(default_factory=list)
    edit: dict[str, Any] | None = None
    same_audio: bool = False

    @property
    def offset(self) -> float:
        """Estimated offset in seconds."""
        return self.time_map.offset

    @property
    def drift(self) -> float:
        """Estimated relative drift."""
        return self.time_map.drift

    @property
    def reliable(self) -> bool:
        """True when the confidence reaches :data:`MIN_CONFIDENCE`."""
        return self.confidence >= MIN_CONFIDENCE

    def usable_time_map(self) -> TimeMap:
        """The estimate if reliable, else the identity map carrying the (low) confidence."""
        if self.reliable:
            return self.time_map
        return TimeMap(0.0, 0.0, self.confidence)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the contents of a ``sync.json`` artifact)."""
        d = asdict(self)
        d["time_map"] = self.time_map.to_dict()  # with "pieces" only for a piecewise map
        d["reliable"] = self.reliable
        d["offset_ms"] = self.time_map.offset * 1000.0
        d["drift_percent"] = self.time_map.drift * 100.0
        return d


def failed_result(reason: str, n_windows: int = 0) -> SyncResult:
    """A result with confidence 0 and the ``reason`` why (silent, short or non-overlapping tracks)."""
    return SyncResult(TimeMap(0.0, 0.0, 0.0), confidence=0.0, reason=reason, n_windows=n_windows)


def window_confidence(inlier_fraction: float, peak_ratio: float, fine: list[tuple[float, float, bool]]) -> float:
    """Map window agreement, fine agreement and peak quality to [0, 1] (calibration in docs/sync.md).

    Two points always fit a line, so the fine agreement counts inliers beyond two.
    """
    agree = window_agreement(inlier_fraction)
    fine_agree = fine_agreement(fine)
    peak = peak_quality(peak_ratio)
    return round(agree * fine_agree * peak, 4)


def window_agreement(inlier_fraction: float) -> float:
    """The windows' agreement term of a confidence: 0 at 40 % of the windows on the line, 1 from 75 %."""
    return float(np.clip((inlier_fraction - 0.4) / 0.35, 0.0, 1.0))


def peak_quality(peak_ratio: float) -> float:
    """The correlation peaks' term of a confidence: 0 at a peak 3 robust sigmas out, 1 from 5."""
    return float(np.clip((peak_ratio - 3.0) / 2.0, 0.0, 1.0))


def fine_agreement(fine: list[tuple[float, float, bool]]) -> float:
    """Fraction of the fine matches beyond two that are inliers (two points always fit a line); 0 for < 4."""
    n_fine, n_in = len(fine), sum(1 for f in fine if f[2])
    return (n_in - 2) / (n_fine - 2) if n_fine >= 4 else 0.0


def longest_unmatched(fine: list[tuple[float, float, bool]]) -> tuple[float, float, int]:
    """``(jp_from, jp_to, n)``: the longest run (in JP time) of consecutive fine matches off the line, from the
    agreeing match before it to the one after it (the run's own ends at the track's ends); ``(0, 0, 0)`` if none."""
    order = sorted(fine, key=lambda f: f[0])
    best = (0.0, 0.0, 0)
    k = 0
    while k < len(order):
        if order[k][2]:
            k += 1
            continue
        j = k
        while j < len(order) and not order[j][2]:
            j += 1
        lo = order[k - 1][0] if k > 0 else order[k][0]
        hi = order[j][0] if j < len(order) else order[j - 1][0]
        if hi - lo > best[1] - best[0]:
            best = (float(lo), float(hi), j - k)
        k = j
    return best


def coherence_confidence(coherence: float, fine_ok: bool) -> float:
    """Confidence of a short-media match from its coherence index (calibration in docs/sync.md).

    The index is ~1 for unrelated tracks and > 100 for synthetic dubs; without consistent
    sample-precise matches the estimate stays below :data:`MIN_CONFIDENCE`.
    """
    c = float(np.clip((coherence - COHERENCE_LOW) / (COHERENCE_HIGH - COHERENCE_LOW), 0.0, 1.0))
    return round(c if fine_ok else 0.8 * MIN_CONFIDENCE * c, 4)
