"""The relay's failure paths over real connections (moto's SQS server, a Prefect server):
an unreadable message is left for the queue's dead-letter queue and never blocks the
good ones; a message whose events the Prefect API did not take is kept and relayed
later (issue #19)."""

from __future__ import annotations

import json
import logging
import time
import uuid

import boto3
import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.relay import RelayCounts, relay_once


def _notification(bucket: str, key: str) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "eventTime": "2026-12-03T00:00:00Z",
                    "s3": {
                        "bucket": {"name": bucket},
                        "object": {"key": key, "size": 3, "eTag": "e", "sequencer": "0A"},
                    },
                }
            ]
        }
    )


def _queues(moto_server: str) -> tuple[object, str, str]:
    """A queue whose messages go to a dead-letter queue after 2 receives, and that one.
    Visibility timeout 0: an unacknowledged message is back at once."""
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="us-east-1")
    name = f"events-{uuid.uuid4().hex[:8]}"
    dead = sqs.create_queue(QueueName=f"{name}-dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    return sqs, queue, dead


def _bodies(sqs, queue_url: str) -> list[str]:
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [message["Body"] for message in answer.get("Messages", [])]


def test_an_unreadable_message_goes_to_the_dead_letter_queue_and_the_rest_are_relayed(
    prefect_server: str, moto_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flows.relay")
    sqs, queue, dead = _queues(moto_server)
    sqs.send_message(QueueUrl=queue, MessageBody="not json at all")
    sqs.send_message(QueueUrl=queue, MessageBody=_notification("b", "inbox/a\x1b[2J.jpg"))
    counts = RelayCounts()
    for _ in range(4):  # receive 1 and 2 leave it; the third would exceed maxReceiveCount
        relay_once(sqs, queue, counts, wait_seconds=0)
    # A line per batch relayed; the key is shown, its control characters written out.
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("relayed")]
    assert "relayed 1 event(s)" in line and "\\x1b" in line and "\x1b" not in line
    assert counts.events == 1 and counts.failed_posts == 0
    assert counts.poison == 2  # received twice, left twice, then moved by SQS
    assert _bodies(sqs, queue) == []
    assert _bodies(sqs, dead) == ["not json at all"]


def test_events_the_prefect_api_did_not_take_are_relayed_later(
    prefect_server: str, moto_server: str
) -> None:
    sqs, queue, _ = _queues(moto_server)
    sqs.send_message(QueueUrl=queue, MessageBody=_notification("b", "inbox/later.jpg"))
    counts = RelayCounts()
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens
        relay_once(sqs, queue, counts, wait_seconds=0)
    assert (counts.failed_posts, counts.events) == (1, 0)
    relay_once(sqs, queue, counts, wait_seconds=0)  # the API is back
    assert (counts.failed_posts, counts.events) == (1, 1)
    assert _bodies(sqs, queue) == []  # deleted only once its event was accepted
    deadline = time.monotonic() + 30  # the server stores events a moment after taking them
    while not _events_about("s3://b/inbox/later.jpg"):
        assert time.monotonic() < deadline, "the relayed event never reached Prefect"
        time.sleep(0.5)


def _events_about(resource_id: str) -> int:
    window = {"since": "2026-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}
    with get_client(sync_client=True) as client:
        answer = client.request(
            "POST",
            "/events/filter",
            json={"filter": {"resource": {"id": [resource_id]}, "occurred": window}},
        )
    return len(answer.json()["events"])


def test_malformed_messages_of_any_kind_are_poison_and_the_relay_goes_on(
    prefect_server: str, moto_server: str
) -> None:
    """200,000 nested arrays (a RecursionError in the parser) and a size of 1e400 (an
    OverflowError in int()) each ended the relay process; now both go to the dead-letter
    queue and the good message after them is relayed."""
    sqs, queue, dead = _queues(moto_server)
    nested = "[" * 200_000
    huge = _notification("b", "inbox/huge.jpg").replace('"size": 3', '"size": 1e400')
    assert "1e400" in huge
    for body in (nested, huge, _notification("b", "inbox/good.jpg")):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    counts = RelayCounts()
    for _ in range(4):
        relay_once(sqs, queue, counts, wait_seconds=0)
    assert (counts.events, counts.poison, counts.failed_posts) == (1, 4, 0)
    assert _bodies(sqs, queue) == []
    assert sorted(_bodies(sqs, dead), key=len) == [huge, nested]
