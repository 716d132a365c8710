"""Every failure the CLI can meet ends in one `Error: …` line and exit status 1, with no
traceback, before anything is uploaded and within seconds (issue #17). Each case is run
as a user types it, in a process of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.photos import jpeg_bytes
from tests.ports import closed_port

pytestmark = pytest.mark.integration  # runs flickr-ingest's CLI in subprocesses


def _cli(*args: str, cwd: Path, **env: str | None) -> subprocess.CompletedProcess:
    """`env` changes the environment; a None value removes that variable."""
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env={name: value for name, value in environment.items() if value is not None},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_error(run: subprocess.CompletedProcess) -> str:
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(5))
    return folder


@pytest.fixture
def unused_port() -> Iterator[int]:
    with closed_port() as port:
        yield port


def test_an_unwritable_report_folder_stops_before_any_upload(photos: Path) -> None:
    (photos.parent / "a-file").write_text("not a folder")
    state_home = photos.parent / "xdg"
    run = _cli(
        "run",
        str(photos),
        "--report-dir",
        "a-file/reports",
        cwd=photos.parent,
        XDG_STATE_HOME=str(state_home),
    )
    line = _one_error(run)
    assert "report folder (--report-dir) 'a-file/reports'" in line and "Not a directory" in line
    assert not (state_home / "flickr-ingest" / "sandbox").exists()  # nothing started


def test_a_state_folder_that_cannot_be_made(photos: Path) -> None:
    line = _one_error(_cli("run", str(photos), "--state-dir", "/proc/nope", cwd=photos.parent))
    assert "state folder (--state-dir) '/proc/nope'" in line


def test_an_s3_endpoint_that_is_not_a_url(photos: Path) -> None:
    run = _cli("run", "s3://bucket/x", "--s3-endpoint-url", "not a url", cwd=photos.parent)
    assert "'not a url' is not an http(s) URL" in _one_error(run)


def test_an_unreachable_prefect_api_fails_in_seconds(photos: Path, unused_port: int) -> None:
    started = time.monotonic()
    run = _cli(
        "run", str(photos), cwd=photos.parent, PREFECT_API_URL=f"http://127.0.0.1:{unused_port}/api"
    )
    line = _one_error(run)
    assert "does not answer after 3 tries" in line and "PREFECT_API_URL" in line
    assert time.monotonic() - started < 30
    assert not (photos.parent / "flickr-ingest-reports").exists() or not any(
        (photos.parent / "flickr-ingest-reports").iterdir()
    )


@pytest.mark.parametrize("port", ["70000", "taken"])
def test_a_sandbox_port_out_of_range_or_in_use(tmp_path: Path, port: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        number = str(taken.getsockname()[1]) if port == "taken" else port
        line = _one_error(_cli("sandbox", "--port", number, cwd=tmp_path))
    assert f"cannot listen on 127.0.0.1:{number}" in line


def test_the_relay_without_an_aws_region(tmp_path: Path) -> None:
    run = _cli(
        "relay",
        "--queue-url",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/events",
        cwd=tmp_path,
        AWS_DEFAULT_REGION=None,
        AWS_REGION=None,
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
    )
    assert "no usable AWS region" in _one_error(run)


def test_the_relay_with_a_wrong_queue_url(tmp_path: Path, moto_server: str) -> None:
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="us-east-1")
    real = sqs.create_queue(QueueName="relay-errors")["QueueUrl"]
    wrong = real.replace("relay-errors", "no-such-queue")
    run = _cli(
        "relay",
        "--queue-url",
        wrong,
        "--sqs-endpoint-url",
        moto_server,
        cwd=tmp_path,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    line = _one_error(run)
    assert "no-such-queue" in line and "cannot be read" in line


def test_usage_errors_are_one_line_and_exit_1(photos: Path) -> None:
    for args, said in (
        (("run", str(photos), "--concurrency", "abc"), "argument --concurrency: invalid int"),
        (("run", str(photos), "--on-change", "foo"), "invalid choice: 'foo'"),
        (("run",), "the following arguments are required: source"),
        ((), "the following arguments are required: COMMAND"),
    ):
        line = _one_error(_cli(*args, cwd=photos.parent))
        assert said in line and "--help" in line, line


def test_settings_errors_name_their_option_or_variable(photos: Path) -> None:
    line = _one_error(_cli("run", str(photos), "--album", "", cwd=photos.parent))
    assert line.startswith("Error: --album '': is empty"), line
    line = _one_error(_cli("run", str(photos), "--concurrency", "100", cwd=photos.parent))
    assert line == "Error: --concurrency 100: must be between 1 and 64", line
    line = _one_error(_cli("run", str(photos), cwd=photos.parent, FLICKR_INGEST_ON_CHANGE="nope"))
    assert line.startswith("Error: FLICKR_INGEST_ON_CHANGE='nope': must be one of"), line


def test_a_missing_source_is_said_before_prefect_is_touched(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    started = time.monotonic()
    line = _one_error(
        _cli(
            "run",
            str(tmp_path / "nope"),
            cwd=tmp_path,
            PREFECT_HOME=str(home),
            PREFECT_API_URL=None,
        )
    )
    assert line == f"Error: no such file or folder: {str(tmp_path / 'nope')!r}"
    assert not home.exists()  # no local Prefect server was started or looked for
    print(f"missing source said in {time.monotonic() - started:.1f} s")


def test_version_global_options_after_the_command_and_keys(photos: Path) -> None:
    version = _cli("--version", cwd=photos.parent)
    assert version.returncode == 0 and version.stdout.startswith("flickr-ingest 0."), version
    # --debug after the command; --keys takes one key, so the source stays the source.
    missing = photos.parent / "missing"
    run = _cli("run", "--keys", "a.jpg", str(missing), "--debug", cwd=photos.parent)
    assert run.returncode == 1 and f"no such file or folder: {str(missing)!r}" in run.stderr
    assert "Traceback" in run.stderr  # --debug took effect
    demo_help = _cli("demo", "--help", cwd=photos.parent).stdout
    assert "--keys" not in demo_help and "--s3-endpoint-url" not in demo_help
    assert "--sandbox" not in demo_help and "--dry-run" in demo_help
