"""The ingest flow end to end: a real Prefect server (the test harness), the sandbox over
HTTP, real files. Assertions are on what the sandbox holds and on the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)

from flickr_ingest.demo import make_demo_photos
from flickr_ingest.flickr.errors import AuthError
from flickr_ingest.report.escaping import markdown_text
from flickr_ingest.sandbox import SandboxServer
from flows.ingest import ingest
from tests.photos import SHARED_PHOTOS, jpeg_bytes


def _stored(sandbox: SandboxServer) -> list[dict]:
    return [
        p
        for p in requests.get(
            f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
        ).json()["photos"]
        if p["status"] == "active"
    ]


def _report(summary: dict) -> dict:
    return json.loads(Path(summary["report"]["json"]).read_text(encoding="utf-8"))


def test_demo_archive_uploads_once_and_reports_every_file(flow_env: Path, sandbox) -> None:
    folder = flow_env / "archive"
    make_demo_photos(folder, per_album=2)
    summary = ingest({"source": str(folder), "concurrency": 4})
    report = _report(summary)
    assert summary["ok"] and report["schema_version"] == 3
    assert report["totals"] == {
        "uploaded": 6,
        "replaced": 0,
        "duplicate": 1,
        "already_uploaded": 0,
        "changed": 0,
        "missing": 0,
        "skipped": 2,
        "deferred": 0,
        "failed": 0,
    }
    by_path = {f["relative_path"]: f for f in report["files"]}
    assert by_path["notes.jpg"]["reason"].startswith("not a photo or video")
    assert by_path["empty.jpg"]["reason"] == "empty file (0 bytes)"
    twins = [by_path["2023 Kyoto/copy of IMG_3001.jpg"], by_path["2023 Kyoto/IMG_3001.jpg"]]
    original = next(t for t in twins if t["status"] == "uploaded")  # whichever claimed first
    copy = next(t for t in twins if t["status"] == "duplicate")
    assert copy["duplicate_of"] == original["photo_id"] and copy["sha256"] == original["sha256"]
    stored = _stored(sandbox)
    assert len(stored) == 6 and len({p["sha256"] for p in stored}) == 6
    lisbon = next(p for p in stored if p["filename"] == "IMG_1001.jpg")
    assert lisbon["title"] == "Lisbon #1" and "Lisbon" in lisbon["tags"]
    assert any(tag.startswith("checksum:sha256=") for tag in lisbon["tags"])
    for record in report["files"]:
        assert set(record) >= {
            "source",
            "size",
            "sha256",
            "kind",
            "status",
            "photo_id",
            "duplicate_of",
            "reason",
            "error_code",
            "attempts",
            "title",
            "tags",
        }
    organize = requests.get(summary["organize_urls"][0], timeout=10).text
    assert all(p["id"] in organize for p in stored)
    html = Path(summary["report"]["html"]).read_text(encoding="utf-8")
    assert "thumbs/" in html and (Path(summary["report"]["html"]).parent / "thumbs").is_dir()

    again = ingest({"source": str(folder), "concurrency": 4})
    assert _report(again)["totals"]["already_uploaded"] == 7
    assert len(_stored(sandbox)) == 6


def test_artifacts_on_the_flow_run(flow_env: Path, sandbox) -> None:
    folder = flow_env / "archive"
    make_demo_photos(folder, per_album=1)
    state = ingest({"source": str(folder)}, return_state=True)
    this_run = ArtifactFilter(
        flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
    )
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:  # this run's artifacts, not the session's
        artifacts = client.read_artifacts(artifact_filter=this_run)
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    # Upload task runs are named after their files (the flow passes them quoted).
    uploads = [run.name for run in task_runs if run.name.startswith("upload ")]
    assert uploads and all(name.endswith((".jpg", "more")) for name in uploads), uploads
    keys = {a.key for a in artifacts if a.key}
    progress = [a for a in artifacts if a.type == "progress"]
    assert {"ingest-files", "ingest-report", "organize-on-flickr", "ingest-progress"} <= keys
    assert any(a.data == 100.0 for a in progress)


def test_dry_run_uploads_nothing(flow_env: Path, sandbox) -> None:
    folder = flow_env / "archive"
    make_demo_photos(folder, per_album=1)
    summary = ingest({"source": str(folder), "dry_run": True})
    assert _report(summary)["totals"]["planned"] == 4
    assert _stored(sandbox) == []


def test_transient_faults_with_lost_answers_upload_each_photo_once(flow_env: Path, sandbox) -> None:
    folder = flow_env / "many"
    folder.mkdir()
    for number in range(30):
        (folder / f"p{number:02d}.jpg").write_bytes(jpeg_bytes(1000 + number))
    requests.post(
        f"{sandbox.url}/sandbox/faults",
        headers=sandbox.admin_headers,
        timeout=5,
        json={"faults": "lost=0.06,reset=0.03,105=0.03,106=0.02,3=0.02,500=0.02,503=0.02"},
    )
    try:
        summary = ingest({"source": str(folder), "concurrency": 6})
    finally:
        requests.post(
            f"{sandbox.url}/sandbox/faults",
            headers=sandbox.admin_headers,
            json={"faults": ""},
            timeout=5,
        )
    report = _report(summary)
    assert report["totals"]["uploaded"] == 30, [
        f["reason"] for f in report["files"] if f["status"] != "uploaded"
    ]
    stored = _stored(sandbox)
    assert len(stored) == 30 and len({p["sha256"] for p in stored}) == 30
    log = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=5
    ).json()["requests"]
    assert sum(1 for entry in log if entry.get("fault")) > 0  # faults really happened


def test_bandwidth_quota_defers_the_rest_and_a_later_run_finishes(flow_env: Path, sandbox) -> None:
    folder = flow_env / "quota"
    folder.mkdir()
    files = [jpeg_bytes(2000 + n) for n in range(6)]
    for number, data in enumerate(files):
        (folder / f"q{number}.jpg").write_bytes(data)
    nsid = sandbox.account.user_nsid
    sandbox.state.accounts.set_limits(nsid, monthly_bandwidth_bytes=sum(len(d) for d in files[:3]))
    first = _report(ingest({"source": str(folder)}))
    assert first["totals"]["uploaded"] == 3 and first["totals"]["deferred"] == 3
    assert all("bandwidth" in f["reason"] for f in first["files"] if f["status"] == "deferred")
    sandbox.state.accounts.set_limits(nsid, monthly_bandwidth_bytes=None)
    second = _report(ingest({"source": str(folder)}))
    assert second["totals"]["uploaded"] == 3 and second["totals"]["already_uploaded"] == 3
    assert len(_stored(sandbox)) == 6


def test_revoked_token_stops_the_run_with_a_clear_message(
    flow_env: Path, sandbox, monkeypatch
) -> None:
    folder = flow_env / "auth"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(3000))
    monkeypatch.setenv("FLICKR_OAUTH_TOKEN", "123-nope")
    with pytest.raises(AuthError) as refused:
        ingest({"source": str(folder)})
    assert refused.value.code == 98
    assert _stored(sandbox) == []
    reports = list((flow_env / "reports").glob("*/report.json"))
    assert reports and "could not start" in json.loads(reports[0].read_text())["notes"][0]


@pytest.mark.skipif(
    not SHARED_PHOTOS.is_dir(), reason=f"sample photos not found at {SHARED_PHOTOS}"
)
def test_the_shared_sample_photos(flow_env: Path, sandbox) -> None:
    summary = ingest({"source": str(SHARED_PHOTOS)})
    report = _report(summary)
    files = report["files"]
    assert len(files) == len([p for p in SHARED_PHOTOS.rglob("*") if p.is_file()])
    assert all(f["status"] in ("uploaded", "duplicate", "skipped") for f in files), files
    assert all(f["reason"] for f in files if f["status"] != "uploaded")
    uploaded = [f for f in files if f["status"] == "uploaded"]
    organize = "".join(requests.get(url, timeout=10).text for url in summary["organize_urls"])
    assert all(f["photo_id"] in organize for f in uploaded)
    broken = next(f for f in files if f["relative_path"] == "broken/corrupted.jpg")
    assert any("damaged" in w for w in broken["warnings"])


def test_s3_source_and_s3_report_through_an_aws_credentials_block(
    flow_env: Path, sandbox, moto_server: str, s3, bucket: str, monkeypatch
) -> None:
    from prefect_aws import AwsCredentials
    from prefect_aws.client_parameters import AwsClientParameters

    AwsCredentials(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
        aws_client_parameters=AwsClientParameters(endpoint_url=moto_server),
    ).save("test-moto", overwrite=True)
    monkeypatch.setenv("FLICKR_INGEST_AWS_CREDENTIALS_BLOCK", "test-moto")
    for number, key in enumerate(["inbox/a b.jpg", "inbox/ü/plus+.jpg", "inbox/../up.jpg"]):
        s3.put_object(Bucket=bucket, Key=key, Body=jpeg_bytes(4000 + number))
    s3.put_object(Bucket=bucket, Key="inbox/readme.txt", Body=b"hello")
    # Discovery goes by S3 names (no request per object); the content is checked later.
    s3.put_object(Bucket=bucket, Key="inbox/page.jpg", Body=b"<html>not a photo</html>")
    state = ingest(
        {"source": f"s3://{bucket}/inbox/", "report_dir": f"s3://{bucket}/reports"},
        return_state=True,
    )
    summary = state.result()
    assert summary["report"]["json"] == f"s3://{bucket}/reports/{summary['run_id']}/report.json"
    # The dashboard's report artifact says where the report is.
    this_run = ArtifactFilter(
        flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
    )
    with get_client(sync_client=True) as client:
        [artifact] = [
            a for a in client.read_artifacts(artifact_filter=this_run) if a.key == "ingest-report"
        ]
    assert markdown_text(summary["report"]["html"]) in artifact.data
    assert markdown_text(summary["report"]["html"]) in (artifact.description or "")
    key = summary["report"]["json"].split("/", 3)[3]
    report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["totals"]["uploaded"] == 3 and report["totals"]["skipped"] == 2
    [page] = [f for f in report["files"] if f["relative_path"] == "page.jpg"]
    assert page["status"] == "skipped" and "not what the name 'page.jpg' says" in page["reason"]
    stored = {p["filename"] for p in _stored(sandbox)}
    assert stored == {"a b.jpg", "plus+.jpg", "up.jpg"}
    thumbs = s3.list_objects_v2(Bucket=bucket, Prefix=f"reports/{summary['run_id']}/thumbs/")
    assert thumbs["KeyCount"] == 3
    leftovers = list((flow_env / "state" / "tmp").rglob("*"))
    assert [p for p in leftovers if p.is_file()] == []  # temporary copies are gone


def test_ledger_in_s3_keeps_runs_idempotent(
    flow_env: Path, sandbox, moto_server, s3, bucket, monkeypatch
) -> None:
    monkeypatch.setenv("FLICKR_INGEST_LEDGER", f"s3://{bucket}/ledger")
    monkeypatch.setenv("FLICKR_INGEST_S3_ENDPOINT_URL", moto_server)
    folder = flow_env / "archive"
    make_demo_photos(folder, per_album=1)
    first = _report(ingest({"source": str(folder)}))
    assert first["totals"]["uploaded"] == 3 and first["totals"]["duplicate"] == 1
    assert s3.list_objects_v2(Bucket=bucket, Prefix="ledger/uploads/")["KeyCount"] == 3
    second = _report(ingest({"source": str(folder)}))
    assert second["totals"]["already_uploaded"] == 4
    assert len(_stored(sandbox)) == 3
