"""The package's import structure: no cycles, no upward imports (issue 17).

Layers, lowest first: model (plain types, errors, signal helpers, registry) <- formats (files in and
out: transcripts, subtitles, RTTM, the release, media) <- capabilities (ASR, diarization, separation,
TTS, translation, alignment, sync, mixing) <- pipelines (the dataset build, dubbing, evaluation,
exports, synthesis, statistics, test support) <- commands (the CLI). A module may import its own
layer and the layers below, never above; every import counts, also those inside functions. A cycle
is a runtime one: imports under ``if TYPE_CHECKING:`` (annotations only) do not make one.
"""

from __future__ import annotations

import grimp
import pytest

LAYERS: list[set[str]] = [
    {"model", "errors", "fsutil", "signal", "offline", "registry", "storage", "progress", "textnorm", "threads",
     "silero_sequence", "strictload", "interrupts", "checkpoint_file", "console_text", "envdirs"},
    {"formats", "release", "media"},
    {"asr", "diarize", "separate", "tts", "translate", "align", "sync", "mixing", "scoring"},
    {"dataset", "dub", "evaluate", "exports", "synth", "testing", "demo", "stats", "tasks", "task_card"},
    {"commands", "cli", "__main__"},
]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("anim400k", cache_dir=None)


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    return grimp.build_graph("anim400k", cache_dir=None, exclude_type_checking_imports=True)


def _unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None  # None: the package's own __init__ (__version__)


def _layer(unit: str) -> int:
    for i, names in enumerate(LAYERS):
        if unit in names:
            return i
    raise AssertionError(f"anim400k.{unit} is in no layer: add it to tests/test_layers.py LAYERS")


def test_no_upward_imports(graph: grimp.ImportGraph) -> None:
    upward = []
    for module in sorted(graph.modules):
        src = _unit(module)
        if src is None:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            dst = _unit(imported)
            if dst is not None and _layer(dst) > _layer(src):
                upward.append(f"{module} -> {imported}")
    assert upward == []


def test_no_import_cycles(runtime_graph: grimp.ImportGraph) -> None:
    """No two modules import each other at run time, directly or through others (lazy imports included)."""
    graph = runtime_graph
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(imported, module):
                cycles.append(f"{module} -> {imported}")
    assert cycles == []
