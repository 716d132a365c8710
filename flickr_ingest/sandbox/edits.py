"""Editing a photo after upload: its tags (addTags, removeTag, setTags) and its title and
description (setMeta), as recorded Flickr traffic shows them.

Facts carried over (sources: janko/flickr-objects' VCR cassettes, 2013; janko/flickrie's,
2012; boncey/Flickr4Java's payloads, 2024):
- A tag's id has three parts, `<user number>-<photo id>-<tag number>` (e.g.
  `78701040-8130464513-14924`); the user number is not the one in the owner's NSID, and
  the tag number is the same for the same tag text on every photo.
- removeTag takes the tag id alone (no photo id); a tag not found, or not the caller's,
  is error 1 "Tag not found". Its answer is empty.
- addTags answers with the tags it added (`{"tags": {"tag": [...]}}`, empty when all were
  there already); setTags answers empty; setMeta with the photo's title and description.
  Both setTags and addTags refuse a photo not the caller's with 1 "Photo not found", and
  more tags than a photo may hold with 2 "Maximum number of tags reached" (nothing
  changed); setMeta with neither title nor description is 2.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from flickr_ingest.sandbox import errors
from flickr_ingest.sandbox.accounts import Principal, require
from flickr_ingest.sandbox.store import Store
from flickr_ingest.tags import MAX_TAGS, is_machine_tag, normalise_tag, parse_tags


def tag_id(owner: str, photo_id: str, normalised: str) -> str:
    """A tag's id in Flickr's three-part shape, stable for the same owner, photo and tag."""
    user = int(hashlib.sha256(owner.encode()).hexdigest()[:7], 16)
    tag = int(hashlib.sha256(normalised.encode()).hexdigest()[:12], 16)  # never two alike
    return f"{user}-{photo_id}-{tag}"


class PhotoEdits:
    """The tag and meta methods of the owner's photos."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add_tags(self, principal: Principal, photo_id: str, tag_string: str) -> dict[str, Any]:
        nsid = require(principal, "write")
        with self._store.transaction() as db:
            owner = self._own_photo(db, nsid, photo_id)
            present = [row["normalised"] for row in _tags(db, photo_id)]
            added = []
            for raw in parse_tags(tag_string):
                normalised = normalise_tag(raw)
                if normalised and normalised not in present:
                    present.append(normalised)
                    added.append((raw, normalised))
            if len(present) > MAX_TAGS:
                raise errors.MaximumTagsReached()
            position = _next_position(db, photo_id)
            for offset, (raw, normalised) in enumerate(added):
                _insert_tag(db, photo_id, position + offset, raw, normalised)
            self._touch(db, photo_id)
        return {
            "tags": {
                "tag": [
                    {
                        "id": tag_id(owner, photo_id, normalised),
                        "author": owner,
                        "raw": raw,
                        "machine_tag": int(is_machine_tag(raw)),
                        "_content": normalised,
                    }
                    for raw, normalised in added
                ]
            }
        }

    def remove_tag(self, principal: Principal, full_tag_id: str) -> None:
        nsid = require(principal, "write")
        parts = full_tag_id.split("-")
        photo_id = parts[1] if len(parts) == 3 else ""
        with self._store.transaction() as db:
            row = db.execute(
                "SELECT owner FROM photos WHERE id = ? AND status IN ('active', 'processing')",
                (photo_id,),
            ).fetchone()
            if row is None or row["owner"] != nsid:
                raise errors.TagNotFound()
            for tag in _tags(db, photo_id):
                if tag_id(nsid, photo_id, tag["normalised"]) == full_tag_id:
                    db.execute(
                        "DELETE FROM tags WHERE photo_id = ? AND position = ?",
                        (photo_id, tag["position"]),
                    )
                    self._touch(db, photo_id)
                    return
        raise errors.TagNotFound()

    def set_tags(self, principal: Principal, photo_id: str, tag_string: str) -> None:
        nsid = require(principal, "write")
        wanted: list[tuple[str, str]] = []
        for raw in parse_tags(tag_string):
            normalised = normalise_tag(raw)
            if normalised and normalised not in {n for _, n in wanted}:
                wanted.append((raw, normalised))
        with self._store.transaction() as db:
            self._own_photo(db, nsid, photo_id)  # before the limit: 1 wins over 2
            if len(wanted) > MAX_TAGS:
                raise errors.MaximumTagsReached()
            db.execute("DELETE FROM tags WHERE photo_id = ?", (photo_id,))
            for position, (raw, normalised) in enumerate(wanted):
                _insert_tag(db, photo_id, position, raw, normalised)
            self._touch(db, photo_id)

    def set_meta(
        self, principal: Principal, photo_id: str, title: str | None, description: str | None
    ) -> dict[str, Any]:
        nsid = require(principal, "write")
        with self._store.transaction() as db:
            self._own_photo(db, nsid, photo_id)
            if title is None and description is None:
                raise errors.NoTitleOrDescription()
            if title is not None:
                db.execute("UPDATE photos SET title = ? WHERE id = ?", (title, photo_id))
            if description is not None:
                db.execute(
                    "UPDATE photos SET description = ? WHERE id = ?", (description, photo_id)
                )
            self._touch(db, photo_id)
            row = db.execute(
                "SELECT title, description FROM photos WHERE id = ?", (photo_id,)
            ).fetchone()
        return {
            "photo": {
                "title": {"_content": row["title"]},
                "description": {"_content": row["description"]},
            }
        }

    @staticmethod
    def _own_photo(db: sqlite3.Connection, nsid: str, photo_id: str) -> str:
        row = db.execute(
            "SELECT owner FROM photos WHERE id = ? AND status IN ('active', 'processing')",
            (photo_id,),
        ).fetchone()
        if row is None or row["owner"] != nsid:
            raise errors.PhotoNotFound()
        return nsid

    def _touch(self, db: sqlite3.Connection, photo_id: str) -> None:
        db.execute("UPDATE photos SET updated = ? WHERE id = ?", (self._store.clock(), photo_id))


def _tags(db: sqlite3.Connection, photo_id: str) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT * FROM tags WHERE photo_id = ? ORDER BY position", (photo_id,)
    ).fetchall()


def _next_position(db: sqlite3.Connection, photo_id: str) -> int:
    row = db.execute("SELECT MAX(position) FROM tags WHERE photo_id = ?", (photo_id,)).fetchone()
    return 0 if row[0] is None else row[0] + 1


def _insert_tag(
    db: sqlite3.Connection, photo_id: str, position: int, raw: str, normalised: str
) -> None:
    db.execute(
        "INSERT INTO tags VALUES (?, ?, ?, ?, ?)",
        (photo_id, position, raw, normalised, int(is_machine_tag(raw))),
    )
