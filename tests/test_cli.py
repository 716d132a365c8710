from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import requests

from flickr_ingest.cli import build_parser


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
