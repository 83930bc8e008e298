"""An output folder inside the release a command reads is refused in one line before any work: ``dub --dataset
REL --out SYS``, ``evaluate --reference REL --out M`` and ``stats REL --figures F`` accepted a folder inside REL,
which a later ``build`` or ``export`` of that release could delete or swap."""

from __future__ import annotations

from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.testing.demo_release import make_demo_release


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_release(tmp_path_factory.mktemp("inside") / "REL", n_clips=1).root


def _no_work(*args: object, **kwargs: object) -> None:
    raise AssertionError("the work started before --out was checked")


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _inside(rel: Path, tmp_path: Path, how: str) -> tuple[Path, str]:
    """An output folder inside ``rel`` as the user may give it, and how the message names the release."""
    if how == "subfolder":
        return rel / "dubs" / "sys", str(rel)
    if how == "release":
        return rel, str(rel)
    link = tmp_path / "link"  # a link to the release: the folder is inside it all the same
    if not link.exists():
        link.symlink_to(rel)
    return link / "sys", str(rel)


HOW = ["subfolder", "release", "link"]


@pytest.mark.parametrize("how", HOW)
def test_dub_dataset_refuses_an_out_inside_the_release(rel: Path, tmp_path: Path, capsys, how: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("anim400k.dub.dataset_mode._dub_dataset_locked", _no_work)
    out, _ = _inside(rel, tmp_path, how)
    before = _tree(rel)
    assert main(["dub", "--dataset", str(rel), "--out", str(out), "--tts", "espeak", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    if how != "release":  # the release folder itself has its own line (its files would be mixed with the dubs)
        assert err == f"anim400k: error: --out {out} is inside the release {rel}; choose a folder outside it"
    assert _tree(rel) == before


@pytest.mark.parametrize("how", HOW)
def test_evaluate_refuses_an_out_inside_the_release(rel: Path, tmp_path: Path, capsys, how: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("anim400k.evaluate.metrics.evaluate_dubs", _no_work)
    out, _ = _inside(rel, tmp_path, how)
    dubs = tmp_path / "dubs"
    dubs.mkdir(exist_ok=True)
    before = _tree(rel)
    for reference in (rel, rel / "anim400k_annotations.json"):  # the release as a folder or its annotations
        assert main(["evaluate", str(dubs), "--reference", str(reference), "--out", str(out)]) == 2
        verb = "is the release" if how == "release" else "is inside the release"
        assert capsys.readouterr().err.strip() == (
            f"anim400k: error: --out {out} {verb} {reference if reference.is_dir() else rel}; "
            "choose a folder outside it")
    assert _tree(rel) == before


@pytest.mark.parametrize("how", HOW)
def test_stats_refuses_figures_inside_the_release(rel: Path, tmp_path: Path, capsys, how: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("anim400k.stats.compute_stats", _no_work)
    out, _ = _inside(rel, tmp_path, how)
    before = _tree(rel)
    assert main(["stats", str(rel), "--figures", str(out)]) == 2
    verb = "is the release" if how == "release" else "is inside the release"
    assert capsys.readouterr().err.strip() == (
        f"anim400k: error: --figures {out} {verb} {rel}; choose a folder outside it")
    assert _tree(rel) == before


def test_a_folder_beside_the_release_is_not_refused(rel: Path, tmp_path: Path) -> None:
    from anim400k.fsutil.no_clobber import refuse_inside_release

    for out in (rel.parent / "REL-dubs", rel.parent, tmp_path / "m", None):  # a name sharing REL's prefix too
        refuse_inside_release("--out", out, rel)
