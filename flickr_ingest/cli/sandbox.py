"""`flickr-ingest sandbox`: run the Flickr sandbox as a process."""

from __future__ import annotations

import argparse
import signal
from typing import TYPE_CHECKING

from flickr_ingest.errors import FlickrIngestError

if TYPE_CHECKING:
    from flickr_ingest.cli import Commands


def _sandbox(args: argparse.Namespace) -> int:
    from flickr_ingest.sandbox.connections import ConnectionLimits
    from flickr_ingest.sandbox.server import SandboxServer
    from flickr_ingest.sandbox.traffic import TrafficSettings, parse_fault_spec

    try:
        faults = parse_fault_spec(args.faults or "")
    except ValueError as error:
        raise FlickrIngestError(str(error)) from None
    rate_limit = {"rate_limit_calls": args.rate_limit} if args.rate_limit else {}
    if args.max_connections < 1 or args.timeout <= 0:
        raise FlickrIngestError("--max-connections and --timeout must be positive")
    server = SandboxServer(
        host=args.host,
        port=args.port,
        state_dir=args.state,
        api_key=args.api_key,
        api_secret=args.api_secret,
        plan=args.account,
        auto_approve=args.auto_approve,
        seed=args.seed,
        limits=ConnectionLimits(
            max_connections=args.max_connections,
            header_timeout=args.timeout,
            body_timeout=args.timeout,
        ),
        traffic=TrafficSettings(
            faults=faults,
            latency_ms=args.latency_ms,
            bandwidth_mbps=args.bandwidth_mbps,
            per_connection_mbps=args.per_connection_mbps,
            **rate_limit,
        ),
    )
    # A bind beyond loopback is warned about by the server's logger: with no logging
    # configured here, Python's last-resort handler writes it on stderr.
    account = server.start()
    print(account.to_json(), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "sandbox",
        help="run the Flickr sandbox server (prints one JSON line with a ready account)",
        description="A Flickr-compatible server on loopback for tests, benchmarks and demos.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; any other warns). The control endpoints "
        "under /sandbox/ want the admin_token printed in the JSON line",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--state", help="folder that keeps the state across restarts")
    parser.add_argument("--api-key", help="the demo app's API key (default: random)")
    parser.add_argument("--api-secret", help="the demo app's secret (default: random)")
    parser.add_argument("--account", choices=["pro", "free"], default="pro", help="demo plan")
    parser.add_argument(
        "--auto-approve", action="store_true", help="approve OAuth authorizations at once"
    )
    parser.add_argument("--faults", help='e.g. "lost=0.1,reset=0.05,105=0.05,503=0.02"')
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--bandwidth-mbps", type=float, help="cap on all uploads together")
    parser.add_argument("--per-connection-mbps", type=float, help="cap on each upload")
    parser.add_argument("--rate-limit", type=int, help="API calls per hour per key (default off)")
    parser.add_argument("--seed", type=int, help="seed for ids and faults (reproducible runs)")
    parser.add_argument(
        "--max-connections",
        type=int,
        default=512,
        help="open connections at most (default 512; an idle one makes way for a new one)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds for a request's headers, and of silence within its body (default 30)",
    )
    parser.set_defaults(handler=_sandbox)
