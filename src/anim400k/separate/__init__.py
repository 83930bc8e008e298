"""Source separation: the backing track (music and effects) and the vocals of a mix.

``get_separator("dualtrack" | "hpss" | "demucs", ...)``; ``dualtrack`` (the default) uses
the other language's mix of the same episode; see ``docs/separation.md``.
"""

from .base import Separation, Separator, available_separators, get_separator
from .metrics import sdr, si_sdr

__all__ = ["Separation", "Separator", "available_separators", "get_separator", "sdr", "si_sdr"]
