"""Sync: a file sent before, seen again with other bytes at its path, or its bytes seen
under another path. The part of the upload task that makes runs a sync, not a copy.

- Edited in place (the ledger's photo for its path holds other bytes, and the file
  shows the same picture: `judge`, by the pixels' prints, `pictures`): the photo is
  replaced, keeping its id, albums, comments and faves (`on_change` "replace", the
  default); or the file goes up as a new photo ("upload"); or it is left ("skip"). A
  file that shows another picture took over the name (a new card's DSC_0001, a new
  scanning session's scan_0001): it goes up as a new photo, whatever its date says, and
  the old one stays as it is. A video is never replaced (Flickr cannot): `changed`.
  Flickr lets only Pro accounts replace (replace error 1, "Not a pro account"); then, and
  whenever Flickr refuses, the file is reported `changed` with what to do. It is never
  uploaded as a second photo behind the user's back.
- Moved or renamed (its bytes are on Flickr from a path where no file is now): already
  uploaded, and the ledger learns the new path.
- Gone (a path the ledger knows under the source, not listed now): reported `missing`,
  unless a listed file holds its photo's bytes (it was moved there: the ledger learns
  the new path). Nothing is ever deleted from Flickr.

A replace happens once. Before it is sent, the ledger notes it with the photo's
`originalsecret`, which Flickr changes on every replace (recorded: two replaces of one
photo, two new secrets, janko/flickr-objects `Flickr_Api_General/_replace/*.yml`). A run
killed between the replace and the ledger's record finds the note and a changed secret,
and completes the record instead of replacing again. The photo's checksum machine tag is
moved to the new bytes, so that recovery by tag keeps working.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import requests

from flickr_ingest.content import CHECKSUM_TAG_PREFIX, Fingerprint
from flickr_ingest.file_records import missing_record
from flickr_ingest.files import CheckedReader
from flickr_ingest.filetypes import VIDEO
from flickr_ingest.flickr import FlickrClient, errors
from flickr_ingest.ledger import Ledger
from flickr_ingest.ledger.base import PathRecord
from flickr_ingest.metadata import FlickrFields
from flickr_ingest.outcomes import OnChange, Status
from flickr_ingest.pictures import PicturePrints, prints_of
from flickr_ingest.progress import announce_sent
from flickr_ingest.report import model
from flickr_ingest.report.thumbnails import small_picture
from flickr_ingest.sources import Source

#: Replace's error 1 (replace.api; recorded in janko/flickrie's 2012 cassettes).
_NOT_PRO = 1
#: getInfo's error 1: no such photo (deleted on Flickr since it was sent).
_PHOTO_NOT_FOUND = 1
UPLOAD_INSTEAD = "to upload it as a new photo, run again with --on-change upload"
SKIPPED_BY_OPTION = "left as it is (--on-change skip)"


def edit_of(previous: PathRecord | None, sha256: str) -> PathRecord | None:
    """The ledger's record of the file's path, if the file holds other bytes than its
    photo (or than a replace noted for it): an edit of that photo, or another picture
    under its name (`judge` tells which)."""
    if previous is None:
        return None
    noted = previous.replacing_sha256
    changed = previous.sha256 != sha256 or (noted is not None and noted != sha256)
    return previous if changed else None


#: `judge`'s verdicts besides a reason why it cannot tell
SAME, ANOTHER = "same picture", "another picture"
#: The largest rendition read to compare a record from before prints (a sandbox serves
#: the original only; Flickr's 320-pixel rendition is some 30 KB).
MAX_RENDITION_BYTES = 64 * 1024 * 1024


def judge(client: FlickrClient, edit: PathRecord, prints: PicturePrints | None, kind: str) -> str:
    """Whether a file with new bytes at the path of `edit` shows the same picture as its
    photo (SAME: an edit, which replaces the photo), another one (ANOTHER: a new photo;
    the old one stays as it is), or why that cannot be told or done (it is then left
    `changed`). Decided by the pixels, never by the name or the date taken: a date is
    missing from scans and screenshots, and anyone who can write a file can copy one.
    A record from before prints is compared against a small rendition from Flickr (one
    download, for a changed file only)."""
    if kind == VIDEO:
        return (
            "Flickr cannot replace a video; to upload it as a new video (the old one stays),"
            " run again with --on-change upload"
        )
    if prints is None:
        return f"its picture could not be decoded to compare; {UPLOAD_INSTEAD}"
    recorded = edit.picture
    if recorded is None:
        try:
            recorded = rendition_picture(client, edit.photo_id)
        except errors.FlickrAPIError as error:
            if error.code != _PHOTO_NOT_FOUND:
                raise
            return f"photo {edit.photo_id} is no longer on Flickr; {UPLOAD_INSTEAD}"
        if recorded is None:
            return (
                f"photo {edit.photo_id}'s picture could not be read from Flickr to compare;"
                f" {UPLOAD_INSTEAD}"
            )
    return SAME if prints.matches(recorded) else ANOTHER


def rendition_picture(client: FlickrClient, photo_id: str) -> str | None:
    """The prints of the photo as Flickr shows it: its 320-pixel rendition on flickr.com
    (`live.staticflickr.com/{server}/{id}_{secret}_n.jpg`, a URL getInfo's answer
    names); a sandbox has no renditions and serves the original at the same kind of
    static URL (`/static/{server}/{id}_{originalsecret}_o.{originalformat}`). None if it
    is not an image that decodes."""
    info = client.photo_info(photo_id)
    endpoints = client.endpoints
    server = str(info.get("server", ""))
    secret_name = "secret" if endpoints.is_flickr else "originalsecret"
    secret, extension = str(info.get(secret_name, "")), str(info.get("originalformat", "jpg"))
    if not all(part.isascii() and part.isalnum() for part in (server, secret, extension)):
        return None
    if not (photo_id.isascii() and photo_id.isdigit()):
        return None
    if endpoints.is_flickr:
        url = f"https://live.staticflickr.com/{server}/{photo_id}_{secret}_n.jpg"
    else:
        url = f"{endpoints.base_url}/static/{server}/{photo_id}_{secret}_o.{extension}"
    data = _download(url)
    if data is None:
        return None
    picture = small_picture(io.BytesIO(data), camera_thumbnail=False)
    return prints_of(picture).recorded if picture is not None else None


def _download(url: str) -> bytes | None:
    """The body at `url`, up to MAX_RENDITION_BYTES; None for a 4xx answer or a larger
    body; transport failures and 5xx are transient (the task's retry comes back)."""
    try:
        with requests.get(url, timeout=(10, 60), stream=True, allow_redirects=False) as answer:
            if answer.status_code >= 500 or answer.status_code == 429:
                raise errors.TransportError(f"HTTP {answer.status_code} fetching a rendition")
            if answer.status_code != 200:
                return None
            data = bytearray()
            for chunk in answer.iter_content(1024 * 1024):
                data += chunk
                if len(data) > MAX_RENDITION_BYTES:
                    return None
            return bytes(data)
    except requests.RequestException as error:
        raise errors.TransportError(f"fetching a rendition: {type(error).__name__}") from None


def another_picture(previous: PathRecord) -> str:
    """Why a file at a path sent before goes up as a new photo: another picture."""
    return (
        f"another picture took the name of photo {previous.photo_id} (its pixels differ):"
        " uploaded as a new photo; that one stays as it is"
    )


def is_here(previous: PathRecord | None, photo_id: str, sha256: str) -> bool:
    """Whether the file's own path was sent as `photo_id` with these very bytes."""
    return previous is not None and (previous.photo_id, previous.sha256) == (photo_id, sha256)


def moved_from(source: Source, old_uri: str, uri: str) -> bool:
    """Whether bytes first sent from `old_uri` and found now at `uri` were moved there:
    no file is at the old path any more (a file still there makes this one a copy)."""
    return old_uri != uri and source.holds(old_uri) is False


def learn_move(
    ledger: Ledger,
    account: str,
    old_uri: str,
    uri: str,
    photo_id: str,
    sha256: str,
    taken: str | None = None,
    picture: str | None = None,
) -> None:
    """The photo's file is at `uri` now; the old path no longer names it."""
    ledger.record_path(account, uri, photo_id, sha256, taken, picture)
    old = ledger.photo_at(account, old_uri)
    if old is not None and old.photo_id == photo_id:
        ledger.forget_path(account, old_uri)


@dataclass(frozen=True)
class ReplaceOutcome:
    status: Status  # replaced, already_uploaded, changed or failed
    reason: str | None = None
    replaced_sha256: str | None = None  # the bytes the photo held before
    warning: str | None = None  # done, but the photo's tags could not be brought along


def not_replaced(edit: PathRecord, why: str) -> ReplaceOutcome:
    """The outcome for an edited file left as it is, and why."""
    return ReplaceOutcome(
        Status.CHANGED, f"changed since it was sent as photo {edit.photo_id}; {why}"
    )


def only_pro(detail: str = "") -> str:
    """Why an edited file is not replaced on an account that is not Pro."""
    return f"Flickr replaces photos only on Pro accounts{detail}; {UPLOAD_INSTEAD}"


def replace_photo(
    client: FlickrClient,
    ledger: Ledger,
    account: str,
    edit: PathRecord,
    sent: CheckedReader,
    filename: str,
    print_: Fingerprint,
    taken: str | None,
    fields: FlickrFields | None,
    picture: str | None = None,
) -> ReplaceOutcome:
    """Replace the photo of `edit` with the file's bytes, exactly once. `fields`, when
    given, are set as the photo's title, description and tags too. Transient errors are
    raised for a retry, which finds what this attempt did from the ledger's note."""
    try:
        info = client.photo_info(edit.photo_id)
    except errors.FlickrAPIError as error:
        if error.code != _PHOTO_NOT_FOUND:
            raise
        return ReplaceOutcome(
            Status.CHANGED,
            f"changed since it was sent as photo {edit.photo_id}, which is no longer on"
            f" Flickr; {UPLOAD_INSTEAD}",
        )
    secret = info.get("originalsecret") or ""
    noted_landed = bool(edit.replacing_sha256 and edit.replacing_secret) and (
        secret != edit.replacing_secret
    )
    holds = edit.replacing_sha256 if noted_landed else edit.sha256  # the photo's bytes now
    reason = None
    if holds == print_.sha256 and not noted_landed:  # a noted replace never reached Flickr
        ledger.record_path(account, edit.uri, edit.photo_id, print_.sha256, taken, picture)
        return ReplaceOutcome(
            Status.ALREADY_UPLOADED, f"already on Flickr as photo {edit.photo_id}"
        )
    if holds == print_.sha256:
        reason = "an earlier attempt had replaced it (the photo's original secret changed)"
    else:
        ledger.begin_replace(account, edit.uri, print_.sha256, secret)
        try:
            client.replace(
                sent,
                photo_id=edit.photo_id,
                filename=filename,
                progress=partial(announce_sent, edit.uri),
            )
        except errors.FlickrAPIError as error:
            if error.code != _NOT_PRO:
                raise
            return not_replaced(edit, only_pro(f" ({error})"))
        if sent.sha256() != print_.sha256:  # the note says what Flickr holds now
            ledger.begin_replace(account, edit.uri, sent.sha256(), secret)
            return ReplaceOutcome(
                Status.FAILED,
                f"the file changed while it was being sent to replace photo {edit.photo_id};"
                " the next run replaces it again",
            )
    # The ledger first: the replace is done, whatever becomes of the tags.
    ledger.record_upload(account, print_.sha256, edit.photo_id, edit.uri, taken, picture)
    for old in {edit.sha256, holds} - {print_.sha256, None}:
        ledger.forget_upload(account, old, edit.photo_id)
    try:
        _retag(client, edit.photo_id, _tags_of(info), print_, fields)
    except errors.FlickrError as error:
        warning = f"replaced, but the photo's tags were not updated: {error}"
        return ReplaceOutcome(Status.REPLACED, reason, edit.sha256, warning)
    return ReplaceOutcome(Status.REPLACED, reason, edit.sha256)


def _tags_of(info: dict[str, Any]) -> list[dict[str, Any]]:
    tags = info.get("tags") or {}
    return list(tags.get("tag") or []) if isinstance(tags, dict) else []


def _retag(
    client: FlickrClient,
    photo_id: str,
    tags: Sequence[dict[str, Any]],
    print_: Fingerprint,
    fields: FlickrFields | None,
) -> None:
    """Move the checksum tag to the new bytes, leaving the photo's other tags as they are
    (the user may have edited them on Flickr); or, with `fields`, set title, description
    and every tag from the file."""
    if fields is not None:
        client.set_meta(photo_id, title=fields.title, description=fields.description)
        client.set_tags(photo_id, [*fields.tags])  # the file's tags hold the new checksum
        return
    raws = {str(tag.get("raw", "")): str(tag.get("id", "")) for tag in tags}
    for raw, tag_id in raws.items():  # first: a photo at Flickr's 75 tags has room then
        if raw.startswith(CHECKSUM_TAG_PREFIX) and raw != print_.machine_tag and tag_id:
            client.remove_tag(tag_id)
    if print_.machine_tag not in raws:
        client.add_tags(photo_id, [print_.machine_tag])


def would_replace(ledger: Ledger, account: str, uri: str, on_change: str) -> str | None:
    """What a run would do with a file whose path was sent before with another version,
    said without reading it (for dry runs); None for a path never sent."""
    previous = ledger.photo_at(account, uri)
    if previous is None:
        return None
    then = f"changed since it was sent as photo {previous.photo_id} (by its version)"
    if on_change == OnChange.REPLACE:
        return (
            f"{then}: would replace that photo, if its bytes changed and it shows the same"
            " picture (another picture would go up as a new photo)"
        )
    if on_change == OnChange.UPLOAD:
        return f"{then}: would upload it as a new photo, if its bytes changed"
    return f"{then}: would leave it (--on-change skip)"


def missing_records(
    ledger: Ledger, account: str, source: Source, listed: dict[str, str | None]
) -> list[model.FileRecord]:
    """Records for the paths the ledger knows under the source that were not listed
    (`listed`: every listed URI, with the photo the ledger knows its bytes as). A gone
    path whose photo a listed file holds was moved there: the ledger learns that."""
    root = source.root_uri
    holders = {photo_id: uri for uri, photo_id in listed.items() if photo_id}
    records = []
    for uri in ledger.uris_under(account, root):
        if uri in listed or not (root.endswith("/") or uri == root):
            continue
        previous = ledger.photo_at(account, uri)
        if previous is None:
            continue
        if previous.photo_id in holders:
            learn_move(
                ledger,
                account,
                uri,
                holders[previous.photo_id],
                previous.photo_id,
                previous.sha256,
                previous.taken,
                previous.picture,
            )
            continue
        records.append(missing_record(uri, root, previous))
    return records
