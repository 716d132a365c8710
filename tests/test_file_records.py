"""Every FileRecord is built by `file_records`: the status a refusal gets is decided by
the class of Flickr's error, and records keep what the plan knew."""

from __future__ import annotations

import pytest

from flickr_ingest.file_records import failed_record, missing_record, record_for, refused_record
from flickr_ingest.flickr import errors
from flickr_ingest.ledger.base import PathRecord
from flickr_ingest.outcomes import OK_STATUSES, PLAN_ACTIONS, OnChange, Status
from flickr_ingest.planning import UPLOAD, Candidate, Decision


def _decision() -> Decision:
    candidate = Candidate("file:///in/a.jpg", "a.jpg", 1234, "v1", "photo", "jpeg")
    return Decision(candidate, UPLOAD)


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (errors.upload_error(4, "Filesize was zero", {}), Status.SKIPPED, "Filesize was zero"),
        (errors.upload_error(5, "Filetype was not recognised", {}), Status.SKIPPED, "Filetype"),
        (errors.upload_error(8, "Filesize too large", {}), Status.SKIPPED, "too large"),
        (errors.upload_error(15, "Unsafe content", {}), Status.SKIPPED, "Unsafe"),
        (errors.upload_error(2, "No photo specified", {}), Status.FAILED, "No photo"),
        (errors.upload_error(116, "Bad URL found", {}), Status.FAILED, "Bad URL"),
        (errors.upload_error(6, "Upload limit", {}), Status.DEFERRED, "quota: "),
        (errors.upload_error(98, "Invalid auth token", {}), Status.FAILED, "Invalid auth"),
        # A REST method's own error 5 is no file type refusal: the class decides, not the number.
        (errors.api_error(5, "User deleted"), Status.FAILED, "User deleted"),
        (errors.transient("slow down", retry_after=10**6), Status.DEFERRED, "not waited: "),
    ],
)
def test_a_refusal_gets_its_status_by_class(
    error: errors.FlickrError, status: Status, reason: str
) -> None:
    record = refused_record(_decision(), error, attempts=1)
    assert record.status == status and reason in (record.reason or "")
    assert record.error_code == error.code and record.attempts == 1


def test_records_start_from_the_plan_and_take_what_the_upload_learned() -> None:
    record = record_for(_decision(), Status.UPLOADED, size=99, photo_id="7")
    assert (record.source, record.relative_path, record.kind) == (
        "file:///in/a.jpg",
        "a.jpg",
        "photo",
    )
    assert (record.size, record.photo_id, record.status) == (99, "7", "uploaded")
    failed = failed_record(_decision(), ValueError("boom"), attempts=3)
    assert failed.status == Status.FAILED and failed.attempts == 3
    assert failed.reason == "unexpected error after 3 attempt(s): ValueError: boom"


def test_a_missing_record_names_the_path_below_the_source() -> None:
    previous = PathRecord("file:///in/sub/b%20c.jpg", "42", "0" * 64)
    record = missing_record("file:///in/sub/b%20c.jpg", "file:///in/", previous)
    assert (record.relative_path, record.status, record.photo_id) == (
        "sub/b c.jpg",
        "missing",
        "42",
    )


def test_the_vocabulary_keeps_the_strings_reports_and_settings_use() -> None:
    assert [str(status) for status in Status] == [
        "uploaded",
        "replaced",
        "duplicate",
        "already_uploaded",
        "changed",
        "missing",
        "skipped",
        "deferred",
        "failed",
        "planned",
    ]
    assert {"planned", "skipped", "deferred", "already_uploaded"} == PLAN_ACTIONS
    assert set(Status) - {"failed"} == OK_STATUSES
    assert list(OnChange) == ["replace", "upload", "skip"]
