"""``anim400k align --time-map``: the JSON of ``anim400k sync --out`` (or a build's sync.json), piecewise for an
edited EN medium; ``--offset``/``--drift`` could give only one line, so clips after a cut were misaligned."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.model import MapPiece, TimeMap
from anim400k.sync.files import read_time_map
from anim400k.sync.result import SyncResult

#: EN lacks JP 40-46 s (a scene cut from EN); EN starts 1 s later than JP: EN = JP + 1 s, then JP - 5 s
CUT = TimeMap(1.0, 0.0, 0.9, (MapPiece(-math.inf, 40.0, 1.0), MapPiece(46.0, math.inf, -5.0)))


def _transcripts(tmp_path: Path) -> tuple[Path, Path]:
    en, jp = tmp_path / "en.json", tmp_path / "jp.json"
    en.write_text(json.dumps({"language": "en", "segments": [
        {"start": 11.0, "end": 13.0, "text": "Before."}, {"start": 52.0, "end": 54.0, "text": "After."}]}))
    jp.write_text(json.dumps({"language": "ja", "segments": [
        {"start": 10.0, "end": 12.0, "text": "前。"}, {"start": 57.0, "end": 59.0, "text": "後。"}]}))
    return en, jp


def _sync_out(path: Path, tm: TimeMap, confidence: float = 0.9, reason: str = "") -> Path:
    """What ``anim400k sync --out`` writes."""
    data = SyncResult(tm, confidence=confidence, reason=reason).to_dict()
    data.update({"jp_media": "jp.mkv", "en_media": "en.mkv", "sample_rate": 16000})
    path.write_text(json.dumps(data))
    return path


def _align(tmp_path: Path, *extra: str) -> tuple[int, list[dict]]:
    en, jp = _transcripts(tmp_path)
    out = tmp_path / "clips.json"
    out.unlink(missing_ok=True)
    rc = main(["align", "--en", str(en), "--jp", str(jp), "--out", str(out), *extra])
    return rc, json.loads(out.read_text()) if out.exists() else []


def _times(clips: list[dict]) -> list[tuple[str, str, str, str, str, str]]:
    return [(c["en_text"], c["jp_text"], c["jp_start_time"], c["jp_end_time"], c["en_start_time"], c["en_end_time"])
            for c in clips]


def test_a_piecewise_time_map_aligns_the_clips_after_the_break(tmp_path: Path, capsys) -> None:
    rc, clips = _align(tmp_path, "--time-map", str(_sync_out(tmp_path / "sync.json", CUT)))
    assert rc == 0
    assert _times(clips) == [
        ("Before.", "前。", "00:00:10.000", "00:00:12.000", "00:00:11.000", "00:00:13.000"),
        ("After.", "後。", "00:00:57.000", "00:00:59.000", "00:00:52.000", "00:00:54.000")]
    err = capsys.readouterr().err
    assert "the EN medium is edited (mapped piecewise)" in err and "split at 0 break(s)" in err
    # a build's sync.json gives the same map
    build = {"offset": 1.0, "drift": 0.0, "confidence": 0.9, "applied": True, "warning": "EN is edited",
             "pieces": CUT.to_dict()["pieces"]}
    (tmp_path / "build_sync.json").write_text(json.dumps(build))
    assert read_time_map(tmp_path / "build_sync.json") == (CUT, None)
    assert _align(tmp_path, "--time-map", str(tmp_path / "build_sync.json")) == (0, clips)
    # one line (the best --offset can do) leaves the clip after the cut unmatched
    rc, linear = _align(tmp_path, "--offset", "1.0")
    assert [(c["en_text"], c["jp_text"]) for c in linear] == [("Before.", "前。"), ("After.", "")]


def test_a_linear_time_map_equals_offset_and_drift(tmp_path: Path) -> None:
    path = _sync_out(tmp_path / "sync.json", TimeMap(1.0, 0.001, 0.8))
    assert read_time_map(path) == (TimeMap(1.0, 0.001, 0.8), None)
    assert _align(tmp_path, "--time-map", str(path)) == _align(tmp_path, "--offset", "1.0", "--drift", "0.001")


def test_a_map_that_is_not_sample_precise_keeps_its_precision(tmp_path: Path) -> None:
    """EN re-timed with pitch correction: the map's precision_ms (both writers') is read back, not dropped."""
    stretched = TimeMap(1.0, 0.0417, 0.8, precision_ms=12.5)
    assert read_time_map(_sync_out(tmp_path / "sync.json", stretched)) == (stretched, None)
    build = {"offset": 1.0, "drift": 0.0417, "confidence": 0.8, "applied": True, "precision_ms": 12.5}
    (tmp_path / "build_sync.json").write_text(json.dumps(build))
    tm, _note = read_time_map(tmp_path / "build_sync.json")
    assert tm == stretched and not tm.precise
    build["precision_ms"] = 0
    (tmp_path / "build_sync.json").write_text(json.dumps(build))
    with pytest.raises(InputError, match="precision_ms: expected a positive number of milliseconds, not 0"):
        read_time_map(tmp_path / "build_sync.json")


def test_an_unreliable_estimate_is_used_as_a_build_uses_it(tmp_path: Path, capsys) -> None:
    path = _sync_out(tmp_path / "sync.json", TimeMap(3.0, 0.0, 0.1), confidence=0.1, reason="a silent track")
    rc, clips = _align(tmp_path, "--time-map", str(path))
    assert rc == 0 and clips == _align(tmp_path)[1]  # the identity map
    assert f"warning: {path}: the estimate is not reliable (confidence 0.10: a silent track): aligned with zero " \
           "offset and no drift, as a build would" in capsys.readouterr().err


@pytest.mark.parametrize("option", [("--offset", "0"), ("--drift", "0.01")])
def test_time_map_with_offset_or_drift_is_a_usage_error(tmp_path: Path, capsys, option: tuple[str, str]) -> None:
    path = _sync_out(tmp_path / "sync.json", CUT)
    rc, clips = _align(tmp_path, "--time-map", str(path), *option)
    assert rc == 2 and clips == [] and not (tmp_path / "clips.json").exists()
    assert "anim400k: error: --time-map cannot be given together with --offset or --drift" in capsys.readouterr().err


def _pieces(*pieces: dict) -> dict:
    return {"time_map": {"offset": 1.0, "drift": 0.0, "pieces": list(pieces)}, "reliable": True}


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ("[1, 2]", "is no sync result: expected a JSON object, found list"),
    ('{"offset": 1}', "is no sync result: it has neither 'time_map' (anim400k sync --out) nor 'applied' "
                      "(a build's sync.json)"),
    ('{"time_map": {"drift": 0}, "reliable": true}', "time_map.offset: missing"),
    ('{"time_map": {"offset": "1 s", "drift": 0}, "reliable": true}', "time_map.offset: expected a finite number, "
                                                                      "not '1 s'"),
    ('{"time_map": {"offset": NaN, "drift": 0}, "reliable": true}', "is not valid JSON (NaN is no JSON number)"),
    ('{"time_map": {"offset": 1, "drift": -1}, "reliable": true}', "time_map.drift: -1.0 is outside (-1, 1] "
                                                                   "(a drift of -1 or less reverses time)"),
    ('{"time_map": {"offset": 1, "drift": 0}}', "reliable: missing"),
    ('{"offset": 1, "drift": 0, "applied": "yes"}', "applied: expected true or false, not 'yes'"),
    ('{"time_map": {"offset": 1, "drift": 0, "pieces": {}}, "reliable": true}',
     "time_map.pieces: expected a list, not {}"),
    (json.dumps(_pieces({"jp_start": None, "jp_end": 40.0, "offset": 1.0}, {"jp_start": 41.0, "jp_end": None})),
     "time_map.pieces[1].offset: missing"),
    (json.dumps(_pieces({"jp_start": None, "jp_end": 40.0, "offset": 1.0},
                        {"jp_start": 41.0, "jp_end": None, "offset": -6.0})),
     "time_map.pieces: time map pieces 0 and 1 overlap on the JP or EN timeline"),
    (json.dumps(_pieces({"jp_start": 0.0, "jp_end": None, "offset": 1.0})),
     "time_map.pieces: a piecewise time map's first piece must start at -inf and its last end at +inf"),
])
def test_a_malformed_time_map_is_one_line_naming_the_file(tmp_path: Path, capsys, text: str, problem: str) -> None:
    path = tmp_path / "sync.json"
    path.write_text(text)
    rc, _ = _align(tmp_path, "--time-map", str(path))
    assert rc == 2 and not (tmp_path / "clips.json").exists()
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {path}: {problem}"]


def test_a_missing_time_map_is_one_line(tmp_path: Path, capsys) -> None:
    rc, _ = _align(tmp_path, "--time-map", str(tmp_path / "none.json"))
    assert rc == 2
    assert capsys.readouterr().err.splitlines() == [f"anim400k: error: {tmp_path / 'none.json'}: not found"]
