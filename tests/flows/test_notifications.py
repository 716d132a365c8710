"""Being told when nobody watches (issue #34): `flickr-ingest setup --notify BLOCK` makes
an automation on the real Prefect server that sends through the block when an ingest
run fails or stops early; here the block is a webhook to a listener on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import get_client

from flows.ingest import ingest
from flows.notifications import AUTOMATION_NAME
from tests.photos import jpeg_bytes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[str]]]:
    """A listener for the notifications: its URL and the texts it received."""
    received: list[str] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            received.append(json.loads(self.rfile.read(length))["text"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _setup(prefect_server: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "setup", *options],
        env={**os.environ, "PREFECT_API_URL": prefect_server},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for(received: list[str], text: str, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [message for message in received if text in message]
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no notification with {text!r} in {seconds} s: {received}")


def test_setup_notify_tells_of_a_failed_run_and_of_one_that_stopped_early(
    flow_env: Path, prefect_server: str, sandbox, webhook: tuple[str, list[str]]
) -> None:
    url, received = webhook
    CustomWebhookNotificationBlock(
        name="tests", url=url, json_data={"text": "{{subject}}\n{{body}}"}
    ).save("ingest-hook", overwrite=True)
    setup = _setup(prefect_server, "--notify", "ingest-hook")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "sent through 'ingest-hook'" in setup.stdout
    try:
        with pytest.raises(Exception, match="no such folder"):
            ingest({"source": str(flow_env / "not-there")})
        assert "prefect.flow-run.Failed" in _wait_for(received, "Failed")

        folder = flow_env / "photos"
        folder.mkdir()
        for number in range(4):
            (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(6100 + number))
        sandbox.state.accounts.set_limits(sandbox.account.user_nsid, max_items=2)
        summary = ingest({"source": str(folder), "concurrency": 1})
        assert summary["totals"]["deferred"] == 2
        stopped = _wait_for(received, "stopped-early")
        assert "quota" in stopped and f"(run {summary['run_id']})" in stopped, stopped
        print(stopped)
    finally:
        with get_client(sync_client=True) as client:
            for automation in client.read_automations_by_name(AUTOMATION_NAME):
                client.delete_automation(automation.id)


def test_setup_notify_with_a_block_that_is_not_there_says_so(prefect_server: str) -> None:
    setup = _setup(prefect_server, "--notify", "no-such-block")
    assert setup.returncode == 1
    assert "Error: no notification block 'no-such-block'" in setup.stderr, setup.stderr
