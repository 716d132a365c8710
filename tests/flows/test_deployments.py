"""Deployments: `prefect deploy --all` on a fresh server, and the whole chain from a new
bucket object to a photo on the sandbox (moto's S3 and SQS, a Prefect server, the
served deployment, the relay)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
import requests
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.variables import Variable

from flickr_ingest.relay import PoisonMessage, parse_notification
from flows.relay import RelayCounts, relay_once
from tests.photos import jpeg_bytes

ROOT = Path(__file__).resolve().parents[2]


AUTOMATION = "new objects under the watched prefix"
WINDOW_SECONDS = 3  # the served trigger's batching window in the chain test


def _forget_deployments() -> None:
    """Delete the ingest deployments and their automation, whichever test made them: each
    test starts from a server without them, in any order."""
    with get_client(sync_client=True) as client:
        for name in ("ingest/nightly", "ingest/on-new-objects", "ingest/batch"):
            with contextlib.suppress(ObjectNotFound):
                client.delete_deployment(client.read_deployment_by_name(name).id)
        for automation in client.read_automations_by_name(AUTOMATION):
            client.delete_automation(automation.id)


def test_prefect_deploy_all_creates_the_deployments(prefect_server: str, tmp_path: Path) -> None:
    _forget_deployments()
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    setup = _setup(env, "--calls-per-hour", "7200")
    assert setup.returncode == 0 and "flickr-api" in setup.stdout, setup.stdout + setup.stderr
    # The watched location is read and checked when deploying: unset or malformed, the
    # deploy stops and says what to set (no trigger on every object of every bucket).
    # (Each malformed form is refused by the same check: test_the_watched_prefix_... .)
    Variable.unset("flickr_ingest_watch")
    Variable.set("flickr_ingest_reports", "/srv/flickr-ingest/reports", overwrite=True)
    refused = _deploy(env)
    assert refused.returncode != 0 and "is not set" in refused.stdout + refused.stderr
    # One clear line, not Prefect's two tracebacks around it.
    assert "Traceback" not in refused.stderr and "Error: the Prefect Variable" in refused.stderr
    with get_client(sync_client=True) as client:
        assert [d for d in client.read_deployments() if d.name == "nightly"] == []
    Variable.set("flickr_ingest_watch", "s3://photos/inbox/", overwrite=True)
    # Reports somewhere that outlives a worker's temporary folder, and not where they
    # would start runs of their own.
    for reports, why in (
        ("flickr-ingest-reports", "is relative"),
        ("s3://photos/inbox/reports/", "is under the watched prefix"),
    ):
        Variable.set("flickr_ingest_reports", reports, overwrite=True)
        refused = _deploy(env)
        assert refused.returncode != 0 and why in refused.stdout + refused.stderr
    # `flickr-ingest setup --reports` sets it, checked as the deploy checks it.
    reports = _setup(env, "--reports", "relative/reports", "--calls-per-hour", "7200")
    assert reports.returncode == 1 and "is relative" in reports.stderr, reports.stderr
    reports = _setup(env, "--reports", "/srv/flickr-ingest/reports", "--calls-per-hour", "7200")
    assert reports.returncode == 0 and "flickr_ingest_reports" in reports.stdout, reports.stderr
    assert Variable.get("flickr_ingest_reports") == "/srv/flickr-ingest/reports"
    deploy = _deploy(env)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("ingest/nightly")
        triggered = client.read_deployment_by_name("ingest/on-new-objects")
        batch = client.read_deployment_by_name("ingest/batch")
        pool = client.read_work_pool("flickr-ingest")
        limit = client.read_global_concurrency_limit_by_name("flickr-api")
        automations = client.read_automations_by_name(AUTOMATION)
    _forget_deployments()  # the served deployments of the other test take these names
    assert pool.type == "process" and batch.work_pool_name == "flickr-ingest"
    # A budget with a burst: an eighth of the hour at once, the rest refilled over the hour.
    assert limit.limit == 900 and abs(limit.slot_decay_per_second - (7200 - 900) / 3600) < 1e-9
    parameters = {
        "settings": {"source": "s3://photos/inbox/", "report_dir": "/srv/flickr-ingest/reports"}
    }
    assert nightly.parameters == triggered.parameters == batch.parameters == parameters
    assert [s.schedule.cron for s in nightly.schedules] == ["0 2 * * *"]
    trigger = automations[0].trigger
    assert trigger.expect == {"s3.object.created"}
    assert trigger.match.model_dump()["prefect.resource.id"] == "s3://photos/inbox/*"
    assert trigger.within.total_seconds() == 60
    assert automations[0].actions[0].deployment_id == triggered.id


def _setup(env: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "setup", *options],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["prefect", "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_notification_parsing() -> None:
    body = json.dumps(
        {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "eventTime": "2026-01-01T00:00:00Z",
                    "s3": {
                        "bucket": {"name": "b"},
                        "object": {
                            "key": "inbox/a+b%C3%BC.jpg",
                            "size": 3,
                            "eTag": "e",
                            "sequencer": "0A",
                        },
                    },
                },
                {
                    "eventName": "ObjectRemoved:Delete",
                    "s3": {"bucket": {"name": "b"}, "object": {"key": "x"}},
                },
            ]
        }
    )
    created = parse_notification(body)
    assert [c.key for c in created] == ["inbox/a bü.jpg"]
    assert created[0].uri == "s3://b/inbox/a%20b%C3%BC.jpg"
    assert created[0].event_id == parse_notification(body)[0].event_id  # stable for repeats
    wrapped = json.dumps({"Type": "Notification", "Message": body})
    assert parse_notification(wrapped) == created
    assert parse_notification(json.dumps({"Event": "s3:TestEvent", "Bucket": "b"})) == []
    for poison in ("not json", "[]", json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]})):
        with pytest.raises(PoisonMessage, match=r"not JSON|not a JSON object|malformed"):
            parse_notification(poison)


def test_new_bucket_objects_reach_the_sandbox(
    prefect_server: str, flow_env: Path, sandbox, moto_server: str, s3, bucket: str
) -> None:
    sqs = boto3.client("sqs", endpoint_url=moto_server, region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "inbox/"}]}},
                }
            ]
        },
    )
    _forget_deployments()
    watched = f"s3://{bucket}/inbox/"
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_server,
        "FLICKR_INGEST_WATCH": watched,
        "FLICKR_INGEST_TRIGGER_WINDOW": str(WINDOW_SECONDS),
        "FLICKR_INGEST_S3_ENDPOINT_URL": moto_server,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "deployments.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stop = threading.Event()
    counts = RelayCounts()

    def relay() -> None:
        while not stop.is_set():
            relay_once(sqs, queue_url, counts, wait_seconds=1)

    relayer = threading.Thread(target=relay)
    try:
        _wait_for(lambda: server.poll() is None and _automation_ready(), 90, "the served trigger")
        relayer.start()
        for number in range(5):
            s3.put_object(
                Bucket=bucket, Key=f"inbox/new {number}.jpg", Body=jpeg_bytes(9000 + number)
            )
        started = time.monotonic()
        _wait_for(lambda: len(_active(sandbox)) >= 5, 180, "5 photos on the sandbox")
        print(f"5 new objects on the sandbox {time.monotonic() - started:.1f} s after they landed")
        _wait_for(lambda: counts.events == 5, 30, "the relay to forward all 5 events")
        # A last batch may fire when the window after the last event closes: once it has,
        # wait for every triggered run to end; none of them may upload again.
        time.sleep(WINDOW_SECONDS + 1)
        _wait_for(_every_triggered_run_ended, 120, "every triggered run to end")
    finally:
        stop.set()
        if relayer.is_alive():
            relayer.join(timeout=10)
        server.terminate()
        output = server.communicate(timeout=30)[0]
    photos = _active(sandbox)
    assert sorted(p["filename"] for p in photos) == [f"new {n}.jpg" for n in range(5)], output[
        -3000:
    ]
    assert counts.events == 5 and counts.poison == 0
    reports = list((flow_env / "reports").glob("*/report.json"))
    assert reports, output[-3000:]
    runs = _triggered_runs()
    assert 1 <= len(runs) <= 3 and all(r.state.is_completed() for r in runs)  # batched
    _forget_deployments()


def _triggered_runs() -> list:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("ingest/on-new-objects")
        return [r for r in client.read_flow_runs() if r.deployment_id == deployment.id]


def _every_triggered_run_ended() -> bool:
    return all(run.state.is_final() for run in _triggered_runs())


def _automation_ready() -> bool:
    """The served deployment exists and its trigger's automation points at it."""
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name("ingest/on-new-objects")
        except Exception:
            return False
        automations = client.read_automations_by_name(AUTOMATION)
        return any(a.actions[0].deployment_id == deployment.id for a in automations)


def _active(sandbox) -> list[dict]:
    photos = requests.get(
        f"{sandbox.url}/sandbox/photos", headers=sandbox.admin_headers, timeout=10
    ).json()["photos"]
    return [p for p in photos if p["status"] == "active"]


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("s3://photos/inbox/", "s3://photos/inbox/"),
        (" s3://photos/ ", "s3://photos/"),
        ("s3://photos/my photos/ü/", "s3://photos/my%20photos/%C3%BC/"),  # as event ids are
        ("", "is not set"),
        ("photos/inbox/", "not an S3 prefix"),
        ("s3://Photos/inbox/", "not an S3 prefix"),
        ("s3://photos/inbox", "must name a folder"),
    ],
)
def test_the_watched_prefix_is_checked_and_written_as_events_name_objects(
    location: str, expected: str
) -> None:
    from flickr_ingest.errors import ConfigurationError
    from flickr_ingest.relay import watched_prefix

    if expected.startswith("s3://"):
        assert watched_prefix(location, setting="W") == expected
        return
    with pytest.raises(ConfigurationError, match=expected):
        watched_prefix(location, setting="W")
