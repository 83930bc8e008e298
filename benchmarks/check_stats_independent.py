"""Recompute ``anim400k stats`` from a release's annotations JSON with code of its own, and compare.

    python benchmarks/check_stats_independent.py RELEASE_OR_ANNOTATIONS [--ours STATS.json] [--clips-csv F.csv]

A reviewer's check: nothing of ``anim400k.stats`` (nor of ``anim400k.release``) is imported. The file
is read with ``json.load``, clips go into a pandas DataFrame, and every figure is computed from the
definitions of docs/statistics.md, written out again here as plain loops:

* hours: sum over clips of ``jp_end_time - jp_start_time`` (whole milliseconds; ``H:MM:SS[.fff]``,
  ``.`` or ``,`` before the fraction, rounded half up to the millisecond; a clip whose times are not
  both readable, or that ends before it starts, adds nothing);
* clips / shows / episodes: objects in the file (a clip, episode or show that is not a JSON object
  is not one);
* multi-speaker: ``multi_speaker`` when it is a boolean, else more than one distinct ``speakers`` entry;
* JP sentences: cut after a run of ``。｡！？!?‼⁇⁈⁉`` plus the closing brackets/quotes right after it,
  and at line breaks; a piece without a letter or digit is no sentence;
* EN sentences: cut after ``.``, ``!`` or ``?`` (plus one closing quote/bracket) where whitespace
  follows, and at line breaks; a piece without a letter or digit is no sentence;
* JP words: ``fugashi.Tagger`` on unidic-lite, tokens whose UniDic pos1 is neither ``補助記号`` nor ``空白``;
* EN words: runs of letters/digits, joined through one inner ``'``/``’``/``-`` (``don't``) or, between
  digits, one ``.``/``,`` (``3.5``, ``1,000``);
* per clip figures divide totals by the clips whose text in that language is a non-blank string;
* clip-duration histogram: ``duration_ms // 500``, bins of 0.5 s up to 30 s, the last open; shows per genre and
  per theme (each show once per distinct name, every show);
* genres/themes per show over the shows with metadata (a value other than null/[]/{} in a field
  other than ``show`` and ``episodes``), synopsis and description words over the non-blank ones,
  polls over episodes whose ratings hold voters (``sum(score * ratio / 100)`` for the mean vote);
  mean and population std.

Without ``--ours`` it runs ``python -m anim400k stats RELEASE --json TMP`` (the command, in a
subprocess) and compares its JSON. Prints one row per figure and exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

ANNOTATIONS = "anim400k_annotations.json"

# ---------------------------------------------------------------- timestamps

_TIME = re.compile(r"\s*(\d+):([0-5]\d):([0-5]\d)(?:[.,](\d+))?\s*")


def millis(value: Any) -> int | None:
    """Whole milliseconds of ``H:MM:SS[.fff]``; None when the value is no such string."""
    if not isinstance(value, str):
        return None
    m = _TIME.fullmatch(value)
    if m is None:
        return None
    h, mi, s, frac = m.groups()
    ms = 0
    if frac:
        # half up: 0.0265 s -> 27 ms
        ms = int((int(frac) * 1000 * 2 + 10 ** len(frac)) // (2 * 10 ** len(frac)))
    return (int(h) * 3600 + int(mi) * 60 + int(s)) * 1000 + ms


# ---------------------------------------------------------------- sentences

JP_ENDS = set("。｡！？!?‼⁇⁈⁉")
CLOSERS = set("」』）)】〕〉》\"”’")
EN_ENDS = set(".!?")
EN_CLOSERS = set("\"'”’)]")


def _has_word(piece: str) -> bool:
    return any(ch.isalnum() for ch in piece)


def _sentences(text: str, cut: Callable[[str, int], tuple[int, int] | None]) -> list[str]:
    """``text`` cut into sentences line by line: after each character (``i`` just past it), ``cut(line, i)`` gives
    ``(where the sentence ends, where the next one starts)`` or None; pieces without a word are left out."""
    out: list[str] = []
    for line in text.splitlines():
        start = i = 0
        while i < len(line):
            i += 1
            found = cut(line, i)
            if found is not None:
                out.append(line[start : found[0]])
                start = i = found[1]
        if start < len(line):
            out.append(line[start:])
    return [p.strip() for p in out if _has_word(p)]


def _jp_cut(line: str, i: int) -> tuple[int, int] | None:
    """A JP sentence ends after a run of end marks and the closers after them."""
    if line[i - 1] not in JP_ENDS:
        return None
    while i < len(line) and line[i] in JP_ENDS:
        i += 1
    while i < len(line) and line[i] in CLOSERS:
        i += 1
    return i, i


def _en_cut(line: str, i: int) -> tuple[int, int] | None:
    """An EN sentence ends after an end mark (and one closer) followed by white space, which starts no sentence."""
    if line[i - 1] not in EN_ENDS:
        return None
    if i < len(line) and line[i] in EN_CLOSERS:
        i += 1
    if i >= len(line) or not line[i].isspace():
        return None
    j = i
    while j < len(line) and line[j].isspace():
        j += 1
    return i, j


def jp_sentences(text: str) -> list[str]:
    """Japanese sentences of ``text`` (see the module docstring)."""
    return _sentences(text, _jp_cut)


def en_sentences(text: str) -> list[str]:
    """English sentences of ``text`` (see the module docstring)."""
    return _sentences(text, _en_cut)


# ---------------------------------------------------------------- words

def en_words(text: str) -> list[str]:
    """English words of ``text`` (see the module docstring)."""
    words: list[str] = []
    cur = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isalnum():
            cur += ch
        elif cur and i + 1 < n and text[i + 1].isalnum() and (
            ch in "'’-" or (ch in ".," and cur[-1].isdigit() and text[i + 1].isdigit())
        ):
            cur += ch
        else:
            if cur:
                words.append(cur)
            cur = ""
        i += 1
    if cur:
        words.append(cur)
    return words


_TAGGER: Any = None


def jp_words(text: str) -> int:
    """Number of fugashi/unidic-lite tokens of ``text`` that are not punctuation/symbols or whitespace."""
    global _TAGGER
    if _TAGGER is None:
        import fugashi
        import unidic_lite

        d = unidic_lite.DICDIR
        _TAGGER = fugashi.Tagger(f'-d "{d}" -r "{os.path.join(d, "mecabrc")}"')
    text = text.encode("utf-8", "replace").decode("utf-8")
    return sum(1 for w in _TAGGER(text) if w.feature.pos1 not in ("補助記号", "空白"))


# ---------------------------------------------------------------- the figures

def _text(value: Any) -> str | None:
    """A clip text that is a transcript (a non-blank string), else None."""
    return value if isinstance(value, str) and value.strip() else None


def _ms(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "mean": None, "std": None}
    s = pd.Series(values, dtype=float)
    return {"count": len(values), "mean": float(s.mean()), "std": float(s.std(ddof=0))}


def _has_metadata(show: dict[str, Any]) -> bool:
    return any(v not in (None, [], {}) for k, v in show.items() if k not in ("show", "episodes"))


def _strings(value: Any) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


def clip_table(data: dict[str, Any]) -> pd.DataFrame:
    """One row per clip object: where it is, its JP duration, speaker flag and per-language counts."""
    rows = []
    for key, show in data.items():
        if not isinstance(show, dict):
            continue
        eps = show.get("episodes")
        for number, ep in (eps.items() if isinstance(eps, dict) else ()):
            clips = ep.get("clips") if isinstance(ep, dict) else None
            for i, c in enumerate(clips if isinstance(clips, list) else ()):
                if not isinstance(c, dict):
                    continue
                a, b = millis(c.get("jp_start_time")), millis(c.get("jp_end_time"))
                dur = b - a if a is not None and b is not None and b >= a else None
                flag = c.get("multi_speaker")
                if isinstance(flag, bool):
                    multi = flag
                else:
                    spk = c.get("speakers")
                    multi = isinstance(spk, list) and len({str(s) for s in spk}) > 1
                jp, en = _text(c.get("jp_text")), _text(c.get("en_text"))
                rows.append({
                    "show": key, "episode": number, "clip": i, "duration_ms": dur, "multi": multi,
                    "jp_has_text": jp is not None, "en_has_text": en is not None,
                    "jp_sentences": len(jp_sentences(jp)) if jp else 0,
                    "jp_words": jp_words(jp) if jp else 0,
                    "en_sentences": len(en_sentences(en)) if en else 0,
                    "en_words": len(en_words(en)) if en else 0,
                })
    cols = ["show", "episode", "clip", "duration_ms", "multi", "jp_has_text", "en_has_text",
            "jp_sentences", "jp_words", "en_sentences", "en_words"]
    return pd.DataFrame(rows, columns=cols)


def independent_stats(data: dict[str, Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every figure of ``anim400k stats`` (same JSON keys), and the per-clip table."""
    df = clip_table(data)
    shows = {k: v for k, v in data.items() if isinstance(v, dict)}
    episodes = [ep for s in shows.values() if isinstance(s.get("episodes"), dict)
                for ep in s["episodes"].values() if isinstance(ep, dict)]
    meta = [s for s in shows.values() if _has_metadata(s)]
    chars = [c for s in shows.values() if isinstance(s.get("characters"), dict)
             for c in s["characters"].values() if isinstance(c, dict)]
    voters, mean_vote = [], []
    for ep in episodes:
        rows = []
        ratings = ep.get("ratings")
        for score, r in (ratings.items() if isinstance(ratings, dict) else ()):
            if not isinstance(r, dict):
                continue
            ratio, n = r.get("ratio"), r.get("number_of_voters")
            if all(isinstance(x, int | float) and not isinstance(x, bool) for x in (ratio, n)):
                rows.append((score, float(ratio), float(n)))
        total = sum(n for _, _, n in rows)
        if rows and total > 0:
            voters.append(total)
            mean_vote.append(sum(float(s) * ratio / 100 for s, ratio, _ in rows if _is_number(s)))

    def words(text: Any) -> list[int]:
        return [len(en_words(text))] if isinstance(text, str) and text.strip() else []

    lang = {}
    for name in ("jp", "en"):
        with_text = int(df[f"{name}_has_text"].sum())
        s, w = int(df[f"{name}_sentences"].sum()), int(df[f"{name}_words"].sum())
        lang[name] = {
            "sentences": s, "words": w, "words_per_sentence": w / s if s else None,
            "clips_with_text": with_text, "words_per_clip": w / with_text if with_text else None,
            "sentences_per_clip": s / with_text if with_text else None,
        }
    total_ms = int(df["duration_ms"].dropna().sum())
    # 0.5 s bins from 0 to 30 s, the last (30 s and up) open: 61 bins
    bins = df["duration_ms"].dropna().astype(int).floordiv(500).clip(upper=60)
    hist = [int((bins == b).sum()) for b in range(61)]
    genre_counts: dict[str, int] = {}
    theme_counts: dict[str, int] = {}
    for show in shows.values():
        for field, counts in (("genres", genre_counts), ("themes", theme_counts)):
            for name in set(_strings(show.get(field))):
                counts[name] = counts.get(name, 0) + 1
    result = {
        "hours": total_ms / 3_600_000,
        "clips": len(df),
        "shows": len(shows),
        "episodes": len(episodes),
        "single_speaker_clips": int((~df["multi"].astype(bool)).sum()),
        "multi_speaker_clips": int(df["multi"].astype(bool).sum()),
        "languages": lang,
        "genre_counts": genre_counts,
        "theme_counts": theme_counts,
        "clip_duration_histogram": {"counts": hist},
        "genres_per_show": _ms([len(_strings(s.get("genres"))) for s in meta]),
        "themes_per_show": _ms([len(_strings(s.get("themes"))) for s in meta]),
        "show_synopsis_words": _ms([n for s in shows.values() for n in words(s.get("synopsis"))]),
        "episode_synopsis_words": _ms([n for ep in episodes for n in words(ep.get("synopsis"))]),
        "characters": len(chars),
        "character_description_words": _ms([n for c in chars for n in words(c.get("description"))]),
        "character_pictures": sum(len(_strings(c.get("pic_urls"))) for c in chars),
        "poll_voters": _ms(voters),
        "poll_mean_vote": _ms(mean_vote),
    }
    return result, df


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- comparison

def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"languages.jp.words": 3, ...}`` for the nested figures."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 relative."""
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def ours_json(target: Path) -> dict[str, Any]:
    """``anim400k stats TARGET --json`` run as a command."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stats.json"
        subprocess.run([sys.executable, "-m", "anim400k", "stats", str(target), "--json", str(out)],
                       check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text(encoding="utf-8"))


def compare(ours: dict[str, Any], mine: dict[str, Any]) -> list[tuple[str, Any, Any, bool]]:
    """Rows ``(figure, ours, independent, equal)`` for every figure the independent code computes."""
    o, m = flatten(ours), flatten(mine)
    rows = [(k, o.get(k, "(absent)"), v, same(o.get(k), v)) for k, v in m.items()]
    # a genre or theme that only ours counts
    rows += [(k, v, "(absent)", False) for k, v in o.items()
             if k.startswith(("genre_counts.", "theme_counts.")) and k not in m]
    return rows


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):  # the histogram: up to its last non-zero bin
        last = max((i for i, x in enumerate(value) if x), default=-1)
        return str(value[: last + 1])[:-1] + (", 0...]" if last + 1 < len(value) else "]")
    return str(value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("release", type=Path, help="release folder or annotations JSON")
    ap.add_argument("--ours", type=Path, help="the JSON of `anim400k stats --json` (else run the command)")
    ap.add_argument("--clips-csv", type=Path, help="write the per-clip counts here")
    args = ap.parse_args(argv)
    path = args.release / ANNOTATIONS if args.release.is_dir() else args.release
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        print(f"{path}: not a JSON object", file=sys.stderr)
        return 2
    mine, df = independent_stats(data)
    if args.clips_csv:
        df.to_csv(args.clips_csv, index=False)
    ours = json.loads(args.ours.read_text(encoding="utf-8")) if args.ours else ours_json(args.release)
    rows = compare(ours, mine)
    width = max(len(r[0]) for r in rows)
    bad = 0
    for name, a, b, ok in rows:
        bad += not ok
        fa, fb = _show(a), _show(b)
        print(f"{name:<{width}}  ours {fa:>12}  independent {fb:>12}  {'ok' if ok else 'DIFFERS'}")
    print(f"{len(rows) - bad} of {len(rows)} figures agree" + (f"; {bad} differ" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
