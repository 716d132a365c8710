"""Waits from outside are capped: a run is never stalled by a wait a server names
(Flickr's upload wait time) or by a throttle episode planted in the shared Prefect
Variable. Past the cap the run does not wait: the file is deferred with why, and the rest
with it, as when the quota is used up."""

from __future__ import annotations

import json
import time
from pathlib import Path

from prefect.variables import Variable

from flows.ingest import ingest
from flows.pacing import VariableThrottleBoard
from tests.photos import jpeg_bytes

_YEARS = 10**8  # seconds: three years


def _folder(root: Path, count: int, seed: int) -> Path:
    folder = root / "photos"
    folder.mkdir()
    for number in range(count):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(seed + number))
    return folder


def _report(summary: dict) -> dict:
    return json.loads(Path(summary["report"]["json"]).read_text(encoding="utf-8"))


def test_a_planted_throttle_variable_does_not_stall_a_run(flow_env: Path, sandbox) -> None:
    folder = _folder(flow_env, 3, seed=2800)
    board = VariableThrottleBoard(sandbox.account.api_key)
    Variable.set(board.name, {"until": time.time() + _YEARS, "level": 1.0}, overwrite=True)
    began = time.monotonic()
    try:
        report = _report(ingest({"source": str(folder), "concurrency": 1}))
    finally:
        Variable.unset(board.name)
    assert time.monotonic() - began < 120
    assert {s: n for s, n in report["totals"].items() if n} == {"deferred": 3}, report["totals"]
    reasons = [f["reason"] for f in report["files"]]
    assert all("the shared upload throttle; asked to wait" in r for r in reasons), reasons
    assert all("more than the 15-minute maximum: not waited" in r for r in reasons), reasons
    assert any("Uploading stopped early" in note for note in report["notes"])
    assert sandbox.state.photos.all_photos() == []


def test_flickrs_upload_wait_time_past_the_cap_defers_the_rest(flow_env: Path, sandbox) -> None:
    folder = _folder(flow_env, 3, seed=2810)
    sandbox.traffic.update(capacity_wait_seconds=_YEARS, next_faults=("14",))
    began = time.monotonic()
    report = _report(ingest({"source": str(folder), "concurrency": 1}))
    assert time.monotonic() - began < 120
    assert {s: n for s, n in report["totals"].items() if n} == {"deferred": 3}, report["totals"]
    [first] = [f for f in report["files"] if f["error_code"] == 14]
    assert first["reason"].startswith("not waited: Flickr error 14:"), first
    assert "asked to wait 1,157 days" in first["reason"]
    assert first["attempts"] == 1  # not retried
    others = [f["reason"] for f in report["files"] if f is not first]
    assert all(r.startswith("not attempted: Flickr error 14") for r in others), others
