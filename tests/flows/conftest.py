"""Flow tests share one Prefect server for the whole session, with Prefect's home and
result storage in a temporary folder (never ~/.prefect). The server's settings reach a
test's environment only while that test runs (`prefect_server`), so no test sees them
by running after another."""

from __future__ import annotations

import contextlib
import inspect
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flickr_ingest.sandbox import SandboxServer
from tests.conftest import flickr_environment
from tests.prefect_servers import running_prefect_server


@pytest.fixture(scope="session")
def prefect_session_server() -> Iterator[dict[str, str]]:
    """The session's Prefect server, and the settings that point a process at it. This
    process's Prefect is pointed at it through Prefect's settings context, as
    `prefect_test_harness` does, not through the environment."""
    home = Path(tempfile.mkdtemp(prefix="prefect-home-"))
    settings = {
        "PREFECT_HOME": str(home),
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "results"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",  # for the CLIs and workers that tests start
    }
    with running_prefect_server(home, settings) as (api_url, _):
        import prefect.context
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_HOME,
            PREFECT_RESULTS_LOCAL_STORAGE_PATH,
            temporary_settings,
        )

        in_process = {
            PREFECT_API_URL: api_url,
            PREFECT_HOME: str(home),
            PREFECT_RESULTS_LOCAL_STORAGE_PATH: str(home / "results"),
        }
        # Also for contexts copied before now, as Prefect's harness does.
        global_context = prefect.context._temporary_global_settings_context
        with (
            temporary_settings(updates=in_process),
            global_context(prefect.context.get_settings_context()),
        ):
            yield {**settings, "PREFECT_API_URL": api_url}
            _drain_prefect_workers()


def _drain_prefect_workers() -> None:
    """Send the logs and events still queued before the server stops (the drains
    return awaitables inside an event loop, as in Prefect's harness)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        with contextlib.suppress(RuntimeError):  # the log worker never started
            logs = APILogWorker.instance().drain()
            if inspect.isawaitable(logs):
                await logs
        events = EventsWorker.drain_all()
        if inspect.isawaitable(events):
            await events

    run_coro_as_sync(drain())


@pytest.fixture
def prefect_server(prefect_session_server: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's Prefect API URL; for this test only, the environment points at it
    too (for the CLIs and workers it starts)."""
    for name, value in prefect_session_server.items():
        monkeypatch.setenv(name, value)
    return prefect_session_server["PREFECT_API_URL"]


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
