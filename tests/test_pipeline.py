"""A whole run in this process, no Prefect: the library's pipeline on its local steps
(`flickr_ingest/pipeline.py`) against the test sandbox over HTTP. The run's promises are
the pipeline's, so they are shown here, in seconds: each file sent once (also when
answers are lost), a stopped run defers what it did not send and the next run finishes,
an edit replaces its photo once, a file gone is reported missing, albums are made once,
and a run interrupted mid-upload still accounts for every file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests

from flickr_ingest import pipeline
from flickr_ingest.planning import Decision
from flickr_ingest.progress import RunListener
from flickr_ingest.report.model import FileRecord, RunReport
from flickr_ingest.sandbox import SandboxServer
from flickr_ingest.settings import IngestSettings
from tests.photos import edited_jpeg_bytes, jpeg_bytes

TAKEN = "2020:05:01 10:00:00"


def _run(source: Path, listener: RunListener | None = None, **settings: object) -> RunReport:
    run_settings = IngestSettings.from_environment(source=str(source), **settings)
    report, _ = pipeline.ingest(run_settings, f"run-{_run.count}", listener=listener)
    _run.count += 1
    return report


_run.count = 0  # type: ignore[attr-defined]


def _totals(report: RunReport) -> dict[str, int]:
    return {status: count for status, count in report.totals.items() if count}


def _by_path(report: RunReport) -> dict[str, FileRecord]:
    return {record.relative_path: record for record in report.files}


def _photos(sandbox: SandboxServer) -> dict[str, dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return {photo["id"]: photo for photo in photos if photo["status"] == "active"}


def _requests(sandbox: SandboxServer, prefix: str) -> int:
    log = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=10
    ).json()
    return sum(1 for entry in log["requests"] if entry["path"].startswith(prefix))


def _archive(folder: Path, count: int = 6) -> Path:
    (folder / "trip").mkdir(parents=True)
    for n in range(count):
        where = folder / "trip" if n < count // 2 else folder
        (where / f"img{n}.jpg").write_bytes(jpeg_bytes(6100 + n, taken=TAKEN))
    return folder


def test_each_file_is_sent_once_also_when_answers_are_lost(
    run_env: Path, sandbox: SandboxServer
) -> None:
    folder = _archive(run_env / "archive", count=12)
    sandbox.traffic.update(faults="lost=0.15,reset=0.05,500=0.05")
    first = _run(folder, concurrency=4)
    sandbox.traffic.update(faults="")
    assert _totals(first) == {"uploaded": 12}, _totals(first)
    photos = _photos(sandbox)
    assert len(photos) == 12 and {r.photo_id for r in first.files} == set(photos)
    again = _run(folder)
    assert _totals(again) == {"already_uploaded": 12} and len(_photos(sandbox)) == 12


def test_a_stopped_run_defers_the_rest_and_the_next_run_finishes(
    run_env: Path, sandbox: SandboxServer
) -> None:
    """The month's bandwidth runs out after the plan was made (another uploader on the
    account): Flickr refuses the third file, the run stops uploading and defers the rest."""
    folder = run_env / "archive"
    folder.mkdir()
    files = [jpeg_bytes(6200 + n, size=(320, 240)) for n in range(6)]
    for n, data in enumerate(files):
        (folder / f"q{n}.jpg").write_bytes(data)
    nsid = sandbox.account.user_nsid
    stops: list[str] = []

    class Listener(RunListener):
        def planned(self, decisions: Sequence[Decision]) -> None:
            sandbox.state.accounts.set_limits(
                nsid, monthly_bandwidth_bytes=sum(map(len, files[:2]))
            )

        def stopped_early(self, reason: str) -> None:
            stops.append(reason)

    try:
        first = _run(folder, Listener(), concurrency=1)
    finally:
        sandbox.state.accounts.set_limits(nsid, monthly_bandwidth_bytes=None)
    sent, deferred = _totals(first).get("uploaded", 0), _totals(first).get("deferred", 0)
    assert sent >= 1 and deferred >= 3 and sent + deferred == 6, _totals(first)
    assert len(stops) == 1 and "quota" in stops[0]
    assert any(note.startswith("Uploading stopped early") for note in first.notes)
    second = _run(folder)
    assert _totals(second) == {"already_uploaded": sent, "uploaded": deferred}, _totals(second)
    assert len(_photos(sandbox)) == 6


def test_an_edit_replaces_its_photo_once_even_when_the_answer_is_lost(
    run_env: Path, sandbox: SandboxServer
) -> None:
    folder = _archive(run_env / "archive")
    photo_id = _by_path(_run(folder))["trip/img1.jpg"].photo_id
    (folder / "trip" / "img1.jpg").write_bytes(edited_jpeg_bytes(6101, taken=TAKEN))
    sandbox.traffic.update(next_upload_faults=("lost",))  # carried out, answer dropped
    record = _by_path(_run(folder))["trip/img1.jpg"]
    assert record.status == "replaced" and record.photo_id == photo_id
    assert "an earlier attempt had replaced it" in (record.reason or "")
    assert _requests(sandbox, "/services/replace") == 1
    assert _by_path(_run(folder))["trip/img1.jpg"].status == "already_uploaded"
    assert len(_photos(sandbox)) == 6


def test_a_moved_file_is_known_and_a_file_gone_is_missing(
    run_env: Path, sandbox: SandboxServer
) -> None:
    folder = _archive(run_env / "archive")
    first = _by_path(_run(folder))
    (folder / "trip" / "img0.jpg").rename(folder / "img0-moved.jpg")
    (folder / "img5.jpg").unlink()
    second = _by_path(_run(folder))
    moved = second["img0-moved.jpg"]
    assert moved.status == "already_uploaded" and moved.photo_id == first["trip/img0.jpg"].photo_id
    assert "moved from trip/img0.jpg" in (moved.reason or "")
    gone = second["img5.jpg"]
    assert gone.status == "missing" and gone.photo_id == first["img5.jpg"].photo_id
    assert "trip/img0.jpg" not in second  # the move was learned: not missing
    assert len(_photos(sandbox)) == 6  # nothing deleted, nothing sent again


def test_albums_are_made_once_and_reruns_change_nothing(
    run_env: Path, sandbox: SandboxServer
) -> None:
    folder = _archive(run_env / "archive")
    first = _run(folder, album="folder", concurrency=4)
    assert {a.title: a.photo_count for a in first.albums} == {"trip": 3, "archive": 3}
    assert all(r.album in ("trip", "archive") and r.album_id for r in first.files)
    second = _run(folder, album="folder")
    assert {a.album_id for a in second.albums} == {a.album_id for a in first.albums}
    assert _requests(sandbox, "/services/rest") and _album_creates(sandbox) == 2


def _album_creates(sandbox: SandboxServer) -> int:
    log = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=10
    ).json()
    return sum(
        1 for entry in log["requests"] if entry.get("api_method") == "flickr.photosets.create"
    )


def test_a_run_interrupted_mid_upload_accounts_for_every_file(
    run_env: Path, sandbox: SandboxServer
) -> None:
    folder = _archive(run_env / "archive", count=10)
    heard: list[FileRecord] = []

    class StopAfterThree(RunListener):
        def planned(self, decisions: Sequence[Decision]) -> None:
            self.files = len(decisions)

        def finished(self, record: FileRecord) -> None:
            heard.append(record)
            if len(heard) == 3:
                raise KeyboardInterrupt  # as Ctrl-C lands in the run's thread

    with pytest.raises(KeyboardInterrupt):
        _run(folder, StopAfterThree(), concurrency=1)
    reports = list((run_env / "reports").glob("*/report.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert len(report["files"]) == 10  # every file has its record
    statuses = {f["relative_path"]: f["status"] for f in report["files"]}
    assert set(statuses.values()) <= {"uploaded", "deferred"}
    assert len(heard) == 10  # the listener heard every record the report has
    sent = [f for f in report["files"] if f["status"] == "uploaded"]
    assert {f["photo_id"] for f in sent} == set(_photos(sandbox))  # nothing sent unrecorded
    assert _totals(_run(folder)).get("uploaded", 0) == 10 - len(sent)


def test_a_dry_run_plans_and_sends_nothing(run_env: Path, sandbox: SandboxServer) -> None:
    folder = _archive(run_env / "archive")
    report = _run(folder, dry_run=True, album="folder")
    assert _totals(report) == {"planned": 6} and report.dry_run
    assert all(r.album in ("trip", "archive") for r in report.files)
    assert _photos(sandbox) == {}
