"""Where a run sends and who will see what it sends, said before the first upload.

Flickr makes a new photo public unless the upload says otherwise or the owner changed the
account's default: a run that leaves it to the account must say so plainly, with the host
and the account, before anything is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from flickr_ingest.flickr import FlickrClient, errors
from flickr_ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

#: flickr.prefs.getPrivacy's values (the reference, section 12).
_PRIVACY = {
    1: "public: anyone can see them",
    2: "visible to your friends only",
    3: "visible to your family only",
    4: "visible to your friends and family only",
    5: "private: only you can see them",
}


@dataclass(frozen=True)
class Audience:
    """The upload fields a run sets (None = left to the account's default)."""

    is_public: bool | None = None
    is_friend: bool | None = None
    is_family: bool | None = None

    @property
    def left_to_account(self) -> bool:
        return self.is_public is None and self.is_friend is None and self.is_family is None

    def describe(self, account_default: int | None) -> str:
        """Who will see new photos, in words: from the run's settings, else from the
        account's default privacy (None when Flickr did not say)."""
        if self.left_to_account:
            if account_default is None:
                return "the account's default privacy (Flickr did not say which it is)"
            said = _PRIVACY.get(account_default, f"privacy {account_default}")
            return f"{said} (the account's default)"
        if self.is_public:
            return _PRIVACY[1]
        if self.is_friend and self.is_family:
            return _PRIVACY[4]
        if self.is_friend:
            return _PRIVACY[2]
        return _PRIVACY[3] if self.is_family else _PRIVACY[5]


def destination_line(*, where: str, account: str, audience: str, dry_run: bool) -> str:
    """The one line a run says before it sends: the host, the account, who will see."""
    verb = "Would send to" if dry_run else "Sending to"
    return f"{verb} {where} as {account}; new photos will be {audience}"


def destination(
    client: FlickrClient, settings: IngestSettings, account: str, *, sandbox: bool
) -> str:
    """The destination line of a run whose `client` is connected as `account`; asks the
    account's default privacy (one flickr.prefs.getPrivacy call) only when the run's
    settings leave it to the account."""
    return destination_line(
        where=_where(client, sandbox=sandbox),
        account=account,
        audience=_audience(client, settings),
        dry_run=settings.dry_run,
    )


def _where(client: FlickrClient, *, sandbox: bool) -> str:
    upload = client.endpoints.upload
    parts = urlsplit(upload)
    origin = f"{parts.scheme}://{parts.netloc}"
    if sandbox:
        return f"the embedded sandbox at {origin} (not flickr.com)"
    if client.endpoints.is_flickr:
        return f"flickr.com ({origin})"
    return f"{origin} (a Flickr-compatible server, not flickr.com)"


def _audience(client: FlickrClient, settings: IngestSettings) -> str:
    audience = Audience(settings.is_public, settings.is_friend, settings.is_family)
    if not audience.left_to_account:
        return audience.describe(None)
    try:
        default = client.default_privacy()
    except errors.FlickrError as error:
        if errors.is_retryable(error):
            raise
        logger.info("Flickr did not say the account's default privacy: %s", error)
        default = None
    return audience.describe(default)
