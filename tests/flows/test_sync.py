"""Sync (issue #16): a file edited at its path replaces its photo (same id, albums kept);
a moved file is already uploaded; a file gone from the source is reported missing; a
free account, or `--on-change skip`, leaves an edited file `changed` with why. Runs go
through the CLI against the test sandbox over HTTP."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from flickr_ingest.sandbox import SandboxServer
from tests.flows.cli_runs import start_cli_run
from tests.photos import edited_jpeg_bytes, jpeg_bytes

#: When the six photos were taken; their edits keep it, as photo editors do.
TAKEN = "2020:05:01 10:00:00"


def _cli_run(folder: Path, prefect_server: str, *options: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder), *options],
        cwd=folder.parent,
        env={**os.environ, "PREFECT_API_URL": prefect_server},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    reports = sorted((folder.parent / "reports").glob("*/report.json"), key=os.path.getmtime)
    return json.loads(reports[-1].read_text())


def _by_path(report: dict) -> dict[str, dict]:
    return {record["relative_path"]: record for record in report["files"]}


def _sandbox_photos(sandbox: SandboxServer) -> dict[str, dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return {photo["id"]: photo for photo in photos if photo["status"] == "active"}


def _six_photos(flow_env: Path) -> Path:
    folder = flow_env / "archive"
    (folder / "trip").mkdir(parents=True)
    for n in range(6):
        where = folder / "trip" if n < 3 else folder
        (where / f"img{n}.jpg").write_bytes(jpeg_bytes(3100 + n, taken=TAKEN))
    return folder


def test_an_edited_file_replaces_its_photo_and_a_moved_one_stays(
    flow_env: Path, prefect_server: str, sandbox: SandboxServer
) -> None:
    folder = _six_photos(flow_env)
    first = _by_path(_cli_run(folder, prefect_server, "--album", "folder"))
    assert {record["status"] for record in first.values()} == {"uploaded"}
    edited_id, moved_id = first["trip/img0.jpg"]["photo_id"], first["img4.jpg"]["photo_id"]

    new_bytes = edited_jpeg_bytes(3100, taken=TAKEN)  # edited in place: the same picture
    (folder / "trip" / "img0.jpg").write_bytes(new_bytes)
    (folder / "sub").mkdir()
    (folder / "img4.jpg").rename(folder / "sub" / "img4.jpg")  # moved
    (folder / "img5.jpg").unlink()  # gone
    uploads_before = _upload_requests(sandbox)

    planned = _by_path(_cli_run(folder, prefect_server, "--dry-run"))["trip/img0.jpg"]
    assert planned["status"] == "planned" and "would replace that photo" in planned["reason"]
    second = _by_path(_cli_run(folder, prefect_server, "--album", "folder"))
    replaced = second["trip/img0.jpg"]
    assert replaced["status"] == "replaced" and replaced["photo_id"] == edited_id
    assert replaced["sha256"] == hashlib.sha256(new_bytes).hexdigest()
    assert replaced["replaced_sha256"] == first["trip/img0.jpg"]["sha256"]
    moved = second["sub/img4.jpg"]
    assert moved["status"] == "already_uploaded" and moved["photo_id"] == moved_id
    assert "moved from" in moved["reason"]
    missing = second["img5.jpg"]
    assert missing["status"] == "missing" and missing["photo_id"] == first["img5.jpg"]["photo_id"]
    assert {second[p]["status"] for p in ("trip/img1.jpg", "trip/img2.jpg", "img3.jpg")} == {
        "already_uploaded"
    }

    photos = _sandbox_photos(sandbox)
    assert len(photos) == 6  # nothing uploaded anew, nothing deleted
    assert _upload_requests(sandbox) == uploads_before  # one replace, no upload
    assert photos[edited_id]["sha256"] == hashlib.sha256(new_bytes).hexdigest()
    tags = photos[edited_id]["tags"]
    assert f"checksum:sha256={replaced['sha256']}" in tags
    assert f"checksum:sha256={replaced['replaced_sha256']}" not in tags
    album = next(a for a in _albums(sandbox) if a["title"] == "trip")
    assert edited_id in album["photo_ids"]  # albums kept

    third = _by_path(_cli_run(folder, prefect_server))  # nothing left to do
    assert third["trip/img0.jpg"]["status"] == "already_uploaded"
    assert third["sub/img4.jpg"]["status"] == "already_uploaded"
    assert len(_sandbox_photos(sandbox)) == 6


def test_an_edited_file_not_replaced_is_changed_until_on_change_upload(
    flow_env: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    folder = _six_photos(flow_env)
    first = _by_path(_report(ingest({"source": str(folder)})))
    old_id = first["img3.jpg"]["photo_id"]
    (folder / "img3.jpg").write_bytes(edited_jpeg_bytes(3103, taken=TAKEN))

    monkeypatch.setenv("FLICKR_INGEST_ON_CHANGE", "skip")
    skipped = _by_path(_report(ingest({"source": str(folder)})))["img3.jpg"]
    assert skipped["status"] == "changed" and skipped["photo_id"] == old_id
    assert "left as it is (--on-change skip)" in skipped["reason"]

    monkeypatch.setenv("FLICKR_INGEST_ON_CHANGE", "replace")
    _set_pro(sandbox, False)
    try:
        free = _by_path(_report(ingest({"source": str(folder)})))["img3.jpg"]
    finally:
        _set_pro(sandbox, True)
    assert free["status"] == "changed" and "only on Pro accounts" in free["reason"]
    assert "run again with --on-change upload" in free["reason"]
    assert len(_sandbox_photos(sandbox)) == 6
    assert not any(p.startswith("/services/replace") for p in _request_paths(sandbox))

    monkeypatch.setenv("FLICKR_INGEST_ON_CHANGE", "upload")  # what the reason said to do
    anew = _by_path(_report(ingest({"source": str(folder)})))["img3.jpg"]
    assert anew["status"] == "uploaded" and anew["photo_id"] != old_id
    photos = _sandbox_photos(sandbox)
    assert len(photos) == 7 and old_id in photos  # the first photo stays on Flickr


def test_a_replace_whose_answer_was_lost_is_sent_once(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    from flows.ingest import ingest

    folder = _six_photos(flow_env)
    photo_id = _by_path(_report(ingest({"source": str(folder)})))["trip/img1.jpg"]["photo_id"]
    (folder / "trip" / "img1.jpg").write_bytes(edited_jpeg_bytes(3101, taken=TAKEN))
    sandbox.traffic.update(next_upload_faults=("lost",))  # carried out, answer dropped
    record = _by_path(_report(ingest({"source": str(folder)})))["trip/img1.jpg"]
    assert record["status"] == "replaced" and record["photo_id"] == photo_id
    assert "an earlier attempt had replaced it" in record["reason"]
    assert sum(1 for p in _request_paths(sandbox) if p.startswith("/services/replace")) == 1


def test_flickr_refusing_a_replace_leaves_the_file_changed(client, sandbox, tmp_path) -> None:
    """Flickr's own refusal (the account is no longer Pro): replace error 1, recorded in
    janko/flickrie's 2012 cassettes."""
    from flickr_ingest.content import fingerprint
    from flickr_ingest.files import CheckedReader
    from flickr_ingest.ledger import SqliteLedger
    from flickr_ingest.ledger.base import PathRecord
    from flickr_ingest.syncing import replace_photo

    photo_id = client.upload(jpeg_bytes(61), filename="a.jpg").photo_id
    _set_pro(sandbox, False)
    try:
        body = io.BytesIO(jpeg_bytes(62))
        outcome = replace_photo(
            client,
            SqliteLedger(tmp_path / "ledger.sqlite3"),
            "me",
            PathRecord("file:///a.jpg", photo_id, "0" * 64),
            CheckedReader(body, len(body.getvalue())),
            "a.jpg",
            fingerprint(io.BytesIO(body.getvalue())),
            None,
            None,
        )
    finally:
        _set_pro(sandbox, True)
    assert outcome.status == "changed" and "Not a pro account" in outcome.reason
    assert "--on-change upload" in outcome.reason


def test_another_picture_that_takes_a_name_goes_up_as_a_new_photo(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    """A new card's DSC_0001 at the path of the last card's: taken at another time, so
    not an edit. The first photo keeps its picture, whether the old file was gone a run
    before or moved away in the same interval."""
    from flows.ingest import ingest

    folder = flow_env / "inbox"
    folder.mkdir()
    card1 = jpeg_bytes(4101, taken="2021:01:01 09:00:00")
    (folder / "DSC_0001.JPG").write_bytes(card1)
    (folder / "DSC_0002.JPG").write_bytes(jpeg_bytes(4102, taken="2021:01:01 09:05:00"))
    first = _by_path(_report(ingest({"source": str(folder)})))
    photo_1, photo_2 = first["DSC_0001.JPG"]["photo_id"], first["DSC_0002.JPG"]["photo_id"]

    (folder / "DSC_0001.JPG").unlink()
    gone = _by_path(_report(ingest({"source": str(folder)})))
    assert gone["DSC_0001.JPG"]["status"] == "missing"
    (folder / "DSC_0001.JPG").write_bytes(jpeg_bytes(4201, taken="2022:02:02 10:00:00"))
    (folder / "old").mkdir()  # the same in one interval: moved away, a new one in its place
    (folder / "DSC_0002.JPG").rename(folder / "old" / "DSC_0002.JPG")
    (folder / "DSC_0002.JPG").write_bytes(jpeg_bytes(4202, taken="2022:02:02 10:05:00"))
    second = _by_path(_report(ingest({"source": str(folder)})))

    for name in ("DSC_0001.JPG", "DSC_0002.JPG"):
        assert second[name]["status"] == "uploaded", second[name]
        assert second[name]["photo_id"] not in (photo_1, photo_2)
        assert "another picture" in second[name]["reason"]
    assert second["old/DSC_0002.JPG"]["photo_id"] == photo_2
    photos = _sandbox_photos(sandbox)
    assert len(photos) == 4 and photos[photo_1]["sha256"] == hashlib.sha256(card1).hexdigest()
    assert photos[photo_2]["sha256"] == first["DSC_0002.JPG"]["sha256"]  # untouched


def test_a_copy_left_alone_takes_over_its_photo_and_its_edits_replace_it(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    """cp a b; run; rm a; run: b is the photo's file now (a is not missing); an edit of
    b then replaces the photo, even with the photo at Flickr's 75 tags."""
    from flows.ingest import ingest

    folder = flow_env / "archive"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(4301, taken="2020:03:03 08:00:00"))
    photo_id = _by_path(_report(ingest({"source": str(folder)})))["a.jpg"]["photo_id"]
    (folder / "b.jpg").write_bytes((folder / "a.jpg").read_bytes())
    assert _by_path(_report(ingest({"source": str(folder)})))["b.jpg"]["status"] == "duplicate"
    (folder / "a.jpg").unlink()
    third = _report(ingest({"source": str(folder)}))
    assert [f["relative_path"] for f in third["files"]] == ["b.jpg"], third["files"]

    tags = sandbox.state.photos.all_photos()[0]["tags"]  # the checksum tag, and more
    sandbox_client_tags = [*tags, *(f"user{n}" for n in range(75 - len(tags)))]
    _owner_client(sandbox).set_tags(photo_id, sandbox_client_tags)
    new_bytes = edited_jpeg_bytes(4301, taken="2020:03:03 08:00:00")  # the same picture, edited
    (folder / "b.jpg").write_bytes(new_bytes)
    edited = _by_path(_report(ingest({"source": str(folder)})))["b.jpg"]
    assert edited["status"] == "replaced" and edited["photo_id"] == photo_id
    assert not edited["warnings"]
    photo = _sandbox_photos(sandbox)[photo_id]
    assert f"checksum:sha256={hashlib.sha256(new_bytes).hexdigest()}" in photo["tags"]
    assert len(photo["tags"]) == 75 and "user0" in photo["tags"]  # the user's tags kept


def _owner_client(sandbox: SandboxServer):
    from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient

    account = sandbox.account
    credentials = Credentials(
        account.api_key, account.api_secret, account.oauth_token, account.oauth_token_secret
    )
    return FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url))


def _requests(sandbox: SandboxServer) -> list[dict]:
    return requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=10
    ).json()["requests"]


def _request_paths(sandbox: SandboxServer) -> list[str]:
    return [entry["path"] for entry in _requests(sandbox)]


def _upload_requests(sandbox: SandboxServer) -> int:
    return sum(1 for path in _request_paths(sandbox) if path.startswith("/services/upload"))


def _albums(sandbox: SandboxServer) -> list[dict]:
    return requests.get(
        f"{sandbox.url}/sandbox/albums", headers=sandbox.admin_headers, timeout=10
    ).json()["albums"]


def _set_pro(sandbox: SandboxServer, pro: bool) -> None:
    with sandbox.state.store.transaction() as db:
        db.execute(
            "UPDATE accounts SET is_pro = ? WHERE nsid = ?", (int(pro), sandbox.account.user_nsid)
        )


def test_a_run_killed_between_replace_and_ledger_replaces_once(
    flow_env: Path, prefect_server: str, sandbox: SandboxServer
) -> None:
    folder = _six_photos(flow_env)
    first = _by_path(_cli_run(folder, prefect_server))
    photo_id = first["img3.jpg"]["photo_id"]
    new_bytes = edited_jpeg_bytes(3103, taken=TAKEN)
    new_sha = hashlib.sha256(new_bytes).hexdigest()
    (folder / "img3.jpg").write_bytes(new_bytes)
    # The replace is carried out, then its answer is held back: the kill lands in between.
    sandbox.traffic.update(next_upload_faults=("stalled",), stall_seconds=60)
    process = start_cli_run(folder, prefect_server)
    deadline = time.monotonic() + 120
    while _sandbox_photos(sandbox)[photo_id]["sha256"] != new_sha:
        assert process.poll() is None and time.monotonic() < deadline, "nothing was replaced"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    secret = _sandbox_photos(sandbox)[photo_id]["originalsecret"]  # new with each replace

    again = _by_path(_cli_run(folder, prefect_server))
    record = again["img3.jpg"]
    assert record["status"] == "replaced" and record["photo_id"] == photo_id
    assert "an earlier attempt had replaced it" in record["reason"]
    # The replace's answer is still held back (so not in the request log): no other was sent.
    assert not any(p.startswith("/services/replace") for p in _request_paths(sandbox))
    photos = _sandbox_photos(sandbox)
    assert photos[photo_id]["originalsecret"] == secret
    assert len(photos) == 6 and f"checksum:sha256={new_sha}" in photos[photo_id]["tags"]
    assert _by_path(_cli_run(folder, prefect_server))["img3.jpg"]["status"] == "already_uploaded"


def test_an_s3_object_overwritten_under_its_key_replaces_its_photo(
    flow_env: Path, sandbox: SandboxServer, client, moto_server: str, s3, bucket: str, monkeypatch
) -> None:
    from flows.ingest import ingest

    monkeypatch.setenv("FLICKR_INGEST_LEDGER", f"s3://{bucket}/ledger")  # paths in S3 too
    monkeypatch.setenv("FLICKR_INGEST_S3_ENDPOINT_URL", moto_server)
    for n in range(4):
        s3.put_object(Bucket=bucket, Key=f"inbox/img{n}.jpg", Body=jpeg_bytes(6200 + n))
    source = f"s3://{bucket}/inbox/"
    first = _by_path(_report(ingest({"source": source})))
    edited_on_flickr = first["img0.jpg"]["photo_id"]
    client.set_meta(edited_on_flickr, title="Named on Flickr", description="kept")
    new_bytes = edited_jpeg_bytes(6200)
    s3.put_object(Bucket=bucket, Key="inbox/img0.jpg", Body=new_bytes)  # overwritten
    s3.copy_object(Bucket=bucket, Key="inbox/2020/img1.jpg", CopySource=f"{bucket}/inbox/img1.jpg")
    s3.delete_object(Bucket=bucket, Key="inbox/img1.jpg")  # moved

    second = _by_path(_report(ingest({"source": source})))
    assert second["img0.jpg"]["status"] == "replaced"
    assert second["img0.jpg"]["photo_id"] == first["img0.jpg"]["photo_id"]
    assert second["2020/img1.jpg"]["status"] == "already_uploaded"
    assert second["2020/img1.jpg"]["photo_id"] == first["img1.jpg"]["photo_id"]
    photos = _sandbox_photos(sandbox)
    assert len(photos) == 4
    assert photos[edited_on_flickr]["sha256"] == hashlib.sha256(new_bytes).hexdigest()
    assert photos[edited_on_flickr]["title"] == "Named on Flickr"  # kept by default

    monkeypatch.setenv("FLICKR_INGEST_UPDATE_METADATA", "yes")
    s3.put_object(
        Bucket=bucket,
        Key="inbox/img0.jpg",
        Body=edited_jpeg_bytes(6200, taken="2020:01:01 00:00:00"),
    )
    third = _by_path(_report(ingest({"source": source})))
    assert third["img0.jpg"]["status"] == "replaced"
    assert _sandbox_photos(sandbox)[edited_on_flickr]["title"] == third["img0.jpg"]["title"]


def _report(summary: dict) -> dict:
    return json.loads(Path(summary["report"]["json"]).read_text())
