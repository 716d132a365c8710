"""What every upload ledger offers, and how claim holders are named.

The ledger makes runs idempotent: a file whose bytes were uploaded before (under any
name, by any earlier run) is not sent again. Claims serialise two tasks that hold the
same bytes at the same moment; a claim is taken over when its holder is gone: a process
on this host that no longer runs, or (anywhere) a claim older than `claim_timeout`.
What a crash between Flickr's answer and `record_upload` leaves open is closed on
Flickr's side, by `dedup_check` and the checksum machine tag.

Paths make runs a sync: the ledger also remembers, for each source file (its URI: the
path of a local file, the key of an S3 object), the photo it was last sent as and the
SHA-256 it had then (`photo_at`). A file whose bytes changed at the same path replaces
its photo; `begin_replace` notes the replace before it is sent, with the photo's
`originalsecret` (which Flickr changes on every replace), so that a run killed between
the replace and `record_upload` is completed by the next one, not replaced twice.
`record_upload` records the path too, in the same step.

Albums are recorded the same way: `claim(account, album_claim_key(title), key)` makes
one task the album's creator; `record_album` keeps its id (the first record wins).
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
from dataclasses import dataclass
from typing import Protocol

from flickr_ingest.numbers import parse_count, parse_seconds

#: claim() answers
CLAIMED = "claimed"  # nobody held these bytes
RECLAIMED = "reclaimed"  # a gone holder (or an earlier attempt) held them: it may have landed
BUSY = "busy"  # a live holder is uploading them now

_HOST = socket.gethostname()


def album_claim_key(title: str) -> str:
    """The claim key that serialises creating the album `title` (never a SHA-256 of
    file bytes: those have no prefix)."""
    return "album-" + hashlib.sha256(title.encode()).hexdigest()


def holder_id(key: str) -> str:
    return f"{_HOST}|{os.getpid()}|{key}"


def holder_is_gone(holder: str) -> bool:
    host, _, rest = holder.partition("|")
    pid = parse_count(rest.partition("|")[0], max_digits=9)  # '²'.isdigit() is True
    if host != _HOST or not pid:
        return False  # another machine's process: only its age can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class Upload:
    sha256: str
    photo_id: str
    source: str


@dataclass(frozen=True)
class PathRecord:
    """The photo a source file was last sent as, the bytes it had then, when it was
    taken (EXIF) and what it showed (its picture's prints); while a replace is under
    way, the bytes being sent and the photo's `originalsecret` before."""

    uri: str
    photo_id: str
    sha256: str
    replacing_sha256: str | None = None
    replacing_secret: str | None = None
    taken: str | None = None
    #: The picture's prints when it was sent (`pictures.PicturePrints.recorded`); None
    #: for a video, an image that could not be decoded, or a record from before prints
    picture: str | None = None


class Ledger(Protocol):
    claim_timeout: float

    def upload_for(self, account: str, sha256: str) -> Upload | None: ...

    def known_photo_id(self, account: str, sha256: str) -> str | None: ...

    def known_hash(self, source: str, version: str) -> str | None: ...

    def remember_hash(self, source: str, version: str, sha256: str) -> None: ...

    def claim(self, account: str, sha256: str, key: str) -> str: ...

    def release(self, account: str, sha256: str, key: str) -> None: ...

    def record_upload(
        self,
        account: str,
        sha256: str,
        photo_id: str,
        source: str,
        taken: str | None = None,
        picture: str | None = None,
    ) -> Upload: ...

    def forget_upload(self, account: str, sha256: str, photo_id: str) -> None: ...

    def photo_at(self, account: str, uri: str) -> PathRecord | None: ...

    def record_path(
        self,
        account: str,
        uri: str,
        photo_id: str,
        sha256: str,
        taken: str | None = None,
        picture: str | None = None,
    ) -> None: ...

    def forget_path(self, account: str, uri: str) -> None: ...

    def begin_replace(self, account: str, uri: str, sha256: str, originalsecret: str) -> None: ...

    def uris_under(self, account: str, prefix: str) -> list[str]: ...

    def album_id(self, account: str, title: str) -> str | None: ...

    def record_album(self, account: str, title: str, album_id: str) -> str: ...

    def forget_album(self, account: str, title: str, album_id: str) -> None: ...

    def close(self) -> None: ...


def may_take_over(holder: object, claimed: object, key: str, now: float, timeout: float) -> bool:
    """Whether the task `key` may take a claim held by `holder` since `claimed`: it is its
    own (an earlier attempt), too old, or its process is gone. A claim whose time is no
    number, or lies further ahead than the timeout (a shared ledger anyone with the
    bucket can write), is taken over: it would hold its file for ever."""
    holder = str(holder)
    same_task = holder.split("|", 2)[-1] == key
    since = _claim_time(claimed)
    if since is None or since > now + timeout:
        return True
    return same_task or now - since >= timeout or holder_is_gone(holder)


def _claim_time(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    return parse_seconds(value) if isinstance(value, str) else None
