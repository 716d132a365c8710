"""`flickr-ingest relay`: S3 notifications from SQS to Prefect events."""

from __future__ import annotations

import argparse
import signal
import threading


def _relay(args: argparse.Namespace) -> int:
    import boto3

    from flows.relay import run_relay

    sqs = boto3.client("sqs", endpoint_url=args.sqs_endpoint_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"Relaying S3 notifications from {args.queue_url} to Prefect events (Ctrl-C stops).")
    try:
        counts = run_relay(sqs, args.queue_url, stop=stop, wait_seconds=args.wait)
    except KeyboardInterrupt:
        return 0
    print(
        f"Relayed {counts.events} event(s) from {counts.messages} message(s); "
        f"{counts.poison} left for the dead-letter queue."
    )
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    relay = commands.add_parser(
        "relay",
        help="turn S3 notifications (via SQS) into Prefect events",
        description="Long-poll an SQS queue that receives S3 'ObjectCreated' notifications and "
        "post one Prefect event s3.object.created (resource s3://bucket/key) per object. "
        "Messages are deleted only after Prefect accepted their events.",
    )
    relay.add_argument("--queue-url", required=True, help="the SQS queue's URL")
    relay.add_argument("--sqs-endpoint-url", help="SQS-compatible endpoint (tests: moto)")
    relay.add_argument("--wait", type=int, default=20, help="long-poll seconds (1-20, default 20)")
    relay.set_defaults(handler=_relay)
