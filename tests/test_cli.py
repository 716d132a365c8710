from __future__ import annotations

import json
import subprocess
import sys
import time

import requests

from flickr_ingest.cli import build_parser


def test_every_command_has_help_text() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0]  # argparse keeps them here
    for name, subparser in commands.choices.items():
        assert subparser.description, f"{name} has no description"
        for action in subparser._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.dest} has no help"


def test_sandbox_command_prints_its_account_and_serves() -> None:
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flickr_ingest.cli",
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


def test_bad_fault_spec_is_a_one_line_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flickr_ingest.cli", "sandbox", "--faults", "lost=2"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: bad fault 'lost=2'")
