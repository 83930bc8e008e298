"""Statistics as table rows (``anim400k stats``) and PNG figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _fmt(ms: dict[str, Any], digits: int = 2) -> str:
    """``mean ± std (n=count)``, or ``- (n=0)`` when no item has the value (missing, not zero)."""
    if ms.get("mean") is None:
        return f"- (n={ms.get('count', 0)})"
    return f"{ms['mean']:.{digits}f} ± {ms['std']:.{digits}f} (n={ms['count']})"


def stats_rows(stats: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, value)`` rows of the paper-style summary table."""

    def num(x: float | None, digits: int = 2) -> str:
        return "-" if x is None else f"{x:.{digits}f}"

    def per_clip(x: float | None, lang: dict[str, Any]) -> str:
        # over the clips that have text in this language (no text: no transcript, left out)
        return f"{num(x)} (n={lang.get('clips_with_text', 0)})"

    rows = [
        ("hours (JP audio)", num(stats["hours"], 3)),
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
            (f"{label} words/clip", per_clip(lang["words_per_clip"], lang)),
            (f"{label} sentences/clip", per_clip(lang["sentences_per_clip"], lang)),
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


#: the figures :func:`write_figures` writes into its folder
FIGURE_NAMES = ("genres.png", "themes.png", "clip_durations.png")
#: written into the figures folder before the figures: a later run may replace the figures of a folder holding it
FIGURES_MARK = ".anim400k-figures"


def check_figures_folder(out_dir: str | Path) -> None:
    """Refuse (:class:`InputError` naming the file) a ``--figures`` folder holding a file of a figure's name
    (:data:`FIGURE_NAMES`) that no ``stats`` run wrote (no :data:`FIGURES_MARK` there): it would be replaced.
    A folder without those names, or an earlier run's, passes; its other files are never touched."""
    from ..errors import InputError
    from ..fsutil.no_clobber import unmarked_file

    out = Path(out_dir)
    path = unmarked_file(out, FIGURES_MARK, FIGURE_NAMES)
    if path is not None:
        raise InputError(f"--figures: {out} holds {path.name}, which no anim400k stats wrote (no {FIGURES_MARK} "
                         "there): the figures would replace it; give --figures a folder of its own", path)


def write_figures(stats: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """PNG figures (matplotlib, Agg): shows per genre, shows per theme, clip-duration histogram
    (:data:`FIGURE_NAMES`), after :data:`FIGURES_MARK` (call :func:`check_figures_folder` before the work).

    A full disk is one :class:`~anim400k.errors.DiskFull` naming the folder (it named the hidden mark file), and a
    folder this call made is removed again when it is left empty."""
    from ..errors import DiskFull, is_disk_full

    out = Path(out_dir)
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _draw_figures(stats, out)
    except OSError as exc:
        if made and not any(out.iterdir()):
            out.rmdir()
        if is_disk_full(exc):
            raise DiskFull("the disk is full: --figures could not be written (no space left on device); free space "
                           "there and run the same command again", out) from exc
        raise


def _draw_figures(stats: dict[str, Any], out: Path) -> list[Path]:
    """The figures of :func:`write_figures` into the folder ``out``, after its mark."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..fsutil.atomic import save_figure, write_text_atomic

    write_text_atomic(out / FIGURES_MARK, "written by anim400k stats --figures: a later run may replace the "
                      f"figures ({', '.join(FIGURE_NAMES)}) in this folder\n")
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        written.append(save_figure(fig, out / name, dpi=120))

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
