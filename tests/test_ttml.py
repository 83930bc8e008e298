"""TTML/DFXP read as TTML 1 times it (``formats.ttml``): an outside tester's files that pysubs2 misread."""

from __future__ import annotations

from pathlib import Path

import pytest

from anim400k.errors import InputError
from anim400k.formats.subtitles import read_subtitles
from anim400k.formats.transcripts import read_transcript


def _read(tmp_path: Path, body: str, name: str = "s.ttml") -> list[tuple[float, float, str]]:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return [(s.start, s.end, s.text) for s in read_subtitles(path)]


def test_a_nested_div_is_read_and_its_begin_moves_its_paragraphs(tmp_path: Path) -> None:
    """pysubs2 read body/div/p only: the nested line was dropped without a word (a file of nested divs alone
    was refused as holding no cue), and a div's begin did not count."""
    assert _read(tmp_path, '<tt xmlns="http://www.w3.org/ns/ttml" xml:lang="en"><body>\n'
                           ' <div><div begin="1s"><p begin="1s" end="2s">Nested div offset</p></div>\n'
                           ' <p begin="5s" end="6s">outer</p></div></body></tt>') == [
        (2.0, 3.0, "Nested div offset"), (5.0, 6.0, "outer")]


@pytest.mark.parametrize("name", ["old.dfxp", "old.ttml"])
def test_dfxp_in_its_original_namespace_is_read(tmp_path: Path, name: str) -> None:
    """``http://www.w3.org/2006/10/ttaf1`` was refused as 'pysubs2 took it for SRT'."""
    assert _read(tmp_path, '<tt xmlns="http://www.w3.org/2006/10/ttaf1" xml:lang="en"><body><div>\n'
                           '<p begin="00:00:01.00" end="00:00:02.00">Old DFXP<br />namespace</p></div></body></tt>',
                 name) == [(1.0, 2.0, "Old DFXP namespace")]


def test_a_paragraph_timed_on_its_spans_gives_a_cue_per_span(tmp_path: Path) -> None:
    """It was ``not a subtitle file pysubs2 can read ('end')``, a KeyError, for a valid file."""
    body = ('<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p>'
            '<span begin="00:00:01.000" end="00:00:02.000">Span timed A</span> '
            '<span begin="00:00:03.000" dur="1s">Span B</span></p></div></body></tt>')
    assert _read(tmp_path, body) == [(1.0, 2.0, "Span timed A"), (3.0, 4.0, "Span B")]
    path = tmp_path / "t.ttml"
    path.write_text(body, encoding="utf-8")
    assert [s.text for s in read_transcript(path, language="en").segments] == ["Span timed A", "Span B"]


def test_timing_nests_styles_and_metadata_are_no_text(tmp_path: Path) -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<tt xmlns="http://www.w3.org/ns/ttml" '
            'xmlns:tts="http://www.w3.org/ns/ttml#styling"><head><styling><style xml:id="s1"/></styling></head>'
            '<body begin="10s"><div begin="2s" end="20s"><metadata>not shown</metadata>'
            '<p begin="1s" dur="500ms">A <span tts:fontStyle="italic">quiet</span> line</p>'
            '<p begin="17s">runs to its div\'s end</p></div></body></tt>')
    assert _read(tmp_path, body) == [(13.0, 13.5, "A quiet line"), (29.0, 30.0, "runs to its div's end")]


def test_broken_xml_is_one_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "b.ttml"
    path.write_text('<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="1s" end="2s">x</div></tt>')
    with pytest.raises(InputError, match="not well-formed TTML/DFXP XML") as info:
        read_subtitles(path)
    assert str(path) in str(info.value)
