"""RTTM read/write, malformed files, and pyannote.core Annotation conversion."""

from __future__ import annotations

import pytest

from anim400k.errors import InputError
from anim400k.formats.rttm import (
    annotation_to_turns,
    format_rttm,
    parse_rttm,
    read_rttm,
    turns_to_annotation,
    write_rttm,
)
from anim400k.model import Turn

TURNS = [Turn(0.5, 2.25, "spk0"), Turn(2.0, 3.5, "spk1"), Turn(4.125, 6.0, "spk0")]


def test_round_trip(tmp_path):
    path = write_rttm(tmp_path / "ep.rttm", TURNS)
    text = path.read_text()
    assert text.splitlines()[0] == "SPEAKER ep 1 0.500 1.750 <NA> <NA> spk0 <NA> <NA>"
    back = read_rttm(path)
    assert [(t.speaker, round(t.start, 3), round(t.end, 3)) for t in back] == [
        (t.speaker, t.start, t.end) for t in TURNS
    ]
    assert read_rttm(path, file_id="ep") == back
    assert not list(tmp_path.glob(".*part*"))  # atomic write left no temp file


def test_other_records_and_comments_are_skipped():
    text = ";; comment\nSPKR-INFO f 1 <NA> <NA> <NA> unknown spk0 <NA>\n\nSPEAKER f 1 1.0 0.5 <NA> <NA> A <NA>\n"
    assert parse_rttm(text) == {"f": [Turn(1.0, 1.5, "A")]}


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("SPEAKER f 1 abc 0.5 <NA> <NA> A <NA> <NA>", "line 2: start/duration are not numbers"),
        ("SPEAKER f 1 1.0", "line 2: SPEAKER record needs at least 8 fields"),
        ("SPEAKER f 1 -1.0 0.5 <NA> <NA> A <NA> <NA>", "line 2: negative"),
        ("hello world", "line 2: not an RTTM record"),
    ],
)
def test_malformed_rttm_names_file_and_line(tmp_path, line, needle):
    path = tmp_path / "bad.rttm"
    path.write_text("SPEAKER f 1 0.0 1.0 <NA> <NA> A <NA> <NA>\n" + line + "\n")
    with pytest.raises(InputError) as info:
        read_rttm(path)
    assert needle in info.value.message
    assert str(path) in info.value.message


def test_missing_file_and_unknown_file_id(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_rttm(tmp_path / "none.rttm")
    path = write_rttm(tmp_path / "a.rttm", TURNS)
    with pytest.raises(InputError, match="no turns for file id 'zzz'"):
        read_rttm(path, file_id="zzz")


def test_labels_with_spaces_are_refused():
    with pytest.raises(ValueError, match="whitespace"):
        format_rttm([Turn(0, 1, "two words")])


def test_annotation_conversion_round_trip():
    ann = turns_to_annotation(TURNS, uri="ep")
    assert ann.uri == "ep"
    assert sorted(ann.labels()) == ["spk0", "spk1"]
    assert abs(ann.label_duration("spk0") - (1.75 + 1.875)) < 1e-9
    assert annotation_to_turns(ann) == sorted(TURNS)


def test_confidence_column_round_trips(tmp_path):
    path = write_rttm(tmp_path / "c.rttm", [Turn(0.0, 1.0, "A", 0.8771), Turn(1.0, 2.0, "B")])
    assert path.read_text().splitlines()[0] == "SPEAKER c 1 0.000 1.000 <NA> <NA> A 0.877 <NA>"
    back = read_rttm(path)
    assert [t.confidence for t in back] == [0.877, None]
    # a confidence outside 0..1 or not a number is read as unknown
    odd = parse_rttm("SPEAKER f 1 0 1 <NA> <NA> A 7.5 <NA>\nSPEAKER f 1 1 1 <NA> <NA> A x <NA>\n")["f"]
    assert [t.confidence for t in odd] == [None, None]


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ("1e400 2.000", "line 1: invalid start '1e400' (times are seconds from 0 to 10000000)"),
        ("inf 2.000", "line 1: invalid start 'inf'"),
        ("nan 2.000", "line 1: invalid start 'nan'"),
        ("1e300 2.000", "line 1: invalid start '1e300'"),
        ("1.0 1e400", "line 1: invalid duration '1e400'"),
        ("1.0 nan", "line 1: invalid duration 'nan'"),
        ("9999999.0 2.0", "line 1: invalid duration '2.0': the turn ends after 10000000 s"),
        ("1.0 " + "9" * 5000, "line 1: invalid duration '9999999999999999999...'"),
        ("-inf 2.0", "line 1: invalid start '-inf'"),
        ("<NA> 2.0", "line 1: start/duration are not numbers: '<NA>' '2.0'"),
        ("1.0 two", "line 1: start/duration are not numbers: '1.0' 'two'"),
    ],
)
def test_times_that_are_not_finite_or_too_large_are_refused(tmp_path, fields, needle):
    """An infinite start once read as a turn at inf, and DER came out 0.0 % of 0.0 s."""
    path = tmp_path / "inf.rttm"
    path.write_text(f"SPEAKER two_tagged 1 {fields} <NA> <NA> spk0 <NA> <NA>\n")
    with pytest.raises(InputError) as info:
        read_rttm(path)
    assert info.value.message.startswith(f"{path}: {needle}")
    assert len(info.value.message) < 200


def test_largest_time_is_read():
    assert parse_rttm("SPEAKER f 1 9999998.0 2.0 <NA> <NA> A <NA> <NA>") == {"f": [Turn(9999998.0, 1e7, "A")]}


MULTI = "SPEAKER a 1 0.5 2 <NA> <NA> s1 <NA> <NA>\nSPEAKER b 1 0.5 2 <NA> <NA> s2 <NA> <NA>\n"


def test_reference_with_several_file_ids_uses_the_media_s_one(tmp_path):
    from anim400k.diarize.run import load_reference

    path = tmp_path / "multi.rttm"
    path.write_text(MULTI)
    assert load_reference(path, file_id="b") == [Turn(0.5, 2.5, "s2")]
    for file_id in ("x", None):
        with pytest.raises(InputError) as info:
            load_reference(path, file_id=file_id)
        assert info.value.message.startswith(f"{path}: holds turns of 2 recordings (file ids a, b); ")
    # one file id: its turns, whatever the media is called (as before)
    single = tmp_path / "one.rttm"
    single.write_text(MULTI.splitlines()[0] + "\n")
    assert load_reference(single, file_id="x") == [Turn(0.5, 2.5, "s1")]
    empty = tmp_path / "empty.rttm"
    empty.write_text(";; nothing\n")
    assert load_reference(empty, file_id="x") == []


def test_diarize_command_refuses_a_reference_of_other_recordings(tmp_path, capsys):
    """Before, both recordings' turns were overlaid as one reference."""
    from anim400k.cli import main

    media = tmp_path / "ep 01.wav"
    media.write_bytes(b"not read: the reference is checked first")
    ref = tmp_path / "multi.rttm"
    ref.write_text(MULTI)
    out = tmp_path / "d.rttm"
    assert main(["diarize", str(media), "--reference", str(ref), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"anim400k: error: {ref}: holds turns of 2 recordings (file ids a, b); none is the media's name "
        "'ep_01': give its file id with --uri (anim400k diarize), or keep only this recording's SPEAKER lines"
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("value", "needle"),
    [("1e400", "jp_start inf"), ("NaN", "jp_start nan"), ("2e7", "jp_start 2e+07")],
)
def test_truth_json_times_must_be_valid(tmp_path, value, needle):
    from anim400k.diarize.run import load_reference

    path = tmp_path / "truth.json"
    path.write_text('{"lines": [{"speaker": "A", "jp_start": 0, "jp_end": 1}, '
                    f'{{"speaker": "A", "jp_start": {value}, "jp_end": 3e7}}]}}')
    with pytest.raises(InputError) as info:
        load_reference(path)
    assert info.value.message.startswith(f"{path}: lines[1]: {needle} / jp_end 3e+07 are not times")


def test_rttm_file_id_has_no_whitespace_of_any_kind() -> None:
    """A show key or a Japanese file name with a full-width space or a tab (the build's file id was
    `key.replace('/', '_')`, the CLI's `stem.replace(' ', '_')`: both failed on these)."""
    from anim400k.formats.rttm import format_rttm, rttm_file_id

    assert rttm_file_id("my show/1") == "my_show_1"
    assert rttm_file_id("第1話\u3000始まり") == "第1話_始まり"
    assert rttm_file_id("a\tb") == "a_b" and rttm_file_id("") == "audio"
    text = format_rttm([Turn(0.0, 1.0, "spk0")], rttm_file_id("第1話\u3000始まり"))
    assert text.split()[1] == "第1話_始まり"


def test_rttm_times_are_rounded_before_the_duration_is_taken() -> None:
    """Start and end rounded to the millisecond first: no zero durations, the end kept to the ms."""
    from anim400k.formats.rttm import format_rttm

    lines = format_rttm([Turn(1.0001, 1.0004, "a"), Turn(3.0004, 3.0016, "c")], "x").splitlines()
    assert lines == ["SPEAKER x 1 3.000 0.002 <NA> <NA> c <NA> <NA>"]


def test_write_rttm_names_the_file_by_its_stem_as_diarize_does(tmp_path) -> None:
    """The default file id was the name up to its first dot (``ep.v2.rttm`` -> ``ep``) and a name with a space was
    refused; it is the stem as an RTTM file id, as ``anim400k diarize`` names it."""
    from anim400k.formats.rttm import read_rttm, write_rttm
    from anim400k.model import Turn

    for name, fid in (("ep.v2.rttm", "ep.v2"), ("my ep.rttm", "my_ep"), ("jp.rttm", "jp")):
        path = write_rttm(tmp_path / name, [Turn(0.0, 1.0, "A")])
        assert path.read_text().split()[1] == fid
        assert [t.speaker for t in read_rttm(path)] == ["A"]
