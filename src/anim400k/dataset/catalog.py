"""The build catalog: a SQLite record of which stage of which episode is done.

Only the build driver writes it. A stage counts as done when the catalog says so
*and* its outputs are still there unchanged; its ``config`` hash must match the current options,
so changing e.g. the ASR backend re-runs ASR and everything after it.

Each done stage records the identity of every work file it wrote (``outputs``: size, modification
time and, for small files, a content hash; :mod:`anim400k.dataset.identity`): a missing, truncated
or edited output makes the stage (and so its dependents) run again. A record without them (older
catalogs, remote outputs) needs its artifact to exist and, for a JSON artifact, to parse.

A catalog that SQLite cannot read (truncated, overwritten) is one line naming the file and how
to recover (:class:`anim400k.errors.InputError`), never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import DiskFull, InputError, is_disk_full
from .identity import input_identity, json_parses, media_fingerprint, outputs_unchanged

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
    outputs   TEXT,                   -- JSON {path: identity} of the stage's work files (see module doc)
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
CREATE TABLE IF NOT EXISTS media (
    path        TEXT PRIMARY KEY,     -- as the manifest gives it
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    ctime_ns    INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,        -- identity.media_fingerprint
    token       TEXT NOT NULL         -- what the probe stage's key holds for this content
);
"""

#: the catalog's tables (another program's SQLite file in ``--out`` has others)
TABLES = frozenset({"stages", "episodes", "media"})


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
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._refuse_foreign()  # before any write: WAL mode and the tables changed another program's file
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(stages)")}
            if "outputs" not in columns:  # a catalog written before outputs were recorded
                self._db.execute("ALTER TABLE stages ADD COLUMN outputs TEXT")
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            if is_disk_full(exc):
                raise DiskFull(f"disk full: cannot open the build catalog ({exc})", self.path) from exc
            raise self._unreadable(exc) from exc

    def _refuse_foreign(self) -> None:
        """Refuse (:class:`InputError` naming the file) a SQLite database that no build wrote: one with tables
        other than the catalog's, or a ``stages`` table without its columns (another program's
        ``catalog.sqlite`` in ``--out``, which the build turned to WAL mode and added its tables to). The
        connection is closed; nothing is written."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(stages)")}
        if not tables or (tables <= TABLES and {"episode", "stage", "config", "status"} <= columns):
            return
        self._db.close()
        shown = ", ".join(sorted(tables)[:3]) + (", ..." if len(tables) > 3 else "")
        raise InputError(f"is a SQLite database that no build wrote (its tables: {shown}): building would change "
                         "it; give --out a new or empty folder, or an earlier build's", self.path)

    def _unreadable(self, exc: sqlite3.Error) -> Exception:
        """:class:`InputError` for a catalog SQLite cannot read (corrupt), :class:`DiskFull` for one it could not
        write (an I/O error), else ``exc`` itself."""
        name = getattr(exc, "sqlite_errorname", "")
        text = str(exc)
        if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in text or "not a database" in text:
            return InputError(f"the build catalog is unreadable ({text}); move it away (e.g. mv {self.path} "
                              f"{self.path}.bad) and run the same command again: the stages are redone",
                              self.path)
        if str(name).startswith("SQLITE_IOERR") or "disk i/o error" in text.lower():
            # SQLite's word for a write the system refused (a file-size limit: EFBIG; a failing disk): a traceback
            return DiskFull(f"the build catalog could not be written ({text}: a full disk, a file-size limit such as "
                            "ulimit -f, or a failing disk); free space or lift the limit and run the same command "
                            "again", self.path)
        return exc

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
        """Run one statement and commit; a full disk is :class:`DiskFull` (the write is rolled back),
        a corrupt catalog :class:`InputError`."""
        try:
            self._db.execute(sql, args)
            self._db.commit()
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            if is_disk_full(exc):
                raise DiskFull(f"disk full: cannot record the build's progress ({exc})", self.path) from exc
            raise self._unreadable(exc) from exc

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """All rows of a query; a corrupt catalog is :class:`InputError`."""
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from exc

    def add_episode(self, key: str, show_key: str, number: str, jp_media: str, en_media: str) -> None:
        """Record an episode of the build (idempotent)."""
        self._write(
            "INSERT OR IGNORE INTO episodes VALUES (?, ?, ?, ?, ?, ?)",
            (key, show_key, number, jp_media, en_media, time.time()),
        )

    def episodes(self) -> list[tuple[str, str, str]]:
        """Every episode a build into this folder has had, as ``(key, show_key, number)``, sorted by key
        (also those no longer in the manifest: the catalog never forgets an episode)."""
        rows = self._query("SELECT episode, show_key, number FROM episodes ORDER BY episode")
        return [(str(k), str(s), str(n)) for k, s, n in rows]

    def media_token(self, path: str) -> str:
        """What the ``probe`` stage's key holds for the medium ``path``: it changes when the medium's content does.

        A local file whose size, modification time, change time and inode are those recorded keeps its token
        (nothing is read). Otherwise its sampled content (:func:`.identity.media_fingerprint`, 3 MiB read) is
        compared with the one recorded: the same content (a ``touch``, a copy, ``cp -a`` of the inputs) keeps
        the token, so nothing is redone; other content (another encode of the same size, put back with ``touch
        -r``: its change time is new) gets a new one, ``path:size:mtime_ns:fingerprint``. A medium seen for the
        first time gets ``path:size:mtime_ns`` (:func:`.identity.input_identity`, the key before this table: an
        earlier build's finished stages still match). A URL or a missing file: :func:`.identity.input_identity`.
        """
        from ..storage import is_url

        legacy = input_identity(path, hash_small=False)
        local = path[len("file://"):] if path.startswith("file://") else path
        if is_url(path):
            return legacy
        try:
            st = Path(local).stat()
            if not Path(local).is_file():
                return legacy
            stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            rows = self._query("SELECT size, mtime_ns, ctime_ns, inode, fingerprint, token FROM media WHERE path=?",
                               (path,))
            if rows and tuple(rows[0][:4]) == stat:
                return str(rows[0][5])
            fingerprint = media_fingerprint(local)
        except OSError:
            return legacy
        if not rows:
            token = legacy
        else:  # the same sampled content keeps its token; other content gets one no earlier content had
            token = str(rows[0][5]) if rows[0][4] == fingerprint else f"{legacy}:{fingerprint}"
        self._write("INSERT OR REPLACE INTO media VALUES (?, ?, ?, ?, ?, ?, ?)", (path, *stat, fingerprint, token))
        return token

    def forget(self, episode: str, stage: str) -> None:
        """Drop the record of one stage of one episode: the stage runs again when the episode is built."""
        self._write("DELETE FROM stages WHERE episode=? AND stage=?", (episode, stage))

    def get(self, episode: str, stage: str) -> StageRecord | None:
        """The record of one stage of one episode, if any."""
        rows = self._query(
            "SELECT episode, stage, config, status, artifact, seconds, error FROM stages WHERE episode=? AND stage=?",
            (episode, stage),
        )
        return StageRecord(*rows[0]) if rows else None  # type: ignore[arg-type]

    def outputs(self, episode: str, stage: str) -> dict[str, object] | None:
        """The recorded identities of a done stage's work files (by path relative to the catalog), if any."""
        rows = self._query("SELECT outputs FROM stages WHERE episode=? AND stage=?", (episode, stage))
        if not rows or not rows[0][0]:
            return None
        try:
            data = json.loads(str(rows[0][0]))
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def is_done(self, episode: str, stage: str, config: str) -> bool:
        """True when the stage finished with this config and its outputs are still there, unchanged.

        Without recorded outputs: its artifact exists (and parses, for a JSON artifact).
        """
        rec = self.get(episode, stage)
        if rec is None or rec.status != "done" or rec.config != config:
            return False
        outputs = self.outputs(episode, stage)
        if outputs is not None:
            if not outputs:  # unreadable record
                return False
            by_path = {str(self.resolve(p)): ident for p, ident in outputs.items()}
            return outputs_unchanged(by_path)
        if rec.artifact is None:
            return True
        artifact = self.resolve(rec.artifact)
        if not artifact.exists():
            return False
        return json_parses(artifact) if artifact.suffix == ".json" else True

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

    def mark_done(self, episode: str, stage: str, config: str, artifact: str | None, seconds: float,
                  outputs: dict[str, object] | None = None) -> None:
        """Record a finished stage, with the identities of its work files (``outputs``, by path) if given."""
        recorded = None if outputs is None else json.dumps(
            {self._relative(p) or p: ident for p, ident in outputs.items()}, sort_keys=True)
        self._write(
            "INSERT OR REPLACE INTO stages (episode, stage, config, status, artifact, seconds, error, updated, outputs)"
            " VALUES (?, ?, ?, 'done', ?, ?, NULL, ?, ?)",
            (episode, stage, config, self._relative(artifact), seconds, time.time(), recorded),
        )

    def mark_failed(self, episode: str, stage: str, config: str, error: str) -> None:
        """Record a failed stage with its one-line error.

        Best effort: a failure is already reported to the user, so when the catalog cannot be
        written (a full disk) this logs a warning and leaves the catalog as it was (consistent:
        the stage is simply not done, and a later build runs it again).
        """
        try:
            self._write(
                "INSERT OR REPLACE INTO stages (episode, stage, config, status, artifact, seconds, error, updated)"
                " VALUES (?, ?, ?, 'failed', NULL, NULL, ?, ?)",
                (episode, stage, config, error, time.time()),
            )
        except (DiskFull, InputError, sqlite3.Error) as exc:
            log.warning("could not record the failure of %s/%s in the catalog: %s", episode, stage, exc)

    def records(self, episode: str | None = None) -> list[StageRecord]:
        """All stage records (of one episode, if given)."""
        sql = "SELECT episode, stage, config, status, artifact, seconds, error FROM stages"
        args: tuple[str, ...] = ()
        if episode is not None:
            sql += " WHERE episode=?"
            args = (episode,)
        return [StageRecord(*r) for r in self._query(sql + " ORDER BY episode, stage", args)]  # type: ignore[arg-type]
