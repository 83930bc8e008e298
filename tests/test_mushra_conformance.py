"""``mushra create`` then ``mushra analyze`` checked against ITU-R BS.1534-3, pyloudnorm and scipy.stats by hand."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from scipy import stats

from anim400k.cli import main
from anim400k.evaluate.mushra_analysis import quartiles
from anim400k.evaluate.mushra_config import load_test
from anim400k.evaluate.stimuli import lowpass
from anim400k.evaluate.webmushra import RatingRow, ratings_csv
from anim400k.testing.demo_release import make_demo_release, make_demo_systems


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mushra_conf")
    release = make_demo_release(root / "release", n_clips=3, sr=16000)
    systems = make_demo_systems(release, root / "systems")
    out = root / "test"
    args = ["mushra", "create", str(release.root), "--out", str(out), "--trials", "2", "--seed", "5",
            "--split", "all", "--sample-rate", "16000"]
    for name, d in systems.items():
        args += ["--systems", f"{name}={d}"]
    assert main(args) == 0
    return out


def test_served_stimuli_are_the_standard_set(created: Path) -> None:
    """Every trial: hidden reference, the 3.5 and 7 kHz anchors (the reference low-passed, at the same loudness,
    sample-aligned), every system; all at the test's level by pyloudnorm; the webMUSHRA export agrees."""
    import pyloudnorm as pyln

    test = load_test(created)
    assert test.conditions[:3] == ["reference", "anchor35", "anchor70"]
    for trial in test.all_trials():
        assert set(trial.stimuli) == set(test.conditions)
        audio = {c: sf.read(created / rel, dtype="float64")[0] for c, rel in trial.stimuli.items()}
        for c, x in audio.items():
            assert pyln.Meter(16000).integrated_loudness(x) == pytest.approx(test.loudness_lufs, abs=0.05), c
        ref = audio["reference"]
        for name, fc in (("anchor35", 3500), ("anchor70", 7000)):
            expected = lowpass(ref, 16000, fc).astype(np.float64)
            gain = float(audio[name] @ expected / (expected @ expected))  # loudness matching is one gain
            residual = audio[name] - gain * expected
            assert residual @ residual < 1e-4 * (audio[name] @ audio[name]), name
            spec = np.abs(np.fft.rfft(audio[name]))
            f = np.fft.rfftfreq(audio[name].size, 1 / 16000)
            assert spec[f >= fc + 500].max() < 10 ** (-25 / 20) * spec.max(), name
            if (f >= fc + 1000).any():  # 8 kHz is the Nyquist frequency at 16 kHz
                assert spec[f >= fc + 1000].max() < 10 ** (-50 / 20) * spec.max(), name
    doc = yaml.safe_load((created / "webmushra.yaml").read_text())
    pages = [p for p in doc["pages"] if isinstance(p, dict) and p.get("type") == "mushra"]
    pages += [p for b in doc["pages"] if isinstance(b, list) for p in b if isinstance(p, dict)]
    assert pages and all(p["createAnchor35"] is False and p["createAnchor70"] is False for p in pages)
    assert all({"anchor35", "anchor70"} <= set(p["stimuli"]) for p in pages)


def test_analysis_matches_scipy_by_hand(created: Path, tmp_path: Path) -> None:
    """Ratings of the created test's trials through a webMUSHRA CSV: each figure of analysis.json recomputed
    with scipy.stats (t-interval, Wilcoxon signed-rank, Holm, Friedman) and BS.1534-3's quartiles."""
    test = load_test(created)
    rng = np.random.default_rng(7)
    level = {"reference": 97, "anchor35": 20, "anchor70": 45, "close": 75, "tts": 55}
    rows = []
    for li, trial in itertools.product(range(6), test.trials):
        for c in test.conditions:
            score = int(np.clip(level[c] + rng.integers(-12, 13), 0, 100))
            score = max(score, 91) if c == "reference" else min(score, 89) if c == "anchor70" else score
            rows.append(RatingRow(test.test_id, f"L{li}", trial.id, c, score))
    path = tmp_path / "mushra.csv"
    path.write_text(ratings_csv(rows))
    assert main(["mushra", "analyze", str(path), "--out", str(tmp_path / "r")]) == 0
    a = json.loads((tmp_path / "r" / "analysis.json").read_text())
    assert a["excluded"] == [] and a["n_ratings_used"] == len(rows)
    by = {s["condition"]: s for s in a["stats"]}
    for c in test.conditions:
        x = np.array([r.rating_score for r in rows if r.rating_stimulus == c], float)
        low, high = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
        assert (by[c]["n"], by[c]["mean"]) == (x.size, pytest.approx(x.mean()))
        assert (by[c]["ci95_low"], by[c]["ci95_high"]) == (pytest.approx(low), pytest.approx(high))
        assert by[c]["median"] == pytest.approx(np.median(x))
        assert (by[c]["q1"], by[c]["q3"]) == quartiles(x)
        m = np.array([np.mean([r.rating_score for r in rows if r.rating_stimulus == c and r.listener == li])
                      for li in sorted({r.listener for r in rows})])
        low, high = stats.t.interval(0.95, m.size - 1, loc=m.mean(), scale=stats.sem(m))
        assert (by[c]["ci95_listeners_low"], by[c]["ci95_listeners_high"]) == (pytest.approx(low), pytest.approx(high))

    def paired(a_: str, b_: str) -> tuple[np.ndarray, np.ndarray]:
        key = sorted({(r.listener, r.trial_id) for r in rows})
        s = {(r.listener, r.trial_id, r.rating_stimulus): r.rating_score for r in rows}
        return (np.array([s[(*k, a_)] for k in key], float), np.array([s[(*k, b_)] for k in key], float))

    pairs = [("close", "tts"), ("close", "reference"), ("tts", "reference")]
    p = [stats.wilcoxon(*paired(x, y)).pvalue for x, y in pairs]
    order = np.argsort(p)
    holm = np.maximum.accumulate([min(1.0, (len(p) - i) * p[j]) for i, j in enumerate(order)])
    expected_holm = dict(zip([pairs[j] for j in order], holm, strict=True))
    for t in a["tests"]:
        i = pairs.index((t["a"], t["b"]))
        assert t["p"] == pytest.approx(p[i]) and t["p_holm"] == pytest.approx(expected_holm[pairs[i]])
    # over listeners: each listener's mean of the two conditions, one pair per listener
    listeners = sorted({r.listener for r in rows})

    def listener_means(c: str) -> np.ndarray:
        return np.array([np.mean([r.rating_score for r in rows if r.listener == li and r.rating_stimulus == c])
                         for li in listeners])

    p_l = [stats.wilcoxon(listener_means(x), listener_means(y)).pvalue for x, y in pairs]
    order = np.argsort(p_l)
    holm_l = np.maximum.accumulate([min(1.0, (len(p_l) - i) * p_l[j]) for i, j in enumerate(order)])
    expected_l = dict(zip([pairs[j] for j in order], holm_l, strict=True))
    for t in a["tests"]:
        i = pairs.index((t["a"], t["b"]))
        assert t["n_listeners"] == len(listeners) and t["p_listeners"] == pytest.approx(p_l[i])
        assert t["p_listeners_holm"] == pytest.approx(expected_l[pairs[i]])
        assert t["significant_listeners"] == (expected_l[pairs[i]] < 0.05)
    means = np.array([[np.mean([r.rating_score for r in rows if r.listener == li and r.rating_stimulus == c])
                       for c in test.conditions] for li in sorted({r.listener for r in rows})])
    fried = stats.friedmanchisquare(*means.T)
    assert a["friedman"]["statistic"] == pytest.approx(fried.statistic)
    assert a["friedman"]["p"] == pytest.approx(fried.pvalue)


def test_quartiles_are_the_standards_not_numpys() -> None:
    """BS.1534-3 §4.1.2: Q1/Q3 are the medians of the lower/upper half (the median grade in both when n is odd)."""
    assert quartiles([10, 20, 30, 40]) == (15.0, 35.0)  # numpy's default: 17.5, 32.5
    assert quartiles([40, 10, 30, 20, 50]) == (20.0, 40.0)
    assert quartiles([1, 2, 3, 4, 5, 6, 7]) == (2.5, 5.5)  # numpy's default: 2.5, 5.5 too; hinges agree here
    assert all(np.isnan(quartiles([])))


def test_ratings_csv_has_webmushras_layout(tmp_path: Path) -> None:
    """webMUSHRA's service/write.php: session_test_id, participant fields, session_uuid, trial_id, rating_stimulus,
    rating_score, rating_time, rating_comment; one row per rating. pandas reads it; our reader reads it back."""
    import pandas as pd

    from anim400k.evaluate.webmushra import read_ratings_csv

    rows = [RatingRow("t", li, "trial01", c, s, 1200) for li in ("a", "b") for c, s in (("reference", 100), ("x", 40))]
    path = tmp_path / "mushra.csv"
    path.write_text(ratings_csv(rows))
    df = pd.read_csv(path)
    assert list(df.columns) == ["session_test_id", "listener", "session_uuid", "trial_id", "rating_stimulus",
                                "rating_score", "rating_time", "rating_comment"]
    assert len(df) == len(rows) and list(df["session_uuid"]) == ["a", "a", "b", "b"]
    assert read_ratings_csv(path) == rows


def test_each_listener_gets_random_trial_and_stimulus_orders(created: Path, tmp_path: Path) -> None:
    """BS.1534-3 §5.3: every trial offers the open reference plus, blind and in random order, the hidden
    reference, both anchors and every system; the order of the rated trials is random per listener too."""
    import sqlite3

    from anim400k.evaluate.mushra_store import MushraStore

    test = load_test(created)
    store = MushraStore(tmp_path / "ratings.sqlite")
    listeners = [store.join(f"invite{i}", test) for i in range(30)]
    orders = set()
    for li in listeners:
        a = store.next_assignment(li)
        conds = [store.resolve(t).condition for t in a.stimuli]
        assert sorted(conds) == sorted(test.conditions) and "reference" in conds
        assert store.resolve(a.reference).kind == "reference"
        orders.add(tuple(conds))
    assert len(orders) > 1
    with sqlite3.connect(tmp_path / "ratings.sqlite") as c:
        q = "SELECT listener, trial FROM assignments WHERE training=0 ORDER BY listener, position"
        rows = c.execute(q).fetchall()
    trial_orders = {tuple(t for li2, t in rows if li2 == li) for li in listeners}
    assert len(trial_orders) == 2  # two rated trials: both orders occur among 30 listeners
