"""The one offline switch: no model hub downloads, no telemetry, in this process and its workers.

``import anim400k`` already sets :data:`TELEMETRY_ENV` (onnxruntime reads it when its library loads).

Every backend that loads Hugging Face / Coqui / pyannote code calls :func:`force_offline` first;
the runners give their workers :data:`OFFLINE_ENV`. The package never downloads weights at run time.
"""

from __future__ import annotations

import os
import sys

#: Read by onnxruntime's native library when it loads (``import onnxruntime``): onnxruntime 1.32's Linux
#: wheels start a 1DS telemetry client (``OneDsTelemetry``, posix ``telemetry_1ds.cc``) that resolves
#: ``mobile.events.data.microsoft.com`` (DNS lookups seen with strace, ~6 in 25 s) whatever
#: ``onnxruntime.disable_telemetry_events()`` says; this variable keeps it from starting. It must be in
#: the environment before the first ``import onnxruntime``: :func:`disable_native_telemetry` runs when
#: ``anim400k`` is imported.
TELEMETRY_ENV = {"ORT_DISABLE_TELEMETRY": "1"}

#: Environment that keeps the hub libraries offline (and pyannote.audio 4's usage metrics, onnxruntime's telemetry off).
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "false", **TELEMETRY_ENV}


def disable_native_telemetry() -> None:
    """Set :data:`TELEMETRY_ENV` (done at ``import anim400k``, before any backend imports onnxruntime)."""
    os.environ.update(TELEMETRY_ENV)


def force_offline() -> None:
    """Set :data:`OFFLINE_ENV`, also for a ``huggingface_hub`` imported before (it read the environment then)."""
    os.environ.update(OFFLINE_ENV)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True  # type: ignore[attr-defined]
