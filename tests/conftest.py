from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from flickr_ingest.sandbox import SandboxServer, running_sandbox

#: Fixtures that start a Prefect server: every test that uses one is an integration test.
PREFECT_SERVER_FIXTURES = frozenset({"prefect_session_server"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `integration` every test that runs on the session's Prefect server (all flow
    runs do, in this process or in the CLIs and workers they start). Tests that start
    processes or need a machine service in other ways carry the mark themselves."""
    for item in items:
        if PREFECT_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


class FastLaneWatch:
    """What a test outside `integration` did that only integration tests may: start a
    process, or connect to PostgreSQL or Redis. Python's audit events tell it (hooks
    cannot be removed: it listens only between a test's setup and the end of its call).
    multiprocessing's spawn raises no audit event in 3.11: tests that use it carry the
    mark by hand."""

    PROCESS_EVENTS = frozenset(
        {"subprocess.Popen", "os.posix_spawn", "os.fork", "os.forkpty", "os.system", "os.exec"}
    )
    SERVICE_PORTS: ClassVar[dict[int, str]] = {5432: "PostgreSQL", 6379: "Redis"}

    def __init__(self) -> None:
        self.watching = False
        self.seen: list[str] = []

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if not self.watching:
            return
        if event in self.PROCESS_EVENTS:
            self.seen.append(f"{event} {str(args[:2])[:160]}")
        elif event == "socket.connect" and isinstance(address := args[1], tuple):
            service = self.SERVICE_PORTS.get(address[1]) if len(address) >= 2 else None
            if service:
                self.seen.append(f"a connection to {service} at {address[:2]}")

    def begin(self) -> None:
        self.seen, self.watching = [], True

    def end(self) -> list[str]:
        self.watching = False
        return self.seen


FAST_LANE_WATCH = FastLaneWatch()


def pytest_configure(config: pytest.Config) -> None:
    """Runs that keep their state in the per-user folder keep it in this session's
    temporary one, never in the real ~/.local/state (subprocesses inherit it). Tests
    outside `integration` are watched for processes and machine services."""
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="xdg-state-")
    sys.addaudithook(FAST_LANE_WATCH)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if item.get_closest_marker("integration") is None:
        FAST_LANE_WATCH.begin()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        result = yield
    finally:
        seen = FAST_LANE_WATCH.end()
    if seen:
        pytest.fail(
            "a test outside the integration marker started a process or reached a machine"
            " service; mark it @pytest.mark.integration:\n  " + "\n  ".join(seen[:5]),
            pytrace=False,
        )
    return result


def pytest_runtest_teardown(item: pytest.Item) -> None:
    FAST_LANE_WATCH.end()  # a setup that failed never reached the call


def flickr_environment(sandbox: SandboxServer) -> dict[str, str]:
    """The variables that point flickr-ingest at `sandbox` as at any Flickr-compatible
    server: its base URL and its account's credentials."""
    account = sandbox.account
    return {
        "FLICKR_BASE_URL": sandbox.url,
        "FLICKR_API_KEY": account.api_key,
        "FLICKR_API_SECRET": account.api_secret,
        "FLICKR_OAUTH_TOKEN": account.oauth_token,
        "FLICKR_OAUTH_TOKEN_SECRET": account.oauth_token_secret,
    }


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[SandboxServer]:
    """One sandbox for the whole session; tests that need a clean one use `sandbox`."""
    with running_sandbox(seed=7) as server:
        yield server


@pytest.fixture
def sandbox(shared_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The shared sandbox, reset to no photos and no faults before each test."""
    shared_sandbox.state.reset()
    shared_sandbox.traffic.reset()
    from flickr_ingest.sandbox.photos import Behaviour
    from flickr_ingest.sandbox.traffic import TrafficSettings

    shared_sandbox.traffic.update(**TrafficSettings().to_dict())  # every setting's default
    shared_sandbox.state.photos.behaviour = Behaviour(async_delay_seconds=0.2)
    nsid = shared_sandbox.account.user_nsid
    shared_sandbox.state.accounts.set_limits(nsid, **_pro_limits())
    yield shared_sandbox


def _pro_limits() -> dict:
    from dataclasses import asdict

    from flickr_ingest.sandbox.accounts import AccountLimits

    return asdict(AccountLimits.for_plan("pro"))


@pytest.fixture
def credentials(sandbox: SandboxServer):
    from flickr_ingest.flickr import Credentials

    account = sandbox.account
    return Credentials(
        account.api_key, account.api_secret, account.oauth_token, account.oauth_token_secret
    )


@pytest.fixture
def client(sandbox: SandboxServer, credentials):
    from flickr_ingest.flickr import Endpoints, FlickrClient

    with FlickrClient(credentials, endpoints=Endpoints.at(sandbox.url), timeout=(5, 30)) as api:
        yield api


@pytest.fixture(scope="session")
def moto_session_server() -> Iterator[str]:
    """moto's S3/SQS server over HTTP on a loopback port it picks itself (port 0: no
    probe-then-bind race with other processes), for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    server.stop()


@pytest.fixture
def moto_server(moto_session_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's endpoint URL; for this test only, the environment holds its test
    credentials and region (for the clients and processes the test makes)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_session_server


@pytest.fixture
def s3(moto_server: str):
    from flickr_ingest.sources.s3 import make_client

    return make_client(moto_server)


@pytest.fixture
def bucket(s3) -> str:
    import uuid

    name = f"photos-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def run_env(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run in this process (the library's pipeline on its local steps, no Prefect)
    against the test sandbox, with its state and reports in this test's folder."""
    for name, value in {
        **flickr_environment(sandbox),
        "FLICKR_INGEST_STATE_DIR": str(tmp_path / "state"),
        "FLICKR_INGEST_REPORT_DIR": str(tmp_path / "reports"),
        "FLICKR_INGEST_RETRY_BACKOFF_SECONDS": "0.05",
        "FLICKR_INGEST_RETRIES": "10",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path
