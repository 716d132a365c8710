"""Prefect servers for tests: each in its own process, on a port that no other process
can take first. The test binds a socket (port 0: the system picks) and hands it to the
server, as flickr-ingest's own local server is started, instead of probing for a free
port that the server binds later."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

from flows.local_server import listening_socket, server_command

#: A fresh database's migrations take ~12 s on an idle 2-core machine, far longer on a
#: busy one (the rest of the suite runs beside it).
STARTUP_TIMEOUT_SECONDS = 180.0


@contextmanager
def running_prefect_server(
    home: Path, settings: Mapping[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """Prefect's server with `PREFECT_HOME` at `home` and `settings` (a database, a
    broker...) in its environment. Yields its API URL and that environment, in which
    workers and CLIs find it; stops it afterwards. Its log is `home`/server.log."""
    home.mkdir(parents=True, exist_ok=True)
    listener = listening_socket(0)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # offline machines
        **(settings or {}),
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"{url}/api",
        "PREFECT_UI_API_URL": f"{url}/api",
        "PREFECT__SERVER_FINAL": "1",  # as `prefect server start` sets it
    }
    log_path = home / "server.log"
    with listener, log_path.open("ab") as log:
        process = subprocess.Popen(
            server_command(listener),
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(listener.fileno(),),
        )
    try:
        _wait_until_healthy(env["PREFECT_API_URL"], process, log_path)
        yield env["PREFECT_API_URL"], env
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(api_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        try:
            if requests.get(f"{api_url}/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        log = log_path.read_text(errors="replace")[-3000:]
        assert process.poll() is None, f"the Prefect server stopped while starting:\n{log}"
        assert time.monotonic() < deadline, f"the Prefect server did not start:\n{log}"
        time.sleep(0.3)
