"""The build catalog: a SQLite record of which stage of which episode is done.

Only the build driver writes it. A stage counts as done when the catalog says so
*and* its artifact still exists; its ``config`` hash must match the current options,
so changing e.g. the ASR backend re-runs ASR and everything after it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import DiskFull, is_disk_full

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"  # its name in the output folder

SCHEMA = """
CREATE TABLE IF NOT EXISTS stages (
    episode   TEXT NOT NULL,
    stage     TEXT NOT NULL,
    config    TEXT NOT NULL,
    status    TEXT NOT NULL,          -- done | failed
    artifact  TEXT,                   -- relative to the catalog's folder
    seconds   REAL,
    error     TEXT,
    updated   REAL NOT NULL,
    PRIMARY KEY (episode, stage)
);
CREATE TABLE IF NOT EXISTS episodes (
    episode   TEXT PRIMARY KEY,
    show_key  TEXT NOT NULL,
    number    TEXT NOT NULL,
    jp_media  TEXT NOT NULL,
    en_media  TEXT NOT NULL,
    added     REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class StageRecord:
    """One row of the catalog."""

    episode: str
    stage: str
    config: str
    status: str
    artifact: str | None
    seconds: float | None
    error: str | None


class Catalog:
    """SQLite catalog of a build's episodes and finished stages."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (before copying the file elsewhere)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        """Run one statement and commit; a full disk is :class:`DiskFull` (the write is rolled back)."""
        try:
            self._db.execute(sql, args)
            self._db.commit()
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            if is_disk_full(exc):
                raise DiskFull(f"disk full: cannot record the build's progress ({exc})", self.path) from exc
            raise

    def add_episode(self, key: str, show_key: str, number: str, jp_media: str, en_media: str) -> None:
        """Record an episode of the build (idempotent)."""
        self._write(
            "INSERT OR IGNORE INTO episodes VALUES (?, ?, ?, ?, ?, ?)",
            (key, show_key, number, jp_media, en_media, time.time()),
        )

    def get(self, episode: str, stage: str) -> StageRecord | None:
        """The record of one stage of one episode, if any."""
        row = self._db.execute(
            "SELECT episode, stage, config, status, artifact, seconds, error FROM stages WHERE episode=? AND stage=?",
            (episode, stage),
        ).fetchone()
        return StageRecord(*row) if row else None

    def is_done(self, episode: str, stage: str, config: str) -> bool:
        """True when the stage finished with this config and its artifact still exists."""
        rec = self.get(episode, stage)
        if rec is None or rec.status != "done" or rec.config != config:
            return False
        return rec.artifact is None or self.resolve(rec.artifact).exists()

    def resolve(self, artifact: str) -> Path:
        """Absolute path of an artifact recorded relative to the catalog's folder."""
        p = Path(artifact)
        return p if p.is_absolute() else self.path.parent / p

    def _relative(self, artifact: str | None) -> str | None:
        if artifact is None:
            return None
        try:
            return Path(artifact).resolve().relative_to(self.path.parent.resolve()).as_posix()
        except ValueError:
            return artifact

    def mark_done(self, episode: str, stage: str, config: str, artifact: str | None, seconds: float) -> None:
        """Record a finished stage."""
        self._write(
            "INSERT OR REPLACE INTO stages VALUES (?, ?, ?, 'done', ?, ?, NULL, ?)",
            (episode, stage, config, self._relative(artifact), seconds, time.time()),
        )

    def mark_failed(self, episode: str, stage: str, config: str, error: str) -> None:
        """Record a failed stage with its one-line error.

        Best effort: a failure is already reported to the user, so when the catalog cannot be
        written (a full disk) this logs a warning and leaves the catalog as it was (consistent:
        the stage is simply not done, and a later build runs it again).
        """
        try:
            self._write(
                "INSERT OR REPLACE INTO stages VALUES (?, ?, ?, 'failed', NULL, NULL, ?, ?)",
                (episode, stage, config, error, time.time()),
            )
        except (DiskFull, sqlite3.Error) as exc:
            log.warning("could not record the failure of %s/%s in the catalog: %s", episode, stage, exc)

    def records(self, episode: str | None = None) -> list[StageRecord]:
        """All stage records (of one episode, if given)."""
        sql = "SELECT episode, stage, config, status, artifact, seconds, error FROM stages"
        args: tuple[str, ...] = ()
        if episode is not None:
            sql += " WHERE episode=?"
            args = (episode,)
        return [StageRecord(*r) for r in self._db.execute(sql + " ORDER BY episode, stage", args)]
