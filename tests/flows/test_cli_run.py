"""`flickr-ingest run` as a user runs it: no credentials, the embedded sandbox, the real
sample photos; then the printed organize URL opens in the sandbox. Without a Prefect API,
`demo` starts the local Prefect server once; the next run reuses it; `server` stops it."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.flows.cli_runs import start_cli_run
from tests.photos import SHARED_PHOTOS, jpeg_bytes
from tests.ports import closed_port


@pytest.mark.skipif(
    not SHARED_PHOTOS.is_dir(), reason=f"sample photos not found at {SHARED_PHOTOS}"
)
def test_run_on_the_samples_with_the_embedded_sandbox(prefect_server: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLICKR_")}
    env.update(
        PREFECT_API_URL=prefect_server,
        FLICKR_INGEST_SANDBOX_PORT="0",  # the system picks it; the run's links say it
        FLICKR_INGEST_API_CALLS_PER_HOUR="360000",
        FLICKR_INGEST_CREDENTIALS_FILE=str(tmp_path / "none.json"),
        XDG_STATE_HOME=str(tmp_path / "xdg"),
    )
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(SHARED_PHOTOS)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("No Flickr credentials: uploading to the embedded sandbox")
    assert "local Prefect server" not in run.stdout  # PREFECT_API_URL is the one used
    assert "Sandbox: nothing was sent to flickr.com." in run.stdout
    urls = re.findall(r"Organize on Flickr: (\S+)", run.stdout)
    port = re.match(r"http://127\.0\.0\.1:(\d+)/", urls[0] if urls else "")
    assert port and all(
        u.startswith(f"http://127.0.0.1:{port[1]}/photos/upload/edit/?ids=") for u in urls
    ), run.stdout
    report = json.loads(
        next((tmp_path / "flickr-ingest-reports").glob("*/report.json")).read_text()
    )
    uploaded = [f for f in report["files"] if f["status"] == "uploaded"]
    others = [f for f in report["files"] if f["status"] != "uploaded"]
    assert uploaded and all(f["reason"] for f in others)

    # The sandbox stopped with the run; started again on its state, the URL opens.
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "sandbox",
            "--state",
            str(tmp_path / "xdg" / "flickr-ingest" / "sandbox"),
            "--port",
            port[1],  # where the links point
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        sandbox.stdout.readline()
        page = "".join(requests.get(url, timeout=10).text for url in urls)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    assert "Not found" not in page
    assert all(f"id='photo-{f['photo_id']}'" in page for f in uploaded)


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _alive(pid: int) -> bool:
    """Running (an exited server may linger a moment as a zombie, until init reaps it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.integration  # the CLI starts a Prefect server
def test_demo_without_a_prefect_api_starts_the_local_server_once(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLICKR_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(home),
        FLICKR_INGEST_SANDBOX_PORT="0",
        FLICKR_INGEST_API_CALLS_PER_HOUR="0",
        FLICKR_INGEST_CREDENTIALS_FILE=str(tmp_path / "none.json"),
    )
    record = home / "flickr-ingest-server.json"
    try:
        with socket.socket() as taken:  # the server's port is in use: it takes another
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            env["PREFECT_SERVER_API_PORT"] = str(taken.getsockname()[1])
            first = _cli("demo", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        recorded = json.loads(record.read_text())
        pid, url = recorded["pid"], recorded["url"]
        assert url != f"http://127.0.0.1:{env['PREFECT_SERVER_API_PORT']}"
        assert f"Starting the local Prefect server at {url}" in first.stdout
        using = f"Using the local Prefect server at {url} (pid {pid}); stop it with"
        assert using in first.stdout
        assert first.stdout.rstrip().endswith("stop it with `flickr-ingest server stop`.")

        status = _cli("server", "status", env=env, cwd=tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"is running at {url} (pid {pid}" in status.stdout
        again = _cli("server", "start", env=env, cwd=tmp_path)
        assert f"already running (pid {pid})" in again.stdout, again.stdout + again.stderr

        second = _cli("demo", env=env, cwd=tmp_path)  # reuses the server: no start
        assert second.returncode == 0, second.stdout + second.stderr
        assert using in second.stdout and "Starting the local" not in second.stdout
        assert re.search(r"^Run \S+: \d+ already uploaded, \d+ skipped$", second.stdout, re.M)
        # The server requires its auth (and a CSRF token for a change request, as
        # Prefect's own client fetches one); the runs sent both.
        auth = tuple((home / "flickr-ingest-server.auth").read_text().strip().split(":", 1))
        csrf = requests.get(f"{url}/api/csrf-token?client=test", auth=auth, timeout=10).json()
        runs = requests.post(
            f"{url}/api/flow_runs/filter",
            json={},
            auth=auth,
            headers={"Prefect-Csrf-Token": csrf["token"], "Prefect-Csrf-Client": "test"},
            timeout=10,
        ).json()
        assert [run["state_type"] for run in runs] == ["COMPLETED", "COMPLETED"]

        stop = _cli("server", "stop", env=env, cwd=tmp_path)
        assert stop.returncode == 0 and f"Stopped the local Prefect server at {url}" in stop.stdout
        assert not _alive(pid) and not record.exists()
        assert _cli("server", "status", env=env, cwd=tmp_path).returncode == 1
    finally:  # never leave a server behind, whatever failed
        if record.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(json.loads(record.read_text())["pid"], signal.SIGKILL)


def test_a_run_with_a_failed_file_exits_2_and_reports_it(
    flow_env: Path, prefect_server: str, sandbox
) -> None:
    """Exit status 2 means "the run finished, some files failed": here the first upload
    gets Flickr's error 3 and no retries are allowed; the other files still go up."""
    folder = flow_env / "three"
    folder.mkdir()
    for number in range(3):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(900 + number))
    sandbox.traffic.update(next_faults=("3",))  # upload-only: the REST calls are spared
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder), "--concurrency=1"],
        cwd=flow_env,
        env={**os.environ, "PREFECT_API_URL": prefect_server, "FLICKR_INGEST_RETRIES": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "2 uploaded" in run.stdout and "1 failed" in run.stdout, run.stdout
    # Not a terminal: plain lines, the plan first, one line for the failed file, no bar.
    assert "Planned 3 files: 3 to upload" in run.stderr, run.stderr
    [failed_line] = [line for line in run.stderr.splitlines() if line.startswith("failed: ")]
    assert "(error 3)" in failed_line and "General upload failure" in failed_line
    assert "3 of 3 files" in run.stderr and "\x1b[" not in run.stderr
    assert "Task run" not in run.stderr  # Prefect's per-task lines stay off the terminal
    report = json.loads(next((flow_env / "reports").glob("*/report.json")).read_text())
    failed = [f for f in report["files"] if f["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error_code"] == 3, failed
    assert len(sandbox.state.photos.all_photos()) == 2


def test_a_run_in_a_terminal_shows_a_progress_bar_in_few_lines(
    flow_env: Path, prefect_server: str, sandbox
) -> None:
    """In a terminal (a pty here): a bar with files and bytes of the total, the rate, the
    time left and the counts, redrawn in place; the whole run prints a handful of lines."""
    folder = flow_env / "many"
    folder.mkdir()
    for number in range(300):
        (folder / f"p{number:03d}.jpg").write_bytes(jpeg_bytes(5000 + number))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", str(folder)],
        cwd=flow_env,
        env={**os.environ, "PREFECT_API_URL": prefect_server, "COLUMNS": "150"},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the pty closes when the process and its children are gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    assert process.wait(timeout=300) == 0, seen.decode(errors="replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))
    frames = [frame for frame in re.split(r"[\r\n]", text) if "files" in frame]
    assert any(re.search(r"300/300 files .* of [0-9.]+ KB .*300 uploaded", f) for f in frames), (
        frames[-3:]
    )
    # On the way: bytes moving at the wire's rate (in units that fit), and the time left.
    moving = [f for f in frames if re.search(r"^\d+/300 files", f) and not f.startswith("300/")]
    assert any(re.search(r"KB/s +\d+:\d\d left", f) for f in moving), moving[-3:]
    assert seen.count(b"\n") < 30, text  # the bar is redrawn in place, not printed anew
    assert "Task run" not in text


def test_an_interrupted_run_still_reports_every_file(
    flow_env: Path, prefect_server: str, sandbox
) -> None:
    """Ctrl-C mid-run: exit 130, and the report still accounts for every file: those
    done with their photo ids, the rest deferred to the next run, which completes them."""
    folder = flow_env / "forty"
    folder.mkdir()
    for number in range(40):
        (folder / f"p{number:02d}.jpg").write_bytes(jpeg_bytes(8000 + number))
    sandbox.traffic.update(latency_ms=150)
    process = start_cli_run(folder, prefect_server, concurrency="2", retries="0")
    deadline = time.monotonic() + 120
    while len(sandbox.state.photos.all_photos()) < 5:
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    sandbox.traffic.update(latency_ms=0)
    assert process.returncode == 130 and "Interrupted." in output, output
    assert "This run in the Prefect dashboard: http://127.0.0.1:" in output, output
    report = json.loads(next((flow_env / "reports").glob("*/report.json")).read_text())
    files = report["files"]
    assert len(files) == 40 and {f["status"] for f in files} <= {"uploaded", "deferred"}
    stored = {p["id"] for p in sandbox.state.photos.all_photos()}
    uploaded = [f for f in files if f["status"] == "uploaded"]
    # 5 were stored when the signal came; up to 2 (the lanes) may not have been answered.
    assert len(uploaded) >= 3 and {f["photo_id"] for f in uploaded} <= stored
    assert all("not finished" in f["reason"] for f in files if f["status"] == "deferred")
    assert any("KeyboardInterrupt" in note for note in report["notes"]), report["notes"]
    # The display's last line counts what the report counts.
    [last] = [line for line in output.splitlines() if " of 40 files" in line][-1:]
    shown = {
        status.replace(" ", "_"): int(count.replace(",", ""))
        for count, status in re.findall(r"([\d,]+) ([a-z ]+?)(?:,|$)", last.split(": ", 1)[1])
    }
    assert last.startswith("40 of 40 files") and shown == {
        status: n for status, n in report["totals"].items() if n
    }, (last, report["totals"])
    # In the dashboard the run was cancelled by its person, not crashed.
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        [flow_run] = [
            r
            for r in client.read_flow_runs()
            if r.parameters.get("settings", {}).get("source") == str(folder)
        ]
    assert flow_run.state.name == "Cancelled", flow_run.state
    # Named by the run id, and the settings whole, as the command line gave them.
    assert flow_run.name == report["run_id"]
    assert flow_run.parameters["settings"]["concurrency"] == 2
    assert flow_run.parameters["settings"]["retries"] == 0
    rerun = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder)],
        cwd=flow_env,
        env={**os.environ, "PREFECT_API_URL": prefect_server},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    photos = sandbox.state.photos.all_photos()
    assert len(photos) == len({p["sha256"] for p in photos}) == 40  # each exactly once


def test_an_unreachable_s3_endpoint_stops_the_run_in_seconds(
    flow_env: Path, prefect_server: str
) -> None:
    started = time.monotonic()
    with closed_port() as port:
        run = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "s3://photos/inbox/"],
            cwd=flow_env,
            env={
                **os.environ,
                "PREFECT_API_URL": prefect_server,
                "FLICKR_INGEST_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
    output = run.stdout + run.stderr
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert run.returncode == 1 and len(errors) == 1 and "Traceback" not in output, output
    assert "cannot reach the S3 endpoint for s3://photos/inbox/ (5 tries)" in errors[0]
    assert time.monotonic() - started < 60  # was about a minute; botocore's tries only now
