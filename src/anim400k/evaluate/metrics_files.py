"""Write a :class:`~anim400k.evaluate.metrics.MetricsReport`: ``metrics.json``, ``metrics.csv`` and ``metrics.png``."""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..fsutil.atomic import jsonable, save_figure, write_json_atomic, write_text_atomic
from ..fsutil.output_sets import committed_together
from .metrics import ClipMetrics, MetricsReport


def plot_metrics(report: MetricsReport, path: str | Path) -> Path:
    """Histograms of onset error, speech overlap, loudness difference and speaker similarity (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("onset_error", "speech onset error (s)"),
        ("overlap", "speech overlap (IoU)"),
        ("loudness_diff", "loudness dub - gold EN (LU)"),
        ("speaker_similarity", "speaker similarity"),
    )
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2), dpi=100)
    for ax, (name, label) in zip(axes, panels, strict=True):
        v = np.array([getattr(c, name) for c in report.clips], float)
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(v, bins=min(20, max(3, v.size)), color="#3c6ee6", alpha=0.85)
            ax.axvline(float(np.mean(v)), color="#d9363e", lw=1.5, label=f"mean {np.mean(v):.2f}")
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel(label)
    axes[0].set_ylabel("clips")
    fig.suptitle(f"Dub metrics: {Path(report.dubs).name} ({len(report.clips)} clips)")
    fig.tight_layout()
    return save_figure(fig, path)


#: the files ``anim400k evaluate`` writes into its ``--out`` folder
METRICS_FILES = ("metrics.json", "metrics.csv", "metrics.png")


def _is_metrics_json(path: Path) -> bool:
    """Whether ``path`` is a ``metrics.json`` that :func:`write_metrics` wrote (a JSON object with its keys)."""
    from ..strictload import is_json_object_with

    return is_json_object_with(path, {"dubs", "reference", "clips", "summary"})


def check_metrics_folder(out: str | Path) -> None:
    """Refuse (:class:`InputError`, one line naming the file) an ``--out`` folder holding a file of
    :data:`METRICS_FILES`' names without the ``metrics.json`` of an earlier evaluation beside it (a
    ``metrics.csv`` of another tool): the evaluation would replace it. A folder holding none of them, or an
    earlier evaluation's, passes (a re-run replaces its files); other files of the folder are never touched."""
    from ..errors import InputError

    out = Path(out)
    present = [out / name for name in METRICS_FILES if os.path.lexists(out / name)]
    if present and not _is_metrics_json(out / "metrics.json"):
        raise InputError(f"--out holds {present[0].name}, which no anim400k evaluate wrote (no metrics.json of "
                         "an earlier evaluation beside it): the evaluation would replace it; give --out a new "
                         "folder, or an earlier evaluation's", present[0])


def write_metrics(report: MetricsReport, out: str | Path) -> dict[str, Path]:
    """Write ``metrics.json`` (clips, summary, corpus scores), ``metrics.csv`` and ``metrics.png``.

    The three are one set (:func:`~anim400k.fsutil.output_sets.committed_together`): each is written to a hidden
    temporary name and none replaces an earlier evaluation's file until all three are complete, so an
    error or a kill while they are written leaves the earlier set whole, never new and old files mixed.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with committed_together(out / name for name in METRICS_FILES):
        _write_metrics_files(report, out)
    return {"json": out / "metrics.json", "csv": out / "metrics.csv", "plot": out / "metrics.png"}


def _write_metrics_files(report: MetricsReport, out: Path) -> None:
    """:func:`write_metrics`'s three files, each written atomically (inside its set)."""
    import csv
    import io

    write_json_atomic(out / "metrics.json", jsonable(asdict(report)))
    buf = io.StringIO()
    cols = [f.name for f in ClipMetrics.__dataclass_fields__.values()]
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for c in report.clips:
        w.writerow(
            {k: ("" if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(c).items()}
        )
    write_text_atomic(out / "metrics.csv", buf.getvalue())
    plot_metrics(report, out / "metrics.png")
