"""The upload ledger in a SQLite file: for one machine (any number of processes)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flickr_ingest.ledger.base import (
    BUSY,
    CLAIMED,
    RECLAIMED,
    PathRecord,
    Upload,
    holder_id,
    may_take_over,
)

#: The ledger's file name in a state folder.
LEDGER_FILE = "ledger.sqlite3"
#: The tables that hold what a ledger knows (claims are live holds, not knowledge).
_KNOWLEDGE = ("uploads", "seen", "paths", "albums")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    account TEXT NOT NULL, sha256 TEXT NOT NULL, photo_id TEXT NOT NULL,
    source TEXT NOT NULL, recorded REAL NOT NULL, PRIMARY KEY (account, sha256));
CREATE TABLE IF NOT EXISTS seen (
    source TEXT NOT NULL, version TEXT NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (source, version));
CREATE TABLE IF NOT EXISTS paths (
    account TEXT NOT NULL, uri TEXT NOT NULL, photo_id TEXT NOT NULL, sha256 TEXT NOT NULL,
    replacing_sha256 TEXT, replacing_secret TEXT, taken TEXT, picture TEXT,
    PRIMARY KEY (account, uri));
CREATE INDEX IF NOT EXISTS paths_by_photo ON paths (account, photo_id);
CREATE INDEX IF NOT EXISTS uploads_by_source ON uploads (account, source);
CREATE TABLE IF NOT EXISTS albums (
    account TEXT NOT NULL, title TEXT NOT NULL, album_id TEXT NOT NULL,
    PRIMARY KEY (account, title));
CREATE TABLE IF NOT EXISTS claims (
    account TEXT NOT NULL, sha256 TEXT NOT NULL, holder TEXT NOT NULL, claimed REAL NOT NULL,
    PRIMARY KEY (account, sha256));
"""


class SqliteLedger:
    """A SQLite ledger under a state folder, safe across threads and processes."""

    def __init__(self, path: Path | str, *, claim_timeout: float = 900.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.claim_timeout = claim_timeout
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=60, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # Commits survive a killed process without an fsync each; what a power cut could
        # lose (the last records) is caught on Flickr's side by dedup_check and the
        # checksum tag, so an fsync per file would buy nothing but time.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        _migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def merge_from(self, other: Path) -> int:
        """Add what the ledger file `other` knows and this one does not (a row this one
        has for the same key wins); returns how many rows were added. Columns are matched
        by name, so a ledger of an older schema merges too."""
        added = 0
        with self._lock:  # ATTACH cannot run inside a transaction: around it
            self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for table in _KNOWLEDGE:
                        added += _copy_missing_rows(self._db, table)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:
                self._db.execute("DETACH DATABASE other")
        return added

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one writer across processes too
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def upload_for(self, account: str, sha256: str) -> Upload | None:
        with self._lock:
            row = self._db.execute(
                "SELECT sha256, photo_id, source FROM uploads WHERE account = ? AND sha256 = ?",
                (account, sha256),
            ).fetchone()
        return Upload(*row) if row else None

    def known_photo_id(self, account: str, sha256: str) -> str | None:
        upload = self.upload_for(account, sha256)
        return upload.photo_id if upload else None

    def known_hash(self, source: str, version: str) -> str | None:
        """The SHA-256 of this exact version of a source file, if an earlier run read it."""
        if not version:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT sha256 FROM seen WHERE source = ? AND version = ?", (source, version)
            ).fetchone()
        return row[0] if row else None

    def remember_hash(self, source: str, version: str, sha256: str) -> None:
        if version:
            with self._write() as db:
                db.execute(
                    "INSERT OR REPLACE INTO seen VALUES (?, ?, ?)", (source, version, sha256)
                )

    def claim(self, account: str, sha256: str, key: str) -> str:
        """Take the right to upload these bytes for the task `key` (stable across its
        attempts): CLAIMED, RECLAIMED (an earlier holder may have reached Flickr) or BUSY."""
        holder, now = holder_id(key), time.time()
        with self._write() as db:
            row = db.execute(
                "SELECT holder, claimed FROM claims WHERE account = ? AND sha256 = ?",
                (account, sha256),
            ).fetchone()
            if row is not None and not may_take_over(row[0], row[1], key, now, self.claim_timeout):
                return BUSY
            db.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)", (account, sha256, holder, now)
            )
        return CLAIMED if row is None else RECLAIMED

    def release(self, account: str, sha256: str, key: str) -> None:
        with self._write() as db:
            db.execute(
                "DELETE FROM claims WHERE account = ? AND sha256 = ? AND holder = ?",
                (account, sha256, holder_id(key)),
            )

    def record_upload(
        self,
        account: str,
        sha256: str,
        photo_id: str,
        source: str,
        taken: str | None = None,
        picture: str | None = None,
    ) -> Upload:
        """Record that Flickr holds these bytes as `photo_id`, sent from `source` (whose
        path record now names it); the first record of the bytes wins."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO uploads VALUES (?, ?, ?, ?, ?)",
                (account, sha256, photo_id, source, time.time()),
            )
            db.execute("DELETE FROM claims WHERE account = ? AND sha256 = ?", (account, sha256))
            row = db.execute(
                "SELECT sha256, photo_id, source FROM uploads WHERE account = ? AND sha256 = ?",
                (account, sha256),
            ).fetchone()
            _put_path(db, account, source, row[1], sha256, taken, picture)
        return Upload(*row)

    def forget_upload(self, account: str, sha256: str, photo_id: str) -> None:
        """Drop the record of bytes that `photo_id` no longer holds (it was replaced)."""
        with self._write() as db:
            db.execute(
                "DELETE FROM uploads WHERE account = ? AND sha256 = ? AND photo_id = ?",
                (account, sha256, photo_id),
            )

    # -- paths ---------------------------------------------------------------------------

    def photo_at(self, account: str, uri: str) -> PathRecord | None:
        """The photo the file at `uri` was last sent as. Uploads recorded before paths
        were tell it by their own record, until the photo has a path record."""
        with self._lock:
            row = self._db.execute(
                "SELECT uri, photo_id, sha256, replacing_sha256, replacing_secret, taken,"
                " picture FROM paths WHERE account = ? AND uri = ?",
                (account, uri),
            ).fetchone()
            if row is None:
                row = self._db.execute(
                    "SELECT source, photo_id, sha256 FROM uploads WHERE account = ? AND"
                    " source = ? AND NOT EXISTS (SELECT 1 FROM paths WHERE account ="
                    " uploads.account AND photo_id = uploads.photo_id)"
                    " ORDER BY recorded DESC LIMIT 1",
                    (account, uri),
                ).fetchone()
        return PathRecord(*row) if row else None

    def record_path(
        self,
        account: str,
        uri: str,
        photo_id: str,
        sha256: str,
        taken: str | None = None,
        picture: str | None = None,
    ) -> None:
        with self._write() as db:
            _put_path(db, account, uri, photo_id, sha256, taken, picture)

    def forget_path(self, account: str, uri: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM paths WHERE account = ? AND uri = ?", (account, uri))

    def begin_replace(self, account: str, uri: str, sha256: str, originalsecret: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE paths SET replacing_sha256 = ?, replacing_secret = ?"
                " WHERE account = ? AND uri = ?",
                (sha256, originalsecret, account, uri),
            )

    def uris_under(self, account: str, prefix: str) -> list[str]:
        """The URIs of every path record that starts with `prefix`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT uri FROM paths WHERE account = ? AND substr(uri, 1, ?) = ? ORDER BY uri",
                (account, len(prefix), prefix),
            ).fetchall()
        return [row[0] for row in rows]

    def album_id(self, account: str, title: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT album_id FROM albums WHERE account = ? AND title = ?", (account, title)
            ).fetchone()
        return row[0] if row else None

    def record_album(self, account: str, title: str, album_id: str) -> str:
        """Record the album for `title`; the first record wins and is returned."""
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO albums VALUES (?, ?, ?)", (account, title, album_id))
            row = db.execute(
                "SELECT album_id FROM albums WHERE account = ? AND title = ?", (account, title)
            ).fetchone()
        recorded: str = row[0]  # this one's, or the one recorded first
        return recorded

    def forget_album(self, account: str, title: str, album_id: str) -> None:
        """Drop the record of an album that is gone from Flickr (if it is still that one)."""
        with self._write() as db:
            db.execute(
                "DELETE FROM albums WHERE account = ? AND title = ? AND album_id = ?",
                (account, title, album_id),
            )


def _copy_missing_rows(db: sqlite3.Connection, table: str) -> int:
    """Rows of `other.table` whose key `main.table` lacks, copied over (shared columns)."""
    theirs = _columns(db, "other", table)
    shared = [column for column in _columns(db, "main", table) if column in theirs]
    if not shared:
        return 0
    names = ", ".join(shared)  # our own table's column names, not the other file's text
    cursor = db.execute(
        f"INSERT OR IGNORE INTO main.{table} ({names}) SELECT {names} FROM other.{table}"  # noqa: S608
    )
    return max(cursor.rowcount, 0)


def _columns(db: sqlite3.Connection, schema: str, table: str) -> list[str]:
    """The column names of `schema.table` (none when the table does not exist)."""
    return [row[1] for row in db.execute(f"PRAGMA {schema}.table_info({table})")]


def _put_path(
    db: sqlite3.Connection,
    account: str,
    uri: str,
    photo_id: str,
    sha256: str,
    taken: str | None,
    picture: str | None,
) -> None:
    """The file at `uri` is `photo_id` with these bytes; no replace is under way."""
    db.execute(
        "INSERT OR REPLACE INTO paths (account, uri, photo_id, sha256, replacing_sha256,"
        " replacing_secret, taken, picture) VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)",
        (account, uri, photo_id, sha256, taken, picture),
    )


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a ledger made by an earlier version up to this schema, keeping its rows:
    paths recorded before prints have none (their picture is compared against a
    rendition from Flickr when their file changes, `syncing`)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(paths)")}
    if "picture" not in columns:
        try:
            db.execute("ALTER TABLE paths ADD COLUMN picture TEXT")
        except sqlite3.OperationalError as error:  # another process added it meanwhile
            if "duplicate column" not in str(error):
                raise
