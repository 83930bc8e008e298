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


def test_csv_training_pages_are_not_rated_trials(tmp_path: Path) -> None:
    """webMUSHRA CSV: rows of pages whose id contains "train" are training, as with --from-webmushra (were counted)."""
    rows = _rows("l1", 3, [100, 95, 100], [40, 50, 45], [70, 75, 60], [30, 35, 20])
    training = [RatingRow("x", "l1", "Training01", c, 0) for c in ("reference", "anchor70", "sysA", "sysB")]
    path = tmp_path / "wm.csv"
    path.write_text(ratings_csv(training + rows))
    res = analyze(path, tmp_path / "report")
    assert res.n_ratings_used == len(rows)
    assert {s.condition: s.n for s in res.stats}["sysA"] == 3
    assert res.screening[0].trials == 3


def test_per_item_stats_and_friedman(tmp_path: Path) -> None:
    """BS.1534-3 per-item means with 95 % CIs, and a Friedman test on listeners' per-condition means."""
    rng = np.random.default_rng(1)
    rows = []
    for li in range(6):
        a, b, c = (list(rng.integers(lo, lo + 15, 4)) for lo in (70, 40, 55))
        rows += _rows(f"l{li}", 4, [100] * 4, [50] * 4, a, b)
        rows += [RatingRow("x", f"l{li}", f"trial{t:02d}", "sysC", int(c[t])) for t in range(4)]
    res = analyze_rows(rows)
    item = {(i.trial, i.condition): i for i in res.items}
    scores = [r.rating_score for r in rows if r.trial_id == "trial02" and r.rating_stimulus == "sysB"]
    s = condition_stats("sysB", scores)
    assert item[("trial02", "sysB")].n == 6
    assert (item[("trial02", "sysB")].mean, item[("trial02", "sysB")].ci95_low) == pytest.approx((s.mean, s.ci95_low))
    assert len(res.items) == 4 * 6
    means = {
        c: [np.mean([r.rating_score for r in rows if r.listener == f"l{li}" and r.rating_stimulus == c])
            for li in range(6)]
        for c in res.conditions
    }
    expect = stats.friedmanchisquare(*means.values())
    assert res.friedman is not None and res.friedman.n_listeners == 6
    assert (res.friedman.statistic, res.friedman.p) == pytest.approx((expect.statistic, expect.pvalue))
    assert res.friedman_systems is not None and res.friedman_systems.conditions == ["sysA", "sysB", "sysC"]
    assert res.friedman_systems.significant
    out = analyze(_write(tmp_path, rows), tmp_path / "rep")
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Friedman" in html and "Per item" in html and out.friedman is not None


def _write(tmp_path: Path, rows: list[RatingRow]) -> Path:
    path = tmp_path / "m.csv"
    path.write_text(ratings_csv(rows))
    return path
