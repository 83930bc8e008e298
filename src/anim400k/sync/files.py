"""A time map read back from the JSON the sync writes, for ``anim400k align --time-map``.

Two writers, one reader: ``anim400k sync --out FILE`` writes the estimate with its diagnostics
(:meth:`~anim400k.sync.result.SyncResult.to_dict`: the map under ``time_map``, its ``pieces`` for an edited
EN medium, and ``reliable``); a build's sync stage writes ``work/SHOW/EPISODE/sync.json`` (``offset``,
``drift``, ``pieces`` and ``applied``). A map the sync did not trust (``reliable`` / ``applied`` false) is
read as a build uses it, with a note saying so: the coarse windows' map where ``anim400k sync --out`` wrote one
(``coarse_time_map``; a build writes that map as its applied one), else the identity map. Anything else (not
JSON, not an object, a field missing or of the wrong type, a non-finite number, pieces out of order) is one
:class:`~anim400k.errors.InputError` line naming the file and the problem.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import MAX_TIME_S, MapPiece, TimeMap


def read_time_map(path: str | Path) -> tuple[TimeMap, str | None]:
    """The time map of a sync JSON file (either writer's) and a note when the map is not used as written.

    The note (None otherwise) says that the file's estimate was not reliable, so the identity map (zero
    offset, no drift) is returned as a build would use it.
    """
    path = Path(path)
    data = _load(path)
    if "time_map" in data:  # anim400k sync --out
        trusted = _field(path, data, "reliable", bool)
        tm = _time_map(path, _field(path, data, "time_map", dict), "time_map.")
        why = data.get("reason") if isinstance(data.get("reason"), str) else ""
    elif "applied" in data:  # a build's sync stage
        trusted = _field(path, data, "applied", bool)
        tm = _time_map(path, data, "")
        why = data.get("warning") if isinstance(data.get("warning"), str) else ""
    else:
        raise InputError("is no sync result: it has neither 'time_map' (anim400k sync --out) nor 'applied' "
                         "(a build's sync.json)", path)
    if trusted:
        return tm, None
    said = f"the estimate is not reliable (confidence {tm.confidence:.2f}{': ' + why if why else ''})"
    if isinstance(data.get("coarse_time_map"), dict):  # anim400k sync --out: the coarse windows' map a build uses
        from .coarse_map import describe_coarse

        coarse = _time_map(path, data["coarse_time_map"], "coarse_time_map.")
        return coarse, (f"{said}: aligned with the coarse windows' map ({describe_coarse(coarse)}, within "
                        f"~{coarse.precision_ms or 0:.0f} ms), as a build would")
    return TimeMap(), f"{said}: aligned with zero offset and no drift, as a build would"


def _load(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; one line for a missing, unreadable or malformed file."""
    if not path.is_file():
        raise InputError("not found" if not path.exists() else "is not a file", path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text: give the JSON that anim400k sync --out or a build writes",
                         path) from None
    except ValueError as exc:
        raise InputError(f"is not valid JSON ({exc})", path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path) from None
    if not isinstance(data, dict):
        raise InputError(f"is no sync result: expected a JSON object, found {type(data).__name__}", path)
    return data


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is no JSON number")


def _field(path: Path, data: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    """``data[key]`` when it is a ``kind``; else one line naming the file and the field."""
    if key not in data:
        raise InputError(f"{where}{key}: missing", path)
    value = data[key]
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok:
            raise InputError(f"{where}{key}: expected a finite number, not {value!r}", path)
        return float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise InputError(f"{where}{key}: expected {_KINDS.get(kind, kind.__name__)}, not {value!r}", path)
    return value


_KINDS = {bool: "true or false", dict: "an object", list: "a list"}


def _time_map(path: Path, d: dict[str, Any], where: str) -> TimeMap:
    """The :class:`TimeMap` of a ``{offset, drift[, confidence][, pieces][, precision_ms]}`` object (``where``
    prefixes fields); without ``precision_ms`` (every file written before it) the map is sample-precise."""
    offset = _field(path, d, "offset", float, where)
    drift = _field(path, d, "drift", float, where)
    confidence = _field(path, d, "confidence", float, where) if "confidence" in d else 1.0
    if abs(offset) > MAX_TIME_S:
        raise InputError(f"{where}offset: {offset} s is past the longest time ({MAX_TIME_S:g} s)", path)
    if not -1.0 < drift <= 1.0:
        raise InputError(f"{where}drift: {drift} is outside (-1, 1] (a drift of -1 or less reverses time)", path)
    if "pieces" in d and d["pieces"] is not None and not isinstance(d["pieces"], list):
        raise InputError(f"{where}pieces: expected a list, not {d['pieces']!r}", path)
    pieces = []
    for k, p in enumerate(d.get("pieces") or []):
        at = f"{where}pieces[{k}]."
        if not isinstance(p, dict):
            raise InputError(f"{where}pieces[{k}]: expected an object, not {p!r}", path)
        ends = [None if p.get(e) is None else _field(path, p, e, float, at) for e in ("jp_start", "jp_end")]
        pieces.append(MapPiece.from_dict({"jp_start": ends[0], "jp_end": ends[1],
                                          "offset": _field(path, p, "offset", float, at)}))
    precision = None if d.get("precision_ms") is None else _field(path, d, "precision_ms", float, where)
    if precision is not None and precision <= 0:
        raise InputError(f"{where}precision_ms: expected a positive number of milliseconds, not {precision:g}", path)
    try:
        return TimeMap(offset, drift, confidence, tuple(pieces), precision)
    except ValueError as exc:  # pieces empty, overlapping or not open at both ends
        raise InputError(f"{where}pieces: {exc}", path) from None
