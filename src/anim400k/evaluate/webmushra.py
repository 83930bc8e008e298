"""webMUSHRA interoperability: read/write its YAML test configs and its results CSV.

webMUSHRA (audiolabs/webMUSHRA) describes a test as ``testname``, ``testId`` and a list of
``pages``; a page of ``type: mushra`` has ``id``, ``name``, ``content``, ``reference``,
``stimuli`` (key -> file) and ``createAnchor35``/``createAnchor70``. A nested list whose
first item is ``random`` is a block of pages shown in random order. Its results CSV has
the columns ``session_test_id``, the participant fields, ``session_uuid``, ``trial_id``, ``rating_stimulus``,
``rating_score``, ``rating_time``, ``rating_comment``; the hidden reference is rated as
stimulus ``reference`` and the anchors as ``anchor35``/``anchor70``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, yaml_problem
from ..fsutil.atomic import write_text_atomic
from ..fsutil.paths import within
from ..strictload import check_expanded_size
from .mushra_config import MushraTest, is_training_trial

#: webMUSHRA's ``mushra.csv`` layout (``service/write.php`` since 2017): ``session_test_id``, the participant
#: fields (ours: ``listener``), ``session_uuid`` (one per participant session; ours: the listener ID again, so
#: tools that group by it see one session per listener), then the rating fields
CSV_COLUMNS = (
    "session_test_id",
    "listener",
    "session_uuid",
    "trial_id",
    "rating_stimulus",
    "rating_score",
    "rating_time",
    "rating_comment",
)
#: columns that identify a participant, first present wins (else ``session_test_id``)
LISTENER_COLUMNS = ("listener", "session_uuid", "session_id", "email", "participant", "name")


@dataclass
class WebMushraPage:
    """One ``type: mushra`` page of a webMUSHRA config, with file paths resolved."""

    id: str
    name: str
    content: str
    reference: Path
    stimuli: dict[str, Path]
    create_anchor35: bool = False
    create_anchor70: bool = False


@dataclass
class WebMushraConfig:
    """The parts of a webMUSHRA config a MUSHRA test needs."""

    testname: str
    test_id: str
    pages: list[WebMushraPage] = field(default_factory=list)


@dataclass(frozen=True)
class RatingRow:
    """One rating as in webMUSHRA's ``mushra.csv``."""

    session_test_id: str
    listener: str
    trial_id: str
    rating_stimulus: str
    rating_score: int
    rating_time: int = 0
    rating_comment: str = ""


def _flatten(pages: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for page in pages:
        if isinstance(page, list):
            yield from _flatten(p for p in page if p != "random")
        elif isinstance(page, dict):
            yield page


def _resolve(value: Any, bases: list[Path], config: Path, page: str) -> Path:
    if not isinstance(value, str) or not value:
        raise InputError(f"page {page!r}: audio file entry must be a path, got {value!r}", config)
    if Path(value).is_absolute() or value.startswith("~"):
        # webMUSHRA's paths are URLs under its root; a path anywhere would let a config from someone else put any
        # audio file the user can read into a test served to every listener
        raise InputError(f"page {page!r}: audio file {value!r} is not a path relative to the webMUSHRA root "
                         "(as webMUSHRA needs it; copy the file into the test's folders)", config)
    inside = [base for base in bases if any(within(base.absolute() / value, b.absolute()) for b in bases)]
    if not inside:
        raise InputError(f"page {page!r}: audio file {value!r} leads out of the config's folders with '..' "
                         "(webMUSHRA serves files under its root only)", config)
    for base in inside:
        p = (base / value).resolve()
        if p.is_file():
            return p
    raise InputError(
        f"page {page!r}: audio file {value!r} not found (looked beside the config and "
        "in the webMUSHRA root above it)",
        config,
    )


def read_webmushra(path: str | Path) -> WebMushraConfig:
    """Parse a webMUSHRA YAML config; only ``mushra`` pages are kept (in file order).

    Relative audio paths are resolved against the config's folder, its parents (webMUSHRA
    resolves them against its root, usually two levels up) and the working directory; an absolute
    path, or one leading out of all of these with ``..``, is refused (a config from someone else
    could otherwise put any audio file the user can read into a test served to listeners).
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
        check_expanded_size(doc, "a webMUSHRA config")  # an alias bomb: a minute of CPU per level
    except FileNotFoundError as exc:
        raise InputError("no such webMUSHRA config", path) from exc
    except yaml.YAMLError as exc:
        raise InputError(yaml_problem(exc), path) from exc
    except ValueError as exc:
        raise InputError(str(exc), path) from None
    except RecursionError:
        raise InputError("YAML nested too deeply to be a webMUSHRA config", path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("pages"), list):
        raise InputError("not a webMUSHRA config (needs a 'pages' list)", path)
    bases = [path.parent, *list(path.resolve().parents)[:3], Path.cwd()]
    cfg = WebMushraConfig(str(doc.get("testname", path.stem)), str(doc.get("testId", path.stem)))
    for i, page in enumerate(_flatten(doc["pages"])):
        if page.get("type") != "mushra":
            continue
        pid = str(page.get("id", f"trial{i + 1}"))
        stimuli = page.get("stimuli")
        if not isinstance(stimuli, dict) or not stimuli:
            raise InputError(f"page {pid!r}: 'stimuli' must map names to files", path)
        cfg.pages.append(
            WebMushraPage(
                id=pid,
                name=str(page.get("name", pid)),
                content=str(page.get("content", "")),
                reference=_resolve(page.get("reference"), bases, path, pid),
                stimuli={str(k): _resolve(v, bases, path, pid) for k, v in stimuli.items()},
                create_anchor35=bool(page.get("createAnchor35", False)),
                create_anchor70=bool(page.get("createAnchor70", False)),
            )
        )
    if not cfg.pages:
        raise InputError("no pages of type 'mushra' in this webMUSHRA config", path)
    return cfg


#: webMUSHRA's ``MushraPage`` stops on a stimulus longer than this (s) unless the page says ``strict: false``
WEBMUSHRA_STRICT_MAX_S = 12.0


def long_trials(folder: str | Path, test: MushraTest) -> list[str]:
    """The ids of ``test``'s trials (in the test folder ``folder``) whose stimuli last longer than
    :data:`WEBMUSHRA_STRICT_MAX_S` (every stimulus of a trial is as long as its reference)."""
    import soundfile

    return [t.id for t in (*test.training, *test.trials)
            if soundfile.info(str(Path(folder) / t.reference)).duration > WEBMUSHRA_STRICT_MAX_S]


def to_webmushra(test: MushraTest, prefix: str = "", long: Iterable[str] = ()) -> dict[str, Any]:
    """A webMUSHRA config for ``test`` (anchors are rendered files, so ``createAnchor*`` is false).

    ``prefix`` is prepended to every audio path (webMUSHRA resolves paths against its root,
    e.g. ``configs/resources/my_test/``; a ``/`` is put after a prefix without one). The pages of the trials
    in ``long`` (:func:`long_trials`) say ``strict: false``: webMUSHRA refuses stimuli over 12 s otherwise.
    """
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # 'configs/resources/t' + 'stimuli/...' was 'configs/resources/tstimuli/...'
    long = set(long)

    def page(trial: Any, name: str, content: str) -> dict[str, Any]:
        return {
            "type": "mushra",
            "id": trial.id,
            "name": name,
            "content": content,
            "showWaveform": True,
            "enableLooping": True,
            "reference": prefix + trial.reference,
            "createAnchor35": False,
            "createAnchor70": False,
            "stimuli": {k: prefix + v for k, v in trial.stimuli.items() if k != "reference"},
            **({"strict": False} if trial.id in long else {}),
        }

    rate = "Rate the basic audio quality of each condition against the reference (0-100)."
    pages: list[Any] = [
        {
            "type": "generic",
            "id": "instructions",
            "name": "Instructions",
            "content": test.instructions or rate,
        }
    ]
    pages += [page(t, "Training", "Training: " + rate) for t in test.training]
    trials = [page(t, f"Trial {i + 1}", rate) for i, t in enumerate(test.trials)]
    pages.append(["random", *trials])
    pages.append(
        {
            "type": "finish",
            "name": "Thank you",
            "content": "Thank you for taking part!",
            "showResults": False,
            "writeResults": True,
        }
    )
    return {
        "testname": test.name,
        "testId": test.test_id,
        "bufferSize": 2048,
        "stopOnErrors": True,
        "showButtonPreviousPage": False,
        "remoteService": "service/write.php",
        "pages": pages,
    }


def write_webmushra(path: str | Path, test: MushraTest, prefix: str = "") -> Path:
    """Write :func:`to_webmushra` as YAML atomically into the test's folder (``path``'s), long trials marked."""
    config = to_webmushra(test, prefix, long_trials(Path(path).parent, test))
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
    write_text_atomic(path, text)
    return Path(path)


def ratings_csv(rows: Iterable[RatingRow]) -> str:
    """webMUSHRA-style CSV text (:data:`CSV_COLUMNS`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow(
            [
                r.session_test_id,
                r.listener,
                r.listener,
                r.trial_id,
                r.rating_stimulus,
                r.rating_score,
                r.rating_time,
                r.rating_comment,
            ]
        )
    return buf.getvalue()


def read_ratings_csv(path: str | Path) -> list[RatingRow]:
    """Read a webMUSHRA ``mushra.csv`` (ours or webMUSHRA's own).

    The listener is the first of :data:`LISTENER_COLUMNS` present (``listener``, ``session_uuid``,
    ``email``...); without any, the listener is ``session_test_id``, which webMUSHRA sets to the
    test's ``testId``: the same for every participant. Every statistic needs one rating per
    (listener, trial, stimulus), so a repeated one outside training pages is :class:`InputError`
    naming both lines (and, without a participant column, that one is needed): such a CSV is
    refused, never read as one listener. A score that is not a number, or outside MUSHRA's 0-100
    scale, is :class:`InputError` naming the line.
    """
    path = Path(path)
    from ..formats.encoding import decode_bom_text
    from ..formats.subtitles import container_format

    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("no such ratings CSV", path) from exc
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", path) from exc
    kind = container_format(data[:1024])
    if kind is not None:  # a stimulus or video given instead: 'not UTF-8 text ... save the ratings CSV as UTF-8'
        raise InputError(f"is a media file ({kind}), not a ratings CSV", path)
    text = decode_bom_text(data, path, "save the ratings CSV as UTF-8")
    try:
        return _ratings_rows(csv.DictReader(io.StringIO(text)), path)
    except csv.Error as exc:
        raise InputError(f"not a CSV file ({exc})", path) from exc


#: MUSHRA's rating scale (ITU-R BS.1534-3): a score outside it is refused
MIN_SCORE, MAX_SCORE = 0, 100


def _score(value: str | None, line: int, path: Path) -> int:
    """``value`` as an integer score on MUSHRA's 0-100 scale; else :class:`InputError` naming ``line``."""
    try:
        x = float(value)  # type: ignore[arg-type]
        score = int(round(x))
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"line {line}: rating_score {value!r} is not a number", path) from exc
    if not MIN_SCORE <= x <= MAX_SCORE:
        raise InputError(
            f"line {line}: rating_score {value!r} is outside MUSHRA's {MIN_SCORE}-{MAX_SCORE} scale", path
        )
    return score


def _ratings_rows(reader: csv.DictReader, path: Path) -> list[RatingRow]:
    cols = reader.fieldnames or []
    for need in ("trial_id", "rating_stimulus", "rating_score"):
        if need not in cols:
            raise InputError(f"not a webMUSHRA MUSHRA CSV (no column {need!r})", path)
    who = next((c for c in LISTENER_COLUMNS if c in cols), "session_test_id")
    rows = []
    first_line: dict[tuple[str, str, str], int] = {}
    for n, r in enumerate(reader, start=2):
        score = _score(r["rating_score"], n, path)
        try:
            time_ms = int(float(r.get("rating_time") or 0))
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"line {n}: rating_time {r.get('rating_time')!r} is not a number", path) from exc
        rows.append(
            RatingRow(
                r.get("session_test_id", "") or "",
                r.get(who, "") or "",
                r["trial_id"] or "",
                r["rating_stimulus"] or "",
                score,
                time_ms,
                r.get("rating_comment", "") or "",
            )
        )
        _check_once(rows[-1], n, first_line, who, path)
    return rows


def _check_once(row: RatingRow, line: int, first_line: dict[tuple[str, str, str], int], who: str,
                path: Path) -> None:
    """Refuse a (listener, trial, stimulus) of a rated page seen before (``first_line``: where each was)."""
    if is_training_trial(row.trial_id):  # training pages are dropped, a repeated training page is harmless
        return
    key = (row.listener, row.trial_id, row.rating_stimulus)
    if key not in first_line:
        first_line[key] = line
        return
    again = (f"line {line}: listener {row.listener!r} rated {row.rating_stimulus!r} of trial "
             f"{row.trial_id!r} again (first on line {first_line[key]})")
    if who == "session_test_id":
        raise InputError(f"{again}: with no participant column (e.g. session_uuid) everyone is listener "
                         "session_test_id; add a session_uuid column with one id per participant", path)
    raise InputError(f"{again} in column {who!r}: remove the repeated rows (a session written twice?)", path)
