"""``anim400k --help`` and the commands' help start without importing heavy libraries (behaviour, not timing)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "librosa", "scipy", "sklearn", "numba", "av", "faster_whisper", "ctranslate2", "pyarrow", "numpy")

_PROBE = """
import json, sys
from anim400k.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""


@pytest.mark.parametrize("argv", [["--help"], ["build", "--help"], ["dub", "--help"], ["separate", "--help"]])
def test_help_imports_no_heavy_module(argv: list[str]) -> None:
    code = _PROBE.format(heavy=repr(set(HEAVY)))
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    assert loaded == [], f"anim400k {' '.join(argv)} imported {loaded}"


def test_dub_flags_default_to_dub_options() -> None:
    """``anim400k dub``'s flags show and use DubOptions' defaults (stated once, in anim400k.dub.options)."""
    import typer.main

    from anim400k.cli import app
    from anim400k.dub.options import DubOptions

    command = typer.main.get_command(app).commands["dub"]  # type: ignore[attr-defined]
    defaults = {p.name: p.default for p in command.params}
    expected = DubOptions()
    for name in ("tts", "device", "translator", "anchor", "min_stretch", "max_stretch", "condense", "progress"):
        assert defaults[name] == getattr(expected, name), name
    assert defaults["stream"] == str(expected.stream)
    assert defaults["diarizer"] == (expected.diarizer or "none")
