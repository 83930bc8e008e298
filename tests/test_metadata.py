"""Show/episode metadata: validation messages, absent fields, YAML, picture import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.formats import ids
from anim400k.release import SHOW_FIELDS, metadata

FULL = {
    "key": "frieren_s1",
    "show": "Frieren",
    "season": "Season 1",
    "link": "https://example.org/frieren",
    "type": "TV",
    "status": "Finished Airing",
    "genres": ["Adventure", "Drama"],
    "themes": ["Mythology"],
    "score": 9,
    "scored_by": 1000,
    "rank": 1,
    "popularity": 100,
    "members": 50000,
    "favorites": 4000,
    "episode_num": 28,
    "aired": "Sep 29, 2023 to Mar 22, 2024",
    "premiered": "Fall 2023",
    "broadcast": "Fridays at 23:00 (JST)",
    "producers": ["P"],
    "licensors": ["L"],
    "studios": ["Madhouse"],
    "source": "Manga",
    "avg_duration": "24 min. per ep.",
    "rating": "PG-13",
    "related_anime": {"Sequel": ["Frieren S2"]},
    "opening_themes": ["Yuusha"],
    "ending_themes": ["Anytime Anywhere"],
    "staff": ["Director X"],
    "background": "Based on a manga.",
    "synopsis": "An elf mage outlives her party.",
    "characters": {
        "Frieren": {
            "description": "An elf.",
            "role": "main",
            "pic_urls": [],
            "Voice Actors": ["Tanezaki"],
            "pic_files": ["pics/frieren.png"],
        },
        "Fern": {"role": "Main"},  # MyAnimeList's spelling, written as FORMAT.md's "main"
    },
    "episodes": {
        "1": {
            "url": "https://example.org/frieren/1",
            "synopsis": "The journey ends.",
            "ratings": {
                "5": {"ratio": 90.0, "number_of_voters": 900},
                "4": {"ratio": 10.0, "number_of_voters": 100},
            },
            "jp_video_id": "jp1",
            "en_video_id": "en1",
        }
    },
}


def _write(tmp: Path, data: object, name: str = "show.json") -> Path:
    p = tmp / name
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return p


def test_every_format_field_round_trips_and_absent_stays_absent(tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    Image.new("RGBA", (20, 30), (10, 200, 30, 255)).save(tmp_path / "pics" / "frieren.png")
    path = _write(tmp_path, FULL)
    show_fields, eps = metadata.load_show_metadata(path, "frieren_s1", tmp_path / "release")
    assert set(show_fields) == set(SHOW_FIELDS) - {"episodes"}
    assert list(show_fields) == [k for k in SHOW_FIELDS if k != "episodes"]  # FORMAT.md order
    assert show_fields["score"] == 9.0
    fern = show_fields["characters"]["Fern"]
    assert fern == {"role": "main"}  # description, pic_urls, Voice Actors absent, not null
    fr = show_fields["characters"]["Frieren"]
    assert "pic_files" not in fr and fr["Voice Actors"] == ["Tanezaki"]
    pic_id = ids.make_id("frieren_s1", "pic", "Frieren", 0)
    assert fr["pic_urls"] == [pic_id]
    with Image.open(ids.id_path(tmp_path / "release", ids.PICS_ARCHIVE, pic_id, "jpg")) as im:
        assert im.format == "JPEG" and im.mode == "RGB" and im.size == (20, 30)
    assert eps["1"]["ratings"]["5"] == {"ratio": 90.0, "number_of_voters": 900.0}
    assert list(eps["1"]) == ["url", "ratings", "jp_video_id", "en_video_id", "synopsis"]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"characters": {"Alice": {"role": 3}}}, "characters.Alice.role: expected a string"),
        ({"genres": "Action"}, "genres: expected a list"),
        ({"rank": 1.5}, "rank: expected an integer"),
        ({"score": "high"}, "score: expected a number"),
        ({"colour": "red"}, "colour: unknown field"),
        (
            {"episodes": {"1": {"ratings": {"6": {"ratio": 1.0, "number_of_voters": 1}}}}},
            "poll scores must be",
        ),
        (
            {"episodes": {"1": {"ratings": {"5": {"ratio": 1.0}}}}},
            "episodes.1.ratings.5.number_of_voters: missing",
        ),
        (  # FORMAT.md: ratio is the percent of voters; these add up to 132.4 (the mean vote was 5.6 of 5)
            {"episodes": {"1": {"ratings": {"5": {"ratio": 90.0, "number_of_voters": 9},
                                            "4": {"ratio": 42.4, "number_of_voters": 1}}}}},
            "episodes.1.ratings: the ratios add up to 132.4, not 100",
        ),
        (
            {"episodes": {"1": {"ratings": {"5": {"ratio": 103.0, "number_of_voters": 9},
                                            "4": {"ratio": -3.0, "number_of_voters": -1}}}}},
            "episodes.1.ratings: 5.ratio: 103 is no percent of voters (FORMAT.md: ratio is a percent, 0..100); "
            "4.ratio: -3 is no percent",
        ),
    ],
)
def test_wrong_types_name_file_and_field(tmp_path: Path, patch: dict, message: str) -> None:
    path = _write(tmp_path, {"show": "X"} | patch)
    with pytest.raises(InputError) as err:
        metadata.load_metadata(path)
    assert err.value.message.startswith(f"{path}: ")
    assert message in err.value.message


def test_yaml_and_several_shows(tmp_path: Path) -> None:
    p = tmp_path / "shows.yaml"
    p.write_text(
        "shows:\n  - key: a\n    show: A\n    episodes:\n      1: {synopsis: hi}\n"
        "  - key: b\n    genres: [X]\n"
    )
    shows = metadata.load_metadata(p)
    assert [s.key for s in shows] == ["a", "b"]
    assert shows[0].episode_fields() == {"1": {"synopsis": "hi"}}
    assert metadata.select_show(shows, "b", p).show_fields() == {"genres": ["X"]}
    with pytest.raises(InputError, match=r"no metadata for show 'c' \(it holds 'a', 'b'; `anim400k metadata` keys "
                                         "a show whose input names none by the input file's name"):
        metadata.select_show(shows, "c", p)
    p2 = _write(tmp_path, [{"show": "A"}, {"show": "B"}], "two.json")
    with pytest.raises(InputError, match="shows must give each one a 'key'"):
        metadata.load_metadata(p2)


def test_bad_picture_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"this is not an image")
    path = _write(tmp_path, {"characters": {"A": {"pic_files": ["bad.png"]}}})
    with pytest.raises(InputError, match=r"characters\.A\.pic_files\.0: .* is not a readable image"):
        metadata.load_show_metadata(path, "k", tmp_path / "rel")
    path = _write(tmp_path, {"characters": {"A": {"pic_files": ["gone.png"]}}})
    with pytest.raises(InputError, match="not found"):
        metadata.load_show_metadata(path, "k", tmp_path / "rel")
    assert not (tmp_path / "rel" / ids.PICS_ARCHIVE).exists() or not any((tmp_path / "rel").rglob("*.jpg"))


def test_metadata_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path, {"key": "k", "show": "K", "episodes": {"2": {"url": "u"}}})
    out = tmp_path / "norm.json"
    assert main(["metadata", str(path), "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == {"k": {"show": "K", "episodes": {"2": {"url": "u"}}}}
    bad = _write(tmp_path, {"rank": "first"}, "bad.json")
    assert main(["metadata", str(bad)]) == 2
    assert capsys.readouterr().err.strip().endswith("bad.json: rank: expected an integer")


def test_synthetic_generator_output_is_accepted(tmp_path: Path) -> None:
    synth_meta = pytest.importorskip("anim400k.synth.metadata")
    data = synth_meta.make_show_metadata("syn_s1", 3, seed=1, pic_dir=tmp_path / "pics")
    path = _write(tmp_path, data | {"key": "syn_s1"}, "syn.json")
    show_fields, eps = metadata.load_show_metadata(path, "syn_s1", tmp_path / "rel")
    assert set(eps) == {"1", "2", "3"}
    n_files = sum(len(c.get("pic_files", [])) for c in data["characters"].values())
    n_ids = sum(len(c["pic_urls"]) for c in show_fields["characters"].values())
    assert n_files == n_ids > 0
    assert len(list((tmp_path / "rel" / ids.PICS_ARCHIVE).rglob("*.jpg"))) == n_ids


def test_metadata_models_are_the_release_schema() -> None:
    """The input models declare no field of their own: names, aliases and order come from release.schema."""
    from anim400k.release import schema

    def names(model) -> list[str]:
        return [f.alias or name for name, f in model.model_fields.items()]

    assert names(metadata.ShowMetadata) == ["key", *schema.SHOW_FIELDS]
    assert names(metadata.EpisodeMetadata) == [k for k in schema.EPISODE_FIELDS if k != "clips"]
    assert names(metadata.CharacterMetadata) == [*schema.CHARACTER_FIELDS, "pic_files"]
    assert names(metadata.PollEntry) == list(schema.RATING_FIELDS)
    for name, kind in schema.SHOW_FIELDS.items():  # each field refuses a value of another type
        wrong = 1 if kind in ("str", "[str]", "object") else "x"
        with pytest.raises(InputError, match=name):
            metadata.parse_metadata({name: wrong})


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("show.yaml", "key: s\nshow: A\nshow: B\n", "key 'show' appears twice in one mapping (line 3)"),
        ("show.json", '{"key": "s", "show": "A", "show": "B"}', "key 'show' appears twice in one object"),
        ("show.json", '{"episodes": {"1": {"url": "a"}, "1": {"url": "b"}}}', "key '1' appears twice"),
        ("show.yaml", "episodes:\n  1: {url: a}\n  \"1\": {url: b}\n", "episodes.1: given twice in one mapping"),
        ("show.json", '{"episodes": {"1": {"url": "a"}, "01": {"url": "b"}}}',
         "episodes.01: the same episode as '1' (given twice)"),
        ("show.json", '{"episodes": {"abc": {}}}', "episodes.abc: not an episode number"),
        ("show.json", '{"characters": {"A": {"role": "villain"}}}',
         "characters.A.role: 'villain' is not 'main' or 'supporting'"),
    ],
)
def test_keys_given_twice_and_bad_values_are_refused(tmp_path: Path, name: str, text: str, message: str) -> None:
    """A plain loader keeps the last of two keys and drops the first without a word."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        metadata.load_metadata(path)
    assert err.value.message.startswith(f"{path}: ") and message in err.value.message
    assert "\n" not in err.value.message


def test_every_problem_is_listed_by_the_command_and_summed_up_for_the_build(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = _write(tmp_path, {"key": "s", "show": 5, "genres": "x", "themes": 3, "score": "high"}, "badmeta.json")
    with pytest.raises(metadata.MetadataError) as err:
        metadata.load_metadata(bad)
    assert err.value.message == (f"{bad}: show: expected a string (and 3 more problems: "
                                 f"`anim400k metadata {bad}` lists them all)")
    assert err.value.problems == ["show: expected a string", "genres: expected a list", "themes: expected a list",
                                  "score: expected a number"]
    assert main(["metadata", str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"anim400k: error: {bad}: {p}" for p in err.value.problems]


def test_non_finite_numbers_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """NaN/Infinity (Python's JSON, YAML .nan) were accepted and then crashed the release writer."""
    path = tmp_path / "nan.json"
    path.write_text('{"score": NaN, "episodes": {"1": {"ratings": {"5": {"ratio": Infinity, "number_of_voters": 3}}}}}')
    with pytest.raises(InputError, match=r"nan\.json: score: expected a finite number"):
        metadata.load_metadata(path)
    assert main(["metadata", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[1].endswith("episodes.1.ratings.5.ratio: expected a finite number "
                                             "(NaN and Infinity are not JSON numbers; write null for unknown)")
    yaml_path = tmp_path / "nan.yaml"
    yaml_path.write_text("score: .nan\n")
    with pytest.raises(InputError, match="score: expected a finite number"):
        metadata.load_metadata(yaml_path)


def test_pic_urls_must_be_picture_ids(tmp_path: Path) -> None:
    """Scraped picture URLs in pic_urls went into the release, which `anim400k validate` then refused."""
    url = "https://cdn.myanimelist.net/images/characters/7/525105.jpg"
    path = _write(tmp_path, {"characters": {"Frieren": {"pic_urls": [url]}}})
    with pytest.raises(InputError, match=r"characters\.Frieren\.pic_urls\.0: '" + url.replace(".", r"\.")
                       + r"' is no ID of the form 'F/UUID' \(FORMAT\.md\); give local picture files in 'pic_files'"):
        metadata.load_show_metadata(path, "k", tmp_path / "rel")
    good = ids.make_id("k", "pic", "Frieren", 0)
    path = _write(tmp_path, {"characters": {"Frieren": {"pic_urls": [good]}}}, "good.json")
    assert metadata.load_show_metadata(path, "k")[0]["characters"]["Frieren"]["pic_urls"] == [good]


def test_pic_files_must_be_local_files(tmp_path: Path) -> None:
    """A URL in pic_files is refused by name (it was read as a path, 'https:/cdn...', and reported missing),
    also without --release (nothing is downloaded)."""
    url = "https://cdn.myanimelist.net/images/characters/7/525105.jpg"
    path = _write(tmp_path, {"characters": {"Frieren": {"pic_files": [url]}}})
    with pytest.raises(InputError, match=r"characters\.Frieren\.pic_files\.0: '" + url.replace(".", r"\.")
                       + r"' is a URL: nothing is downloaded here"):
        metadata.load_show_metadata(path, "k")


def test_metadata_command_checks_picture_files_without_release(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`anim400k metadata FILE` said "ok" for a pic_files entry that does not exist unless --release was given."""
    path = _write(tmp_path, {"characters": {"Frieren": {"pic_files": ["pics/missing.png"]}}})
    assert main(["metadata", str(path)]) == 2
    err = capsys.readouterr().err
    assert "characters.Frieren.pic_files.0: picture file" in err and "missing.png" in err and "not found" in err
    (tmp_path / "pics" / "missing.png").mkdir(parents=True)  # a folder of that name: not "not found"
    assert main(["metadata", str(path)]) == 2
    assert "missing.png' is a folder, not a picture file" in capsys.readouterr().err
    (tmp_path / "pics" / "missing.png").rmdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "pics" / "missing.png")
    assert main(["metadata", str(path)]) == 0
    # the picture files are counted (it said '0 picture(s)' for a show with pictures to import)
    assert "0 picture(s), 1 picture file(s) to import with --release: ok" in capsys.readouterr().out


def test_a_picture_file_that_is_no_image_is_refused_before_any_work(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    """`anim400k metadata` said "ok" for a text file named .png, and a build ran every stage before refusing it:
    the picture is decoded when the metadata is checked, before a build's first stage."""
    from anim400k.release.metadata import check_pictures, load_metadata

    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "fake.png").write_text("notanimage")
    path = _write(tmp_path, {"characters": {"Frieren": {"role": "main", "pic_files": ["pics/fake.png"]}}})
    assert main(["metadata", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "characters.Frieren.pic_files.0:" in err[0] and "is not a readable image" in err[0]
    meta = load_metadata(path)[0]
    with pytest.raises(InputError, match="is not a readable image"):
        check_pictures(meta, "x", tmp_path, None, path)


def test_zero_padded_episode_numbers_are_decimal_in_yaml(tmp_path: Path) -> None:
    """PyYAML reads YAML 1.1, where ``010`` is octal 8: zero-padded episode keys put episode 10's metadata on
    episode 8, and ``008:`` beside ``010:`` was refused as the same episode. Integers are YAML 1.2's now."""
    from anim400k.strictload import yaml_load_unique

    path = tmp_path / "show.yaml"
    path.write_text("show: X\nepisodes:\n" + "".join(f"  {n:03d}: {{synopsis: ep {n:03d}}}\n" for n in range(1, 13)))
    meta = metadata.load_metadata(path)[0]
    eps = meta.episode_fields()
    assert eps["8"]["synopsis"] == "ep 008" and eps["10"]["synopsis"] == "ep 010" and len(eps) == 12
    assert yaml_load_unique("a: 010\nb: 0o17\nc: 0x1f\nd: 1:20\n") == {"a": 10, "b": 15, "c": 31, "d": "1:20"}


def test_two_files_giving_one_show_key_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``metadata a.yaml b.yaml --out o.json`` with one show key in both kept one show silently (one file giving
    the key twice was refused)."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("key: s1\nshow: A\n")
    b.write_text("key: s1\nshow: B\n")
    out = tmp_path / "o.json"
    assert main(["metadata", str(a), str(b), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"anim400k: error: {b}: show key 's1' is also the key of a show of {a}: give each show its "
                       "own key")
    assert not out.exists()


def test_the_normalised_output_is_metadata_input_again(tmp_path: Path) -> None:
    """``metadata --out``'s output (``{KEY: show}``) was refused as input (``KEY: unknown field``), by the build too."""
    path = _write(tmp_path, {k: v for k, v in FULL.items() if k != "characters"})  # (pictures: no files here)
    out = tmp_path / "n.json"
    assert main(["metadata", str(path), "--out", str(out)]) == 0
    again = tmp_path / "n2.json"
    assert main(["metadata", str(out), "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()
    shows = metadata.load_metadata(out)
    assert [s.key for s in shows] == list(json.loads(out.read_text()))



@pytest.mark.parametrize("stem", ["show", "episodes", "genres"])
def test_the_normalised_output_of_a_file_named_like_a_field_is_input_again(tmp_path: Path, stem: str) -> None:
    """A file without a ``key`` is keyed by its stem: ``show.json`` (the demo's name) gave ``{"show": {...}}``, which
    `metadata` and the build then read as one show whose ``show`` was an object ("show: expected a string")."""
    data = {k: v for k, v in FULL.items() if k not in ("characters", "key")}
    path = _write(tmp_path, data, f"{stem}.json")
    out = tmp_path / "n.json"
    assert main(["metadata", str(path), "--out", str(out)]) == 0
    assert list(json.loads(out.read_text())) == [stem]
    again = tmp_path / "n2.json"
    assert main(["metadata", str(out), "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()
    (show,) = metadata.load_metadata(out)
    assert show.key == stem and show.show == FULL["show"]


def test_a_decompression_bomb_picture_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A 110 KB PNG of 30000 x 30000 pixels was a DecompressionBombError traceback (metadata and build)."""
    Image.new("1", (13000, 13000)).save(tmp_path / "big.png")  # past the warning's limit: its raw warning printed
    big = _write(tmp_path, {"key": "s", "show": "S", "characters": {"A": {"pic_files": ["big.png"]}}}, "big.json")
    with pytest.raises(InputError, match=r"'.*big.png' is too large a picture \(Image size \(169000000 pixels\)"):
        metadata.check_pictures(metadata.load_metadata(big)[0], "s", tmp_path, None, big)
    Image.new("1", (30000, 30000)).save(tmp_path / "bomb.png")
    path = _write(tmp_path, {"key": "s", "show": "S", "characters": {"A": {"pic_files": ["bomb.png"]}}})
    assert main(["metadata", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "characters.A.pic_files.0: '" in err
    assert err.endswith("bomb.png' is too large a picture (Image size (900000000 pixels) exceeds limit of 178956970 "
                        "pixels)")
    assert "\n" not in err


def test_an_integer_past_64_bits_is_refused(tmp_path: Path) -> None:
    """`scored_by: 10**26` passed `metadata` and the build, and every reader of the release (validate, stats,
    export, anim400k.load) then failed with 'not valid JSON: parse error: integer overflow'."""
    path = _write(tmp_path, {"key": "s", "show": "S", "scored_by": 10**26})
    with pytest.raises(InputError, match=r"scored_by: 100000000000000000000000000 is too large an integer"):
        metadata.load_metadata(path)
    assert metadata.load_metadata(_write(tmp_path, {"key": "s", "show": "S", "scored_by": 2**63 - 1}))


def test_a_yaml_alias_bomb_and_deep_nesting_are_one_line(tmp_path: Path) -> None:
    """~400 bytes of YAML aliases (9 levels of 9) ran 90 s to a MemoryError at 2.8 GB; 20000 nested lists were a
    RecursionError traceback. The manifest's limits hold for show metadata and webMUSHRA configs too."""
    from anim400k.evaluate.webmushra import read_webmushra

    lines, prev = ["a: &a [x, x, x, x, x, x, x, x, x]"], "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
        prev = name
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join([*lines, "key: s", "show: *i", "pages: *i"]) + "\n")
    with pytest.raises(InputError, match="expands to more than 2,000,000 values .*too large to be show metadata"):
        metadata.load_metadata(bomb)
    with pytest.raises(InputError, match="too large to be a webMUSHRA config"):
        read_webmushra(bomb)
    deep = tmp_path / "deep.yaml"
    deep.write_text("key: s\nshow: " + "[" * 20000 + "]" * 20000 + "\n")
    with pytest.raises(InputError, match="YAML nested too deeply to be show metadata"):
        metadata.load_metadata(deep)
