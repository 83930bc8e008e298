"""A build refused over its show metadata (before any work) leaves no output folder behind, nor the parent
folders that ``--out`` named and the build made for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from anim400k.dataset.options import BuildOptions
from anim400k.dataset.pipeline import build_dataset
from anim400k.errors import InputError


def test_a_refused_build_leaves_no_new_folders(tmp_path: Path) -> None:
    meta = tmp_path / "show.json"
    meta.write_text(json.dumps({"characters": {"A": {"pic_files": ["pics/nobody.png"]}}}))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "metadata": str(meta), "episodes": [
        {"episode": "1", "media": str(tmp_path / "ep1.mkv")}]}]}))
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "mine.txt").write_text("x")
    for out in (tmp_path / "new" / "deep" / "out", tmp_path / "kept" / "out"):
        with pytest.raises(InputError, match="picture file .*nobody.png.* not found"):
            build_dataset(manifest, out, BuildOptions(progress=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "m.yaml", "show.json"]
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["mine.txt"]  # a folder that was there stays
