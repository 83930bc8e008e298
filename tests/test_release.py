"""The release format: streaming writer, reader (ours and original files), validator."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anim400k import model, release
from anim400k.errors import InputError
from anim400k.formats import ids
from anim400k.testing.release import annotations, make_release


@pytest.fixture(scope="module")
def rel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_release(tmp_path_factory.mktemp("rel"))


def _clip(i: int) -> model.Clip:
    return model.Clip(
        en_start=1.0 + i,
        en_end=2.5 + i,
        jp_start=0.5 + i,
        jp_end=2.0 + i,
        en_text="Hi.",
        jp_text="やあ。",
        en_subtitles=[model.Subtitle(0.5 + i, 1.25 + i, "Hello")],
        speakers=["s1"],
        multi_speaker=False,
        mixing_ratio=0.25,
        jp_clip=ids.clip_id("k", "1", "jp", i, i + 1),
        en_clip=ids.clip_id("k", "1", "en", i, i + 1),
    )


def test_clip_to_release_dict_formats_times_and_extras() -> None:
    d = release.clip_to_release_dict(_clip(0))
    assert list(d)[:9] == list(release.CLIP_FIELDS)
    assert d["jp_start_time"] == "00:00:00.500" and d["en_end_time"] == "00:00:02.500"
    assert d["en_subtitles"] == [{"start": "00:00:00.500", "end": "00:00:01.250", "text": "Hello"}]
    assert d["multi_speaker"] is False and d["mixing_ratio"] == 0.25
    assert "backing_clip" not in d  # unknown stays absent


def test_one_clip_type_round_trips_through_clips_json_and_the_release() -> None:
    """model.Clip is the build's clip (clips.json) and the reader's clip; times survive both codecs."""
    clip = _clip(3)
    clip.backing_clip = ids.clip_id("k", "1", "backing", 3, 4)
    assert model.Clip.from_dict(clip.to_dict()) == clip
    assert "show_key" not in clip.to_dict()  # a release location, not part of clips.json
    back = release.clip_from_release("k", "1", 7, release.clip_to_release_dict(clip))
    assert (back.show_key, back.episode, back.index, back.id) == ("k", "1", 7, clip.jp_clip)
    for name in ("jp_start", "jp_end", "en_start", "en_end", "jp_text", "en_text", "en_subtitles", "speakers",
                 "multi_speaker", "mixing_ratio", "jp_clip", "en_clip", "backing_clip"):
        assert getattr(back, name) == getattr(clip, name), name


def test_clip_durations_are_per_language() -> None:
    """With drift the EN clip is (1 + drift) times the JP clip: each language has its own duration."""
    tm = model.TimeMap(offset=2.0, drift=0.041)
    clip = model.Clip(en_start=tm.jp_to_en(10.0), en_end=tm.jp_to_en(20.0), jp_start=10.0, jp_end=20.0)
    assert clip.jp_duration == pytest.approx(10.0)
    assert clip.en_duration == pytest.approx(10.41)
    assert not hasattr(clip, "duration")  # no language-less length to misread


def test_format_timestamp_is_the_one_formatter() -> None:
    for seconds, text, back in [(0.0, "00:00:00.000", 0.0), (-3.0, "00:00:00.000", 0.0),
                                (61.2344, "00:01:01.234", 61.234), (3599.9996, "01:00:00.000", 3600.0),
                                (360000.5, "100:00:00.500", 360000.5)]:
        assert model.format_timestamp(seconds) == text
        assert release.timestamp_seconds(text) == pytest.approx(back, abs=1e-9)


def test_write_annotations_streams_deterministic_valid_json(tmp_path: Path) -> None:
    def shows():
        # fields given in a scrambled order come out in FORMAT.md order
        yield (
            "k",
            {"synopsis": "S", "show": "Name", "genres": ["A"], "zzz_extra": 1},
            iter(
                [
                    (
                        "1",
                        {"synopsis": "E", "url": "u"},
                        (release.clip_to_release_dict(_clip(i)) for i in range(3)),
                    )
                ]
            ),
        )
        yield "k2", {}, iter([])

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert release.write_annotations(a, shows()) == 3
    release.write_annotations(b, shows())
    assert a.read_bytes() == b.read_bytes()
    data = json.loads(a.read_text(encoding="utf-8"))
    assert list(data) == ["k", "k2"]
    # every FORMAT.md field in FORMAT.md order (unknown ones null/[]/{}), then others sorted, then episodes
    assert list(data["k"]) == [*release.SHOW_FIELDS][:-1] + ["zzz_extra", "episodes"]
    assert data["k"]["show"] == "Name" and data["k"]["genres"] == ["A"] and data["k"]["synopsis"] == "S"
    assert list(data["k"]["episodes"]["1"]) == list(release.EPISODE_FIELDS)
    assert data["k"]["episodes"]["1"]["url"] == "u" and data["k"]["episodes"]["1"]["ratings"] == {}
    assert data["k2"]["show"] is None and data["k2"]["themes"] == [] and data["k2"]["characters"] == {}
    assert data["k2"]["episodes"] == {}
    assert "やあ" in a.read_text(encoding="utf-8")  # ensure_ascii=False
    clips = list(release.load(a).clips())
    assert [c.jp_start for c in clips] == [0.5, 1.5, 2.5]
    assert clips[0].en_subtitles[0] == model.Subtitle(0.5, 1.25, "Hello")


def test_write_annotations_is_atomic(tmp_path: Path) -> None:
    def shows():
        def clips():
            yield release.clip_to_release_dict(_clip(0))
            raise RuntimeError("boom")

        yield "k", {}, iter([("1", {}, clips())])

    out = tmp_path / "ann.json"
    with pytest.raises(RuntimeError):
        release.write_annotations(out, shows())
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_load_gives_typed_records_and_media_paths(rel: Path) -> None:
    ds = release.load(rel)
    shows = list(ds.shows())
    assert [s.key for s in shows] == ["show_a", "show_b", "show_c"]
    a = shows[0]
    assert a.name == "Show A" and a.genres == ["Action", "Comedy", "Drama"]
    assert {c.name: c.role for c in a.characters} == {"Alice": "main", "Bob": "supporting"}
    ep = a.episodes["1"]
    assert ep.mean_vote == pytest.approx(4.6) and ep.voters == 10
    clip = ep.clips[1]
    assert clip.jp_duration == pytest.approx(4.0) and clip.is_multi_speaker and clip.speakers == ["s1", "s2"]
    assert ds.audio_path(clip.jp_clip).is_file()
    assert ds.audio_path(clip.jp_clip).suffix == ".mp3"
    assert ds.video_path(clip.jp_clip).parent.parent.name == ids.VIDEO_ARCHIVE
    assert sum(1 for _ in release.load(rel / ids.ANNOTATIONS_FILE).clips()) == 6


def test_load_original_format_without_extras(tmp_path: Path) -> None:
    data = annotations()
    for show in data.values():
        for ep in show["episodes"].values():
            for c in ep["clips"]:
                for k in release.CLIP_EXTRA_FIELDS:
                    c.pop(k, None)
    path = tmp_path / "orig.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    clips = list(release.load(path).clips())
    assert len(clips) == 6
    assert clips[0].multi_speaker is None and clips[0].en_subtitles == []
    assert [c.is_multi_speaker for c in clips] == [False, True, False, False, True, False]
    assert release.validate_release(path, check_media=False) == []


def test_load_refuses_missing_and_broken(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no anim400k_annotations.json"):
        release.load(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"k": {"episodes": {', encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        list(release.load(bad).shows())
    # where the file is broken: the text around it (a NaN, which Python's JSON writer writes, in a big file)
    nan = tmp_path / "nan.json"
    nan.write_text('{"k": {"show": "S", "score": NaN, "episodes": {}}}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        list(release.load(nan).shows())
    assert str(err.value) == (f"{nan}: not valid JSON: lexical error: invalid char in json text, "
                                 "near '{\"k\": {\"show\": \"S\", \"score\": NaN, \"episodes\": {}}}'")
    arr = tmp_path / "arr.json"
    arr.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="one JSON object"):
        list(release.load(arr).shows())
    # UTF-16 (a Windows editor's "Unicode"), with and without its BOM, was "must hold one JSON object keyed by show"
    for encoding in ("utf-16", "utf-16-le"):
        wide = tmp_path / f"{encoding}.json"
        wide.write_text('{"k": {"episodes": {}}}', encoding=encoding)
        with pytest.raises(InputError, match=r"not UTF-8 text \(it reads as UTF-16"):
            list(release.load(wide).shows())


def test_validate_release_names_each_problem(rel: Path, tmp_path: Path) -> None:
    assert release.validate_release(rel) == []
    data = copy.deepcopy(annotations())
    clips = data["show_a"]["episodes"]["1"]["clips"]
    del clips[0]["en_text"]  # missing
    clips[0]["surprise"] = 1  # unknown
    clips[1]["speakers"] = "s1"  # wrong type
    data["show_a"]["characters"]["Alice"]["role"] = 3
    data["show_b"]["episodes"]["1"]["clips"][0]["jp_clip"] = "not-an-id"
    data["show_c"]["episodes"]["1"]["clips"][0]["jp_clip"] = clips[1]["jp_clip"]  # duplicate
    data["show_c"]["episodes"]["1"]["clips"][0]["jp_end_time"] = "00:00:01.000"  # ends before start
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    problems = {str(p) for p in release.validate_release(path, check_media=False)}
    assert "show 'show_a' episode '1' clip 0 field 'en_text': missing field" in problems
    assert "show 'show_a' episode '1' clip 0 field 'surprise': unknown field" in problems
    assert (
        "show 'show_a' episode '1' clip 1 field 'speakers': expected a list of strings, got str" in problems
    )
    assert "show 'show_a' field 'characters.Alice.role': expected a string, got int" in problems
    assert any("clip 0 field 'jp_clip': malformed ID 'not-an-id'" in p for p in problems)
    assert any(
        p.startswith("show 'show_c' episode '1' clip 0 field 'jp_clip': duplicate clip ID") for p in problems
    )
    assert any("ends before it starts" in p for p in problems)
    assert len(problems) == 7


def test_validate_release_finds_missing_media(rel: Path, tmp_path: Path) -> None:
    import shutil

    copy_root = tmp_path / "r"
    shutil.copytree(rel, copy_root)
    clip = next(release.load(copy_root).clips())
    release.load(copy_root).audio_path(clip.en_clip).unlink()
    problems = release.validate_release(copy_root)
    assert len(problems) == 1
    assert problems[0].clip == 0 and problems[0].field == "en_clip" and "is missing" in problems[0].message


def test_validate_reads_the_start_of_each_character_picture(rel: Path, tmp_path: Path) -> None:
    """A picture .jpg that was a link to a text file (or any non-JPEG) passed validate."""
    import shutil

    from PIL import Image

    root = tmp_path / "r"
    shutil.copytree(rel, root)
    ann = root / "anim400k_annotations.json"
    data = json.loads(ann.read_text(encoding="utf-8"))
    show = next(iter(data))
    pic = ids.make_id(show, "pic", "Alice", 0)
    data[show]["characters"] = {"Alice": {"description": None, "role": None, "pic_urls": [pic], "Voice Actors": []}}
    ann.write_text(json.dumps(data), encoding="utf-8")
    picture = ids.id_path(root, ids.PICS_ARCHIVE, pic, "jpg")
    picture.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8)).save(picture, "JPEG")
    assert release.validate_release(root) == []
    picture.write_text("root:x:0:0:root:/root:/bin/bash\n")
    problems = [str(p) for p in release.validate_release(root)]
    assert len(problems) == 1 and f"picture file for {pic!r} does not start with a JPEG marker (damaged)" in problems[0]


def test_validate_refuses_negative_reversed_and_out_of_episode_times(tmp_path: Path) -> None:
    data = copy.deepcopy(annotations())
    data["show_a"]["avg_duration"] = "24 min. per ep."
    clips = data["show_a"]["episodes"]["1"]["clips"]
    clips[0]["jp_start_time"] = "-00:00:01.000"
    clips[1]["en_end_time"] = "99:00:00.000"  # 99 hours inside a 24-minute episode
    clips[1]["jp_start_time"] = "00:00:09.000"
    clips[1]["jp_end_time"] = "00:00:08.000"
    data["show_b"]["episodes"]["1"]["clips"][0]["en_start_time"] = "inf"
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    problems = {str(p) for p in release.validate_release(path, check_media=False)}
    assert "show 'show_a' episode '1' clip 0 field 'jp_start_time': negative time '-00:00:01.000'" in problems
    assert any(p.startswith("show 'show_a' episode '1' clip 1 field 'en_end_time': time 99:00:00.000 is past")
               for p in problems)
    assert any("clip 1 field 'jp_end_time': ends before it starts" in p for p in problems)
    assert any("field 'en_start_time': malformed timestamp 'inf'" in p for p in problems)
    assert len(problems) == 4
    # an average: a season's 90-minute premiere or 2-hour special passes (up to 8 times avg_duration);
    # without avg_duration there is no bound
    data["show_a"]["episodes"]["1"]["clips"] = [annotations()["show_a"]["episodes"]["1"]["clips"][0]]
    data["show_a"]["episodes"]["1"]["clips"][0]["en_end_time"] = "03:10:00.000"
    data["show_b"] = annotations()["show_b"]
    data["show_c"] = annotations()["show_c"]
    data["show_c"]["episodes"]["1"]["clips"][0]["en_end_time"] = "99:00:00.000"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert release.validate_release(path, check_media=False) == []


@pytest.mark.parametrize("text", ["-00:00:01.000", "inf", "nan", "1e3", "00:-1:00.000", "+5", ""])
def test_parse_timestamp_refuses_signs_and_non_digits(text: str) -> None:
    with pytest.raises(ValueError):
        model.parse_timestamp(text)


def test_parse_avg_duration() -> None:
    assert release.parse_avg_duration("24 min. per ep.") == 1440
    assert release.parse_avg_duration("1 hr. 55 min.") == 6900
    assert release.parse_avg_duration("Unknown") is None


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_fast_uuid5_is_the_standard_uuid5(name):
    import uuid

    assert ids.uuid5_str(name) == str(uuid.uuid5(ids.NAMESPACE, name))


def test_clip_ids_are_stable_across_versions():
    # a fixed value: a change here would rename every clip of every released dataset
    assert ids.clip_id("show", "1", "jp", 1.0, 2.5) == "a9/a90ef381-0cdb-5dc7-8f33-ea1c3035d541"


def test_is_id_accepts_exactly_what_parse_id_accepts() -> None:
    good = ids.make_id("show", "1", "pic")
    folder, uuid = ids.parse_id(good)
    assert ids.is_id(good) and ids.is_id(f"{uuid[0]}/{uuid}")  # a one-character folder: the UUID's first
    wrong = "00" if not uuid.startswith("00") else "ff"
    for bad in ("", uuid, f"{folder}{uuid}", f"zz/{uuid}", f"{wrong}/{uuid}", f"{folder}/{uuid}x", f"{good}/",
                good.upper()):
        assert not ids.is_id(bad), bad


def test_speaker_confidence_is_written_read_and_range_checked(tmp_path: Path) -> None:
    clip = _clip(0)
    clip.speaker_confidence = 0.75
    d = release.clip_to_release_dict(clip)
    assert d["speaker_confidence"] == 0.75
    assert "speaker_confidence" not in release.clip_to_release_dict(_clip(1))  # unknown stays absent
    assert release.clip_from_release("k", "1", 0, d).speaker_confidence == 0.75
    data = copy.deepcopy(annotations())
    clips = data["show_a"]["episodes"]["1"]["clips"]
    clips[0]["speaker_confidence"] = 0.4
    clips[1]["speaker_confidence"] = 1.5
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    problems = [str(p) for p in release.validate_release(path, check_media=False)]
    assert problems == ["show 'show_a' episode '1' clip 1 field 'speaker_confidence': "
                        "speaker_confidence 1.5 is outside 0..1"]


def test_validate_checks_en_subtitles_times_and_overlap(tmp_path: Path) -> None:
    # docs/format.md: en_subtitles are the EN subtitle events overlapping the clip, times HH:MM:SS.mmm;
    # their times were not checked at all (an SRT-style '0:00:07,000' or an event far from the clip passed)
    data = copy.deepcopy(annotations())
    clip = data["show_a"]["episodes"]["1"]["clips"][0]  # JP 00:00:10.000-00:00:12.000
    subs = clip["en_subtitles"]
    subs.append({"start": "0:00:10,500", "end": "00:00:11.000", "text": "a"})
    subs.append({"start": "00:00:11.500", "end": "00:00:11.000", "text": "b"})
    subs.append({"start": "00:10:00.000", "end": "00:10:01.000", "text": "c"})
    subs.append({"start": "00:00:09.200", "end": "00:00:10.000", "text": "touching the clip's start"})
    subs.append({"start": "00:00:12.000", "end": "00:00:13.000", "text": "touching its end"})
    where = "show 'show_a' episode '1' clip 0 field"
    assert _problems(_write(tmp_path, data)) == [
        f"{where} 'en_subtitles.1.start': malformed timestamp '0:00:10,500' (expected HH:MM:SS.mmm)",
        f"{where} 'en_subtitles.2.end': ends before it starts (00:00:11.500 > 00:00:11.000)",
        f"{where} 'en_subtitles.3': subtitle 00:10:00.000-00:10:01.000 does not overlap the clip's JP interval "
        "00:00:10.000-00:00:12.000 (en_subtitles are the EN subtitles overlapping the clip, in the JP timeline)",
    ]


def test_validate_refuses_mixing_ratio_outside_its_range(tmp_path: Path) -> None:
    # docs/format.md: mixing_ratio is in dB, clipped to ±60 dB; 999 (or a linear ratio of 1e4) passed before
    from anim400k.mixing import RATIO_LIMIT_DB
    from anim400k.release.schema import MIXING_RATIO_LIMIT_DB

    assert MIXING_RATIO_LIMIT_DB == RATIO_LIMIT_DB
    data = copy.deepcopy(annotations())
    clips = data["show_a"]["episodes"]["1"]["clips"]
    clips[0]["mixing_ratio"] = -60.0  # the limit itself is a value the computation gives
    clips[1]["mixing_ratio"] = 999.0
    assert _problems(_write(tmp_path, data)) == [
        "show 'show_a' episode '1' clip 1 field 'mixing_ratio': mixing_ratio 999.0 dB is outside ±60 dB "
        "(the range it is clipped to: a level in dB, not a linear ratio)"]


def test_validate_refuses_polls_that_are_no_percents_of_their_voters(tmp_path: Path) -> None:
    """FORMAT.md: a poll's ``ratio`` is the percent of voters, so the ratios add up to 100 (within rounding)
    and lie in 0..100; a poll of no votes (all 0) is fine. 132.4 in all passed as valid."""
    from anim400k.release.polls import poll_problems

    data = copy.deepcopy(annotations())
    ep = data["show_a"]["episodes"]["1"]
    ep["ratings"] = {"5": {"ratio": 90.0, "number_of_voters": 9.0}, "4": {"ratio": 42.4, "number_of_voters": 1.0}}
    assert _problems(_write(tmp_path, data)) == [
        "show 'show_a' episode '1' field 'ratings': the ratios add up to 132.4, not 100 (FORMAT.md: each ratio is a "
        "percent of the poll's voters)"]
    ep["ratings"] = {"5": {"ratio": 66.7, "number_of_voters": 2.0}, "4": {"ratio": 33.3, "number_of_voters": 1.0},
                     "1": {"ratio": 0.4, "number_of_voters": 0.0}}  # rounding: 100.4
    assert _problems(_write(tmp_path, data)) == []
    no_votes = {"5": {"ratio": 0.0, "number_of_voters": 0.0}, "1": {"ratio": 0.0, "number_of_voters": 0.0}}
    assert poll_problems(no_votes) == []
    assert poll_problems({"5": {"ratio": 0.0, "number_of_voters": 4.0}}) == [
        ("ratings", "the ratios add up to 0, not 100 (FORMAT.md: each ratio is a percent of the poll's voters)")]
    assert [f for f, _ in poll_problems({"5": {"ratio": 102.0, "number_of_voters": -2.0}})] == [
        "ratings.5.ratio", "ratings.5.number_of_voters", "ratings"]
    assert poll_problems({"5": {"ratio": "x", "number_of_voters": True}}) == []  # types: another problem


def _write(tmp_path: Path, data: object, name: str = "ann.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    return [str(p) for p in release.validate_release(path, check_media=False)]


def test_validate_requires_every_show_and_episode_field_and_accepts_null_for_unknown(tmp_path: Path) -> None:
    """Readers of the original format index show["show"], episode["url"]: the fields must be there."""
    data = copy.deepcopy(annotations())
    del data["show_a"]["show"], data["show_a"]["link"]
    del data["show_b"]["episodes"]["1"]["url"], data["show_b"]["episodes"]["1"]["ratings"]
    problems = _problems(_write(tmp_path, data))
    assert sorted(problems) == [
        "show 'show_a' field 'link': missing field",
        "show 'show_a' field 'show': missing field",
        "show 'show_b' episode '1' field 'ratings': missing field",
        "show 'show_b' episode '1' field 'url': missing field",
    ]
    # unknown metadata: null for strings and numbers (lists and objects are [] and {})
    data = copy.deepcopy(annotations())
    data["show_a"].update(show=None, score=None, rank=None, season=None)
    data["show_a"]["episodes"]["1"].update(url=None, synopsis=None)
    assert _problems(_write(tmp_path, data)) == []
    data["show_a"]["genres"] = None
    data["show_a"]["characters"] = None
    assert sorted(_problems(_write(tmp_path, data))) == [
        "show 'show_a' field 'characters': expected an object, got NoneType",
        "show 'show_a' field 'genres': expected a list of strings, got NoneType",
    ]


def test_write_annotations_writes_every_field_and_the_result_validates(tmp_path: Path) -> None:
    """A show without metadata (a manifest without `metadata:`) still has every FORMAT.md field."""
    path = tmp_path / "ann.json"
    release.write_annotations(path, [("k", {"show": "k"}, iter([("1", {}, iter([]))]))])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data["k"]) == set(release.SHOW_FIELDS) and set(data["k"]["episodes"]["1"]) == set(
        release.EPISODE_FIELDS)
    assert data["k"]["show"] == "k" and data["k"]["link"] is None and data["k"]["genres"] == []
    assert data["k"]["related_anime"] == {} and data["k"]["episode_num"] is None
    assert data["k"]["episodes"]["1"] == {"url": None, "ratings": {}, "jp_video_id": None, "en_video_id": None,
                                          "synopsis": None, "clips": []}
    assert _problems(path) == []
    show = next(release.load(path).shows())
    assert show.name == "k" and show.synopsis is None and show.episodes["1"].url is None


def test_characters_are_written_with_every_field_and_validate_requires_them(tmp_path: Path) -> None:
    """FORMAT.md's character is {description, role, pic_urls, "Voice Actors"}: unknown ones are null / []."""
    path = tmp_path / "ann.json"
    chars = {"Alice": {"Voice Actors": [], "description": None}, "Bob": {"role": "supporting"}}
    release.write_annotations(path, [("k", {"characters": chars}, iter([("1", {}, iter([]))]))])
    written = json.loads(path.read_text(encoding="utf-8"))["k"]["characters"]
    assert written == {
        "Alice": {"description": None, "role": None, "pic_urls": [], "Voice Actors": []},
        "Bob": {"description": None, "role": "supporting", "pic_urls": [], "Voice Actors": []},
    }
    assert all(list(c) == list(release.CHARACTER_FIELDS) for c in written.values())  # FORMAT.md order
    assert _problems(path) == []
    data = copy.deepcopy(annotations())
    del data["show_a"]["characters"]["Alice"]["pic_urls"], data["show_a"]["characters"]["Bob"]["description"]
    assert sorted(_problems(_write(tmp_path, data))) == [
        "show 'show_a' field 'characters.Alice.pic_urls': missing field",
        "show 'show_a' field 'characters.Bob.description': missing field",
    ]


def test_episode_marked_without_video_clips_needs_no_mp4(tmp_path: Path) -> None:
    """``"video_clips": false`` (an audio-only episode) exempts that episode's clips from the MP4 check of a
    release with an ``anim400k_video_clips`` folder; any other value is a wrong type and the check applies."""
    data = copy.deepcopy(annotations())
    data["show_a"]["episodes"]["1"]["video_clips"] = False
    root = make_release(tmp_path / "rel", copy.deepcopy(data))
    for show_key, show in data.items():
        for number, ep in show["episodes"].items():
            for c in ep["clips"] if (show_key, number) != ("show_a", "1") else []:
                path = ids.id_path(root, ids.VIDEO_ARCHIVE, c["jp_clip"], "mp4")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"\0\0\0\x18ftypmp42" + bytes(16))
    assert release.validate_release(root) == []
    data["show_a"]["episodes"]["1"]["video_clips"] = "no"
    (root / ids.ANNOTATIONS_FILE).write_text(json.dumps(data), encoding="utf-8")
    problems = [str(p) for p in release.validate_release(root)]
    assert problems[0] == "show 'show_a' episode '1' field 'video_clips': expected true or false, got str"
    assert len(problems) == 1 + len(data["show_a"]["episodes"]["1"]["clips"])
    assert all("video file" in p and "is missing" in p for p in problems[1:])


def test_validate_refuses_clips_out_of_time_order(tmp_path: Path) -> None:
    data = copy.deepcopy(annotations())
    clips = data["show_a"]["episodes"]["1"]["clips"]
    clips.reverse()
    assert _problems(_write(tmp_path, data)) == [
        "show 'show_a' episode '1' clip 1 field 'jp_start_time': clips out of time order: jp_start_time "
        "00:00:10.000 is before clip 0's 00:00:20.000 (FORMAT.md: the clips in time order)"]
    clips[1]["jp_start_time"] = clips[0]["jp_start_time"]  # equal starts are in order
    clips[1]["jp_end_time"] = clips[0]["jp_end_time"]
    # its subtitle moves with it (en_subtitles overlap the clip's JP interval)
    clips[1]["en_subtitles"][0].update(start=clips[0]["jp_start_time"], end=clips[0]["jp_end_time"])
    assert _problems(_write(tmp_path, data)) == []


@pytest.mark.parametrize(("text", "seconds"), [
    ("00:00:75.000", None), ("00:99:00.000", None), ("1:2:3.5", None), ("00:00:01.02x", None), ("０0:00:01.026", None),
    ("00:00:01", 1.0), ("00:00:01,000", 1.0), ("000:00:01.026", 1.026), ("00:00:01.0260", 1.026),
    ("0:00:01.026", 1.026), (" 00:00:01.000", 1.0), ("00:00:01.026\n", 1.026), ("0:00:01.026000", 1.026),
])
def test_validate_refuses_every_timestamp_but_hh_mm_ss_mmm(tmp_path: Path, text: str, seconds: float | None) -> None:
    """validate wants the one form a release writes; the reader reads other tools' renderings of a
    time whose meaning is plain (str(timedelta), a comma, no fraction) and gives NaN, never a wrong
    number of seconds, for the rest."""
    data = copy.deepcopy(annotations())
    data["show_c"]["episodes"]["1"]["clips"][0]["en_start_time"] = text
    path = _write(tmp_path, data)
    assert _problems(path) == [f"show 'show_c' episode '1' clip 0 field 'en_start_time': malformed timestamp "
                               f"{text!r} (expected HH:MM:SS.mmm)"]
    clip = release.load(path).show("show_c").episodes["1"].clips[0]
    if seconds is None:
        assert math.isnan(release.timestamp_seconds(text)) and math.isnan(clip.en_start)
    else:
        assert release.timestamp_seconds(text) == pytest.approx(seconds) == clip.en_start


def test_well_formed_timestamps_read_exactly() -> None:
    for text, seconds in (("00:00:00.000", 0.0), ("00:59:59.999", 3599.999), ("99:00:01.026", 356401.026),
                          ("100:00:00.500", 360000.5), ("1234:00:00.000", 4442400.0)):
        assert release.timestamp_seconds(text) == pytest.approx(seconds, abs=1e-9)


def test_validate_reports_keys_given_twice_in_one_object(tmp_path: Path) -> None:
    """JSON parsers keep the last of two equal keys: the first episode's clips would vanish unseen."""
    ep_head = '{"url": null, "ratings": {}, "jp_video_id": null, "en_video_id": null, "synopsis": null, "clips": ['
    first = json.dumps(annotations()["show_c"]["episodes"]["1"]["clips"][0])
    last = annotations()["show_a"]["episodes"]["2"]["clips"][0]
    last_twice = json.dumps(last)[:-1] + ', "en_text": "again"}'  # a clip object with en_text twice
    show = json.dumps({k: v for k, v in annotations()["show_c"].items() if k != "episodes"})[:-1]
    text = (f'{{"show_c": {show}, "episodes": {{"1": {ep_head}{first}]}}, "1": {ep_head}{last_twice}]}}}}}}}}')
    path = _write(tmp_path, text)
    assert _problems(path) == [
        "show 'show_c' episode '1': duplicate episode key: the show holds this episode twice "
        "(a reader keeps only the last, the first copy's clips are lost)",
        "show 'show_c' episode '1' clip 0 field 'en_text': duplicate key: the object holds this "
        "field twice (a reader keeps only the last)"]
    # `load` reads as any JSON reader does (the last copy); validation says what was lost
    assert [c.en_text for c in release.load(path).clips()] == ["again"]
    # a field twice in a show object
    path = _write(tmp_path, text.replace('{"show_c": {', '{"show_c": {"season": "x", ', 1))
    assert "show 'show_c' field 'season': duplicate key: the object holds this field twice " \
           "(a reader keeps only the last)" in _problems(path)


def test_validate_checks_roles_multi_speaker_and_episode_keys(tmp_path: Path) -> None:
    data = copy.deepcopy(annotations())
    data["show_a"]["characters"]["Bob"]["role"] = "villain"
    data["show_a"]["characters"]["Alice"]["role"] = "Main"  # MyAnimeList's spelling: a role all the same
    data["show_b"]["episodes"]["1"]["clips"][1]["multi_speaker"] = False  # 3 speakers
    data["show_a"]["episodes"]["2"]["clips"][0]["multi_speaker"] = True  # 1 speaker
    data["show_c"]["episodes"]["abc"] = data["show_c"]["episodes"].pop("1")
    data["show_a"]["episodes"]["02"] = data["show_a"]["episodes"].pop("2")
    data["show_a"]["episodes"]["001"] = copy.deepcopy(data["show_a"]["episodes"]["1"])
    data["show_a"]["episodes"]["001"]["clips"] = []
    assert sorted(_problems(_write(tmp_path, data))) == sorted([
        "show 'show_a' field 'characters.Bob.role': role 'villain' is not one of 'main', 'supporting'",
        "show 'show_b' episode '1' clip 1 field 'multi_speaker': multi_speaker is false but the clip lists 3 "
        "distinct speaker(s) (it must be true exactly when there are more than one)",
        "show 'show_a' episode '02' clip 0 field 'multi_speaker': multi_speaker is true but the clip lists 1 "
        "distinct speaker(s) (it must be true exactly when there are more than one)",
        "show 'show_c' episode 'abc': episode key is not an episode number (FORMAT.md: the episode number as a "
        "string, e.g. '1' or '12.5')",
        "show 'show_a' episode '001': the same episode number as episode '1'",
    ])
    data = copy.deepcopy(annotations())
    data["show_c"]["episodes"]["12.5"] = data["show_c"]["episodes"].pop("1")  # a recap between 12 and 13
    assert _problems(_write(tmp_path, data)) == []


def test_validate_counts_distinct_speakers_for_multi_speaker(tmp_path: Path) -> None:
    """``multi_speaker`` is checked against the distinct speaker IDs (as ``stats`` counts them); a repeated ID
    is not a problem of its own (FORMAT.md: the IDs heard in the clip)."""
    data = copy.deepcopy(annotations())
    clip = data["show_a"]["episodes"]["1"]["clips"][0]
    clip["speakers"], clip["multi_speaker"] = ["spk0", "spk0"], False
    assert _problems(_write(tmp_path, data)) == []
    clip["multi_speaker"] = True
    assert _problems(_write(tmp_path, data)) == [
        "show 'show_a' episode '1' clip 0 field 'multi_speaker': multi_speaker is true but the clip lists 1 "
        "distinct speaker(s) (it must be true exactly when there are more than one)"]


def test_bad_items_summary_lists_at_most_kinds_and_examples() -> None:
    from anim400k.release import BadItems, Problem

    bad = BadItems(Problem(f"odd thing {chr(97 + i % 26)}x'{i}'", show="s", episode="1", clip=i, field="jp_text")
                   for i in range(300))
    lines = bad.summary_lines()
    assert lines[0] == "300 problem(s) of 26 kind(s):" and "more of 6 other kind(s)" in lines[21]
    assert len(lines) == 1 + 20 + 1 + 1 + 5 and bad.clips and len(bad.clips) == 300


def test_timestamps_read_as_the_nearest_float_of_their_decimal() -> None:
    """A release timestamp reads as the float nearest its decimal value (one division), as ``float()`` of the
    decimal would: ``00:00:02.562`` is 2.562, not ``2 + 0.562`` = 2.5620000000000003."""
    from anim400k.release.codec import timestamp_seconds

    for h, m, s in ((0, 0, 2), (0, 12, 59), (1, 2, 3), (23, 59, 59)):
        for ms in range(0, 1000, 7):
            text = f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
            assert timestamp_seconds(text) == float(f"{h * 3600 + m * 60 + s}.{ms:03d}"), text
    assert timestamp_seconds("0:00:01.026000") == 1.026


def _point_at_another_file(data: dict, root: Path) -> None:
    """Clip 0 (2 s) names an MP3 that exists but holds 4 s: another clip's audio."""
    from anim400k.testing.release import write_mp3

    other = ids.make_id("another", "clip")
    write_mp3(ids.id_path(root, ids.AUDIO_ARCHIVE, other, "mp3"), 4.0)
    data["show_a"]["episodes"]["1"]["clips"][0]["jp_clip"] = other


def _folder_not_the_uuid(data: dict, root: Path) -> None:
    clip = data["show_a"]["episodes"]["1"]["clips"][0]
    clip["jp_clip"] = "ff/" + clip["jp_clip"].split("/")[1]


def _unlink_en_mp3(data: dict, root: Path) -> None:
    ids.id_path(root, ids.AUDIO_ARCHIVE, data["show_a"]["episodes"]["1"]["clips"][0]["en_clip"], "mp3").unlink()


def _set(field: str, value: object, clip: int = 0) -> object:
    def edit(data: dict, root: Path) -> None:
        data["show_a"]["episodes"]["1"]["clips"][clip][field] = value(data) if callable(value) else value

    return edit


def _same_uuid_other_folder(data: dict, root: Path) -> None:
    """show_b's clip 1 takes show_a's clip 0's JP UUID under a one-character folder (``7/7682...`` beside
    ``76/7682...``): two ID strings, one clip to webdataset and lhotse, whose keys are the UUID (an outside
    tester: the webdataset export was unreadable, lhotse's validator refused duplicated recording IDs)."""
    import shutil

    folder, uuid = data["show_a"]["episodes"]["1"]["clips"][0]["jp_clip"].split("/")
    other = f"{uuid[: 3 - len(folder)]}/{uuid}"
    data["show_b"]["episodes"]["1"]["clips"][1]["jp_clip"] = other
    src, dst = (ids.id_path(root, ids.AUDIO_ARCHIVE, v, "mp3") for v in (f"{folder}/{uuid}", other))
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)  # its file is there: the one problem is the UUID


def _duplicate_en_clip(data: dict, root: Path) -> None:
    """show_b's 1.5-s clip 1 takes the EN ID of show_a's 2-s clip 0 (lengths close enough to be one clip's)."""
    data["show_b"]["episodes"]["1"]["clips"][1]["en_clip"] = data["show_a"]["episodes"]["1"]["clips"][0]["en_clip"]


_EP1 = "show 'show_a' episode '1'"


@pytest.mark.parametrize(("edit", "line"), [
    (lambda data, root: data["show_a"]["episodes"]["1"]["clips"][0].pop("en_text"),
     f"{_EP1} clip 0 field 'en_text': missing field"),
    (_set("jp_start_time", 10.0), f"{_EP1} clip 0 field 'jp_start_time': expected a string, got float"),
    (_set("speakers", "s1"), f"{_EP1} clip 0 field 'speakers': expected a list of strings, got str"),
    (_folder_not_the_uuid, f"{_EP1} clip 0 field 'jp_clip': malformed ID 'ff/"),
    (_point_at_another_file, f"{_EP1} clip 0 field 'jp_clip': audio file "),
    (_unlink_en_mp3, f"{_EP1} clip 0 field 'en_clip': audio file "),
    (_set("jp_end_time", "00:00:09.000"), f"{_EP1} clip 0 field 'jp_end_time': ends before it starts"),
    (lambda data, root: data["show_a"]["episodes"]["1"]["clips"].reverse(),
     f"{_EP1} clip 1 field 'jp_start_time': clips out of time order"),
    (_duplicate_en_clip, "show 'show_b' episode '1' clip 1 field 'en_clip': duplicate clip ID"),
    (_same_uuid_other_folder, "show 'show_b' episode '1' clip 1 field 'jp_clip': duplicate clip ID"),
], ids=["missing field", "wrong type", "wrong type (list)", "ID folder", "ID of another file", "MP3 missing",
        "end before start", "out of order", "duplicate ID", "same UUID, other folder"])
def test_validate_command_names_each_break_in_one_line(tmp_path: Path, capsys, edit, line: str) -> None:
    """`anim400k validate` on a hand-broken release: the problem in one line naming the file, exit 1."""
    from anim400k.cli import main

    root = make_release(tmp_path / "r")
    assert main(["validate", str(root)]) == 0  # the release before the break is valid
    capsys.readouterr()
    data = json.loads((root / ids.ANNOTATIONS_FILE).read_text(encoding="utf-8"))
    edit(data, root)
    (root / ids.ANNOTATIONS_FILE).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["validate", str(root)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [out.strip()] and out.startswith(f"{root / ids.ANNOTATIONS_FILE}: {line}")
    assert err.splitlines()[-1] == "1 problem(s)"


def test_an_id_naming_another_clips_file_or_no_file_is_explained(tmp_path: Path) -> None:
    """An ID whose folder is not its UUID's start names no file; an MP3 far longer or shorter than its clip's
    times is another clip's audio (its Info tag's length; a release writes each clip to the sample)."""
    from anim400k.release.validate import MP3_LENGTH_SLACK_S, media_file_problem
    from anim400k.testing.release import write_mp3

    value = "ff/d1816721-99af-53dd-9441-9b70ac7415a3"
    problems = [p for p in release.validate.validate_show("k", {"episodes": {"1": {"clips": [{"jp_clip": value}]}}},
                                                          check_media=False) if p.field == "jp_clip"]
    assert [p.message for p in problems] == [
        f"malformed ID {value!r} (expected 'F/UUID'): its folder 'ff' is not the first 2 character(s) of its UUID "
        "('d1'), so it names no file of the release"]
    mp3 = tmp_path / "a.mp3"
    write_mp3(mp3, 3.0)
    assert media_file_problem(mp3, 3.0) is None and media_file_problem(mp3) is None
    assert media_file_problem(mp3, 3.0 + MP3_LENGTH_SLACK_S * 0.9) is None  # within the slack
    assert media_file_problem(mp3, 1.5) == ("holds 3.000 s of audio (its Info tag) but the clip's times span "
                                            "1.500 s: the ID names another clip's file")
    assert "the ID names another clip's file" in (media_file_problem(mp3, 8.0) or "")
    (tmp_path / "noinfo.mp3").write_bytes(mp3.read_bytes().replace(b"Info", b"Nope").replace(b"Xing", b"Nope"))
    assert media_file_problem(tmp_path / "noinfo.mp3", 8.0) is None  # no tag: the length is not checked


def test_float_fields_are_written_as_floats_and_validate_refuses_integers(tmp_path: Path) -> None:
    """FORMAT.md types score, a poll's ratio and number_of_voters float: `8` reads back as an int in Python
    (`isinstance(x, float)` fails in a reviewer's loader), so the writer writes `8.0` and validate names `8`."""
    clip = release.clip_to_release_dict(_clip(0))
    clip.update(mixing_ratio=3, speaker_confidence=1)
    path = tmp_path / "ann.json"
    release.write_annotations(path, [("k", {"show": "K", "score": 8}, iter([
        ("1", {"ratings": {"5": {"ratio": 100, "number_of_voters": 3}}}, iter([clip]))]))])
    text = path.read_text(encoding="utf-8")
    assert '"score":8.0' in text and '{"ratio":100.0,"number_of_voters":3.0}' in text
    data = json.loads(text)
    written = data["k"]["episodes"]["1"]
    values = [data["k"]["score"], *written["ratings"]["5"].values(),
              written["clips"][0]["mixing_ratio"], written["clips"][0]["speaker_confidence"]]
    assert values == [8.0, 100.0, 3.0, 3.0, 1.0] and all(type(v) is float for v in values)
    assert _problems(path) == []
    # the same release with integers where FORMAT.md says float, as a hand-made or other tool's file has them
    written["clips"][0]["mixing_ratio"] = 3
    data["k"]["score"] = 8
    written["ratings"]["5"]["number_of_voters"] = 3
    written["clips"][0]["speaker_confidence"] = 1  # the project's own extra field: FORMAT.md does not define it
    assert _problems(_write(tmp_path, data)) == [
        "show 'k' field 'score': expected a float (FORMAT.md types it float), got the integer 8: write 8.0, "
        "which JSON readers give back as a float",
        "show 'k' episode '1' field 'ratings.5.number_of_voters': expected a float (FORMAT.md types it float), "
        "got the integer 3: write 3.0, which JSON readers give back as a float",
        "show 'k' episode '1' clip 0 field 'mixing_ratio': expected a float (docs/format.md types this extra field "
        "float), got the integer 3: write 3.0, which JSON readers give back as a float",
        "show 'k' episode '1' clip 0 field 'speaker_confidence': expected a float (docs/format.md types this extra "
        "field float), got the integer 1: write 1.0, which JSON readers give back as a float",
    ]
    # the reader still takes them (as floats)
    assert next(release.load(tmp_path / "ann.json").clips()).mixing_ratio == 3.0


def test_validate_refuses_a_byte_order_mark(tmp_path: Path, capsys) -> None:
    """`json.loads` refuses a UTF-8 BOM (an editor's "UTF-8 with BOM"): validate said `valid`, since our reader
    skips it; it names it now (and the reader still reads the file)."""
    from anim400k.cli import main

    root = make_release(tmp_path / "r")
    path = root / ids.ANNOTATIONS_FILE
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with pytest.raises(json.JSONDecodeError):
        json.loads(path.read_text(encoding="utf-8"))
    line = ("the annotations file starts with a UTF-8 byte-order mark, which `json.loads` refuses (FORMAT.md "
            "readers load it as plain JSON): save it as UTF-8 without a BOM")
    assert _problems(path) == [line]
    assert main(["validate", str(root)]) == 1
    out, err = capsys.readouterr()
    assert out == f"{path}: {line}\n" and err.splitlines()[-1] == "1 problem(s)"
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    n_clips = sum(len(ep["clips"]) for show in data.values() for ep in show["episodes"].values())
    assert len(list(release.load(root).clips())) == n_clips > 0


def test_problem_kinds_keep_the_digits_of_words() -> None:
    """Problems are counted by kind with their numbers as N: the digits of MP3 and ID3 went too (``MPN frame``,
    ``an IDN tag``) in ``export --skip-bad``'s summary."""
    from anim400k.release.validate import Problem, problem_kind

    cut = Problem("audio file a/b.mp3 is cut short (200 bytes; its first MP3 frame ends at byte 417)", show="s",
                  episode="1", clip=3, field="jp_clip")
    assert problem_kind(cut) == ("clip jp_clip: audio file PATH is cut short (N bytes; its first MP3 frame ends at "
                                 "byte N)")
    tag = Problem("does not start with an ID3 tag or an MP3 frame", show="s", episode="1", clip=0, field="en_clip")
    assert problem_kind(tag) == "clip en_clip: does not start with an ID3 tag or an MP3 frame"
    pic = Problem("bad", show="s", field="characters.Bob.pic_urls.2")
    assert problem_kind(pic) == "show characters.*.pic_urls.N: bad"
    assert problem_kind(Problem("mixing_ratio 999.0 dB is outside ±60 dB", show="s", episode="2", clip=1,
                                field="mixing_ratio")) == "clip mixing_ratio: mixing_ratio N dB is outside ±N dB"


def test_a_json_object_of_no_shows_is_read_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``anim400k.load('inputs/show.json')`` (a show's metadata file) gave shows named 'related_anime',
    'characters', 'episodes' and 0 clips without a word (an outside tester, 2026-12-07)."""
    import logging

    meta = tmp_path / "show.json"
    meta.write_text(json.dumps({"show": "Title", "characters": {"a": {}}, "episodes": {"1": {}}}), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="anim400k"):
        ds = release.load(meta)
        assert [s.key for s in ds.shows()] == ["characters", "episodes"] and list(ds.clips()) == []
    said = [r.getMessage() for r in caplog.records]
    assert said == [f"{meta}: 'show' holds no \"episodes\": is this an Anim-400K annotations file? (`anim400k "
                    "validate` checks it)"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="anim400k"):
        assert len(list(release.load(make_release(tmp_path / "rel")).clips())) == 6
    assert caplog.records == []
