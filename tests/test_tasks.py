"""Secondary-task views: show-level splits and per-task manifests."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from anim400k import tasks
from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.testing.release import annotations, make_release


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("rel"))


def test_assign_splits_is_seeded_disjoint_and_close_to_targets() -> None:
    weights = {f"show{i:03d}": float(1 + (i * 7) % 11) for i in range(150)}
    a = tasks.assign_splits(weights, seed=3)
    assert a == tasks.assign_splits(weights, seed=3)
    assert a != tasks.assign_splits(weights, seed=4)
    assert set(a) == set(weights)
    total = sum(weights.values())
    share = {s: sum(w for k, w in weights.items() if a[k] == s) / total for s in tasks.SPLITS}
    assert share["train"] == pytest.approx(0.8, abs=0.02)
    assert share["test"] == pytest.approx(0.1, abs=0.02)
    by_shows = tasks.assign_splits(dict.fromkeys(weights, 1.0), seed=3, proportions=(0.5, 0.5, 0.0))
    assert sorted(list(by_shows.values()).count(s) for s in ("train", "validation")) == [75, 75]
    assert "test" not in by_shows.values()


def test_a_few_shows_of_unequal_size_come_close_to_the_shares() -> None:
    """One order of a few unequal shows could hand the largest to test (a 60/10/30 split asked 80/10/10); the
    best of the seeded orders comes close wherever an assignment can."""
    weights = {"big": 300.0, "mid": 60.0, "a": 40.0, "b": 38.0, "c": 35.0, "d": 30.0, "e": 3.0}
    total = sum(weights.values())
    for seed in range(20):
        a = tasks.assign_splits(weights, seed=seed)
        assert a == tasks.assign_splits(weights, seed=seed) and set(a.values()) == set(tasks.SPLITS)
        share = {s: sum(w for k, w in weights.items() if a[k] == s) / total for s in tasks.SPLITS}
        assert share["train"] == pytest.approx(0.8, abs=0.03), (seed, share)
        assert share["test"] == pytest.approx(0.1, abs=0.03) and share["validation"] == pytest.approx(0.1, abs=0.03)


def test_parse_proportions_refuses_bad() -> None:
    assert tasks.parse_proportions("0.7,0.2,0.1") == (0.7, 0.2, 0.1)
    for bad in ("0.5,0.5", "0.5,0.6,0.1", "a,b,c", "-0.1,1.0,0.1", "nan,0.5,0.5", "inf,0,0"):  # NaN passed `v < 0`
        with pytest.raises(InputError):
            tasks.parse_proportions(bad)


def test_task_views(rel: Path, tmp_path: Path) -> None:
    out = tmp_path / "views"
    summary = tasks.write_task_views(rel, out, seed=0)
    splits = tasks.load_splits(out)
    assert splits == tasks.split_of(rel, seed=0)
    assert sorted(splits) == ["show_a", "show_b", "show_c"]
    assert sorted(splits.values()) == ["test", "train", "validation"]  # every wanted split gets a show
    rows = {t: [] for t in tasks.TASKS}
    for t in tasks.TASKS:
        for s in tasks.SPLITS:
            path = out / t / f"{s}.jsonl"
            assert path.is_file() == (summary["counts"][t][s] > 0)  # a split with no rows gets no file
            assert (s in summary["empty"].get(t, [])) == (not path.is_file())
            for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else ():
                row = json.loads(line)
                assert row["split"] == s == splits[row["show"]]  # no show crosses splits
                rows[t].append(row)
    assert len(rows["speech_translation"]) == len(rows["dubbing"]) == 6
    st = next(r for r in rows["speech_translation"] if r["show"] == "show_a" and r["clip_index"] == 0)
    assert st["target_text"] == "It is sunny. Let's go!" and Path(st["audio"]).is_file()
    dub = rows["dubbing"][0]
    assert (
        Path(dub["jp_audio"]).is_file()
        and Path(dub["en_audio"]).is_file()
        and dub["jp_audio"] != dub["en_audio"]
    )
    assert {r["synopsis"] for r in rows["teaser_summarization"]} == {
        "They meet at school today.",
        "A test begins.",
    }
    assert {r["show"]: r["genres"] for r in rows["genre_classification"]}["show_b"] == ["Action"]
    assert len(rows["character_identification"]) == 4
    assert all(Path(r["picture"]).is_file() for r in rows["character_identification"])
    assert sorted(r["mean_vote"] for r in rows["quality_prediction"]) == pytest.approx([3.0, 4.6])
    assert summary["counts"]["dubbing"][splits["show_a"]] == 3


def test_tasks_command(rel: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["tasks", str(rel), "--out", str(tmp_path / "v"), "--seed", "2", "--split", "1,0,0"]) == 0
    data = json.loads((tmp_path / "v" / "splits.json").read_text())
    assert data["splits"]["train"] == ["show_a", "show_b", "show_c"] and data["seed"] == 2
    assert main(["tasks", str(rel), "--out", str(tmp_path / "w"), "--split", "1,1"]) == 2
    assert "split proportions" in capsys.readouterr().err


@pytest.mark.parametrize(("alias", "canon"), [("valid", "validation"), ("VAL", "validation"), ("dev", "validation"),
                                              ("validation", "validation"), ("train", "train"), ("all", "all")])
def test_split_aliases_map_to_one_canonical_set(alias: str, canon: str) -> None:
    assert tasks.normalize_split(alias) == canon


def test_unknown_split_is_one_line() -> None:
    with pytest.raises(InputError, match="unknown split 'tset'"):
        tasks.normalize_split("tset")


def test_valid_and_validation_pick_the_same_clips(rel: Path) -> None:
    from anim400k.evaluate.dataset import load_clips

    a = [c.en_clip for c in load_clips(rel, "valid")]
    assert a and a == [c.en_clip for c in load_clips(rel, "validation")] == [c.en_clip for c in load_clips(rel, "val")]


@pytest.fixture(scope="module")
def one_show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = {"show_a": annotations()["show_a"]}
    return make_release(tmp_path_factory.mktemp("one"), data)


def test_missing_split_names_the_splits_the_release_has(one_show: Path, tmp_path: Path, capsys) -> None:
    from anim400k.dub.dataset_mode import dub_dataset
    from anim400k.evaluate.dataset import load_clips

    msg = "the release has no 'test' split (it has: train;"
    with pytest.raises(InputError, match=re.escape(msg)):
        load_clips(one_show, "test")
    with pytest.raises(InputError, match=re.escape(msg)):
        dub_dataset(one_show, tmp_path / "dub", split="test")
    assert not (tmp_path / "dub").exists()
    assert main(["mushra", "create", str(one_show), "--out", str(tmp_path / "m"), "--systems",
                 f"x={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.splitlines()) == 1
    assert "--split all takes every show" in err
    assert len(load_clips(one_show, "all")) == 3


def test_dub_dataset_accepts_all(one_show: Path, tmp_path: Path) -> None:
    from anim400k.dub.dataset_mode import dub_dataset
    from anim400k.dub.pipeline import DubOptions
    from anim400k.release import load
    from anim400k.tasks import normalize_split, require_split, split_of

    split = normalize_split("all")
    require_split(split_of(load(one_show)), split, one_show)  # accepted: a one-show release has no test split
    with pytest.raises(InputError, match="limit must be an integer >= 1"):  # --limit 0 dubbed nothing: refused
        dub_dataset(one_show, tmp_path / "dub", split="all", options=DubOptions(), limit=0)
    with pytest.raises(InputError, match="test"):  # the test split of a one-show release is empty
        dub_dataset(one_show, tmp_path / "dub", split="test", options=DubOptions(), limit=1)


def _rows(out: Path, task: str) -> list[dict]:
    return [json.loads(line) for s in tasks.SPLITS if (out / task / f"{s}.jsonl").is_file()
            for line in (out / task / f"{s}.jsonl").read_text(encoding="utf-8").splitlines()]


def test_tasks_paths_are_absolute_from_another_directory(rel: Path, tmp_path: Path, monkeypatch) -> None:
    import os

    monkeypatch.chdir(rel.parent)
    assert main(["tasks", rel.name, "--out", "v_abs"]) == 0
    monkeypatch.chdir(tmp_path)  # the manifests hold from anywhere
    out = rel.parent / "v_abs"
    paths = [r["audio"] for r in _rows(out, "speech_translation")]
    paths += [p for r in _rows(out, "dubbing") for p in (r["jp_audio"], r["en_audio"])]
    paths += [r["picture"] for r in _rows(out, "character_identification")]
    assert paths and all(os.path.isabs(p) and Path(p).is_file() for p in paths)
    assert json.loads((out / "splits.json").read_text())["dataset"] == str(rel.resolve())


def test_tasks_leave_out_rows_with_missing_media(tmp_path: Path, capsys) -> None:
    from anim400k.formats import ids

    data = annotations()
    root = make_release(tmp_path / "rel", data)
    clip = data["show_a"]["episodes"]["1"]["clips"][0]
    gone = ids.id_path(root, ids.AUDIO_ARCHIVE, clip["jp_clip"], "mp3")
    gone.unlink()
    pic = next(p for ch in data["show_a"]["characters"].values() for p in ch["pic_urls"])
    ids.id_path(root, ids.PICS_ARCHIVE, pic, "jpg").unlink()
    assert main(["tasks", str(root), "--out", str(tmp_path / "v")]) == 0
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "2 row(s) whose audio is missing (1 file(s), first " + str(gone.resolve()) in err
    assert "1 row(s) whose picture is missing" in err
    assert len(_rows(tmp_path / "v", "speech_translation")) == len(_rows(tmp_path / "v", "dubbing")) == 5
    assert len(_rows(tmp_path / "v", "character_identification")) == 3
    left = json.loads((tmp_path / "v" / "splits.json").read_text())["left_out"]
    assert left["missing_audio"]["rows"] == 2 and left["missing_picture"]["files"] == 1
    # annotations only: --no-media writes every row unchecked and says nothing
    assert main(["tasks", str(root), "--out", str(tmp_path / "w"), "--no-media"]) == 0
    assert capsys.readouterr().err == ""
    assert len(_rows(tmp_path / "w", "dubbing")) == 6


def test_speech_translation_leaves_out_clips_without_subtitles(tmp_path: Path, capsys) -> None:
    data = annotations()
    clip = data["show_b"]["episodes"]["1"]["clips"][0]
    clip["en_subtitles"] = []
    root = make_release(tmp_path / "rel", data)
    summary = tasks.write_task_views(root, tmp_path / "v")
    st = _rows(tmp_path / "v", "speech_translation")
    assert len(st) == 5 and all(r["target_text"] and r["subtitles"] for r in st)
    assert len(_rows(tmp_path / "v", "dubbing")) == 6  # dubbing's target is the EN audio
    assert summary["left_out"] == {"no_target_text": {"rows": 1, "files": 0, "first": clip["jp_clip"]}}
    assert "1 row(s) with no target text (first clip " in tasks.left_out_text(summary["left_out"])


def test_speech_translation_targets_are_the_spoken_text_of_sdh_subtitles(tmp_path: Path) -> None:
    """SDH subtitles kept their labels, sound descriptions and lyrics in the targets (a lyric-only clip's
    whole target was "♪ la la la ♪")."""
    data = annotations()
    clips = data["show_b"]["episodes"]["1"]["clips"]
    start, end = clips[0]["jp_start_time"], clips[0]["jp_end_time"]
    clips[0]["en_subtitles"] = [{"start": start, "end": end, "text": "HARUHI: Gather up! (sighs)"},
                                {"start": start, "end": end, "text": "[DOOR SLAMS] KYON (O.S.): Careful."}]
    start1, end1 = clips[1]["jp_start_time"], clips[1]["jp_end_time"]  # each clip's events overlap it
    clips[1]["en_subtitles"] = [{"start": start1, "end": end1, "text": "\u266a la la la \u266a"}]
    root = make_release(tmp_path / "rel", data)
    summary = tasks.write_task_views(root, tmp_path / "v")
    by_id = {r["id"]: r for r in _rows(tmp_path / "v", "speech_translation")}
    assert by_id[clips[0]["jp_clip"]]["target_text"] == "Gather up! Careful."
    assert by_id[clips[0]["jp_clip"]]["subtitles"][0]["text"] == "HARUHI: Gather up! (sighs)"  # as written
    assert clips[1]["jp_clip"] not in by_id  # nothing spoken: no row
    assert summary["left_out"]["no_target_text"]["first"] == clips[1]["jp_clip"]


@pytest.mark.parametrize("on_terminal", [True, False])
def test_tasks_shows_a_byte_bar_on_a_terminal_only(rel: Path, tmp_path: Path, monkeypatch, on_terminal: bool) -> None:
    import io
    import sys

    from tqdm import tqdm

    from anim400k.testing.terminal import FakeTerminal

    err = FakeTerminal() if on_terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["tasks", str(rel), "--out", str(tmp_path / "v")]) == 0
    shown = err.getvalue()
    if not on_terminal:
        assert shown == ""
        return
    size = (rel / "anim400k_annotations.json").stat().st_size
    assert "tasks" in shown and f"/{tqdm.format_sizeof(3 * size, divisor=1024)}" in shown  # three passes


def test_empty_splits_get_no_file_and_the_rest_loads_with_datasets(rel: Path, tmp_path: Path, capsys,
                                                                     monkeypatch) -> None:
    out = tmp_path / "v"
    (out / "teaser_summarization").mkdir(parents=True)
    stale = out / "teaser_summarization" / "train.jsonl"
    stale.write_text('{"old": 1}\n', encoding="utf-8")  # an earlier run's rows
    assert main(["tasks", str(rel), "--out", str(out), "--seed", "0"]) == 0
    said = capsys.readouterr().out
    summary = json.loads((out / "splits.json").read_text())
    data = json.loads((rel / "anim400k_annotations.json").read_text(encoding="utf-8"))
    with_synopses = {k for k, show in data.items() if any(ep.get("synopsis") for ep in show["episodes"].values())}
    splits = tasks.split_of(rel, seed=0)
    assert len({splits[k] for k in with_synopses}) == 1  # one split has teaser rows, two have none
    (having,) = {splits[k] for k in with_synopses}
    empty = [s for s in tasks.SPLITS if s != having]
    assert summary["empty"]["teaser_summarization"] == empty
    assert f"no rows, so no file, for: teaser_summarization ({', '.join(empty)});" in said
    assert not stale.exists() or having == "train"
    assert sorted(p.name for p in (out / "teaser_summarization").iterdir()) == [f"{having}.jsonl"]
    for task_dir in (out / t for t in tasks.TASKS):
        assert all(p.stat().st_size > 0 for p in task_dir.glob("*.jsonl"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    loaded = datasets.load_dataset("json", data_dir=str(out / "teaser_summarization"),
                                   cache_dir=str(tmp_path / "hf"))
    assert list(loaded) == [having] and loaded[having].num_rows == 2


@pytest.mark.parametrize("where", ["root", "inside", "other_release"])
def test_tasks_refuse_a_release_folder_as_out(rel: Path, tmp_path: Path, capsys, where: str) -> None:
    other = make_release(tmp_path / "other")
    out = {"root": rel, "inside": rel / "views", "other_release": other / "a" / "views"}[where]
    before = sorted(p.name for p in rel.iterdir())
    assert main(["tasks", str(rel), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "the release folder" in err and str(out) in err
    assert sorted(p.name for p in rel.iterdir()) == before and not (other / "a").exists()


def test_original_format_release_takes_en_text_as_the_translation_target(tmp_path: Path, capsys) -> None:
    data = annotations()
    for show in data.values():
        for ep in show["episodes"].values():
            for clip in ep["clips"]:
                del clip["en_subtitles"]  # the original Anim-400K format has no subtitles
    root = make_release(tmp_path / "rel", data)
    assert main(["tasks", str(root), "--out", str(tmp_path / "v")]) == 0
    said = capsys.readouterr().out
    st = _rows(tmp_path / "v", "speech_translation")
    en_text = {c["jp_clip"]: c["en_text"] for s in data.values() for e in s["episodes"].values() for c in e["clips"]}
    assert len(st) == 6 and all(r["target_text"] == en_text[r["id"]] and r["target_source"] == "en_text" for r in st)
    summary = json.loads((tmp_path / "v" / "splits.json").read_text())
    assert summary["target_sources"] == {"en_text": 6}
    assert "speech_translation: 6 of 6 target(s) are the clip's en_text" in said
    # our format: the subtitles are the target, and a clip with an empty list is still left out
    out = tmp_path / "w"
    summary = tasks.write_task_views(make_release(tmp_path / "ours"), out)
    assert summary["target_sources"] == {"en_subtitles": 6}
    assert {r["target_source"] for r in _rows(out, "speech_translation")} == {"en_subtitles"}


def test_a_killed_runs_leftovers_are_removed_by_the_next_run(rel: Path, tmp_path: Path) -> None:
    out = tmp_path / "views"
    (out / "dubbing").mkdir(parents=True)
    inside = [out / "dubbing" / ".train.anim400k-ab12cd_9.part.jsonl", out / ".splits.anim400k-zz99yy00.part.json"]
    for path in inside:  # a run killed while writing left these in the folder
        path.write_text('{"half": ', encoding="utf-8")
    partial = tmp_path / ".views.anim400k-partial-ab12cd_9"  # a run killed while writing its new folder
    (partial / "dubbing").mkdir(parents=True)
    (partial / "dubbing" / "train.jsonl").write_text('{"half": ', encoding="utf-8")
    other = tmp_path / ".other.anim400k-partial-ab12cd_9"  # another folder's: not ours to delete
    other.mkdir()
    tasks.write_task_views(rel, out, seed=0)
    assert not any(p.exists() for p in inside) and not partial.exists() and other.is_dir()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.anim400k-partial-ab12cd_9", "views"]


@pytest.mark.parametrize(("name", "named"), [
    ("dubbing/.notes.ab12cd_9.part.txt", None), ("dubbing/README.md", None), ("notes.txt", None),
    ("README.md", None),  # a user's card of that name is not the one tasks writes
    ("dubbing/.notes.anim400k-ab12cd_9.part.jsonl", None),  # marked, but no split's temporary
    ("dubbing/train.jsonl/x", "dubbing/train.jsonl"), ("unknown_task/train.jsonl", "unknown_task")])
def test_a_folder_holding_files_tasks_did_not_write_is_refused(rel: Path, tmp_path: Path, capsys,
                                                               name: str, named: str | None) -> None:
    """A run replaces its whole --out folder: a folder with anything else in it is refused, untouched."""
    out = tmp_path / "views"
    (out / name).parent.mkdir(parents=True)
    (out / name).write_text("keep me", encoding="utf-8")
    (out / "splits.json").write_text("{}", encoding="utf-8")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert main(["tasks", str(rel), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"--out holds '{named or name}', which anim400k tasks did not write" in err
    assert str(out) in err
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before
    assert (out / name).read_text(encoding="utf-8") == "keep me"


def test_a_symbolic_link_as_out_is_refused(rel: Path, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(InputError, match="--out is a symbolic link"):
        tasks.write_task_views(rel, tmp_path / "link")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"] and not any((tmp_path / "real").iterdir())


def test_a_second_run_into_the_same_folder_is_refused(rel: Path, tmp_path: Path, capsys) -> None:
    from anim400k.fsutil.locks import output_lock

    out = tmp_path / "views"
    tasks.write_task_views(rel, out, seed=0)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with output_lock(out, "tasks", noun="folder"):
        assert main(["tasks", str(rel), "--out", str(out), "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"another tasks (process {os.getpid()}) is writing this folder" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["views"]  # no staged folder, the lock file is gone


def test_an_earlier_versions_killed_run_leaves_a_folder_the_next_run_replaces(rel: Path, tmp_path: Path) -> None:
    """Versions before the anim400k- mark named their temporaries ``.train.XXXXXXXX.part.jsonl``: a folder such a
    run left when killed was refused ('--out holds ... which anim400k tasks did not write') after the upgrade,
    though the folder holds nothing but the command's own files; it is replaced as a whole, as before."""
    out = tmp_path / "views"
    (out / "dubbing").mkdir(parents=True)
    (out / "splits.json").write_text("{}", encoding="utf-8")
    left = [out / "dubbing" / ".train.ab12cd_9.part.jsonl", out / ".splits.zz99yy00.part.json"]
    for path in left:
        path.write_text('{"half": ', encoding="utf-8")
    tasks.check_tasks_folder(out)
    tasks.write_task_views(rel, out, seed=0)
    assert not any(p.exists() for p in left)
    assert [p.name for p in out.rglob(".*")] == []


def test_a_full_disk_names_the_outputs_not_their_hidden_files(rel: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A full disk named a file of ``tasks``' hidden staging folder (``.t.partial-XXXXXXXX/.../train.jsonl``) and
    ``stats --figures F``'s hidden mark (``F/.anim400k-figures``), leaving an empty ``F``: each names the folder
    given now, and ``F`` made by the run goes again."""
    import errno

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".t.anim400k-partial-x/a/train.jsonl"))

    monkeypatch.setattr(tasks, "_write_views", full)
    out = tmp_path / "t"
    assert main(["tasks", str(rel), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"anim400k: error: {out}: the disk is full: the task views could not be written (no space left "
                   "on device); free space there and run the same command again"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setattr("anim400k.fsutil.atomic.write_text_atomic", full)
    figures = tmp_path / "f"
    assert main(["stats", str(rel), "--figures", str(figures)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"anim400k: error: {figures}: the disk is full: --figures could not be written")
    assert not figures.exists()
