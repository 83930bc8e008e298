"""Scores against ground truth (pure): clip alignment F1 and interval matching."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def interval_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two intervals (0 when disjoint; 1 for identical zero-length ones)."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    if union <= 0:
        return 1.0 if a == b else 0.0
    return inter / union


def match_intervals(
    predicted: Sequence[tuple[float, float]], truth: Sequence[tuple[float, float]], min_iou: float = 0.5
) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching of predicted to true intervals by IoU (best pairs first)."""
    pairs = []
    for i, p in enumerate(predicted):
        for j, t in enumerate(truth):
            if p[0] > t[1] + 60 or t[0] > p[1] + 60:
                continue
            iou = interval_iou(p, t)
            if iou >= min_iou:
                pairs.append((iou, i, j))
    pairs.sort(reverse=True)
    used_p: set[int] = set()
    used_t: set[int] = set()
    out = []
    for iou, i, j in pairs:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j, iou))
    return out


def alignment_score(
    predicted: Sequence[tuple[float, float]], truth: Sequence[tuple[float, float]], min_iou: float = 0.5
) -> dict[str, float]:
    """Precision, recall and F1 of predicted clips against ground-truth clips (IoU >= ``min_iou``).

    The *alignment score* reported by the build is this F1: a predicted clip counts as
    correct when it covers the same merged group of lines as a true clip, to within the
    IoU threshold, in the EN timeline.
    """
    matches = match_intervals(predicted, truth, min_iou)
    n_p, n_t, n_m = len(predicted), len(truth), len(matches)
    precision = n_m / n_p if n_p else (1.0 if n_t == 0 else 0.0)
    recall = n_m / n_t if n_t else (1.0 if n_p == 0 else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    mean_iou = float(np.mean([m[2] for m in matches])) if matches else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "mean_iou": mean_iou,
            "predicted": n_p, "truth": n_t, "matched": n_m}
