"""The sandbox's state model: everything it knows, with no HTTP in sight.

Methods take Python values and return plain data shaped like Flickr's JSON answers, or
raise the Flickr faults of `errors`. Split by subject: `store` (SQLite and files),
`accounts` (apps, accounts, tokens, OAuth checks), `photos` (uploads, tickets, queries),
`albums` (photosets), `edits` (tags, title and description after upload).
"""

from __future__ import annotations

from pathlib import Path

from flickr_ingest.sandbox.accounts import Accounts, Principal
from flickr_ingest.sandbox.albums import Albums
from flickr_ingest.sandbox.edits import PhotoEdits
from flickr_ingest.sandbox.photos import Photos
from flickr_ingest.sandbox.store import Store


class SandboxState:
    def __init__(self, root: Path | str | None = None, *, seed: int | None = None) -> None:
        self.store = Store(root, seed=seed)
        self.accounts = Accounts(self.store)
        self.photos = Photos(self.store, self.accounts)
        self.albums = Albums(self.store)
        self.edits = PhotoEdits(self.store)
        #: Where the sandbox's own photo pages are, for the absolute URLs in its answers.
        self.site_url = "https://www.flickr.com"

    def delete_photo(self, principal: Principal, photo_id: str) -> None:
        self.photos.delete(principal, photo_id)
        self.albums.forget_photo(photo_id)

    def reset(self) -> None:
        self.store.reset()

    def close(self) -> None:
        self.store.close()
