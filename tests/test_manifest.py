"""Manifest loading and validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anim400k.dataset.manifest import load_manifest
from anim400k.errors import InputError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_manifest_resolves_relative_paths(tmp_path: Path) -> None:
    m = load_manifest(write(tmp_path / "m.yaml", """
shows:
  - key: show_a
    metadata: meta/show.json
    episodes:
      - episode: 1
        media: media/ep1.mkv
        subtitles: subs/ep1.srt
      - episode: "2"
        jp_media: ep2.ja.mkv
        en_media: /abs/ep2.en.mka
        en_stream: 1
        subtitle_stream: eng
        transcripts: {en: ep2.aws.json}
"""))
    eps = m.episodes()
    assert [e.key for e in eps] == ["show_a/1", "show_a/2"]
    assert eps[0].jp_media == eps[0].en_media == str(tmp_path / "media" / "ep1.mkv")
    assert eps[0].subtitles == str(tmp_path / "subs" / "ep1.srt")
    assert eps[1].en_media == "/abs/ep2.en.mka"
    assert eps[1].en_stream == 1 and eps[1].subtitle_stream == "eng"
    assert eps[1].transcripts == {"en": str(tmp_path / "ep2.aws.json")}


def test_json_manifest(tmp_path: Path) -> None:
    data = {"shows": [{"key": "s", "episodes": [{"episode": "1", "media": "a.mkv"}]}]}
    m = load_manifest(write(tmp_path / "m.json", json.dumps(data)))
    assert m.episodes()[0].jp_stream == "jpn"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("shows: [", "not valid YAML"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 12.5, media: a.mkv}\n",
         "quote it (episode: '12.5')"),
        ("shows:\n  - key: s\n    episodes: [\n      {episode: 1, media: a.mkv}\n    - x\n",
         "(line 5, column 5)"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv, subtitels: a.srt}\n",
         "subtitels: Extra inputs are not permitted (did you mean 'subtitles'?)"),
        ("- just a list", "mapping"),
        ("shows: []", "shows"),
        ("shows:\n  - key: s\n    episodes:\n      - episode: 1\n", "media"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv, jp_media: b.mkv}\n", "not both"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv, colour: red}\n", "colour"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv, transcripts: {fr: x.json}}\n",
         "fr"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv}\n      - {episode: 1, media: b.mkv}\n",
         "twice"),
        # an empty path was an AssertionError traceback (or the manifest's folder taken for the medium); YAML's
        # true was taken for stream 1
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: ''}\n", "media: is empty"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, jp_media: '', en_media: b.mkv}\n",
         "jp_media: is empty"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv, transcripts: {en: ' '}}\n",
         "transcripts: is empty"),
        ("shows:\n  - key: s\n    metadata: ''\n    episodes:\n      - {episode: 1, media: a.mkv}\n",
         "metadata: is empty"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv, jp_stream: true}\n",
         "jp_stream: must be a stream index (0, 1, ...) or a language tag ('jpn', 'eng'), not True"),
        ("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: a.mkv, en_stream: 1.5}\n",
         "en_stream: must be a stream index"),
        # a name no filesystem holds: the episode failed in probe, and the build at its end with no release
        (f"shows:\n  - key: {'k' * 256}\n    episodes:\n      - {{episode: 1, media: a.mkv}}\n",
         "is 256 bytes long in UTF-8: a folder name holds at most 255"),
        (f"shows:\n  - key: s\n    episodes:\n      - {{episode: {'あ' * 86}, media: a.mkv}}\n",
         "is 258 bytes long"),
    ],
)
def test_bad_manifests_name_the_file_and_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(InputError) as err:
        load_manifest(path)
    assert str(path) in err.value.message
    assert needle in err.value.message
    assert "\n" not in err.value.message


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_manifest(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("m.yaml",
         "shows:\n  - key: s\n    episodes:\n      - episode: 1\n        media: a.mkv\n        media: b.mkv\n",
         "key 'media' appears twice in one mapping (line 6)"),
        ("m.yaml", "shows:\n  - key: s\n    key: t\n    episodes:\n      - {episode: 1, media: a.mkv}\n",
         "key 'key' appears twice"),
        ("m.json", '{"shows": [{"key": "s", "episodes": [{"episode": "1", "media": "a.mkv", "media": "b.mkv"}]}]}',
         "key 'media' appears twice in one object"),
        ("m.yaml", "shows:\n  - key: s\n    episodes:\n      - {episode: '1', media: a.mkv}\n"
                   "      - {episode: '01', media: b.mkv}\n",
         "shows[0].episodes[1]: episode s/01 is listed twice (as '1')"),
        ("m.yaml", "shows:\n  - key: s\n    episodes:\n      - {episode: abc, media: a.mkv}\n",
         "episode 'abc' is not an episode number"),
    ],
)
def test_keys_and_episodes_given_twice_are_refused(tmp_path: Path, name: str, text: str, needle: str) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(InputError) as err:
        load_manifest(path)
    assert str(path) in err.value.message and needle in err.value.message
    assert "\n" not in err.value.message


def test_yaml_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    m = load_manifest(write(tmp_path / "m.yaml", """
shows:
  - key: s
    episodes:
      - &first {episode: 1, media: a.mkv, en_stream: 1}
      - {<<: *first, episode: 2, media: b.mkv}
"""))
    assert [(e.episode, e.media, e.en_stream) for e in m.shows[0].episodes] == [("1", "a.mkv", 1), ("2", "b.mkv", 1)]


def test_zero_padded_episode_numbers_in_a_yaml_manifest_are_decimal(tmp_path: Path) -> None:
    """``episode: 010`` was octal 8 (PyYAML's YAML 1.1): episode 10 built as episode 8."""
    from anim400k.dataset.manifest import load_manifest

    media = tmp_path / "ep.mkv"
    media.write_bytes(b"x")
    path = tmp_path / "m.yaml"
    path.write_text(f"shows:\n  - key: s\n    episodes:\n      - episode: 010\n        media: {media}\n"
                    f"      - episode: 008\n        media: {media}\n")
    assert [e.episode for e in load_manifest(path).episodes()] == ["10", "8"]
