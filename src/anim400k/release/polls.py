"""An episode poll's numbers as FORMAT.md defines them: each score's ``ratio`` is a percent of the voters.

So every ``ratio`` lies in 0..100, no ``number_of_voters`` is negative, and the ratios of a poll add up to
100 (a poll of no votes: all 0). A poll whose ratios add up to 132 gives a mean vote above what its
voters gave (the statistics take ``sum(score * ratio / 100)``, FORMAT.md section 3's "mean vote").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: How far (percentage points) a poll's ratios may add up from 100: ratios rounded to 0.1 for five
#: scores are at most 0.25 off; a scraped poll rounded to whole percents at most 2.5 (then give 0.1).
RATIO_SUM_TOLERANCE = 1.0


def _number(value: Any) -> float | None:
    """A finite JSON number as float; None for anything else (a type problem reported elsewhere)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def poll_problems(ratings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, message)`` for each thing in an episode's ``ratings`` that contradicts "percent of voters".

    ``field`` is ``ratings.SCORE.ratio`` / ``ratings.SCORE.number_of_voters`` for one entry, ``ratings`` for
    the ratios' sum. Entries or fields that are not numbers are skipped (their type is another problem).
    """
    problems: list[tuple[str, str]] = []
    total = voters = 0.0
    for score, entry in ratings.items():
        if not isinstance(entry, Mapping):
            continue
        ratio, count = _number(entry.get("ratio")), _number(entry.get("number_of_voters"))
        if ratio is not None:
            total += ratio
            if not 0.0 <= ratio <= 100.0:
                problems.append((f"ratings.{score}.ratio",
                                 f"{ratio:g} is no percent of voters (FORMAT.md: ratio is a percent, 0..100)"))
        if count is not None:
            voters += count
            if count < 0:
                problems.append((f"ratings.{score}.number_of_voters", f"{count:g} voters: a count is never negative"))
    no_votes = total == 0.0 and voters == 0.0
    if ratings and not no_votes and abs(total - 100.0) > RATIO_SUM_TOLERANCE:
        problems.append(("ratings", f"the ratios add up to {total:g}, not 100 (FORMAT.md: each ratio is a percent "
                                    "of the poll's voters)"))
    return problems
