"""A stage whose worker was lost (a Ray node killed, a pool worker killed for memory) is said as such, with the
resume hint: it read "internal error in stage asr_ja: ray.exceptions.ActorUnavailableError: ... Socket closed"."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from anim400k.dataset.catalog import Catalog
from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.report import EpisodeResult
from anim400k.dataset.schedule import _stage_failed, lost_worker
from anim400k.model import EpisodeRef


class ActorUnavailableError(RuntimeError):  # named as Ray's (ray.exceptions), which is not imported for this
    pass


def test_lost_workers_are_told_from_failed_work(tmp_path: Path) -> None:
    assert lost_worker(BrokenProcessPool("A process in the process pool was terminated abruptly")) is not None
    assert lost_worker(ActorUnavailableError("The actor is temporarily unavailable: Socket closed")) is not None
    assert lost_worker(ValueError("a bug")) is None
    ref = EpisodeRef("show", "1", str(tmp_path / "a.mkv"), str(tmp_path / "a.mkv"))
    ctx = EpisodeContext(ref, str(tmp_path / "work"), str(tmp_path / "rel"), BuildOptions(progress=False))
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.add_episode(ref.key, "show", "1", ref.jp_media, ref.en_media)
    res = EpisodeResult(key=ref.key)
    _stage_failed(catalog, ctx, res, "asr_ja", "cfg", ActorUnavailableError("Socket closed"), None)
    assert res.error == ("the worker running stage asr_ja was lost (its Ray node or worker is gone); run the same "
                         "command again to redo it (finished stages are kept)")
    assert not (tmp_path / "work" / "error.log").exists()  # no traceback of ours to keep
    _stage_failed(catalog, ctx, res, "asr_ja", "cfg", ValueError("a bug"), None)
    assert res.error == "internal error in stage asr_ja: ValueError: a bug"
    assert (tmp_path / "work" / "error.log").exists()
