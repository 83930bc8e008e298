"""Running statistics over a release's raw shows, and :func:`compute_stats` (optionally with workers)."""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..release import Dataset, Show, timestamp_millis
from .textcount import count_texts, count_words_en

#: Histogram bins for clip durations, in seconds (last bin catches longer clips).
DURATION_BIN_WIDTH = 0.5
DURATION_MAX = 30.0
#: the bin width in whole milliseconds: durations are binned with integer arithmetic on the
#: timestamps' milliseconds (a 2.500 s clip is in the 2.5 s bin, whatever float seconds would say)
_BIN_MS = round(DURATION_BIN_WIDTH * 1000)
_N_BINS = round(DURATION_MAX * 1000) // _BIN_MS + 1

#: Annotations files at least this large are counted with worker processes (``jobs=None``).
PARALLEL_MIN_BYTES = 8_000_000
#: At most this many worker processes (the main process parses; workers count texts).
MAX_WORKERS = 2


def mean_std(values: Iterable[float]) -> dict[str, float | int | None]:
    """``{"count", "mean", "std"}`` (population std); mean/std are None for no values."""
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return {"count": 0, "mean": None, "std": None}
    return {"count": int(arr.size), "mean": float(arr.mean()), "std": float(arr.std())}


@dataclass
class _Lang:
    sentences: int = 0
    words: int = 0
    clips: int = 0  # clips with text in this language (the others have no transcript: left out per clip)


@dataclass
class StatsAccumulator:
    """Running statistics: feed raw shows with :meth:`add_raw_show` and read :meth:`result`.

    :meth:`add_raw_show` counts everything but the clip texts, which it returns; count them
    with :func:`count_texts` (here or in another process) and add the result with
    :meth:`add_text_counts`. :meth:`add_show_object` does both in this process.
    """

    clips: int = 0
    #: summed clip durations in whole milliseconds (exact: timestamps are whole milliseconds)
    millis: int = 0
    single: int = 0
    multi: int = 0
    shows: int = 0
    episodes: int = 0
    jp: _Lang = field(default_factory=_Lang)
    en: _Lang = field(default_factory=_Lang)
    duration_hist: list[int] = field(default_factory=lambda: [0] * _N_BINS)
    genres_per_show: list[int] = field(default_factory=list)
    themes_per_show: list[int] = field(default_factory=list)
    genre_counts: Counter[str] = field(default_factory=Counter)
    theme_counts: Counter[str] = field(default_factory=Counter)
    show_synopsis_words: list[int] = field(default_factory=list)
    episode_synopsis_words: list[int] = field(default_factory=list)
    character_description_words: list[int] = field(default_factory=list)
    characters: int = 0
    pictures: int = 0
    poll_voters: list[float] = field(default_factory=list)
    poll_mean_vote: list[float] = field(default_factory=list)
    #: the first top-level entry that is not a show object, ``(key, JSON type)``; None if every one is
    first_not_show: tuple[str, str] | None = None

    def add_raw_show(self, key: str, raw: Any) -> tuple[list[str], list[str]]:
        """Count one show object as parsed from the file; return its clip texts ``(jp, en)``.

        Non-object shows are ignored. Clip fields are read as :func:`anim400k.release.clip_from_release` reads
        them: wrong-typed texts count as empty, bad timestamps leave the clip out of hours
        and histogram (but not out of the clip count). Durations are integer milliseconds
        (:func:`anim400k.release.timestamp_millis`): sums and bins are exact.
        """
        jp_texts: list[str] = []
        en_texts: list[str] = []
        if not isinstance(raw, dict):
            if self.first_not_show is None:
                self.first_not_show = (str(key), _json_type(raw))
            return jp_texts, en_texts
        show = Show.from_dict(str(key), raw, with_clips=False)  # metadata and episode records only
        self.shows += 1
        if _has_metadata(raw):  # a show without metadata has unknown genres and themes, not zero of them
            self.genres_per_show.append(len(show.genres))
            self.themes_per_show.append(len(show.themes))
        self.genre_counts.update(set(show.genres))
        self.theme_counts.update(set(show.themes))
        if show.synopsis and show.synopsis.strip():
            self.show_synopsis_words.append(count_words_en(show.synopsis))
        for ch in show.characters:
            self.characters += 1
            self.pictures += len(ch.pic_urls)
            if ch.description and ch.description.strip():
                self.character_description_words.append(count_words_en(ch.description))
        raw_eps = raw.get("episodes")
        for number, ep in show.episodes.items():
            self.episodes += 1
            ep_raw = raw_eps.get(number)  # JSON keys are strings: the typed record's key
            clips = ep_raw.get("clips") if isinstance(ep_raw, dict) else None
            if clips.__class__ is list:
                self._add_clips(clips, jp_texts, en_texts)
            if ep.synopsis and ep.synopsis.strip():
                self.episode_synopsis_words.append(count_words_en(ep.synopsis))
            if ep.ratings and ep.voters > 0:
                self.poll_voters.append(ep.voters)
                mv = ep.mean_vote
                if mv is not None:
                    self.poll_mean_vote.append(mv)
        return jp_texts, en_texts

    def _add_clips(self, clips: list[Any], jp_texts: list[str], en_texts: list[str]) -> None:
        # hot loop (one pass per clip): locals only, no per-clip objects
        ts, hist, last, width = timestamp_millis, self.duration_hist, _N_BINS - 1, _BIN_MS
        n = single = multi = 0
        millis = self.millis
        add_jp, add_en = jp_texts.append, en_texts.append
        jp_before, en_before = len(jp_texts), len(en_texts)
        for c in clips:
            if not isinstance(c, dict):
                continue
            n += 1
            get = c.get
            end, start = ts(get("jp_end_time")), ts(get("jp_start_time"))
            if end is not None and start is not None and end >= start:  # a bad timestamp is None
                d = end - start
                millis += d
                b = d // width
                hist[b if b < last else last] += 1
            ms = get("multi_speaker")
            if ms is True:
                multi += 1
            elif ms is False:
                single += 1
            else:
                spk = get("speakers")
                if isinstance(spk, list) and len(set(map(str, spk))) > 1:
                    multi += 1
                else:
                    single += 1
            t = get("jp_text")
            if t and t.__class__ is str and not t.isspace():
                add_jp(t)
            t = get("en_text")
            if t and t.__class__ is str and not t.isspace():
                add_en(t)
        self.jp.clips += len(jp_texts) - jp_before
        self.en.clips += len(en_texts) - en_before
        self.clips += n
        self.single += single
        self.multi += multi
        self.millis = millis

    def add_text_counts(self, counts: tuple[int, int, int, int]) -> None:
        """Add the result of :func:`count_texts` for texts returned by :meth:`add_raw_show`."""
        js, jw, es, ew = counts
        self.jp.sentences += js
        self.jp.words += jw
        self.en.sentences += es
        self.en.words += ew

    def add_show_object(self, key: str, raw: Any) -> None:
        """Count one raw show completely, texts included, in this process."""
        self.add_text_counts(count_texts(*self.add_raw_show(key, raw)))

    def result(self) -> dict[str, Any]:
        """The statistics as a JSON-ready dict (see the module docstring for definitions)."""

        def per(a: float, b: float) -> float | None:
            return a / b if b else None

        lang = {}
        for name, acc in (("jp", self.jp), ("en", self.en)):
            lang[name] = {
                "sentences": acc.sentences,
                "words": acc.words,
                "words_per_sentence": per(acc.words, acc.sentences),
                "clips_with_text": acc.clips,
                "words_per_clip": per(acc.words, acc.clips),
                "sentences_per_clip": per(acc.sentences, acc.clips),
            }
        edges = [i * DURATION_BIN_WIDTH for i in range(len(self.duration_hist))]
        return {
            "hours": self.millis / 3_600_000,
            "clips": self.clips,
            "shows": self.shows,
            "episodes": self.episodes,
            "single_speaker_clips": self.single,
            "multi_speaker_clips": self.multi,
            "languages": lang,
            "genres_per_show": mean_std(self.genres_per_show),
            "themes_per_show": mean_std(self.themes_per_show),
            "genre_counts": dict(sorted(self.genre_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "theme_counts": dict(sorted(self.theme_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "show_synopsis_words": mean_std(self.show_synopsis_words),
            "episode_synopsis_words": mean_std(self.episode_synopsis_words),
            "characters": self.characters,
            "character_description_words": mean_std(self.character_description_words),
            "character_pictures": self.pictures,
            "poll_voters": mean_std(self.poll_voters),
            "poll_mean_vote": mean_std(self.poll_mean_vote),
            "clip_duration_histogram": {
                "bin_width_s": DURATION_BIN_WIDTH,
                "bin_starts_s": edges,
                "counts": [int(x) for x in self.duration_hist],
                "last_bin_open": True,
            },
        }


#: show fields that say nothing about whether metadata was collected (the build writes the name anyway)
_NOT_METADATA = frozenset({"show", "episodes"})


def _has_metadata(raw: dict[str, Any]) -> bool:
    """Whether a show object carries collected metadata: any known value (not null, ``[]`` or ``{}``)
    in a field other than its name and episodes. A build without metadata writes only unknown values."""
    return any(v is not None and v != [] and v != {} for k, v in raw.items() if k not in _NOT_METADATA)


def default_jobs(ds: Dataset) -> int:
    """The ``jobs`` that :func:`compute_stats` picks for ``jobs=None`` (processes, main included)."""
    import multiprocessing

    if multiprocessing.current_process().daemon:  # pool workers may not start children
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    try:
        big = ds.annotations.stat().st_size >= PARALLEL_MIN_BYTES
    except OSError:
        big = False
    # one worker per CPU (up to MAX_WORKERS): counting texts (MeCab) often costs more than
    # parsing, so the main process shares a CPU with the workers rather than keep one alone
    return min(cpus, MAX_WORKERS) + 1 if big and cpus > 1 else 1


def compute_stats(dataset: Dataset | str | Path, jobs: int | None = None) -> dict[str, Any]:
    """Statistics of a release (folder, annotations file or :class:`Dataset`), one show at a time.

    ``jobs``: processes to use; ``1`` counts everything in this process, ``n > 1`` counts
    clip texts in ``n - 1`` worker processes (at most :data:`MAX_WORKERS`) while this
    one parses. ``None`` picks 1 for files under :data:`PARALLEL_MIN_BYTES`, else the
    available CPUs. The result is the same whatever ``jobs`` is.
    """
    from ..release import load

    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    n = default_jobs(ds) if jobs is None else max(1, int(jobs))
    acc = StatsAccumulator()
    if n == 1:
        for key, raw in ds.iter_raw():
            acc.add_show_object(key, raw)
        _check_shows(ds, acc)
        return acc.result()
    import multiprocessing

    workers = min(n - 1, MAX_WORKERS)
    # fork where there is one: workers start at once and never re-import the caller's
    # __main__ (spawn would, and fail in a script without a main guard); they only run
    # count_texts on the lists they are sent
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(workers) as pool:
        pending: deque[Any] = deque()
        for key, raw in ds.iter_raw():
            texts = acc.add_raw_show(key, raw)
            del raw  # keep only the texts while they wait for a worker
            if texts[0] or texts[1]:
                pending.append(pool.apply_async(count_texts, texts))
            while len(pending) > 2 * workers:  # bounded backlog: memory stays flat
                acc.add_text_counts(pending.popleft().get())
        while pending:
            acc.add_text_counts(pending.popleft().get())
        pool.close()
        pool.join()
    _check_shows(ds, acc)
    return acc.result()


def _json_type(value: Any) -> str:
    """A parsed JSON value's type as a phrase: ``a string``, ``a number``, ``an array``, ``null``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"


def _check_shows(ds: Dataset, acc: StatsAccumulator) -> None:
    """Refuse a JSON object none of whose entries is a show: another program's file, not a release.

    An empty release (``{}``) has statistics (all zero); a file whose every top-level value is a
    string, number or list (a config, a report) used to print an all-zero table and exit 0.
    """
    if acc.shows == 0 and acc.first_not_show is not None:
        from ..errors import InputError

        key, kind = acc.first_not_show
        raise InputError(
            f"not an Anim-400K annotations file: no entry is a show object ('{key}' holds {kind})",
            ds.annotations,
        )
