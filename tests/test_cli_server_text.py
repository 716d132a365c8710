"""Text from a server reaches the terminal with its escapes shown, never obeyed: a
hostile Flickr-compatible server's error message and account names, through the CLI's
one `Error:` line and `auth status`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_server import Answer, hostile_server

pytestmark = pytest.mark.integration  # runs flickr-ingest's CLI in subprocesses

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202eall is well"


def _auth_status(url: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FLICKR_"))},
        "FLICKR_BASE_URL": url,
        "FLICKR_API_KEY": "key",
        "FLICKR_API_SECRET": "api-secret",
        "FLICKR_OAUTH_TOKEN": "token",
        "FLICKR_OAUTH_TOKEN_SECRET": "token-secret",
        "HOME": str(cwd),
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "auth", "status"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_servers_error_message_is_escaped_on_the_error_line(tmp_path: Path) -> None:
    with hostile_server() as server:
        message = json.dumps({"stat": "fail", "code": 1, "message": ESCAPES})
        server.answer = Answer(200, body=message.encode())
        done = _auth_status(server.url, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stderr + done.stdout and "\x07" not in done.stderr
    assert "\u202e" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line == "Error: Flickr error 1: \\x1b]0;pwned\\x07\\x1b[2JU+202Eall is well"


def test_auth_status_escapes_the_names_a_server_gives(tmp_path: Path) -> None:
    oauth = {"perms": {"_content": "write\x1b[8m"}, "user": {"nsid": "1@N01", "username": ESCAPES}}
    with hostile_server() as server:
        server.answer = Answer(200, body=json.dumps({"stat": "ok", "oauth": oauth}).encode())
        done = _auth_status(server.url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "Logged in as \\x1b]0;pwned\\x07\\x1b[2JU+202Eall is well (1@N01)" in done.stdout
    assert "write\\x1b[8m permission" in done.stdout
