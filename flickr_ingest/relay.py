"""Bucket notifications to events: read S3 event notifications (as SQS delivers them,
optionally wrapped by SNS) and turn each created object into one event description.

Pure parsing here; `flows/relay.py` polls SQS and posts the events to Prefect.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

from flickr_ingest import shallow_json
from flickr_ingest.errors import ConfigurationError, FlickrIngestError
from flickr_ingest.numbers import parse_count
from flickr_ingest.sources.s3 import object_uri

EVENT_NAME = "s3.object.created"
# Event ids are derived, not random: the same notification delivered twice gives the same
# id, and Prefect's server drops the repeat.
_EVENT_NAMESPACE = uuid.UUID("6c1f8d0e-8f7a-4a43-9a3f-2f0f1c9b5e21")


#: S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens, a letter or digit at
#: each end.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def watched_prefix(location: str, *, setting: str) -> str:
    """The S3 prefix that runs sweep and the trigger matches, from what a person set
    (`setting` names where): `s3://bucket/` or `s3://bucket/folder/`. In the form event
    resource ids have (the key percent-encoded), so that the trigger's `prefix*` match
    sees the same characters; runs read it back unquoted. Anything else is refused: an
    empty prefix would match every object of every bucket."""
    text = location.strip()
    example = "e.g. s3://my-photos/inbox/"
    if not text:
        raise ConfigurationError(
            f"{setting} is not set: set it to the S3 prefix to watch, {example}"
        )
    parts = urlsplit(text)
    if parts.scheme != "s3" or not _BUCKET.fullmatch(parts.netloc or ""):
        raise ConfigurationError(
            f"{setting}={text!r} is not an S3 prefix with a valid bucket name; {example}"
        )
    prefix = unquote(parts.path.lstrip("/"))
    if parts.query or parts.fragment or (prefix and not prefix.endswith("/")):
        raise ConfigurationError(
            f"{setting}={text!r} must name a folder, ending in '/' (s3://{parts.netloc}/"
            f"{prefix.rstrip('/')}/): the trigger matches everything that starts with it"
        )
    return object_uri(parts.netloc, prefix)


class PoisonMessage(FlickrIngestError):
    """A queue message that is not an S3 notification; left for the dead-letter queue."""


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str
    size: int
    etag: str
    version_id: str
    sequencer: str
    event_time: str

    @property
    def uri(self) -> str:
        return object_uri(self.bucket, self.key)

    @property
    def event_id(self) -> str:
        marker = self.version_id or self.sequencer or self.etag
        return str(uuid.uuid5(_EVENT_NAMESPACE, f"{self.bucket}/{self.key}/{marker}"))

    def as_event(self) -> dict[str, Any]:
        """The Prefect event, as the events API takes it."""
        return {
            "id": self.event_id,
            "event": EVENT_NAME,
            "occurred": self.event_time,
            "resource": {
                "prefect.resource.id": self.uri,
                "prefect.resource.name": self.key,
                "s3.bucket": self.bucket,
            },
            "payload": {
                "bucket": self.bucket,
                "key": self.key,
                "size": self.size,
                "etag": self.etag,
                "version_id": self.version_id,
            },
        }


#: S3 notifications nest five levels deep (six through SNS); a deeper message is poison.
MAX_DEPTH = 16


def parse_notification(body: str) -> list[ObjectCreated]:
    """The objects created according to one queue message ([] for a test event or for
    other kinds of events). Raises PoisonMessage for anything unreadable, whatever it is:
    one malformed message must never end the relay."""
    try:
        return _parse(body)
    except PoisonMessage:
        raise
    except Exception as error:
        raise PoisonMessage(f"unreadable ({type(error).__name__})") from None


def _parse(body: str) -> list[ObjectCreated]:
    try:
        document = shallow_json.loads(body, max_depth=MAX_DEPTH)
        if isinstance(document, dict) and document.get("Type") == "Notification":
            document = shallow_json.loads(document["Message"], max_depth=MAX_DEPTH)  # via SNS
    except shallow_json.TooDeep as error:
        raise PoisonMessage(str(error)) from None
    except (ValueError, KeyError, TypeError) as error:
        raise PoisonMessage(f"not JSON: {type(error).__name__}") from None
    if not isinstance(document, dict):
        raise PoisonMessage("not a JSON object")
    if document.get("Event") == "s3:TestEvent":
        return []
    records = document.get("Records")
    if not isinstance(records, list):
        raise PoisonMessage("no Records list")
    created = []
    for record in records:
        try:
            if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
                continue
            s3 = record["s3"]
            stored = s3["object"]
            created.append(
                ObjectCreated(
                    bucket=s3["bucket"]["name"],
                    key=unquote_plus(stored["key"]),  # notifications encode keys, "+" for " "
                    size=_size(stored.get("size", 0)),
                    etag=str(stored.get("eTag", "")),
                    version_id=str(stored.get("versionId") or ""),
                    sequencer=str(stored.get("sequencer", "")),
                    event_time=str(record.get("eventTime", "")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise PoisonMessage(
                f"a record is malformed ({type(error).__name__}: {error})"
            ) from None
    return created


def _size(value: object) -> int:
    """An object's size: a whole number of bytes (as JSON's number or as digits)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**18:
        return value
    size = parse_count(value) if isinstance(value, str) else None
    if size is None:
        raise ValueError(f"size {str(value)[:40]!r} is not a number of bytes")
    return size
