"""A build deletes the frame files of the episodes its release does not list (failed, no longer in the
manifest, no ``--frames-fps``), only those its frames stage recorded; ``validate`` warns of unlisted files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anim400k.dataset.catalog import Catalog
from anim400k.dataset.context import EpisodeContext
from anim400k.dataset.dropped_frames import remove_dropped_frames
from anim400k.dataset.options import BuildOptions
from anim400k.dataset.pipeline import frames_listed
from anim400k.dataset.report import EpisodeResult
from anim400k.formats.frames import frame_id, frames_table_rows, write_frames_table
from anim400k.formats.ids import FRAMES_ARCHIVE, id_path
from anim400k.model import EpisodeRef
from anim400k.release.unlisted import unlisted_files_warnings, unlisted_frame_files


def _extracted(out: Path, ctx: EpisodeContext, n: int = 3) -> list[Path]:
    """Frame files of ``ctx`` as its frames stage writes them, recorded in its ``frames.json``."""
    show, ep = ctx.ref.show_key, ctx.ref.episode
    paths = [id_path(out, FRAMES_ARCHIVE, frame_id(show, ep, 1.0, i), "jpg") for i in range(n)]
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"jpeg")
    rows = [{"show": show, "episode": ep, "index": i, "time": float(i), "frame_id": frame_id(show, ep, 1.0, i),
             "path": str(p.relative_to(out))} for i, p in enumerate(paths)]
    ctx.artifact("frames.json").write_text(json.dumps({"fps": 1.0, "frames": rows}))
    return paths


def _context(out: Path, episode: str, options: BuildOptions) -> EpisodeContext:
    return EpisodeContext(EpisodeRef("s", episode, "jp.mkv", "en.mkv"), str(out / "work" / "s" / episode),
                          str(out), options)


def _one_extracted(out: Path, episode: str) -> tuple[EpisodeContext, Catalog, list[Path]]:
    """Episode ``s/EPISODE`` in a catalog of ``out``, with frames extracted (its frames.json written)."""
    ctx = _context(out, episode, BuildOptions(progress=False, frames_fps=1.0))
    catalog = Catalog(out / "catalog.sqlite")
    catalog.add_episode(ctx.ref.key, "s", episode, "jp.mkv", "en.mkv")
    return ctx, catalog, _extracted(out, ctx)


def test_a_dropped_episodes_frames_are_deleted_and_extracted_again_when_it_comes_back(tmp_path: Path) -> None:
    """A failed episode's and a no-longer-built episode's frame files stayed in anim400k_frames, unlisted."""
    out = tmp_path / "rel"
    opts = BuildOptions(progress=False, frames_fps=1.0)
    ok, failed, gone = (_context(out, e, opts) for e in ("1", "2", "3"))
    catalog = Catalog(out / "catalog.sqlite")
    files = {}
    for ctx in (ok, failed, gone):
        catalog.add_episode(ctx.ref.key, "s", ctx.ref.episode, "jp.mkv", "en.mkv")
        files[ctx.ref.key] = _extracted(out, ctx)
        catalog.mark_done(ctx.ref.key, "frames", "cfg", str(ctx.artifact("frames.json")), 1.0)
    foreign = [out / "notes.txt", out / FRAMES_ARCHIVE / "ff" / "theirs.jpg"]  # never written by the build
    for p in foreign:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"not ours")
    record = json.loads(failed.artifact("frames.json").read_text())  # a path outside the frames folder
    record["frames"].append({"path": "notes.txt"})
    failed.artifact("frames.json").write_text(json.dumps(record))
    contexts = {c.ref.key: c for c in (ok, failed)}  # episode 3 is no longer in the manifest
    results = {"s/1": EpisodeResult("s/1"), "s/2": EpisodeResult("s/2", ok=False)}
    listed = frames_listed(contexts, results, opts)
    assert listed == {"s/1"}
    table = out / FRAMES_ARCHIVE / "frames.parquet"
    write_frames_table(table, frames_table_rows("s", "1", 1.0, [(i, float(i)) for i in range(3)]))

    assert remove_dropped_frames(catalog, contexts, listed, out) == 6
    assert all(p.is_file() for p in files["s/1"]) and all(p.read_bytes() == b"not ours" for p in foreign)
    assert not any(p.exists() for k in ("s/2", "s/3") for p in files[k])
    assert not any(p.parent.exists() for k in ("s/2", "s/3") for p in files[k])  # emptied folders go too
    assert not failed.artifact("frames.json").exists() and not gone.artifact("frames.json").exists()
    assert catalog.get("s/2", "frames") is None and catalog.get("s/3", "frames") is None  # extracted again
    assert catalog.is_done("s/1", "frames", "cfg")
    assert unlisted_frame_files(out) == [f"{FRAMES_ARCHIVE}/ff/theirs.jpg"]
    assert remove_dropped_frames(catalog, contexts, listed, out) == 0  # nothing left to do
    # no --frames-fps: no episode's frames are listed (the build deletes the table first), so none are kept
    assert frames_listed(contexts, results, BuildOptions(progress=False)) == set()
    table.unlink()
    assert remove_dropped_frames(catalog, contexts, set(), out) == 3
    catalog.close()


def test_frames_the_release_lists_are_never_deleted_for_a_dropped_episode(tmp_path: Path) -> None:
    """A dropped episode whose work folder is the listed episode's (a link; on a case-insensitive disk, a show
    key that differs in case only) or whose frames.json lists the listed episode's frames (a copied work
    folder): the listed episode keeps its frame files and its frames.json."""
    out = tmp_path / "rel"
    kept, catalog, files = _one_extracted(out, "1")
    catalog.mark_done(kept.ref.key, "frames", "cfg", str(kept.artifact("frames.json")), 1.0)
    write_frames_table(out / FRAMES_ARCHIVE / "frames.parquet",
                       frames_table_rows("s", "1", 1.0, [(i, float(i)) for i in range(3)]))
    (out / "work" / "S").symlink_to(out / "work" / "s")  # the catalog's show "S": the same folder
    catalog.add_episode("S/1", "S", "1", "jp.mkv", "en.mkv")
    copied = out / "work" / "s" / "2"  # the episode's frames.json copied into another's work folder
    copied.mkdir(parents=True)
    copied.joinpath("frames.json").write_bytes(kept.artifact("frames.json").read_bytes())
    catalog.add_episode("s/2", "s", "2", "jp.mkv", "en.mkv")
    contexts = {kept.ref.key: kept}

    assert remove_dropped_frames(catalog, contexts, {kept.ref.key}, out) == 0
    assert all(p.read_bytes() == b"jpeg" for p in files)
    assert kept.artifact("frames.json").is_file() and catalog.is_done("s/1", "frames", "cfg")
    assert not copied.joinpath("frames.json").exists()  # the dropped episode's own record goes
    catalog.close()


def test_validate_warns_of_files_the_frames_table_does_not_list(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    """validate said nothing of frame files no table listed (a dropped episode's, say)."""
    from anim400k.cli import main
    from anim400k.testing.demo_release import make_demo_release

    root = make_demo_release(tmp_path / "rel", n_clips=1).root
    folder = root / FRAMES_ARCHIVE
    listed = id_path(root, FRAMES_ARCHIVE, frame_id("s", "1", 1.0, 0), "jpg")
    listed.parent.mkdir(parents=True)
    listed.write_bytes(b"jpeg")
    write_frames_table(folder / "frames.parquet", frames_table_rows("s", "1", 1.0, [(0, 0.0)]))
    capsys.readouterr()
    assert main(["validate", str(root)]) == 0
    assert capsys.readouterr().err == ""
    stray = id_path(root, FRAMES_ARCHIVE, frame_id("s", "2", 1.0, 0), "jpg")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"jpeg")
    assert main(["validate", str(root)]) == 0  # a warning, not a problem
    rel = str(stray.relative_to(root))
    assert capsys.readouterr().err.splitlines() == [
        f"{folder}: warning: 1 file(s) are not listed in frames.parquet (e.g. {rel!r}): they are no part of "
        "the release; delete them, or build again to list them"]
    assert main(["validate", "--no-media", str(root)]) == 0  # no media checks asked for: the folder not walked
    assert capsys.readouterr().err == ""
    (folder / "frames.parquet").unlink()  # no table: every file is unlisted
    assert unlisted_frame_files(root) == sorted([rel, str(listed.relative_to(root))])
    (folder / "frames.parquet").write_bytes(b"PAR1 cut short")
    assert len(unlisted_files_warnings(root)) == 1 and "cannot be read" in unlisted_files_warnings(root)[0]


def test_an_unreadable_frames_table_deletes_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "rel"
    gone, catalog, files = _one_extracted(out, "2")
    (out / FRAMES_ARCHIVE / "frames.parquet").write_bytes(b"not parquet")
    assert remove_dropped_frames(catalog, {}, set(), out) == 0
    assert all(p.is_file() for p in files) and gone.artifact("frames.json").is_file()
    assert "frames.parquet: cannot be read" in caplog.text
    catalog.close()
