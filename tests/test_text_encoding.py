"""Text files with a byte-order mark (UTF-8, UTF-16, UTF-32): show metadata, manifests, MUSHRA CSVs.

Windows editors save "Unicode" (UTF-16 with a mark) and UTF-8 with a mark; these readers used to
refuse both (metadata, ratings CSVs) while subtitles decoded them. One table serves them all now.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.dataset.manifest import load_manifest
from anim400k.errors import InputError
from anim400k.evaluate.webmushra import RatingRow, ratings_csv, read_ratings_csv
from anim400k.formats.encoding import bom_encoding, decode_bom_text
from anim400k.release import metadata

#: Python codecs that write a byte-order mark (``utf-16`` writes the machine's order, LE here)
WITH_MARK = ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"]


def _encode(text: str, codec: str) -> bytes:
    """``text`` as ``codec`` with its byte-order mark (the plain BE codec writes none: added)."""
    return b"\xfe\xff" + text.encode(codec) if codec == "utf-16-be" else text.encode(codec)


def _save(path: Path, text: str, codec: str) -> Path:
    path.write_bytes(_encode(text, codec))
    return path


@pytest.mark.parametrize("codec", WITH_MARK)
def test_decode_by_the_mark_drops_it_and_unifies_line_ends(codec: str) -> None:
    raw = _encode("キャラ\r\nline\rend", codec)
    assert bom_encoding(raw) is not None
    assert decode_bom_text(raw, "x.txt") == "キャラ\nline\nend"


def test_no_mark_is_utf8_and_other_encodings_are_one_line(tmp_path: Path) -> None:
    assert bom_encoding(b"plain") is None and decode_bom_text("é".encode(), "x") == "é"
    with pytest.raises(InputError) as err:
        decode_bom_text("キャラ".encode("shift_jis"), tmp_path / "s.json", "save it as UTF-8")
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 's.json'}: not UTF-8 text (") and msg.endswith(": save it as UTF-8")
    assert "\n" not in msg


@pytest.mark.parametrize("codec", WITH_MARK)
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_show_metadata_with_a_mark_is_read(tmp_path: Path, codec: str, suffix: str, capsys) -> None:
    doc = {"key": "k", "show": "葬送のフリーレン", "episodes": {"2": {"url": "u"}}}
    text = json.dumps(doc, ensure_ascii=False) if suffix == ".json" else (
        "key: k\nshow: 葬送のフリーレン\nepisodes:\n  '2': {url: u}\n")
    path = _save(tmp_path / f"show{suffix}", text, codec)
    [show] = metadata.load_metadata(path)
    assert show.key == "k" and show.show_fields()["show"] == "葬送のフリーレン"
    out = tmp_path / f"norm-{codec}{suffix}.json"
    assert main(["metadata", str(path), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["k"]["show"] == "葬送のフリーレン"


def test_show_metadata_in_shift_jis_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "show.yaml"
    path.write_bytes("key: k\nshow: 葬送のフリーレン\n".encode("shift_jis"))
    assert main(["metadata", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"{path}: not UTF-8 text (" in err


@pytest.mark.parametrize("codec", WITH_MARK)
def test_manifest_with_a_mark_is_read(tmp_path: Path, codec: str) -> None:
    text = "shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: 第1話.mkv}\n"
    m = load_manifest(_save(tmp_path / "m.yaml", text, codec))
    assert m.episodes()[0].jp_media == str(tmp_path / "第1話.mkv")


def test_manifest_in_shift_jis_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes("shows:\n  - key: s\n    episodes:\n      - {episode: 1, media: 第1話.mkv}\n".encode("shift_jis"))
    with pytest.raises(InputError, match=r"m\.yaml: not UTF-8 text \(.*\): save the manifest as UTF-8$"):
        load_manifest(path)


@pytest.mark.parametrize("codec", WITH_MARK)
def test_mushra_ratings_csv_with_a_mark_is_read(tmp_path: Path, codec: str, capsys) -> None:
    rows = [RatingRow("x", "リスナー", f"trial{t}", c, v) for t in range(2)
            for c, v in (("reference", 100), ("anchor35", 10), ("sysA", 60))]
    path = _save(tmp_path / "mushra.csv", ratings_csv(rows).replace("\n", "\r\n"), codec)  # Excel's line ends
    assert read_ratings_csv(path) == rows


def test_mushra_ratings_csv_in_latin1_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "mushra.csv"
    path.write_bytes(ratings_csv([RatingRow("x", "José", "t0", "reference", 100)]).encode("latin-1"))
    with pytest.raises(InputError, match=r"mushra\.csv: not UTF-8 text \(.*\): save the ratings CSV as UTF-8$"):
        read_ratings_csv(path)


@pytest.mark.parametrize(("codec", "name", "iconv", "text"), [
    ("cp1252", "Windows-1252", "CP1252", "Café déjà vu, naïve!"),
    ("shift_jis", "Shift-JIS", "SHIFT_JIS", "みんな集まって！"),
    # Windows' Shift-JIS: the circled number is no strict Shift-JIS character (no hint was given)
    ("cp932", "Shift-JIS (Windows code page 932)", "CP932", "①みんな集まって！"),
    ("euc_jp", "EUC-JP", "EUC-JP", "みんな集まって！"),
    # kanji only, no kana: read as Windows-1252 (and its iconv advice made mojibake)
    ("shift_jis", "Shift-JIS", "SHIFT_JIS", "東京大学"),
    ("shift_jis", "Shift-JIS", "SHIFT_JIS", "okay, 東京?"),
    ("euc_jp", "EUC-JP", "EUC-JP", "大丈夫"),
])
def test_a_subtitle_file_in_a_legacy_encoding_is_one_line_naming_it(tmp_path: Path, codec, name, iconv, text) -> None:
    """An SRT saved as Windows-1252 (old English fansubs) or Shift-JIS was refused as 'not UTF-8 text (invalid
    start byte at byte 32)' alone: the line now says what the bytes read as and how to convert them; the text is
    still not decoded with a guess (Windows-1252 takes nearly any bytes: a wrong guess is silent mojibake)."""
    from anim400k.formats.subtitles import read_subtitles

    path = tmp_path / "ep01.en.srt"
    path.write_bytes(f"1\r\n00:00:01,000 --> 00:00:02,500\r\n{text}\r\n".encode(codec))
    with pytest.raises(InputError) as err:
        read_subtitles(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: not UTF-8 text (") and "\n" not in msg
    assert msg.endswith(f"): it reads as {name}: save it as UTF-8 (e.g. iconv -f {iconv} -t UTF-8 ep01.en.srt > "
                        "ep01.en.utf8.srt)")
    # bytes that no legacy encoding reads keep the plain message
    path.write_bytes(b"1\n00:00:01,000 --> 00:00:02,500\n\x81\x8d\x8f\x90\x9d\xff\n")
    with pytest.raises(InputError) as err:
        read_subtitles(path)
    assert str(err.value).endswith(")") and "reads as" not in str(err.value)


@pytest.mark.parametrize("text", [
    "I don’t know.",  # the curly apostrophe: 0x92, a Shift-JIS lead byte (read as 'I don稚 know.')
    "“Wait,” she said – “don’t go…”",
    "It’s Élève’s café.",
])
def test_english_windows_1252_subtitles_are_not_called_shift_jis(tmp_path: Path, text: str) -> None:
    """Windows-1252's curly quotes, dashes and ellipsis are Shift-JIS lead bytes, so English text with them also
    decodes as Shift-JIS (to kanji): the message said 'it reads as Shift-JIS' and gave 'iconv -f SHIFT_JIS',
    which turns the file into mojibake that then reads fine into the release. Kana tell Japanese apart."""
    from anim400k.formats.encoding import legacy_encoding
    from anim400k.formats.subtitles import read_subtitles

    data = f"1\r\n00:00:01,000 --> 00:00:02,500\r\n{text}\r\n".encode("cp1252")
    assert legacy_encoding(data) == ("Windows-1252", "CP1252")
    path = tmp_path / "ep01.en.srt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=r"it reads as Windows-1252: save it as UTF-8 \(e\.g\. iconv -f CP1252 "):
        read_subtitles(path)


@pytest.mark.parametrize("text", ["東京都に行きます。", "第一話　始まりの日", "カイト"])
def test_japanese_legacy_subtitles_with_kanji_still_read_as_japanese(text: str) -> None:
    from anim400k.formats.encoding import legacy_encoding

    data = f"1\n00:00:01,000 --> 00:00:02,500\n{text}\n".encode("shift_jis")
    assert legacy_encoding(data) == ("Shift-JIS", "SHIFT_JIS")
    assert legacy_encoding(f"1\n00:00:01,000 --> 00:00:02,500\n{text}\n".encode("euc_jp")) == ("EUC-JP", "EUC-JP")
