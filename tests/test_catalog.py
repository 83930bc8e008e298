"""The SQLite build catalog."""

from __future__ import annotations

from pathlib import Path

from anim400k.dataset.catalog import Catalog
from anim400k.dataset.options import BuildOptions, stage_config


def test_done_requires_same_config_and_existing_artifact(tmp_path: Path) -> None:
    art = tmp_path / "a.json"
    art.write_text("{}")
    with Catalog(tmp_path / "c.sqlite") as cat:
        cat.add_episode("s/1", "s", "1", "a.mkv", "a.mkv")
        assert not cat.is_done("s/1", "asr_en", "cfg1")
        cat.mark_done("s/1", "asr_en", "cfg1", str(art), 1.5)
        assert cat.is_done("s/1", "asr_en", "cfg1")
        assert not cat.is_done("s/1", "asr_en", "cfg2")
        art.unlink()
        assert not cat.is_done("s/1", "asr_en", "cfg1")
        cat.mark_failed("s/1", "align", "cfg", "boom")
        assert cat.get("s/1", "align").error == "boom"
    with Catalog(tmp_path / "c.sqlite") as cat:  # persisted
        assert {r.stage for r in cat.records("s/1")} == {"asr_en", "align"}


def test_stage_config_tracks_relevant_options_only() -> None:
    a, b = BuildOptions(), BuildOptions(jobs=8, asr_ja="vad")
    assert stage_config("asr_en", a, []) == stage_config("asr_en", b, [])
    assert stage_config("asr_ja", a, []) != stage_config("asr_ja", b, [])
    assert stage_config("align", a, ["x"]) != stage_config("align", a, ["y"])
