"""Validates a release: :class:`Problem` s located by show, episode, clip index and field.

Missing, unknown and wrong-typed fields, malformed timestamps and IDs, duplicate clip IDs,
absent media files, and disagreement with the build's own record of the release.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, one_line
from ..formats import ids
from ..model import Clip
from .codec import is_strict_timestamp, timestamp_seconds
from .polls import poll_problems
from .reader import Dataset, duplicate_keys, load
from .records import POLL_SCORES
from .schema import (
    CHARACTER_FIELDS,
    CHARACTER_ROLES,
    CLIP_EXTRA_FIELDS,
    CLIP_FIELDS,
    EPISODE_EXTRA_FIELDS,
    EPISODE_FIELDS,
    MIXING_RATIO_LIMIT_DB,
    NULLABLE_KINDS,
    RATING_FIELDS,
    REQUIRED_CHARACTER,
    REQUIRED_CLIP,
    REQUIRED_EPISODE,
    REQUIRED_SHOW,
    SHOW_FIELDS,
    SUBTITLE_FIELDS,
    expected,
    type_ok,
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a release, located as precisely as possible.

    ``show``/``episode``/``clip`` (clip index within its episode) say where; a problem with
    ``clip`` set makes only that clip bad, with only ``episode`` set the episode, and so on.
    """

    message: str
    show: str | None = None
    episode: str | None = None
    clip: int | None = None
    field: str | None = None
    kind: str = "error"

    @property
    def where(self) -> str:
        """``show 'K' episode '1' clip 3 field 'jp_clip'`` (only the parts that are known)."""
        parts = []
        if self.show is not None:
            parts.append(f"show {self.show!r}")
        if self.episode is not None:
            parts.append(f"episode {self.episode!r}")
        if self.clip is not None:
            parts.append(f"clip {self.clip}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return " ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _check_fields(
    d: dict[str, Any],
    table: dict[str, str],
    required: Iterable[str],
    loc: dict[str, Any],
    extra_ok: dict[str, str] | None = None,
    nullable: bool = False,
) -> Iterator[Problem]:
    """Missing, unknown and wrong-typed fields of ``d``; with ``nullable`` a ``null`` string or
    number is an unknown value (show and episode metadata), not a wrong type."""
    allowed = dict(table) | dict(extra_ok or {})
    for name in required:
        if name not in d:
            yield Problem("missing field", field=name, **loc)
    for name in duplicate_keys(d):
        yield Problem("duplicate key: the object holds this field twice (a reader keeps only the last)",
                      field=str(name), **loc)
    for name, value in d.items():
        kind = allowed.get(name)
        if kind is None:
            yield Problem("unknown field", field=name, **loc)
        elif value is None and nullable and kind in NULLABLE_KINDS:
            continue
        elif not type_ok(value, kind):
            yield Problem(f"expected {expected(kind)}, got {type(value).__name__}", field=name, **loc)
        elif kind == "float" and value.__class__ is int:
            spec = "FORMAT.md types it float" if name in table else "docs/format.md types this extra field float"
            yield Problem(f"expected a float ({spec}), got the integer {value}: write {value}.0, "
                          "which JSON readers give back as a float", field=name, **loc)


_ID_SHAPE = re.compile(r"([0-9a-f]{1,2})/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def _check_id(value: Any, name: str, loc: dict[str, Any]) -> Iterator[Problem]:
    if isinstance(value, str):
        try:
            ids.parse_id(value)
        except ValueError:
            m = _ID_SHAPE.fullmatch(value)
            why = (f": its folder {m.group(1)!r} is not the first {len(m.group(1))} character(s) of its UUID "
                   f"({m.group(2)[:len(m.group(1))]!r}), so it names no file of the release" if m else "")
            yield Problem(f"malformed ID {value!r} (expected 'F/UUID'){why}", field=name, **loc)


def validate_show(
    key: str,
    show: Any,
    root: Path | None = None,
    seen_ids: set[str] | None = None,
    check_media: bool = True,
    on_clips: Callable[[str, str, int], None] | None = None,
) -> Iterator[Problem]:
    """Problems of one show object (and its episodes and clips).

    ``on_clips(show, episode, n)`` is called once an episode's ``n`` clips are checked (progress).
    ``seen_ids`` carries clip IDs across shows to find duplicates; media files are looked up
    under ``root`` when ``check_media`` (each clip's MP3s, and its JP clip's MP4 when the release
    has an ``anim400k_video_clips`` folder and the episode does not say ``"video_clips": false``;
    see :func:`media_file_problem`).
    """
    seen = seen_ids if seen_ids is not None else set()
    video = check_media and root is not None and (root / ids.VIDEO_ARCHIVE).is_dir()
    if not isinstance(show, dict):
        yield Problem(f"expected an object, got {type(show).__name__}", show=key)
        return
    sloc: dict[str, Any] = {"show": key}
    yield from _check_fields(show, SHOW_FIELDS, REQUIRED_SHOW, sloc, nullable=True)
    chars = show.get("characters")
    if isinstance(chars, dict):
        for name in duplicate_keys(chars):
            yield Problem("duplicate character: the object holds this name twice (a reader keeps only the last)",
                          field=f"characters.{name}", **sloc)
        for name, c in chars.items():
            if not isinstance(c, dict):
                yield Problem("expected an object", field=f"characters.{name}", **sloc)
                continue
            for p in _check_fields(c, CHARACTER_FIELDS, REQUIRED_CHARACTER, sloc, nullable=True):
                yield Problem(p.message, field=f"characters.{name}.{p.field}", **sloc)
            role = c.get("role")
            if isinstance(role, str) and role.lower() not in CHARACTER_ROLES:
                yield Problem(f"role {role!r} is not one of {', '.join(map(repr, CHARACTER_ROLES))}",
                              field=f"characters.{name}.role", **sloc)
            pics = c.get("pic_urls")
            for pic in pics if isinstance(pics, list) else ():  # a string: its type is the problem, said above
                if isinstance(pic, str):
                    yield from _check_id(pic, f"characters.{name}.pic_urls", sloc)
                    if check_media and root is not None and ids.is_id(pic):
                        picture = ids.id_path(root, ids.PICS_ARCHIVE, pic, "jpg")
                        bad = "is missing" if not picture.is_file() else media_file_problem(picture)
                        if bad is not None:  # a .jpg that was a link to a text file read as valid
                            yield Problem(f"picture file for {pic!r} {bad}", field=f"characters.{name}.pic_urls",
                                          **sloc)
    episodes = show.get("episodes")
    if not isinstance(episodes, dict):
        return
    avg = parse_avg_duration(show.get("avg_duration"))
    max_time = TIME_BOUND_FACTOR * avg if avg else None
    for number in duplicate_keys(episodes):
        yield Problem("duplicate episode key: the show holds this episode twice (a reader keeps only the last, "
                      "the first copy's clips are lost)", show=key, episode=str(number))
    numbers: dict[Any, str] = {}
    for number, ep in episodes.items():
        eloc: dict[str, Any] = {"show": key, "episode": str(number)}
        value = episode_number(str(number))
        if value is None:
            yield Problem("episode key is not an episode number (FORMAT.md: the episode number as a string, "
                          "e.g. '1' or '12.5')", **eloc)
        elif value in numbers:
            yield Problem(f"the same episode number as episode {numbers[value]!r}", **eloc)
        else:
            numbers[value] = str(number)
        if not isinstance(ep, dict):
            yield Problem(f"expected an object, got {type(ep).__name__}", **eloc)
            continue
        yield from _check_fields(ep, EPISODE_FIELDS, REQUIRED_EPISODE, eloc, EPISODE_EXTRA_FIELDS, nullable=True)
        ratings = ep.get("ratings")
        if isinstance(ratings, dict):
            for score, r in ratings.items():
                if score not in POLL_SCORES:
                    yield Problem("poll scores must be '1'..'5'", field=f"ratings.{score}", **eloc)
                if not isinstance(r, dict):
                    yield Problem("expected an object", field=f"ratings.{score}", **eloc)
                    continue
                for p in _check_fields(r, RATING_FIELDS, RATING_FIELDS, eloc):
                    yield Problem(p.message, field=f"ratings.{score}.{p.field}", **eloc)
            for field, message in poll_problems(ratings):
                yield Problem(message, field=field, **eloc)
        clips = ep.get("clips")
        if not isinstance(clips, list):
            continue
        ep_video = video and ep.get("video_clips") is not False  # false: the episode has no MP4 clips
        prev: tuple[int, str, float] | None = None  # the latest clip with a good jp_start_time
        for i, clip in enumerate(clips):
            cloc = {"show": key, "episode": str(number), "clip": i}
            yield from _validate_clip(clip, cloc, root, seen, check_media, max_time, ep_video)
            start = clip.get("jp_start_time") if isinstance(clip, dict) else None
            t = timestamp_seconds(start)
            if math.isnan(t):
                continue
            if prev is not None and t < prev[2]:
                yield Problem(f"clips out of time order: jp_start_time {start} is before clip {prev[0]}'s "
                              f"{prev[1]} (FORMAT.md: the clips in time order)", field="jp_start_time", **cloc)
            prev = (i, str(start), t)
        if on_clips is not None:
            on_clips(key, str(number), len(clips))


_EPISODE_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def episode_number(text: str) -> Any:
    """The number an episode key stands for (``"01"`` and ``"1"`` are the same), None if it is none.

    FORMAT.md keys episodes by their number as a string: digits, optionally a decimal part
    (``"12.5"`` for a recap between 12 and 13).
    """
    from decimal import Decimal

    if not isinstance(text, str) or not _EPISODE_NUMBER.fullmatch(text):
        return None
    return Decimal(text).normalize()


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(hr|hour|h\b|min|m\b|sec|s\b)", re.IGNORECASE)
_DURATION_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


#: no clip time may lie past this many times the show's ``avg_duration``: an average, so a season's one long
#: episode (a 90-minute premiere or a 2-hour special of a "24 min. per ep." show) must pass, while a time
#: in the wrong unit (99 hours, milliseconds read as seconds) is caught
TIME_BOUND_FACTOR = 8


def parse_avg_duration(value: Any) -> float | None:
    """Seconds of a show's ``avg_duration`` (``"24 min. per ep."``, ``"1 hr. 55 min."``); None if unknown."""
    if not isinstance(value, str):
        return None
    total = sum(float(n) * _DURATION_UNIT[unit[0].lower()] for n, unit in _DURATION_PART.findall(value))
    return total or None


def _validate_clip(
    clip: Any, loc: dict[str, Any], root: Path | None, seen: set[str], check_media: bool,
    max_time: float | None = None, video: bool = False,
) -> Iterator[Problem]:
    if not isinstance(clip, dict):
        yield Problem(f"expected an object, got {type(clip).__name__}", **loc)
        return
    yield from _check_fields(clip, CLIP_FIELDS, REQUIRED_CLIP, loc, CLIP_EXTRA_FIELDS)
    for name in ("jp_start_time", "jp_end_time", "en_start_time", "en_end_time"):
        yield from _time_problems(clip, name, name, loc, max_time)
    for a, b in (("jp_start_time", "jp_end_time"), ("en_start_time", "en_end_time")):
        yield from _order_problems(clip, a, b, b, loc)
    ms, speakers = clip.get("multi_speaker"), clip.get("speakers")
    if isinstance(ms, bool) and type_ok(speakers, "[str]") and ms != (len(set(speakers)) > 1):
        yield Problem(f"multi_speaker is {str(ms).lower()} but the clip lists {len(set(speakers))} distinct "
                      f"speaker(s) (it must be true exactly when there are more than one)",
                      field="multi_speaker", **loc)
    ratio = clip.get("mixing_ratio")
    if type_ok(ratio, "float") and not -MIXING_RATIO_LIMIT_DB <= ratio <= MIXING_RATIO_LIMIT_DB:
        yield Problem(f"mixing_ratio {ratio!r} dB is outside ±{MIXING_RATIO_LIMIT_DB:g} dB (the range it is "
                      f"clipped to: a level in dB, not a linear ratio)", field="mixing_ratio", **loc)
    conf = clip.get("speaker_confidence")
    if type_ok(conf, "float") and not 0.0 <= conf <= 1.0:
        yield Problem(f"speaker_confidence {conf!r} is outside 0..1", field="speaker_confidence", **loc)
    subs = clip.get("en_subtitles")
    if isinstance(subs, list):
        for j, s in enumerate(subs):
            if not isinstance(s, dict):
                yield Problem("expected an object", field=f"en_subtitles.{j}", **loc)
                continue
            for p in _check_fields(s, SUBTITLE_FIELDS, SUBTITLE_FIELDS, loc):
                yield Problem(p.message, field=f"en_subtitles.{j}.{p.field}", **loc)
            yield from _subtitle_problems(clip, s, f"en_subtitles.{j}", loc, max_time)
    for name in ("jp_clip", "en_clip", "backing_clip"):
        value = clip.get(name)
        if not isinstance(value, str):
            continue
        bad = list(_check_id(value, name, loc))
        yield from bad
        if bad:
            continue
        if name != "backing_clip":
            # the same UUID under a one- and a two-character folder (``7/7682...``, ``76/7682...``) is one clip to
            # every export, which keys on the UUID (webdataset's sample key, lhotse's recording ID)
            same_uuid = "uuid:" + ids.parse_id(value)[1]
            if value in seen:
                yield Problem(f"duplicate clip ID {value!r}", field=name, **loc)
            elif same_uuid in seen:
                yield Problem(f"duplicate clip ID {value!r}: another clip's ID has its UUID under another folder "
                              "(exports key clips by the UUID)", field=name, **loc)
            seen.update((value, same_uuid))
        if check_media and root is not None:
            media = ids.id_path(root, ids.AUDIO_ARCHIVE, value, "mp3")
            lang = "en" if name == "en_clip" else "jp"  # the backing clip is cut on the JP times
            bad_file = media_file_problem(media, _span(clip, f"{lang}_start_time", f"{lang}_end_time"))
            if bad_file:
                yield Problem(f"audio file {media.relative_to(root)} {bad_file}", field=name, **loc)
            if video and name == "jp_clip":
                media = ids.id_path(root, ids.VIDEO_ARCHIVE, value, "mp4")
                bad_file = media_file_problem(media)
                if bad_file:
                    yield Problem(f"video file {media.relative_to(root)} {bad_file}", field=name, **loc)


def _span(clip: dict[str, Any], start: str, end: str) -> float | None:
    """Seconds from ``clip[start]`` to ``clip[end]`` when both are strict timestamps in order, else None."""
    a, b = clip.get(start), clip.get(end)
    if not (is_strict_timestamp(a) and is_strict_timestamp(b)):
        return None
    span = timestamp_seconds(b) - timestamp_seconds(a)
    return span if span >= 0 else None


def _time_problems(
    d: dict[str, Any], name: str, field: str, loc: dict[str, Any], max_time: float | None
) -> Iterator[Problem]:
    """A problem when ``d[name]`` is a string that is no strict ``HH:MM:SS.mmm`` time or lies past ``max_time``."""
    v = d.get(name)
    if not isinstance(v, str):
        return
    t = timestamp_seconds(v)
    if v.strip().startswith("-"):
        yield Problem(f"negative time {v!r}", field=field, **loc)
    elif math.isnan(t) or not is_strict_timestamp(v):
        yield Problem(f"malformed timestamp {v!r} (expected HH:MM:SS.mmm)", field=field, **loc)
    elif max_time is not None and t > max_time:
        yield Problem(
            f"time {v} is past the episode's end (the show's avg_duration is "
            f"{max_time / TIME_BOUND_FACTOR / 60:g} min; times past {TIME_BOUND_FACTOR} times that are refused)",
            field=field,
            **loc,
        )


def _order_problems(d: dict[str, Any], a: str, b: str, field: str, loc: dict[str, Any]) -> Iterator[Problem]:
    """A problem when the time ``d[b]`` is before ``d[a]`` (both strings)."""
    va, vb = d.get(a), d.get(b)
    if isinstance(va, str) and isinstance(vb, str) and timestamp_seconds(va) > timestamp_seconds(vb):
        yield Problem(f"ends before it starts ({va} > {vb})", field=field, **loc)


#: slack of the overlap test of a clip's ``en_subtitles``: the events are matched on the clip's exact JP
#: interval, then both are rounded to the millisecond, so an event may come to just touch the stored interval
_OVERLAP_SLACK_S = 0.0011


def _subtitle_problems(
    clip: dict[str, Any], sub: dict[str, Any], field: str, loc: dict[str, Any], max_time: float | None
) -> Iterator[Problem]:
    """Problems of one ``en_subtitles`` event: its times (as strict as the clip's), its order, and that it
    overlaps the clip's JP interval (docs/format.md: the EN subtitle events overlapping the clip)."""
    bad = [*_time_problems(sub, "start", f"{field}.start", loc, max_time),
           *_time_problems(sub, "end", f"{field}.end", loc, max_time),
           *_order_problems(sub, "start", "end", f"{field}.end", loc)]
    yield from bad
    times = [timestamp_seconds(x) if isinstance(x, str) and is_strict_timestamp(x) else math.nan
             for x in (sub.get("start"), sub.get("end"), clip.get("jp_start_time"), clip.get("jp_end_time"))]
    if bad or any(math.isnan(t) for t in times) or times[3] < times[2]:
        return  # a malformed clip interval is its own problem
    start, end, jp_start, jp_end = times
    if end < jp_start - _OVERLAP_SLACK_S or start > jp_end + _OVERLAP_SLACK_S:
        yield Problem(f"subtitle {sub['start']}-{sub['end']} does not overlap the clip's JP interval "
                      f"{clip['jp_start_time']}-{clip['jp_end_time']} (en_subtitles are the EN subtitles "
                      f"overlapping the clip, in the JP timeline)", field=field, **loc)


#: a clip MP3 whose ``Info`` tag states a length this far from its clip's times (seconds, and fraction of the
#: clip) holds some other audio than the clip's: the ID names another clip's file. A release writes each clip
#: to the sample (the demo's 114 MP3s: within 0.00002 s); the slack leaves room for releases cut otherwise.
MP3_LENGTH_SLACK_S = 1.0
MP3_LENGTH_SLACK_FRACTION = 0.25


def media_file_problem(path: Path, seconds: float | None = None) -> str | None:
    """What is wrong with a clip file, as the end of a sentence (``is missing``...), or None.

    A cheap check, one short read per file: the file exists and is not empty; an ``.mp3`` starts
    with an ID3 tag or an MPEG audio frame header, and is long enough to hold the tag and its
    first frame; an ``.mp4`` starts with its ``ftyp`` box, a ``.jpg`` with a JPEG marker. With ``seconds`` (the
    clip's length from its times), an ``.mp3`` whose first frame's ``Info``/``Xing`` tag states a length more than
    :data:`MP3_LENGTH_SLACK_S` and :data:`MP3_LENGTH_SLACK_FRACTION` of it away is another clip's audio
    (an MP3 without such a tag is not checked for length).
    """
    from ..media.mp3_gapless import id3v2_size, info_tag_seconds, mp3_frame_length

    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(10)
            if size == 0:
                return "is empty (0 bytes)"
            if path.suffix == ".mp4":
                return None if head[4:8] == b"ftyp" else "does not start with an MP4 'ftyp' box (damaged)"
            if path.suffix == ".jpg":
                return None if head[:3] == b"\xff\xd8\xff" else "does not start with a JPEG marker (damaged)"
            if path.suffix != ".mp3":
                return None
            offset = id3v2_size(head)
            fh.seek(offset)
            frame = fh.read(4)
            length = mp3_frame_length(frame)
            if length is not None and seconds is not None:
                frame += fh.read(length - 4)
    except FileNotFoundError:
        return "is missing"
    except IsADirectoryError:
        return "is a directory"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if length is None:
        return "does not start with an ID3 tag or an MP3 frame (damaged)"
    if size < offset + length:
        return f"is cut short ({size} bytes; its first MP3 frame ends at byte {offset + length})"
    stated = info_tag_seconds(frame) if seconds is not None and math.isfinite(seconds) else None
    if stated is not None and abs(stated - seconds) > max(MP3_LENGTH_SLACK_S, MP3_LENGTH_SLACK_FRACTION * seconds):
        return (f"holds {stated:.3f} s of audio (its Info tag) but the clip's times span {seconds:.3f} s: "
                f"the ID names another clip's file")
    return None


def iter_problems(
    path: str | Path | Dataset, check_media: bool = True, on_clips: Callable[[str, str, int], None] | None = None
) -> Iterator[Problem]:
    """Stream the problems of a release (see :func:`validate_release`); ``on_clips`` as :func:`validate_show`'s."""
    ds = path if isinstance(path, Dataset) else load(path)
    seen: set[str] = set()
    shows_seen: set[str] = set()
    for key, value in ds.iter_raw(check_duplicates=True):
        if key in shows_seen:
            yield Problem("duplicate show key", show=key)
        shows_seen.add(key)
        yield from validate_show(key, value, ds.root, seen, check_media, on_clips)


def build_record_problems(ds: Dataset) -> Iterator[Problem]:
    """Disagreements between a built release's annotations and the build's own record of it.

    A release written by ``anim400k build`` keeps ``build_report.json`` (clip count, episodes)
    and ``catalog.sqlite`` beside its annotations. An annotations file holding other clips or
    episodes than the build recorded (say ``{}`` after two builds raced), or one left by an earlier
    build when the last one wrote no release (every episode failed: ``"written": false``), is
    reported; a release without those files (hand-made, exported) has nothing to compare.
    """
    import sqlite3

    if ds.annotations.resolve() != (ds.root / ids.ANNOTATIONS_FILE).resolve():
        return
    report_file, catalog_file = ds.root / "build_report.json", ds.root / "catalog.sqlite"
    if not report_file.is_file() and not catalog_file.is_file():
        return
    clips, episodes = 0, set()
    for key, show in ds.iter_raw():
        eps = show.get("episodes") if isinstance(show, dict) else None
        for number, ep in (eps.items() if isinstance(eps, dict) else ()):
            episodes.add(f"{key}/{number}")
            if isinstance(ep, dict) and isinstance(ep.get("clips"), list):
                clips += len(ep["clips"])
    try:
        report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.is_file() else {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        report = None
        yield Problem("build_report.json beside the annotations is unreadable: cannot check them against the build")
    if isinstance(report, dict):
        yield from _report_problems(report, clips, episodes)
    if catalog_file.is_file():
        try:
            # immutable: a reader of a finished catalog takes no lock and writes no -shm/-wal beside it
            # (plain mode=ro on a WAL database creates both in the release); a -wal left by a build still
            # running or killed holds records the main file lacks, so then read through it
            wal = catalog_file.with_name(catalog_file.name + "-wal").exists()
            uri = f"{catalog_file.resolve().as_uri()}?mode=ro" + ("" if wal else "&immutable=1")
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                built = {row[0] for row in db.execute("SELECT episode FROM episodes")}
        except sqlite3.Error as exc:
            yield Problem(f"catalog.sqlite beside the annotations is unreadable ({one_line(exc)})")
            return
        unknown = sorted(episodes - built)
        if unknown:
            yield Problem(f"{len(unknown)} annotated episode(s) are not in the build's catalog (catalog.sqlite), "
                          f"e.g. {unknown[0]!r}: the annotations do not come from this build")


#: the start of a problem saying that the annotations are not those the folder's last build wrote
EARLIER_BUILD = "annotations are from an earlier build"


def _episode_key(key: str) -> tuple[str, Any]:
    """``show/episode`` as (show, episode number): ``s/01`` and ``s/1`` are one episode."""
    show, _, episode = key.rpartition("/")
    number = episode_number(episode)
    return show, episode if number is None else number


def _report_problems(report: dict[str, Any], clips: int, episodes: set[str]) -> Iterator[Problem]:
    """The annotations (``clips`` in all, ``episodes`` as ``show/episode``) against ``build_report.json``.

    A last build that wrote no release (every episode failed) leaves an earlier build's annotations
    behind, out of date; a build that did write one wrote exactly its succeeded episodes and its clip count.
    """
    listed = report.get("episodes")
    runs = None
    if isinstance(listed, list):
        runs = [e for e in listed if isinstance(e, dict) and isinstance(e.get("key"), str)]
    if report.get("written", True) is False:
        failed = [e["key"] for e in runs or [] if not e.get("ok")]
        which = f", e.g. {failed[0]!r}" if failed else ""
        yield Problem(f"{EARLIER_BUILD}: the last build (build_report.json) wrote no release (every one of its "
                      f"{len(runs or [])} episode(s) failed{which}), so these annotations are out of date; fix the "
                      f"failures and run the build again")
        return
    if isinstance(report.get("clips"), int) and report["clips"] != clips:
        yield Problem(f"the annotations hold {clips} clip(s) but the build that wrote this release recorded "
                      f"{report['clips']} (build_report.json): the file was overwritten or cut short; "
                      f"run the build again")
    if runs is None:
        return
    built = {_episode_key(e["key"]): e["key"] for e in runs if e.get("ok")}
    annotated = {_episode_key(k): k for k in episodes}
    extra = sorted(annotated[k] for k in annotated.keys() - built.keys())
    lacking = sorted(built[k] for k in built.keys() - annotated.keys())
    parts = []
    if extra:
        parts.append(f"they hold {len(extra)} episode(s) the last build did not write (e.g. {extra[0]!r})")
    if lacking:
        parts.append(f"they lack {len(lacking)} episode(s) it wrote (e.g. {lacking[0]!r})")
    if parts:
        yield Problem(f"{EARLIER_BUILD}: {' and '.join(parts)} (build_report.json); run the build again")


def file_problems(ds: Dataset) -> Iterator[Problem]:
    """Problems of the annotations file's bytes that its parsed content does not show: a byte-order mark.

    The reader skips a UTF-8 BOM, but Python's ``json.loads`` of the text refuses it (``Unexpected UTF-8
    BOM``) and other loaders read it as part of the first key; our writer never writes one (an editor
    saving "UTF-8 with BOM" does). Not in :func:`iter_problems`: the exports read such a file correctly.
    """
    try:
        with ds.annotations.open("rb") as f:
            head = f.read(4)
    except OSError:
        return
    if head.startswith(b"\xef\xbb\xbf"):
        yield Problem("the annotations file starts with a UTF-8 byte-order mark, which `json.loads` refuses "
                      "(FORMAT.md readers load it as plain JSON): save it as UTF-8 without a BOM")


def validate_release(path: str | Path | Dataset, check_media: bool = True) -> list[Problem]:
    """All problems of a release (folder or annotations file); empty if it is valid.

    Checks: required fields (every FORMAT.md show, episode, character and clip field; show, episode
    and character metadata may be ``null`` when unknown), unknown fields (anything outside FORMAT.md and our
    documented clip and episode extras), field types, keys given twice in one object (shows, episodes,
    characters, fields), episode keys (episode numbers, no number twice), character roles
    (``main``/``supporting``), ``multi_speaker`` against ``speakers``, timestamps (strictly
    ``HH:MM:SS.mmm``, not negative, end not before start, none past 8 times the show's
    ``avg_duration``), clips in time order (by ``jp_start_time``), IDs of the form ``F/UUID``,
    duplicate clip IDs, and (``check_media``) that each clip's
    ``anim400k_audio_clips/F/UUID.mp3`` (and, when the release has an ``anim400k_video_clips``
    folder, its ``anim400k_video_clips/F/UUID.mp4``, unless its episode says ``"video_clips": false``) and
    each picture exist, and that each clip file is neither empty nor damaged at its start
    (:func:`media_file_problem`); an integer where FORMAT.md types a field ``float``; a byte-order mark
    (:func:`file_problems`).
    """
    ds = path if isinstance(path, Dataset) else load(path)
    return [*file_problems(ds), *iter_problems(ds, check_media)]


#: clip fields whose problems spoil only that field: with ``--skip-bad`` an export drops the field, not the clip
OPTIONAL_CLIP_FIELDS = frozenset(CLIP_EXTRA_FIELDS)
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
#: a number standing alone (``12 bytes``, ``1.5 s``), not digits inside a word (``MP3``, ``ID3``, ``H264``)
_NUMBER = re.compile(r"(?<![A-Za-z0-9_])\d+(?:\.\d+)?(?![A-Za-z_])")
_PATH = re.compile(r"\S+/\S+")


def problem_kind(p: Problem) -> str:
    """A problem without its particulars, to count problems by kind.

    ``field 'jp_clip': audio file anim400k_audio_clips/a/a1....mp3 is missing`` -> ``jp_clip: audio file
    PATH is missing``; list indexes and character names in the field become ``N`` and ``*``.
    """
    field = p.field or ""
    if field.startswith("characters."):
        field = "characters.*" + ("." + field.split(".", 2)[2] if field.count(".") >= 2 else "")
    field = _NUMBER.sub("N", field)
    msg = _NUMBER.sub("N", _PATH.sub("PATH", _QUOTED.sub("'…'", p.message)))
    level = "clip" if p.clip is not None else "episode" if p.episode is not None else "show" if p.show else "release"
    return f"{level} {field}: {msg}" if field else f"{level}: {msg}"


def is_metadata_problem(p: Problem) -> bool:
    """Whether ``p`` is about a show or episode metadata field (characters included) only.

    The format's readers tolerate these (a wrong-typed field reads as unknown), and the exports drop
    the field; a problem with a show's ``episodes`` or an episode's ``clips`` is not one.
    """
    if p.show is None or p.clip is not None or p.field is None:
        return False
    return p.field != ("episodes" if p.episode is None else "clips")


class BadItems:
    """Which shows, episodes and clips a list of problems rules out (for ``--skip-bad``).

    A problem with an optional clip extra (:data:`OPTIONAL_CLIP_FIELDS`: ``en_subtitles``, ``multi_speaker``,
    ...) rules out only that field of the clip (:attr:`dropped_fields`); a show or episode metadata problem
    (:func:`is_metadata_problem`) rules out nothing (the exports drop wrong-typed metadata). Problems are
    counted by kind (:func:`problem_kind`) with the first :attr:`EXAMPLES` of each kept.
    """

    EXAMPLES = 5
    #: at most this many kinds are listed by :meth:`summary_lines` (the most frequent)
    KINDS = 20

    def __init__(self, problems: Iterable[Problem] = ()) -> None:
        self.shows: set[str] = set()
        self.episodes: set[tuple[str, str]] = set()
        self.clips: set[tuple[str, str, int]] = set()
        self.dropped_fields: dict[tuple[str, str, int], set[str]] = {}
        self.count = 0
        self.metadata = 0
        self.kinds: Counter[str] = Counter()
        self.examples: list[Problem] = []
        for p in problems:
            self.add(p)

    def add(self, p: Problem) -> None:
        """Count ``p`` and rule out what it spoils."""
        self.count += 1
        self.kinds[problem_kind(p)] += 1
        if len(self.examples) < self.EXAMPLES:
            self.examples.append(p)
        if p.show is None:
            return
        if is_metadata_problem(p):
            self.metadata += 1
        elif p.episode is None:
            self.shows.add(p.show)
        elif p.clip is None:
            self.episodes.add((p.show, p.episode))
        elif p.field is not None and p.field.split(".", 1)[0] in OPTIONAL_CLIP_FIELDS:
            self.dropped_fields.setdefault((p.show, p.episode, p.clip), set()).add(p.field.split(".", 1)[0])
        else:
            self.clips.add((p.show, p.episode, p.clip))

    def bad_clip(self, clip: Clip) -> bool:
        """Whether a clip (or its episode or show) is ruled out."""
        return (
            clip.show_key in self.shows
            or (clip.show_key, clip.episode) in self.episodes
            or (clip.show_key, clip.episode, clip.index) in self.clips
        )

    def summary_lines(self) -> list[str]:
        """A few lines: the count of each kind of problem (the :attr:`KINDS` most frequent) and the first examples."""
        if not self.count:
            return []
        lines = [f"{self.count} problem(s) of {len(self.kinds)} kind(s):"]
        kinds = self.kinds.most_common()
        lines += [f"  {n} x {kind}" for kind, n in kinds[: self.KINDS]]
        if len(kinds) > self.KINDS:
            lines.append(f"  {sum(n for _, n in kinds[self.KINDS:])} more of {len(kinds) - self.KINDS} other kind(s)")
        lines.append(f"first {len(self.examples)}:")
        lines += [f"  {p}" for p in self.examples]
        return lines


def require_valid(ds: Dataset, check_media: bool = False) -> None:
    """Raise :class:`InputError` naming the annotations file and the first problem of ``ds``, if any."""
    for p in iter_problems(ds, check_media):
        raise InputError(f"{p} (run `anim400k validate` for every problem)", ds.annotations)


def check_or_raise(
    ds: Dataset,
    skip_bad: bool,
    check_media: bool = True,
    on_clips: Callable[[str, str, int], None] | None = None,
    tolerate_metadata: bool = False,
    sink: Callable[[Problem], None] | None = None,
) -> BadItems:
    """Validate ``ds``; raise :class:`InputError` on the first problem unless ``skip_bad``.

    With ``skip_bad`` return the bad items to leave out (:class:`BadItems`: counts by kind, first
    examples); ``sink`` gets every problem (e.g. to write them to a file). With ``tolerate_metadata``
    show/episode metadata problems (:func:`is_metadata_problem`) never raise. ``on_clips`` as
    :func:`validate_show`'s.
    """
    bad = BadItems()
    for p in iter_problems(ds, check_media, on_clips):
        if not skip_bad and not (tolerate_metadata and is_metadata_problem(p)):
            raise InputError(f"{p} (use --skip-bad to leave bad items out)", ds.annotations)
        bad.add(p)
        if sink is not None:
            sink(p)
    return bad
