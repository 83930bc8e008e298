"""The one offline switch: no model hub downloads, no telemetry, in this process and its workers.

Every backend that loads Hugging Face / Coqui / pyannote code calls :func:`force_offline` first;
the runners give their workers :data:`OFFLINE_ENV`. The package never downloads weights at run time.
"""

from __future__ import annotations

import os
import sys

#: Environment that keeps the hub libraries offline (and pyannote.audio 4's usage metrics off).
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "false"}


def force_offline() -> None:
    """Set :data:`OFFLINE_ENV`, also for a ``huggingface_hub`` imported before (it read the environment then)."""
    os.environ.update(OFFLINE_ENV)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]
