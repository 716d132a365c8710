"""Albums (Flickr's "photosets"): create, add, list, read, reorder, edit, delete.

As on Flickr: an album is created with a primary photo, which is thereby its first
member; a photo is in an album at most once (adding it again is fault 3); an album whose
last photo is deleted disappears; titles need not be unique (two albums may share one,
which is why a careless uploader makes duplicates).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from flickr_ingest.sandbox import errors
from flickr_ingest.sandbox.accounts import Principal, require
from flickr_ingest.sandbox.store import Store

#: Flickr's album ids are 17 digits starting 72157.
_ID_PREFIX = "72157"
MAX_PER_PAGE = 500


class Albums:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self, principal: Principal, title: str, description: str, primary_photo_id: str
    ) -> dict[str, Any]:
        nsid = require(principal, "write")
        if not title.strip():
            raise errors.NoTitle()
        with self._store.transaction() as db:
            self._own_photo(db, nsid, primary_photo_id)
            album_id = self._new_id(db)
            now = self._store.clock()
            db.execute(
                "INSERT INTO albums (id, owner, title, description, primary_photo, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (album_id, nsid, title, description, primary_photo_id, now, now),
            )
            db.execute("INSERT INTO album_photos VALUES (?, ?, 0)", (album_id, primary_photo_id))
        return {"photoset": {"id": album_id, "url": f"/photos/{nsid}/albums/{album_id}"}}

    def add_photo(self, principal: Principal, album_id: str, photo_id: str) -> None:
        nsid = require(principal, "write")
        with self._store.transaction() as db:
            self._own_album(db, nsid, album_id)
            self._own_photo(db, nsid, photo_id)
            if db.execute(
                "SELECT 1 FROM album_photos WHERE album_id = ? AND photo_id = ?",
                (album_id, photo_id),
            ).fetchone():
                raise errors.PhotoAlreadyInSet()
            db.execute(
                "INSERT INTO album_photos SELECT ?, ?, COALESCE(MAX(position) + 1, 0)"
                " FROM album_photos WHERE album_id = ?",
                (album_id, photo_id, album_id),
            )
            db.execute(
                "UPDATE albums SET updated = ? WHERE id = ?", (self._store.clock(), album_id)
            )

    def reorder(self, principal: Principal, album_id: str, photo_ids: list[str]) -> None:
        """flickr.photosets.reorderPhotos: the listed photos first, in that order; the
        others keep their order after them."""
        nsid = require(principal, "write")
        with self._store.transaction() as db:
            self._own_album(db, nsid, album_id)
            members = self._member_ids(db, album_id)
            if any(photo_id not in members for photo_id in photo_ids):
                raise errors.PhotoNotFoundForSet()
            listed = list(dict.fromkeys(photo_ids))
            order = listed + [photo_id for photo_id in members if photo_id not in set(listed)]
            for position, photo_id in enumerate(order):
                db.execute(
                    "UPDATE album_photos SET position = ? WHERE album_id = ? AND photo_id = ?",
                    (position, album_id, photo_id),
                )
            db.execute(
                "UPDATE albums SET updated = ? WHERE id = ?", (self._store.clock(), album_id)
            )

    def edit_photos(
        self, principal: Principal, album_id: str, primary_photo_id: str, photo_ids: list[str]
    ) -> None:
        """flickr.photosets.editPhotos: `photo_ids` (first occurrence of each) becomes the
        whole membership, in that order, with `primary_photo_id` as the primary. Photos left
        out stay on the account. One transaction: concurrent edits never mix.

        Checks in this order: 1 album, 5 empty list, 3 primary, 4 primary not listed,
        2 a listed photo (Flickr's page gives the codes, not their precedence)."""
        nsid = require(principal, "write")
        listed = list(dict.fromkeys(photo_ids))
        with self._store.transaction() as db:
            self._own_album(db, nsid, album_id)
            if not listed:
                raise errors.EmptyPhotosList()
            if not self._is_own_photo(db, nsid, primary_photo_id):
                raise errors.PrimaryPhotoNotFound()
            if primary_photo_id not in listed:
                raise errors.PrimaryPhotoNotInList()
            if not all(self._is_own_photo(db, nsid, photo_id) for photo_id in listed):
                raise errors.PhotoNotFoundForSet()
            db.execute("DELETE FROM album_photos WHERE album_id = ?", (album_id,))
            db.executemany(
                "INSERT INTO album_photos VALUES (?, ?, ?)",
                [(album_id, photo_id, position) for position, photo_id in enumerate(listed)],
            )
            db.execute(
                "UPDATE albums SET primary_photo = ?, updated = ? WHERE id = ?",
                (primary_photo_id, self._store.clock(), album_id),
            )

    def delete(self, principal: Principal, album_id: str) -> None:
        nsid = require(principal, "write")
        with self._store.transaction() as db:
            self._own_album(db, nsid, album_id)
            db.execute("DELETE FROM album_photos WHERE album_id = ?", (album_id,))
            db.execute("DELETE FROM albums WHERE id = ?", (album_id,))

    def forget_photo(self, photo_id: str) -> None:
        """A deleted photo leaves its albums; an album left empty goes too (as on Flickr)."""
        with self._store.transaction() as db:
            self._forget_photo(db, photo_id)

    def _forget_photo(self, db: sqlite3.Connection, photo_id: str) -> None:
        album_ids = [
            row[0]
            for row in db.execute(
                "SELECT album_id FROM album_photos WHERE photo_id = ?", (photo_id,)
            )
        ]
        db.execute("DELETE FROM album_photos WHERE photo_id = ?", (photo_id,))
        for album_id in album_ids:
            members = self._member_ids(db, album_id)
            if not members:
                db.execute("DELETE FROM albums WHERE id = ?", (album_id,))
            else:
                db.execute(
                    "UPDATE albums SET primary_photo = ? WHERE id = ? AND primary_photo = ?",
                    (members[0], album_id, photo_id),
                )

    # -- reading -------------------------------------------------------------------------

    def listing(
        self, principal: Principal, user_id: str, page: int, per_page: int
    ) -> dict[str, Any]:
        """flickr.photosets.getList: without `page`, every album (as Flickr does)."""
        nsid = user_id or require(principal, "read")
        rows = self._store.query(
            "SELECT a.*, (SELECT COUNT(*) FROM album_photos m WHERE m.album_id = a.id) AS photos"
            " FROM albums a WHERE owner = ? ORDER BY seq DESC",
            (nsid,),
        )
        total = len(rows)
        if page:
            per_page = min(max(per_page, 1), MAX_PER_PAGE)
            rows = rows[(page - 1) * per_page : page * per_page]
        else:
            page, per_page = 1, max(total, 1)
        return {
            "photosets": {
                "page": page,
                "pages": max((total + per_page - 1) // per_page, 1),
                "perpage": per_page,
                "total": total,
                "cancreate": 1,
                "photoset": [
                    {
                        "id": row["id"],
                        "owner": row["owner"],
                        "primary": row["primary_photo"],
                        "photos": row["photos"],
                        "count_photos": row["photos"],
                        "title": {"_content": row["title"]},
                        "description": {"_content": row["description"]},
                        "date_create": str(int(row["created"])),
                        "date_update": str(int(row["updated"])),
                    }
                    for row in rows
                ],
            }
        }

    def photos(
        self, principal: Principal, album_id: str, extras: set[str], page: int, per_page: int
    ) -> dict[str, Any]:
        """flickr.photosets.getPhotos: members in album order; others see public ones.
        The album and its members are read under the store's lock, so an answer never mixes
        two edits."""
        with self._store.lock:
            rows = self._store.query(
                "SELECT a.*, (SELECT username FROM accounts WHERE nsid = a.owner) AS ownername"
                " FROM albums a WHERE a.id = ?",
                (album_id,),
            )
            if not rows:
                raise errors.PhotosetNotFound()
            album = rows[0]
            mine = principal.nsid == album["owner"]
            members = self._store.query(
                "SELECT p.*, t.taken, t.unknown FROM album_photos m"
                " JOIN photos p ON p.id = m.photo_id LEFT JOIN taken t ON t.photo_id = p.id"
                " WHERE m.album_id = ?"
                " AND (? OR p.is_public = 1) ORDER BY m.position",
                (album_id, int(mine)),
            )
        per_page = min(max(per_page, 1), MAX_PER_PAGE)
        page = max(page, 1)
        total = len(members)
        shown = members[(page - 1) * per_page : page * per_page]
        return {
            "photoset": {
                "id": album_id,
                "primary": album["primary_photo"],
                "owner": album["owner"],
                "ownername": album["ownername"],
                "title": album["title"],
                "page": page,
                "per_page": per_page,
                "perpage": per_page,
                "pages": max((total + per_page - 1) // per_page, 1),
                "total": total,
                "photo": [self._member(row, album, extras) for row in shown],
            }
        }

    def albums_of(self, photo_id: str) -> list[sqlite3.Row]:
        return self._store.query(
            "SELECT a.* FROM albums a JOIN album_photos m ON m.album_id = a.id"
            " WHERE m.photo_id = ? ORDER BY a.title",
            (photo_id,),
        )

    def album(self, album_id: str) -> sqlite3.Row | None:
        rows = self._store.query("SELECT * FROM albums WHERE id = ?", (album_id,))
        return rows[0] if rows else None

    def member_rows(self, album_id: str) -> list[sqlite3.Row]:
        return self._store.query(
            "SELECT p.* FROM album_photos m JOIN photos p ON p.id = m.photo_id"
            " WHERE m.album_id = ? ORDER BY m.position",
            (album_id,),
        )

    def all_albums(self) -> list[dict[str, Any]]:
        """Every album with its photo ids in order (for the control endpoint), read under
        the store's lock so each album's primary and members come from one state."""
        with self._store.lock:
            return [
                {
                    "id": row["id"],
                    "owner": row["owner"],
                    "title": row["title"],
                    "primary": row["primary_photo"],
                    "photo_ids": [member["id"] for member in self.member_rows(row["id"])],
                }
                for row in self._store.query("SELECT * FROM albums ORDER BY seq")
            ]

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _member(row: sqlite3.Row, album: sqlite3.Row, extras: set[str]) -> dict[str, Any]:
        member: dict[str, Any] = {
            "id": row["id"],
            "secret": row["secret"],
            "server": "1",
            "farm": 1,
            "title": row["title"],
            "isprimary": int(row["id"] == album["primary_photo"]),
            "ispublic": row["is_public"],
            "isfriend": row["is_friend"],
            "isfamily": row["is_family"],
        }
        if "date_taken" in extras:
            unknown = row["taken"] is None or row["unknown"]
            taken = row["taken"] or time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["uploaded"]))
            member.update(
                datetaken=taken, datetakengranularity=0, datetakenunknown=int(bool(unknown))
            )
        if "date_upload" in extras:
            member["dateupload"] = str(int(row["uploaded"]))
        return member

    def _new_id(self, db: sqlite3.Connection) -> str:
        while True:
            candidate = _ID_PREFIX + self._store.number(12)
            if not db.execute("SELECT 1 FROM albums WHERE id = ?", (candidate,)).fetchone():
                return candidate

    @staticmethod
    def _own_album(db: sqlite3.Connection, nsid: str, album_id: str) -> None:
        if not db.execute(
            "SELECT 1 FROM albums WHERE id = ? AND owner = ?", (album_id, nsid)
        ).fetchone():
            raise errors.PhotosetNotFound()

    @classmethod
    def _own_photo(cls, db: sqlite3.Connection, nsid: str, photo_id: str) -> None:
        if not cls._is_own_photo(db, nsid, photo_id):
            raise errors.PhotoNotFoundForSet()

    @staticmethod
    def _is_own_photo(db: sqlite3.Connection, nsid: str, photo_id: str) -> bool:
        return bool(
            db.execute(
                "SELECT 1 FROM photos WHERE id = ? AND owner = ? AND status = 'active'",
                (photo_id, nsid),
            ).fetchone()
        )

    @staticmethod
    def _member_ids(db: sqlite3.Connection, album_id: str) -> list[str]:
        return [
            row[0]
            for row in db.execute(
                "SELECT photo_id FROM album_photos WHERE album_id = ? ORDER BY position",
                (album_id,),
            )
        ]
