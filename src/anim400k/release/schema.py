"""The release schema (``/work/shared/FORMAT.md`` section 1), declared once.

Each table maps a field name to its type word: ``"str"``, ``"int"``, ``"float"`` (ints
accepted), ``"bool"``, ``"[str]"`` (list of strings), ``"object"``, ``"list"`` (list of
objects). The writer orders keys by these tables, the reader and validator check types
with :func:`type_ok`, and the show-metadata models (:mod:`anim400k.release.metadata`) are
generated from them.
"""

from __future__ import annotations

import math
from typing import Any

SHOW_FIELDS: dict[str, str] = {
    "show": "str",
    "season": "str",
    "link": "str",
    "type": "str",
    "status": "str",
    "genres": "[str]",
    "themes": "[str]",
    "score": "float",
    "scored_by": "int",
    "rank": "int",
    "popularity": "int",
    "members": "int",
    "favorites": "int",
    "episode_num": "int",
    "aired": "str",
    "premiered": "str",
    "broadcast": "str",
    "producers": "[str]",
    "licensors": "[str]",
    "studios": "[str]",
    "source": "str",
    "avg_duration": "str",
    "rating": "str",
    "related_anime": "object",
    "opening_themes": "[str]",
    "ending_themes": "[str]",
    "staff": "[str]",
    "background": "str",
    "synopsis": "str",
    "characters": "object",
    "episodes": "object",
}
EPISODE_FIELDS: dict[str, str] = {
    "url": "str",
    "ratings": "object",
    "jp_video_id": "str",
    "en_video_id": "str",
    "synopsis": "str",
    "clips": "list",
}
CLIP_FIELDS: dict[str, str] = {
    "jp_clip": "str",
    "en_clip": "str",
    "jp_text": "str",
    "en_text": "str",
    "jp_start_time": "str",
    "jp_end_time": "str",
    "en_start_time": "str",
    "en_end_time": "str",
    "speakers": "[str]",
}
#: Our documented extras (FORMAT.md: "put those in the clip object as extra fields").
CLIP_EXTRA_FIELDS: dict[str, str] = {
    "en_subtitles": "list",
    "multi_speaker": "bool",
    "mixing_ratio": "float",
    "backing_clip": "str",
    "speaker_confidence": "float",
}
#: ``mixing_ratio`` is in dB, clipped to this many either way when computed (``anim400k.mixing.RATIO_LIMIT_DB``,
#: docs/format.md): the validator refuses a value outside it
MIXING_RATIO_LIMIT_DB = 60.0
#: Our documented episode extra (readers of the original format ignore it): ``video_clips: false`` marks an
#: episode whose clips have no MP4 in ``anim400k_video_clips`` (an audio-only source, or ``--no-video-clips``).
EPISODE_EXTRA_FIELDS: dict[str, str] = {"video_clips": "bool"}
CHARACTER_FIELDS: dict[str, str] = {
    "description": "str",
    "role": "str",
    "pic_urls": "[str]",
    "Voice Actors": "[str]",
}
RATING_FIELDS: dict[str, str] = {"ratio": "float", "number_of_voters": "float"}
SUBTITLE_FIELDS: dict[str, str] = {"start": "str", "end": "str", "text": "str"}

#: Fields every show, episode and clip must have: all of FORMAT.md's (readers of the original
#: format index them). Show and episode metadata that was not collected is written as an
#: unknown value (:func:`unknown_value`); clips have no unknown values.
REQUIRED_SHOW = tuple(SHOW_FIELDS)
REQUIRED_EPISODE = tuple(EPISODE_FIELDS)
REQUIRED_CLIP = tuple(CLIP_FIELDS)
#: A character has every FORMAT.md character field too (unknown: ``null`` description/role, ``[]`` lists).
REQUIRED_CHARACTER = tuple(CHARACTER_FIELDS)

#: Field types whose unknown value is ``null`` (strings and numbers); lists are ``[]`` and objects ``{}``.
NULLABLE_KINDS = frozenset({"str", "int", "float"})
#: The values FORMAT.md allows for a character's ``role``.
CHARACTER_ROLES = ("main", "supporting")

_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "[str]": "a list of strings",
    "object": "an object",
    "list": "a list",
}


def type_ok(value: Any, kind: str) -> bool:
    """Whether ``value`` is of the field type ``kind`` (see the field tables)."""
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    raise ValueError(f"unknown field type {kind!r}")


def unknown_value(kind: str) -> Any:
    """The value written for a show/episode field that was not collected: ``null``, ``[]`` or ``{}``."""
    if kind in NULLABLE_KINDS:
        return None
    if kind in ("[str]", "list"):
        return []
    if kind == "object":
        return {}
    raise ValueError(f"field type {kind!r} has no unknown value")


def complete_fields(d: dict[str, Any], table: dict[str, str], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``d`` with every field of ``table`` (but ``skip``) present: missing ones get :func:`unknown_value`."""
    out = dict(d)
    for name, kind in table.items():
        if name not in out and name not in skip:
            out[name] = unknown_value(kind)
    return out


def expected(kind: str) -> str:
    """Words for a field type, for messages (``"a list of strings"``)."""
    return _TYPE_WORDS[kind]
