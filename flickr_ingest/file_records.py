"""Every file's record is made here: from the plan's decision for it (with what its
upload learned), from an error it gave up on or a refusal from Flickr, or from the
ledger for a path no longer in the source. The one place that knows which status a
refusal gets."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote_to_bytes

from flickr_ingest.flickr import errors
from flickr_ingest.ledger.base import PathRecord
from flickr_ingest.outcomes import Status
from flickr_ingest.planning import Decision
from flickr_ingest.report.model import FileRecord
from flickr_ingest.sources.base import shown_text
from flickr_ingest.standing import Duplicate, Known, Moved


def record_for(decision: Decision, status: Status, **values: Any) -> FileRecord:
    """The record of a planned file: `values` are what is known beyond the plan
    (`size` as read now overrides the size discovery saw)."""
    candidate = decision.candidate
    fields: dict[str, Any] = {"sha256": candidate.sha256, "photo_id": candidate.photo_id, **values}
    return FileRecord(
        source=candidate.uri,
        relative_path=candidate.relative_path,
        size=fields.pop("size", candidate.size),
        kind=candidate.kind,
        status=status,
        **fields,
    )


def on_flickr_record(
    decision: Decision, standing: Known | Moved | Duplicate, **values: Any
) -> FileRecord:
    """The record of a file whose bytes are on Flickr already (`standing.classify`)."""
    if isinstance(standing, Duplicate):
        reason = f"same bytes as {standing.first}, already on Flickr as photo {standing.of}"
        return record_for(
            decision,
            Status.DUPLICATE,
            photo_id=standing.of,
            duplicate_of=standing.of,
            reason=reason,
            **values,
        )
    reason = f"already on Flickr as photo {standing.photo_id}"
    if isinstance(standing, Moved):
        reason = f"moved from {standing.old_path}; {reason}"
    return record_for(
        decision, Status.ALREADY_UPLOADED, photo_id=standing.photo_id, reason=reason, **values
    )


def failed_record(decision: Decision, error: BaseException, attempts: int) -> FileRecord:
    """The record of a file whose upload gave up (retries spent, or an unexpected error)."""
    code = getattr(error, "code", None)
    if isinstance(error, errors.FlickrError):
        reason = f"gave up after {attempts} attempt(s): {error}"
    else:
        reason = (
            f"unexpected error after {attempts} attempt(s): {type(error).__name__}:"
            f" {shown_text(str(error))}"
        )
    return record_for(decision, Status.FAILED, reason=reason, error_code=code, attempts=attempts)


def refused_record(decision: Decision, error: errors.FlickrError, **values: Any) -> FileRecord:
    """The record of a file Flickr would not take, by the class of its refusal: out of
    quota or asked to wait too long, it waits for a later run; a file Flickr's rules
    refuse is skipped; anything else failed (the user has something to fix)."""
    if isinstance(error, errors.QuotaError):
        reason = f"quota: {error}"
        return record_for(decision, Status.DEFERRED, reason=reason, error_code=error.code, **values)
    if isinstance(error, errors.WaitTooLong):
        reason = f"not waited: {error}"
        return record_for(decision, Status.DEFERRED, reason=reason, error_code=error.code, **values)
    status = Status.SKIPPED if isinstance(error, errors.NotAcceptedError) else Status.FAILED
    return record_for(decision, status, reason=str(error), error_code=error.code, **values)


def missing_record(uri: str, root: str, previous: PathRecord) -> FileRecord:
    """The record of a path under the source `root` that the ledger knows (`previous`)
    and the source no longer lists."""
    return FileRecord(
        source=uri,
        relative_path=_relative(uri, root),
        size=0,
        kind="photo",
        status=Status.MISSING,
        sha256=previous.sha256,
        photo_id=previous.photo_id,
        reason=f"on Flickr as photo {previous.photo_id}; no longer in the source"
        " (nothing was deleted from Flickr)",
    )


def _relative(uri: str, root: str) -> str:
    relative = uri[len(root) :]
    if not root.endswith("/"):  # one "/" only: an S3 key may start with "/" itself
        relative = relative.removeprefix("/")
    relative = relative or uri.rsplit("/", 1)[-1]
    return shown_text(os.fsdecode(unquote_to_bytes(relative)))
