"""`flickr-ingest run` as a separate process, for tests that kill runs mid-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def start_cli_run(folder: Path, prefect_api: str, **settings: str) -> subprocess.Popen:
    """Start a run of `folder`; `settings` become FLICKR_INGEST_<NAME> variables."""
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        **{f"FLICKR_INGEST_{name.upper()}": value for name, value in settings.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "run", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill takes every child too
        # Ctrl-C as in a terminal, even where this test runs with SIGINT ignored (a
        # background job of a shell ignores it, and its children inherit that).
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
