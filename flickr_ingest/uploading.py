"""Uploading one file, exactly once: fingerprint it, claim its bytes (or find them
recorded), ask `standing` once what the file is, then send it with dedup_check and
record the photo id, or hand an edit to `syncing`. The core of the upload task."""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from PIL.Image import Image

from flickr_ingest import conversion, filetypes, planning, syncing
from flickr_ingest.content import Fingerprint, fingerprint
from flickr_ingest.errors import FlickrIngestError
from flickr_ingest.file_records import on_flickr_record, record_for, refused_record
from flickr_ingest.files import MIN_BYTES_PER_SECOND, NotARegularFile, open_regular
from flickr_ingest.filetypes import PHOTO
from flickr_ingest.flickr import FlickrClient, errors
from flickr_ingest.ledger import BUSY, RECLAIMED, Ledger
from flickr_ingest.ledger.base import Upload
from flickr_ingest.metadata import FlickrFields, PhotoMetadata, map_to_flickr, read_file_metadata
from flickr_ingest.outcomes import Status
from flickr_ingest.pictures import PicturePrints, prints_of
from flickr_ingest.planning import Decision
from flickr_ingest.report import model
from flickr_ingest.report.thumbnails import picture_or_why_not, save_thumbnail, small_picture
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources import LocalSource, Source, SourceItem
from flickr_ingest.sources.base import readable_text
from flickr_ingest.sources.local import uri_to_path
from flickr_ingest.standing import (
    AnotherPicture,
    Duplicate,
    Edited,
    Known,
    Moved,
    Undecided,
    classify,
)

logger = logging.getLogger(__name__)


class StopSignal:
    """A run-wide "stop uploading" flag, kept as a file so every worker sees it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, reason: str) -> None:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(reason, encoding="utf-8")

    def reason(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _sent_nowhere(uri: str, size: int) -> None:
    """Bytes sent, heard by no one."""


@dataclass
class UploadContext:
    """What a run's upload tasks share in one process. Never serialised."""

    run_id: str
    client: FlickrClient
    source: Source
    ledger: Ledger
    account: str
    settings: IngestSettings
    work_dir: Path  # temporary copies of remote objects
    thumbs_dir: Path | None
    stop: StopSignal
    account_is_pro: bool = True  # only Pro accounts may replace (known after connect)
    #: Hears (URI, bytes) as each piece of a file goes onto the wire, for a progress
    #: display (the run's listener); by default, no one.
    sent: Callable[[str, int], None] = _sent_nowhere


def upload_file(decision: Decision, ctx: UploadContext, *, attempt: int = 1) -> model.FileRecord:
    """Upload one planned file. Returns its record; raises TransientError to be retried."""
    stopped = ctx.stop.reason()
    if stopped:
        return record_for(decision, Status.DEFERRED, reason=f"not attempted: {stopped}")
    item = _item(decision)
    # A local file is opened as it was listed: no link, inside the folder (`files`).
    within = ctx.source.confined_to if isinstance(ctx.source, LocalSource) else None
    with _local_copy(ctx, item) as path:
        try:  # one open file for every step: what is hashed is what is sent
            stream = open_regular(path, within=within)
        except NotARegularFile as problem:
            return record_for(decision, Status.SKIPPED, reason=str(problem), attempts=attempt)
        with stream:
            return _upload_open_file(ctx, decision, item, stream, attempt)


def _upload_open_file(
    ctx: UploadContext,
    decision: Decision,
    item: SourceItem,
    stream: BinaryIO,
    attempt: int,
) -> model.FileRecord:
    actual = filetypes.sniff(stream.read(filetypes.SNIFF_BYTES))
    if not actual.is_supported:  # named like a photo (discovery went by the name)
        reason = f"not a photo or video: the content is not what the name {item.name!r} says"
        return record_for(decision, Status.SKIPPED, reason=reason, attempts=attempt)
    refusal = filetypes.video_refusal(actual.format) if actual.kind == filetypes.VIDEO else None
    if refusal is not None:  # named otherwise (discovery went by the name)
        return record_for(decision, Status.SKIPPED, reason=refusal, attempts=attempt)
    if actual.is_raw and ctx.settings.raw == planning.RAW_SKIP:
        return record_for(decision, Status.SKIPPED, reason=planning.RAW_SKIPPED, attempts=attempt)
    if actual.format != decision.candidate.format:
        candidate = replace(decision.candidate, kind=actual.kind, format=actual.format)
        decision = replace(decision, candidate=candidate)
    print_, taken, fields, details, prints = _prepare(ctx, decision, item, stream, attempt)
    picture = prints.recorded if prints is not None else None
    if print_.damage and ctx.settings.on_damaged == "skip":
        reason = f"{print_.damage} (--on-damaged skip; --on-damaged upload sends it all the same)"
        return record_for(decision, Status.SKIPPED, reason=reason, **details)
    holder = f"{ctx.run_id}:{item.uri}"
    here = ctx.ledger.photo_at(ctx.account, item.uri)  # what this path was sent as
    known, claim = _claim_or_known(ctx, print_.sha256, holder)
    standing = classify(
        known,
        here,
        item.uri,
        print_.sha256,
        source=ctx.source,
        client=ctx.client,
        on_change=ctx.settings.on_change,
        kind=decision.candidate.kind,
        pixel_prints=partial(_pixel_prints, stream) if prints is not None else _no_prints,
    )
    if isinstance(standing, Known | Moved | Duplicate):
        if isinstance(standing, Moved):
            syncing.learn_move(
                ctx.ledger,
                ctx.account,
                standing.old_uri,
                item.uri,
                standing.photo_id,
                print_.sha256,
                taken,
                picture,
            )
        return on_flickr_record(decision, standing, **details)
    try:
        if isinstance(standing, Edited | Undecided):
            return _replace(
                ctx, decision, item, stream, (print_, taken, fields), standing, holder, details
            )
        if isinstance(standing, AnotherPicture):
            picture = standing.picture  # from its own pixels, as it was compared
        recovering = claim == RECLAIMED or attempt > 1
        photo_id, status, how = _send(
            ctx, stream, item, fields, print_, decision.candidate.format, recovering=recovering
        )
    except conversion.NotConvertible as problem:
        ctx.ledger.release(ctx.account, print_.sha256, holder)
        return record_for(decision, Status.SKIPPED, reason=str(problem), **details)
    except ChangedWhileSent as changed:
        ctx.ledger.release(ctx.account, print_.sha256, holder)
        return _changed(ctx, decision, changed, details)
    except errors.FlickrError as error:
        if errors.is_retryable(error):  # keep the claim: this task comes back for it
            raise  # (a wait Flickr named is kept by the client's pacing)
        ctx.ledger.release(ctx.account, print_.sha256, holder)
        return _refused(ctx, decision, error, details)
    ctx.ledger.record_upload(ctx.account, print_.sha256, photo_id, item.uri, taken, picture)
    duplicate_of = photo_id if status == Status.DUPLICATE else None
    another = standing.reason if isinstance(standing, AnotherPicture) else None
    said = _with_damage(how or another, print_)
    return record_for(
        decision, status, photo_id=photo_id, duplicate_of=duplicate_of, reason=said, **details
    )


def _replace(
    ctx: UploadContext,
    decision: Decision,
    item: SourceItem,
    stream: BinaryIO,
    prepared: tuple[Fingerprint, str | None, FlickrFields],
    standing: Edited | Undecided,
    holder: str,
    details: dict[str, Any],
) -> model.FileRecord:
    """A file edited at a path sent before (its bytes claimed by `holder`): its photo
    replaced, or why not (`syncing`). Flickr's errors are the caller's."""
    print_, taken, fields = prepared
    outcome = syncing.replace_edit(
        ctx.client,
        ctx.ledger,
        ctx.account,
        standing,
        (stream, item.name, decision.candidate.format),
        print_,
        taken,
        fields if ctx.settings.update_metadata else None,
        on_change=ctx.settings.on_change,
        account_is_pro=ctx.account_is_pro,
        sent=ctx.sent,
    )
    if outcome.status != Status.REPLACED:  # a replace's record released the claim
        ctx.ledger.release(ctx.account, print_.sha256, holder)
    if outcome.warning:
        details = {**details, "warnings": (*details["warnings"], outcome.warning)}
    replaced = outcome.status == Status.REPLACED
    return record_for(
        decision,
        outcome.status,
        photo_id=standing.edit.photo_id,
        reason=_with_damage(outcome.reason, print_) if replaced else outcome.reason,
        replaced_sha256=outcome.replaced_sha256,
        **details,
    )


def _prepare(
    ctx: UploadContext,
    decision: Decision,
    item: SourceItem,
    stream: BinaryIO,
    attempt: int,
) -> tuple[Fingerprint, str | None, FlickrFields, dict[str, Any], PicturePrints | None]:
    """Fingerprint, date taken, Flickr fields, the record's details (thumbnail included)
    and the picture's prints of the open file. One small decode of a photo's pixels
    makes both the thumbnail and the prints."""
    stream.seek(0)
    print_ = fingerprint(stream, check_jpeg=decision.candidate.format == "jpeg")
    ctx.ledger.remember_hash(item.uri, item.version, print_.sha256)
    metadata = _metadata(stream, print_, decision.candidate.kind)
    photo = decision.candidate.kind == PHOTO
    picture, costly = (  # why there is none, if too costly, goes into the record
        picture_or_why_not(stream, camera_thumbnail=True) if photo else (None, None)
    )
    prints = prints_of(picture, turns=False) if picture is not None else None
    fields = map_to_flickr(
        metadata,
        relative_path=readable_text(item.relative_path),  # a title, not an escaped name
        machine_tags=[print_.machine_tag],
        options=ctx.settings.mapping_options(),
    )
    details = dict(
        size=print_.size,  # as read now: the file may have changed since discovery
        sha256=print_.sha256,
        title=fields.title,
        tags=fields.tags,
        warnings=metadata.warnings + print_.warnings + ((costly,) if costly else ()),
        attempts=attempt,
        thumbnail=_thumbnail(ctx, print_, picture),
    )
    return print_, metadata.date_taken, fields, details, prints


def _pixel_prints(stream: BinaryIO) -> PicturePrints | None:
    """The prints of the file's own pixels (never of an EXIF thumbnail, which anyone can
    copy in): how new bytes at a known path are compared, and what is recorded of them."""
    pixels = small_picture(stream, camera_thumbnail=False)
    return prints_of(pixels) if pixels is not None else None


def _no_prints() -> None:
    return None


def _with_damage(reason: str | None, print_: Fingerprint) -> str | None:
    """The reason of a file sent: first that its image data is damaged, if it is (sent
    all the same: it is often the only copy)."""
    if print_.damage is None:
        return reason
    return "; ".join(part for part in (print_.damage + " (sent as it is)", reason) if part)


def _refused(
    ctx: UploadContext, decision: Decision, error: errors.FlickrError, details: dict[str, Any]
) -> model.FileRecord:
    """The record of a file Flickr will not take now; quota, auth and a wait too long
    stop the whole run."""
    if isinstance(error, errors.QuotaError) and not error.videos_only:
        ctx.stop.set(f"the account's upload quota is used up ({error})")
    elif isinstance(error, errors.WaitTooLong):
        ctx.stop.set(str(error))
    elif isinstance(error, errors.AuthError):
        ctx.stop.set(f"Flickr refused the credentials ({error})")
    return refused_record(decision, error, **details)


def _item(decision: Decision) -> SourceItem:
    c = decision.candidate
    return SourceItem(c.uri, c.relative_path, c.size, c.version)


def _claim_or_known(ctx: UploadContext, sha256: str, holder: str) -> tuple[Upload | None, str]:
    """Claim these bytes for `holder`, or learn that they are on Flickr already: returns
    (the ledger's upload of them or None, the claim's answer). While another task
    uploads the same bytes, wait for it."""
    claim = ""
    while True:
        known = ctx.ledger.upload_for(ctx.account, sha256)
        if known is not None:
            if claim:
                ctx.ledger.release(ctx.account, sha256, holder)
            return known, ""
        if claim:  # still unrecorded after claiming: ours to send
            return None, claim
        claim = ctx.ledger.claim(ctx.account, sha256, holder)
        if claim == BUSY:
            claim = ""
            time.sleep(0.2)
        # Claimed: look once more, as the holder before us may have recorded and released
        # between our look and our claim.


class ChangedWhileSent(FlickrIngestError):
    """Flickr took the file, but its bytes were not those hashed: it changed meanwhile."""

    def __init__(self, photo_id: str) -> None:
        super().__init__(f"the file changed while it was being sent (photo {photo_id})")
        self.photo_id = photo_id


def _slowest_lane(ctx: UploadContext) -> float:
    """The rate below which one upload is taken for stalled: under a bandwidth cap, a
    lane's share of its lowest rate (half of it: lanes do not share evenly)."""
    bandwidth = ctx.client.pacing.bandwidth
    cap = bandwidth.slowest() if bandwidth is not None else None
    if cap is None:
        return MIN_BYTES_PER_SECOND
    return min(MIN_BYTES_PER_SECOND, cap / ctx.settings.concurrency / 2)


def _send(
    ctx: UploadContext,
    stream: BinaryIO,
    item: SourceItem,
    fields: FlickrFields,
    print_: Fingerprint,
    file_format: str,
    *,
    recovering: bool,
) -> tuple[str, Status, str | None]:
    """Send the file; returns (photo id, status, reason). An earlier attempt whose answer
    was lost may have landed: look for it first, and let dedup_check catch the rest."""
    if recovering:
        found = ctx.client.photos_with_machine_tag(print_.machine_tag)
        if found:
            return (
                found[0],
                Status.UPLOADED,
                "an earlier attempt had landed (found by checksum tag)",
            )
    settings = ctx.settings
    sent = conversion.payload(
        stream, item.name, print_.size, file_format, slowest=_slowest_lane(ctx)
    )
    try:
        result = ctx.client.upload(
            sent.body,
            filename=sent.filename,
            title=fields.title,
            description=fields.description,
            tags=fields.tags,
            is_public=settings.is_public,
            is_friend=settings.is_friend,
            is_family=settings.is_family,
            safety_level=settings.safety_level,
            hidden=settings.hidden,
            dedup_check=1,
            progress=partial(ctx.sent, item.uri),
        )
    except errors.DuplicatePhotoError as duplicate:
        if recovering:
            return (
                duplicate.photo_id,
                Status.UPLOADED,
                "an earlier attempt had landed (dedup_check)",
            )
        return (
            duplicate.photo_id,
            Status.DUPLICATE,
            f"Flickr already had these bytes as photo {duplicate.photo_id}",
        )
    assert result.photo_id  # synchronous uploads answer with the photo id
    if sent.body.sha256() != print_.sha256:
        raise ChangedWhileSent(result.photo_id)
    return result.photo_id, Status.UPLOADED, None


def _changed(
    ctx: UploadContext, decision: Decision, changed: ChangedWhileSent, details: dict[str, Any]
) -> model.FileRecord:
    """Flickr holds bytes that match neither the hash in the photo's checksum tag nor,
    perhaps, the file now: take the photo back if the token may delete, and fail the
    file so that the next run sends it as it is then."""
    try:
        ctx.client.delete_photo(changed.photo_id)
        done = f"photo {changed.photo_id} was deleted again"
    except errors.FlickrError as error:
        done = f"photo {changed.photo_id} could not be deleted ({error}): delete it on Flickr"
    reason = f"the file changed while it was being sent; {done}; the next run sends it again"
    return record_for(decision, Status.FAILED, reason=reason, **details)


@contextmanager
def _local_copy(ctx: UploadContext, item: SourceItem) -> Iterator[Path]:
    """The file as a local path: itself for a local source, else a temporary copy whose
    name comes from a hash of its URI (an object key can never steer the path)."""
    if isinstance(ctx.source, LocalSource):
        yield uri_to_path(item.uri)
        return
    suffix = Path(item.name).suffix
    safe_suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 10 else ""
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.work_dir / (hashlib.sha256(item.uri.encode()).hexdigest()[:32] + safe_suffix)
    try:
        with ctx.source.open(item) as stream, open(path, "wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _metadata(stream: BinaryIO, print_: Fingerprint, kind: str) -> PhotoMetadata:
    if kind != "photo":
        return PhotoMetadata()
    return read_file_metadata(stream, print_.size)


def _thumbnail(ctx: UploadContext, print_: Fingerprint, picture: Image | None) -> str | None:
    if ctx.thumbs_dir is None or picture is None:
        return None
    target = ctx.thumbs_dir / f"{print_.sha256[:24]}.jpg"
    if target.exists() or save_thumbnail(picture, target):
        return f"{ctx.thumbs_dir.name}/{target.name}"
    return None
