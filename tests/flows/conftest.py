"""Flow tests run under one Prefect test harness for the whole session, with Prefect's
home and result storage in a temporary folder (never ~/.prefect)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flickr_ingest.sandbox import SandboxServer
from tests.conftest import flickr_environment


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    home = Path(tempfile.mkdtemp(prefix="prefect-home-"))
    os.environ.update(
        PREFECT_HOME=str(home),
        PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(home / "results"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def flow_env(
    prefect_server: str, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the flow at the test sandbox (as any Flickr-compatible server: base URL and
    credentials) with its state and reports in this test's folder."""
    account = sandbox.account
    for name, value in {
        **flickr_environment(sandbox),
        "FLICKR_INGEST_STATE_DIR": str(tmp_path / "state"),
        "FLICKR_INGEST_REPORT_DIR": str(tmp_path / "reports"),
        "FLICKR_INGEST_RETRY_BACKOFF_SECONDS": "0.05",
        "FLICKR_INGEST_RETRIES": "10",
        "FLICKR_INGEST_API_CALLS_PER_HOUR": "360000",
    }.items():
        monkeypatch.setenv(name, value)
    # Each test starts with no upload throttle left by an earlier test's injected faults.
    from prefect.variables import Variable

    from flows.pacing import VariableThrottleBoard

    Variable.unset(VariableThrottleBoard(account.api_key).name)
    return tmp_path
