"""Kill a run over 200 photos with SIGKILL at 10 random moments, running it again each
time: every photo ends up on the sandbox exactly once, and the last report accounts for
every file."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import requests

from tests.flows.cli_runs import start_cli_run
from tests.photos import jpeg_bytes

PHOTOS = 200
KILLS = 10


def _active(sandbox_url: str) -> list[dict]:
    photos = requests.get(f"{sandbox_url}/sandbox/photos", timeout=10).json()["photos"]
    return [p for p in photos if p["status"] == "active"]


def test_killed_runs_resume_to_exactly_once(flow_env: Path, sandbox, prefect_server: str) -> None:
    folder = flow_env / "archive"
    folder.mkdir()
    for number in range(PHOTOS):
        (folder / f"img{number:03d}.jpg").write_bytes(jpeg_bytes(5000 + number, size=(160, 120)))
    # Slow answers, so that a kill lands in the middle of uploads.
    requests.post(f"{sandbox.url}/sandbox/faults", json={"latency_ms": 120}, timeout=5)
    rng = random.Random(7)
    kills = 0
    try:
        while kills < KILLS:
            before = len(_active(sandbox.url))
            if before >= PHOTOS:
                break
            process = start_cli_run(folder, prefect_server, concurrency="4")
            deadline = time.monotonic() + 120
            target = before + rng.randrange(2, 8)
            while len(_active(sandbox.url)) < target and process.poll() is None:
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
        requests.post(f"{sandbox.url}/sandbox/faults", json={"latency_ms": 0}, timeout=5)

    print(f"{kills} SIGKILLs, then a final run: {PHOTOS} photos, each on the sandbox once")
    assert kills == KILLS
    stored = _active(sandbox.url)
    assert len(stored) == PHOTOS  # exactly once: no duplicates, nothing missing
    assert len({p["sha256"] for p in stored}) == PHOTOS
    reports = sorted((flow_env / "reports").glob("*/report.json"))
    last = json.loads(reports[-1].read_text(encoding="utf-8"))
    assert len(last["files"]) == PHOTOS
    assert {f["status"] for f in last["files"]} <= {"uploaded", "already_uploaded"}
    photo_ids = {f["photo_id"] for f in last["files"]}
    assert photo_ids == {p["id"] for p in stored}
