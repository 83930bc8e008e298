"""Dataset statistics: the paper's tables on any Anim-400K release, streamed.

Definitions (see ``docs/statistics.md``):

- hours: sum of Japanese clip durations (``jp_end_time - jp_start_time``);
- single/multi-speaker: the clip's ``multi_speaker`` flag, or more than one ``speakers`` entry;
- sentences: Japanese text is split after ``。！？!?`` (full and half width) and at
  newlines; English after ``.``, ``!`` or ``?`` (with closing quotes/brackets) followed by
  whitespace or the end; empty pieces are dropped;
- words: Japanese words are the tokens of fugashi with unidic-lite, leaving out
  punctuation and symbols (UniDic ``補助記号``) and whitespace; English words are runs of
  letters/digits with inner apostrophes or hyphens (``don't``, ``well-known``);
- words/sentence = total words / total sentences; words/clip and sentences/clip divide by
  the number of clips (all clips, also those with empty text);
- genres/themes per show, synopsis and character-description lengths (English words),
  poll voters (sum of ``number_of_voters``) and mean vote (``sum(score * ratio / 100)``) are
  mean ± population standard deviation (``ddof=0``) over the items that have them
  (episodes with a non-empty synopsis, characters with a non-empty description, episodes
  with a poll).

Clips are counted with running sums; per-show and per-episode values are kept (a few
thousand numbers), so memory stays flat whatever the number of clips.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .formats.release import ClipRecord, Dataset, EpisodeRecord, Show

_JP_SENT = re.compile(r"(?<=[。！？!?])|\n+")
_EN_SENT = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+|\n+")
_EN_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")

#: Histogram bins for clip durations, in seconds (last bin catches longer clips).
DURATION_BIN_WIDTH = 0.5
DURATION_MAX = 30.0


def split_sentences_jp(text: str) -> list[str]:
    """Japanese sentences: split after 。！？!? and at newlines; blank pieces dropped."""
    return [s.strip() for s in _JP_SENT.split(text) if s and s.strip()]


def split_sentences_en(text: str) -> list[str]:
    """English sentences: split after . ! ? followed by whitespace, and at newlines."""
    return [s.strip() for s in _EN_SENT.split(text) if s and s.strip()]


def count_words_en(text: str) -> int:
    """Number of English words (letter/digit runs, inner apostrophes and hyphens kept)."""
    return len(_EN_WORD.findall(text))


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import fugashi

    return fugashi.Tagger()


_SKIP_POS = ("補助記号", "空白")  # UniDic: punctuation/symbols, whitespace


def count_words_jp(text: str) -> int:
    """Number of Japanese words: fugashi/unidic-lite tokens that are not punctuation, symbols or space."""
    if not text.strip():
        return 0
    # feature_raw is the plain CSV feature string: much cheaper than the parsed named tuple
    return sum(1 for w in _tagger()(text) if not w.feature_raw.startswith(_SKIP_POS))


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

    def add(self, text: str, split: Callable[[str], list[str]], count: Callable[[str], int]) -> None:
        if not text:
            return
        self.sentences += len(split(text))
        self.words += count(text)


@dataclass
class StatsAccumulator:
    """Running statistics; feed shows with :meth:`add_show` and read :meth:`result`."""

    clips: int = 0
    seconds: float = 0.0
    single: int = 0
    multi: int = 0
    shows: int = 0
    episodes: int = 0
    jp: _Lang = field(default_factory=_Lang)
    en: _Lang = field(default_factory=_Lang)
    duration_hist: np.ndarray = field(
        default_factory=lambda: np.zeros(int(DURATION_MAX / DURATION_BIN_WIDTH) + 1, dtype=np.int64)
    )
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

    def add_clip(self, clip: ClipRecord) -> None:
        """Count one clip."""
        self.clips += 1
        d = clip.duration
        if math.isfinite(d) and d >= 0:
            self.seconds += d
            b = min(int(d / DURATION_BIN_WIDTH), len(self.duration_hist) - 1)
            self.duration_hist[b] += 1
        if clip.is_multi_speaker:
            self.multi += 1
        else:
            self.single += 1
        self.jp.add(clip.jp_text, split_sentences_jp, count_words_jp)
        self.en.add(clip.en_text, split_sentences_en, count_words_en)

    def add_episode(self, ep: EpisodeRecord) -> None:
        """Count one episode and its clips."""
        self.episodes += 1
        for c in ep.clips:
            self.add_clip(c)
        if ep.synopsis and ep.synopsis.strip():
            self.episode_synopsis_words.append(count_words_en(ep.synopsis))
        if ep.ratings and ep.voters > 0:
            self.poll_voters.append(ep.voters)
            mv = ep.mean_vote
            if mv is not None:
                self.poll_mean_vote.append(mv)

    def add_show(self, show: Show) -> None:
        """Count one show, its episodes and clips."""
        self.shows += 1
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
        for ep in show.episodes.values():
            self.add_episode(ep)

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
                "words_per_clip": per(acc.words, self.clips),
                "sentences_per_clip": per(acc.sentences, self.clips),
            }
        edges = [i * DURATION_BIN_WIDTH for i in range(len(self.duration_hist))]
        return {
            "hours": self.seconds / 3600.0,
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


def compute_stats(dataset: Dataset | str | Path) -> dict[str, Any]:
    """Statistics of a release (folder, annotations file or :class:`Dataset`), one show at a time."""
    from .formats.release import load

    ds = dataset if isinstance(dataset, Dataset) else load(dataset)
    acc = StatsAccumulator()
    for show in ds.shows():
        acc.add_show(show)
    return acc.result()


def _fmt(ms: dict[str, Any], digits: int = 2) -> str:
    if ms.get("mean") is None:
        return "-"
    return f"{ms['mean']:.{digits}f} ± {ms['std']:.{digits}f} (n={ms['count']})"


def stats_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, value)`` rows of the paper-style summary table."""

    def num(x: float | None, digits: int = 2) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    rows = [
        ("hours", num(stats["hours"], 3)),
        ("clips", str(stats["clips"])),
        ("shows", str(stats["shows"])),
        ("episodes", str(stats["episodes"])),
        ("single-speaker clips", str(stats["single_speaker_clips"])),
        ("multi-speaker clips", str(stats["multi_speaker_clips"])),
    ]
    for name, label in (("jp", "JP"), ("en", "EN")):
        lang = stats["languages"][name]
        rows += [
            (f"{label} sentences", str(lang["sentences"])),
            (f"{label} words/sentence", num(lang["words_per_sentence"])),
            (f"{label} words/clip", num(lang["words_per_clip"])),
            (f"{label} sentences/clip", num(lang["sentences_per_clip"])),
        ]
    rows += [
        ("genres per show", _fmt(stats["genres_per_show"])),
        ("themes per show", _fmt(stats["themes_per_show"])),
        ("show synopsis words", _fmt(stats["show_synopsis_words"])),
        ("episode synopsis words", _fmt(stats["episode_synopsis_words"])),
        ("characters", str(stats["characters"])),
        ("character description words", _fmt(stats["character_description_words"])),
        ("character pictures", str(stats["character_pictures"])),
        ("episode poll voters", _fmt(stats["poll_voters"])),
        ("episode poll mean vote", _fmt(stats["poll_mean_vote"])),
    ]
    return rows


def write_figures(stats: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """PNG figures (matplotlib, Agg): shows per genre, shows per theme, clip-duration histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .fsutil import atomic_path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        path = out / name
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120, format="png")
        plt.close(fig)
        written.append(path)

    for key, title, name in (
        ("genre_counts", "Shows per genre", "genres.png"),
        ("theme_counts", "Shows per theme", "themes.png"),
    ):
        counts: dict[str, int] = stats[key]
        labels = list(counts)
        fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(labels) + 1.5), 3.5))
        ax.bar(range(len(labels)), [counts[k] for k in labels], color="#4c72b0")
        ax.set_xticks(range(len(labels)), labels, rotation=70, ha="right", fontsize=8)
        ax.set_ylabel("shows")
        ax.set_title(title)
        fig.tight_layout()
        save(fig, name)

    h = stats["clip_duration_histogram"]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(h["bin_starts_s"], h["counts"], width=h["bin_width_s"], align="edge", color="#55a868")
    ax.set_xlabel(f"clip duration (s; last bin ≥ {h['bin_starts_s'][-1]:g})")
    ax.set_ylabel("clips")
    ax.set_title("Clip durations")
    fig.tight_layout()
    save(fig, "clip_durations.png")
    return written
