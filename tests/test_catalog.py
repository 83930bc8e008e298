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


def test_asr_stage_key_follows_backend_settings(tmp_path: Path) -> None:
    """Model, device (so compute type) and backend change the ASR keys; a given transcript is not keyed on them."""
    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.schedule import stage_configs
    from anim400k.dataset.stages import STAGES
    from anim400k.model import EpisodeRef

    def keys(transcripts: dict[str, str] | None = None, **options: object) -> dict[str, str]:
        ref = EpisodeRef("s", "1", str(tmp_path / "a.mkv"), str(tmp_path / "a.mkv"), transcripts=transcripts or {})
        ctx = EpisodeContext(ref, str(tmp_path / "w"), str(tmp_path / "r"), BuildOptions(progress=False, **options))
        return stage_configs(ctx, list(STAGES))

    base = keys(asr_model="/models/large-v3", asr_device="cpu")
    assert keys(asr_model="/models/large-v3", asr_device="cpu") == base
    cuda = keys(asr_model="/models/large-v3", asr_device="cuda")
    assert cuda["asr_en"] != base["asr_en"] and cuda["asr_ja"] != base["asr_ja"]
    assert cuda["sync"] == base["sync"] and cuda["separate"] == base["separate"]
    other = keys(asr_model="/models/medium", asr_device="cpu")
    assert other["asr_en"] != base["asr_en"]
    assert keys(asr_en="pocketsphinx")["asr_en"] != keys()["asr_en"]
    assert keys(asr_device="cuda")["asr_en"] == keys()["asr_en"]  # the embedded tiny.en runs on the CPU anyway
    given = {"en": str(tmp_path / "en.json")}
    m = "/models/large-v3"
    assert keys(given, asr_model=m, asr_device="cuda")["asr_en"] == keys(given, asr_model=m, asr_device="cpu")["asr_en"]
