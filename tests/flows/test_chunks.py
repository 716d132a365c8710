"""A big run in chunk runs, when a chunk run ends without a report (cancelled, or its
worker gone): its files are reported failed with why, for the next run to pick up, and
the run still accounts for every file (issue #19). The chunk runs here have no worker:
the test cancels them as an operator would."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.states import Cancelled

from flows.ingest import ingest
from tests.photos import jpeg_bytes


def _cancel_chunk_runs(deployment_id, expected: int, done: threading.Event) -> None:
    """Cancel each chunk run of `deployment_id` once `expected` of them exist."""
    deadline = time.monotonic() + 120
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
            if len(runs) >= expected:
                for run in runs:
                    client.set_flow_run_state(run.id, Cancelled(), force=True)
                done.set()
                return
            time.sleep(0.2)


def test_chunk_runs_that_end_without_a_report_leave_their_files_failed_with_why(
    flow_env: Path, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment_id = ingest.to_deployment(name="chunks-nobody-runs").apply()
    monkeypatch.setenv("FLICKR_INGEST_CHUNK_DEPLOYMENT", "ingest/chunks-nobody-runs")
    folder = flow_env / "six"
    folder.mkdir()
    for number in range(6):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(7000 + number))
    cancelled = threading.Event()
    canceller = threading.Thread(
        target=_cancel_chunk_runs, args=(deployment_id, 2, cancelled), daemon=True
    )
    canceller.start()
    try:
        summary = ingest({"source": str(folder), "chunk_size": 3})
    finally:
        canceller.join(timeout=130)
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment_id)
    assert cancelled.is_set()
    report = json.loads(Path(summary["report"]["json"]).read_text(encoding="utf-8"))
    files = report["files"]
    assert sorted(f["relative_path"] for f in files) == [f"p{n}.jpg" for n in range(6)]
    assert {f["status"] for f in files} == {"failed"} and not summary["ok"]
    assert all(
        "ended Cancelled without a report; the next run picks this file up" in f["reason"]
        for f in files
    ), [f["reason"] for f in files]
    assert any("chunk runs of up to 3 files" in note for note in report["notes"])
    assert sandbox.state.photos.all_photos() == []


def _run_chunk_runs(deployment_id, expected: int, done: threading.Event) -> None:
    """Run each chunk run of `deployment_id` as a process worker does (`python -m
    prefect.engine` for its flow run id), once `expected` of them exist."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    deadline = time.monotonic() + 120
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
            if len(runs) >= expected:
                for run in runs:
                    subprocess.run(
                        [sys.executable, "-m", "prefect.engine"],
                        env={**os.environ, "PREFECT__FLOW_RUN_ID": str(run.id)},
                        cwd=root,
                        capture_output=True,
                        timeout=180,
                    )
                done.set()
                return
            time.sleep(0.2)


def test_a_100_character_run_id_runs_in_chunks(
    flow_env: Path, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`<run id>-chunk001` is too long for a run id of 92 characters or more: the chunk
    ids are cut to fit (with a hash of the whole id), and every chunk uploads."""
    deployment_id = ingest.to_deployment(name="chunks-long-id").apply()
    monkeypatch.setenv("FLICKR_INGEST_CHUNK_DEPLOYMENT", "ingest/chunks-long-id")
    folder = flow_env / "four"
    # The chunks are runs of a deployment that names no source: the worker allows this one.
    monkeypatch.setenv("FLICKR_INGEST_ALLOWED_SOURCES", str(folder))
    folder.mkdir()
    for number in range(4):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(7100 + number))
    ran = threading.Event()
    runner = threading.Thread(target=_run_chunk_runs, args=(deployment_id, 2, ran), daemon=True)
    runner.start()
    try:
        summary = ingest({"source": str(folder), "chunk_size": 2}, run_id="r" * 100)
    finally:
        runner.join(timeout=400)
        with get_client(sync_client=True) as client:
            client.delete_deployment(deployment_id)
    assert ran.is_set()
    report = json.loads(Path(summary["report"]["json"]).read_text(encoding="utf-8"))
    assert report["run_id"] == "r" * 100
    assert [f["status"] for f in report["files"]] == ["uploaded"] * 4, report["files"]
    assert len(sandbox.state.photos.all_photos()) == 4
