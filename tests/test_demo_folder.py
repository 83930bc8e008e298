"""``anim400k demo --out DIR`` never replaces a manifest or inputs it did not write (refused before writing)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from anim400k.cli import main
from anim400k.demo import DEMO_METADATA, DEMO_SHOW, check_demo_folder, is_demo_manifest
from anim400k.errors import InputError


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_users_manifest_is_refused_and_left_alone(tmp_path: Path, capsys) -> None:
    (tmp_path / "manifest.yaml").write_text("# MY OWN MANIFEST\nshows: []\n")
    before = _listing(tmp_path)
    assert main(["demo", "--out", str(tmp_path), "--episodes", "1", "--duration", "5", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "manifest.yaml that anim400k demo did not write" in err and str(tmp_path) in err
    assert len(err.strip().splitlines()) == 1
    assert _listing(tmp_path) == before  # nothing written, nothing replaced
    assert not (tmp_path / "inputs").exists()


def test_a_users_inputs_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "show.json").write_text('{"mine": 1}')
    with pytest.raises(InputError, match="inputs/ that anim400k demo did not write"):
        check_demo_folder(tmp_path)
    assert (tmp_path / "inputs" / "show.json").read_text() == '{"mine": 1}'


def test_a_foreign_release_is_refused_before_the_inputs_are_made(tmp_path: Path, capsys) -> None:
    (tmp_path / "anim400k_annotations.json").write_text("{}")
    assert main(["demo", "--out", str(tmp_path), "--episodes", "1", "--duration", "5", "--no-progress"]) == 2
    assert "that no build wrote here" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["anim400k_annotations.json"]


def test_new_empty_and_earlier_demo_folders_are_accepted(tmp_path: Path) -> None:
    check_demo_folder(tmp_path / "new")
    (tmp_path / "empty" / "inputs").mkdir(parents=True)
    check_demo_folder(tmp_path / "empty")
    earlier = tmp_path / "earlier"
    (earlier / "inputs" / "ep01").mkdir(parents=True)
    (earlier / "inputs" / "show.json").write_text("{}")
    manifest = {"shows": [{"key": DEMO_SHOW, "metadata": DEMO_METADATA,
                           "episodes": [{"episode": "1", "media": "inputs/ep01/episode.mkv"}]}]}
    (earlier / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    assert is_demo_manifest(earlier / "manifest.yaml")
    check_demo_folder(earlier)


@pytest.mark.parametrize("text", ["shows: [", "- a\n- b\n", "shows:\n- key: my_show\n  metadata: inputs/show.json\n",
                                  "shows:\n- key: synthetic_show_s1\n  metadata: meta/show.json\n"])
def test_other_manifests_are_not_the_demos(tmp_path: Path, text: str) -> None:
    (tmp_path / "manifest.yaml").write_text(text)
    assert not is_demo_manifest(tmp_path / "manifest.yaml")
    with pytest.raises(InputError):
        check_demo_folder(tmp_path)


def test_a_demo_killed_while_synthesizing_is_resumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """manifest.yaml is written last: a demo killed while making its episodes left inputs/ without one, and
    running the demo again into the folder goes on (it was refused as a folder the demo did not write)."""
    import anim400k.synth as synth
    from anim400k.demo import prepare_demo_inputs

    def killed(out_dir: Path, **_kwargs: object) -> None:
        Path(out_dir).mkdir(parents=True)
        (Path(out_dir) / "episode.mkv").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(synth, "make_episode", killed)
    with pytest.raises(KeyboardInterrupt):
        prepare_demo_inputs(tmp_path, episodes=1, duration=5)
    assert not (tmp_path / "manifest.yaml").exists() and (tmp_path / "inputs" / "ep01" / "episode.mkv").exists()
    check_demo_folder(tmp_path)  # the demo's own inputs: accepted


def test_an_out_that_is_a_file_is_named_as_such(tmp_path: Path, capsys) -> None:
    """`demo --out F` with F a file said `/abs/F/inputs: Not a directory`, a path the user never gave."""
    taken = tmp_path / "taken"
    taken.write_text("the user's file")
    for out, said in ((taken, "--out is a file: give a folder to write into"),
                      (taken / "x", f"--out cannot be written: {taken} (a part of its folder path) is a file")):
        assert main(["demo", "--out", str(out), "--episodes", "1", "--duration", "5", "--no-progress"]) == 2
        assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {out}: {said}"]
    assert taken.read_text() == "the user's file"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_a_rerun_keeps_the_episodes_it_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-run of the demo made every episode again: the same bytes with new times, so the build's score stage
    (keyed on the truth's stems by size and time) ran again each time. Kept now while its arguments, the version
    and all its files are the same; made again when one differs or a file is gone."""
    import json

    import anim400k.synth as synth
    from anim400k.demo import prepare_demo_inputs

    made: list[dict] = []

    def make(out_dir: Path, **kwargs: object) -> None:
        made.append(dict(kwargs))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("episode.mkv", "episode.en.srt", "backing.wav"):
            (out / name).write_bytes(b"x")
        (out / "truth.json").write_text(json.dumps({"stems": {"backing": "backing.wav"}}))

    monkeypatch.setattr(synth, "make_episode", make)
    monkeypatch.setattr(synth, "make_show_metadata", lambda *a, **k: {"show": "S"})
    prepare_demo_inputs(tmp_path, episodes=2, duration=5)
    assert len(made) == 2
    prepare_demo_inputs(tmp_path, episodes=2, duration=5)
    assert len(made) == 2  # both kept
    (tmp_path / "inputs" / "ep02" / "backing.wav").unlink()
    prepare_demo_inputs(tmp_path, episodes=2, duration=5)
    assert len(made) == 3 and made[-1]["seed"] == 1  # the one missing a stem made again
    prepare_demo_inputs(tmp_path, episodes=2, duration=6)
    assert len(made) == 5 and made[-1]["duration"] == 6  # other arguments: both made again
