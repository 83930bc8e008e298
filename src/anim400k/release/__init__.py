"""The Anim-400K release (``/work/shared/FORMAT.md``): schema, writer, typed reader, validator.

One module per job, all driven by the one schema in :mod:`.schema`:

- :mod:`.schema`: the field tables of shows, episodes, clips (and their types);
- :mod:`.codec`: one clip between float seconds and the FORMAT.md clip object;
- :mod:`.writer`: :func:`write_annotations`, streamed and deterministic;
- :mod:`.records` and :mod:`.reader`: :func:`load` -> :class:`Dataset` of typed records;
- :mod:`.validate`: :func:`validate_release` and friends (:class:`Problem`).

Everything that reads or writes a release goes through this package.
"""

from __future__ import annotations

from .codec import clip_from_release, clip_to_release_dict, timestamp_millis, timestamp_seconds
from .reader import Dataset, load
from .records import Character, EpisodeRecord, Rating, Show
from .schema import (
    CHARACTER_FIELDS,
    CLIP_EXTRA_FIELDS,
    CLIP_FIELDS,
    EPISODE_EXTRA_FIELDS,
    EPISODE_FIELDS,
    RATING_FIELDS,
    SHOW_FIELDS,
    SUBTITLE_FIELDS,
    expected,
    type_ok,
)
from .validate import (
    BadItems,
    Problem,
    build_record_problems,
    check_or_raise,
    iter_problems,
    parse_avg_duration,
    require_valid,
    validate_release,
    validate_show,
)
from .writer import write_annotations

__all__ = [
    "CHARACTER_FIELDS", "CLIP_EXTRA_FIELDS", "CLIP_FIELDS", "EPISODE_EXTRA_FIELDS", "EPISODE_FIELDS", "RATING_FIELDS",
    "SHOW_FIELDS", "SUBTITLE_FIELDS", "BadItems", "Character", "Dataset", "EpisodeRecord", "Problem", "Rating", "Show",
    "build_record_problems", "check_or_raise", "clip_from_release", "clip_to_release_dict", "expected",
    "iter_problems", "load", "parse_avg_duration", "require_valid", "timestamp_millis", "timestamp_seconds", "type_ok",
    "validate_release", "validate_show", "write_annotations",
]
