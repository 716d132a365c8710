from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from flows.cli import build_parser


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict:
    """Every (sub)command's parser, by its full name."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                found[prefix + name] = subparser
                found.update(_commands(subparser, prefix + name + " "))
    return found


def test_every_command_has_help_text_and_is_documented() -> None:
    commands = _commands(build_parser())
    assert {"run", "demo", "auth", "auth login", "auth status", "sandbox"} <= set(commands)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for name, subparser in commands.items():
        assert subparser.description, f"{name} has no description"
        assert f"flickr-ingest {name}" in readme, f"README does not show `flickr-ingest {name}`"
        for action in subparser._actions:
            if action.dest not in ("help", "action") and not isinstance(
                action, argparse._SubParsersAction
            ):
                assert action.help, f"{name} {action.dest} has no help"


@pytest.mark.integration  # runs flickr-ingest's CLI in subprocesses
def test_sandbox_command_prints_its_account_and_serves() -> None:
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "sandbox",
            "--api-key",
            "k" * 32,
            "--api-secret",
            "s" * 16,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        account = json.loads(process.stdout.readline())
        elapsed = time.monotonic() - started
        assert set(account) == {
            "url",
            "api_key",
            "api_secret",
            "oauth_token",
            "oauth_token_secret",
            "user_nsid",
            "username",
            "admin_token",  # for /sandbox/*, always (issue #30)
        }
        assert account["api_key"] == "k" * 32 and account["api_secret"] == "s" * 16
        echo = requests.get(
            f"{account['url']}/services/rest/",
            params={
                "method": "flickr.test.echo",
                "api_key": account["api_key"],
                "format": "json",
                "nojsoncallback": "1",
            },
            timeout=5,
        ).json()
        assert echo["stat"] == "ok"
        print(f"sandbox ready in {elapsed:.2f}s")
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


@pytest.mark.integration  # runs flickr-ingest's CLI in subprocesses
def test_bad_fault_spec_is_a_one_line_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "sandbox", "--faults", "lost=2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: bad fault 'lost=2'")


def _without_prefect_api(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    return env


def _server(action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "server", action],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.integration  # runs flickr-ingest's CLI in subprocesses
def test_server_status_and_stop_when_none_runs_and_after_a_stale_record(tmp_path: Path) -> None:
    env = _without_prefect_api(tmp_path)
    status = _server("status", env)
    assert status.returncode == 1, status.stderr
    assert "No local Prefect server is running" in status.stdout
    # A record left by a server that is gone (a reboot, a kill -9) means none runs.
    no_such_pid = 2**22 + 1  # above Linux's highest possible pid
    record = tmp_path / "flickr-ingest-server.json"
    record.write_text(
        json.dumps({"pid": no_such_pid, "url": "http://127.0.0.1:9", "log": "", "started_at": ""})
    )
    assert _server("status", env).returncode == 1
    stop = _server("stop", env)
    assert stop.returncode == 0 and "No local Prefect server is running" in stop.stdout
    assert not record.exists()


@pytest.mark.integration  # runs flickr-ingest's CLI in subprocesses
def test_server_stop_stops_the_recorded_server_and_nothing_else(tmp_path: Path) -> None:
    """A recorded pid is stopped only if it is a Prefect server: after a reboot the
    number may belong to an unrelated process."""
    env = _without_prefect_api(tmp_path)
    record = tmp_path / "flickr-ingest-server.json"
    sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
    unrelated = subprocess.Popen(sleep)
    server = subprocess.Popen([*sleep, "prefect.server.api.server:create_app"])  # looks like one
    try:
        fields = {"url": "http://127.0.0.1:9", "log": "", "started_at": ""}
        record.write_text(json.dumps({"pid": unrelated.pid, **fields}))
        assert _server("status", env).returncode == 1
        assert "No local Prefect server" in _server("stop", env).stdout
        assert unrelated.poll() is None

        record.write_text(json.dumps({"pid": server.pid, **fields}))
        status = _server("status", env)
        assert status.returncode == 0 and "starting (or not answering)" in status.stdout
        stop = _server("stop", env)
        assert f"Stopped the local Prefect server at http://127.0.0.1:9 (pid {server.pid})" in (
            stop.stdout
        )
        assert server.wait(timeout=10) == -signal.SIGTERM and not record.exists()
    finally:
        unrelated.kill()
        server.kill()
