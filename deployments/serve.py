"""Serve the ingest deployments from this process, without a work pool: the nightly
sweep and the new-object trigger. For small setups and for the end-to-end test; larger
ones use `prefect deploy --all` (deployments/prefect.yaml) and workers.

    FLICKR_INGEST_WATCH=s3://bucket/inbox/ python3 -m deployments.serve

FLICKR_INGEST_WATCH is the prefix watched and swept; FLICKR_INGEST_REPORT_DIR (an absolute
folder or an s3:// prefix) is where the runs' reports go, and the only place a flow run may
put them; FLICKR_INGEST_TRIGGER_WINDOW (seconds, default 60) is how long a burst of new
objects is gathered into one run.
"""

from __future__ import annotations

import os
from datetime import timedelta

from prefect import serve
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from flickr_ingest.confinement import checked_report_location
from flickr_ingest.relay import EVENT_NAME, watched_prefix
from flows.ingest import ingest


def deployments() -> list:
    watched = watched_prefix(
        os.environ.get("FLICKR_INGEST_WATCH", ""), setting="FLICKR_INGEST_WATCH"
    )
    reports = checked_report_location(
        os.environ.get("FLICKR_INGEST_REPORT_DIR", ""),
        setting="FLICKR_INGEST_REPORT_DIR",
        watched=watched,
    )
    parameters = {"settings": {"source": watched, "report_dir": reports}}
    window = timedelta(seconds=float(os.environ.get("FLICKR_INGEST_TRIGGER_WINDOW", "60")))
    on_new_objects = DeploymentEventTrigger(
        name="new objects under the watched prefix",
        expect={EVENT_NAME},
        match={"prefect.resource.id": f"{watched}*"},
        posture="Reactive",
        threshold=1,
        within=window,  # fire once per window, however many objects arrive in it
        schedule_after=window,  # and start after the window, when the burst is in
        parameters=parameters,
    )
    return [
        ingest.to_deployment(
            name="on-new-objects",
            triggers=[on_new_objects],
            parameters=parameters,
            concurrency_limit=1,
        ),
        ingest.to_deployment(
            name="nightly", cron="0 2 * * *", parameters=parameters, concurrency_limit=1
        ),
    ]


if __name__ == "__main__":
    serve(*deployments())
