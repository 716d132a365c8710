"""Issue #29: a file at a known path with new bytes replaces its photo only when it shows
the same picture (decided by the pixels' prints, `pictures`), never by its name or date:
an undated scan reusing a name is a new photo, a re-export with EXIF stripped replaces
its photo, a different picture carrying the old date does not. Ledger records from before
prints are compared against a rendition fetched from the sandbox, once per changed file.
A video is never replaced: `changed`, with what to do."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
import requests

from flickr_ingest import standing
from flickr_ingest.sandbox import SandboxServer
from flows.ingest import ingest
from tests.photos import edited_jpeg_bytes, jpeg_bytes, mp4_bytes, picture
from tests.test_thumbnails import _exif_with_thumbnail

TAKEN = "2019:07:14 16:20:00"


def _report(summary: dict) -> dict[str, dict]:
    report = json.loads(Path(summary["report"]["json"]).read_text())
    return {record["relative_path"]: record for record in report["files"]}


def _photos(sandbox: SandboxServer) -> dict[str, dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return {photo["id"]: photo for photo in photos if photo["status"] == "active"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    picture(seed, (120, 160)).save(out, "PNG")  # a scan: no date at all
    return out.getvalue()


def test_an_undated_scan_reusing_a_name_is_a_new_photo(flow_env: Path, sandbox) -> None:
    folder = flow_env / "scans"
    folder.mkdir()
    first_scan = _png(701)
    (folder / "scan_0001.png").write_bytes(first_scan)
    old = _report(ingest({"source": str(folder)}))["scan_0001.png"]
    (folder / "scan_0001.png").write_bytes(_png(702))  # a new session starts at 0001
    new = _report(ingest({"source": str(folder)}))["scan_0001.png"]
    assert new["status"] == "uploaded" and new["photo_id"] != old["photo_id"], new
    assert "another picture" in new["reason"]
    photos = _photos(sandbox)
    assert photos[old["photo_id"]]["sha256"] == _sha(first_scan)  # kept its bytes
    assert len(photos) == 2


def test_a_reexport_with_exif_stripped_replaces_its_photo(flow_env: Path, sandbox) -> None:
    folder = flow_env / "archive"
    folder.mkdir()
    (folder / "IMG_1.jpg").write_bytes(jpeg_bytes(703, (160, 120), taken=TAKEN))
    old = _report(ingest({"source": str(folder)}))["IMG_1.jpg"]
    export = edited_jpeg_bytes(703, (160, 120))  # "Save for Web": no EXIF, no date
    (folder / "IMG_1.jpg").write_bytes(export)
    new = _report(ingest({"source": str(folder)}))["IMG_1.jpg"]
    assert new["status"] == "replaced" and new["photo_id"] == old["photo_id"], new
    photos = _photos(sandbox)
    assert len(photos) == 1 and photos[old["photo_id"]]["sha256"] == _sha(export)


def test_a_different_picture_with_the_old_date_does_not_replace(flow_env: Path, sandbox) -> None:
    folder = flow_env / "inbox"
    folder.mkdir()
    original = jpeg_bytes(704, (160, 120), taken=TAKEN)
    (folder / "holiday.jpg").write_bytes(original)
    old = _report(ingest({"source": str(folder)}))["holiday.jpg"]
    forged = jpeg_bytes(705, (160, 120), taken=TAKEN)  # another picture, the date copied
    (folder / "holiday.jpg").write_bytes(forged)
    new = _report(ingest({"source": str(folder)}))["holiday.jpg"]
    assert new["status"] == "uploaded" and new["photo_id"] != old["photo_id"], new
    photos = _photos(sandbox)
    assert photos[old["photo_id"]]["sha256"] == _sha(original)
    assert photos[new["photo_id"]]["sha256"] == _sha(forged)


def _forget_prints(state: Path) -> None:
    """Make the ledger's path records as an earlier version left them: no prints."""
    with sqlite3.connect(state / "ledger.sqlite3") as db:
        db.execute("UPDATE paths SET picture = NULL")


def test_records_from_before_prints_are_compared_with_a_rendition_once(
    flow_env: Path, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads: list[str] = []
    download = standing._download
    monkeypatch.setattr(standing, "_download", lambda url: downloads.append(url) or download(url))
    folder = flow_env / "old"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(706, (160, 120), taken=TAKEN))
    (folder / "b.jpg").write_bytes(jpeg_bytes(707, (160, 120), taken=TAKEN))
    (folder / "c.jpg").write_bytes(jpeg_bytes(708, (160, 120), taken=TAKEN))
    first = _report(ingest({"source": str(folder)}))
    _forget_prints(flow_env / "state")
    edit = edited_jpeg_bytes(706, (160, 120), taken=TAKEN)
    other = jpeg_bytes(709, (160, 120), taken=TAKEN)
    (folder / "a.jpg").write_bytes(edit)  # the same picture
    (folder / "b.jpg").write_bytes(other)  # another, with the old date
    second = _report(ingest({"source": str(folder)}))
    assert second["a.jpg"]["status"] == "replaced", second["a.jpg"]["reason"]
    assert second["a.jpg"]["photo_id"] == first["a.jpg"]["photo_id"]
    assert second["b.jpg"]["status"] == "uploaded"
    assert second["b.jpg"]["photo_id"] != first["b.jpg"]["photo_id"]
    assert second["c.jpg"]["status"] == "already_uploaded"
    # One per changed file (its original at the sandbox's static URL), none for c.jpg.
    assert sorted(url.split("/")[-1].split("_")[0] for url in downloads) == sorted(
        first[name]["photo_id"] for name in ("a.jpg", "b.jpg")
    )
    assert all(url.startswith(f"{sandbox.url}/static/") for url in downloads), downloads
    photos = _photos(sandbox)
    assert photos[first["b.jpg"]["photo_id"]]["sha256"] == first["b.jpg"]["sha256"]
    assert photos[first["a.jpg"]["photo_id"]]["sha256"] == _sha(edit)


def test_a_changed_video_is_changed_with_what_to_do(flow_env: Path, sandbox, monkeypatch) -> None:
    folder = flow_env / "videos"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(mp4_bytes(4096))
    old = _report(ingest({"source": str(folder)}))["clip.mp4"]
    (folder / "clip.mp4").write_bytes(mp4_bytes(5000))
    changed = _report(ingest({"source": str(folder)}))["clip.mp4"]
    assert changed["status"] == "changed" and changed["photo_id"] == old["photo_id"]
    assert "Flickr cannot replace a video" in changed["reason"]
    assert "--on-change upload" in changed["reason"]
    monkeypatch.setenv("FLICKR_INGEST_ON_CHANGE", "upload")
    again = _report(ingest({"source": str(folder)}))["clip.mp4"]
    assert again["status"] == "uploaded" and again["photo_id"] != old["photo_id"]


def _camera_jpeg(seed: int, thumbnail_seed: int) -> bytes:
    """A 3-megapixel JPEG of picture `seed` carrying the EXIF thumbnail of picture
    `thumbnail_seed` (a camera's own, or one copied in from another file)."""
    out, small = io.BytesIO(), io.BytesIO()
    picture(seed, (200, 150)).resize((2000, 1500)).save(out, "JPEG", quality=80)
    picture(thumbnail_seed, (200, 150)).resize((160, 120)).save(small, "JPEG", quality=90)
    data = out.getvalue()
    return data[:2] + _exif_with_thumbnail(small.getvalue()) + data[2:]


def test_a_copied_exif_thumbnail_does_not_make_another_picture_the_same(
    flow_env: Path, sandbox
) -> None:
    """The thumbnail a camera wrote may stand for the picture when a file is first sent
    (cheap), but new bytes are judged by their own pixels: anyone can copy the old
    file's EXIF, thumbnail and date, into another picture."""
    folder = flow_env / "drop"
    folder.mkdir()
    original = _camera_jpeg(711, 711)
    (folder / "DSC_0001.jpg").write_bytes(original)
    old = _report(ingest({"source": str(folder)}))["DSC_0001.jpg"]
    (folder / "DSC_0001.jpg").write_bytes(_camera_jpeg(712, 711))  # another, the old EXIF
    new = _report(ingest({"source": str(folder)}))["DSC_0001.jpg"]
    assert new["status"] == "uploaded" and new["photo_id"] != old["photo_id"], new["reason"]
    assert _photos(sandbox)[old["photo_id"]]["sha256"] == _sha(original)
    (folder / "DSC_0001.jpg").write_bytes(_camera_jpeg(712, 712))  # its own thumbnail now
    again = _report(ingest({"source": str(folder)}))["DSC_0001.jpg"]
    assert again["status"] == "replaced" and again["photo_id"] == new["photo_id"], again
