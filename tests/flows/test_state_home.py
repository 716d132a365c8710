"""Where a run keeps its ledger, and what it says before it sends (issue #28): the same
ledger from any working directory, earlier versions' ./flickr-ingest-state honoured, and
one line naming the host, the account and who will see the photos before any upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.photos import jpeg_bytes


def _cli_run(
    folder: Path, *, cwd: Path, env: dict[str, str], more: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(folder), *more],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def _environment(flow_env: Path, prefect_server: str) -> dict[str, str]:
    """The test's sandbox and Prefect server; state in the per-user default (here a
    per-test XDG_STATE_HOME), reports beside each working directory."""
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    env.pop("FLICKR_INGEST_STATE_DIR")
    env.pop("FLICKR_INGEST_REPORT_DIR")
    env["XDG_STATE_HOME"] = str(flow_env / "xdg")
    return env


def _statuses(cwd: Path) -> dict[str, str]:
    [report] = (cwd / "flickr-ingest-reports").glob("*/report.json")
    return {f["relative_path"]: f["status"] for f in json.loads(report.read_text())["files"]}


def _photos(folder: Path, count: int) -> None:
    folder.mkdir()
    for number in range(count):
        (folder / f"p{number}.jpg").write_bytes(jpeg_bytes(4100 + number))


def test_runs_from_two_working_directories_share_one_ledger(
    flow_env: Path, prefect_server: str, sandbox
) -> None:
    folder, first, second = flow_env / "photos", flow_env / "here", flow_env / "elsewhere"
    _photos(folder, 3)
    first.mkdir()
    second.mkdir()
    env = _environment(flow_env, prefect_server)

    run = _cli_run(folder, cwd=first, env=env)
    # Before anything is sent: where, as whom, and who will see the photos.
    account = sandbox.account
    line = (
        f"Sending to {sandbox.url} (a Flickr-compatible server, not flickr.com)"
        f" as {account.username} ({account.user_nsid})"
    )
    assert line in run.stderr, run.stderr
    assert "new photos will be public: anyone can see them (the account's default)" in run.stderr
    assert run.stderr.index(line) < run.stderr.index("Planned 3 files")
    assert set(_statuses(first).values()) == {"uploaded"}

    again = _cli_run(folder, cwd=second, env=env)
    assert set(_statuses(second).values()) == {"already_uploaded"}, again.stdout
    assert len(sandbox.state.photos.all_photos()) == 3
    assert (flow_env / "xdg" / "flickr-ingest" / "ledger.sqlite3").is_file()


def test_an_earlier_versions_state_folder_is_merged_and_honoured(
    flow_env: Path, prefect_server: str, sandbox
) -> None:
    folder, work = flow_env / "photos", flow_env / "work"
    _photos(folder, 2)
    work.mkdir()
    env = _environment(flow_env, prefect_server)
    # As versions before the per-user folder ran: the ledger in ./flickr-ingest-state.
    _cli_run(folder, cwd=work, env=env, more=("--state-dir", "flickr-ingest-state"))
    (work / "flickr-ingest-reports").rename(work / "earlier-reports")

    run = _cli_run(folder, cwd=work, env=env)

    assert f"of the ledger in {work / 'flickr-ingest-state'}" in run.stderr, run.stderr
    assert set(_statuses(work).values()) == {"already_uploaded"}
    assert len(sandbox.state.photos.all_photos()) == 2
    # And from anywhere else too: the records now live in the per-user folder.
    (flow_env / "other").mkdir()
    _cli_run(folder, cwd=flow_env / "other", env=env)
    assert set(_statuses(flow_env / "other").values()) == {"already_uploaded"}
