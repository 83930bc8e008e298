"""The in-build progress channel (its temporary folder and reading thread) is closed when the build stops
before its stages run: a runner that cannot be made (no Ray cluster, a SIGTERM while it starts)."""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import pytest

from anim400k.dataset import schedule
from anim400k.dataset.catalog import Catalog
from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.report import EpisodeResult
from anim400k.errors import InputError
from anim400k.model import EpisodeRef
from anim400k.testing.terminal import FakeTerminal


@pytest.mark.parametrize("stop", [InputError("cannot reach the Ray cluster"), KeyboardInterrupt()])
def test_no_progress_folder_or_thread_left_when_the_runner_cannot_be_made(
        stop: BaseException, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(sys, "stderr", FakeTerminal())  # bars drawn: the channel is made
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(schedule, "stage_configs", lambda _ctx, stages, _media=None: {s.name: "cfg" for s in stages})

    def no_runner(*_args: object, **_kwargs: object) -> None:
        assert list(temp.iterdir()), "the progress folder is made before the runner"
        raise stop

    monkeypatch.setattr(schedule, "make_runner", no_runner)
    out = tmp_path / "out"
    options = BuildOptions()
    ctx = EpisodeContext(EpisodeRef("s", "1", "jp.mkv", "en.mkv"), str(out / "work" / "s" / "1"), str(out), options)
    catalog = Catalog(out / "catalog.sqlite")
    try:
        with pytest.raises(type(stop)):
            schedule.run_stages(catalog, {"s/1": ctx}, {"s/1": EpisodeResult("s/1")}, options)
    finally:
        catalog.close()
    assert list(temp.iterdir()) == []
    assert not any(t.name == "anim400k-progress" and t.is_alive() for t in threading.enumerate())
