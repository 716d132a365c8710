"""`flickr-ingest server start|status|stop`, and which Prefect server `run` and `demo` use:
the configured one (`PREFECT_API_URL`, in the environment or a Prefect profile), else
the local server (`flows/local_server.py`), which the first run starts in the background
and later runs reuse. Whenever a run uses it, it says where it is and how to stop it."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.local_server import ServerRecord

STOP_HINT = "stop it with `flickr-ingest server stop`"


def prefect_defaults() -> None:
    """Defaults for Prefect's settings, set before Prefect is first imported (it reads
    its settings once): no telemetry (this machine may have no internet), and, for runs
    with `--temporary-server`, time for Prefect's temporary server to start on a slow
    machine (Prefect waits 20 s)."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def use_prefect_server(while_starting: Callable[[], None] | None = None) -> ServerRecord | None:
    """Make this process's flow runs go to the configured Prefect API, or else to the
    local server (started if needed). Returns the local server when it is the one.
    `while_starting` runs while a server this call started gets ready (the server
    takes seconds; a run's own imports can use that time on another core)."""
    from flows.local_server import LocalServer, check_configured_api, configured_api_url, use_api

    configured = configured_api_url()
    if configured:
        check_configured_api(configured)
        return None

    def starting(record: ServerRecord) -> None:
        _print_starting(record)
        if while_starting is not None:
            while_starting()

    record, _ = LocalServer.of_prefect_home().ensure_running(
        starting=starting, replacing=_print_replacing
    )
    use_api(record.api_url)
    print(f"Using the local Prefect server at {record.url} (pid {record.pid}); {STOP_HINT}.")
    return record


def still_running_line(record: ServerRecord) -> str:
    """What a run prints last about the local server it used."""
    return f"The local Prefect server keeps running (dashboard: {record.url}); {STOP_HINT}."


def _print_starting(record: ServerRecord) -> None:
    print(
        f"Starting the local Prefect server at {record.url} (pid {record.pid}; log: "
        f"{record.log}): this takes 10-20 s, once; later runs reuse it.",
        flush=True,
    )


def _print_replacing(record: ServerRecord) -> None:
    print(
        f"Stopping the local Prefect server at {record.url} (pid {record.pid}): it runs "
        f"Prefect {record.prefect_version or '(unknown)'}, not the version installed now.",
        flush=True,
    )


def _start(args: argparse.Namespace) -> int:
    prefect_defaults()
    from flows.local_server import LocalServer, configured_api_url

    began = time.monotonic()
    record, started = LocalServer.of_prefect_home().ensure_running(
        starting=_print_starting, replacing=_print_replacing
    )
    if started:
        print(f"Started in {time.monotonic() - began:.1f} s.")
    else:
        print(f"The local Prefect server is already running (pid {record.pid}).")
    print(f"Dashboard: {record.url}; API: {record.api_url}; {STOP_HINT}.")
    configured = configured_api_url()
    if configured:
        print(_configured_note(configured))
    else:
        print(
            "`flickr-ingest run` and `demo` use it; for other Prefect commands, set "
            f"PREFECT_API_URL={record.api_url}"
        )
    return 0


def _status(args: argparse.Namespace) -> int:
    from flows.local_server import LocalServer, answers, configured_api_url

    server = LocalServer.of_prefect_home()
    record = server.status()
    configured = configured_api_url()
    if configured:
        print(_configured_note(configured))
    if record is None:
        print(f"No local Prefect server is running (for PREFECT_HOME {server.home}).")
        return 1
    state = "running" if answers(record) else "starting (or not answering)"
    print(
        f"The local Prefect server is {state} at {record.url} (pid {record.pid}, since "
        f"{record.started_at}; log: {record.log}); {STOP_HINT}."
    )
    return 0


def _stop(args: argparse.Namespace) -> int:
    from flows.local_server import LocalServer

    record = LocalServer.of_prefect_home().stop()
    if record is None:
        print("No local Prefect server is running.")
    else:
        print(f"Stopped the local Prefect server at {record.url} (pid {record.pid}).")
    return 0


def _configured_note(api_url: str) -> str:
    return f"PREFECT_API_URL is set ({api_url}): runs use that server, not the local one."


def add_parser(commands: argparse._SubParsersAction) -> None:
    server = commands.add_parser(
        "server",
        help="the local Prefect server that runs reuse: start, status, stop",
        description="Without PREFECT_API_URL, `flickr-ingest run` and `demo` start a local "
        "Prefect server in the background (with its dashboard) and reuse it in later runs, "
        "instead of a temporary server per run. It keeps its database and a record of its "
        "pid, address and log in PREFECT_HOME.",
    )
    actions = server.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = actions.add_parser(
        "start",
        help="start the local Prefect server (or say where it already runs)",
        description="Start the local Prefect server in the background on 127.0.0.1, port "
        "PREFECT_SERVER_API_PORT (4200) or a free one, and wait until it answers.",
    )
    start.set_defaults(handler=_start)
    status = actions.add_parser(
        "status",
        help="is the local Prefect server running, and where",
        description="Say whether the local Prefect server runs, at which address, with "
        "which pid and log. Exit status: 0 when it runs, 1 when it does not.",
    )
    status.set_defaults(handler=_status)
    stop = actions.add_parser(
        "stop",
        help="stop the local Prefect server",
        description="Stop the local Prefect server (its database stays in PREFECT_HOME; "
        "the next run starts it again).",
    )
    stop.set_defaults(handler=_stop)
