"""The timelines of a synthetic episode: the JP medium, the EN medium and the common one both are built on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Timeline:
    """The JP medium (``duration`` s), the EN medium (``t_en = offset + t_jp * scale``) and the
    common timeline both are built on (sample ``origin`` is ``t_jp = 0``)."""

    duration: float
    offset: float
    scale: float
    sr: int

    @property
    def cover_lo(self) -> float:
        """The earliest JP time (s, may be negative) the EN medium shows."""
        return -self.offset / self.scale

    @property
    def origin(self) -> int:
        return int(np.ceil(max(0.0, -self.cover_lo) * self.sr)) + 1

    @property
    def n_jp(self) -> int:
        return int(round(self.duration * self.sr))

    @property
    def n_common(self) -> int:
        return self.origin + self.n_jp + 1

    @property
    def n_en(self) -> int:
        return int(round((self.offset + self.duration * self.scale) * self.sr))

    def to_en(self, ms: int) -> float:
        """EN medium time (s) of common-timeline ``ms``."""
        return round(self.offset + ms / 1000 * self.scale, 6)
