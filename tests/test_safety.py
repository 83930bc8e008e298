"""Safety and integrity (issue 14, items 1-8): nothing written outside the output folder, nothing lost."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from anim400k.cli import main
from anim400k.dataset.catalog import Catalog
from anim400k.dataset.manifest import load_manifest
from anim400k.dataset.options import BuildOptions
from anim400k.errors import DiskFull, InputError, is_disk_full
from anim400k.fsutil.locks import folder_lock
from anim400k.fsutil.paths import under
from anim400k.fsutil.temp_files import is_our_temp, remove_temps
from anim400k.testing.release import make_release

OPTS = BuildOptions(progress=False)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def one_line_error(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("anim400k: error:")]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# -- 1. export never deletes what it did not write ---------------------------------------------------


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("safety_rel") / "rel")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("where", ["release", "inside", "parent"])
def test_export_refuses_the_release_itself_inside_or_around_it(rel: Path, where: str,
                                                               capsys: pytest.CaptureFixture) -> None:
    out = {"release": rel, "inside": rel / "export", "parent": rel.parent}[where]
    before = _tree(rel.parent)
    rc, text = run_cli(["export", str(rel), "--format", "parquet", "--out", str(out), "--no-progress"], capsys)
    assert rc == 2
    assert "release folder" in one_line_error(text)
    assert _tree(rel.parent) == before


def test_export_refuses_a_non_empty_folder_it_did_not_write(rel: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    rc, text = run_cli(["export", str(rel), "--format", "parquet", "--out", str(out), "--no-progress"], capsys)
    assert rc == 2
    assert "not empty" in one_line_error(text)
    assert (out / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no staging folder left


def test_export_replaces_its_own_earlier_export_and_fills_an_empty_folder(rel: Path, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    for _ in range(2):  # an empty folder, then the export written there
        rc, text = run_cli(["export", str(rel), "--format", "parquet", "--out", str(out), "--no-progress"], capsys)
        assert rc == 0, text
        assert (out / ".anim400k-export").is_file() and list(out.glob("*.parquet"))


@pytest.mark.parametrize("fmt", ["parquet", "webdataset"])
@pytest.mark.parametrize("added", ["notes.md", "sub/notes.md", "link"])
def test_export_never_deletes_a_file_added_to_an_earlier_export(rel: Path, tmp_path: Path, fmt: str, added: str,
                                                                capsys: pytest.CaptureFixture) -> None:
    """An earlier export's folder was replaced as a whole: a file the user put there since (notes, a README,
    a subfolder, a link) was deleted by the swap. The mark lists the export's files; anything else is refused."""
    out = tmp_path / "E"
    argv = ["export", str(rel), "--format", fmt, "--out", str(out), "--no-progress"]
    for _ in range(2):  # a new folder, then the export itself again (its own files only)
        rc, text = run_cli(argv, capsys)
        assert rc == 0, text
    mark = (out / ".anim400k-export").read_text(encoding="utf-8").splitlines()
    assert sorted(mark[1:]) == sorted(str(p.relative_to(out)) for p in out.rglob("*")
                                      if p.is_file() and p.name != ".anim400k-export")
    theirs = out / added
    theirs.parent.mkdir(exist_ok=True)
    if added == "link":
        theirs.symlink_to(tmp_path)
    else:
        theirs.write_text("the user's notes")
    before = _tree(out)
    rc, text = run_cli(argv, capsys)
    assert rc == 2
    first = added.split("/")[0] if added.startswith("sub") else added
    assert one_line_error(text) == (f"anim400k: error: {out}: holds {first!r}, which no export wrote (an earlier "
                                    "export's .anim400k-export does not list it): an export replaces its output "
                                    "folder as a whole; move it away or give a new or empty folder")
    assert _tree(out) == before and os.path.lexists(theirs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["E"]  # no staging folder left
    # an earlier version's mark (no list of files): the folder is replaced as a whole, as before
    (out / ".anim400k-export").write_text("written by anim400k export; the next export may replace this folder\n")
    rc, text = run_cli(argv, capsys)
    assert rc == 0 and not os.path.lexists(theirs)


@pytest.mark.parametrize("held", ["anim400k_annotations.json", "anim400k_audio_clips.tar.gz"])
def test_build_refuses_a_folder_holding_a_release_no_build_wrote(rel: Path, tmp_path: Path, held: str,
                                                                  capsys: pytest.CaptureFixture) -> None:
    """A downloaded (or copied) release without a build catalog: a build would replace its annotations."""
    out = tmp_path / "downloaded"
    out.mkdir()
    if held == "anim400k_annotations.json":
        shutil.copy(rel / held, out / held)
    else:
        (out / held).write_bytes(b"an archive")
    (out / "notes.txt").write_text("mine")
    before = _tree(out)
    rc, text = run_cli(["build", str(_manifest(tmp_path)), "--out", str(out), "--no-progress"], capsys)
    assert rc == 2
    line = one_line_error(text)
    assert line.startswith(f"anim400k: error: {out}: holds a release ({held}) that no build wrote here"), line
    assert _tree(out) == before and sorted(p.name for p in out.iterdir()) == sorted(before)  # nothing written


def test_a_build_folder_or_a_remote_one_is_checked_for_a_foreign_release(rel: Path, tmp_path: Path) -> None:
    """A folder with the build's catalog (or report) is the build's own (a re-run may replace its release); a
    remote output is looked at remotely."""
    import fsspec

    from anim400k.dataset.out_folder import foreign_release
    from anim400k.dataset.pipeline import build_dataset

    assert foreign_release(lambda name: (rel / name).exists()) == "anim400k_annotations.json"
    for own in ("catalog.sqlite", "build_report.json"):
        assert foreign_release(lambda name, own=own: (rel / name).exists() or name == own) is None
    assert foreign_release(lambda name: False) is None  # a new or empty folder
    url = f"memory://foreign-{os.getpid()}/rel"
    fs = fsspec.filesystem("memory")
    fs.pipe(f"{url}/anim400k_annotations.json", (rel / "anim400k_annotations.json").read_bytes())
    with pytest.raises(InputError, match=r"holds a release \(anim400k_annotations\.json\) that no build wrote"):
        build_dataset(_manifest(tmp_path), url, BuildOptions(progress=False, jobs=1))
    assert fs.ls(url, detail=False) == [f"/foreign-{os.getpid()}/rel/anim400k_annotations.json"]


# -- 2. manifest names that would leave the output folder, or alias one another ------------------------


def _manifest(tmp_path: Path, key: object = "s", episode: object = "1") -> Path:
    path = tmp_path / "m.yaml"
    eps = [{"episode": episode, "media": "ep.mkv"}]
    path.write_text(yaml.safe_dump({"shows": [{"key": key, "episodes": eps}]}), encoding="utf-8")
    return path


@pytest.mark.parametrize("key", ["../../../escaped_show", "/tmp/abs", "s/", "s/.", "s/x", ".", "..", "a\\b",
                                 "a\x00b", " s", ""])
def test_manifest_refuses_a_show_key_that_is_not_one_folder_name(tmp_path: Path, key: str) -> None:
    with pytest.raises(InputError, match=r"shows\[0\]\.key") as err:
        load_manifest(_manifest(tmp_path, key=key))
    assert "\n" not in err.value.message


@pytest.mark.parametrize("episode", ["../../../x", "/abs", "1/", "..", "1/."])
def test_manifest_refuses_an_episode_that_is_not_one_folder_name(tmp_path: Path, episode: str) -> None:
    with pytest.raises(InputError, match=r"episodes\[0\]\.episode"):
        load_manifest(_manifest(tmp_path, episode=episode))


def test_manifest_refuses_a_show_listed_twice(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    shows = [{"key": "s", "episodes": [{"episode": "1", "media": "a.mkv"}]},
             {"key": "s", "episodes": [{"episode": "2", "media": "b.mkv"}]}]
    path.write_text(yaml.safe_dump({"shows": shows}))
    with pytest.raises(InputError, match=r"shows\[1\]\.key: show 's' is listed twice"):
        load_manifest(path)


def test_build_with_an_escaping_key_writes_nothing_outside_out(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "a" / "b" / "c"
    root.mkdir(parents=True)
    manifest = _manifest(root, key="../../../escaped_show")
    rc, text = run_cli(["build", str(manifest), "--out", str(root / "out"), "--no-progress"], capsys)
    assert rc == 2
    assert "key" in one_line_error(text)
    assert not (tmp_path / "escaped_show").exists() and not (root / "out").exists()


def test_under_refuses_every_way_out(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    assert under(root, "work", "s", "1") == root / "work" / "s" / "1"
    for parts in (("..", "x"), ("/etc",), ("work", "../../x"), ("work/../..",)):
        with pytest.raises(InputError, match="outside the output folder"):
            under(root, *parts)


# -- 3. the temp-file sweep deletes only our own temporaries, only under --out ----------------------


def test_stale_temp_sweep_only_removes_our_names_under_out(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / "work" / "s" / "1").mkdir(parents=True)
    elsewhere.mkdir()
    ep = out / "work" / "s" / "1"
    ours = [ep / ".clips.anim400k-a1b2c3d4.part.json", ep / ".x.wav.anim400k-part-12-0badcafe"]
    legacy = [ep / ".clips.a1b2c3d4.part.json", ep / ".x.wav.part-12-0badcafe"]  # earlier versions' names
    theirs = [ep / ".notes.part", ep / ".vimrc.partial", elsewhere / ".clips.anim400k-a1b2c3d4.part.json"]
    for p in ours + legacy + theirs:
        p.write_text("x")
    (ep / "linked").symlink_to(elsewhere)  # a link below the swept folder is not followed
    assert remove_temps(out, [ep]) == 2
    assert not any(p.exists() for p in ours) and all(p.exists() for p in legacy + theirs)
    assert remove_temps(out, [ep], legacy=True) == 2  # a folder no user writes into (work/): the old names too
    assert not any(p.exists() for p in legacy) and all(p.exists() for p in theirs)
    with pytest.raises(InputError):
        remove_temps(out, [elsewhere])
    assert all(is_our_temp(p.name) for p in ours) and not any(is_our_temp(p.name) for p in theirs[:2])
    assert not any(is_our_temp(p.name) for p in legacy) and all(is_our_temp(p.name, legacy=True) for p in legacy)


def test_start_of_a_build_sweeps_the_release_roots_own_temporaries(tmp_path: Path) -> None:
    """A driver killed while writing an archive or the annotations leaves their temporary in --out itself."""
    from anim400k.dataset.pipeline import _remove_stale_parts

    out = tmp_path / "out"
    (out / "anim400k_character_pics" / "a").mkdir(parents=True)
    (out / "mine").mkdir()
    ours = [out / ".anim400k_audio_clips.tar.anim400k-k2j4_x9q.part.tar.gz",
            out / ".anim400k_annotations.anim400k-0abcdefg.part.json",
            out / "anim400k_character_pics" / "a" / ".b1.anim400k-a1b2c3d4.part.jpg"]
    theirs = [out / "notes.txt", out / ".notes.part", out / "anim400k_annotations.json",
              out / "mine" / ".x.anim400k-a1b2c3d4.part.json"]  # a folder of --out the build does not write: left alone
    for p in ours + theirs:
        p.write_text("x")
    _remove_stale_parts(out, {})
    assert not any(p.exists() for p in ours) and all(p.exists() for p in theirs)


def test_a_users_file_named_like_an_old_temporary_survives_the_builds_sweep(tmp_path: Path) -> None:
    """The sweep took any hidden ``.X.xxxxxxxx.part`` in --out (mkstemp's 8 random characters) for a temporary
    of ours and deleted it: a user's ``.notes.abcdefgh.part`` was lost. Only ``anim400k-`` marked names are
    ours now; the unmarked names of earlier versions are swept only in the build's own ``work/`` folders."""
    from types import SimpleNamespace

    from anim400k.dataset.pipeline import _remove_stale_parts

    out = tmp_path / "out"
    work = out / "work" / "s" / "1"
    (out / "anim400k_audio_clips").mkdir(parents=True)
    work.mkdir(parents=True)
    users = [out / ".notes.abcdefgh.part", out / ".todo.a1b2c3d4.part.txt",
             out / "anim400k_audio_clips" / ".notes.abcdefgh.part"]
    ours = [out / ".anim400k_annotations.anim400k-0abcdefg.part.json",
            work / ".clips.anim400k-a1b2c3d4.part.json", work / ".clips.a1b2c3d4.part.json"]  # the last: an old build's
    for p in users + ours:
        p.write_text("keep" if p in users else "{")
    _remove_stale_parts(out, {"s/1": SimpleNamespace(work_dir=str(work))})  # type: ignore[dict-item]
    assert [p.name for p in users if not p.exists()] == [] and all(p.read_text() == "keep" for p in users)
    assert [p.name for p in ours if p.exists()] == []


def test_atomic_path_temporaries_are_recognised(tmp_path: Path) -> None:
    from anim400k.fsutil.atomic import atomic_path

    for name in ("clips.json", "a.mp3", "archive.tar.gz", "noext"):
        with atomic_path(tmp_path / name) as tmp:
            assert is_our_temp(tmp.name), tmp.name
            tmp.write_text("x")


# -- 4. one build at a time per --out; validate compares annotations with the build's record -------------


def test_second_build_into_the_same_folder_is_refused(short_manifest: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with folder_lock(out):
        rc, text = run_cli(["build", str(short_manifest), "--out", str(out), "--no-progress"], capsys)
        assert rc == 2
        line = one_line_error(text)
        assert "another build" in line and f"process {os.getpid()}" in line
        assert not (out / "catalog.sqlite").exists()
    with folder_lock(out):  # released on exit: it can be taken again
        pass


def test_lock_is_released_when_its_holder_dies(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, time; from anim400k.fsutil.locks import folder_lock\n"
            "with folder_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match="another build"), folder_lock(tmp_path):
            pass
    finally:
        proc.kill()
        proc.wait()
    with folder_lock(tmp_path):  # the kernel dropped the dead holder's lock
        pass


def _built_release(root: Path, clips_recorded: int, episodes: list[str]) -> Path:
    rel = make_release(root / "rel")
    (rel / "build_report.json").write_text(json.dumps({"written": True, "clips": clips_recorded}))
    with Catalog(rel / "catalog.sqlite") as cat:
        for key in episodes:
            show, ep = key.split("/")
            cat.add_episode(key, show, ep, "jp.mkv", "en.mkv")
    return rel


def _annotated(rel: Path) -> tuple[int, list[str]]:
    data = json.loads((rel / "anim400k_annotations.json").read_text())
    keys = [f"{s}/{e}" for s, show in data.items() for e in show["episodes"]]
    clips = sum(len(ep["clips"]) for show in data.values() for ep in show["episodes"].values())
    return clips, keys


def test_validate_catches_annotations_that_disagree_with_the_build(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    probe = make_release(tmp_path / "probe")
    clips, keys = _annotated(probe)
    rel = _built_release(tmp_path, clips, keys)
    before = sorted(p.name for p in rel.iterdir())
    rc, text = run_cli(["validate", str(rel)], capsys)
    assert rc == 0, text
    assert sorted(p.name for p in rel.iterdir()) == before  # reading the catalog left no -shm/-wal beside it
    (rel / "anim400k_annotations.json").write_text("{}")  # what the racing builds left
    rc, text = run_cli(["validate", str(rel)], capsys)
    assert rc == 1 and f"hold 0 clip(s) but the build that wrote this release recorded {clips}" in text
    other = _built_release(tmp_path / "b", clips, keys[1:])  # an episode the build never had
    rc, text = run_cli(["validate", str(other)], capsys)
    assert rc == 1 and "not in the build's catalog" in text


def test_validate_while_a_build_writes_the_release_skips_the_build_record(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    """Between a build's annotations and its report the two disagree for a moment: validate called the release
    'overwritten or cut short' (exit 1) in that window (an outside tester, 2026-12-07, 4 of 10,035 polls). A live
    build's lock file now skips that check, with a note; a lock file a killed build left does not."""
    import subprocess
    import sys

    from anim400k.fsutil.locks import LOCK_FILE

    probe = make_release(tmp_path / "probe")
    clips, keys = _annotated(probe)
    rel = _built_release(tmp_path, clips, keys)
    (rel / "build_report.json").write_text(json.dumps({"written": True, "clips": clips - 1, "episodes": []}))
    rc, text = run_cli(["validate", str(rel)], capsys)
    assert rc == 1 and "the build that wrote this release recorded" in text
    holds = ("import sys, time\nfrom anim400k.fsutil.locks import folder_lock\nwith folder_lock(sys.argv[1]):\n"
             "    print('locked', flush=True)\n    time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", holds, str(rel)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
        rc, text = run_cli(["validate", str(rel)], capsys)
        assert rc == 0 and f"a build (process {writer.pid}) is writing this release" in text, text
    finally:
        writer.kill()
        writer.wait()
    (rel / LOCK_FILE).write_text(str(os.getppid()))  # a killed build's file naming a live process (a reused number)
    rc, text = run_cli(["validate", str(rel)], capsys)  # nobody holds the lock: a stale lock file
    assert rc == 1 and "the build that wrote this release recorded" in text


def test_validate_catches_annotations_left_by_an_earlier_build(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    """A re-run where every episode failed writes no release: the earlier annotations stay (never deleted)
    but no longer agree with build_report.json, and validate says so; so do a report's episodes."""
    probe = make_release(tmp_path / "probe")
    clips, keys = _annotated(probe)
    rel = _built_release(tmp_path, clips, keys)
    ann = (rel / "anim400k_annotations.json").read_bytes()

    def check(episodes: list[dict], written: bool = True, n: int = clips) -> tuple[int, str]:
        (rel / "build_report.json").write_text(json.dumps({"written": written, "clips": n, "episodes": episodes}))
        return run_cli(["validate", str(rel)], capsys)

    rc, text = check([{"key": k, "ok": False, "error": "bad subtitles"} for k in keys], written=False, n=0)
    assert rc == 1 and "annotations are from an earlier build: the last build (build_report.json) wrote no " \
                       f"release (every one of its {len(keys)} episode(s) failed, e.g. {keys[0]!r})" in text, text
    assert (rel / "anim400k_annotations.json").read_bytes() == ann  # reported, not deleted
    assert check([{"key": k, "ok": True} for k in keys]) == (0, f"{rel / 'anim400k_annotations.json'}: valid\n")
    renumbered = [{"key": k.replace("/1", "/01"), "ok": True} for k in keys]  # 01 is episode 1
    assert check(renumbered)[0] == 0
    rc, text = check([{"key": keys[0], "ok": False}] + [{"key": k, "ok": True} for k in keys[1:]])
    assert rc == 1 and "annotations are from an earlier build: they hold 1 episode(s) the last build did not " \
                       f"write (e.g. {keys[0]!r})" in text, text
    rc, text = check([{"key": k, "ok": True} for k in [*keys, "show_a/9"]])
    assert rc == 1 and "they lack 1 episode(s) it wrote (e.g. 'show_a/9')" in text, text


# -- 5. / 7. manifests that are too large once expanded, or not UTF-8 ------------------------------------


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lines = ["e: &e [" + ", ".join(["{episode: '1', media: a.mkv}"] * 10) + "]",
             "l1: &l1 [" + ", ".join(["*e"] * 100) + "]",
             "l2: &l2 [" + ", ".join(["*l1"] * 100) + "]",
             "shows: [" + ", ".join(["{key: s, episodes: *l2}"] * 100) + "]"]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 20_000
    rc, text = run_cli(["build", str(path), "--out", str(tmp_path / "out"), "--no-progress"], capsys)
    assert rc == 2
    assert "too large to be a manifest" in one_line_error(text)
    assert not (tmp_path / "out").exists()


def test_non_utf8_manifest_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes("shows:\n  - key: 名前\n".encode("shift_jis"))
    rc, text = run_cli(["build", str(path), "--out", str(tmp_path / "out"), "--no-progress"], capsys)
    assert rc == 2
    assert "not UTF-8" in one_line_error(text) and str(path) in text


def test_utf16_manifest_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("shows:\n  - key: 名前\n    episodes:\n      - {episode: '1', media: a.mkv}\n", encoding="utf-16")
    assert load_manifest(path).shows[0].key == "名前"


# -- 6. MUSHRA submissions: ranges, body size, session first ---------------------------------------------


@pytest.fixture(scope="module")
def mushra(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from fastapi.testclient import TestClient

    from anim400k.evaluate.mushra_app import create_app
    from anim400k.testing.mushra import make_mushra_test

    test_dir = make_mushra_test(tmp_path_factory.mktemp("safety_mushra"))
    return test_dir, TestClient(create_app(test_dir))


def _join(test_dir: Path, client) -> dict:  # noqa: ANN001
    from anim400k.evaluate.mushra_app import make_invite, read_secret

    client.cookies.clear()
    assert client.get(f"/join/{make_invite(read_secret(test_dir))}", follow_redirects=False).status_code == 303
    return client.get("/api/state").json()


@pytest.mark.parametrize("value", [b"1e100", b"-5", b"NaN", b"Infinity", b"1" + b"0" * 40, b'"10"', b"[1]"])
def test_submit_refuses_times_out_of_range(mushra, value: bytes) -> None:  # noqa: ANN001
    test_dir, client = mushra
    state = _join(test_dir, client)
    ratings = {s["id"]: 50 for s in state["trial"]["stimuli"]}
    first = next(iter(ratings))
    body = (b'{"nonce": "' + state["trial"]["nonce"].encode() + b'", "ratings": ' + json.dumps(ratings).encode()
            + b', "times": {"' + first.encode() + b'": ' + value + b"}}")
    r = client.post("/api/submit", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "times" in r.json()["error"]
    assert client.get("/api/state").json()["done"] == 0


def test_submit_accepts_fractional_times(mushra) -> None:  # noqa: ANN001
    test_dir, client = mushra
    state = _join(test_dir, client)
    ratings = {s["id"]: 50 for s in state["trial"]["stimuli"]}
    times = {k: 1234.6 for k in ratings}
    r = client.post("/api/submit", json={"nonce": state["trial"]["nonce"], "ratings": ratings, "times": times})
    assert r.status_code == 200, r.text


def test_store_refuses_huge_times_instead_of_overflowing(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from anim400k.evaluate.mushra_app import create_app
    from anim400k.evaluate.mushra_store import SubmitError
    from anim400k.testing.mushra import make_mushra_test

    test_dir = make_mushra_test(tmp_path)
    app = create_app(test_dir)
    store = app.state.ctx.store
    client = TestClient(app)
    state = _join(test_dir, client)
    ratings = {s["id"]: 50 for s in state["trial"]["stimuli"]}
    with sqlite3.connect(test_dir / "ratings.sqlite") as db:
        lid = db.execute("SELECT listener FROM assignments WHERE nonce=?", (state["trial"]["nonce"],)).fetchone()[0]
    with pytest.raises(SubmitError) as err:
        store.submit(lid, state["trial"]["nonce"], ratings, {k: 10**100 for k in ratings})
    assert err.value.status == 422


def _post_streamed(app, cookie: str | None, chunks: int, chunk: bytes = b" " * 65536,  # noqa: ANN001
                   length: int | None = None) -> tuple[int, int]:
    """POST ``chunks`` body chunks to /api/submit straight through ASGI; (status, chunks the app read)."""
    import asyncio

    headers = [(b"content-type", b"application/json")]
    if cookie:
        headers.append((b"cookie", f"mushra_session={cookie}".encode()))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/submit", "raw_path": b"/api/submit", "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    read, status = 0, 0

    async def receive() -> dict:
        nonlocal read
        read += 1
        if read > chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": read < chunks}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    asyncio.run(app(scope, receive, send))
    return status, read


def test_oversized_body_is_413_without_being_read(mushra) -> None:  # noqa: ANN001
    from anim400k.evaluate.mushra_app import MAX_SUBMIT_BYTES

    test_dir, client = mushra
    _join(test_dir, client)
    cookie = client.cookies["mushra_session"]
    status, read = _post_streamed(client.app, cookie, chunks=800)  # 50 MB, no Content-Length
    assert status == 413 and read <= MAX_SUBMIT_BYTES // 65536 + 2
    status, read = _post_streamed(client.app, cookie, chunks=800, length=800 * 65536)  # declared: not read at all
    assert status == 413 and read == 0


def test_body_is_not_read_without_a_session(mushra) -> None:  # noqa: ANN001
    _, client = mushra
    status, read = _post_streamed(client.app, None, chunks=800)
    assert status == 401 and read == 0
    status, read = _post_streamed(client.app, "forged.cookie", chunks=800)
    assert status == 401 and read == 0


# -- 8. a full disk is said as such, and the catalog stays consistent ---------------------------------


def test_disk_full_during_a_stage_is_one_line_and_keeps_the_catalog(short_manifest: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture) -> None:
    import dataclasses

    from anim400k.dataset import stages

    target = stages.STAGE_BY_NAME["audio"]  # the first stage after probe

    def full(ctx):  # noqa: ANN001, ANN202
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(ctx.work_dir) / "x.flac"))

    monkeypatch.setitem(stages.STAGE_BY_NAME, "audio", dataclasses.replace(target, fn=full))
    out = tmp_path / "out"
    rc, text = run_cli(["build", str(short_manifest), "--out", str(out), "--no-progress", "--jobs", "1"], capsys)
    assert rc == 2, text
    line = one_line_error(text)
    assert "disk is full" in line and "x.flac" in line and "run the same command again" in line
    assert "corrupt" not in line
    with sqlite3.connect(out / "catalog.sqlite") as db:
        rows = db.execute("SELECT stage, status FROM stages").fetchall()
    assert rows and all(status == "done" for _, status in rows)  # nothing recorded for the failed stage
    assert target.name not in {stage for stage, _ in rows}
    assert not (out / "anim400k_annotations.json").exists()


def _full_disk(monkeypatch: pytest.MonkeyPatch, full: bool = True) -> None:
    """Make :func:`anim400k.fsutil.disk.disk_looks_full` see a full (or a roomy) disk."""
    import shutil

    free = 4096 if full else 10 << 30
    usage = shutil._ntuple_diskusage(1 << 30, (1 << 30) - free, free)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage)


def test_a_writer_that_lost_the_errno_on_a_full_disk_says_enospc_naming_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import soundfile as sf

    from anim400k.fsutil.atomic import atomic_path

    dest = tmp_path / "ja.16k.flac"
    _full_disk(monkeypatch, full=False)  # a libsndfile error on a disk with room is not a full disk
    with pytest.raises(sf.LibsndfileError), atomic_path(dest):
        raise sf.LibsndfileError(2)  # what soundfile raises when a FLAC write hits ENOSPC: "System error."
    _full_disk(monkeypatch)
    with pytest.raises(OSError, match="No space left") as info, atomic_path(dest):
        raise sf.LibsndfileError(2)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(dest)
    assert isinstance(info.value.__cause__, sf.LibsndfileError)
    _full_disk(monkeypatch, full=False)
    with pytest.raises(OSError) as info, atomic_path(dest) as tmp:  # a write that names no file (file.write)
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(dest) and not tmp.exists()
    with pytest.raises(InputError), atomic_path(dest):  # the project's own errors pass unchanged
        raise InputError("bad", dest)
    assert not list(tmp_path.iterdir())


def test_disk_full_in_the_audio_stage_is_one_line_and_records_nothing(short_manifest: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture) -> None:
    import soundfile as sf

    def write(*_a: object, **_k: object) -> None:
        raise sf.LibsndfileError(2)

    monkeypatch.setattr(sf, "write", write)
    _full_disk(monkeypatch)
    out = tmp_path / "out"
    rc, text = run_cli(["build", str(short_manifest), "--out", str(out), "--no-progress", "--jobs", "1"], capsys)
    assert rc == 2, text
    line = one_line_error(text)
    assert line.startswith("anim400k: error: the disk is full: stage audio of test_show/1 could not write "), line
    assert "ja.16k.flac (No space left on device)" in line and "run the same command again" in line
    with sqlite3.connect(out / "catalog.sqlite") as db:
        rows = db.execute("SELECT stage, status FROM stages").fetchall()
    assert sorted(rows) == [("probe", "done"), ("subtitles", "done")]  # nothing recorded for the audio stage
    assert not list(out.rglob(".*.part*"))


def test_disk_full_writing_the_release_is_one_line_and_a_resume_drops_the_stale_error_log(
        short_manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import dataclasses

    from anim400k import release
    from anim400k.dataset import stages
    from anim400k.fsutil.atomic import atomic_path

    out = tmp_path / "out"
    argv = ["build", str(short_manifest), "--out", str(out), "--no-progress", "--jobs", "1", "--no-video-clips",
            "--asr-ja", "vad"]
    target = stages.STAGE_BY_NAME["sync"]

    def boom(ctx):  # noqa: ANN001, ANN202
        raise RuntimeError("boom")

    with monkeypatch.context() as m:  # first run: an internal error leaves each episode an error.log
        m.setitem(stages.STAGE_BY_NAME, "sync", dataclasses.replace(target, fn=boom))
        rc, text = run_cli(argv, capsys)
    assert rc == 2, text
    logs = sorted(out.glob("work/*/*/error.log"))
    assert logs

    def full_annotations(path, *_a, **_k):  # noqa: ANN001, ANN202
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"{")
            raise OSError(errno.ENOSPC, "No space left on device")  # as a file's write() says it: no name

    monkeypatch.setattr(release, "write_annotations", full_annotations)
    rc, text = run_cli(argv, capsys)  # resumed: every episode now succeeds, then the release fills the disk
    assert rc == 2, text
    line = one_line_error(text)
    assert line.startswith("anim400k: error: the disk is full: writing the release could not write "), line
    assert f"{out / 'anim400k_annotations.json'} (No space left on device)" in line and "run the same" in line
    assert not [p for p in logs if p.exists()], "a stale error.log outlived the episode's success"
    assert not (out / "anim400k_annotations.json").exists() and not list(out.glob(".*.part*"))


def test_mark_failed_survives_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = Catalog(tmp_path / "catalog.sqlite")
    cat.mark_done("s/1", "probe", "c", None, 1.0)

    class FullDb:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def execute(self, sql: str, *args: object):  # noqa: ANN202
            if sql.lstrip().upper().startswith("INSERT"):
                raise sqlite3.OperationalError("database or disk is full")
            return self.db.execute(sql, *args)

        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(self.db, name)

    monkeypatch.setattr(cat, "_db", FullDb(cat._db))
    cat.mark_failed("s/1", "asr_en", "c", "boom")  # logs, does not raise
    with pytest.raises(DiskFull, match="disk full"):
        cat.mark_done("s/1", "asr_en", "c", None, 1.0)
    assert [(r.stage, r.status) for r in cat.records()] == [("probe", "done")]
    cat.close()


def test_ffmpeg_enospc_is_not_blamed_on_the_input(tmp_path: Path) -> None:
    import av

    from anim400k.media.probe import open_input
    from anim400k.synth import make_episode

    ep = make_episode(tmp_path / "ep", duration=2.0, seed=3)
    with pytest.raises(DiskFull, match="disk full"), open_input(ep.media):
        raise av.error.OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out.mp3"))
    assert is_disk_full(OSError(errno.ENOSPC, "x")) and not is_disk_full(OSError(errno.ENOENT, "x"))


def test_lock_file_is_removed_when_the_block_ends(tmp_path: Path) -> None:
    """A finished (or failed, or interrupted) build leaves no .anim400k.lock behind."""
    from anim400k.fsutil.locks import LOCK_FILE

    with folder_lock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text() == str(os.getpid())
    assert not (tmp_path / LOCK_FILE).exists()
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), folder_lock(tmp_path):
            raise exc
        assert not (tmp_path / LOCK_FILE).exists()
    with folder_lock(tmp_path):  # refused while held, and the refusal does not remove the holder's file
        with pytest.raises(InputError, match="another build"), folder_lock(tmp_path):
            pass
        assert (tmp_path / LOCK_FILE).exists()
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_waiter_on_a_removed_lock_file_locks_the_new_one(tmp_path: Path) -> None:
    """If the holder removes the file after another process opened it, that one must not lock the orphan."""
    import fcntl

    from anim400k.fsutil.locks import LOCK_FILE

    path = tmp_path / LOCK_FILE
    path.write_text("1")
    orphan = os.open(path, os.O_RDWR)
    fcntl.flock(orphan, fcntl.LOCK_EX)  # a stand-in holder
    real_open = os.open
    calls = []

    def open_then_unlink(p: object, *args: object) -> int:
        fd = real_open(p, *args)
        if not calls:  # the holder finishes between our open and our flock: it removes its file
            calls.append(p)
            os.unlink(path)
            os.close(orphan)
        return fd

    from anim400k.fsutil import locks

    old = locks.os.open
    locks.os.open = open_then_unlink  # type: ignore[assignment]
    try:
        with folder_lock(tmp_path):
            locks.os.open = old  # type: ignore[assignment]
            assert path.exists() and path.read_text() == str(os.getpid())
            assert len(calls) == 1
    finally:
        locks.os.open = old  # type: ignore[assignment]
    assert not path.exists()


def test_a_lock_that_cannot_be_made_names_the_output_not_the_lock_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`export --out ro/E` on a read-only file system said `ro/.E.anim400k.lock: Read-only file system`,
    naming a hidden file the user never gave."""
    from anim400k.fsutil.locks import output_lock

    real = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).endswith(".anim400k.lock"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    out = tmp_path / "E"
    with pytest.raises(InputError) as err, output_lock(out, "export", noun="folder"):
        raise AssertionError("locked")
    assert str(err.value) == f"{out}: cannot be written: its folder {tmp_path} is on a read-only file system"
    with pytest.raises(InputError) as err, folder_lock(out):
        raise AssertionError("locked")
    assert str(err.value) == f"{out}: cannot be written: its folder {out} is on a read-only file system"


def test_an_output_folder_named_dot_is_locked_as_its_full_path(tmp_path: Path, monkeypatch) -> None:
    """``evaluate --out .`` (or ``export``/``tasks``) locked ``./..anim400k.lock`` inside the folder while ``--out
    $PWD`` locked ``.NAME.anim400k.lock`` beside it: two runs into the same folder, spelt two ways, both went on."""
    from anim400k.fsutil.locks import output_lock, output_lock_path

    out = tmp_path / "metrics"
    out.mkdir()
    monkeypatch.chdir(out)
    assert output_lock_path(".") == output_lock_path(out) == tmp_path / ".metrics.anim400k.lock"
    assert output_lock_path(Path("sub") / "..") == output_lock_path(out)
    with output_lock(out, "evaluate", noun="folder"), pytest.raises(InputError, match="another evaluate"), \
            output_lock(".", "evaluate", noun="folder"):
        raise AssertionError("both held the lock")
    assert not list(out.glob("*.lock"))  # nothing left inside the folder
