"""MUSHRA analysis: ITU-R BS.1534-3 post-screening, per-condition statistics, paired tests, report.

Input is a list of :class:`~anim400k.evaluate.webmushra.RatingRow` (from the test's SQLite store
or a webMUSHRA CSV) with at most one rating per (listener, trial, stimulus): every statistic uses
the same rows, and rows that repeat a key are refused (:func:`repeated_rating`), never merged.
Post-screening (BS.1534-3 §4.1.2, on by default, reported either way) excludes a listener who rates the
hidden reference below 90 in more than 15 % of their trials (items), or the mid anchor (7 kHz) above 90
in more than 15 %; an item on which more than 25 % of the listeners rate the mid anchor above 90 is not
counted for the anchor criterion (the standard's caveat: the anchor did not degrade that item).
Per condition: mean with a 95 % t-interval over every rating (pooled as if independent, the documented
convention), and a
second 95 % t-interval over the listeners' mean ratings (n = listeners: repeated measures of one
listener count once), median, standard deviation; per item (trial) and condition: mean with a
95 % t-interval. A Friedman test across conditions (and across systems, with three or more) on
listeners' per-condition means. Systems are compared pairwise (and each against the hidden
reference) with the Wilcoxon signed-rank test on ratings paired by (listener, trial),
Holm-corrected over the tests that could be computed (a pair with no paired ratings has p NaN).
"""

from __future__ import annotations

import html
import itertools
import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..fsutil.atomic import jsonable, save_figure, write_json_atomic, write_text_atomic
from ..fsutil.no_clobber import refuse_overwriting
from ..fsutil.output_sets import committed_together
from .stimuli import REFERENCE
from .webmushra import RatingRow, ratings_csv

MID_ANCHOR = "anchor70"
LOW_ANCHOR = "anchor35"


@dataclass
class Screening:
    """Post-screening outcome per listener."""

    listener: str
    trials: int
    ref_below: int
    anchor_above: int
    excluded: bool
    reason: str = ""
    #: trials counted for the mid-anchor criterion (those the listener rated the anchor in, less the items
    #: of :func:`undegraded_anchor_items`)
    anchor_trials: int = 0


@dataclass
class ConditionStats:
    """Statistics of one condition's ratings.

    ``n``, ``mean``, ``ci95_low``/``ci95_high`` pool every rating as independent (the documented
    convention); ``n_listeners``, ``mean_listeners`` and ``ci95_listeners_low``/``_high`` are the mean and
    95 % t-interval over the listeners' mean ratings of the condition (n = listeners), which accounts
    for one listener's ratings not being independent. The two means agree when every listener rated
    the condition equally often.
    """

    condition: str
    n: int
    mean: float
    ci95_low: float
    ci95_high: float
    median: float
    std: float
    n_listeners: int = 0
    mean_listeners: float = math.nan
    ci95_listeners_low: float = math.nan
    ci95_listeners_high: float = math.nan
    #: lower and upper quartile by BS.1534-3 §4.1.2 (:func:`quartiles`); their difference is the IQR the
    #: standard recommends as the confidence about the median (§9.1)
    q1: float = math.nan
    q3: float = math.nan


@dataclass
class PairTest:
    """A paired Wilcoxon signed-rank test between two conditions (``statistic``/``p`` NaN with no pairs).

    ``n``, ``statistic``, ``p``: on the ratings paired by (listener, trial), each pair counted as independent (as
    most listening-test papers do; optimistic, since one listener's trials are not independent). ``n_listeners``,
    ``p_listeners``: the same test on each listener's mean rating of the two over the trials where they rated
    both, one pair per listener (the repeated ratings not counted as independent; with 5 listeners or fewer no
    two-sided p falls below 0.05). Both sets of p-values are Holm-corrected over the pairs; ``significant`` is the
    per-rating one's verdict, ``significant_listeners`` the per-listener one's.
    """

    a: str
    b: str
    n: int
    mean_diff: float
    statistic: float
    p: float
    p_holm: float = math.nan
    significant: bool = False
    n_listeners: int = 0
    p_listeners: float = math.nan
    p_listeners_holm: float = math.nan
    significant_listeners: bool = False


@dataclass
class ItemStats:
    """One condition's ratings on one item (trial / clip): n, mean and 95 % t-interval (BS.1534-3)."""

    trial: str
    condition: str
    n: int
    mean: float
    ci95_low: float
    ci95_high: float


@dataclass
class FriedmanTest:
    """Friedman test across ``conditions`` on listeners' per-condition mean ratings (blocks = listeners)."""

    conditions: list[str]
    n_listeners: int
    statistic: float
    p: float
    significant: bool = False


@dataclass
class Analysis:
    """Everything the report shows."""

    test_id: str
    conditions: list[str]
    systems: list[str]
    screening: list[Screening]
    stats: list[ConditionStats]
    tests: list[PairTest]
    n_ratings_used: int
    alpha: float = 0.05
    items: list[ItemStats] = field(default_factory=list)
    friedman: FriedmanTest | None = None
    friedman_systems: FriedmanTest | None = None
    #: whether post-screening excluded listeners (``--no-post-screening``: reported, nobody excluded)
    post_screening: bool = True
    #: items (trials) left out of the mid-anchor criterion: > 25 % of the listeners rated the anchor above 90
    anchor_items_ignored: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def excluded(self) -> list[str]:
        """Listeners removed by post-screening."""
        return [s.listener for s in self.screening if s.excluded]


#: BS.1534-3 §4.1.2: an item on which more than this fraction of the listeners rate the mid anchor above the
#: anchor threshold does not count for excluding anyone on the mid-anchor criterion
ANCHOR_ITEM_FRACTION = 0.25


def undegraded_anchor_items(
    rows: Sequence[RatingRow], anchor_threshold: float = 90, item_fraction: float = ANCHOR_ITEM_FRACTION
) -> list[str]:
    """Items (trials) on which more than ``item_fraction`` of the listeners who rated the mid anchor rated it
    above ``anchor_threshold``: BS.1534-3 §4.1.2's caveat (the anchor processing did not degrade the item
    much, so "assessors should not be excluded on the basis of scores for that item")."""
    above: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        if r.rating_stimulus == MID_ANCHOR:
            above[r.trial_id].append(r.rating_score > anchor_threshold)
    return sorted(t for t, v in above.items() if v and sum(v) / len(v) > item_fraction)


def post_screen(
    rows: Sequence[RatingRow],
    ref_threshold: float = 90,
    anchor_threshold: float = 90,
    max_fraction: float = 0.15,
    item_fraction: float = ANCHOR_ITEM_FRACTION,
) -> list[Screening]:
    """BS.1534-3 §4.1.2 post-screening of every listener in ``rows``.

    Excluded: a listener who rates the hidden reference below ``ref_threshold`` for more than ``max_fraction``
    of their items, or the mid anchor above ``anchor_threshold`` for more than ``max_fraction`` of their items,
    not counting the items of :func:`undegraded_anchor_items` for the anchor.
    """
    ignored = set(undegraded_anchor_items(rows, anchor_threshold, item_fraction))
    by_listener: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        by_listener[r.listener][r.trial_id][r.rating_stimulus] = r.rating_score
    out = []
    for listener, trials in sorted(by_listener.items()):
        with_ref = [t for t in trials.values() if REFERENCE in t]
        with_anchor = [t for tid, t in trials.items() if MID_ANCHOR in t and tid not in ignored]
        ref_below = sum(t[REFERENCE] < ref_threshold for t in with_ref)
        anchor_above = sum(t[MID_ANCHOR] > anchor_threshold for t in with_anchor)
        reasons = []
        if with_ref and ref_below / len(with_ref) > max_fraction:
            reasons.append(
                f"rated the hidden reference below {ref_threshold:g} in {ref_below}/{len(with_ref)} trials"
            )
        if with_anchor and anchor_above / len(with_anchor) > max_fraction:
            reasons.append(
                f"rated the mid anchor above {anchor_threshold:g} in {anchor_above}/{len(with_anchor)} trials"
            )
        out.append(
            Screening(listener, len(trials), ref_below, anchor_above, bool(reasons), "; ".join(reasons),
                      len(with_anchor))
        )
    return out


def t_interval(x: np.ndarray) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``x`` and its 95 % Student-t interval (NaN bounds for n < 2)."""
    from scipy import stats

    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def quartiles(scores: Sequence[float]) -> tuple[float, float]:
    """``(Q1, Q3)`` as BS.1534-3 §4.1.2 defines them: the medians of the lower and upper half of the sorted
    grades, both halves holding the median grade when n is odd (Tukey's hinges; numpy's default
    interpolation differs: for 10, 20, 30, 40 it gives 17.5 and 32.5, the standard 15 and 35). NaN when empty."""
    x = np.sort(np.asarray(scores, dtype=float))
    n = x.size
    if n == 0:
        return math.nan, math.nan
    half = (n + 1) // 2
    return float(np.median(x[:half])), float(np.median(x[n - half :]))


def condition_stats(
    condition: str, scores: Sequence[float], listener_means: Sequence[float] = ()
) -> ConditionStats:
    """Mean, 95 % t confidence interval (every rating pooled), median and sample standard deviation;
    with ``listener_means`` (each listener's mean rating of the condition) also their mean and 95 % t-interval."""
    x = np.asarray(scores, dtype=float)
    n = x.size
    if n == 0:
        return ConditionStats(condition, 0, math.nan, math.nan, math.nan, math.nan, math.nan)
    mean, low, high = t_interval(x)
    std = float(x.std(ddof=1)) if n > 1 else math.nan  # one rating has no spread (it was 0.0)
    means = np.asarray(listener_means, dtype=float)
    lm, llow, lhigh = t_interval(means)
    q1, q3 = quartiles(x)
    return ConditionStats(
        condition, n, mean, low, high, float(np.median(x)), std, int(means.size), lm, llow, lhigh, q1, q3
    )


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1).

    A NaN p-value (a test that could not be computed) stays NaN and is not counted among the tests.
    """
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full(p.size, math.nan)
    done = np.flatnonzero(~np.isnan(p))
    m = done.size
    running = 0.0
    for rank, i in enumerate(done[np.argsort(p[done], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def _wilcoxon(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(W, p)`` of a two-sided Wilcoxon signed-rank test of paired ``x``, ``y`` (zero differences dropped);
    ``(0, 1)`` when every pair is equal, NaN with no pairs."""
    from scipy.stats import wilcoxon

    if x.size == 0:
        return math.nan, math.nan
    if np.all(x == y):
        return 0.0, 1.0
    res = wilcoxon(x, y, zero_method="wilcox", alternative="two-sided")
    return float(res.statistic), float(res.pvalue)


def paired_test(a: str, b: str, pairs: list[tuple[float, float]], listeners: Sequence[str] | None = None) -> PairTest:
    """Wilcoxon signed-rank test of condition ``a`` against ``b`` on paired ratings, and (``listeners``: whose
    each pair is) on each listener's mean of the pairs (:class:`PairTest`)."""
    x = np.array([p[0] for p in pairs], float)
    y = np.array([p[1] for p in pairs], float)
    n = len(pairs)
    if n == 0:  # nothing to compare (e.g. every listener who rated both was excluded): not computed
        return PairTest(a, b, 0, math.nan, math.nan, math.nan)
    statistic, p = _wilcoxon(x, y)
    test = PairTest(a, b, n, float(np.mean(x - y)), statistic, p)
    if listeners is not None:
        who = np.asarray(listeners)
        names = sorted(set(listeners))
        mx = np.array([x[who == li].mean() for li in names])
        my = np.array([y[who == li].mean() for li in names])
        test.n_listeners, test.p_listeners = len(names), _wilcoxon(mx, my)[1]
    return test


def item_stats(rows: Sequence[RatingRow], conditions: Sequence[str]) -> list[ItemStats]:
    """Per trial and condition: n, mean and 95 % t-interval over listeners (trials sorted by ID)."""
    by: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by[r.trial_id][r.rating_stimulus].append(r.rating_score)
    out = []
    for trial in sorted(by):
        for c in conditions:
            if c in by[trial]:
                s = condition_stats(c, by[trial][c])
                out.append(ItemStats(trial, c, s.n, s.mean, s.ci95_low, s.ci95_high))
    return out


def friedman_test(rows: Sequence[RatingRow], conditions: Sequence[str], alpha: float = 0.05) -> FriedmanTest | None:
    """Friedman test (``scipy.stats.friedmanchisquare``) across ``conditions`` over listeners' mean ratings.

    Each listener contributes their mean rating of every condition (a listener who did not rate
    every condition is left out). None with fewer than 3 conditions or 2 listeners.
    """
    import warnings

    from scipy.stats import friedmanchisquare

    conditions = list(conditions)
    if len(conditions) < 3:
        return None
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per[r.listener][r.rating_stimulus].append(r.rating_score)
    listeners = sorted(li for li, d in per.items() if all(c in d for c in conditions))
    if len(listeners) < 2:
        return None
    m = np.array([[np.mean(per[li][c]) for c in conditions] for li in listeners], float)
    if np.all(m == m[:, :1]):  # every listener rated every condition alike: no difference at all
        return FriedmanTest(conditions, len(listeners), 0.0, 1.0, False)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = friedmanchisquare(*m.T)
    stat, p = float(res.statistic), float(res.pvalue)
    if not math.isfinite(p):
        stat, p = 0.0, 1.0
    return FriedmanTest(conditions, len(listeners), stat, p, p < alpha)


def repeated_rating(rows: Sequence[RatingRow]) -> tuple[int, int] | None:
    """``(first, again)``: the indices in ``rows`` of the first (listener, trial, stimulus) rated twice; else None."""
    seen: dict[tuple[str, str, str], int] = {}
    for i, r in enumerate(rows):
        key = (r.listener, r.trial_id, r.rating_stimulus)
        if key in seen:
            return seen[key], i
        seen[key] = i
    return None


def check_one_rating_each(rows: Sequence[RatingRow]) -> None:
    """:class:`InputError` when some listener rated a stimulus of a trial twice in ``rows``.

    The paired tests and post-screening pair ratings by (listener, trial, stimulus): a repeat would
    make them keep one rating while the per-condition statistics count both. A webMUSHRA CSV is
    checked as it is read, with line numbers (:func:`~anim400k.evaluate.webmushra.read_ratings_csv`).
    """
    from ..errors import InputError

    rep = repeated_rating(rows)
    if rep is not None:
        r = rows[rep[1]]
        raise InputError(
            f"listener {r.listener!r} rated {r.rating_stimulus!r} of trial {r.trial_id!r} twice "
            f"(rows {rep[0] + 1} and {rep[1] + 1}): give one rating per listener, trial and stimulus"
        )


def listener_means(rows: Sequence[RatingRow]) -> dict[str, list[float]]:
    """Per condition: each listener's mean rating of it (listeners in sorted order)."""
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        per[r.rating_stimulus][r.listener].append(r.rating_score)
    return {c: [float(np.mean(v[li])) for li in sorted(v)] for c, v in per.items()}


def analyze_rows(
    rows: Sequence[RatingRow],
    systems: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    test_id: str = "",
    alpha: float = 0.05,
    post_screening: bool = True,
) -> Analysis:
    """Post-screen ``rows`` and compute statistics and Holm-corrected paired tests on the kept ones.

    ``rows`` hold one rating per (listener, trial, stimulus) (:func:`check_one_rating_each`). With
    ``post_screening`` False the screening is still computed and reported, but nobody is excluded (each
    listener it would exclude says so in ``reason``).
    """
    check_one_rating_each(rows)
    screening = post_screen(rows)
    if not post_screening:
        for s in screening:
            if s.excluded:
                s.excluded, s.reason = False, f"kept (post-screening off); would be excluded: {s.reason}"
    excluded = {s.listener for s in screening if s.excluded}
    kept = [r for r in rows if r.listener not in excluded]
    seen = list(dict.fromkeys(r.rating_stimulus for r in rows))
    reserved = (REFERENCE, LOW_ANCHOR, MID_ANCHOR)
    conditions = (
        list(conditions)
        if conditions
        else ([c for c in reserved if c in seen] + [c for c in seen if c not in reserved])
    )
    systems = list(systems) if systems else [c for c in conditions if c not in reserved]
    scores: dict[str, list[float]] = defaultdict(list)
    keyed: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    for r in kept:
        scores[r.rating_stimulus].append(r.rating_score)
        keyed[r.rating_stimulus][(r.listener, r.trial_id)] = r.rating_score
    means = listener_means(kept)
    stats_ = [condition_stats(c, scores.get(c, []), means.get(c, [])) for c in conditions]
    pairs = list(itertools.combinations(systems, 2))
    if REFERENCE in conditions:
        pairs += [(s, REFERENCE) for s in systems]
    tests = []
    for a, b in pairs:
        common = sorted(set(keyed[a]) & set(keyed[b]))
        tests.append(paired_test(a, b, [(keyed[a][k], keyed[b][k]) for k in common], [k[0] for k in common]))
    for t, p, pl in zip(tests, holm([t.p for t in tests]), holm([t.p_listeners for t in tests]), strict=True):
        t.p_holm, t.p_listeners_holm = p, pl
        t.significant = bool(p < alpha)  # NaN (not computed) is never significant
        t.significant_listeners = bool(pl < alpha)
    return Analysis(
        test_id,
        conditions,
        systems,
        screening,
        stats_,
        tests,
        len(kept),
        alpha,
        items=item_stats(kept, conditions),
        friedman=friedman_test(kept, [c for c in conditions if scores.get(c)], alpha),
        friedman_systems=friedman_test(kept, [c for c in systems if scores.get(c)], alpha),
        post_screening=post_screening,
        anchor_items_ignored=undegraded_anchor_items(rows),
    )


def plot(analysis: Analysis, rows: Sequence[RatingRow], path: str | Path) -> Path:
    """Box plot of the kept ratings per condition with the mean and its 95 % CI (PNG).

    Condition names in a script the font lacks (``システムA``) draw as boxes, without matplotlib's
    "Glyph ... missing from font" warnings.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*Glyph .* missing from", category=UserWarning)
        return _plot(analysis, rows, path)


def _plot(analysis: Analysis, rows: Sequence[RatingRow], path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    excluded = set(analysis.excluded)
    data = [
        [r.rating_score for r in rows if r.rating_stimulus == c and r.listener not in excluded]
        for c in analysis.conditions
    ]
    fig, ax = plt.subplots(figsize=(1.3 * len(analysis.conditions) + 2.5, 4.5), dpi=110)
    for lo, hi, color in (
        (80, 100, "#2e9d5b"),
        (60, 80, "#7cbf4a"),
        (40, 60, "#e5b931"),
        (20, 40, "#ea8a35"),
        (0, 20, "#d9463e"),
    ):
        ax.axhspan(lo, hi, color=color, alpha=0.08, lw=0)
    pos = np.arange(1, len(data) + 1)
    ax.boxplot(
        [d if d else [np.nan] for d in data],
        positions=pos,
        widths=0.5,
        showfliers=True,
        medianprops={"color": "#1d2433"},
    )
    for x, s in zip(pos, analysis.stats, strict=True):
        if s.n:
            err = [[s.mean - s.ci95_low], [s.ci95_high - s.mean]] if s.n > 1 else None
            ax.errorbar(x + 0.32, s.mean, yerr=err, fmt="o", color="#3c6ee6", capsize=4, ms=5)
    ax.set_xticks(pos, analysis.conditions, rotation=20)
    ax.set_ylim(0, 100)
    ax.set_ylabel("MUSHRA score")
    ax.set_title("Ratings after post-screening (box) and mean with 95 % CI (blue)")
    fig.tight_layout()
    return save_figure(fig, path)


def fmt_num(x: float, digits: int = 1, sign: bool = False) -> str:
    """``x`` with ``digits`` decimals (and a ``+`` when ``sign``); ``–`` for NaN (not computed)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def fmt_p(p: float, digits: int = 4) -> str:
    """A p-value to ``digits`` significant digits; ``–`` for one not computed (NaN)."""
    return "–" if p is None or math.isnan(p) else f"{p:.{digits}g}"


def report_html(analysis: Analysis, plot_name: str) -> str:
    """A self-contained HTML report (the PNG sits beside it)."""
    e = html.escape
    stat_rows = "".join(
        f"<tr><td>{e(s.condition)}</td><td>{s.n}</td><td>{fmt_num(s.mean)}</td>"
        f"<td>[{fmt_num(s.ci95_low)}, {fmt_num(s.ci95_high)}]</td><td>{s.n_listeners}</td>"
        f"<td>[{fmt_num(s.ci95_listeners_low)}, {fmt_num(s.ci95_listeners_high)}]</td><td>{fmt_num(s.median)}</td>"
        f"<td>[{fmt_num(s.q1)}, {fmt_num(s.q3)}]</td>"
        f"<td>{fmt_num(s.std)}</td></tr>"
        for s in analysis.stats
    )
    test_rows = "".join(
        f"<tr><td>{e(t.a)} vs {e(t.b)}</td><td>{t.n}</td><td>{fmt_num(t.mean_diff)}</td>"
        f"<td>{fmt_num(t.statistic)}</td>"
        f"<td>{fmt_p(t.p)}</td><td>{fmt_p(t.p_holm)}</td><td>{'yes' if t.significant else 'no'}</td>"
        f"<td>{t.n_listeners}</td><td>{fmt_p(t.p_listeners_holm)}</td>"
        f"<td>{'yes' if t.significant_listeners else 'no'}</td></tr>"
        for t in analysis.tests
    )
    item_rows = "".join(
        f"<tr><td>{e(i.trial)}</td><td>{e(i.condition)}</td><td>{i.n}</td><td>{fmt_num(i.mean)}</td>"
        f"<td>[{fmt_num(i.ci95_low)}, {fmt_num(i.ci95_high)}]</td></tr>"
        for i in analysis.items
    )
    fried = "".join(
        f"<tr><td>{e(label)}</td><td>{e(', '.join(f.conditions))}</td><td>{f.n_listeners}</td>"
        f"<td>{fmt_num(f.statistic, 2)}</td><td>{f.p:.4g}</td><td>{'yes' if f.significant else 'no'}</td></tr>"
        for label, f in (("all conditions", analysis.friedman), ("systems", analysis.friedman_systems))
        if f is not None
    ) or "<tr><td colspan='6'>not computable (needs 3 conditions and 2 listeners)</td></tr>"
    scr_rows = "".join(
        f"<tr><td><code>{e(s.listener)}</code></td><td>{s.trials}</td><td>{s.ref_below}</td><td>{s.anchor_above}</td>"
        f"<td>{'excluded: ' + e(s.reason) if s.excluded else 'kept'}</td></tr>"
        for s in analysis.screening
    )
    screened = (
        f"{len(analysis.excluded)} excluded by ITU-R BS.1534-3 post-screening (§4.1.2: hidden reference below 90 "
        "or mid anchor above 90 in more than 15 % of a listener's items)."
        if analysis.post_screening
        else "post-screening was not applied (--no-post-screening): nobody excluded; the table below says whom "
        "it would exclude."
    )
    if analysis.anchor_items_ignored:
        screened += (
            " Items not counted for the mid-anchor criterion (more than 25 % of the listeners rated the anchor "
            f"above 90): {e(', '.join(analysis.anchor_items_ignored))}."
        )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>MUSHRA report {e(analysis.test_id)}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;
color:#1d2433}} table{{border-collapse:collapse;margin:8px 0 20px}}
td,th{{border:1px solid #d5dbe7;padding:5px 10px;text-align:left}}
th{{background:#f4f6fb}}img{{max-width:100%}}</style></head><body>
<h1>MUSHRA report: {e(analysis.test_id)}</h1>
<p>{analysis.n_ratings_used} ratings from {len(analysis.screening) - len(analysis.excluded)} listeners kept;
{screened}</p>
<img src="{e(plot_name)}" alt="ratings per condition">
<h2>Per condition</h2><table><tr><th>condition</th><th>n</th><th>mean</th><th>95 % CI (t, ratings pooled)</th>
<th>listeners</th><th>95 % CI (t, over listeners' means)</th><th>median</th><th>Q1, Q3 (BS.1534-3)</th>
<th>std</th></tr>
{stat_rows}</table>
<p>The first interval treats every rating as independent; the second takes each listener's mean rating
of the condition as one observation (n = listeners), so one listener's repeated ratings count once.</p>
<h2>Friedman test (listeners' per-condition means, α = {analysis.alpha:g})</h2>
<table><tr><th>across</th><th>conditions</th><th>listeners</th><th>χ²</th><th>p</th><th>significant</th></tr>
{fried}</table>
<h2>Paired tests (Wilcoxon signed-rank, Holm-corrected, α = {analysis.alpha:g})</h2>
<p>On the ratings paired by listener and trial, each pair counted as independent (as most listening-test papers
do; optimistic), and on each listener's mean ratings (one pair per listener; with 5 listeners or fewer no p falls
below 0.05).</p>
<table><tr><th>pair</th><th>n pairs</th><th>mean diff</th><th>W</th><th>p</th><th>p (Holm)</th>
<th>significant</th><th>listeners</th><th>p over listeners (Holm)</th><th>significant over listeners</th></tr>
{test_rows}</table>
<h2>Per item (trial), ITU-R BS.1534-3</h2><table><tr><th>trial</th><th>condition</th><th>n</th>
<th>mean</th><th>95 % CI (t)</th></tr>
{item_rows}</table>
<h2>Post-screening</h2><table><tr><th>listener</th><th>trials</th><th>reference &lt; 90</th>
<th>mid anchor &gt; 90</th>
<th>outcome</th></tr>{scr_rows}</table></body></html>
"""


#: the files :func:`write_report` writes into its folder
REPORT_FILES = ("report.html", "ratings.png", "mushra.csv", "analysis.json")


def write_report(analysis: Analysis, rows: Sequence[RatingRow], out: str | Path) -> Analysis:
    """Write ``analysis.json``, ``ratings.png``, ``report.html`` and ``mushra.csv`` into ``out``.

    The four are one set (:func:`~anim400k.fsutil.output_sets.committed_together`): each is written to a hidden
    temporary name and none replaces an earlier analysis's file until all four are complete, so an error or a kill
    while they are written leaves the earlier report whole (or none), never new and old files mixed.
    ``analysis.json`` is renamed first: a folder where only the renames were cut short is still recognised
    as an earlier analysis's (:func:`check_report_folder`), so the re-run may replace it.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    analysis.files = {
        k: str(out / v)
        for k, v in (
            ("html", "report.html"),
            ("plot", "ratings.png"),
            ("csv", "mushra.csv"),
            ("json", "analysis.json"),
        )
    }
    with committed_together(out / name for name in ("analysis.json", "report.html", "ratings.png", "mushra.csv")):
        write_json_atomic(out / "analysis.json", jsonable(asdict(analysis) | {"excluded": analysis.excluded}))
        plot(analysis, rows, out / "ratings.png")
        write_text_atomic(out / "report.html", report_html(analysis, "ratings.png"))
        write_text_atomic(out / "mushra.csv", ratings_csv(rows))
    return analysis


def _is_analysis_json(path: Path) -> bool:
    """Whether ``path`` is an ``analysis.json`` that :func:`write_report` wrote (a JSON object with its keys)."""
    from ..strictload import is_json_object_with

    return is_json_object_with(path, {"test_id", "stats", "screening", "files"})


def check_report_folder(out: str | Path) -> None:
    """Refuse (:class:`InputError`, one line naming the folder) a ``--out`` that ``mushra analyze`` may not
    write its report into.

    Refused: a release folder or a folder inside one (one holding ``anim400k_annotations.json``), a file, and
    a folder holding anything but the report's own files (:data:`REPORT_FILES`, a killed run's temporary
    files of them, also unmarked as earlier versions named them, the run's lock), or holding report files
    without the ``analysis.json`` of an earlier analysis (a lone ``mushra.csv`` may be someone's ratings). A
    missing or empty folder, or an earlier analysis's, passes: a re-run replaces its files.
    """
    from ..errors import InputError
    from ..fsutil.locks import LOCK_FILE
    from ..fsutil.temp_files import is_temp_of
    from ..tasks import refuse_release_folder

    refuse_release_folder(out, advice="write the MUSHRA report to a folder of its own")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("--out is a file: give a folder to write into", out)
    if not out.is_dir():
        return
    advice = ("give a new or empty folder, or the folder of an earlier mushra analyze (its report is "
              "replaced)")
    for entry in sorted(out.iterdir()):
        ours = entry.name in REPORT_FILES or entry.name == LOCK_FILE or is_temp_of(entry.name, *REPORT_FILES,
                                                                                   legacy=True)
        if not (ours and entry.is_file() and not entry.is_symlink()):
            raise InputError(f"--out holds {entry.name!r}, which mushra analyze did not write: {advice}", out)
    present = [name for name in REPORT_FILES if (out / name).is_file()]
    if present and not _is_analysis_json(out / "analysis.json"):
        raise InputError(f"--out holds {present[0]!r} but no analysis.json of an earlier mushra analyze, so "
                         f"it may not be the report's: {advice}", out)



def load_rows(source: str | Path) -> tuple[list[RatingRow], list[str] | None, list[str] | None, str]:
    """Ratings from a test folder (its store, read-only) or a webMUSHRA CSV; plus systems, conditions, test id.

    Rows of training pages (:func:`is_training_trial`) of a CSV are dropped. A test folder without a
    store yet is :class:`InputError` ("no ratings yet"); nothing is written into it.
    """
    from ..errors import InputError
    from .mushra_config import STORE_FILE, is_training_trial, load_test
    from .mushra_store import MushraStore
    from .webmushra import read_ratings_csv

    src = Path(source)
    if not os.path.lexists(src):  # it said 'no such ratings CSV' of a test folder's name
        raise InputError("no such test folder or ratings CSV", src)
    if src.is_dir():
        test = load_test(src)
        try:
            store = MushraStore(src / STORE_FILE, readonly=True)
        except FileNotFoundError:
            raise InputError(f"no ratings yet (no {STORE_FILE}: serve the test first)", src) from None
        rows = [
            RatingRow(test.test_id, r.listener, r.trial, r.condition, r.score, r.time_ms)
            for r in store.ratings()
        ]
        return rows, test.systems, test.conditions, test.test_id
    every = read_ratings_csv(src)
    rows = [r for r in every if not is_training_trial(r.trial_id)]
    return rows, None, None, every[0].session_test_id if every else src.stem


def analyze(source: str | Path, out: str | Path, post_screening: bool = True) -> Analysis:
    """Analyse a test folder or a webMUSHRA CSV and write the report into ``out``.

    ``out`` must pass :func:`check_report_folder` (checked before the ratings are read). The report is
    written under ``out``'s lock (:func:`~anim400k.fsutil.locks.folder_lock`: a second analysis into the same
    folder is refused in one line), after deleting the temporary files a killed run left there.
    """
    from ..errors import InputError
    from ..fsutil.locks import folder_lock
    from ..fsutil.temp_files import remove_stale_temps

    refuse_overwriting([(f"--out {name}", Path(out) / name) for name in REPORT_FILES], {"SOURCE": source})
    check_report_folder(out)
    rows, systems, conditions, test_id = load_rows(source)
    if not rows:
        raise InputError("no ratings to analyse yet", source)
    analysis = analyze_rows(rows, systems, conditions, test_id, post_screening=post_screening)
    Path(out).mkdir(parents=True, exist_ok=True)
    with folder_lock(out, "mushra analyze"):
        # the folder holds only the report's files (check_report_folder): an earlier version's unmarked
        # temporaries there are its too
        remove_stale_temps(*(Path(out) / name for name in REPORT_FILES), legacy=True)
        return write_report(analysis, rows, out)
