"""Check a release against ``/work/shared/FORMAT.md`` field by field, with a loader of its own.

    python benchmarks/check_release_spec.py RELEASE [--spec FORMAT.md] [--json OUT.json] [--quiet]

A reviewer's check: nothing of ``anim400k`` is imported (only the standard library), and the field
tables are read from FORMAT.md itself (its markdown tables), not from ``anim400k.release.schema``.
What it checks, each as one line ``PASS``/``FAIL``/``NOTE`` (``NOTE``: FORMAT.md does not decide it;
the line says what the release does):

* the annotations file: at ``RELEASE/anim400k_annotations.json``, UTF-8 without a byte-order mark, one
  JSON object, no key twice in one object, no ``NaN``/``Infinity``; whether non-ASCII text is raw or
  ``\\u``-escaped (NOTE);
* every show, character, episode and clip field of FORMAT.md's tables present, in the tables' order,
  (NOTE where not: JSON objects are unordered), with the table's JSON type as Python's ``json`` reads it:
  ``float`` fields must read as ``float``
  (``8`` reads as ``int``), ``int`` fields as ``int`` (not ``bool``, not ``8.0``); ``null`` (an unknown
  value) counted per field (NOTE); fields outside the tables named (the clip extras FORMAT.md asks for
  are expected);
* values: ``role`` main/supporting, poll scores ``"1"``..``"5"`` with ``ratio`` 0..100 summing to ~100,
  ``number_of_voters`` >= 0 and whole, episode keys numbers, ``multi_speaker`` equal to more than one
  distinct speaker, ``mixing_ratio`` a float, ``speaker_confidence`` in 0..1, subtitle events
  ``{start, end, text}``;
* IDs ``{id_folder}/{uuid}``: the UUID parses (``uuid.UUID``), is in canonical lower-case form, the folder
  is its first one or two characters; folder widths and UUID versions counted per kind (NOTE);
* timestamps: the forms found (NOTE: FORMAT.md shows none), readable as ``H:MM:SS[.fff]`` with minutes and
  seconds below 60, end not before start, clips in JP time order; consecutive clips more than 125 ms apart
  (FORMAT.md section 3's merge rule; NOTE where not);
* files (a media folder that is absent altogether is a NOTE): each clip ID's ``anim400k_audio_clips/F/UUID.mp3``
  (JP, EN, backing), the JP clip's
  ``anim400k_video_clips/F/UUID.mp4``, each picture's ``anim400k_character_pics/F/UUID.jpg``, with the
  format's magic bytes; files in those folders that nothing references (NOTE);
* archives ``NAME.tar.gz`` (when present): gzip + tar readable, every member a regular file named
  ``NAME/F/UUID.ext`` (no ``./``, no absolute path, no ``..``), exactly the files the annotations
  reference, each equal in bytes (SHA-256) to the file in the folder.

Exit 1 if any line is FAIL.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import re
import sys
import tarfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ANNOTATIONS = "anim400k_annotations.json"
#: where FORMAT.md is looked for: the shared contract, else its copy beside the tests
SPECS = (Path("/work/shared/FORMAT.md"), Path(__file__).resolve().parents[1] / "tests" / "data" / "FORMAT.md")
ARCHIVES = {"anim400k_audio_clips": "mp3", "anim400k_video_clips": "mp4", "anim400k_character_pics": "jpg"}
EXPECTED_CLIP_EXTRAS = ("en_subtitles", "multi_speaker", "mixing_ratio", "backing_clip")
_ID = re.compile(r"([0-9a-f]{1,2})/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_TS = re.compile(r"([0-9]+):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?")


class Report:
    """Collected check lines; :meth:`fail` counts."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def add(self, status: str, item: str, detail: str) -> None:
        """Record one line (``PASS``, ``FAIL`` or ``NOTE``)."""
        self.lines.append((status, item, detail))

    def check(self, ok: bool, item: str, good: str, bad: list[str] | str) -> None:
        """PASS with ``good`` when ``ok``, else FAIL with ``bad`` (a list: its first 5 and a count)."""
        if ok:
            self.add("PASS", item, good)
        else:
            if isinstance(bad, list):
                more = f" (+{len(bad) - 5} more)" if len(bad) > 5 else ""
                bad = "; ".join(bad[:5]) + more
            self.add("FAIL", item, bad)

    def failed(self) -> int:
        """Number of FAIL lines."""
        return sum(1 for s, _, _ in self.lines if s == "FAIL")


# --- FORMAT.md's tables ----------------------------------------------------------------------------------

def spec_tables(spec: Path) -> dict[str, list[tuple[str, str]]]:
    """FORMAT.md's field tables, by the paragraph that introduces them: ``show``, ``episode``, ``clip``,
    each ``[(field, type)]`` in the table's order (``a, b`` rows split into fields of the same type)."""
    tables: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    name = ""
    for line in spec.read_text(encoding="utf-8").splitlines():
        low = line.lower()
        if line.startswith("One JSON object"):
            name = "show"
        elif low.startswith("an episode object"):
            name = "episode"
        elif low.startswith("a clip object"):
            name = "clip"
        if line.startswith("| field |"):
            current = tables.setdefault(name, [])
            continue
        if current is not None and line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set(cells[0]) <= {"-", " "}:
                continue
            for field in cells[0].split(","):
                current.append((field.strip(), cells[1]))
        elif current is not None and not line.startswith("|"):
            current = None
    return tables


def spec_characters(spec: Path) -> list[tuple[str, str]]:
    """The character fields of FORMAT.md's ``characters`` row (``{description: str, role: str ..., ...}``)."""
    text = spec.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| characters |"))
    inner = row[row.index("{") + 1: row.rindex("}")]
    fields = []
    for part in re.split(r",\s*(?=(?:\"[^\"]+\"|\w+):)", inner):
        key, _, kind = part.partition(":")
        fields.append((key.strip().strip('"'), kind.strip().split(" ")[0]))
    return fields


# --- values ----------------------------------------------------------------------------------------------

def json_kind(value: Any) -> str:
    """The JSON type of a value as Python's ``json`` gives it: null, bool, int, float, str, list, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "object"


def type_matches(value: Any, spec_type: str) -> bool:
    """Whether ``value`` is of FORMAT.md's type word (``str``, ``int``, ``float``, ``[str]``, ``object``,
    ``[clip]``), read strictly: a float field must be a JSON number with a fraction or exponent."""
    kind = json_kind(value)
    if spec_type == "[str]":
        return kind == "list" and all(isinstance(v, str) for v in value)
    if spec_type.startswith("["):
        return kind == "list" and all(isinstance(v, dict) for v in value)
    return kind == spec_type


def parse_id(value: Any) -> tuple[str, str] | None:
    """``(folder, uuid)`` of an ``F/UUID`` ID whose folder is the UUID's first 1-2 characters, else None."""
    if not isinstance(value, str):
        return None
    m = _ID.fullmatch(value)
    if m is None or not m.group(2).startswith(m.group(1)):
        return None
    try:
        if str(uuid.UUID(m.group(2))) != m.group(2):
            return None
    except ValueError:
        return None
    return m.group(1), m.group(2)


def millis(value: Any) -> int | None:
    """Milliseconds of ``H:MM:SS[.fff]`` (minutes and seconds below 60), else None."""
    if not isinstance(value, str):
        return None
    m = _TS.fullmatch(value)
    if m is None or int(m.group(2)) >= 60 or int(m.group(3)) >= 60:
        return None
    frac = m.group(4) or "0"
    return (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))) * 1000 + round(float("0." + frac) * 1000)


def ts_form(value: Any) -> str:
    """The shape of a timestamp string, digits as ``9`` (``99:99:99.999``)."""
    return re.sub(r"[0-9]", "9", value) if isinstance(value, str) else json_kind(value)


def _strict_pairs(pairs: list[tuple[str, Any]], dupes: list[str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            dupes.append(k)
        seen[k] = v
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no JSON")


# --- the checks --------------------------------------------------------------------------------------------

def check_file(root: Path, rep: Report) -> Any:
    """Encoding and JSON well-formedness of the annotations file; returns the parsed object (or None)."""
    path = root / ANNOTATIONS
    if not path.is_file():
        rep.add("FAIL", "annotations file", f"{path} is missing")
        return None
    raw = path.read_bytes()
    rep.check(not raw.startswith(b"\xef\xbb\xbf"), "encoding: no BOM", "no byte-order mark", "starts with a UTF-8 BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        rep.add("FAIL", "encoding: UTF-8", str(e))
        return None
    rep.add("PASS", "encoding: UTF-8", f"{len(raw)} bytes decode as UTF-8")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    escapes = len(re.findall(r"\\u[0-9a-fA-F]{4}", text))
    rep.add("NOTE", "encoding: ensure_ascii", f"{non_ascii} raw non-ASCII characters, {escapes} \\u escapes "
            "(FORMAT.md does not say; both read the same)")
    dupes: list[str] = []
    try:
        data = json.loads(text, object_pairs_hook=lambda p: _strict_pairs(p, dupes), parse_constant=_no_constant)
    except ValueError as e:
        rep.add("FAIL", "JSON", str(e))
        return None
    rep.check(isinstance(data, dict), "JSON: one object", "top level is an object", f"top level is {json_kind(data)}")
    rep.check(not dupes, "JSON: no duplicate keys", "no key twice in one object", [f"key {k!r} twice" for k in dupes])
    rep.check(True, "JSON: no NaN/Infinity", "none", "")
    return data if isinstance(data, dict) else None


def _fields(rep: Report, label: str, objs: list[tuple[str, dict[str, Any]]], table: list[tuple[str, str]],
            expected_extras: tuple[str, ...] = ()) -> None:
    """Presence, type, null counts, order and extras of ``objs`` against ``table``."""
    names = [f for f, _ in table]
    for field, kind in table:
        missing = [where for where, o in objs if field not in o]
        wrong, ints_for_float = [], []
        nulls = 0
        for where, o in objs:
            if field not in o:
                continue
            v = o[field]
            if v is None:
                nulls += 1
            elif not type_matches(v, kind):
                (ints_for_float if kind == "float" and json_kind(v) == "int" else wrong).append(
                    f"{where}: {json_kind(v)} {str(v)[:40]!r}")
        rep.check(not missing, f"{label}.{field}: present", f"in all {len(objs)}", [f"missing in {w}" for w in missing])
        rep.check(not wrong and not ints_for_float, f"{label}.{field}: type {kind}",
                  "as FORMAT.md's type", [f"wrong type at {w}" for w in wrong]
                  + [f"int where FORMAT.md says float at {w}" for w in ints_for_float])
        if nulls:
            rep.add("NOTE", f"{label}.{field}: null", f"null (unknown) in {nulls} of {len(objs)}")
    out_of_order = []
    extras: Counter[str] = Counter()
    for where, o in objs:
        keys = [k for k in o if k in names]
        if keys != [n for n in names if n in o]:
            out_of_order.append(where)
        extras.update(k for k in o if k not in names)
    if out_of_order:  # JSON objects are unordered (RFC 8259): FORMAT.md gives tables, no serialization
        rep.add("NOTE", f"{label}: key order", f"not FORMAT.md's table order in {len(out_of_order)} of {len(objs)}, "
                f"e.g. {out_of_order[0]}")
    else:
        rep.add("PASS", f"{label}: key order", "FORMAT.md's table order")
    for k in expected_extras:
        if k not in extras:
            rep.add("NOTE", f"{label}: extra {k}", "absent in every object (FORMAT.md asks for it)")
    other = {k: n for k, n in extras.items() if k not in expected_extras}
    if extras:
        rep.add("NOTE", f"{label}: fields beyond FORMAT.md's table",
                ", ".join(f"{k} ({n})" for k, n in sorted(extras.items()))
                + ("" if not other else "; not asked for by FORMAT.md: " + ", ".join(sorted(other))))


def check_annotations(data: dict[str, Any], spec: Path, rep: Report) -> dict[str, set[str]]:
    """Field-by-field checks; returns the files the annotations reference, per media folder (``F/UUID.ext``)."""
    tables = spec_tables(spec)
    show_table = [(f, k) for f, k in tables["show"] if f != "episodes"] + [("episodes", "object")]
    char_table = spec_characters(spec)
    shows = [(repr(k), v) for k, v in data.items() if isinstance(v, dict)]
    rep.check(len(shows) == len(data), "shows: objects", f"{len(shows)} show(s)", "a show value is no object")
    _fields(rep, "show", shows, show_table)
    chars, episodes, clips = [], [], []
    for key, show in shows:
        for name, c in (show.get("characters") or {}).items():
            chars.append((f"{key} character {name!r}", c if isinstance(c, dict) else {}))
        bad_keys = [n for n in (show.get("episodes") or {}) if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", n)]
        rep.check(not bad_keys, "episode keys", "episode numbers as strings", [f"{key}: {n!r}" for n in bad_keys])
        for n, ep in (show.get("episodes") or {}).items():
            episodes.append((f"{key} ep {n}", ep if isinstance(ep, dict) else {}))
            for i, c in enumerate(ep.get("clips") or [] if isinstance(ep, dict) else []):
                clips.append((f"{key} ep {n} clip {i}", c))
    _fields(rep, "character", chars, char_table)
    roles = [f"{w}: {c.get('role')!r}" for w, c in chars if c.get("role") not in ("main", "supporting", None)]
    rep.check(not roles, "character.role: values", "main or supporting (or null)", roles)
    _fields(rep, "episode", episodes, [(f, "[clip]" if f == "clips" else k) for f, k in tables["episode"]])
    _fields(rep, "clip", clips, tables["clip"], EXPECTED_CLIP_EXTRAS)
    _check_polls(rep, episodes)
    ids = _check_ids(rep, shows, chars, episodes, clips)
    _check_times(rep, episodes, clips)
    _check_extras(rep, clips)
    return ids


def _check_polls(rep: Report, episodes: list[tuple[str, dict[str, Any]]]) -> None:
    bad = []
    n_polls = 0
    for where, ep in episodes:
        ratings = ep.get("ratings")
        if not isinstance(ratings, dict) or not ratings:
            continue
        n_polls += 1
        if set(ratings) - {"1", "2", "3", "4", "5"}:
            bad.append(f"{where}: scores {sorted(ratings)}")
        total_ratio, voters = 0.0, 0.0
        for score, r in ratings.items():
            if not isinstance(r, dict) or list(r) != ["ratio", "number_of_voters"]:
                bad.append(f"{where} score {score}: fields {list(r) if isinstance(r, dict) else r!r}")
                continue
            for f in ("ratio", "number_of_voters"):
                if json_kind(r[f]) != "float":
                    bad.append(f"{where} score {score}: {f} is {json_kind(r[f])} (FORMAT.md: float)")
            ratio, nv = r.get("ratio"), r.get("number_of_voters")
            if isinstance(ratio, int | float) and not 0 <= ratio <= 100:
                bad.append(f"{where} score {score}: ratio {ratio} outside 0..100 (percent)")
            if isinstance(nv, int | float) and (nv < 0 or nv != int(nv)):
                bad.append(f"{where} score {score}: number_of_voters {nv}")
            total_ratio += ratio if isinstance(ratio, int | float) else 0
            voters += nv if isinstance(nv, int | float) else 0
        if voters and abs(total_ratio - 100) > 1.0:
            bad.append(f"{where}: ratios sum to {total_ratio:.2f}, not 100")
    rep.check(not bad, "episode.ratings: values", f"{n_polls} poll(s): scores 1..5, {{ratio, number_of_voters}} "
              "floats, ratio in percent summing to 100", bad)


def _check_ids(rep: Report, shows: list[tuple[str, dict[str, Any]]], chars: list[tuple[str, dict[str, Any]]],
               episodes: list[tuple[str, dict[str, Any]]], clips: list[tuple[str, dict[str, Any]]]
               ) -> dict[str, set[str]]:
    files: dict[str, set[str]] = {name: set() for name in ARCHIVES}
    widths: dict[str, Counter[int]] = {}
    versions: dict[str, Counter[int]] = {}
    bad: list[str] = []
    seen: Counter[str] = Counter()

    loose: Counter[str] = Counter()

    def take(kind: str, where: str, value: Any, folders: tuple[str, ...], strict: bool = True) -> None:
        parsed = parse_id(value)
        if parsed is None:
            if strict:
                bad.append(f"{where} {kind}: {value!r}")
            else:
                loose[kind] += 1
            return
        folder, u = parsed
        widths.setdefault(kind, Counter())[len(folder)] += 1
        versions.setdefault(kind, Counter())[uuid.UUID(u).version or 0] += 1
        for archive in folders:
            files[archive].add(f"{folder}/{u}.{ARCHIVES[archive]}")

    for where, c in clips:
        take("jp_clip", where, c.get("jp_clip"), ("anim400k_audio_clips", "anim400k_video_clips"))
        take("en_clip", where, c.get("en_clip"), ("anim400k_audio_clips",))
        if "backing_clip" in c:
            take("backing_clip", where, c["backing_clip"], ("anim400k_audio_clips",))
        seen.update([c.get("jp_clip"), c.get("en_clip")])
    for where, ch in chars:
        for i, p in enumerate(ch.get("pic_urls") or []):
            take("pic_urls", f"{where} pic {i}", p, ("anim400k_character_pics",))
    for where, ep in episodes:
        for f in ("jp_video_id", "en_video_id"):
            if ep.get(f) is not None:
                take(f, where, ep[f], (), strict=False)  # FORMAT.md: "clip and picture IDs" are F/UUID
    if loose:
        rep.add("NOTE", "IDs: video IDs", ", ".join(f"{k}: {n} not of the form F/UUID" for k, n in loose.items())
                + " (FORMAT.md gives the F/UUID form for clip and picture IDs only)")
    rep.check(not bad, "IDs: {id_folder}/{uuid}", "every ID parses; folder = the UUID's first characters", bad)
    dup = [f"{k!r} x{n}" for k, n in seen.items() if n > 1]
    rep.check(not dup, "IDs: clip IDs unique", f"{len(seen)} distinct jp/en clip IDs", dup)
    rep.add("NOTE", "IDs: folder width", "; ".join(f"{k}: " + ", ".join(f"{w} char x{n}" for w, n in sorted(c.items()))
                                                   for k, c in widths.items())
            + " (FORMAT.md: 'first one or two hex characters', no rule for which)")
    rep.add("NOTE", "IDs: UUID version", "; ".join(f"{k}: " + ", ".join(f"v{v} x{n}" for v, n in sorted(c.items()))
                                                   for k, c in versions.items()) + " (FORMAT.md: 'UUIDs', no version)")
    return files


def _check_times(rep: Report, episodes: list[tuple[str, dict[str, Any]]],
                 clips: list[tuple[str, dict[str, Any]]]) -> None:
    forms: Counter[str] = Counter()
    bad, order = [], []
    for where, c in clips:
        for side in ("jp", "en"):
            a, b = c.get(f"{side}_start_time"), c.get(f"{side}_end_time")
            forms.update([ts_form(a), ts_form(b)])
            ma, mb = millis(a), millis(b)
            if ma is None or mb is None:
                bad.append(f"{where}: {side} times {a!r}..{b!r} unreadable")
            elif mb < ma:
                bad.append(f"{where}: {side} ends before it starts ({a}..{b})")
    for where, ep in episodes:
        starts = [millis(c.get("jp_start_time")) for c in ep.get("clips") or []]
        known = [s for s in starts if s is not None]
        if known != sorted(known):
            order.append(where)
    close = []  # FORMAT.md section 3: segments within 125 ms merge, so no two clips of an episode are that close
    gaps: list[int] = []
    for where, ep in episodes:
        times = [(millis(c.get("jp_start_time")), millis(c.get("jp_end_time"))) for c in ep.get("clips") or []]
        for i, ((_, end), (start, _)) in enumerate(zip(times, times[1:], strict=False)):
            if end is not None and start is not None:
                gaps.append(start - end)
                if start - end <= 125:
                    close.append(f"{where} clips {i}-{i + 1}: {start - end} ms apart")
    if gaps:
        rep.add("PASS" if not close else "NOTE", "clips: 125 ms merge rule",
                f"smallest JP gap between consecutive clips {min(gaps)} ms" + (f"; {len(close)} gap(s) <= 125 ms, "
                f"e.g. {close[0]}" if close else " (> 125 ms: consistent with FORMAT.md section 3's merge)"))
    rep.check(not bad, "clip times: readable, end >= start", f"{len(clips)} clips", bad)
    rep.check(not order, "clips: in time order", "by jp_start_time in every episode", order)
    rep.add("NOTE", "clip times: string form", ", ".join(f"{f!r} x{n}" for f, n in forms.most_common())
            + " (FORMAT.md: 'timestamps', no form shown)")


def _check_extras(rep: Report, clips: list[tuple[str, dict[str, Any]]]) -> None:
    bad = []
    for where, c in clips:
        if "multi_speaker" in c:
            speakers = c.get("speakers") if isinstance(c.get("speakers"), list) else []
            if not isinstance(c["multi_speaker"], bool) or c["multi_speaker"] != (len(set(speakers)) > 1):
                bad.append(f"{where}: multi_speaker {c['multi_speaker']!r} with speakers {speakers}")
        if "mixing_ratio" in c:
            v = c["mixing_ratio"]
            if json_kind(v) != "float" or not math.isfinite(v):
                bad.append(f"{where}: mixing_ratio {v!r} ({json_kind(v)})")
        if "speaker_confidence" in c:
            v = c["speaker_confidence"]
            if json_kind(v) != "float" or not 0 <= v <= 1:
                bad.append(f"{where}: speaker_confidence {v!r}")
        subs = c.get("en_subtitles", [])
        if not isinstance(subs, list):
            bad.append(f"{where}: en_subtitles is {json_kind(subs)}")
            continue
        for j, s in enumerate(subs):
            if not isinstance(s, dict) or sorted(s) != ["end", "start", "text"] or not isinstance(s["text"], str) \
                    or millis(s["start"]) is None or millis(s["end"]) is None:
                bad.append(f"{where} subtitle {j}: {s!r}"[:120])
    rep.check(not bad, "clip extras: values", "multi_speaker = >1 distinct speaker; mixing_ratio float; "
              "speaker_confidence 0..1; en_subtitles [{start, end, text}]", bad)


_MAGIC = {"mp3": lambda b: b[:3] == b"ID3" or (len(b) > 1 and b[0] == 0xFF and b[1] & 0xE0 == 0xE0),
          "mp4": lambda b: b[4:8] == b"ftyp",
          "jpg": lambda b: b[:3] == b"\xff\xd8\xff"}


def check_media(root: Path, files: dict[str, set[str]], rep: Report) -> None:
    """Each referenced file at ``FOLDER/F/UUID.ext`` with its magic bytes; unreferenced files noted."""
    for name, wanted in files.items():
        folder = root / name
        if not folder.is_dir():
            rep.add("NOTE", f"files: {name}/", "folder absent: the release ships none of these files"
                    + (f" ({len(wanted)} referenced)" if wanted else ""))
            continue
        missing, damaged = [], []
        for rel in sorted(wanted):
            p = folder / rel
            if not p.is_file():
                missing.append(rel)
                continue
            with open(p, "rb") as fh:
                if not _MAGIC[ARCHIVES[name]](fh.read(16)):
                    damaged.append(rel)
        rep.check(not missing and not damaged, f"files: {name}/F/UUID.{ARCHIVES[name]}",
                  f"all {len(wanted)} referenced files present, magic bytes right",
                  [f"missing {m}" for m in missing] + [f"bad magic {d}" for d in damaged])
        present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and not p.name.startswith(".")}
        misplaced = [p for p in present if not re.fullmatch(rf"([0-9a-f]{{1,2}})/\1[0-9a-f-]+\.{ARCHIVES[name]}", p)]
        rep.check(not misplaced, f"files: {name}/ layout", "every file at F/UUID.ext", misplaced)
        extra = present - wanted
        if extra:
            rep.add("NOTE", f"files: {name}/ unreferenced",
                    f"{len(extra)} file(s) nothing references, e.g. {sorted(extra)[0]}")


def check_archives(root: Path, files: dict[str, set[str]], rep: Report) -> None:
    """Each ``NAME.tar.gz``: members ``NAME/F/UUID.ext``, exactly the referenced files, bytes as the folder's."""
    for name, ext in ARCHIVES.items():
        path = root / f"{name}.tar.gz"
        if not path.is_file():
            rep.add("NOTE", f"archive {path.name}", "absent")
            continue
        with open(path, "rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                rep.add("FAIL", f"archive {path.name}", "not gzip")
                continue
        bad, differ, members = [], [], set()
        with gzip.open(path, "rb") as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
            for m in tar:
                if m.isdir():
                    continue
                parts = m.name.split("/")
                if not m.isreg() or m.name.startswith(("/", "./")) or ".." in parts or len(parts) != 3 \
                        or parts[0] != name or parse_id(f"{parts[1]}/{parts[2].removesuffix('.' + ext)}") is None \
                        or not parts[2].endswith("." + ext):
                    bad.append(m.name)
                    continue
                rel = f"{parts[1]}/{parts[2]}"
                members.add(rel)
                data = tar.extractfile(m).read()  # type: ignore[union-attr]
                disk = root / name / rel
                if not disk.is_file() or hashlib.sha256(disk.read_bytes()).digest() != hashlib.sha256(data).digest():
                    differ.append(rel)
        rep.check(not bad, f"archive {path.name}: member names", f"{len(members)} members, each {name}/F/UUID.{ext}",
                  bad)
        missing, extra = sorted(files[name] - members), sorted(members - files[name])
        rep.check(not missing and not extra, f"archive {path.name}: contents", "exactly the referenced files",
                  [f"not packed: {m}" for m in missing] + [f"not referenced: {e}" for e in extra])
        rep.check(not differ, f"archive {path.name}: bytes", "each member equals the folder's file", differ)


def main(argv: list[str] | None = None) -> int:
    """Run every check on a release folder; print one line per check; 1 if any FAIL."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("release", type=Path)
    ap.add_argument("--spec", type=Path, default=next((p for p in SPECS if p.is_file()), SPECS[0]),
                    help="FORMAT.md (default: the shared one, else the copy in tests/data)")
    ap.add_argument("--json", type=Path, help="also write the lines as JSON")
    ap.add_argument("--quiet", action="store_true", help="print only FAIL and NOTE lines (and the count)")
    args = ap.parse_args(argv)
    rep = Report()
    data = check_file(args.release, rep)
    if data is not None:
        files = check_annotations(data, args.spec, rep)
        check_media(args.release, files, rep)
        check_archives(args.release, files, rep)
    for status, item, detail in rep.lines:
        if args.quiet and status == "PASS":
            continue
        print(f"{status:4}  {item}: {detail}")
    print(f"{rep.failed()} FAIL, {sum(1 for s, _, _ in rep.lines if s == 'PASS')} PASS, "
          f"{sum(1 for s, _, _ in rep.lines if s == 'NOTE')} NOTE")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("status", "item", "detail"), x, strict=True)) for x in rep.lines],
                                        indent=1, ensure_ascii=False), encoding="utf-8")
    return 1 if rep.failed() else 0


if __name__ == "__main__":
    sys.exit(main())
