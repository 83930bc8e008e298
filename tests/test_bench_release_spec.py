"""benchmarks/check_release_spec.py, the independent FORMAT.md checker: it passes a good release and names breaks."""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import pytest

from anim400k.dataset.release_writer import write_archive
from anim400k.formats import ids
from anim400k.testing.release import make_release

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import check_release_spec as C  # noqa: E402

SPEC = Path(__file__).resolve().parents[1] / "tests" / "data" / "FORMAT.md"


@pytest.fixture
def rel(tmp_path: Path) -> Path:
    root = make_release(tmp_path / "r")
    write_archive(root / ids.AUDIO_ARCHIVE, root / f"{ids.AUDIO_ARCHIVE}.tar.gz")
    return root


def _run(root: Path, capsys) -> tuple[int, list[str]]:
    rc = C.main([str(root), "--spec", str(SPEC)])
    return rc, capsys.readouterr().out.splitlines()


def test_the_spec_tables_are_read_from_format_md() -> None:
    tables = C.spec_tables(SPEC)
    assert [f for f, _ in tables["clip"]] == ["jp_clip", "en_clip", "jp_text", "en_text", "jp_start_time",
                                              "jp_end_time", "en_start_time", "en_end_time", "speakers"]
    assert len(tables["show"]) == 31 and ("score", "float") in tables["show"] and ("rank", "int") in tables["show"]
    assert [f for f, _ in tables["episode"]] == ["url", "ratings", "jp_video_id", "en_video_id", "synopsis", "clips"]
    assert C.spec_characters(SPEC) == [("description", "str"), ("role", "str"), ("pic_urls", "[str]"),
                                       ("Voice Actors", "[str]")]


def test_a_good_release_passes_and_its_archive_is_checked(rel: Path, capsys) -> None:
    rc, lines = _run(rel, capsys)
    assert rc == 0, [x for x in lines if x.startswith("FAIL")]
    assert any(x.startswith("PASS  archive anim400k_audio_clips.tar.gz: contents") for x in lines)
    assert any(x.startswith("PASS  files: anim400k_character_pics/F/UUID.jpg") for x in lines)


def test_breaks_are_named(rel: Path, capsys) -> None:
    path = rel / ids.ANNOTATIONS_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data["show_a"]["score"] = 8  # FORMAT.md: float
    data["show_a"]["episodes"]["1"]["clips"][0]["jp_clip"] = "f/" + data["show_a"]["episodes"]["1"]["clips"][0][
        "jp_clip"].split("/")[1]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with tarfile.open(rel / f"{ids.AUDIO_ARCHIVE}.tar.gz", "w:gz") as tar:  # members as `tar czf x ./folder` names
        tar.add(rel / ids.AUDIO_ARCHIVE, arcname=f"./{ids.AUDIO_ARCHIVE}")
    rc, lines = _run(rel, capsys)
    fails = [x for x in lines if x.startswith("FAIL")]
    assert rc == 1
    assert any("show.score: type float: int where FORMAT.md says float" in x for x in fails)
    assert any(x.startswith("FAIL  IDs: {id_folder}/{uuid}") and "jp_clip: 'f/" in x for x in fails)
    assert any(x.startswith("FAIL  archive anim400k_audio_clips.tar.gz: member names: ./anim400k_audio_clips/")
               for x in fails)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    rc, lines = _run(rel, capsys)
    assert "FAIL  encoding: no BOM: starts with a UTF-8 BOM" in lines


def test_the_copy_of_format_md_is_the_shared_one() -> None:
    """tests/data/FORMAT.md is a copy of the contract (/work/shared/FORMAT.md) for machines without it."""
    shared = C.SPECS[0]
    if shared.is_file():
        assert shared.read_bytes() == SPEC.read_bytes(), "FORMAT.md changed: copy it to tests/data again"
    assert C.SPECS[1] == SPEC
