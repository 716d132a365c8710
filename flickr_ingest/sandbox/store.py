"""The sandbox's storage: one SQLite database and one file per photo under a root folder.

Guarded by one lock, so the HTTP layer's worker threads can share it. Kept when the
root folder is kept (`--state DIR`), so the sandbox survives a restart. All ids come from
one seedable random source, so demos and tests are reproducible.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flickr_ingest import filetypes

_COPY_CHUNK = 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (api_key TEXT PRIMARY KEY, api_secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    nsid TEXT PRIMARY KEY, username TEXT NOT NULL, fullname TEXT NOT NULL,
    is_pro INTEGER NOT NULL, limits TEXT NOT NULL);
-- An account's preferences (flickr.prefs.*); no row: Flickr's defaults.
CREATE TABLE IF NOT EXISTS prefs (nsid TEXT PRIMARY KEY, privacy INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, secret TEXT NOT NULL, api_key TEXT NOT NULL, kind TEXT NOT NULL,
    nsid TEXT, perms TEXT, callback TEXT, verifier TEXT, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (
    api_key TEXT NOT NULL, nonce TEXT NOT NULL, seen REAL NOT NULL, PRIMARY KEY (api_key, nonce));
-- Every signed request forgets the nonces too old to be replayed: without this index that
-- scanned the whole window (tens of thousands of rows), under the store's one lock.
CREATE INDEX IF NOT EXISTS nonces_by_time ON nonces (seen);
CREATE TABLE IF NOT EXISTS photos (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
    secret TEXT NOT NULL, originalsecret TEXT NOT NULL, status TEXT NOT NULL,
    kind TEXT NOT NULL, format TEXT NOT NULL, filename TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, md5 TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL,
    is_public INTEGER NOT NULL, is_friend INTEGER NOT NULL, is_family INTEGER NOT NULL,
    safety_level INTEGER NOT NULL, content_type INTEGER NOT NULL, hidden INTEGER NOT NULL,
    uploaded REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS photos_by_owner_hash ON photos (owner, sha256);
CREATE TABLE IF NOT EXISTS tags (
    photo_id TEXT NOT NULL, position INTEGER NOT NULL, raw TEXT NOT NULL,
    normalised TEXT NOT NULL, machine INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tags_by_photo ON tags (photo_id);
CREATE INDEX IF NOT EXISTS tags_by_value ON tags (normalised);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, photo_id TEXT NOT NULL,
    ready_at REAL NOT NULL, failed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS taken (
    photo_id TEXT PRIMARY KEY, taken TEXT NOT NULL, unknown INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS albums (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
    title TEXT NOT NULL, description TEXT NOT NULL, primary_photo TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS album_photos (
    album_id TEXT NOT NULL, photo_id TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (album_id, photo_id));
CREATE INDEX IF NOT EXISTS album_photos_by_photo ON album_photos (photo_id);
CREATE TABLE IF NOT EXISTS usage (
    nsid TEXT NOT NULL, month TEXT NOT NULL, bytes INTEGER NOT NULL, PRIMARY KEY (nsid, month));
"""


@dataclass(frozen=True)
class StoredFile:
    """An upload's bytes, already on disk and hashed, waiting to be accepted or discarded."""

    path: Path
    size: int
    sha256: str
    md5: str
    head: bytes


class Store:
    """SQLite plus photo files under `root` (a temporary folder, deleted on close, if None)."""

    def __init__(self, root: Path | str | None = None, *, seed: int | None = None) -> None:
        self._owns_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="sandbox-"))
        # Owner-only when made here: the database holds the app secret and the tokens.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.root / "photos").mkdir(mode=0o700, exist_ok=True)
        (self.root / "incoming").mkdir(mode=0o700, exist_ok=True)
        self.clock = time.time
        self.seed = seed
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(
            self.root / "sandbox.sqlite3", check_same_thread=False, isolation_level=None
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def reset(self) -> None:
        """Forget every photo, album, ticket, nonce and usage record; keep apps, accounts,
        tokens."""
        with self.transaction() as db:
            for table in (
                "photos",
                "tags",
                "tickets",
                "nonces",
                "usage",
                "taken",
                "albums",
                "album_photos",
            ):
                db.execute(f"DELETE FROM {table}")  # noqa: S608  (fixed table names)
        for folder in ("photos", "incoming"):
            shutil.rmtree(self.root / folder, ignore_errors=True)
            (self.root / folder).mkdir(mode=0o700)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def hex(self, length: int) -> str:
        return "".join(self.random.choice("0123456789abcdef") for _ in range(length))

    def number(self, digits: int) -> str:
        return str(self.random.randrange(10 ** (digits - 1), 10**digits))

    def new_photo_or_account_number(self, db: sqlite3.Connection) -> str:
        """An 11-digit number that is no photo's id and no account's NSID number. Both come
        from the same draws, and a kept state restarted with its seed draws them again:
        the first photo's id was the demo account's NSID number."""
        while True:
            candidate = self.number(11)
            if not db.execute(
                "SELECT 1 FROM photos WHERE id = ? UNION ALL"
                " SELECT 1 FROM accounts WHERE nsid LIKE ? LIMIT 1",
                (candidate, f"{candidate}@%"),
            ).fetchone():
                return candidate

    def receive_file(self, stream: BinaryIO) -> StoredFile:
        """Copy an upload to the incoming folder in chunks, hashing as it goes."""
        path = self.root / "incoming" / uuid.uuid4().hex
        sha256, md5 = hashlib.sha256(), hashlib.md5()  # noqa: S324  (a checksum, as Flickr's md5 tags)
        size, head = 0, b""
        with open(path, "wb") as out:
            while chunk := stream.read(_COPY_CHUNK):
                if len(head) < filetypes.SNIFF_BYTES:
                    head += chunk[: filetypes.SNIFF_BYTES - len(head)]
                sha256.update(chunk)
                md5.update(chunk)
                out.write(chunk)
                size += len(chunk)
        return StoredFile(path, size, sha256.hexdigest(), md5.hexdigest(), head)

    def photo_path(self, photo_id: str) -> Path:
        return self.root / "photos" / photo_id
