"""Diarization error rate (DER) with pyannote.metrics."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from ..formats.rttm import turns_to_annotation
from .base import Turn


def der(
    reference: Iterable[Turn],
    hypothesis: Iterable[Turn],
    collar: float = 0.25,
    skip_overlap: bool = False,
    detailed: bool = False,
) -> float | dict[str, float]:
    """Diarization error rate of ``hypothesis`` against ``reference`` (optimal speaker mapping).

    ``collar`` (seconds, total, as in pyannote) is forgiven around reference boundaries; with
    ``skip_overlap`` the regions where reference speakers overlap are not scored. With
    ``detailed`` a dict of the components (``missed detection``, ``false alarm``, ``confusion``,
    ``total`` seconds and ``diarization error rate``) is returned instead. A reference with no
    speech gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref = turns_to_annotation(reference)
    hyp = turns_to_annotation(hypothesis)
    metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    if not ref.get_timeline():
        value = 0.0 if not hyp.get_timeline() else 1.0
        return {"diarization error rate": value} if detailed else value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "uem was approximated by the union of reference and hypothesis"
        comp = metric(ref, hyp, detailed=True)
    if detailed:
        return {str(k): float(v) for k, v in comp.items()}
    return float(comp["diarization error rate"])
