"""Killed runs. First the dangerous moment made to happen: Flickr has stored a photo and
the run is killed before it hears so; the next run must find that photo, not send it
again. Then a run over 200 photos killed with SIGKILL at 10 random moments, run again
each time: every photo ends up on the sandbox exactly once, and the last report accounts
for every file."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import requests

from flickr_ingest.sandbox import SandboxServer
from tests.flows.cli_runs import start_cli_run
from tests.photos import jpeg_bytes

PHOTOS = 100
KILLS = 5  # the dangerous moment itself is made on purpose in the test above


def _active(sandbox: SandboxServer) -> list[dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return [p for p in photos if p["status"] == "active"]


def test_a_run_killed_after_flickr_stored_a_photo_finds_it_and_sends_it_once(
    flow_env: Path, sandbox, prefect_server: str
) -> None:
    folder = flow_env / "six"
    folder.mkdir()
    for number in range(6):
        (folder / f"img{number}.jpg").write_bytes(jpeg_bytes(7100 + number, size=(160, 120)))
    # The first upload is stored, then its answer is held back: the kill lands in between.
    sandbox.traffic.update(next_faults=("stalled",), stall_seconds=60)
    process = start_cli_run(folder, prefect_server, concurrency="1")
    deadline = time.monotonic() + 120
    while not _active(sandbox):
        assert process.poll() is None and time.monotonic() < deadline, "nothing was stored"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    killed_at = time.time()
    [stored_first] = _active(sandbox)  # the run never heard of it

    again = start_cli_run(folder, prefect_server, concurrency="1")
    output, _ = again.communicate(timeout=300)
    assert again.returncode == 0, output

    stored = _active(sandbox)
    assert len(stored) == 6 and len({p["sha256"] for p in stored}) == 6
    report = json.loads(sorted((flow_env / "reports").glob("*/report.json"))[-1].read_text())
    [found] = [f for f in report["files"] if f["photo_id"] == stored_first["id"]]
    assert found["status"] == "uploaded"
    assert found["reason"] == "an earlier attempt had landed (found by checksum tag)"
    # The recovery path ran: a look-up by checksum tag, and five uploads, not six.
    after = [e for e in sandbox.traffic.entries_since(0) if e["time"] > killed_at]
    assert any(e["api_method"] == "flickr.photos.search" for e in after)
    assert sum(1 for e in after if e["path"].startswith("/services/upload")) == 5


def test_killed_runs_resume_to_exactly_once(flow_env: Path, sandbox, prefect_server: str) -> None:
    folder = flow_env / "archive"
    folder.mkdir()
    for number in range(PHOTOS):
        (folder / f"img{number:03d}.jpg").write_bytes(jpeg_bytes(5000 + number, size=(160, 120)))
    # Slow answers, so that a kill lands in the middle of uploads.
    requests.post(
        f"{sandbox.url}/sandbox/faults",
        headers=sandbox.admin_headers,
        json={"latency_ms": 120},
        timeout=5,
    )
    rng = random.Random(7)
    kills = 0
    try:
        while kills < KILLS:
            before = len(_active(sandbox))
            if before >= PHOTOS:
                break
            process = start_cli_run(folder, prefect_server, concurrency="4")
            deadline = time.monotonic() + 120
            target = before + rng.randrange(2, 8)
            while len(_active(sandbox)) < target and process.poll() is None:
                assert time.monotonic() < deadline, "the run made no progress"
                time.sleep(0.05)
            time.sleep(rng.random() * 0.3)  # somewhere inside the next uploads
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                kills += 1
            process.wait(timeout=30)
        final = start_cli_run(folder, prefect_server, concurrency="4")
        output, _ = final.communicate(timeout=300)
        assert final.returncode == 0, output
    finally:
        requests.post(
            f"{sandbox.url}/sandbox/faults",
            headers=sandbox.admin_headers,
            json={"latency_ms": 0},
            timeout=5,
        )

    print(f"{kills} SIGKILLs, then a final run: {PHOTOS} photos, each on the sandbox once")
    assert kills == KILLS
    stored = _active(sandbox)
    assert len(stored) == PHOTOS  # exactly once: no duplicates, nothing missing
    assert len({p["sha256"] for p in stored}) == PHOTOS
    reports = sorted((flow_env / "reports").glob("*/report.json"))
    last = json.loads(reports[-1].read_text(encoding="utf-8"))
    assert len(last["files"]) == PHOTOS
    assert {f["status"] for f in last["files"]} <= {"uploaded", "already_uploaded"}
    photo_ids = {f["photo_id"] for f in last["files"]}
    assert photo_ids == {p["id"] for p in stored}
    # Each killed run left its records so far on disk (written as files were accounted
    # for, up to its last second): every photo they name as uploaded is on the sandbox.
    journals = list((flow_env / "state" / "tmp").glob("*/records.jsonl"))
    assert len(journals) == KILLS
    journaled = [json.loads(line) for path in journals for line in path.read_text().splitlines()]
    assert {r["photo_id"] for r in journaled if r["status"] == "uploaded"} <= photo_ids
