"""Issue #29: every format sent as Flickr takes it, through the real `ingest` flow
against the sandbox. RAW is never sent as TIFF; MKV, WebM and FLV are skipped with
Flickr's list as the reason."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from flickr_ingest import conversion
from flickr_ingest.sandbox import SandboxServer
from flows.ingest import ingest
from tests.formats import (
    flv_bytes,
    heic_bytes,
    mkv_bytes,
    mov_bytes,
    preview_jpeg,
    tiff_raw,
    webp_bytes,
)
from tests.photos import SHARED_PHOTOS, jpeg_bytes

FLICKRS_VIDEOS = "Flickr takes MP4, AVI, WMV, MOV, MPEG, 3GP, M2TS, OGG, OGV only"


def _records(result: dict) -> dict[str, dict]:
    report = json.loads(Path(result["report"]["json"]).read_text())
    return {record["relative_path"]: record for record in report["files"]}


def _sent(sandbox: SandboxServer) -> list[bytes]:
    photos = sandbox.state.photos
    return [photos._store.photo_path(p["id"]).read_bytes() for p in photos.all_photos()]


def test_mkv_webm_and_flv_are_skipped_with_flickrs_list_and_never_sent(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    folder = flow_env / "videos"
    folder.mkdir()
    (folder / "party.mkv").write_bytes(mkv_bytes())
    (folder / "clip.webm").write_bytes(mkv_bytes(b"webm"))
    (folder / "old.flv").write_bytes(flv_bytes())
    (folder / "still.jpg").write_bytes(jpeg_bytes(2901))
    records = _records(ingest({"source": str(folder)}))
    for name in ("party.mkv", "clip.webm", "old.flv"):
        assert records[name]["status"] == "skipped", records[name]
        assert FLICKRS_VIDEOS in records[name]["reason"], records[name]
    assert records["still.jpg"]["status"] == "uploaded"
    assert len(sandbox.state.photos.all_photos()) == 1


def test_a_raw_file_built_on_tiff_is_never_sent_as_a_tiff(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    folder = flow_env / "card"
    folder.mkdir()
    (folder / "DSC_0001.NEF").write_bytes(tiff_raw("nef", None))
    records = _records(ingest({"source": str(folder)}))
    assert records["DSC_0001.NEF"]["status"] == "skipped", records
    assert "RAW" in records["DSC_0001.NEF"]["reason"]
    assert sandbox.state.photos.all_photos() == []  # never sent as a TIFF


def _exif_date(jpeg: bytes) -> str | None:
    with Image.open(io.BytesIO(jpeg)) as image:
        return image.getexif().get_ifd(0x8769).get(0x9003)


def test_a_raw_with_a_jpeg_twin_sends_only_the_jpeg(flow_env: Path, sandbox: SandboxServer) -> None:
    folder = flow_env / "card"
    folder.mkdir()
    twin = jpeg_bytes(2911, (320, 240), taken="2021:06:05 10:11:12")
    (folder / "IMG_0001.JPG").write_bytes(twin)
    (folder / "img_0001.cr2").write_bytes(tiff_raw("cr2", preview_jpeg(2911)))
    records = _records(ingest({"source": str(folder)}))
    jpeg = records["IMG_0001.JPG"]
    assert jpeg["status"] == "uploaded"
    raw = records["img_0001.cr2"]
    assert raw["status"] == "skipped"
    assert raw["reason"] == f"RAW; its JPEG IMG_0001.JPG was uploaded as photo {jpeg['photo_id']}"
    assert _sent(sandbox) == [twin]

    # Next run: the JPEG is already on Flickr; the RAW still names its photo.
    again = _records(ingest({"source": str(folder)}))
    assert again["IMG_0001.JPG"]["status"] == "already_uploaded"
    assert again["img_0001.cr2"]["reason"] == raw["reason"]
    assert len(_sent(sandbox)) == 1


def test_a_lone_raw_sends_its_full_size_preview_with_the_raws_exif(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    folder = flow_env / "card"
    folder.mkdir()
    preview = preview_jpeg(2912)
    raw_file = tiff_raw("dng", preview, taken="2019:08:07 06:05:04")
    (folder / "DSC_0002.DNG").write_bytes(raw_file)
    (folder / "DSC_0003.NEF").write_bytes(tiff_raw("nef", None))  # no preview at all
    records = _records(ingest({"source": str(folder)}))
    record = records["DSC_0002.DNG"]
    assert record["status"] == "uploaded", record
    assert record["sha256"] == hashlib.sha256(raw_file).hexdigest()  # the RAW's bytes
    [sent] = _sent(sandbox)
    with Image.open(io.BytesIO(sent)) as image:
        assert (image.format, image.size) == ("JPEG", (1536, 1024))
        assert image.getexif()[271] == "Canon"  # the camera, from the RAW
    assert _exif_date(sent) == "2019:08:07 06:05:04"
    assert sent.endswith(preview[preview.index(b"\xff\xdb") :])  # image data untouched
    [photo] = sandbox.state.photos.all_photos()
    assert f"checksum:sha256={record['sha256']}" in photo["tags"]
    assert records["DSC_0003.NEF"]["status"] == "skipped"
    assert "RAW without an embedded full-size JPEG preview" in records["DSC_0003.NEF"]["reason"]


def test_raw_skip_skips_every_raw(
    flow_env: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = flow_env / "card"
    folder.mkdir()
    (folder / "DSC_0002.DNG").write_bytes(tiff_raw("dng", preview_jpeg(2913)))
    monkeypatch.setenv("FLICKR_INGEST_RAW", "skip")
    records = _records(ingest({"source": str(folder)}))
    assert records["DSC_0002.DNG"]["status"] == "skipped"
    assert "--raw skip" in records["DSC_0002.DNG"]["reason"]
    assert _sent(sandbox) == []


def test_heic_and_webp_arrive_as_jpeg_with_their_exif_date_the_same_bytes_each_time(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    folder = flow_env / "phone"
    folder.mkdir()
    (folder / "IMG_1.HEIC").write_bytes(heic_bytes(2914, taken="2022:01:02 03:04:05"))
    (folder / "web.webp").write_bytes(webp_bytes(2915, taken="2020:05:06 07:08:09"))
    records = _records(ingest({"source": str(folder)}))
    assert {records[n]["status"] for n in ("IMG_1.HEIC", "web.webp")} == {"uploaded"}
    sent = _sent(sandbox)
    assert [s[:3] for s in sent] == [b"\xff\xd8\xff"] * 2
    assert sorted(map(_exif_date, sent)) == ["2020:05:06 07:08:09", "2022:01:02 03:04:05"]
    taken = sorted(
        sandbox.state.photos._store.query("SELECT taken FROM taken")[i]["taken"] for i in (0, 1)
    )
    assert taken == ["2020-05-06 07:08:09", "2022-01-02 03:04:05"]  # Flickr read the dates
    for name in ("IMG_1.HEIC", "web.webp"):  # the ledger names the source's bytes
        assert records[name]["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    # Deterministic: converting again gives the very bytes sent.
    again = conversion.payload(
        (folder / "web.webp").open("rb"), "web.webp", (folder / "web.webp").stat().st_size, "webp"
    )
    assert again.body.read() in sent


def test_a_live_photo_pair_sends_the_still_only(flow_env: Path, sandbox: SandboxServer) -> None:
    folder = flow_env / "iphone"
    folder.mkdir()
    still = jpeg_bytes(2916, taken="2023:03:04 05:06:07")
    (folder / "IMG_2.JPG").write_bytes(still)
    (folder / "IMG_2.HEIC").write_bytes(heic_bytes(2916))  # "most compatible" pair
    (folder / "IMG_2.MOV").write_bytes(mov_bytes(2.5))
    (folder / "long.jpg").write_bytes(jpeg_bytes(2917))
    (folder / "LONG.mov").write_bytes(mov_bytes(12.0))  # a real video beside a photo
    records = _records(ingest({"source": str(folder)}))
    photo_id = records["IMG_2.JPG"]["photo_id"]
    assert records["IMG_2.JPG"]["status"] == "uploaded"
    assert records["IMG_2.HEIC"]["status"] == "skipped"
    assert (
        records["IMG_2.HEIC"]["reason"]
        == f"HEIC; its JPEG IMG_2.JPG was uploaded as photo {photo_id}"
    )
    assert records["IMG_2.MOV"]["status"] == "skipped"
    assert records["IMG_2.MOV"]["reason"].startswith(
        f"Live Photo video; its JPEG IMG_2.JPG was uploaded as photo {photo_id}"
    )
    assert "--live-photo-videos upload" in records["IMG_2.MOV"]["reason"]
    assert records["LONG.mov"]["status"] == "uploaded"
    assert still in _sent(sandbox) and len(_sent(sandbox)) == 3


def test_live_photo_videos_upload_sends_the_video_too(
    flow_env: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = flow_env / "iphone"
    folder.mkdir()
    (folder / "IMG_3.JPG").write_bytes(jpeg_bytes(2918))
    (folder / "IMG_3.MOV").write_bytes(mov_bytes(2.0))
    monkeypatch.setenv("FLICKR_INGEST_LIVE_PHOTO_VIDEOS", "upload")
    records = _records(ingest({"source": str(folder)}))
    assert records["IMG_3.MOV"]["status"] == "uploaded"


def test_the_real_heif_sample_arrives_as_jpeg(flow_env: Path, sandbox: SandboxServer) -> None:
    # The shared samples sit beside the checkout (/work/main) or two levels up (worktrees).
    places = [SHARED_PHOTOS, Path(__file__).resolve().parents[4] / "shared/samples/photos"]
    found = [
        p / "heic/samplefilehub.heif" for p in places if (p / "heic/samplefilehub.heif").exists()
    ]
    if not found:
        pytest.skip(f"the shared HEIF sample is not on this machine ({places[0]})")
    sample = found[0]
    folder = flow_env / "sample"
    folder.mkdir()
    (folder / sample.name).write_bytes(sample.read_bytes())  # a test folder, not the repo
    records = _records(ingest({"source": str(folder)}))
    assert records[sample.name]["status"] == "uploaded", records
    [sent] = _sent(sandbox)
    with Image.open(io.BytesIO(sent)) as image:
        assert image.format == "JPEG" and min(image.size) > 0


def test_an_edited_heic_replaces_its_photo_with_a_jpeg(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    folder = flow_env / "phone"
    folder.mkdir()
    (folder / "IMG_4.HEIC").write_bytes(heic_bytes(2919, size=(160, 120)))
    old = _records(ingest({"source": str(folder)}))["IMG_4.HEIC"]
    edited = heic_bytes(2919, size=(160, 120), edited=True)
    (folder / "IMG_4.HEIC").write_bytes(edited)
    new = _records(ingest({"source": str(folder)}))["IMG_4.HEIC"]
    assert new["status"] == "replaced" and new["photo_id"] == old["photo_id"], new
    assert new["sha256"] == hashlib.sha256(edited).hexdigest()
    [sent] = _sent(sandbox)
    assert sent[:3] == b"\xff\xd8\xff"  # the replace sent a JPEG too
