"""SQLite store of a listening test: listeners, their randomised trials, opaque tokens, ratings.

Every listener gets, when joining, a random trial order (training trials first) and per
trial a random stimulus order, a one-time submission nonce and an opaque random token per
stimulus; only tokens reach the page, the store maps them back to conditions. Ratings of a
trial are written in one transaction when the trial is submitted, so nothing is lost when a
listener closes the tab, and a nonce accepts exactly one submission.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .mushra_config import MushraTest

SCHEMA = """
CREATE TABLE IF NOT EXISTS listeners (
    id TEXT PRIMARY KEY,
    invite TEXT UNIQUE NOT NULL,
    created REAL NOT NULL,
    finished REAL
);
CREATE TABLE IF NOT EXISTS assignments (
    listener TEXT NOT NULL REFERENCES listeners(id),
    trial TEXT NOT NULL,
    position INTEGER NOT NULL,
    training INTEGER NOT NULL,
    nonce TEXT UNIQUE NOT NULL,
    submitted REAL,
    PRIMARY KEY (listener, trial)
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    listener TEXT NOT NULL,
    trial TEXT NOT NULL,
    kind TEXT NOT NULL,          -- stimulus | reference | video
    condition TEXT,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_trial ON tokens(listener, trial);
CREATE TABLE IF NOT EXISTS ratings (
    listener TEXT NOT NULL,
    trial TEXT NOT NULL,
    condition TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    time_ms INTEGER NOT NULL DEFAULT 0,
    training INTEGER NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (listener, trial, condition)
);
CREATE TABLE IF NOT EXISTS revoked (
    invite TEXT PRIMARY KEY,
    at REAL NOT NULL
);
"""


#: the longest time (ms) a listener may spend on a stimulus, as recorded
MAX_TIME_MS = 24 * 3600 * 1000


class SubmitError(Exception):
    """A refused submission; ``status`` is the HTTP status the app answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Assignment:
    """The page data of one trial for one listener (tokens only, no condition names)."""

    trial: str
    position: int
    total: int
    n_training: int
    training: bool
    nonce: str
    stimuli: list[str]
    reference: str
    video: str | None


@dataclass(frozen=True)
class TokenTarget:
    """What an opaque token stands for."""

    listener: str
    trial: str
    kind: str
    condition: str | None


@dataclass(frozen=True)
class StoredRating:
    """One stored rating."""

    listener: str
    trial: str
    condition: str
    score: int
    time_ms: int
    training: bool
    created: float


@dataclass(frozen=True)
class Progress:
    """How far a listener is."""

    listener: str
    created: float
    finished: float | None
    done: int
    total: int
    revoked: bool = False


class MushraStore:
    """The ratings database of one test (``TEST/ratings.sqlite``); safe across threads."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        """Open (and create) the store at ``path``; ``readonly`` opens an existing one without writing.

        A read-only store never creates a file beside the database: it reads through the server's WAL
        files when they exist (``mode=ro``), else the database file alone (``immutable=1``, nothing
        uncheckpointed exists then). :class:`FileNotFoundError` when ``readonly`` and there is no store.
        """
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            if not self.path.is_file():
                raise FileNotFoundError(str(self.path))
            return
        with self._conn() as c:
            c.execute("PRAGMA journal_mode=WAL")
            c.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        if not self.readonly:
            return sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        wal = self.path.with_name(self.path.name + "-wal")
        mode = "mode=ro" if wal.exists() else "immutable=1"
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?{mode}", uri=True, timeout=30.0, isolation_level=None)

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        c = self._connect()
        try:
            c.execute("PRAGMA busy_timeout=30000")
            if not self.readonly:
                c.execute("PRAGMA synchronous=NORMAL")
            yield c
        finally:
            c.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    # -- listeners --------------------------------------------------------------------------

    def join(self, invite: str, test: MushraTest) -> str | None:
        """The listener of invitation ``invite``, created (with randomised orders) on first use; None if revoked."""
        with self._write() as c:
            if c.execute("SELECT 1 FROM revoked WHERE invite=?", (invite,)).fetchone():
                return None
            row = c.execute("SELECT id FROM listeners WHERE invite=?", (invite,)).fetchone()
            if row:
                return str(row[0])
            lid = secrets.token_urlsafe(12)
            rng = secrets.SystemRandom()
            c.execute("INSERT INTO listeners(id, invite, created) VALUES (?,?,?)", (lid, invite, time.time()))
            training = [t.id for t in test.training]
            rated = [t.id for t in test.trials]
            rng.shuffle(rated)
            for pos, tid in enumerate([*training, *rated]):
                trial = test.trial(tid)
                c.execute(
                    "INSERT INTO assignments VALUES (?,?,?,?,?,NULL)",
                    (lid, tid, pos, int(tid in training), secrets.token_urlsafe(16)),
                )
                conds = list(trial.stimuli)
                rng.shuffle(conds)
                rows = [
                    (secrets.token_urlsafe(16), lid, tid, "stimulus", cond, k) for k, cond in enumerate(conds)
                ]
                rows.append((secrets.token_urlsafe(16), lid, tid, "reference", None, -1))
                if trial.video:
                    rows.append((secrets.token_urlsafe(16), lid, tid, "video", None, -2))
                c.executemany("INSERT INTO tokens VALUES (?,?,?,?,?,?)", rows)
            return lid

    def has_listener(self, listener: str) -> bool:
        """Whether ``listener`` exists and its invitation was not revoked."""
        with self._conn() as c:
            row = c.execute(
                "SELECT 1 FROM listeners WHERE id=? AND invite NOT IN (SELECT invite FROM revoked)", (listener,)
            ).fetchone()
        return row is not None

    def revoke(self, invite: str) -> str | None:
        """Revoke invitation ``invite``: its link no longer joins and its session no longer works.

        Ratings already stored are kept. Returns the listener who joined with it (None if nobody had).
        """
        with self._write() as c:
            c.execute("INSERT OR IGNORE INTO revoked VALUES (?,?)", (invite, time.time()))
            row = c.execute("SELECT id FROM listeners WHERE invite=?", (invite,)).fetchone()
        return str(row[0]) if row else None

    def next_assignment(self, listener: str) -> Assignment | None:
        """The first trial of ``listener`` not yet submitted (None when finished)."""
        with self._conn() as c:
            total, n_train = c.execute(
                "SELECT COUNT(*), COALESCE(SUM(training),0) FROM assignments WHERE listener=?", (listener,)
            ).fetchone()
            row = c.execute(
                "SELECT trial, position, training, nonce FROM assignments "
                "WHERE listener=? AND submitted IS NULL ORDER BY position LIMIT 1",
                (listener,),
            ).fetchone()
            if row is None:
                return None
            trial, position, training, nonce = row
            toks = c.execute(
                "SELECT token, kind FROM tokens WHERE listener=? AND trial=? ORDER BY position",
                (listener, trial),
            ).fetchall()
        return Assignment(
            trial=trial,
            position=int(position),
            total=int(total),
            n_training=int(n_train),
            training=bool(training),
            nonce=nonce,
            stimuli=[t for t, k in toks if k == "stimulus"],
            reference=next(t for t, k in toks if k == "reference"),
            video=next((t for t, k in toks if k == "video"), None),
        )

    def resolve(self, token: str) -> TokenTarget | None:
        """What ``token`` stands for (None if unknown)."""
        with self._conn() as c:
            row = c.execute(
                "SELECT listener, trial, kind, condition FROM tokens WHERE token=?", (token,)
            ).fetchone()
        return TokenTarget(*row) if row else None

    # -- submissions ------------------------------------------------------------------------

    def submit(
        self, listener: str, nonce: str, scores: Mapping[str, int], times_ms: Mapping[str, int] | None = None
    ) -> bool:
        """Store the ratings of the trial behind ``nonce``; returns whether the listener is finished.

        Raises :class:`SubmitError`: 404 unknown nonce, 403 another listener's trial, 409 already
        submitted, 422 ratings that do not cover exactly the trial's stimuli or are not integers 0-100,
        or ``times_ms`` for a token that is not one of the trial's stimuli.
        """
        times_ms = times_ms or {}
        with self._write() as c:
            row = c.execute(
                "SELECT listener, trial, training, submitted FROM assignments WHERE nonce=?", (nonce,)
            ).fetchone()
            if row is None:
                raise SubmitError(404, "unknown trial")
            owner, trial, training, submitted = row
            if not secrets.compare_digest(owner, listener):
                raise SubmitError(403, "this trial belongs to another session")
            if submitted is not None:
                raise SubmitError(409, "this trial was already submitted")
            toks = dict(
                c.execute(
                    "SELECT token, condition FROM tokens WHERE listener=? AND trial=? AND kind='stimulus'",
                    (listener, trial),
                ).fetchall()
            )
            if set(scores) != set(toks):
                raise SubmitError(422, "every stimulus of the trial must be rated exactly once")
            if not set(times_ms) <= set(toks):
                raise SubmitError(422, "times may only be given for the trial's stimuli")
            for v in list(scores.values()) + list(times_ms.values()):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise SubmitError(422, "ratings must be integers")
            if any(not 0 <= v <= 100 for v in scores.values()):
                raise SubmitError(422, "ratings must be between 0 and 100")
            if any(not 0 <= v <= MAX_TIME_MS for v in times_ms.values()):
                raise SubmitError(422, f"times must be milliseconds between 0 and {MAX_TIME_MS}")
            now = time.time()
            c.executemany(
                "INSERT INTO ratings VALUES (?,?,?,?,?,?,?)",
                [
                    (listener, trial, toks[t], v, int(times_ms.get(t, 0)), training, now)
                    for t, v in scores.items()
                ],
            )
            c.execute("UPDATE assignments SET submitted=? WHERE nonce=?", (now, nonce))
            left = c.execute(
                "SELECT COUNT(*) FROM assignments WHERE listener=? AND submitted IS NULL", (listener,)
            ).fetchone()[0]
            if left == 0:
                c.execute("UPDATE listeners SET finished=? WHERE id=?", (now, listener))
            return left == 0

    # -- reading ----------------------------------------------------------------------------

    def ratings(self, include_training: bool = False) -> list[StoredRating]:
        """All stored ratings, ordered by listener, trial, condition."""
        q = "SELECT listener, trial, condition, score, time_ms, training, created FROM ratings"
        if not include_training:
            q += " WHERE training=0"
        with self._conn() as c:
            rows = c.execute(q + " ORDER BY listener, trial, condition").fetchall()
        return [
            StoredRating(a, b, cnd, int(s), int(t), bool(tr), float(cr)) for a, b, cnd, s, t, tr, cr in rows
        ]

    def progress(self) -> list[Progress]:
        """Every listener's progress, oldest first."""
        with self._conn() as c:
            rows = c.execute(
                "SELECT l.id, l.created, l.finished, COUNT(a.submitted), COUNT(a.trial), "
                "l.invite IN (SELECT invite FROM revoked) FROM listeners l "
                "JOIN assignments a ON a.listener=l.id GROUP BY l.id ORDER BY l.created"
            ).fetchall()
        return [Progress(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def dump(self) -> str:
        """A JSON summary (counts) for logs."""
        with self._conn() as c:
            n_l = c.execute("SELECT COUNT(*) FROM listeners").fetchone()[0]
            n_r = c.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
        return json.dumps({"listeners": n_l, "ratings": n_r})
