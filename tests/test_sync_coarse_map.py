"""The coarse windows' map for a sync estimate the sample-precise stage could not confirm (``sync.coarse_map``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from anim400k.model import TimeMap
from anim400k.sync.coarse_map import coarse_time_map, describe_coarse
from anim400k.sync.result import SyncResult

# the 8 windows of a 60 s synthetic episode (seed 31, true offset +0.80 s) whose fine matches found nothing
WINDOWS = [(0.032, 0.825), (5.732, 6.525), (11.432, 12.234), (17.132, 17.902), (22.882, 23.642), (28.582, 29.375),
           (34.282, 35.061), (39.982, 40.732)]


def _unreliable(windows: list[tuple[float, float]], inlier: bool = True, **kw: object) -> SyncResult:
    return SyncResult(TimeMap(0.668, -0.00016, 0.0), 0.0, 1.0, 6.1, len(windows), 0, "fine stage found nothing",
                      [(tj, te, 0.33, inlier) for tj, te in windows], **kw)  # type: ignore[arg-type]


def test_agreeing_windows_make_a_map_that_is_not_sample_precise() -> None:
    m = coarse_time_map(_unreliable(WINDOWS))
    assert m is not None and not m.precise and m.drift == 0.0  # no slope out of tens of ms of scatter
    assert m.offset == pytest.approx(0.80, abs=0.02) and 20 <= m.precision_ms <= 60
    assert describe_coarse(m) == f"offset {m.offset * 1000:+.0f} ms, no drift"
    # a real drift (PAL speed-up) is kept: 4.1 % over the episode is seconds
    drifted = [(tj, -1.3 + 1.041 * tj + 0.02 * (-1) ** k) for k, (tj, _) in enumerate(WINDOWS)]
    m = coarse_time_map(_unreliable(drifted))
    assert m is not None and m.drift == pytest.approx(0.041, abs=0.001) and m.offset == pytest.approx(-1.3, abs=0.03)


@pytest.mark.parametrize("case", ["reliable", "scattered", "few", "outliers", "same_audio"])
def test_no_coarse_map_without_agreeing_windows(case: str) -> None:
    rng = np.random.default_rng(0)
    if case == "reliable":
        res = _unreliable(WINDOWS)
        res.confidence = 0.9
    elif case == "scattered":  # unrelated tracks: windows at random lags
        res = _unreliable([(tj, tj + float(rng.uniform(-20, 20))) for tj, _ in WINDOWS])
    elif case == "few":
        res = _unreliable(WINDOWS[:3])
    elif case == "outliers":  # half the windows off the line
        res = _unreliable(WINDOWS)
        res.windows = [(tj, te, p, k % 2 == 0) for k, (tj, te, p, _) in enumerate(res.windows)]
    else:
        res = _unreliable(WINDOWS, same_audio=True)
    assert coarse_time_map(res) is None


def test_a_located_edit_maps_in_two_pieces() -> None:
    """A 4 s insertion into EN at JP ~23.5 s: the windows before it read +0.78 s, after it +4.64 s; the fine stage
    could not confirm the pieces, and the build used the identity map (clips after it held other lines' English)."""
    before = [(tj, tj + 0.78 + 0.01 * k) for k, tj in enumerate((2.0, 8.0, 14.0))]
    after = [(tj, tj + 4.64 - 0.01 * k) for k, tj in enumerate((26.0, 32.0, 38.0, 44.0, 50.0))]
    edit = {"lines": [{"offset": 0.78, "jp_from": 2.0, "jp_to": 14.0, "windows": 3, "fit": False},
                      {"offset": 4.64, "jp_from": 26.0, "jp_to": 50.0, "windows": 5, "fit": True}],
            "drift": 0.0, "at": [23.4, 23.9]}
    m = coarse_time_map(_unreliable(before + after, edit=edit))
    assert m is not None and not m.precise and len(m.pieces) == 2
    assert m.drift == 0.0  # the windows show none
    assert m.jp_to_en(10.0) == pytest.approx(10.79, abs=0.015) and m.jp_to_en(40.0) == pytest.approx(44.63, abs=0.015)
    # the change lies somewhere in the located span (widened by half a locating segment): left unmapped
    assert m.pieces[0].jp_end == pytest.approx(23.4 - 1.5) and m.pieces[1].jp_start == pytest.approx(23.9 + 1.5)
    assert math.isinf(m.pieces[1].jp_end) and m.jp_gaps() == [(pytest.approx(21.9), pytest.approx(25.4))]
    assert describe_coarse(m) == (f"two pieces: offset {m.pieces[0].offset * 1000:+.0f} ms, "
                                  f"{m.pieces[1].offset * 1000:+.0f} ms")
    edit["at"] = None  # not located: no map
    assert coarse_time_map(_unreliable(before + after, edit=edit)) is None


def test_a_cut_located_loosely_leaves_its_whole_span_unmapped() -> None:
    """A 10 s cut from EN at JP 32.9 s located between JP 27 and 44 s: the map put the break at 30.0/40.0 s, 2.9 s
    off there while it said "within ~25 ms" (an outside tester's case); now nothing in the span is mapped."""
    before = [(tj, tj + 0.01 * k) for k, tj in enumerate((0.0, 6.0, 12.0, 18.0))]
    after = [(tj, tj - 10.0 - 0.01 * k) for k, tj in enumerate((48.0, 54.0, 60.0))]
    edit = {"lines": [{"offset": 0.0, "jp_from": 10.0, "jp_to": 28.0, "windows": 4, "fit": True},
                      {"offset": -10.0, "jp_from": 58.0, "jp_to": 70.0, "windows": 3, "fit": False}],
            "drift": 0.0, "at": [27.0, 44.0]}
    m = coarse_time_map(_unreliable(before + after, edit=edit))
    assert m is not None and m.jp_gaps() == [(pytest.approx(25.5), pytest.approx(45.5))]
    truth = lambda t: t if t < 32.9 else (t - 10.0 if t >= 42.9 else None)  # noqa: E731
    for t in np.arange(0.0, 70.0, 0.25):
        mapped = m.jp_to_en(float(t)) if not any(a <= t < b for a, b in m.jp_gaps()) else None
        if mapped is not None:
            assert truth(float(t)) is not None and abs(mapped - truth(float(t))) <= m.precision_ms / 1000.0


def test_a_cut_longer_than_its_located_span_is_left_out_under_both_readings() -> None:
    """The same cut located between JP 31.5 and 38.0 s: 6.5 s cannot hold a 10 s cut, so one of the two hits is
    wrong; the break was put at the span's start (JP 40.0-42.9 s mapped onto the English before the cut)."""
    before = [(tj, tj + 0.01 * k) for k, tj in enumerate((0.0, 6.0, 12.0, 18.0))]
    after = [(tj, tj - 10.0 - 0.01 * k) for k, tj in enumerate((48.0, 54.0, 60.0))]
    edit = {"lines": [{"offset": 0.0, "windows": 4, "fit": True}, {"offset": -10.0, "windows": 3, "fit": False}],
            "drift": 0.0, "at": [31.5, 38.0]}
    m = coarse_time_map(_unreliable(before + after, edit=edit))
    assert m is not None
    ((lo, hi),) = m.jp_gaps()
    assert lo <= 32.9 and hi >= 42.9  # the true cut, JP 32.9-42.9 s, is inside whichever hit was right
    assert lo == pytest.approx(39.5 - 10.0 - 3.0, abs=0.05) and hi == pytest.approx(30.0 + 10.0 + 3.0, abs=0.05)


@pytest.mark.parametrize("case", ["third_offset", "drift_beyond_range"])
def test_no_edit_map_when_the_windows_do_not_back_it(case: str) -> None:
    """Two 2 s ad breaks (three offsets: 3 of 11 windows on neither line) and an 8 % speed change seen as an edit
    (drift +5.2 %) were mapped in two pieces said to be within ~20-50 ms, seconds off (an outside tester's cases)."""
    if case == "third_offset":
        first = [(tj, tj + 0.01 * k) for k, tj in enumerate((0.0, 6.0, 12.0))]
        second = [(tj, tj + 2.0) for tj in (30.0, 36.0, 42.0, 48.0)]
        third = [(tj, tj + 4.0) for tj in (54.0, 60.0, 66.0, 72.0)]
        windows, drift = first + second + third, 0.0
        lines = [{"offset": 0.0, "windows": 3, "fit": False}, {"offset": 2.0, "windows": 4, "fit": True}]
    else:
        windows = [(tj, 0.4 + 1.0522 * tj) for tj in (0.0, 6.0, 12.0)] + [(tj, 1.69 + 1.0522 * tj)
                                                                             for tj in (50.0, 56.0, 62.0)]
        drift = 0.0522
        lines = [{"offset": 0.4, "windows": 3, "fit": True}, {"offset": 1.69, "windows": 3, "fit": False}]
    edit = {"lines": lines, "drift": drift, "at": [26.5, 37.0]}
    assert coarse_time_map(_unreliable(windows, edit=edit)) is None


def test_the_sync_stage_uses_the_coarse_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build used the identity map for an estimate its coarse windows all agreed on (0.8 s off: clips pairing
    the wrong lines); it writes their map now, applied, with ``precision_ms`` and a warning saying so."""
    import soundfile as sf

    from anim400k.dataset.context import EpisodeContext
    from anim400k.dataset.options import BuildOptions
    from anim400k.dataset.stages import stage_sync
    from anim400k.model import EpisodeRef

    ctx = EpisodeContext(EpisodeRef("s", "1", "jp.mkv", "en.mkv"), str(tmp_path / "w"), str(tmp_path / "r"),
                         BuildOptions(progress=False))
    ctx.work.mkdir(parents=True, exist_ok=True)
    for lang in ("ja", "en"):
        sf.write(ctx.artifact(f"{lang}.16k.flac"), np.zeros(16000, np.float32), 16000)
    monkeypatch.setattr("anim400k.sync.estimate.analyze_sync", lambda *a, **k: _unreliable(WINDOWS))
    sync = json.loads(Path(stage_sync(ctx)).read_text())
    assert sync["applied"] and sync["offset"] == pytest.approx(0.8, abs=0.02) and sync["precision_ms"] >= 20
    assert "used the coarse windows' map instead (offset +" in sync["warning"]
    assert TimeMap.from_dict(sync).precision_ms == sync["precision_ms"]
    monkeypatch.setattr("anim400k.sync.estimate.analyze_sync",
                        lambda *a, **k: _unreliable([(tj, tj + 9.0 * (k % 2)) for k, (tj, _) in enumerate(WINDOWS)]))
    sync = json.loads(Path(stage_sync(ctx)).read_text())
    assert not sync["applied"] and sync["warning"].endswith("assuming zero offset and no drift")


def test_align_reads_the_coarse_map_that_sync_wrote(tmp_path: Path) -> None:
    """``anim400k sync --out`` writes the coarse windows' map beside an unreliable estimate; ``align --time-map``
    uses it as a build does (it used the identity map)."""
    from anim400k.sync.files import read_time_map

    res = _unreliable(WINDOWS)
    coarse = coarse_time_map(res)
    assert coarse is not None
    data = res.to_dict() | {"coarse_time_map": coarse.to_dict()}
    path = tmp_path / "sync.json"
    path.write_text(json.dumps(data))
    tm, note = read_time_map(path)
    assert tm.offset == pytest.approx(coarse.offset) and tm.precision_ms == coarse.precision_ms
    assert note is not None and "aligned with the coarse windows' map (offset +" in note
    path.write_text(json.dumps(res.to_dict()))  # without it: the identity map, as before
    tm, note = read_time_map(path)
    assert tm.offset == 0.0 and note is not None and note.endswith("zero offset and no drift, as a build would")
