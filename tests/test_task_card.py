"""The dataset card of ``anim400k tasks``: every split of a task loads with one set of features."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anim400k import tasks
from anim400k.task_card import CARD_FILE, TaskFeatures, card_text, is_card
from anim400k.testing.release import make_release


def test_features_merge_empty_lists_nulls_and_numbers() -> None:
    f = TaskFeatures()
    f.add("t", {"id": "a", "l": [], "n": 1, "s": [], "x": None, "r": {"1": {"ratio": 5}}})
    f.add("t", {"id": "b", "l": ["p"], "n": 2.5, "s": [{"start": 1.0, "text": "hi"}], "x": None,
                "r": {"2": {"ratio": 1.5}}})
    assert f.yaml_features("t") == [
        {"name": "id", "dtype": "string"},
        {"name": "l", "list": "string"},
        {"name": "n", "dtype": "float64"},
        {"name": "s", "list": [{"name": "start", "dtype": "float64"}, {"name": "text", "dtype": "string"}]},
        {"name": "x", "dtype": "string"},
        {"name": "r", "struct": [{"name": "1", "struct": [{"name": "ratio", "dtype": "int64"}]},
                                 {"name": "2", "struct": [{"name": "ratio", "dtype": "float64"}]}]},
    ]
    f.add("t", {"id": ["not", "a", "string"]})  # kinds that do not mix: no features for the task
    assert f.yaml_features("t") is None
    text = card_text({"t": ["train"], "u": []}, f, "x")
    assert "config_name: t" in text and "config_name: u" not in text and "dataset_info: []" in text


def test_a_users_readme_is_not_a_card(tmp_path: Path) -> None:
    (tmp_path / CARD_FILE).write_text("# my notes\n", encoding="utf-8")
    assert not is_card(tmp_path / CARD_FILE)
    (tmp_path / CARD_FILE).write_text(card_text({"t": ["test"]}, TaskFeatures(), "x"), encoding="utf-8")
    assert is_card(tmp_path / CARD_FILE)


def test_every_split_loads_with_one_type_where_a_split_holds_only_empty_lists(tmp_path: Path) -> None:
    """A split whose rows all hold ``speakers: []`` was typed ``list<null>`` by ``datasets`` when read first,
    and the other splits' speaker names then failed to cast; the card types every split alike."""
    datasets = pytest.importorskip("datasets")  # the `export` extra; installed by setup.sh
    rel = make_release(tmp_path / "rel")
    ann = rel / "anim400k_annotations.json"
    data = json.loads(ann.read_text(encoding="utf-8"))
    splits = tasks.split_of(rel, seed=0)
    first = next(k for k, v in splits.items() if v == "train")
    for ep in data[first]["episodes"].values():
        for clip in ep["clips"]:
            clip["speakers"], clip["multi_speaker"] = [], False
    ann.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "views"
    tasks.write_task_views(rel, out, seed=0)
    assert is_card(out / CARD_FILE)
    with pytest.raises(Exception, match="(?i)cast|generat"):  # the plain JSON loader, train read first
        datasets.load_dataset("json", data_files={s: str(out / "dubbing" / f"{s}.jsonl") for s in tasks.SPLITS},
                              cache_dir=str(tmp_path / "cache0"))
    dub = datasets.load_dataset(str(out), "dubbing", cache_dir=str(tmp_path / "cache"))
    assert set(dub) == set(tasks.SPLITS)
    assert str(dub["train"].features["speakers"]) == str(dub["test"].features["speakers"])
    assert "string" in str(dub["train"].features["speakers"])
    assert all(r == [] for r in dub["train"]["speakers"]) and any(r for r in dub["test"]["speakers"])
    for task in ("speech_translation", "genre_classification", "quality_prediction", "teaser_summarization",
                 "character_identification"):
        loaded = datasets.load_dataset(str(out), task, cache_dir=str(tmp_path / f"cache-{task}"))
        assert sum(len(s) for s in loaded.values()) == sum(
            len((out / task / f"{s}.jsonl").read_text(encoding="utf-8").splitlines())
            for s in tasks.SPLITS if (out / task / f"{s}.jsonl").is_file())
    again = tasks.write_task_views(rel, out, seed=0)  # an earlier run's folder, card and all, is replaced
    assert again["counts"]["dubbing"]["train"] >= 1
