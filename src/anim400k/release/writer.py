"""Streams ``anim400k_annotations.json`` to disk one clip at a time.

The whole dataset is never in memory; the file is written under a temporary name and
renamed into place. Every FORMAT.md show, character and episode field is written (unknown values
as ``null``/``[]``/``{}``). The bytes are deterministic: keys in FORMAT.md order (unknown keys
after them, sorted), fields FORMAT.md types ``float`` written as floats (``8.0``, not ``8``),
``ensure_ascii=False``, compact separators, and a newline before every show, episode and clip so
that diffs stay readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fsutil.atomic import atomic_path
from .schema import (
    CHARACTER_FIELDS,
    CLIP_EXTRA_FIELDS,
    CLIP_FIELDS,
    EPISODE_FIELDS,
    RATING_FIELDS,
    SHOW_FIELDS,
    complete_fields,
)

_CLIP_TABLE = {**CLIP_FIELDS, **CLIP_EXTRA_FIELDS}
#: the clip fields FORMAT.md (or our extras' table) types ``float``
_CLIP_FLOATS = tuple(k for k, kind in _CLIP_TABLE.items() if kind == "float")


def _as_floats(d: dict[str, Any], table: dict[str, str]) -> dict[str, Any]:
    """``d`` with each integer value of a ``float`` field of ``table`` written as a float (``8`` -> ``8.0``).

    FORMAT.md types ``score``, a poll's ``ratio`` and ``number_of_voters`` (and our ``mixing_ratio``,
    ``speaker_confidence``) ``float``: JSON ``8`` reads back as an ``int`` in Python, ``8.0`` as the float the
    format promises. ``d`` itself is returned when nothing changes.
    """
    ints = [k for k, kind in table.items() if kind == "float" and d.get(k).__class__ is int]
    return {**d, **{k: float(d[k]) for k in ints}} if ints else d


def _episode_floats(ep: dict[str, Any]) -> dict[str, Any]:
    """An episode's fields with its poll's ``ratio``/``number_of_voters`` as floats (:func:`_as_floats`)."""
    ratings = ep.get("ratings")
    if not isinstance(ratings, dict):
        return ep
    return {**ep, "ratings": {score: _as_floats(r, RATING_FIELDS) if isinstance(r, dict) else r
                              for score, r in ratings.items()}}


def _ordered(d: dict[str, Any], order: Iterable[str], drop: Iterable[str] = ()) -> dict[str, Any]:
    dropped = set(drop)
    known = [k for k in order if k in d and k not in dropped]
    rest = sorted(k for k in d if k not in set(known) and k not in dropped)
    return {k: d[k] for k in known + rest}


_CLIP_ORDER = tuple(CLIP_FIELDS) + tuple(CLIP_EXTRA_FIELDS)
#: key tuple of a clip dict -> its keys in written order, or None when already in order
_CLIP_KEY_ORDERS: dict[tuple[str, ...], tuple[str, ...] | None] = {}


def _ordered_clip(clip: dict[str, Any]) -> dict[str, Any]:
    """``_ordered(clip, _CLIP_ORDER)``, remembering the order per key set (clips share a few)."""
    for k in _CLIP_FLOATS:  # hot path: a float field given as an int is rare (a hand-made clip dict)
        if clip.get(k).__class__ is int:
            clip = _as_floats(clip, _CLIP_TABLE)
            break
    keys = tuple(clip)
    order = _CLIP_KEY_ORDERS.get(keys, ())
    if order == ():
        order = tuple(_ordered(clip, _CLIP_ORDER))
        order = None if order == keys else order
        if len(_CLIP_KEY_ORDERS) < 1024:
            _CLIP_KEY_ORDERS[keys] = order
    return clip if order is None else {k: clip[k] for k in order}


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _dumps(obj: Any) -> str:
    return _ENCODER.encode(obj)


def _body(d: dict[str, Any]) -> str:
    """The members of a JSON object without its closing brace (``{"a":1,"b":2``)."""
    text = _dumps(d)
    return text[:-1]

def _show_body(show_fields: dict[str, Any]) -> dict[str, Any]:
    """A show's fields as written (without ``episodes``): every FORMAT.md show field, and every
    character field of each character, in FORMAT.md order; those not given as unknown values."""
    fields = _as_floats(complete_fields(show_fields, SHOW_FIELDS, skip=("episodes",)), SHOW_FIELDS)
    chars = fields.get("characters")
    if isinstance(chars, dict):
        fields["characters"] = {
            name: _ordered(complete_fields(c, CHARACTER_FIELDS), CHARACTER_FIELDS) if isinstance(c, dict) else c
            for name, c in chars.items()
        }
    return _ordered(fields, SHOW_FIELDS, drop=("episodes",))


EpisodeInput = tuple[str | int, dict[str, Any], Iterable[dict[str, Any]]]
ShowInput = tuple[str, dict[str, Any], Iterable[EpisodeInput]]


def write_annotations(path: str | Path, shows: Iterable[ShowInput]) -> int:
    """Stream ``anim400k_annotations.json`` to ``path``; return the number of clips written.

    ``shows`` yields ``(show_key, show_fields, episodes)`` where ``episodes`` yields
    ``(episode_number, episode_fields, clips)`` and ``clips`` yields clip dicts (e.g. from
    :func:`clip_to_release_dict`). Any ``episodes``/``clips`` key inside the field dicts is
    ignored; every other FORMAT.md show and episode field (and every field of each character) is
    written, those not given as unknown values (``null`` for strings and numbers, ``[]`` for lists, ``{}`` for objects).
    Shows, episodes and clips are written in the order given; the output is only
    renamed into place if every iterator finishes.
    """
    n = 0
    seen_shows: set[str] = set()
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write("{")
        for si, (show_key, show_fields, episodes) in enumerate(shows):
            if show_key in seen_shows:
                raise ValueError(f"show key {show_key!r} given twice")
            seen_shows.add(show_key)
            f.write(("," if si else "") + "\n" + _dumps(str(show_key)) + ":")
            body = _body(_show_body(show_fields))
            f.write(body + ("," if body != "{" else "") + '"episodes":{')
            seen_eps: set[str] = set()
            for ei, (number, ep_fields, clips) in enumerate(episodes):
                number = str(number)
                if number in seen_eps:
                    raise ValueError(f"show {show_key!r}: episode {number!r} given twice")
                seen_eps.add(number)
                f.write(("," if ei else "") + "\n" + _dumps(number) + ":")
                ep_fields = _episode_floats(complete_fields(ep_fields, EPISODE_FIELDS, skip=("clips",)))
                body = _body(_ordered(ep_fields, EPISODE_FIELDS, drop=("clips",)))
                f.write(body + ("," if body != "{" else "") + '"clips":[')
                sep = "\n"
                for clip in clips:
                    f.write(sep + _dumps(_ordered_clip(clip)))
                    sep = ",\n"
                    n += 1
                f.write("]}")
            f.write("}}")
        f.write("\n}\n")
    return n

