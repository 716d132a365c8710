"""Planning, the pure core that decides each file's fate before anything is sent, and the
parsing of the answers it rests on: getUploadStatus (quota) and the upload's own errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flickr_ingest.flickr import errors
from flickr_ingest.flickr.responses import parse_upload, parse_upload_status
from flickr_ingest.outcomes import Status
from flickr_ingest.planning import FREE_ACCOUNT_ITEMS, UPLOAD, Candidate, Quota, plan

MB = 1024 * 1024


def _file(name: str, size: int, kind: str = "photo", **fields: str | None) -> Candidate:
    return Candidate(f"file:///{name}", name, size, "v1", kind, "jpeg", **fields)


def _quota(**limits: int | None) -> Quota:
    unlimited = dict.fromkeys(
        ("max_photo_bytes", "max_video_bytes", "bandwidth_remaining", "items_remaining"), None
    )
    return Quota(**{**unlimited, "videos_remaining": None, **limits})


def _status(**user: object) -> dict:
    """getUploadStatus in Flickr's JSON shape (as the sandbox and api.flickr.com send it)."""
    base = {
        "id": "12345678@N00",
        "ispro": 0,
        "username": {"_content": "ana"},
        "bandwidth": {"maxbytes": 1024 * MB, "usedbytes": 0, "remainingbytes": 1024 * MB},
        "filesize": {"maxbytes": 200 * MB},
        "videosize": {"maxbytes": 1024 * MB},
        "videos": {"uploaded": 0, "remaining": "lots"},
    }
    return {"user": {**base, **user}}


def test_every_file_gets_one_decision_in_order_with_its_reason() -> None:
    files = [
        _file("unreadable.jpg", 10, problem="permission denied"),
        _file("known.jpg", 10, photo_id="555"),
        _file("empty.jpg", 0),
        _file("notes.txt", 10, kind="unsupported"),
        _file("huge.jpg", 300 * MB),
        _file("huge.mp4", 2000 * MB, kind="video"),
        _file("fine.jpg", 5 * MB),
    ]
    decisions = plan(files, _quota(max_photo_bytes=200 * MB, max_video_bytes=1024 * MB))
    assert [d.candidate.relative_path for d in decisions] == [f.relative_path for f in files]
    assert [d.action for d in decisions] == [
        Status.SKIPPED,
        Status.ALREADY_UPLOADED,
        Status.SKIPPED,
        Status.SKIPPED,
        Status.SKIPPED,
        Status.SKIPPED,
        UPLOAD,
    ]
    reasons = [d.reason or "" for d in decisions]
    assert reasons[0] == "permission denied" and "555" in reasons[1]
    assert "0 bytes" in reasons[2] and "checked by content" in reasons[3]
    assert "photo limit (300.0 MB > 200.0 MB)" in reasons[4]
    assert "video limit" in reasons[5] and decisions[6].reason is None


def test_bandwidth_is_first_come_and_a_big_file_does_not_block_smaller_ones() -> None:
    files = [_file("a.jpg", 4 * MB), _file("b.jpg", 5 * MB), _file("c.jpg", 1 * MB)]
    decisions = plan(files, _quota(bandwidth_remaining=6 * MB))
    assert [d.action for d in decisions] == [UPLOAD, Status.DEFERRED, UPLOAD]
    assert "5.0 MB needed, 2.0 MB left" in (decisions[1].reason or "")


def test_the_free_accounts_item_limit_from_getuploadstatus_and_getphotos() -> None:
    status = parse_upload_status(_status())
    held = FREE_ACCOUNT_ITEMS - 2  # people.getPhotos' total, as the client fills it in
    quota = Quota.from_status(replace(status, items_uploaded=held))
    assert quota.items_remaining == 2 and quota.bandwidth_remaining == 1024 * MB
    decisions = plan([_file(f"{n}.jpg", MB) for n in range(4)], quota)
    assert [d.action for d in decisions] == [UPLOAD, UPLOAD, Status.DEFERRED, Status.DEFERRED]
    assert "1,000-item limit" in (decisions[2].reason or "")


def test_the_item_limit_as_getuploadstatus_states_it_today() -> None:
    """upload_count and upload_limit (Flickr4Java's 2021 and 2024 payloads of
    flickr.people.getUploadStatus): no people.getPhotos call is needed, and the stated
    limit wins over the 1,000 assumed for older answers."""
    status = parse_upload_status(
        _status(upload_count=497, upload_limit="500", upload_limit_status="below_limit")
    )
    assert (status.items_uploaded, status.item_limit) == (497, 500)
    quota = Quota.from_status(status)
    assert quota.items_remaining == 3
    decisions = plan([_file(f"{n}.jpg", MB) for n in range(5)], quota)
    assert [d.action for d in decisions] == [UPLOAD] * 3 + [Status.DEFERRED] * 2
    assert "500-item limit" in (decisions[3].reason or "")


def test_a_pro_account_has_no_item_limit_and_unlimited_bandwidth() -> None:
    status = parse_upload_status(
        _status(ispro=1, bandwidth={"maxbytes": 2 * MB, "remainingbytes": 0, "unlimited": 1})
    )
    quota = Quota.from_status(status)
    assert quota.items_remaining is None and quota.bandwidth_remaining is None
    assert [d.action for d in plan([_file("a.jpg", 50 * MB)], quota)] == [UPLOAD]


def test_the_video_limit_defers_videos_and_still_lets_photos_go() -> None:
    quota = Quota.from_status(parse_upload_status(_status(videos={"uploaded": 2, "remaining": 1})))
    assert quota.videos_remaining == 1
    files = [
        _file("a.mp4", MB, kind="video"),
        _file("b.mp4", MB, kind="video"),
        _file("c.jpg", MB),
    ]
    decisions = plan(files, quota)
    assert [d.action for d in decisions] == [UPLOAD, Status.DEFERRED, UPLOAD]
    assert decisions[1].reason == "the account's video limit is reached"
    lots = Quota.from_status(parse_upload_status(_status()))  # "lots" means no limit
    assert lots.videos_remaining is None


@pytest.mark.parametrize(
    "body",
    [
        # python-flickrapi's reading: the details are child elements of <rsp>
        b'<rsp stat="fail"><err code="9" msg="Duplicate photo detected" />'
        b"<duplicate_photo_id>52345</duplicate_photo_id>"
        b"<duplicate_photo_status>DELETED</duplicate_photo_status></rsp>",
        # other clients' reading: attributes (on <rsp> or on <err>)
        b'<rsp stat="fail" duplicate_photo_id="52345" duplicate_photo_status="DELETED">'
        b'<err code="9" msg="Duplicate photo detected" /></rsp>',
        b'<rsp stat="fail"><err code="9" msg="Duplicate photo detected"'
        b' duplicate_photo_id="52345" duplicate_photo_status="DELETED" /></rsp>',
    ],
)
def test_a_duplicates_id_parses_as_element_or_attribute(body: bytes) -> None:
    with pytest.raises(errors.DuplicatePhotoError) as raised:
        parse_upload(body)
    assert (raised.value.photo_id, raised.value.status) == ("52345", "DELETED")


def test_error_14s_wait_parses_as_attribute_too() -> None:
    body = (
        b'<rsp stat="fail" non_pro_desktop_upload_wait_time="42">'
        b'<err code="14" msg="Server at capacity" /></rsp>'
    )
    with pytest.raises(errors.TransientError) as raised:
        parse_upload(body)
    assert raised.value.code == 14 and raised.value.retry_after == 42.0


def _typed(path: str, fmt: str, kind: str = "photo", **fields: object) -> Candidate:
    return Candidate(f"file:///{path}", path, 10, "v1", kind, fmt, **fields)  # type: ignore[arg-type]


def test_a_twin_is_a_jpeg_of_the_same_stem_in_the_same_folder_in_any_case() -> None:
    files = [
        _typed("a/IMG_1.CR2", "cr2"),
        _typed("a/img_1.jpeg", "jpeg"),
        _typed("b/IMG_1.NEF", "nef"),  # its JPEG is in another folder: not a twin
        _typed("a/IMG_2.HEIC", "heic"),
        _typed("a/IMG_2.JPG", "known", photo_id="77"),  # already on Flickr
        _typed("a/IMG_2.MOV", "mov", "video", duration=2.9),
        _typed("a/IMG_3.MOV", "mov", "video", duration=3.1),
        _typed("a/IMG_3.JPG", "jpeg"),
    ]
    decided = {d.candidate.relative_path: d for d in plan(files, _quota())}
    assert decided["a/IMG_1.CR2"].twin == "file:///a/img_1.jpeg"
    assert decided["a/IMG_1.CR2"].action == Status.SKIPPED
    assert decided["b/IMG_1.NEF"].action == UPLOAD and decided["b/IMG_1.NEF"].twin is None
    assert decided["a/IMG_2.HEIC"].twin == decided["a/IMG_2.MOV"].twin == "file:///a/IMG_2.JPG"
    assert decided["a/IMG_3.MOV"].action == UPLOAD  # longer than a Live Photo's
    skipped_raw = plan([_typed("x/DSC.DNG", "dng")], _quota(), raw="skip")[0]
    assert skipped_raw.action == Status.SKIPPED and "--raw skip" in (skipped_raw.reason or "")
    live = plan(files, _quota(), live_photo_videos="upload")
    assert next(d for d in live if d.candidate.relative_path == "a/IMG_2.MOV").action == UPLOAD
