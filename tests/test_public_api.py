"""The library names README.md lists resolve to the callables it promises, however often they are looked up."""

from __future__ import annotations

import importlib
import subprocess
import sys


def test_top_level_names_are_functions() -> None:
    import anim400k

    for name in anim400k.__all__:
        assert callable(getattr(anim400k, name)), name
        assert callable(getattr(anim400k, name)), name  # a second look finds the same (no submodule hides it)


def test_dub_function_and_options_from_the_dub_package() -> None:
    """``anim400k.dub`` is the package; its ``dub`` stays the function after its submodules are imported."""
    import anim400k.dub.options  # noqa: F401  (imports a submodule first, as a user would)
    from anim400k.dub import DubOptions, DubReport, dub, dub_audio

    pipeline = importlib.import_module("anim400k.dub.pipeline")
    assert dub is pipeline.dub and dub_audio is pipeline.dub_audio and DubReport is pipeline.DubReport
    assert DubOptions is importlib.import_module("anim400k.dub.options").DubOptions
    import anim400k.dub as package

    assert package.dub is pipeline.dub  # again, after ``anim400k.dub.pipeline`` is loaded


def test_importing_the_dub_package_is_light() -> None:
    """``import anim400k.dub`` alone loads neither the pipeline nor torch."""
    code = "import sys, anim400k.dub; print('anim400k.dub.pipeline' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
