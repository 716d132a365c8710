"""Albums end to end: the ingest flow against the sandbox over HTTP.

3 folders × 20 photos, taken on dates that do not follow file names, uploaded 8 at a time:
exactly 3 albums holding exactly their 20 photos, in date-taken order; re-runs, a killed
run and two runs at once change nothing of that.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from flickr_ingest.ledger import CLAIMED, SqliteLedger
from flickr_ingest.ledger.base import album_claim_key
from flickr_ingest.ledger.sqlite import LEDGER_FILE
from flickr_ingest.sandbox import SandboxServer
from tests.flows.cli_runs import start_cli_run
from tests.photos import jpeg_bytes

FOLDERS = ("Harbour", "Mountains", "Old town")
PER_FOLDER = 20


def _make_archive(root: Path) -> dict[str, list[str]]:
    """Photos whose dates taken run backwards against their names; returns, per folder,
    the expected order (by date taken) as file names."""
    expected: dict[str, list[str]] = {}
    for f, folder in enumerate(FOLDERS):
        (root / folder).mkdir(parents=True)
        taken = []
        for n in range(PER_FOLDER):
            name = f"img{n:02d}.jpg"
            # Later names were taken earlier; two photos share a day, not a second.
            day, hour = 28 - n, (n * 7) % 24
            stamp = f"2019:0{f + 3}:{day:02d} {hour:02d}:15:00"
            (root / folder / name).write_bytes(jpeg_bytes(900 + f * 100 + n, taken=stamp))
            taken.append((stamp, name))
        expected[folder] = [name for _, name in sorted(taken)]
    return expected


def _albums(sandbox: SandboxServer) -> list[dict]:
    return requests.get(
        f"{sandbox.url}/sandbox/albums", headers=sandbox.admin_headers, timeout=10
    ).json()["albums"]


def _photos(sandbox: SandboxServer) -> dict[str, dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return {p["id"]: p for p in photos if p["status"] == "active"}


def _check_end_state(sandbox: SandboxServer, expected: dict[str, list[str]]) -> None:
    albums = _albums(sandbox)
    photos = _photos(sandbox)
    assert len(photos) == len(FOLDERS) * PER_FOLDER  # every photo once
    assert sorted(a["title"] for a in albums) == sorted(FOLDERS)  # exactly 3 albums
    for album in albums:
        names = [photos[photo_id]["filename"] for photo_id in album["photo_ids"]]
        assert names == expected[album["title"]], album["title"]  # its 20, by date taken


def _album_calls(sandbox: SandboxServer, method: str) -> int:
    log = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=10
    ).json()["requests"]
    return sum(1 for r in log if r["api_method"] == f"flickr.photosets.{method}")


def _run_flow(folder: Path, **options: object) -> dict:
    from flows.ingest import ingest

    return ingest({"source": str(folder), "concurrency": 8, "album": "folder", **options})


def test_three_folders_make_three_ordered_albums_and_reruns_change_nothing(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    expected = _make_archive(flow_env / "archive")
    summary = _run_flow(flow_env / "archive")
    assert summary["ok"] and summary["totals"]["uploaded"] == 60
    _check_end_state(sandbox, expected)
    # Created once each, while 8 uploads at a time finished: no stray album made and dropped.
    assert _album_calls(sandbox, "create") == 3 and _album_calls(sandbox, "delete") == 0
    # A few REST calls per album, none per photo: create, editPhotos (all the others at
    # once), getPhotos (dates taken), reorderPhotos; and per run: getUploadStatus (who and
    # what quota), getPrivacy (who will see new photos: said before sending), getList.
    assert _album_calls(sandbox, "addPhoto") == 0 and _album_calls(sandbox, "editPhotos") == 3
    rest = {m: n for m, n in summary["api_calls"].items() if m not in ("upload", "replace")}
    assert sum(rest.values()) <= 3 + 4 * len(FOLDERS), rest
    assert summary["api_calls"]["upload"] == 60
    assert {a["title"]: a["photo_count"] for a in summary["albums"]} == dict.fromkeys(
        FOLDERS, PER_FOLDER
    )
    report = json.loads(Path(summary["report"]["json"]).read_text())
    assert report["schema_version"] == 3
    for record in report["files"]:
        assert record["album"] == record["relative_path"].split("/")[0]
        assert record["album_id"] in {a["album_id"] for a in report["albums"]}
    assert all(a["url"].startswith(sandbox.url + "/photos/") for a in report["albums"])
    page = requests.get(report["albums"][0]["url"], timeout=10)
    assert page.status_code == 200 and f"{PER_FOLDER} photo(s)" in page.text

    log_before = requests.get(
        f"{sandbox.url}/sandbox/requests", headers=sandbox.admin_headers, timeout=10
    ).json()
    again = _run_flow(flow_env / "archive")
    assert again["totals"]["already_uploaded"] == 60 and again["totals"]["uploaded"] == 0
    _check_end_state(sandbox, expected)
    assert sorted(a["album_id"] for a in again["albums"]) == sorted(
        a["album_id"] for a in summary["albums"]
    )
    since = log_before["requests"][-1]["seq"] if log_before["requests"] else 0
    calls = requests.get(
        f"{sandbox.url}/sandbox/requests?since={since}", headers=sandbox.admin_headers, timeout=10
    ).json()
    writes = [
        r["api_method"]
        for r in calls["requests"]
        if r["api_method"]
        in ("flickr.photosets.create", "flickr.photosets.addPhoto", "flickr.photosets.editPhotos")
    ]
    assert writes == []  # the re-run created and added nothing


def test_photos_the_uploads_did_not_place_are_completed_and_a_deleted_album_remade(
    flow_env: Path, sandbox: SandboxServer
) -> None:
    expected = _make_archive(flow_env / "archive")
    _run_flow(flow_env / "archive")
    albums = {a["title"]: a for a in _albums(sandbox)}
    # Someone deletes one album on Flickr and takes photos out of another.
    account = sandbox.account
    from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient

    credentials = Credentials(
        account.api_key, account.api_secret, account.oauth_token, account.oauth_token_secret
    )
    with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url)) as client:
        client.delete_album(albums["Harbour"]["id"])
        mountains = albums["Mountains"]["photo_ids"]
        client.delete_album(albums["Mountains"]["id"])
        kept = client.create_album("Mountains", mountains[5])  # the user's own, reused
    summary = _run_flow(flow_env / "archive")
    _check_end_state(sandbox, expected)
    by_title = {a["title"]: a for a in summary["albums"]}
    assert by_title["Mountains"]["album_id"] == kept and by_title["Mountains"]["added"] == 19
    assert by_title["Harbour"]["album_id"] != albums["Harbour"]["id"]


def test_a_killed_run_and_its_rerun_give_the_same_albums(
    flow_env: Path, sandbox: SandboxServer, prefect_server: str
) -> None:
    expected = _make_archive(flow_env / "archive")
    requests.post(
        f"{sandbox.url}/sandbox/faults",
        headers=sandbox.admin_headers,
        json={"latency_ms": 80},
        timeout=5,
    )
    process = start_cli_run(flow_env / "archive", prefect_server, concurrency="8", album="folder")
    deadline = time.monotonic() + 120
    while len(_photos(sandbox)) < 25 and process.poll() is None:
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert _albums(sandbox) == []  # albums are filled at the end of a run: none yet
    requests.post(
        f"{sandbox.url}/sandbox/faults",
        headers=sandbox.admin_headers,
        json={"latency_ms": 0},
        timeout=5,
    )
    rerun = start_cli_run(flow_env / "archive", prefect_server, concurrency="8", album="folder")
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output
    _check_end_state(sandbox, expected)


def test_two_runs_at_once_still_make_three_albums(flow_env: Path, sandbox: SandboxServer) -> None:
    """Both runs reach the album step while the test holds every title's claim in their
    ledger, as a third run creating the albums would: neither touches an album until it
    is let go, and then the titles' claims keep them apart: 3 albums, each created once
    (by one run; the other finds it), none created and dropped."""
    expected = _make_archive(flow_env / "archive")
    ledger = SqliteLedger(flow_env / "state" / LEDGER_FILE)  # the runs' own ledger
    account, holder = _ledger_account(sandbox), "the-test:holds-every-title"
    for title in FOLDERS:
        assert ledger.claim(account, album_claim_key(title), holder) == CLAIMED
    summaries: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            summaries.append(_run_flow(flow_env / "archive"))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    began = datetime.now(UTC)
    try:
        for thread in threads:
            thread.start()
        _wait_until_both_runs_arrange_albums(began, threads)
        time.sleep(1.0)  # several of each run's tries at the claim (one each 0.2 s)
        assert _albums(sandbox) == []
        assert _album_calls(sandbox, "getList") == _album_calls(sandbox, "create") == 0
    finally:
        for title in FOLDERS:
            ledger.release(account, album_claim_key(title), holder)
        ledger.close()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors and len(summaries) == 2
    _check_end_state(sandbox, expected)
    assert _album_calls(sandbox, "create") == 3 and _album_calls(sandbox, "delete") == 0
    made = [album["title"] for s in summaries for album in s["albums"] if album["created"]]
    assert sorted(made) == sorted(FOLDERS)  # each title made by one run only
    ids = [{a["title"]: a["album_id"] for a in s["albums"]} for s in summaries]
    assert ids[0] == ids[1]  # and both runs filed their photos into those same albums
    uploaded = sum(s["totals"]["uploaded"] + s["totals"]["duplicate"] for s in summaries)
    assert uploaded == 60  # each photo uploaded by exactly one of the two runs


def _ledger_account(sandbox: SandboxServer) -> str:
    """The account the runs' ledger records albums under: the Flickr user, at the host
    that serves the API (as a run names it when it connects)."""
    return f"{sandbox.account.user_nsid}@{urlsplit(sandbox.url).netloc}"


def _wait_until_both_runs_arrange_albums(began: datetime, threads: list[threading.Thread]) -> None:
    """Until two flow runs started since `began` have their arrange-albums task running
    (Prefect records the state before the task's code runs, so each is at the album step
    or about to be), or a run has ended early."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        TaskRunFilter,
        TaskRunFilterName,
        TaskRunFilterStartTime,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    arranging = TaskRunFilter(
        name=TaskRunFilterName(like_="arrange-albums"),
        state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.RUNNING])),
        start_time=TaskRunFilterStartTime(after_=began),
    )
    deadline = time.monotonic() + 240
    with get_client(sync_client=True) as client:
        while True:
            runs = {task.flow_run_id for task in client.read_task_runs(task_run_filter=arranging)}
            if len(runs) == 2:
                return
            assert all(thread.is_alive() for thread in threads), (
                "a run ended while the test held every title's claim"
            )
            assert time.monotonic() < deadline, f"{len(runs)} of 2 runs reached the album step"
            time.sleep(0.2)
