"""`flickr-ingest relay` as it runs for days: its log says what it relays and what goes
wrong, with no line per HTTP request from the libraries underneath (issue #34)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.flows.test_relay import _notification, _queues


def test_the_relay_log_is_free_of_third_party_lines(prefect_server: str, moto_server: str) -> None:
    sqs, queue, _ = _queues(moto_server)
    sqs.send_message(QueueUrl=queue, MessageBody=_notification("b", "inbox/quiet.jpg"))
    relay = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "relay",
            "--queue-url",
            queue,
            "--sqs-endpoint-url",
            moto_server,
            "--wait",
            "1",
        ],
        env={**os.environ, "PREFECT_API_URL": prefect_server},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            sqs.get_queue_attributes(
                QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            != "0"
        ):
            assert time.monotonic() < deadline, "the relay never took the message"
            time.sleep(0.5)
        time.sleep(2)  # a few more polls, each an HTTP request of its own
    finally:
        relay.send_signal(signal.SIGTERM)
        output = relay.communicate(timeout=60)[0]
    assert "relayed 1 event(s)" in output, output
    assert "HTTP Request" not in output and "httpx" not in output, output
