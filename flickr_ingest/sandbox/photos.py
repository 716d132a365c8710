"""Photos: upload and replace (sync and async), tickets, quotas and the read methods."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flickr_ingest import filetypes
from flickr_ingest.metadata import read_file_metadata
from flickr_ingest.numbers import parse_count
from flickr_ingest.sandbox import errors
from flickr_ingest.sandbox.accounts import (
    MB,
    PRIVACY_FLAGS,
    AccountLimits,
    Accounts,
    Principal,
    require,
)
from flickr_ingest.sandbox.edits import tag_id
from flickr_ingest.sandbox.store import Store, StoredFile
from flickr_ingest.tags import MAX_TAGS, is_machine_tag, normalise_tag, parse_tags

#: Flickr names an original's format by its usual extension.
_ORIGINAL_FORMATS = {"jpeg": "jpg", "tiff": "tif"}
#: Hosts whose URLs in a title, description or tag make an upload fail with error 116.
BLOCKED_URL_HOSTS = ("spam.example", "malware.example", "phishing.example")
_URL_HOST = re.compile(r"https?://([^/\s\"'<>:?#]+)", re.IGNORECASE)


def original_path(row: sqlite3.Row) -> str:
    """Where the sandbox serves a photo's original, in the shape of Flickr's static URLs
    (`live.staticflickr.com/{server}/{id}_{originalsecret}_o.{format}`): the secret in the
    path is what lets a page show it, as on Flickr; a replace changes it."""
    extension = _ORIGINAL_FORMATS.get(row["format"], row["format"])
    return f"/static/1/{row['id']}_{row['originalsecret']}_o.{extension}"


@dataclass(frozen=True)
class PhotoFields:
    """The optional upload fields, as Flickr documents them. None = use the default."""

    title: str = ""
    description: str = ""
    tags: str = ""
    is_public: int | None = None
    is_friend: int | None = None
    is_family: int | None = None
    safety_level: int | None = None
    content_type: int | None = None
    hidden: int | None = None
    dedup_check: int = 0

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> PhotoFields:
        def number(name: str) -> int | None:
            return parse_count(params.get(name, "").strip(), max_digits=9)

        def flag(name: str) -> int | None:  # 9 is "the user's default", as omitted
            value = number(name)
            return None if value == 9 else value

        return cls(
            title=params.get("title", ""),
            description=params.get("description", ""),
            tags=params.get("tags", ""),
            is_public=flag("is_public"),
            is_friend=flag("is_friend"),
            is_family=flag("is_family"),
            safety_level=number("safety_level"),
            content_type=number("content_type"),
            hidden=number("hidden"),
            dedup_check=number("dedup_check") or 0,
        )


@dataclass(frozen=True)
class UploadOutcome:
    photo_id: str | None = None
    secret: str | None = None
    originalsecret: str | None = None
    ticket_id: str | None = None


@dataclass
class Behaviour:
    """Model-level behaviour that tests and demos tune while the sandbox runs."""

    async_delay_seconds: float = 0.5  # an async upload's ticket completes after this
    async_failure_rate: float = 0.0
    # A synchronous upload answers once the photo is processed, as Flickr's do: this long.
    sync_processing_seconds: float = 0.0
    # Flickr's search index lags behind uploads: a new photo is found by
    # flickr.photos.search (and people.getPhotos) only this long after it was uploaded.
    search_delay_seconds: float = 0.0


class Photos:
    def __init__(self, store: Store, accounts: Accounts) -> None:
        self._store = store
        self._accounts = accounts
        self.behaviour = Behaviour()

    def upload(
        self,
        principal: Principal,
        stored: StoredFile,
        filename: str,
        fields: PhotoFields,
        *,
        asynchronous: bool = False,
    ) -> UploadOutcome:
        """Accept an upload or raise the fault Flickr would answer. Consumes `stored`."""
        try:
            nsid = require(principal, "write")
            limits = self._accounts.limits(nsid)
            file_type = self._check_file(stored, limits)
            if limits.safe_only and (fields.safety_level or 1) > 1:
                raise errors.NonSafeContent()
            _check_urls(fields.title, fields.description, fields.tags)
            with self._store.transaction() as db:
                self._settle_tickets(db)
                if fields.dedup_check in (1, 2):
                    self._check_duplicate(
                        db, nsid, stored.sha256, include_deleted=fields.dedup_check == 2
                    )
                is_public, is_friend, is_family = self._visibility(nsid, fields)
                self._check_quota(db, nsid, limits, stored.size, file_type.kind, is_public)
                photo_id = self._store.new_photo_or_account_number(db)
                secret, originalsecret = self._store.hex(10), self._store.hex(10)
                now = self._store.clock()
                db.execute(
                    "INSERT INTO photos (id, owner, secret, originalsecret, status, kind, format,"
                    " filename, size, sha256, md5, title, description, is_public, is_friend,"
                    " is_family, safety_level, content_type, hidden, uploaded, updated)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        photo_id,
                        nsid,
                        secret,
                        originalsecret,
                        "processing" if asynchronous else "active",
                        file_type.kind,
                        file_type.format,
                        filename,
                        stored.size,
                        stored.sha256,
                        stored.md5,
                        fields.title,
                        fields.description,
                        is_public,
                        is_friend,
                        is_family,
                        fields.safety_level or 1,
                        fields.content_type or 1,
                        fields.hidden or 1,
                        now,
                        now,
                    ),
                )
                self._store_tags(db, photo_id, fields.tags)
                self._add_usage(db, nsid, stored.size)
                os.replace(stored.path, self._store.photo_path(photo_id))
                self._record_date_taken(db, photo_id, file_type.kind, stored.size)
                if asynchronous:
                    return UploadOutcome(ticket_id=self._new_ticket(db, nsid, photo_id))
                return UploadOutcome(photo_id, secret, originalsecret)
        finally:
            stored.path.unlink(missing_ok=True)

    def replace(
        self, principal: Principal, stored: StoredFile, photo_id: str, *, asynchronous: bool = False
    ) -> UploadOutcome:
        try:
            nsid = require(principal, "write")
            if not self._accounts.account(nsid)["is_pro"]:
                raise errors.NotProAccount()
            limits = self._accounts.limits(nsid)
            file_type = self._check_file(stored, limits)
            with self._store.transaction() as db:
                self._settle_tickets(db)
                row = db.execute(
                    "SELECT * FROM photos WHERE id = ? AND owner = ? AND status = 'active'",
                    (photo_id, nsid),
                ).fetchone()
                if row is None:  # no code of replace's own list fits: the sandbox's choice
                    raise errors.NoPhoto()
                if filetypes.VIDEO in (row["kind"], file_type.kind):
                    raise errors.VideoNotReplaceable()
                self._check_bandwidth(db, nsid, limits, stored.size)
                originalsecret = self._store.hex(10)
                db.execute(
                    "UPDATE photos SET originalsecret = ?, kind = ?, format = ?, size = ?,"
                    " sha256 = ?, md5 = ?, updated = ?, status = ? WHERE id = ?",
                    (
                        originalsecret,
                        file_type.kind,
                        file_type.format,
                        stored.size,
                        stored.sha256,
                        stored.md5,
                        self._store.clock(),
                        "processing" if asynchronous else "active",
                        photo_id,
                    ),
                )
                self._add_usage(db, nsid, stored.size)
                os.replace(stored.path, self._store.photo_path(photo_id))
                self._record_date_taken(db, photo_id, file_type.kind, stored.size)
                if asynchronous:
                    return UploadOutcome(ticket_id=self._new_ticket(db, nsid, photo_id))
                return UploadOutcome(photo_id, row["secret"], originalsecret)
        finally:
            stored.path.unlink(missing_ok=True)

    def _visibility(self, nsid: str, fields: PhotoFields) -> tuple[int, int, int]:
        """(is_public, is_friend, is_family): each flag given is 1 or 0; each left out (or
        9) is the account's default privacy's, as Flickr's upload.api says of each."""
        public, friend, family = PRIVACY_FLAGS[self._accounts.privacy(nsid)]
        return (
            _flag_or(fields.is_public, public),
            _flag_or(fields.is_friend, friend),
            _flag_or(fields.is_family, family),
        )

    @staticmethod
    def _check_file(stored: StoredFile, limits: AccountLimits) -> filetypes.FileType:
        if stored.size == 0:
            raise errors.FilesizeZero()
        file_type = filetypes.sniff(stored.head)
        if not file_type.is_supported or not _flickr_takes(file_type):
            raise errors.FiletypeNotRecognised()
        cap = (
            limits.max_video_bytes if file_type.kind == filetypes.VIDEO else limits.max_photo_bytes
        )
        if stored.size > cap:
            raise errors.FilesizeTooLarge()
        return file_type

    @staticmethod
    def _check_duplicate(
        db: sqlite3.Connection, nsid: str, sha256: str, *, include_deleted: bool
    ) -> None:
        statuses = (
            ("active", "processing", "deleted") if include_deleted else ("active", "processing")
        )
        row = db.execute(
            f"SELECT id, status FROM photos WHERE owner = ? AND sha256 = ? AND status IN"  # noqa: S608
            f" ({','.join('?' * len(statuses))}) ORDER BY seq LIMIT 1",
            (nsid, sha256, *statuses),
        ).fetchone()
        if row is not None:
            raise errors.DuplicatePhoto(
                duplicate_photo_id=row["id"],
                duplicate_photo_status="DELETED" if row["status"] == "deleted" else "ACTIVE",
            )

    def _check_quota(
        self,
        db: sqlite3.Connection,
        nsid: str,
        limits: AccountLimits,
        size: int,
        kind: str,
        is_public: int,
    ) -> None:
        def count(condition: str) -> int:
            sql = (
                "SELECT COUNT(*) FROM photos WHERE owner = ? AND status IN ('active', 'processing')"
            )
            counted: int = db.execute(sql + condition, (nsid,)).fetchone()[0]
            return counted

        if limits.max_items is not None and count("") >= limits.max_items:
            raise errors.UploadLimitExceeded()
        if (
            limits.max_non_public is not None
            and not is_public
            and (count(" AND is_public = 0") >= limits.max_non_public)
        ):
            raise errors.UploadLimitExceeded()
        if (
            kind == filetypes.VIDEO
            and limits.max_videos is not None
            and (count(" AND kind = 'video'") >= limits.max_videos)
        ):
            raise errors.VideoLimitExceeded()
        self._check_bandwidth(db, nsid, limits, size)

    def _check_bandwidth(
        self, db: sqlite3.Connection, nsid: str, limits: AccountLimits, size: int
    ) -> None:
        if limits.monthly_bandwidth_bytes is not None and (
            self._used_bytes(db, nsid) + size > limits.monthly_bandwidth_bytes
        ):
            raise errors.UploadLimitExceeded()

    def _month(self) -> str:
        return time.strftime("%Y-%m", time.gmtime(self._store.clock()))

    def _used_bytes(self, db: sqlite3.Connection, nsid: str) -> int:
        row = db.execute(
            "SELECT bytes FROM usage WHERE nsid = ? AND month = ?", (nsid, self._month())
        ).fetchone()
        return row[0] if row else 0

    def _add_usage(self, db: sqlite3.Connection, nsid: str, size: int) -> None:
        db.execute(
            "INSERT INTO usage VALUES (?, ?, ?) ON CONFLICT (nsid, month)"
            " DO UPDATE SET bytes = bytes + excluded.bytes",
            (nsid, self._month(), size),
        )

    def _record_date_taken(
        self, db: sqlite3.Connection, photo_id: str, kind: str, size: int
    ) -> None:
        """Flickr reads the date taken from the file's EXIF (or XMP); without one it uses
        the upload time and says the date is unknown."""
        taken = None
        if kind == filetypes.PHOTO:
            taken = read_file_metadata(self._store.photo_path(photo_id), size).date_taken
        if taken:
            db.execute(
                "INSERT OR REPLACE INTO taken VALUES (?, ?, 0)",
                (photo_id, taken.replace("T", " ")[:19]),
            )
        else:
            uploaded = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self._store.clock()))
            db.execute("INSERT OR REPLACE INTO taken VALUES (?, ?, 1)", (photo_id, uploaded))

    def _store_tags(self, db: sqlite3.Connection, photo_id: str, tag_string: str) -> None:
        seen: set[str] = set()
        position = 0
        for raw in parse_tags(tag_string):
            normalised = normalise_tag(raw)
            if not normalised or normalised in seen or position >= MAX_TAGS:
                continue
            seen.add(normalised)
            db.execute(
                "INSERT INTO tags VALUES (?, ?, ?, ?, ?)",
                (photo_id, position, raw, normalised, int(is_machine_tag(raw))),
            )
            position += 1

    # -- async tickets -------------------------------------------------------------------

    def _new_ticket(self, db: sqlite3.Connection, nsid: str, photo_id: str) -> str:
        # Shaped like Flickr's (recorded: `78701040-72157636215117185`); opaque to clients.
        ticket_id = f"{self._store.number(8)}-72157{self._store.number(12)}"
        failed = self._store.random.random() < self.behaviour.async_failure_rate
        db.execute(
            "INSERT INTO tickets VALUES (?, ?, ?, ?, ?)",
            (
                ticket_id,
                nsid,
                photo_id,
                self._store.clock() + self.behaviour.async_delay_seconds,
                int(failed),
            ),
        )
        return ticket_id

    def _settle_tickets(self, db: sqlite3.Connection) -> None:
        """Finish the processing of every ticket whose time has come."""
        due = db.execute(
            "SELECT t.photo_id, t.failed FROM tickets t JOIN photos p ON p.id = t.photo_id"
            " WHERE t.ready_at <= ? AND p.status = 'processing'",
            (self._store.clock(),),
        ).fetchall()
        for row in due:
            status = "failed" if row["failed"] else "active"
            db.execute("UPDATE photos SET status = ? WHERE id = ?", (status, row["photo_id"]))
            if row["failed"]:
                self._store.photo_path(row["photo_id"]).unlink(missing_ok=True)

    def check_tickets(self, ticket_ids: list[str]) -> list[dict[str, Any]]:
        """The tickets' states. Needs no token: a ticket id is its own proof. A finished
        ticket says when its photo was `imported` (null once the photo is deleted)."""
        answers: list[dict[str, Any]] = []
        with self._store.transaction() as db:
            self._settle_tickets(db)
            for ticket_id in ticket_ids:
                row = db.execute(
                    "SELECT t.*, p.status FROM tickets t JOIN photos p ON p.id = t.photo_id"
                    " WHERE t.id = ?",
                    (ticket_id,),
                ).fetchone()
                if row is None:
                    answers.append({"id": ticket_id, "invalid": 1})
                elif row["status"] == "processing":
                    answers.append({"id": ticket_id, "complete": 0})
                elif row["status"] == "failed":
                    answers.append({"id": ticket_id, "complete": 2})
                else:
                    imported = str(int(row["ready_at"])) if row["status"] == "active" else None
                    answers.append(
                        {
                            "id": ticket_id,
                            "complete": 1,
                            "photoid": row["photo_id"],
                            "imported": imported,
                        }
                    )
        return answers

    # -- reading photos ------------------------------------------------------------------

    def upload_status(self, principal: Principal) -> dict[str, Any]:
        nsid = require(principal, "read")
        account = self._accounts.account(nsid)
        limits = AccountLimits(**json.loads(account["limits"]))
        with self._store.lock:
            used = self._used_bytes(self._store.db, nsid)
            items, videos, albums = self._store.db.execute(
                "SELECT COUNT(*), COALESCE(SUM(kind = 'video'), 0),"
                " (SELECT COUNT(*) FROM albums WHERE owner = ?)"
                " FROM photos WHERE owner = ? AND status IN ('active', 'processing')",
                (nsid, nsid),
            ).fetchone()
        allowed = limits.monthly_bandwidth_bytes
        unlimited = allowed is None
        # An unlimited account still shows a nominal monthly figure, as Flickr's do.
        max_bytes = 2 * 1024 * MB if allowed is None else allowed
        remaining = max(max_bytes - used, 0)
        # Stated for free accounts (Flickr4Java's payloads are of one).
        item_limit: dict[str, str] = {}
        if limits.max_items is not None and not account["is_pro"]:
            item_limit = {
                "upload_limit": str(limits.max_items),
                "upload_limit_status": "below_limit" if items < limits.max_items else "at_limit",
            }
        return {
            "user": {
                "id": nsid,
                "ispro": int(account["is_pro"]),
                "upload_count": items,
                **item_limit,
                "username": {"_content": account["username"]},
                "bandwidth": {
                    "max": max_bytes,
                    "used": used,
                    "maxbytes": max_bytes,
                    "maxkb": max_bytes // 1024,
                    "usedbytes": used,
                    "usedkb": used // 1024,
                    "remainingbytes": remaining,
                    "remainingkb": remaining // 1024,
                    "unlimited": int(unlimited),
                },
                "filesize": {
                    "max": limits.max_photo_bytes,
                    "maxbytes": limits.max_photo_bytes,
                    "maxkb": limits.max_photo_bytes // 1024,
                    "maxmb": limits.max_photo_bytes // MB,
                },
                "videosize": {
                    "maxbytes": limits.max_video_bytes,
                    "maxkb": limits.max_video_bytes // 1024,
                    "maxmb": limits.max_video_bytes // MB,
                },
                # Recorded JSON has `null` here (janko/flickr-objects); the sandbox gives
                # null for none, else the number of albums (Flickr4Java's XML payload).
                "sets": {"created": albums or None, "remaining": "lots"},
                "videos": {
                    "uploaded": videos,
                    "remaining": "lots"
                    if limits.max_videos is None
                    else max(limits.max_videos - videos, 0),
                },
            }
        }

    def _visible_photo(self, principal: Principal, photo_id: str) -> sqlite3.Row:
        with self._store.transaction() as db:
            self._settle_tickets(db)
        rows = self._store.query(
            "SELECT * FROM photos WHERE id = ? AND status = 'active'", (photo_id,)
        )
        if not rows or (rows[0]["owner"] != principal.nsid and not rows[0]["is_public"]):
            raise errors.PhotoNotFound()
        return rows[0]

    def photo_tags(self, photo_id: str) -> list[sqlite3.Row]:
        return self._store.query(
            "SELECT * FROM tags WHERE photo_id = ? ORDER BY position", (photo_id,)
        )

    def photo_info(self, principal: Principal, photo_id: str, site_url: str) -> dict[str, Any]:
        """flickr.photos.getInfo, in the recorded shape (Flickr4Java's payload, flickrex's
        and janko/flickr-objects' JSON): numbers where Flickr sends numbers, dates and ids
        as strings, the photo page as an absolute URL on `site_url`."""
        row = self._visible_photo(principal, photo_id)
        owner = self._accounts.account(row["owner"])
        taken = self._store.query("SELECT * FROM taken WHERE photo_id = ?", (row["id"],))
        return {
            "photo": {
                "id": row["id"],
                "secret": row["secret"],
                "server": "1",
                "farm": 1,
                "dateuploaded": str(int(row["uploaded"])),
                "isfavorite": 0,
                "license": "0",
                "safety_level": str(row["safety_level"]),
                "rotation": 0,
                "originalsecret": row["originalsecret"],
                "originalformat": _ORIGINAL_FORMATS.get(row["format"], row["format"]),
                "media": row["kind"],
                "content_type": row["content_type"],
                "hidden": row["hidden"],
                "owner": {"nsid": owner["nsid"], "username": owner["username"]},
                "title": {"_content": row["title"]},
                "description": {"_content": row["description"]},
                "visibility": {
                    "ispublic": row["is_public"],
                    "isfriend": row["is_friend"],
                    "isfamily": row["is_family"],
                },
                "dates": {
                    "posted": str(int(row["uploaded"])),
                    "taken": taken[0]["taken"] if taken else "",
                    "takengranularity": 0,
                    "takenunknown": taken[0]["unknown"] if taken else 1,
                    "lastupdate": str(int(row["updated"])),
                },
                "views": "0",
                "tags": {
                    "tag": [
                        {
                            "id": tag_id(row["owner"], row["id"], tag["normalised"]),
                            "author": row["owner"],
                            "authorname": owner["username"],
                            "raw": tag["raw"],
                            "machine_tag": tag["machine"],
                            "_content": tag["normalised"],
                        }
                        for tag in self.photo_tags(row["id"])
                    ]
                },
                "urls": {
                    "url": [
                        {
                            "type": "photopage",
                            "_content": f"{site_url}/photos/{row['owner']}/{row['id']}/",
                        }
                    ]
                },
            }
        }

    def photo_row(self, photo_id: str) -> sqlite3.Row | None:
        rows = self._store.query("SELECT * FROM photos WHERE id = ?", (photo_id,))
        return rows[0] if rows else None

    def search(
        self,
        principal: Principal,
        *,
        user_id: str = "me",
        tags: str = "",
        tag_mode: str = "any",
        machine_tags: str = "",
        page: int = 1,
        per_page: int = 100,
    ) -> dict[str, Any]:
        """flickr.photos.search and flickr.people.getPhotos: the caller's photos, newest first."""
        nsid = require(principal, "read") if user_id == "me" else user_id
        conditions = ["owner = ?", "status = 'active'", "uploaded <= ?"]
        indexed_before = self._store.clock() - self.behaviour.search_delay_seconds
        params: list[str | float] = [nsid, indexed_before]
        if nsid != principal.nsid:
            conditions.append("is_public = 1")
        for values, mode in ((tags, tag_mode), (machine_tags, "any")):
            wanted = [normalise_tag(v) for v in values.split(",") if v.strip()]
            if not wanted:
                continue
            placeholders = ",".join("?" * len(wanted))
            needed = len(set(wanted)) if mode == "all" else 1
            conditions.append(
                f"id IN (SELECT photo_id FROM tags WHERE normalised IN ({placeholders})"  # noqa: S608
                f" GROUP BY photo_id HAVING COUNT(DISTINCT normalised) >= {needed})"
            )
            params += wanted
        with self._store.transaction() as db:
            self._settle_tickets(db)
        where = " AND ".join(conditions)
        per_page = min(max(per_page, 1), 500)
        page = max(page, 1)
        total = self._store.query(f"SELECT COUNT(*) FROM photos WHERE {where}", tuple(params))[0][0]  # noqa: S608
        rows = self._store.query(
            f"SELECT * FROM photos WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?",  # noqa: S608
            (*params, per_page, (page - 1) * per_page),
        )
        return {
            "photos": {
                "page": page,
                "pages": (total + per_page - 1) // per_page,
                "perpage": per_page,
                "total": total,
                "photo": [
                    {
                        "id": row["id"],
                        "owner": row["owner"],
                        "secret": row["secret"],
                        "server": "1",
                        "farm": 1,
                        "title": row["title"],
                        "ispublic": row["is_public"],
                        "isfriend": row["is_friend"],
                        "isfamily": row["is_family"],
                    }
                    for row in rows
                ],
            }
        }

    def delete(self, principal: Principal, photo_id: str) -> None:
        nsid = require(principal, "delete")
        with self._store.transaction() as db:
            updated = db.execute(
                "UPDATE photos SET status = 'deleted'"
                " WHERE id = ? AND owner = ? AND status = 'active'",
                (photo_id, nsid),
            ).rowcount
        if not updated:
            raise errors.PhotoNotFound()
        self._store.photo_path(photo_id).unlink(missing_ok=True)

    def all_photos(self) -> list[dict[str, Any]]:
        """Every photo of every account with its tags (for the control endpoint)."""
        rows = self._store.query("SELECT * FROM photos ORDER BY seq")
        tags: dict[str, list[str]] = {}
        for tag in self._store.query("SELECT photo_id, raw FROM tags ORDER BY position"):
            tags.setdefault(tag["photo_id"], []).append(tag["raw"])
        return [
            {
                **{name: value for name, value in dict(row).items() if name != "seq"},
                "tags": tags.get(row["id"], []),
            }
            for row in rows
        ]

    def counts(self) -> dict[str, int]:
        rows = self._store.query("SELECT status, COUNT(*) FROM photos GROUP BY status")
        return {row[0]: row[1] for row in rows}


def _flag_or(flag: int | None, default: int) -> int:
    """An upload's privacy flag: 1 if it was given as 1, 0 if as anything else, the
    account's default if it was left out."""
    return default if flag is None else int(flag == 1)


def _check_urls(*texts: str) -> None:
    for text in texts:
        for host in _URL_HOST.findall(text):
            host = host.lower()
            if any(host == bad or host.endswith("." + bad) for bad in BLOCKED_URL_HOSTS):
                raise errors.BadUrl()


def _flickr_takes(file_type: filetypes.FileType) -> bool:
    """Flickr answers error 5 "Filetype was not recognised" for RAW ("RAW is not
    supported": Flickr upload requirements, flickrhelp.com 4404079649300), WebP
    (dtinit/data-transfer-project #886) and videos off its list (MKV, WebM, FLV)."""
    if file_type.kind == filetypes.VIDEO:
        return filetypes.video_refusal(file_type.format) is None
    return not file_type.is_raw and file_type.format != "webp"
