"""`flickr-ingest relay`: S3 notifications from SQS to Prefect events."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from flickr_ingest.errors import ConfigurationError

if TYPE_CHECKING:
    from flickr_ingest.cli import Commands


def _relay(args: argparse.Namespace) -> int:
    from flows.relay import run_relay

    sqs = _queue_client(args.queue_url, args.sqs_endpoint_url)
    # One line per batch relayed, and the warnings (unreadable messages, Prefect down);
    # the libraries underneath (httpx's line per request, botocore) only when they warn.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    for ours in ("flows", "flickr_ingest"):
        logging.getLogger(ours).setLevel(logging.INFO)
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


#: Tries of each SQS request (botocore's own retries).
_SQS_ATTEMPTS = 2


def _queue_client(queue_url: str, endpoint_url: str | None) -> Any:
    """An SQS client that has read the queue once: no region, no credentials or a wrong
    queue URL end here in one clear error, in seconds, not in the relay's loop."""
    import boto3
    import botocore.config
    import botocore.exceptions

    config = botocore.config.Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": _SQS_ATTEMPTS, "mode": "standard"},
    )
    try:
        sqs = boto3.client("sqs", endpoint_url=endpoint_url, config=config)
    except (botocore.exceptions.NoRegionError, ValueError):  # none, or an empty one
        raise ConfigurationError(
            "no usable AWS region: set AWS_DEFAULT_REGION (or AWS_REGION) to the queue's region"
        ) from None
    try:
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise ConfigurationError(
            f"the queue {queue_url!r} cannot be read ({code}): check --queue-url"
            " and the AWS credentials"
        ) from None
    except (botocore.exceptions.BotoCoreError, ValueError) as error:
        raise ConfigurationError(
            f"the queue {queue_url!r} cannot be reached ({_SQS_ATTEMPTS} tries): {error}"
        ) from None
    return sqs


def add_parser(commands: Commands) -> None:
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
