"""`flickr-ingest relay`: long-poll an SQS queue of S3 notifications and post one Prefect
event per created object. A message is deleted only after its events were accepted by
the Prefect API (at least once: repeats are absorbed by derived event ids and by the
exactly-once upload); an unreadable one is left for the queue's dead-letter queue."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from prefect.client.orchestration import get_client

from flickr_ingest.relay import PoisonMessage, parse_notification
from flickr_ingest.report.escaping import terminal_text

logger = logging.getLogger(__name__)


@dataclass
class RelayCounts:
    messages: int = 0
    events: int = 0
    poison: int = 0
    failed_posts: int = 0


def post_events(events: list[dict[str, Any]]) -> None:
    """POST to the Prefect API's /events: synchronous, so success is known."""
    if not events:
        return
    with get_client(sync_client=True) as client:
        client.request("POST", "/events", json=events).raise_for_status()


def relay_once(sqs: Any, queue_url: str, counts: RelayCounts, *, wait_seconds: int = 20) -> None:
    answer = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
    )
    for message in answer.get("Messages", []):
        counts.messages += 1
        try:
            events = [created.as_event() for created in parse_notification(message["Body"])]
        except PoisonMessage as error:
            counts.poison += 1
            logger.warning("leaving an unreadable message for the dead-letter queue: %s", error)
            continue
        try:
            post_events(events)
        except Exception as error:  # the API is down: the message comes back later
            counts.failed_posts += 1
            logger.warning(
                "could not post %d event(s) to Prefect (%s); will retry", len(events), error
            )
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        counts.events += len(events)
        if events:
            logger.info(
                "relayed %d event(s), e.g. %s (%d in all)",
                len(events),
                terminal_text(events[0]["resource"]["prefect.resource.name"]),
                counts.events,
            )


def run_relay(
    sqs: Any, queue_url: str, *, stop: threading.Event | None = None, wait_seconds: int = 20
) -> RelayCounts:
    """Relay until `stop` is set (or forever)."""
    stop = stop or threading.Event()
    counts = RelayCounts()
    while not stop.is_set():
        relay_once(sqs, queue_url, counts, wait_seconds=wait_seconds)
    return counts
