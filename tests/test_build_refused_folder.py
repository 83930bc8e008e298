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


@pytest.mark.parametrize(("name", "kind"), [("work", "file"), ("anim400k_audio_clips", "file"),
                                            ("catalog.sqlite", "folder"), ("anim400k_annotations.json", "folder")])
def test_a_file_where_the_build_writes_a_folder_is_refused_before_any_work(tmp_path: Path, name: str,
                                                                          kind: str) -> None:
    """A file `work` in --out failed every episode with 'internal error in stage probe: NotADirectoryError'
    and left catalog.sqlite and build_report.json behind; a folder `catalog.sqlite` failed in SQLite."""
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": [
        {"episode": "1", "media": str(tmp_path / "ep1.mkv")}]}]}))
    out = tmp_path / "out"
    out.mkdir()
    if kind == "file":
        (out / name).write_text("the user's")
    else:
        (out / name).mkdir()
    with pytest.raises(InputError) as err:
        build_dataset(manifest, out, BuildOptions(progress=False))
    other = "file" if kind == "folder" else "folder"
    assert str(err.value) == (f"{out / name}: is a {kind}, where the build writes its {name}"
                              f"{' folder' if other == 'folder' else ''}: move it away or give --out another folder")
    assert [p.name for p in out.iterdir()] == [name]  # nothing written
