"""Outputs written as one set (:func:`anim400k.fsutil.output_sets.committed_together`): ``evaluate``'s metrics files and
``mushra analyze``'s report are replaced all together or not at all. Before, each file was renamed into place
as soon as it was written, so a failure (or Ctrl-C, SIGTERM, SIGKILL) while a later one was written left the
new first file beside the old others."""

from __future__ import annotations

from pathlib import Path

import pytest

from anim400k.fsutil.atomic import atomic_path, write_text_atomic
from anim400k.fsutil.output_sets import committed_together
from anim400k.fsutil.temp_files import is_our_temp


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _fail_while_writing(path: Path | str, *args: object, **kwargs: object) -> None:
    """A writer that dies half-way through its file (its temporary holds part of it)."""
    with atomic_path(path) as tmp:
        tmp.write_text("half of it", encoding="utf-8")
        raise OSError(5, "Input/output error (injected by the test)")


@pytest.mark.parametrize("error", [OSError, KeyboardInterrupt])
def test_a_failure_in_the_second_file_leaves_the_first_one_old(tmp_path: Path, error: type[BaseException]) -> None:
    a, b, c = (tmp_path / n for n in ("a.json", "b.csv", "c.txt"))
    for p in (a, b, c):
        p.write_text(f"old {p.name}", encoding="utf-8")
    with pytest.raises(error), committed_together([a, b, c]):
        write_text_atomic(a, "new a")
        with atomic_path(b) as tmp:
            tmp.write_text("half of b", encoding="utf-8")
            raise error("injected")
    assert [p.read_text() for p in (a, b, c)] == ["old a.json", "old b.csv", "old c.txt"]
    assert _names(tmp_path) == ["a.json", "b.csv", "c.txt"]  # no temporary file left


def test_the_set_is_renamed_only_when_every_file_is_written(tmp_path: Path) -> None:
    a, b, other = tmp_path / "a.json", tmp_path / "sub" / "b.csv", tmp_path / "other.txt"
    a.write_text("old", encoding="utf-8")
    with committed_together([a, b]):
        write_text_atomic(a, "new a")
        assert a.read_text() == "old"  # not yet: b is still to be written
        assert [n for n in _names(tmp_path) if is_our_temp(n)]  # its temporary, marked as ours
        write_text_atomic(a, "newer a")  # written twice: the last one counts, the first temporary goes
        write_text_atomic(other, "not in the set")
        assert other.read_text() == "not in the set"  # a file outside the set is atomic on its own, as always
        write_text_atomic(b, "new b")
    assert (a.read_text(), b.read_text()) == ("newer a", "new b")
    assert _names(tmp_path) == ["a.json", "other.txt", "sub"] and _names(b.parent) == ["b.csv"]
    write_text_atomic(a, "outside")  # after the block: written at once again
    assert a.read_text() == "outside"


def test_evaluate_metrics_files_are_replaced_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anim400k.evaluate import metrics_files
    from anim400k.evaluate.metrics import MetricsReport

    out = tmp_path / "m"
    old = metrics_files.write_metrics(MetricsReport("old-dubs", "ref", "energy", None, []), out)
    before = {name: (out / name).read_bytes() for name in metrics_files.METRICS_FILES}
    assert sorted(before) == sorted(p.name for p in old.values())
    monkeypatch.setattr(metrics_files, "write_text_atomic", _fail_while_writing)  # metrics.csv, the second file
    with pytest.raises(OSError, match="injected"):
        metrics_files.write_metrics(MetricsReport("new-dubs", "ref", "energy", None, []), out)
    assert {name: (out / name).read_bytes() for name in metrics_files.METRICS_FILES} == before
    assert b"old-dubs" in before["metrics.json"]
    assert _names(out) == sorted(metrics_files.METRICS_FILES)  # no temporary file left
    monkeypatch.undo()
    metrics_files.write_metrics(MetricsReport("new-dubs", "ref", "energy", None, []), out)
    assert b"new-dubs" in (out / "metrics.json").read_bytes()  # the happy path writes all three
    assert (out / "metrics.png").read_bytes() != before["metrics.png"]  # the title names the dubs
    assert _names(out) == sorted(metrics_files.METRICS_FILES)


def test_mushra_report_files_are_replaced_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from anim400k.evaluate import mushra_analysis
    from anim400k.evaluate.webmushra import RatingRow, ratings_csv

    def ratings(score: int) -> Path:
        rows = [RatingRow("t", f"p{i}", f"trial{j}", cond, score + i if cond == "sysA" else s - i)
                for i in range(4) for j in range(3) for cond, s in (("reference", 100), ("anchor", 20), ("sysA", 0))]
        path = tmp_path / f"ratings{score}.csv"
        path.write_text(ratings_csv(rows), encoding="utf-8")
        return path

    out = tmp_path / "report"
    mushra_analysis.analyze(ratings(70), out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(first) == ["analysis.json", "mushra.csv", "ratings.png", "report.html"]
    monkeypatch.setattr(mushra_analysis, "plot", lambda _a, _r, path: _fail_while_writing(path))  # ratings.png
    with pytest.raises(OSError, match="injected"):
        mushra_analysis.analyze(ratings(30), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # analysis.json too: the old one
    monkeypatch.undo()
    mushra_analysis.analyze(ratings(30), out)
    second = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(second) == sorted(first) and all(second[n] != first[n] for n in first)
