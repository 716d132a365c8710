"""`flickr-ingest auth login|status` against the sandbox: the whole OAuth dance."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from flickr_ingest.sandbox import SandboxServer

pytestmark = pytest.mark.integration  # runs flickr-ingest's CLI in subprocesses


def _env(sandbox: SandboxServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLICKR_", "PREFECT_API"))}
    env.update(
        FLICKR_BASE_URL=sandbox.url,
        FLICKR_INGEST_CREDENTIALS_FILE=str(tmp_path / "credentials.json"),
        PREFECT_HOME=str(tmp_path / "prefect"),
    )
    return env


def _login(sandbox: SandboxServer, tmp_path: Path, *extra: str) -> subprocess.Popen:
    account = sandbox.account
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "auth",
            "login",
            "--api-key",
            account.api_key,
            "--api-secret",
            account.api_secret,
            *extra,
        ],
        env=_env(sandbox, tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _authorize_url(process: subprocess.Popen) -> str:
    while True:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        if "/services/oauth/authorize?" in line:
            return line.strip()


def test_login_with_a_typed_verifier_then_status(sandbox: SandboxServer, tmp_path: Path) -> None:
    process = _login(sandbox, tmp_path)
    page = requests.get(_authorize_url(process), timeout=10).text
    verifier = re.search(r"<code id='oauth-verifier'>([^<]+)</code>", page).group(1)
    out, err = process.communicate(verifier + "\n", timeout=60)
    assert process.returncode == 0, err
    assert f"Logged in as demo ({sandbox.account.user_nsid}) with write permission" in out
    path = tmp_path / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["api_key"] == sandbox.account.api_key and stored["oauth_token"]
    assert stored["base_url"] == sandbox.url  # the token is good on that server only
    # Without FLICKR_BASE_URL now: the stored base URL alone leads nowhere (a planted or
    # stale one would send the secrets there); one clear line says what to set.
    env = {k: v for k, v in _env(sandbox, tmp_path).items() if k != "FLICKR_BASE_URL"}
    requests_before = len(sandbox.traffic.entries_since(0))
    refused = _status(env)
    assert refused.returncode == 1 and not refused.stdout, refused.stdout
    assert (
        refused.stderr.startswith("Error: the credentials in ")
        and "Traceback" not in refused.stderr
    )
    assert f"made on {sandbox.url!r}, not on Flickr" in refused.stderr
    assert len(sandbox.traffic.entries_since(0)) == requests_before  # nothing was sent
    # With FLICKR_BASE_URL naming the same server (a sandbox logged in to on purpose).
    status = _status(_env(sandbox, tmp_path))
    assert status.returncode == 0, status.stderr
    assert "with write permission" in status.stdout
    assert f"on {sandbox.url.split('//')[1]}" in status.stdout
    for secret in (stored["api_secret"], stored["oauth_token_secret"]):
        assert secret not in status.stdout + status.stderr + out + err + refused.stderr


def _status(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "auth", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_login_catching_the_callback(sandbox: SandboxServer, tmp_path: Path) -> None:
    process = _login(sandbox, tmp_path, "--callback")
    answer = requests.get(_authorize_url(process), timeout=10)  # follows the redirect home
    assert "authorized" in answer.text
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Logged in as demo" in out


def test_status_without_credentials(sandbox: SandboxServer, tmp_path: Path) -> None:
    env = _env(sandbox, tmp_path)
    status = subprocess.run(
        [sys.executable, "-m", "flows.cli", "auth", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 1 and "Not logged in" in status.stdout
