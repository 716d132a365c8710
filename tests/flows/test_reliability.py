"""The reliability suite: transient faults one by one, permanent errors, quota and token
failures mid-run, a server that is down, hostile files, and secrets that never leak."""

from __future__ import annotations

import io
import json
import os
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
import requests
from PIL import Image
from prefect.client.orchestration import get_client

from flickr_ingest.flickr.errors import FlickrError
from flows.ingest import ingest
from tests.photos import jpeg_bytes
from tests.ports import closed_port

TRANSIENT_FAULTS = ["lost", "reset", "3", "14", "105", "106", "429", "500", "502", "503", "504"]


def _folder(root: Path, count: int, seed: int) -> Path:
    folder = root / f"photos-{seed}"
    folder.mkdir()
    for number in range(count):
        (folder / f"p{number:02d}.jpg").write_bytes(jpeg_bytes(seed * 100 + number))
    return folder


def _faults(sandbox, **settings) -> None:
    requests.post(
        f"{sandbox.url}/sandbox/faults", headers=sandbox.admin_headers, json=settings, timeout=5
    ).raise_for_status()


def _photos(sandbox) -> list[dict]:
    return [
        p
        for p in requests.get(
            f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
        ).json()["photos"]
        if p["status"] == "active"
    ]


def _log(sandbox) -> list[dict]:
    return requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=10
    ).json()["requests"]


def _report(summary: dict) -> dict:
    return json.loads(Path(summary["report"]["json"]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
def test_each_transient_fault_at_25_percent(flow_env: Path, sandbox, fault: str) -> None:
    folder = _folder(flow_env, 12, seed=len(fault) + TRANSIENT_FAULTS.index(fault) * 10)
    _faults(sandbox, faults=f"{fault}=0.25", retry_after_seconds=1, capacity_wait_seconds=1)
    try:
        report = _report(ingest({"source": str(folder), "concurrency": 4}))
    finally:
        _faults(sandbox, faults="")
    assert report["totals"]["uploaded"] == 12, [f["reason"] for f in report["files"]]
    photos = _photos(sandbox)
    assert len(photos) == 12 and len({p["sha256"] for p in photos}) == 12  # no duplicates
    assert max(f["attempts"] for f in report["files"]) <= 11  # bounded: retries + 1
    assert any(entry.get("fault") == fault for entry in _log(sandbox))


@pytest.mark.parametrize("fault", ["429", "14"])
def test_the_wait_flickr_names_is_kept_before_the_retry(
    flow_env: Path, sandbox, fault: str
) -> None:
    """HTTP 429's Retry-After (here on the run's first request, a REST call) and error
    14's non_pro_desktop_upload_wait_time (on the upload): the same call is made again
    no sooner than that, though the run's own backoff is 0.05 s."""
    folder = _folder(flow_env, 1, seed=510 + len(fault))
    _faults(sandbox, retry_after_seconds=2, capacity_wait_seconds=2)
    sandbox.traffic.update(next_faults=(fault,))  # the first request that can get it, once
    report = _report(ingest({"source": str(folder)}))
    assert [f["status"] for f in report["files"]] == ["uploaded"]
    log = _log(sandbox)
    hit = next(i for i, e in enumerate(log) if e.get("fault") == fault)
    again = next(
        e
        for e in log[hit + 1 :]
        if (e["path"], e.get("api_method")) == (log[hit]["path"], log[hit].get("api_method"))
    )
    waited = again["time"] - (log[hit]["time"] + log[hit]["duration_ms"] / 1000)
    assert waited >= 2.0 - 0.05, f"{log[hit]['path']} called again after {waited:.2f} s"
    assert again["status"] == 200


def test_a_landed_upload_the_search_cannot_see_yet_is_caught_by_dedup_check(
    flow_env: Path, sandbox
) -> None:
    """Flickr stores the photo but the answer is lost; its search index lags, so the
    retry's look-up by checksum tag finds nothing. The retry's dedup_check=1 is what
    stops a second copy: Flickr answers error 9 with the photo's id."""
    folder = _folder(flow_env, 1, seed=520)
    sandbox.state.photos.behaviour.search_delay_seconds = 600
    sandbox.traffic.update(next_upload_faults=("lost",))
    report = _report(ingest({"source": str(folder)}))
    [record] = report["files"]
    assert record["status"] == "uploaded" and record["attempts"] == 2, record
    assert record["reason"] == "an earlier attempt had landed (dedup_check)"
    [photo] = _photos(sandbox)
    assert record["photo_id"] == photo["id"]
    log = _log(sandbox)
    searches = [e for e in log if e.get("api_method") == "flickr.photos.search"]
    uploads = [e for e in log if e["path"] == "/services/upload/"]
    assert searches and searches[0]["stat"] == "ok"  # looked first, found nothing
    assert [(e.get("fault"), e.get("code")) for e in uploads] == [("lost", None), (None, 9)]


def test_permanent_errors_take_one_attempt(flow_env: Path, sandbox, monkeypatch) -> None:
    folder = _folder(flow_env, 3, seed=501)
    monkeypatch.setenv("FLICKR_INGEST_TITLE_TEMPLATE", "see http://offers.spam.example/ {stem}")
    report = _report(ingest({"source": str(folder)}))
    assert {(f["status"], f["error_code"], f["attempts"]) for f in report["files"]} == {
        ("failed", 116, 1)
    }
    uploads = [e for e in _log(sandbox) if e["path"] == "/services/upload/"]
    assert len(uploads) == 3  # one each, no retry
    monkeypatch.delenv("FLICKR_INGEST_TITLE_TEMPLATE")
    monkeypatch.setenv("FLICKR_INGEST_SAFETY_LEVEL", "3")
    sandbox.state.accounts.set_limits(sandbox.account.user_nsid, safe_only=True)
    report = _report(ingest({"source": str(folder)}))
    assert {(f["status"], f["error_code"], f["attempts"]) for f in report["files"]} == {
        ("skipped", 15, 1)
    }
    assert _photos(sandbox) == []


def test_quota_used_up_mid_run_defers_the_rest_and_a_later_run_finishes(
    flow_env: Path, sandbox
) -> None:
    folder = _folder(flow_env, 10, seed=502)
    nsid = sandbox.account.user_nsid
    sandbox.state.accounts.set_limits(nsid, max_items=4)  # a pro account does not report it
    first = _report(ingest({"source": str(folder), "concurrency": 1}))
    assert first["totals"]["uploaded"] == 4 and first["totals"]["deferred"] == 6
    assert any("quota" in note for note in first["notes"])
    assert all(f["reason"] for f in first["files"] if f["status"] == "deferred")
    sixes = [e for e in _log(sandbox) if e.get("code") == 6]
    assert len(sixes) == 1  # it stopped at the first refusal
    sandbox.state.accounts.set_limits(nsid, max_items=None)
    second = _report(ingest({"source": str(folder)}))
    assert second["totals"]["uploaded"] == 6 and second["totals"]["already_uploaded"] == 4
    assert len(_photos(sandbox)) == 10


def test_a_run_under_an_earlier_runs_id_is_not_held_by_its_stop(flow_env: Path, sandbox) -> None:
    """A run stopped at the quota flags the stop for its workers; a later run with the
    same id (a Prefect retry) asks Flickr afresh, also when the earlier one was killed
    and left its flag."""
    folder = _folder(flow_env, 6, seed=505)
    nsid = sandbox.account.user_nsid
    sandbox.state.accounts.set_limits(nsid, max_items=2)
    first = _report(ingest({"source": str(folder), "concurrency": 1}, run_id="monthly"))
    assert first["totals"]["uploaded"] == 2 and first["totals"]["deferred"] == 4
    stop_flags = flow_env / "state" / "stop"
    assert list(stop_flags.iterdir()) == []  # the run's flag went with the run
    sandbox.state.accounts.set_limits(nsid, max_items=None)
    (stop_flags / "monthly").write_text("the account's upload quota is used up (a killed run)")
    second = _report(ingest({"source": str(folder)}, run_id="monthly"))
    assert second["totals"]["uploaded"] == 4 and second["totals"]["already_uploaded"] == 2
    assert not any("stopped early" in note for note in second["notes"])


def test_token_revoked_mid_run_stops_without_a_retry_loop(
    flow_env: Path, sandbox, monkeypatch
) -> None:
    folder = _folder(flow_env, 30, seed=503)
    other = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        json={"username": "revokee"},
        timeout=5,
    ).json()
    monkeypatch.setenv("FLICKR_OAUTH_TOKEN", other["oauth_token"])
    monkeypatch.setenv("FLICKR_OAUTH_TOKEN_SECRET", other["oauth_token_secret"])
    _faults(sandbox, latency_ms=150)
    revoker = threading.Thread(target=_revoke_after, args=(sandbox, other["oauth_token"], 5))
    revoker.start()
    try:
        report = _report(ingest({"source": str(folder), "concurrency": 2}))
    finally:
        revoker.join()
        _faults(sandbox, latency_ms=0)
    assert any("refused the credentials" in note for note in report["notes"])
    assert report["totals"]["failed"] >= 1 and report["totals"]["deferred"] >= 10
    failed = [f for f in report["files"] if f["status"] == "failed"]
    assert all(f["error_code"] in (98, None) for f in failed)
    assert sum(1 for e in _log(sandbox) if e.get("code") == 98) <= 4  # no retry loop


def _revoke_after(sandbox, token: str, uploads: int) -> None:
    deadline = time.monotonic() + 60
    while len(_photos(sandbox)) < uploads and time.monotonic() < deadline:
        time.sleep(0.05)
    requests.post(
        f"{sandbox.url}/sandbox/tokens/{token}/revoke", headers=sandbox.admin_headers, timeout=5
    )


def test_sandbox_down_at_the_start_is_a_clear_error(flow_env: Path, monkeypatch) -> None:
    folder = _folder(flow_env, 2, seed=504)
    started = time.monotonic()
    with (
        closed_port() as port,
        pytest.raises(FlickrError, match=r"ConnectionError talking to 127\.0\.0\.1.*3 tries over"),
    ):
        monkeypatch.setenv("FLICKR_BASE_URL", f"http://127.0.0.1:{port}")
        ingest({"source": str(folder)})  # the run's default retries: the first call gives up soon
    assert time.monotonic() - started < 20
    report = json.loads(next((flow_env / "reports").glob("*/report.json")).read_text())
    assert report["files"] == [] and "could not start" in report["notes"][0]
    assert not (flow_env / "state" / "ledger.sqlite3").exists() or _ledger_is_empty(flow_env)


def _ledger_is_empty(flow_env: Path) -> bool:
    import sqlite3

    with sqlite3.connect(flow_env / "state" / "ledger.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM uploads").fetchone()[0] == 0


# -- hostile and broken files -----------------------------------------------------------


def _exif_segment(tiff: bytes) -> bytes:
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _with_segment(segment: bytes) -> bytes:
    photo = jpeg_bytes(600)
    return photo[:2] + segment + photo[2:]


def _png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _hostile_archive(root: Path) -> dict[str, str]:
    """Files an archive should never be hurt by, and the status each must end with."""
    folder = root / "hostile"
    folder.mkdir()
    expected = {}

    def add(name: str, data: bytes, status: str) -> None:
        (folder / name).write_bytes(data)
        expected[name] = status

    add("zero.jpg", b"", "skipped")
    add("truncated.jpg", jpeg_bytes(601, size=(400, 300))[:900], "uploaded")
    add(
        "exif-offset-outside.jpg",
        _with_segment(_exif_segment(b"II*\x00" + struct.pack("<I", 0x7FFFFFF0))),
        "uploaded",
    )
    add(
        "exif-absurd-count.jpg",
        _with_segment(
            _exif_segment(b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 0xFFFF) + b"\x00" * 12)
        ),
        "uploaded",
    )
    add("png-60000x60000.png", _png_declaring(60000, 60000), "uploaded")
    add(
        "page.jpg", b"<!doctype html><html><body><script>alert(1)</script></body></html>", "skipped"
    )
    add('new\nline "quoted" ünï ✓.jpg', jpeg_bytes(602), "uploaded")
    script = io.BytesIO()
    Image.new("RGB", (8, 8)).save(
        script,
        "JPEG",
        xmp=(
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>'
            b'<rdf:li xml:lang="x-default">&lt;script&gt;alert(1)&lt;/script&gt;</rdf:li></rdf:Alt></dc:title>'
            b"</rdf:Description></rdf:RDF></x:xmpmeta>"
        ),
    )
    add("script-title.jpg", script.getvalue(), "uploaded")
    with open(folder / "sparse-3gb.jpg", "wb") as sparse:
        sparse.write(jpeg_bytes(603)[:200])
        sparse.truncate(3 * 1024**3)
    expected["sparse-3gb.jpg"] = "skipped"
    (folder / "loop").mkdir()
    os.symlink(folder, folder / "loop" / "back-to-top")
    return expected


def test_hostile_files_each_end_with_a_precise_reason(flow_env: Path, sandbox) -> None:
    expected = _hostile_archive(flow_env)
    started = time.monotonic()
    summary = ingest({"source": str(flow_env / "hostile")})
    elapsed = time.monotonic() - started
    report = _report(summary)
    by_name = {f["relative_path"]: f for f in report["files"]}
    assert {name: by_name[name]["status"] for name in expected} == expected
    assert len(report["files"]) == len(expected)  # the symlink loop added nothing
    assert by_name["zero.jpg"]["reason"] == "empty file (0 bytes)"
    assert by_name["page.jpg"]["reason"].startswith("not a photo or video")
    assert "larger than the account's photo limit" in by_name["sparse-3gb.jpg"]["reason"]
    assert any("truncated" in w for w in by_name["truncated.jpg"]["warnings"])
    assert any("EXIF" in w for w in by_name["exif-offset-outside.jpg"]["warnings"])
    assert by_name["png-60000x60000.png"]["thumbnail"] is None  # never decoded
    html = Path(summary["report"]["html"]).read_text(encoding="utf-8")
    assert (
        "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    photo = by_name["script-title.jpg"]["photo_id"]
    page = requests.get(
        f"{sandbox.url}/photos/{sandbox.account.user_nsid}/{photo}/", timeout=10
    ).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    print(f"{len(expected)} hostile files in {elapsed:.1f} s")
    assert elapsed < 120


def test_no_secret_reaches_logs_reports_or_artifacts(flow_env: Path, sandbox, caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    # The session logs at WARNING; this run's INFO lines must reach the API, where a run
    # on a worker is watched.
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        caplog.set_level(logging.INFO, logger=name)
    folder = _folder(flow_env, 6, seed=505)
    _faults(sandbox, faults="lost=0.2,503=0.1,105=0.1")
    try:
        state = ingest({"source": str(folder)}, return_state=True)
    finally:
        _faults(sandbox, faults="")
    summary = state.result()
    run_id = state.state_details.flow_run_id  # this run's, not the newest on the server
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # the run's log lines are on the server before we read them
    secrets = (sandbox.account.api_secret, sandbox.account.oauth_token_secret)
    written = [
        p.read_bytes().decode("utf-8", "replace")
        for p in flow_env.rglob("*")
        if p.is_file() and p.suffix in (".json", ".md", ".html", ".txt", "")
    ]
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import (
            ArtifactFilter,
            ArtifactFilterFlowRunId,
            FlowRunFilter,
            FlowRunFilterId,
            LogFilter,
            LogFilterFlowRunId,
        )

        artifacts = [
            json.dumps(a.data)
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
            )
        ]
        logs = [
            log.message
            for log in client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        ]
        runs = [
            json.dumps(r.parameters)
            for r in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
        ]
    assert artifacts and runs
    assert any("Finished in state" in message for message in logs), logs  # INFO reached it
    everything = "\n".join([*written, *artifacts, *logs, *runs, caplog.text, json.dumps(summary)])
    assert "upload" in everything and len(written) >= 3
    for secret in secrets:
        assert secret not in everything
