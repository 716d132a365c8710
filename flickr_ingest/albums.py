"""Albums: which album a file belongs in, and putting photos there exactly once.

Flickr lets many albums share a title and creates an album only with a first photo, so a
careless uploader makes a new album on every re-run, or two when two uploads finish at
once. Here one album per title is found or created under two locks: a per-title lock in
this process, and the ledger's claim across processes and machines; its id is then
recorded in the ledger, so later runs reuse it without asking Flickr.

Placing each photo as it is uploaded is best effort; `arrange` at the end of a run makes
it exact: every photo of the run that belongs in an album is put there (so a run killed
between upload and placement is mended by the next), and each album touched is ordered by
date taken.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr import FlickrClient, errors
from flickr_ingest.flickr.responses import AlbumPhoto
from flickr_ingest.ledger import BUSY, RECLAIMED, Ledger
from flickr_ingest.ledger.base import album_claim_key
from flickr_ingest.report.model import AlbumRecord

logger = logging.getLogger(__name__)

#: The `album` setting's modes; any other value is a fixed album name ("name:" escapes one).
NO_ALBUM, BY_FOLDER, BY_PATH = "none", "folder", "path"
_FIXED_PREFIX = "name:"
_MAX_TITLE = 255  # Flickr cuts longer titles; ours are cut first so lookups by title match


def wants_albums(setting: str) -> bool:
    return setting.strip().lower() not in ("", NO_ALBUM)


def album_title(relative_path: str, setting: str, *, root_name: str, separator: str) -> str | None:
    """The album a file belongs in: None (`none`), its folder's name (`folder`), its
    folders joined by `separator` (`path`), or a fixed name. Files at the top of the
    source take the source's own name (the folder, or the S3 prefix's last part)."""
    if not wants_albums(setting):
        return None
    mode = setting.strip()
    folders = list(PurePosixPath(relative_path).parts[:-1]) or [root_name]
    if mode.lower() == BY_FOLDER:
        title = folders[-1]
    elif mode.lower() == BY_PATH:
        title = separator.join(folders)
    else:
        title = mode.removeprefix(_FIXED_PREFIX).strip()
    if not title.strip():
        raise ConfigurationError(f"album setting {setting!r} gives an empty album title")
    return title.strip()[:_MAX_TITLE]


def source_root_name(location: str) -> str:
    """The last part of a folder path or of s3://bucket/prefix (the bucket if no prefix)."""
    parts = [part for part in location.removeprefix("s3://").replace("\\", "/").split("/") if part]
    return parts[-1] if parts else location


@dataclass
class _Resolved:
    album_id: str
    created_with: str | None  # the primary photo, when this process created it


@dataclass
class Albums:
    """Album bookkeeping for one run. Thread-safe: upload tasks call `place` at once."""

    client: FlickrClient
    ledger: Ledger
    account: str  # the ledger's account
    owner_nsid: str
    run_id: str
    _locks: dict[str, threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)
    _resolved: dict[str, _Resolved] = field(default_factory=dict)
    _listing: dict[str, list[str]] | None = None  # title -> album ids, read once per run

    def place(self, photo_id: str, title: str) -> str:
        """Put a photo in the album `title`, creating the album once; returns its id."""
        for _ in range(2):  # a second time only when the recorded album is gone
            resolved = self._album(title, photo_id)
            if resolved.created_with == photo_id:
                return resolved.album_id
            try:
                self.client.add_to_album(resolved.album_id, photo_id)
                return resolved.album_id
            except errors.FlickrError as error:
                if not self.client.is_album_gone(error):
                    raise
                self._forget(title, resolved.album_id)
        raise errors.FlickrAPIError(f"album {title!r} vanished twice while adding a photo")

    def arrange(self, members: dict[str, list[str]]) -> list[AlbumRecord]:
        """For each album title and the photo ids that belong in it: put in any that are
        missing, then order the album by date taken. Idempotent; safe to retry."""
        outcomes = []
        for title, photo_ids in members.items():
            if photo_ids:
                outcomes.append(self._arrange_one(title, list(dict.fromkeys(photo_ids))))
        return outcomes

    # -- finding or creating an album ----------------------------------------------------

    def _lock_for(self, title: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[title]

    def _album(self, title: str, photo_id: str) -> _Resolved:
        with self._lock_for(title):  # one thread of this run per title
            if title not in self._resolved:
                self._resolved[title] = self._find_or_create(title, photo_id)
            return self._resolved[title]

    def _find_or_create(self, title: str, photo_id: str) -> _Resolved:
        claim_key, holder = album_claim_key(title), f"{self.run_id}:album:{title}"
        while True:  # one process at a time per title, across runs and machines
            recorded = self.ledger.album_id(self.account, title)
            if recorded is not None:
                return _Resolved(recorded, None)
            answer = self.ledger.claim(self.account, claim_key, holder)
            if answer != BUSY:
                break
            time.sleep(0.2)
        try:
            # A reclaimed claim's holder died: it may have created the album unrecorded.
            existing = self._existing_album(title, refresh=answer == RECLAIMED)
            if existing is not None:
                logger.info("Reusing album %r (%s)", title, existing)
                return _Resolved(self.ledger.record_album(self.account, title, existing), None)
            created = self.client.create_album(title, photo_id)
            logger.info("Created album %r (%s)", title, created)
            recorded = self.ledger.record_album(self.account, title, created)
            if recorded != created:  # another machine's claim overlapped ours: theirs stands
                self.client.delete_album(created)
                return _Resolved(recorded, None)
            return _Resolved(created, photo_id)
        finally:
            self.ledger.release(self.account, claim_key, holder)

    def _existing_album(self, title: str, *, refresh: bool) -> str | None:
        """The account's album with this title (the oldest, if there are several)."""
        if self._listing is None or refresh:
            listing: dict[str, list[str]] = defaultdict(list)
            for album in self.client.albums():
                listing[album.title].append(album.album_id)
            self._listing = listing
        found = self._listing.get(title)
        return min(found, key=int) if found else None

    def _forget(self, title: str, album_id: str) -> None:
        """The album was deleted on Flickr: drop every memory of it."""
        logger.warning("Album %r (%s) is gone from Flickr; it will be made again", title, album_id)
        self.ledger.forget_album(self.account, title, album_id)
        with self._lock_for(title):
            if title in self._resolved and self._resolved[title].album_id == album_id:
                del self._resolved[title]
            if self._listing is not None and album_id in self._listing.get(title, []):
                self._listing[title].remove(album_id)

    # -- the end of a run ----------------------------------------------------------------

    def _arrange_one(self, title: str, photo_ids: list[str]) -> AlbumRecord:
        for _ in range(2):
            resolved = self._album(title, photo_ids[0])
            try:
                return self._complete_and_order(title, resolved.album_id, photo_ids)
            except errors.FlickrError as error:
                if not self.client.is_album_gone(error):
                    raise
                self._forget(title, resolved.album_id)
        raise errors.FlickrAPIError(f"album {title!r} vanished twice while arranging it")

    def _complete_and_order(self, title: str, album_id: str, photo_ids: list[str]) -> AlbumRecord:
        present = {photo.photo_id for photo in self.client.album_photos(album_id)}
        added, problems = 0, []
        for photo_id in photo_ids:
            if photo_id in present:
                continue
            try:
                added += int(self.client.add_to_album(album_id, photo_id))
            except errors.FlickrAPIError as error:
                if self.client.is_album_gone(error):
                    raise
                problems.append(f"photo {photo_id} could not be added: {error}")
        photos = self.client.album_photos(album_id)
        wanted = [photo.photo_id for photo in sorted(photos, key=_by_date_taken)]
        reordered = wanted != [photo.photo_id for photo in photos]
        if reordered:
            self.client.reorder_album(album_id, wanted)
        return AlbumRecord(
            title=title,
            album_id=album_id,
            url=self.client.endpoints.album_url(self.owner_nsid, album_id),
            photo_count=len(photos),
            added=added,
            reordered=reordered,
            problems=tuple(problems),
        )


def _by_date_taken(photo: AlbumPhoto) -> tuple[str, int]:
    """Oldest first; photos taken in the same second by id (upload order)."""
    return photo.date_taken, int(photo.photo_id) if photo.photo_id.isdigit() else 0
