"""Invented show metadata in the Anim-400K annotations format (deterministic per seed).

``make_show_metadata`` returns the show-level fields of ``FORMAT.md`` section 1 with
plausible made-up values, characters (optionally with small PNG pictures written to
disk and listed as local paths in ``pic_files``) and per-episode polls and synopses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..fsutil.atomic import atomic_path

GENRES = (
    "Action", "Adventure", "Avant Garde", "Award Winning", "Boys Love", "Comedy", "Drama", "Fantasy",
    "Girls Love", "Gourmet", "Horror", "Mystery", "Romance", "Sci-Fi", "Slice of Life", "Sports",
    "Supernatural", "Suspense",
)  # fmt: skip
THEMES = (
    "Adult Cast", "Anthropomorphic", "CGDCT", "Childcare", "Combat Sports", "Crossdressing", "Delinquents",
    "Detective", "Educational", "Gag Humor", "Gore", "Harem", "High Stakes Game", "Historical",
    "Idols (Female)", "Idols (Male)", "Isekai", "Iyashikei", "Love Polygon", "Magical Sex Shift",
    "Mahou Shoujo", "Martial Arts", "Mecha", "Medical", "Military", "Music", "Mythology", "Organized Crime",
    "Otaku Culture", "Parody", "Performing Arts", "Pets", "Psychological", "Racing", "Reincarnation",
    "Reverse Harem", "Romantic Subtext", "Samurai", "School", "Showbiz", "Space", "Strategy Game",
    "Super Power", "Survival",
)  # fmt: skip
_SYLLABLES = (
    "ka", "ki", "ku", "ke", "ko", "sa", "shi", "su", "se", "so", "ta", "chi", "tsu", "te", "to", "na",
    "ni", "nu", "ne", "no", "ha", "hi", "fu", "he", "ho", "ma", "mi", "mu", "me", "mo", "ya", "yu",
    "yo", "ra", "ri", "ru", "re", "ro", "wa", "n",
)  # fmt: skip
_WORDS = (
    "sky", "blade", "spring", "shadow", "melody", "garden", "comet", "academy", "frontier", "lantern",
    "summer", "tide", "crown", "signal", "harbor", "festival", "ember", "circuit", "promise", "river",
)  # fmt: skip
_STUDIOS = ("Studio Kaze", "Hoshi Animation", "Tsubame Works", "Pixel Lantern", "Aozora Pictures")
_PRODUCERS = ("Sakura Media", "Kumo Entertainment", "Yoru Music", "Mirai Records", "Ginga Broadcasting")
_LICENSORS = ("Northstar Licensing", "Bluewave Media", "Lumen Distribution")
_SOURCES = ("Manga", "Light novel", "Original", "Web manga", "Visual novel", "Game")
_RATINGS = ("G - All Ages", "PG - Children", "PG-13 - Teens 13 or older", "R - 17+ (violence & profanity)")
_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SEASONS = ("Winter", "Spring", "Summer", "Fall")


def _name(rng: np.random.Generator, lo: int = 2, hi: int = 4) -> str:
    n = int(rng.integers(lo, hi + 1))
    return "".join(_SYLLABLES[int(i)] for i in rng.integers(0, len(_SYLLABLES) - 1, size=n)).capitalize()


def _person(rng: np.random.Generator) -> str:
    return f"{_name(rng)}, {_name(rng)}"


def _pick(rng: np.random.Generator, items: tuple[str, ...], k: int) -> list[str]:
    return [items[int(i)] for i in sorted(rng.choice(len(items), size=min(k, len(items)), replace=False))]


_VERBS = ("protects", "searches for", "discovers", "challenges", "remembers", "follows", "builds", "loses")
_ADJS = ("forgotten", "secret", "distant", "broken", "shining", "quiet", "ancient", "restless")
_CONNECT = ("while", "until", "because", "after", "before", "as")


def _sentence(rng: np.random.Generator, who: str, n_words: int) -> str:
    """About ``n_words`` words of templated prose starting with ``who``."""

    def pick(items: tuple[str, ...]) -> str:
        return items[int(rng.integers(len(items)))]

    sentences, count = [], 0
    subject = who
    while count < n_words:
        s = f"{subject} {pick(_VERBS)} the {pick(_ADJS)} {pick(_WORDS)}"
        if rng.random() < 0.6:
            s += f" {pick(_CONNECT)} a {pick(_ADJS)} {pick(_WORDS)} {pick(_VERBS)} the {pick(_WORDS)}"
        sentences.append(s + ".")
        count += len(s.split())
        subject = pick(("Meanwhile, everyone", "Soon the town", "An old friend", "The team", "Nobody"))
    return " ".join(sentences)


def _ratings(rng: np.random.Generator) -> dict[str, dict[str, float]]:
    voters = max(5, int(rng.lognormal(np.log(200), 0.8)))
    p = rng.dirichlet((0.3, 0.3, 0.8, 2.5, 6.0))
    counts = np.floor(p * voters).astype(int)
    counts[4] += voters - counts.sum()
    return {
        str(i + 1): {
            "ratio": round(100.0 * float(counts[i]) / voters, 1),
            "number_of_voters": float(counts[i]),
        }
        for i in range(5)
    }


def _write_picture(path: Path, rng: np.random.Generator, initials: str) -> None:
    from PIL import Image, ImageDraw

    bg = tuple(int(c) for c in rng.integers(40, 220, size=3))
    skin = tuple(int(c) for c in rng.integers(180, 255, size=3))
    hair = tuple(int(c) for c in rng.integers(0, 160, size=3))
    img = Image.new("RGB", (96, 128), bg)
    d = ImageDraw.Draw(img)
    d.ellipse((18, 20, 78, 92), fill=skin)
    d.chord((14, 10, 82, 70), 180, 360, fill=hair)
    d.ellipse((34, 50, 42, 58), fill=(20, 20, 20))
    d.ellipse((54, 50, 62, 58), fill=(20, 20, 20))
    d.text((40, 104), initials, fill=(255, 255, 255))
    with atomic_path(path, sync=False) as tmp:  # media: not fsynced
        img.save(tmp, format="PNG", optimize=False)


def make_show_metadata(
    show_key: str,
    n_episodes: int,
    seed: int = 0,
    pic_dir: str | Path | None = None,
    *,
    pictures_dir: str | Path | None = None,
    relative_to: str | Path | None = None,
) -> dict[str, Any]:
    """Plausible made-up metadata for one show season, in the release's show-object layout.

    Deterministic for ``(show_key, n_episodes, seed)``. With ``pic_dir`` each character
    gets 1-3 small PNG pictures written there, listed as local paths in ``pic_files``
    (``pic_urls`` stays empty: picture IDs are assigned when a release is written).
    ``pictures_dir`` is an alias of ``pic_dir``. With ``relative_to`` (the folder the metadata
    file will be written to) the ``pic_files`` are relative to it, so the inputs can be moved.
    """
    pic_dir = pic_dir if pic_dir is not None else pictures_dir
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be >= 1, got {n_episodes}")
    key_seed = int.from_bytes(show_key.encode("utf-8")[:16].ljust(16, b"\0"), "little")
    rng = np.random.default_rng([int(seed), key_seed % (2**63)])
    title = f"{_WORDS[int(rng.integers(len(_WORDS)))].capitalize()} {_name(rng)}"
    year = int(rng.integers(2005, 2024))
    month = int(rng.integers(0, 12))
    season_name = _SEASONS[month // 3]
    score = round(float(rng.uniform(6.2, 8.9)), 2)
    members = int(rng.lognormal(np.log(300_000), 1.0))
    ep_len = int(rng.choice([12, 23, 24, 25]))
    chars: dict[str, Any] = {}
    for i in range(int(rng.integers(4, 9))):
        name = f"{_name(rng)} {_name(rng)}"
        role = "main" if i < 2 else "supporting"
        entry: dict[str, Any] = {
            "description": _sentence(rng, name, int(rng.integers(8, 40))),
            "role": role,
            "pic_urls": [],
            "Voice Actors": [_person(rng) for _ in range(int(rng.integers(1, 3)))],
        }
        if pic_dir is not None:
            initials = "".join(p[0] for p in name.split())
            files = []
            pic_rng = np.random.default_rng([int(seed), key_seed % (2**63), i])
            for k in range(int(pic_rng.integers(1, 4))):
                path = Path(pic_dir) / f"{show_key}_{i:02d}_{k}.png"
                _write_picture(path, pic_rng, initials)
                files.append(os.path.relpath(path, relative_to) if relative_to is not None else str(path))
            entry["pic_files"] = files
        chars[name] = entry
    main = next(iter(chars)).split()[0]
    episodes = {
        str(e): {
            "url": f"https://example.org/anime/{show_key}/episode/{e}",
            "ratings": _ratings(rng),
            "synopsis": _sentence(rng, f"In episode {e}, {main}", int(rng.integers(20, 90))),
        }
        for e in range(1, n_episodes + 1)
    }
    return {
        "show": title,
        "season": f"{title} Season {int(rng.integers(1, 4))}",
        "link": f"https://example.org/anime/{show_key}",
        "type": "TV",
        "status": "Finished Airing",
        "genres": _pick(rng, GENRES, int(np.clip(rng.normal(2.84, 1.29), 1, 6))),
        "themes": _pick(rng, THEMES, int(np.clip(rng.normal(1.64, 0.99), 0, 4))),
        "score": score,
        "scored_by": int(members * rng.uniform(0.3, 0.7)),
        "rank": int(rng.integers(1, 8000)),
        "popularity": int(rng.integers(1, 12000)),
        "members": members,
        "favorites": int(members * rng.uniform(0.002, 0.03)),
        "episode_num": int(n_episodes),
        "aired": f"{_MONTHS[month]} {int(rng.integers(1, 29))}, {year} to "
        f"{_MONTHS[(month + 2) % 12]} {int(rng.integers(1, 29))}, {year + (month + 2) // 12}",
        "premiered": f"{season_name} {year}",
        "broadcast": f"{_DAYS[int(rng.integers(7))]} at {int(rng.integers(17, 26)) % 24:02d}:"
        f"{int(rng.choice([0, 30])):02d} (JST)",
        "producers": _pick(rng, _PRODUCERS, int(rng.integers(1, 4))),
        "licensors": _pick(rng, _LICENSORS, 1),
        "studios": _pick(rng, _STUDIOS, 1),
        "source": _SOURCES[int(rng.integers(len(_SOURCES)))],
        "avg_duration": f"{ep_len} min per ep",
        "rating": _RATINGS[int(rng.integers(len(_RATINGS)))],
        "related_anime": {"Sequel": [f"{title} Season 2"]} if rng.random() < 0.5 else {},
        "opening_themes": [f'"{_WORDS[int(rng.integers(len(_WORDS)))].capitalize()}" by {_name(rng)}'],
        "ending_themes": [f'"{_WORDS[int(rng.integers(len(_WORDS)))].capitalize()}" by {_name(rng)}'],
        "staff": [f"{_person(rng)} (Director)", f"{_person(rng)} (Series Composition)"],
        "background": _sentence(rng, title, int(rng.integers(10, 30))),
        "synopsis": _sentence(rng, title, int(rng.integers(40, 120))),
        "characters": chars,
        "episodes": episodes,
    }
