"""A run whose credentials Flickr refuses stops at once, before any upload, with one
`Error:` line that names the problem and what to do, and no traceback (issue #15).

Each case is the answer real Flickr gives (recorded: janko/flickr-objects' cassettes,
see tests/sandbox/test_conformance.py): a wrong token secret is an HTTP 401
`oauth_problem=signature_invalid`; a clock two hours off is 401 `timestamp_refused`; a
revoked token is answered in band with error 98."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.photos import jpeg_bytes
from tests.ports import closed_port


def _run(folder: Path, prefect_server: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder)],
        cwd=folder.parent,
        env={**os.environ, "PREFECT_API_URL": prefect_server, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def three_photos(flow_env: Path) -> Path:
    folder = flow_env / "photos"
    folder.mkdir()
    for number in range(3):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(700 + number))
    return folder


def _assert_one_clear_error(run: subprocess.CompletedProcess, *needles: str) -> str:
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert "Traceback" not in output, output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _uploads(sandbox) -> list[dict]:
    return [e for e in sandbox.traffic.entries_since(0) if e["path"].startswith("/services/up")]


def test_a_wrong_token_secret_stops_the_run_with_signature_invalid(
    three_photos: Path, prefect_server: str, sandbox
) -> None:
    started = time.monotonic()
    run = _run(three_photos, prefect_server, FLICKR_OAUTH_TOKEN_SECRET="0" * 16)
    line = _assert_one_clear_error(
        run, "oauth_problem=signature_invalid", "FLICKR_OAUTH_TOKEN_SECRET"
    )
    assert "0" * 16 not in run.stdout + run.stderr  # the secret is never printed
    assert sandbox.account.oauth_token_secret not in line
    assert _uploads(sandbox) == [] and sandbox.state.photos.all_photos() == []
    assert time.monotonic() - started < 60  # at once: no retries of an auth refusal


def test_a_revoked_token_stops_the_run_and_asks_for_a_new_login(
    three_photos: Path, prefect_server: str, sandbox
) -> None:
    account = requests.post(
        f"{sandbox.url}/sandbox/accounts",
        headers=sandbox.admin_headers,
        json={"username": "revoked"},
        timeout=5,
    ).json()
    requests.post(
        f"{sandbox.url}/sandbox/tokens/{account['oauth_token']}/revoke",
        headers=sandbox.admin_headers,
        timeout=5,
    )
    run = _run(
        three_photos,
        prefect_server,
        FLICKR_OAUTH_TOKEN=account["oauth_token"],
        FLICKR_OAUTH_TOKEN_SECRET=account["oauth_token_secret"],
    )
    _assert_one_clear_error(run, "98", "flickr-ingest auth login")
    assert _uploads(sandbox) == [] and sandbox.state.photos.all_photos() == []


def test_a_clock_two_hours_off_stops_the_run_with_timestamp_refused(
    three_photos: Path, prefect_server: str, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Flickr's clock two hours ahead of this machine's is this machine's two hours behind.
    monkeypatch.setattr(sandbox.state.store, "clock", lambda: time.time() + 2 * 3600)
    run = _run(three_photos, prefect_server)
    _assert_one_clear_error(run, "oauth_problem=timestamp_refused", "clock")
    assert _uploads(sandbox) == [] and sandbox.state.photos.all_photos() == []


def test_an_unreachable_flickr_stops_the_run_in_seconds(
    three_photos: Path, prefect_server: str, sandbox
) -> None:
    started = time.monotonic()
    with closed_port() as port:
        run = _run(three_photos, prefect_server, FLICKR_BASE_URL=f"http://127.0.0.1:{port}")
    line = _assert_one_clear_error(run, "ConnectionError talking to 127.0.0.1", "3 tries over")
    assert time.monotonic() - started < 45, line  # was 100 s: six retries with backoff
