from __future__ import annotations

from collections.abc import Iterator

import pytest

from flickr_ingest.sandbox import SandboxServer, running_sandbox


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[SandboxServer]:
    """One sandbox for the whole session; tests that need a clean one use `sandbox`."""
    with running_sandbox(seed=7) as server:
        yield server


@pytest.fixture
def sandbox(shared_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The shared sandbox, reset to no photos and no faults before each test."""
    shared_sandbox.state.reset()
    shared_sandbox.traffic.clear_log()
    shared_sandbox.traffic.update(
        faults={},
        latency_ms=0,
        bandwidth_mbps=None,
        per_connection_mbps=None,
        rate_limit_calls=None,
    )
    shared_sandbox.state.photos.behaviour.async_delay_seconds = 0.2
    shared_sandbox.state.photos.behaviour.async_failure_rate = 0.0
    nsid = shared_sandbox.account.user_nsid
    shared_sandbox.state.accounts.set_limits(nsid, **_pro_limits())
    yield shared_sandbox


def _pro_limits() -> dict:
    from dataclasses import asdict

    from flickr_ingest.sandbox.accounts import AccountLimits

    return asdict(AccountLimits.for_plan("pro"))
