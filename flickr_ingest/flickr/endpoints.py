"""Where the Flickr API lives: the real hosts, or one base URL for every path."""

from __future__ import annotations

import os
from dataclasses import dataclass

FLICKR_BASE_URL_VARIABLE = "FLICKR_BASE_URL"


@dataclass(frozen=True)
class Endpoints:
    rest: str
    upload: str
    replace: str
    request_token: str
    authorize: str
    access_token: str
    organize: str  # the batch-edit page; ids are appended
    is_flickr: bool  # the real flickr.com, not a sandbox or another server

    @classmethod
    def flickr(cls) -> Endpoints:
        return cls(
            rest="https://api.flickr.com/services/rest/",
            upload="https://up.flickr.com/services/upload/",
            replace="https://up.flickr.com/services/replace/",
            request_token="https://www.flickr.com/services/oauth/request_token",
            authorize="https://www.flickr.com/services/oauth/authorize",
            access_token="https://www.flickr.com/services/oauth/access_token",
            organize="https://www.flickr.com/photos/upload/edit/?ids=",
            is_flickr=True,
        )

    @classmethod
    def at(cls, base_url: str) -> Endpoints:
        """Every path on one server, as the sandbox serves them."""
        base = base_url.rstrip("/")
        return cls(
            rest=f"{base}/services/rest/",
            upload=f"{base}/services/upload/",
            replace=f"{base}/services/replace/",
            request_token=f"{base}/services/oauth/request_token",
            authorize=f"{base}/services/oauth/authorize",
            access_token=f"{base}/services/oauth/access_token",
            organize=f"{base}/photos/upload/edit/?ids=",
            is_flickr=False,
        )

    @classmethod
    def from_environment(cls, stored_base_url: str = "") -> Endpoints:
        """`FLICKR_BASE_URL` when set, else the server the credentials were made on
        (`stored_base_url`), else the real Flickr hosts."""
        base = os.environ.get(FLICKR_BASE_URL_VARIABLE, "").strip() or stored_base_url.strip()
        return cls.at(base) if base else cls.flickr()

    @property
    def base_url(self) -> str:
        """The one server of `at(base_url)`; "" for flickr.com's own hosts."""
        return "" if self.is_flickr else self.rest.removesuffix("/services/rest/")

    def album_url(self, owner_nsid: str, album_id: str) -> str:
        web = self.organize.split("/photos/upload/edit/", 1)[0]
        return f"{web}/photos/{owner_nsid}/albums/{album_id}"

    def organize_urls(self, photo_ids: list[str], *, per_url: int = 100) -> list[str]:
        """The batch-edit page for these photos, split so that no URL grows too long."""
        return [
            self.organize + ",".join(photo_ids[start : start + per_url])
            for start in range(0, len(photo_ids), per_url)
        ]
