"""Sync: bringing Flickr up to date with a file whose standing (`standing`) is not
plain new bytes: the part of the upload task that makes runs a sync, not a copy.

- Edited in place (`standing.Edited`: the same picture, other bytes): the photo is
  replaced, keeping its id, albums, comments and faves (`on_change` "replace", the
  default); or it is left ("skip"; "upload" sends it as a new photo, and `standing`
  never calls it edited then). A file whose picture cannot be compared (a video: Flickr
  cannot replace one; no pixels; the photo gone) is reported `changed` with what to do.
  Flickr lets only Pro accounts replace (replace error 1, "Not a pro account"); then, and
  whenever Flickr refuses, the file is reported `changed` with what to do. It is never
  uploaded as a second photo behind the user's back.
- Moved or renamed (`standing.Moved`): already uploaded, and the ledger learns the new
  path (`learn_move`).
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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO

from flickr_ingest import conversion
from flickr_ingest.content import CHECKSUM_TAG_PREFIX, Fingerprint
from flickr_ingest.file_records import missing_record
from flickr_ingest.files import CheckedReader
from flickr_ingest.flickr import FlickrClient, errors
from flickr_ingest.ledger import Ledger
from flickr_ingest.ledger.base import PathRecord
from flickr_ingest.metadata import FlickrFields
from flickr_ingest.outcomes import OnChange, Status
from flickr_ingest.report import model
from flickr_ingest.sources import Source
from flickr_ingest.standing import PHOTO_NOT_FOUND, UPLOAD_INSTEAD, Edited, Undecided

#: Replace's error 1 (replace.api; recorded in janko/flickrie's 2012 cassettes).
_NOT_PRO = 1
SKIPPED_BY_OPTION = "left as it is (--on-change skip)"


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


def _sent_nowhere(uri: str, size: int) -> None:
    """Bytes sent, heard by no one."""


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


def replace_edit(
    client: FlickrClient,
    ledger: Ledger,
    account: str,
    standing: Edited | Undecided,
    file: tuple[BinaryIO, str, str],
    print_: Fingerprint,
    taken: str | None,
    fields: FlickrFields | None,
    *,
    on_change: str,
    account_is_pro: bool,
    sent: Callable[[str, int], None] = _sent_nowhere,
) -> ReplaceOutcome:
    """What becomes of a file edited at a path sent before: its photo replaced (exactly
    once, `replace_photo`), or why not. `file` is the open file, its name and format;
    `fields`, when given, are set on the photo too. Flickr's errors and a file that
    cannot be converted are raised: the caller keeps or releases the claim."""
    if isinstance(standing, Undecided):
        return not_replaced(standing.edit, standing.why)
    if on_change == OnChange.SKIP:
        return not_replaced(standing.edit, SKIPPED_BY_OPTION)
    if not account_is_pro:
        return not_replaced(standing.edit, only_pro())
    stream, name, file_format = file
    payload = conversion.payload(stream, name, print_.size, file_format)
    return replace_photo(
        client,
        ledger,
        account,
        standing.edit,
        payload.body,
        payload.filename,
        print_,
        taken,
        fields,
        standing.picture,
        sent=sent,
    )


def replace_photo(
    client: FlickrClient,
    ledger: Ledger,
    account: str,
    edit: PathRecord,
    body: CheckedReader,
    filename: str,
    print_: Fingerprint,
    taken: str | None,
    fields: FlickrFields | None,
    picture: str | None = None,
    *,
    sent: Callable[[str, int], None] = _sent_nowhere,
) -> ReplaceOutcome:
    """Replace the photo of `edit` with the file's bytes, exactly once. `fields`, when
    given, are set as the photo's title, description and tags too. Transient errors are
    raised for a retry, which finds what this attempt did from the ledger's note."""
    try:
        info = client.photo_info(edit.photo_id)
    except errors.FlickrAPIError as error:
        if error.code != PHOTO_NOT_FOUND:
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
                body,
                photo_id=edit.photo_id,
                filename=filename,
                progress=partial(sent, edit.uri),
            )
        except errors.FlickrAPIError as error:
            if error.code != _NOT_PRO:
                raise
            return not_replaced(edit, only_pro(f" ({error})"))
        if body.sha256() != print_.sha256:  # the note says what Flickr holds now
            ledger.begin_replace(account, edit.uri, body.sha256(), secret)
            return ReplaceOutcome(
                Status.FAILED,
                f"the file changed while it was being sent to replace photo {edit.photo_id};"
                " the next run replaces it again",
            )
    # The ledger first: the replace is done, whatever becomes of the tags.
    ledger.record_upload(account, print_.sha256, edit.photo_id, edit.uri, taken, picture)
    for old in {edit.sha256, holds} - {print_.sha256}:
        if old is not None:
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
