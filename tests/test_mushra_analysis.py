"""MUSHRA analysis: post-screening, statistics, Holm, Wilcoxon, CSV round trip, report."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from anim400k.evaluate.mushra_analysis import analyze, analyze_rows, condition_stats, holm, post_screen
from anim400k.evaluate.webmushra import RatingRow, ratings_csv, read_ratings_csv


def _rows(
    listener: str, n_trials: int, ref: list[int], anchor: list[int], a: list[int], b: list[int]
) -> list[RatingRow]:
    out = []
    for t in range(n_trials):
        for cond, v in (
            ("reference", ref[t]),
            ("anchor35", 10),
            ("anchor70", anchor[t]),
            ("sysA", a[t]),
            ("sysB", b[t]),
        ):
            out.append(RatingRow("x", listener, f"trial{t:02d}", cond, v))
    return out


def test_post_screening_thresholds() -> None:
    n = 10
    ok_ref = [100] * 9 + [80]  # 10 % below 90: kept
    bad_ref = [100] * 8 + [80, 70]  # 20 %: excluded
    bad_anchor = [50] * 8 + [95, 99]  # mid anchor above 90 in 20 %: excluded
    rows = (
        _rows("ok", n, ok_ref, [50] * n, [70] * n, [40] * n)
        + _rows("ref", n, bad_ref, [50] * n, [70] * n, [40] * n)
        + _rows("anc", n, [100] * n, bad_anchor, [70] * n, [40] * n)
    )
    res = {s.listener: s for s in post_screen(rows)}
    assert not res["ok"].excluded and res["ok"].ref_below == 1
    assert res["ref"].excluded and "hidden reference" in res["ref"].reason
    assert res["anc"].excluded and res["anc"].anchor_above == 2 and "mid anchor" in res["anc"].reason


def test_condition_stats_matches_t_interval() -> None:
    x = [55, 60, 72, 48, 66, 70]
    s = condition_stats("c", x)
    half = stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x))
    assert s.mean == pytest.approx(np.mean(x))
    assert (s.ci95_low, s.ci95_high) == pytest.approx((np.mean(x) - half, np.mean(x) + half))
    assert s.median == pytest.approx(np.median(x))


def test_holm() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_paired_tests_find_the_better_system() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for li in range(4):
        a = list(rng.integers(65, 80, 6))
        b = [int(v) - int(rng.integers(10, 25)) for v in a]
        c = [int(v) + int(rng.integers(-3, 4)) for v in a]
        for t in range(6):
            for cond, v in (
                ("reference", 100),
                ("anchor70", 50),
                ("sysA", a[t]),
                ("sysB", b[t]),
                ("sysC", c[t]),
            ):
                rows.append(RatingRow("x", f"l{li}", f"t{t}", cond, int(v)))
    res = analyze_rows(rows)
    tests = {(t.a, t.b): t for t in res.tests}
    assert tests[("sysA", "sysB")].significant and tests[("sysA", "sysB")].mean_diff > 0
    assert not tests[("sysA", "sysC")].significant
    assert tests[("sysA", "sysB")].n == 24
    assert all(t.p_holm >= t.p for t in res.tests)
    assert res.conditions[:2] == ["reference", "anchor70"] and res.systems == ["sysA", "sysB", "sysC"]


def test_csv_round_trip_and_report(tmp_path: Path) -> None:
    rows = _rows("l1", 3, [100, 95, 100], [40, 50, 45], [70, 75, 60], [30, 35, 20])
    rows += _rows("l2", 3, [60, 70, 50], [95, 96, 99], [50, 50, 50], [50, 50, 50])
    path = tmp_path / "mushra.csv"
    path.write_text(ratings_csv(rows))
    assert read_ratings_csv(path) == rows
    res = analyze(path, tmp_path / "report")
    assert res.excluded == ["l2"]
    means = {s.condition: s.mean for s in res.stats}
    assert means["sysA"] == pytest.approx(np.mean([70, 75, 60]))
    html = (tmp_path / "report" / "report.html").read_text()
    assert "excluded" in html and "ratings.png" in html
    assert (tmp_path / "report" / "ratings.png").read_bytes()[:4] == b"\x89PNG"
