"""MUSHRA analysis: post-screening, statistics, Holm, Wilcoxon, CSV round trip, report."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from anim400k.cli import main
from anim400k.errors import InputError
from anim400k.evaluate.mushra_analysis import (
    analyze,
    analyze_rows,
    condition_stats,
    holm,
    plot,
    post_screen,
    repeated_rating,
    undegraded_anchor_items,
)
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
        # two more listeners, so that one of them rating the anchor above 90 on an item is 20 % of the panel, not
        # the > 25 % at which BS.1534-3 stops counting the item for the anchor criterion
        + _rows("ok2", n, [100] * n, [50] * n, [70] * n, [40] * n)
        + _rows("ok3", n, [100] * n, [50] * n, [70] * n, [40] * n)
    )
    res = {s.listener: s for s in post_screen(rows)}
    assert not res["ok"].excluded and res["ok"].ref_below == 1
    assert res["ref"].excluded and "hidden reference" in res["ref"].reason
    assert res["anc"].excluded and res["anc"].anchor_above == 2 and "mid anchor" in res["anc"].reason


def test_post_screening_ignores_items_whose_mid_anchor_most_rate_above_90(tmp_path: Path) -> None:
    """BS.1534-3 §4.1.2: if more than 25 % of the assessors rate the mid anchor above 90 on an item, nobody is
    excluded on the basis of that item (the anchor did not degrade it). Four listeners, four items: on item 0
    two of them (50 %) rate the anchor 95, so it does not count; on item 1 one listener (25 %, not more) does,
    which counts (1 of her 4 items = 25 % > 15 %: excluded). Without the caveat a and b were excluded too."""
    n = 4
    rows = (
        _rows("a", n, [100] * n, [95, 50, 50, 50], [70] * n, [40] * n)
        + _rows("b", n, [100] * n, [95, 50, 50, 50], [70] * n, [40] * n)
        + _rows("c", n, [100] * n, [50, 95, 50, 50], [70] * n, [40] * n)
        + _rows("d", n, [100] * n, [50] * n, [70] * n, [40] * n)
    )
    assert undegraded_anchor_items(rows) == ["trial00"]
    res = {s.listener: s for s in post_screen(rows)}
    assert not res["a"].excluded and not res["b"].excluded
    assert res["a"].anchor_trials == 3 and res["a"].anchor_above == 0
    assert res["c"].excluded and "1/3" in res["c"].reason
    analysis = analyze_rows(rows)
    assert analysis.excluded == ["c"] and analysis.anchor_items_ignored == ["trial00"]
    assert analysis.post_screening


def test_post_screening_can_be_turned_off_and_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--no-post-screening keeps every listener; the screening is still reported (whom it would exclude)."""
    rows = _rows("l1", 3, [100, 95, 100], [40, 50, 45], [70, 75, 60], [30, 35, 20])
    rows += _rows("l2", 3, [60, 70, 50], [40, 50, 45], [50, 50, 50], [50, 50, 50])
    path = tmp_path / "mushra.csv"
    path.write_text(ratings_csv(rows))
    assert main(["mushra", "analyze", str(path), "--out", str(tmp_path / "on")]) == 0
    on = json.loads((tmp_path / "on" / "analysis.json").read_text())
    assert on["excluded"] == ["l2"] and on["post_screening"] is True
    assert main(["mushra", "analyze", str(path), "--out", str(tmp_path / "off"), "--no-post-screening"]) == 0
    assert "post-screening off" in capsys.readouterr().out
    off = json.loads((tmp_path / "off" / "analysis.json").read_text())
    assert off["excluded"] == [] and off["post_screening"] is False and off["n_ratings_used"] == len(rows)
    l2 = next(s for s in off["screening"] if s["listener"] == "l2")
    assert not l2["excluded"] and "would be excluded" in l2["reason"]
    sys_a = next(s for s in off["stats"] if s["condition"] == "sysA")
    assert sys_a["mean"] == pytest.approx(np.mean([70, 75, 60, 50, 50, 50]))
    assert "not applied" in (tmp_path / "off" / "report.html").read_text()


def test_condition_stats_matches_t_interval() -> None:
    x = [55, 60, 72, 48, 66, 70]
    s = condition_stats("c", x)
    half = stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x))
    assert s.mean == pytest.approx(np.mean(x))
    assert (s.ci95_low, s.ci95_high) == pytest.approx((np.mean(x) - half, np.mean(x) + half))
    assert s.median == pytest.approx(np.median(x))
    assert s.std == pytest.approx(np.std(x, ddof=1))
    one = condition_stats("solo", [70])
    assert one.mean == 70 and math.isnan(one.std) and math.isnan(one.ci95_low)  # one rating: no spread (was 0.0)


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
    # over the 4 listeners' means: the smallest two-sided Wilcoxon p of 4 pairs is 2 / 2**4 = 0.125, so 24 ratings
    # that are 4 listeners' are no significant difference there (the per-rating test counts them as independent)
    ab = tests[("sysA", "sysB")]
    assert ab.n_listeners == 4 and ab.p_listeners == pytest.approx(0.125) and not ab.significant_listeners
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


_HEADER = "session_test_id,session_uuid,trial_id,rating_stimulus,rating_score,rating_time,rating_comment\n"


def test_csv_without_participant_ids_is_refused_not_merged(tmp_path: Path) -> None:
    """Older webMUSHRA (no session_uuid): session_test_id is the test id for everyone; 3 listeners read as
    one, and post-screening/paired tests kept the last of each (trial, stimulus) while the means counted all."""
    lines = ["session_test_id,trial_id,rating_stimulus,rating_score,rating_time,rating_comment"]
    for off in (0, 10, 20):
        for t in ("t1", "t2"):
            lines += [f"mytest,{t},{c},{s},1000," for c, s in (("reference", 100), ("sysA", 70 - off), ("sysB", 60))]
    path = tmp_path / "old.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        analyze(path, tmp_path / "rep")
    msg = err.value.message
    assert msg.startswith(f"{path}: line 8: ") and "first on line 2" in msg and "session_uuid" in msg
    assert "\n" not in msg and not (tmp_path / "rep").exists()


def test_csv_repeated_rating_is_refused_with_its_lines(tmp_path: Path) -> None:
    rows = [f"T,{u},{t},{c},{s},1000," for u in ("u1", "u2") for t in ("t1", "t2")
            for c, s in (("reference", 100), ("sysA", 70), ("sysB", 50))]
    path = tmp_path / "dup.csv"
    path.write_text(_HEADER + "\n".join([*rows, "T,u1,t1,sysA,10,1000,"]) + "\n")
    with pytest.raises(InputError, match=r"line 14: listener 'u1' rated 'sysA' of trial 't1' again "
                                         r"\(first on line 3\) in column 'session_uuid'"):
        read_ratings_csv(path)
    # a training page done twice is dropped anyway: not refused
    path.write_text(_HEADER + "\n".join([*rows, "T,u1,training,sysA,0,1,", "T,u1,training,sysA,5,1,"]) + "\n")
    assert len(read_ratings_csv(path)) == len(rows) + 2


def test_analyze_rows_refuses_repeated_ratings() -> None:
    rows = _rows("l1", 2, [100, 100], [40, 40], [70, 70], [50, 50])
    assert repeated_rating(rows) is None
    rows.append(RatingRow("x", "l1", "trial01", "sysA", 10))
    assert repeated_rating(rows) == (8, len(rows) - 1)
    with pytest.raises(InputError, match="twice"):
        analyze_rows(rows)


@pytest.mark.parametrize("score", ["150", "-20", "100.6", "nan", "inf"])
def test_csv_score_outside_the_scale_is_refused(tmp_path: Path, score: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(_HEADER + "T,u1,t1,reference,100,1000,\n" + f"T,u1,t1,sysA,{score},1000,\n")
    with pytest.raises(InputError, match=rf"^{path}: line 3: rating_score '{score}' is (outside MUSHRA's 0-100 "
                                         "scale|not a number)$"):
        read_ratings_csv(path)
    path.write_text(_HEADER + "T,u1,t1,reference,100,1000,\nT,u1,t1,sysA,0,1000,\nT,u1,t1,sysB,99.6,1000,\n")
    assert [r.rating_score for r in read_ratings_csv(path)] == [100, 0, 100]


def test_paired_tests_without_pairs_are_not_computed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """All listeners excluded: no pairs, so p is NaN (not 1), and Holm counts only the computed tests."""
    assert holm([0.01, math.nan, 0.04]) == pytest.approx([0.02, math.nan, 0.04], nan_ok=True)
    rows = _rows("l1", 2, [50, 50], [40, 40], [70, 70], [50, 50])
    rows += _rows("l2", 2, [60, 60], [40, 40], [60, 65], [55, 50])
    res = analyze_rows(rows)
    assert res.excluded == ["l1", "l2"]
    assert all(t.n == 0 and math.isnan(t.p) and math.isnan(t.p_holm) and not t.significant for t in res.tests)
    assert main(["mushra", "analyze", str(_write(tmp_path, rows)), "--out", str(tmp_path / "rep")]) == 0
    printed = capsys.readouterr().out
    assert "sysA vs sysB: n=0 Δ=– p=– p_holm=–" in printed and "nan" not in printed
    saved = json.loads((tmp_path / "rep" / "analysis.json").read_text())
    assert saved["tests"][0]["p"] is None or math.isnan(saved["tests"][0]["p"])


def test_listener_ci_counts_each_listener_once() -> None:
    """Repeated measures: the second CI is a t-interval over listeners' means (n = listeners)."""
    rows = []
    for li, off in (("u1", -20), ("u2", 0), ("u3", 20)):
        for t in range(10):
            for cond, s in (("reference", 100), ("anchor70", 40), ("sysA", 60 + off + t % 3 - 1)):
                rows.append(RatingRow("x", li, f"t{t}", cond, s))
    s = {c.condition: c for c in analyze_rows(rows).stats}["sysA"]
    means = [np.mean([r.rating_score for r in rows if r.listener == li and r.rating_stimulus == "sysA"])
             for li in ("u1", "u2", "u3")]
    expect = stats.t.interval(0.95, 2, loc=np.mean(means), scale=stats.sem(means))
    assert (s.n, s.n_listeners) == (30, 3)
    assert (s.mean_listeners, s.ci95_listeners_low, s.ci95_listeners_high) == pytest.approx((np.mean(means), *expect))
    assert s.ci95_listeners_high - s.ci95_listeners_low > 5 * (s.ci95_high - s.ci95_low)


def test_non_ascii_condition_names_plot_without_glyph_warnings(tmp_path: Path) -> None:
    rows = [RatingRow("x", u, t, c, s) for u in ("u1", "u2") for t in ("t1", "t2")
            for c, s in (("reference", 100), ("システムA", 70), ("sysé", 60))]
    res = analyze_rows(rows)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        plot(res, rows, tmp_path / "r.png")
    assert not [w for w in seen if "Glyph" in str(w.message)]
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("suffix", "kind"), [(".wav", "WAV"), (".mp3", "MP3")])
def test_a_media_file_given_as_ratings_is_named_as_one(tmp_path: Path, suffix: str, kind: str) -> None:
    """A stimulus given instead of the CSV was 'not UTF-8 text (invalid start byte ...): save ... as UTF-8'."""
    from anim400k.media import write_audio

    audio = write_audio(tmp_path / f"reference{suffix}", np.zeros(16000, np.float32), 16000)
    with pytest.raises(InputError, match=rf"reference\{suffix}: is a media file \({kind}\), not a ratings CSV$"):
        read_ratings_csv(audio)


def _ratings(tmp_path: Path, better: int = 70) -> Path:
    rows = _rows("l1", 3, [100, 95, 100], [40, 50, 45], [better, 75, 60], [30, 35, 20])
    rows += _rows("l2", 3, [100, 100, 95], [45, 40, 50], [65, 70, 80], [25, 30, 35])
    path = tmp_path / "ratings" / "mushra.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text(ratings_csv(rows))
    return path


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("place", "said"), [
    ("other_files", "--out holds 'notes.txt', which mushra analyze did not write"),
    ("a_lone_ratings_csv", "--out holds 'mushra.csv' but no analysis.json of an earlier mushra analyze"),
    ("a_subfolder", "--out holds 'figures', which mushra analyze did not write"),
    ("release", "--out is the release folder"),
    ("inside_release", "--out lies inside the release folder"),
])
def test_analyze_refuses_a_folder_that_is_not_its_own(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       place: str, said: str) -> None:
    """`--out` that holds other files (even the release folder) was written into: four files among the others."""
    from anim400k.testing.release import make_release

    csv = _ratings(tmp_path)
    out = tmp_path / "out"
    if place in ("release", "inside_release"):
        rel = make_release(tmp_path / "rel")
        out = rel if place == "release" else rel / "reports"
    elif place == "a_subfolder":
        (out / "figures").mkdir(parents=True)
    else:
        out.mkdir()
        name = "notes.txt" if place == "other_files" else "mushra.csv"
        (out / name).write_text("someone's file\n", encoding="utf-8")
    before = _tree(tmp_path)
    assert main(["mushra", "analyze", str(csv), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and said in err and str(out) in err
    assert _tree(tmp_path) == before and (place != "inside_release" or not out.exists())


def test_analyze_replaces_an_earlier_analysis_in_its_folder(tmp_path: Path) -> None:
    """A re-run into the folder of an earlier analysis replaces its files, also after a killed run."""
    out = tmp_path / "report"
    analyze(_ratings(tmp_path, better=70), out)
    first = _tree(out)
    assert sorted(first) == ["analysis.json", "mushra.csv", "ratings.png", "report.html"]
    stale = out / ".report.anim400k-ab12cd_9.part.html"  # a killed run's temporary file
    stale.write_text("<html>half", encoding="utf-8")
    older = out / ".analysis.ab12cd_9.part.json"  # one of a version before the anim400k- mark: refused, then kept
    older.write_text("{half", encoding="utf-8")
    res = analyze(_ratings(tmp_path, better=20), out)
    second = _tree(out)
    assert sorted(second) == sorted(first) and not stale.exists() and not older.exists()
    assert second["analysis.json"] != first["analysis.json"] and second["mushra.csv"] != first["mushra.csv"]
    means = [{s["condition"]: s["mean"] for s in json.loads(run["analysis.json"])["stats"]} for run in (first, second)]
    assert means[1]["sysA"] == pytest.approx(next(s.mean for s in res.stats if s.condition == "sysA"))
    assert means[1]["sysA"] < means[0]["sysA"]
    # a run killed after analysis.json (written first) left only that: the next run may replace it
    for name in ("report.html", "ratings.png", "mushra.csv"):
        (out / name).unlink()
    analyze(_ratings(tmp_path), out)
    assert sorted(_tree(out)) == sorted(first)


def test_a_second_analysis_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    from anim400k.fsutil.locks import folder_lock

    out = tmp_path / "report"
    out.mkdir()
    with folder_lock(out, "mushra analyze"), pytest.raises(InputError, match="another mushra analyze"):
        analyze(_ratings(tmp_path), out)
    assert sorted(p.name for p in out.iterdir()) == []


def test_analyze_of_a_missing_source_names_both_kinds(tmp_path: Path, capsys) -> None:
    """`mushra analyze test1 --out r` with no test1 said `test1: no such ratings CSV`, whichever the user meant."""
    assert main(["mushra", "analyze", str(tmp_path / "test1"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"anim400k: error: {tmp_path / 'test1'}: no such test folder or ratings CSV"
    assert sorted(tmp_path.iterdir()) == []


def test_names_from_a_ratings_csv_are_printed_not_obeyed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A condition named `[/bold]` ended `mushra analyze` with rich's MarkupError after the report was written, a
    test id `T[bold]X` printed as `TX`, and an ESC sequence in a name reached the terminal."""
    rows = []
    for listener in ("l1", "l2", "l3"):
        for t in range(3):
            for cond, v in (("reference", 100), ("anchor35", 10), ("anchor70", 50), ("[/bold]", 70),
                            ("red\x1b[31m", 40)):
                rows.append(RatingRow("T[bold]X", listener, f"trial{t:02d}", cond, v))
    path = tmp_path / "mushra.csv"
    path.write_text(ratings_csv(rows))
    assert main(["mushra", "analyze", str(path), "--out", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "MUSHRA T[bold]X:" in out and "[/bold]" in out and "red\\x1b[31m" in out and "\x1b" not in out
