"""`flickr-ingest server start|status|stop`, and which Prefect server `run`, `demo` and
`setup` use: the one the user chose (`PREFECT_API_URL`, in the environment or a Prefect
profile), else the local server (`flows/local_server.py`), which the first run starts in
the background and later runs reuse, sending its auth. Whenever a run uses it, it says
where it is and how to stop it; the active Prefect profile is pointed at it, so that
plain `prefect` commands reach it too."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flickr_ingest.cli import Commands
    from flows.local_server import ServerRecord

STOP_HINT = "stop it with `flickr-ingest server stop`"


def prefect_defaults() -> None:
    """Defaults for Prefect's settings, set before Prefect is first imported (it reads
    its settings once): no telemetry (this machine may have no internet), and, for runs
    with `--temporary-server`, time for Prefect's temporary server to start on a slow
    machine (Prefect waits 20 s)."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def use_prefect_server(
    while_starting: Callable[[], None] | None = None, *, temporary: bool = False
) -> ServerRecord | None:
    """Make this process's flow runs go to the Prefect API the user chose, or else to
    the local server (started if needed), with its auth. Returns the local server when
    it is the one. `while_starting` runs while a server this call started gets ready
    (the server takes seconds; a run's own imports can use that time on another core).
    `temporary` (`--temporary-server`): without a chosen API, Prefect's temporary server
    for this process; not while the profile names the local server (which Prefect would
    use instead; and a temporary server beside it would lock its database)."""
    from flows.local_server import (
        LocalServer,
        ServerError,
        check_configured_api,
        chosen_api_url,
        configured_api_url,
        use_api,
    )

    chosen = chosen_api_url()
    if chosen:
        check_configured_api(chosen)
        return None
    if temporary:
        if configured_api_url():
            raise ServerError(
                "--temporary-server: the active Prefect profile names the local Prefect "
                "server; `flickr-ingest server stop` stops it and takes it out of the profile"
            )
        return None

    def starting(record: ServerRecord) -> None:
        _print_starting(record)
        if while_starting is not None:
            while_starting()

    server = LocalServer.of_prefect_home()
    record, _ = server.ensure_running(starting=starting, replacing=_print_replacing)
    server.remember_in_profile(record)
    use_api(record.api_url, server.auth_string() or "")
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


def _print_replacing(record: ServerRecord, why: str) -> None:
    print(
        f"Stopping the local Prefect server at {record.url} (pid {record.pid}): {why}.",
        flush=True,
    )


def _start(args: argparse.Namespace) -> int:
    prefect_defaults()
    from flows.local_server import LocalServer, chosen_api_url, requires_auth

    began = time.monotonic()
    server = LocalServer.of_prefect_home()
    record, started = server.ensure_running(starting=_print_starting, replacing=_print_replacing)
    if started:
        print(f"Started in {time.monotonic() - began:.1f} s.")
    else:
        print(f"The local Prefect server is already running (pid {record.pid}).")
    print(f"Dashboard: {record.url}; API: {record.api_url}; {STOP_HINT}.")
    print(_auth_line(server.auth_path, requires_auth(record)))
    chosen = chosen_api_url()
    if chosen:
        print(_configured_note(chosen))
        return 0
    profile = server.remember_in_profile(record)
    if profile is None:
        print(
            "`flickr-ingest run`, `demo` and `setup` use it; the active Prefect profile "
            "names a Prefect API of its own (or cannot be written), so other Prefect "
            "commands need "
            f"PREFECT_API_URL={record.api_url} and PREFECT_API_AUTH_STRING (in "
            f"{server.auth_path})."
        )
    else:
        print(f"`flickr-ingest` and `prefect` commands use it (Prefect profile {profile!r}).")
    return 0


def _status(args: argparse.Namespace) -> int:
    from flows.local_server import LocalServer, answers, chosen_api_url, requires_auth

    server = LocalServer.of_prefect_home()
    record = server.status()
    chosen = chosen_api_url()
    if chosen:
        print(_configured_note(chosen))
    if record is None:
        print(f"No local Prefect server is running (for PREFECT_HOME {server.home}).")
        return 1
    state = "running" if answers(record) else "starting (or not answering)"
    print(
        f"The local Prefect server is {state} at {record.url} (pid {record.pid}, since "
        f"{record.started_at}; log: {record.log}); {STOP_HINT}."
    )
    print(_auth_line(server.auth_path, requires_auth(record)))
    return 0


def _auth_line(secret: Path, required: bool | None) -> str:
    """Whether the server requires its API auth, and where the secret is (never the
    secret itself: the dashboard asks for it, `cat` shows it)."""
    if required is None:
        return "API auth: unknown (the server does not answer yet)."
    if not required:
        return (
            "API auth: OFF (anyone on this machine can drive it): `flickr-ingest server "
            "stop` and start it again."
        )
    return f"API auth: on; the dashboard asks for the auth string in {secret} (owner-only)."


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


def add_parser(commands: Commands) -> None:
    server = commands.add_parser(
        "server",
        help="the local Prefect server that runs reuse: start, status, stop",
        description="Without PREFECT_API_URL, `flickr-ingest run`, `demo` and `setup` start "
        "a local Prefect server in the background (with its dashboard) and reuse it in later "
        "runs, instead of a temporary server per run. Only clients that send its auth string "
        "(kept owner-only in PREFECT_HOME, written into the active Prefect profile) may use "
        "its API. It keeps its database and a record of its pid, address and log in "
        "PREFECT_HOME.",
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
        "which pid and log, and whether its API requires auth. Exit status: 0 when it runs, "
        "1 when it does not.",
    )
    status.set_defaults(handler=_status)
    stop = actions.add_parser(
        "stop",
        help="stop the local Prefect server",
        description="Stop the local Prefect server (its database and auth string stay in "
        "PREFECT_HOME; the next run starts it again) and take it out of the active Prefect "
        "profile.",
    )
    stop.set_defaults(handler=_stop)
