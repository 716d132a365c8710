"""`flickr-ingest run` as a user runs it: no credentials, the embedded sandbox, the real
sample photos; then the printed organize URL opens in the sandbox."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.photos import SHARED_PHOTOS


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(
    not SHARED_PHOTOS.is_dir(), reason=f"sample photos not found at {SHARED_PHOTOS}"
)
def test_run_on_the_samples_with_the_embedded_sandbox(prefect_server: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLICKR_")}
    env.update(
        PREFECT_API_URL=prefect_server,
        FLICKR_INGEST_SANDBOX_PORT=str(port),
        FLICKR_INGEST_API_CALLS_PER_HOUR="360000",
        FLICKR_INGEST_CREDENTIALS_FILE=str(tmp_path / "none.json"),
    )
    run = subprocess.run(
        [sys.executable, "-m", "flickr_ingest.cli", "run", str(SHARED_PHOTOS)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("No Flickr credentials: uploading to the embedded sandbox")
    assert "Sandbox: nothing was sent to flickr.com." in run.stdout
    urls = re.findall(r"Organize on Flickr: (\S+)", run.stdout)
    assert urls and all(
        u.startswith(f"http://127.0.0.1:{port}/photos/upload/edit/?ids=") for u in urls
    )
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
            "flickr_ingest.cli",
            "sandbox",
            "--state",
            str(tmp_path / "flickr-ingest-state" / "sandbox"),
            "--port",
            str(port),
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
