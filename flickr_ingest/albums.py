"""Albums: which album a file belongs in, and filling each album once per run.

Flickr lets many albums share a title and creates an album only with a first photo, so a
careless uploader makes a new album on every re-run, or two when two runs finish at once.
Here one album per title is found or created under the ledger's claim for that title
(one process at a time, across runs and machines), and its id is recorded in the ledger,
so later runs reuse it without asking Flickr.

Albums are filled at the end of a run, a handful of REST calls per album rather than one
per photo (the key's budget is 3,600 calls an hour): read the album, add every photo of
the run that is missing with one `flickr.photosets.editPhotos`, read the dates taken
and put the album in date-taken order with one `reorderPhotos`. The claim is held
throughout, so two runs filling one album never overwrite each other's photos; photos
uploaded by an earlier run that was killed before this step are added by the next run.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr import FlickrClient, errors
from flickr_ingest.flickr.responses import AlbumPhoto
from flickr_ingest.ledger import BUSY, RECLAIMED, Ledger
from flickr_ingest.ledger.base import album_claim_key
from flickr_ingest.numbers import parse_count
from flickr_ingest.outcomes import Status
from flickr_ingest.report.model import AlbumRecord, FileRecord
from flickr_ingest.report.records import RecordLog
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources.base import readable_text

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


#: Statuses of a file that is on Flickr as its record's photo (and so in its album).
_ON_FLICKR = frozenset(
    {Status.UPLOADED, Status.REPLACED, Status.DUPLICATE, Status.ALREADY_UPLOADED}
)


def _on_flickr(record: FileRecord) -> bool:
    """Whether the file is on Flickr as its record's photo now (and so in its album)."""
    return record.status in _ON_FLICKR and bool(record.photo_id)


@dataclass(frozen=True)
class AlbumFiling:
    """Which album each file of a run belongs in, by the run's `album` setting."""

    setting: str
    root_name: str  # the source's own folder name (an album for files at its top)
    separator: str

    @classmethod
    def of(cls, settings: IngestSettings) -> AlbumFiling | None:
        """The run's filing, or None when it files nothing into albums."""
        if not wants_albums(settings.album):
            return None
        return cls(settings.album, source_root_name(settings.source), settings.album_separator)

    def title(self, relative_path: str) -> str | None:
        return album_title(
            readable_text(relative_path),  # a name's bytes that are not UTF-8: "\ufffd"
            self.setting,
            root_name=self.root_name,
            separator=self.separator,
        )

    def members(self, records: Iterable[FileRecord]) -> dict[str, list[str]]:
        """Album title -> the photo ids of this run that belong in it."""
        members: dict[str, list[str]] = {}
        for record in records:
            title = self.title(record.relative_path)
            if title is not None and _on_flickr(record) and record.photo_id:
                members.setdefault(title, []).append(record.photo_id)
        return members

    def placed(self, records: RecordLog, albums: Iterable[AlbumRecord]) -> RecordLog:
        """The records with their album's title (and id, where the album exists)."""
        ids = {album.title: album.album_id for album in albums}

        def placed(record: FileRecord) -> FileRecord:
            title = self.title(record.relative_path)
            if title is None or not (_on_flickr(record) or record.status == Status.PLANNED):
                return record
            return replace(record, album=title, album_id=ids.get(title))

        return records.rewritten(placed)


@dataclass
class Albums:
    """Album bookkeeping for one run."""

    client: FlickrClient
    ledger: Ledger
    account: str  # the ledger's account
    owner_nsid: str
    run_id: str
    _listing: dict[str, list[str]] | None = None  # title -> album ids, read once per run

    def arrange(self, members: dict[str, list[str]]) -> list[AlbumRecord]:
        """For each album title and the photo ids that belong in it: find or create the
        album, put in any that are missing, order it by date taken. Idempotent."""
        outcomes = []
        for title, photo_ids in members.items():
            if photo_ids:
                outcomes.append(self._arrange_one(title, list(dict.fromkeys(photo_ids))))
        return outcomes

    def _arrange_one(self, title: str, photo_ids: list[str]) -> AlbumRecord:
        with self._claimed(title) as reclaimed:
            for _ in range(2):  # a second time only when the recorded album is gone
                album_id, created = self._find_or_create(title, photo_ids[0], refresh=reclaimed)
                try:
                    return self._fill_and_order(title, album_id, photo_ids, created=created)
                except errors.FlickrError as error:
                    if not self.client.is_album_gone(error):
                        raise
                    self._forget(title, album_id)
        raise errors.FlickrAPIError(f"album {title!r} vanished twice while arranging it")

    @contextmanager
    def _claimed(self, title: str) -> Iterator[bool]:
        """Hold the title's claim in the ledger (waiting for another holder); yields
        whether a gone holder had it (it may have created the album unrecorded)."""
        claim_key, holder = album_claim_key(title), f"{self.run_id}:album:{title}"
        while (answer := self.ledger.claim(self.account, claim_key, holder)) == BUSY:
            time.sleep(0.2)
        try:
            yield answer == RECLAIMED
        finally:
            self.ledger.release(self.account, claim_key, holder)

    def _find_or_create(self, title: str, first_photo: str, *, refresh: bool) -> tuple[str, bool]:
        """(the album's id, whether it was created now with `first_photo` alone in it)."""
        recorded = self.ledger.album_id(self.account, title)
        if recorded is not None:
            return recorded, False
        existing = self._existing_album(title, refresh=refresh)
        if existing is not None:
            logger.info("Reusing album %r (%s)", title, existing)
            return self.ledger.record_album(self.account, title, existing), False
        created = self.client.create_album(title, first_photo)
        logger.info("Created album %r (%s)", title, created)
        recorded = self.ledger.record_album(self.account, title, created)
        if recorded != created:  # another machine's expired claim overlapped ours: theirs stands
            self.client.delete_album(created)
            return recorded, False
        return created, True

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
        if self._listing is not None and album_id in self._listing.get(title, []):
            self._listing[title].remove(album_id)

    def _fill_and_order(
        self, title: str, album_id: str, photo_ids: list[str], *, created: bool
    ) -> AlbumRecord:
        if created:  # it holds its first photo only: no need to read it
            present, primary = [photo_ids[0]], photo_ids[0]
        else:
            photos = self.client.album_photos(album_id)
            present = [photo.photo_id for photo in photos]
            primary = next((p.photo_id for p in photos if p.is_primary), photo_ids[0])
        in_album = set(present)
        missing = [photo_id for photo_id in photo_ids if photo_id not in in_album]
        problems: list[str] = []
        if missing:
            missing = self._add(album_id, primary, present, missing, problems)
        photos = self.client.album_photos(album_id) if missing or created else photos
        wanted = [photo.photo_id for photo in sorted(photos, key=_by_date_taken)]
        reordered = wanted != [photo.photo_id for photo in photos]
        if reordered:
            self.client.reorder_album(album_id, wanted)
        return AlbumRecord(
            title=title,
            album_id=album_id,
            url=self.client.endpoints.album_url(self.owner_nsid, album_id),
            photo_count=len(photos),
            added=len(missing) + (1 if created else 0),  # made with its first photo in
            reordered=reordered,
            problems=tuple(problems),
            created=created,
        )

    def _add(
        self,
        album_id: str,
        primary: str,
        present: list[str],
        missing: list[str],
        problems: list[str],
    ) -> list[str]:
        """Add `missing` to the album in one call; returns those added. If Flickr refuses
        the list (a photo deleted meanwhile), they are added one by one, and each refusal
        is a problem of the report."""
        try:
            self.client.edit_album_photos(album_id, primary, [*present, *missing])
            return missing
        except errors.FlickrAPIError as error:
            if self.client.is_album_gone(error):
                raise
        added = []
        for photo_id in missing:
            try:
                if self.client.add_to_album(album_id, photo_id):
                    added.append(photo_id)
            except errors.FlickrAPIError as error:
                if self.client.is_album_gone(error):
                    raise
                problems.append(f"photo {photo_id} could not be added: {error}")
        return added


def _by_date_taken(photo: AlbumPhoto) -> tuple[str, int]:
    """Oldest first; photos taken in the same second by id (upload order)."""
    return photo.date_taken, parse_count(photo.photo_id) or 0  # '²'.isdigit() is True
