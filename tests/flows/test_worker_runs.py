"""Runs of a deployment on a real `prefect worker` (a process work pool), which runs each
flow run in a temporary folder it deletes afterwards (issue #28): the ledger lives in the
worker user's state folder, so a second run sends nothing; reports land where the
deployment says and stay; a run that would keep state in the temporary folder, or read or
write outside what the deployment was set up for, is refused before it touches anything."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.deployments import run_deployment
from prefect.deployments.runner import EntrypointType
from prefect.exceptions import ObjectAlreadyExists

from flows.ingest import ingest
from tests.conftest import flickr_environment
from tests.photos import jpeg_bytes

POOL = "worker-runs-test"


@pytest.fixture
def worker(prefect_server: str, sandbox, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A process worker of its own pool, with the sandbox's credentials and state in a
    per-test user state folder (no FLICKR_INGEST_STATE_DIR: the default)."""
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
    env = {
        name: value for name, value in os.environ.items() if not name.startswith("FLICKR_INGEST_")
    }
    env.update(
        flickr_environment(sandbox),
        PREFECT_API_URL=prefect_server,
        PREFECT_WORKER_QUERY_SECONDS="1",
        XDG_STATE_HOME=str(tmp_path / "worker-state"),
        FLICKR_INGEST_API_CALLS_PER_HOUR="360000",
    )
    process = subprocess.Popen(
        ["prefect", "worker", "start", "--pool", POOL, "--type", "process"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield env
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _deployment(name: str, settings: dict[str, str], job_env: dict[str, str] | None = None):
    return ingest.to_deployment(
        name=name,
        work_pool_name=POOL,
        # The installed package's module, as deployments/prefect.yaml names it: the
        # worker's temporary folder holds no code.
        entrypoint_type=EntrypointType.MODULE_PATH,
        parameters={"settings": settings},
        job_variables={"env": job_env or {}},
    ).apply()


def _run(deployment_id, **settings: object):
    """A run of the deployment; with `settings`, those instead of the deployment's (as
    anyone who may create flow runs could ask)."""
    parameters = {"settings": settings} if settings else None
    flow_run = run_deployment(deployment_id, parameters=parameters, timeout=300, poll_interval=1)
    return flow_run


def _report_paths(flow_run_id) -> list[Path]:
    """The report files the run's `ingest-report` artifact names."""
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    [report] = [a for a in artifacts if a.key == "ingest-report"]
    lines = re.findall(r"^- (?:html|json|markdown): (.+)$", report.data, re.MULTILINE)
    return [Path(re.sub(r"\\(.)", r"\1", line)) for line in lines]  # markdown escapes undone


def test_a_deployment_on_a_worker_keeps_its_ledger_and_reports(
    worker: dict[str, str], sandbox, tmp_path: Path
) -> None:
    folder, reports = tmp_path / "inbox", tmp_path / "reports"
    folder.mkdir()
    for number in range(3):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(5200 + number))
    deployment_id = _deployment("worker-twice", {"source": str(folder), "report_dir": str(reports)})

    first, second = _run(deployment_id), _run(deployment_id)

    assert first.state.is_completed() and second.state.is_completed(), (first.state, second.state)
    assert len(sandbox.state.photos.all_photos()) == 3  # the second run sent nothing
    statuses = []
    for flow_run in (first, second):
        paths = _report_paths(flow_run.id)
        assert paths and all(path.is_file() for path in paths), paths  # as the artifact says
        assert all(path.is_relative_to(reports) for path in paths)
        report = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
        statuses.append({f["status"] for f in report["files"]})
    assert statuses == [{"uploaded"}, {"already_uploaded"}]
    assert (tmp_path / "worker-state" / "flickr-ingest" / "ledger.sqlite3").is_file()


def test_a_deployment_with_a_relative_state_folder_is_refused(
    worker: dict[str, str], sandbox, tmp_path: Path
) -> None:
    folder, reports = tmp_path / "inbox", tmp_path / "reports"
    folder.mkdir()
    (folder / "p.jpg").write_bytes(jpeg_bytes(5300))
    deployment_id = _deployment(
        "worker-relative-state",
        {"source": str(folder), "report_dir": str(reports)},
        job_env={"FLICKR_INGEST_STATE_DIR": "flickr-ingest-state"},
    )

    flow_run = _run(deployment_id)

    assert flow_run.state.is_failed()
    assert "FLICKR_INGEST_STATE_DIR" in str(flow_run.state.message), flow_run.state
    assert sandbox.state.photos.all_photos() == [] and not reports.exists()


def test_a_flow_run_cannot_point_a_deployment_elsewhere(
    worker: dict[str, str], sandbox, tmp_path: Path
) -> None:
    watched, reports = tmp_path / "inbox", tmp_path / "reports"
    private, open_folder = tmp_path / "private", tmp_path / "world-readable"
    for folder in (watched, private):
        folder.mkdir()
    (private / "secret.jpg").write_bytes(jpeg_bytes(5400))
    deployment_id = _deployment(
        "worker-confined", {"source": str(watched), "report_dir": str(reports)}
    )

    outside_source = _run(deployment_id, source=str(private), report_dir=str(reports))
    outside_reports = _run(deployment_id, source=str(watched), report_dir=str(open_folder))

    assert outside_source.state.is_failed() and outside_reports.state.is_failed()
    assert "outside what this deployment may read" in str(outside_source.state.message)
    assert "outside the configured report location" in str(outside_reports.state.message)
    assert sandbox.state.photos.all_photos() == []
    assert not reports.exists() and not open_folder.exists()  # nothing written
