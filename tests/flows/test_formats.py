"""Issue #29: every format sent as Flickr takes it, through the real `ingest` flow
against the sandbox. RAW is never sent as TIFF; MKV, WebM and FLV are skipped with
Flickr's list as the reason."""

from __future__ import annotations

import json
from pathlib import Path

from flickr_ingest.sandbox import SandboxServer
from flows.ingest import ingest
from tests.formats import flv_bytes, mkv_bytes, tiff_raw
from tests.photos import jpeg_bytes

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
    records = _records(ingest(source=str(folder)))
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
    records = _records(ingest(source=str(folder)))
    assert records["DSC_0001.NEF"]["status"] == "skipped", records
    assert "RAW" in records["DSC_0001.NEF"]["reason"]
    assert sandbox.state.photos.all_photos() == []
