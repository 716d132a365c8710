"""A flow run started by a deployment: held to what the deployment was set up for
(flickr_ingest/confinement.py says why and how)."""

from __future__ import annotations

from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext

from flickr_ingest.confinement import allowed_sources, check_confined, check_durable
from flickr_ingest.settings import IngestSettings


def confine_deployment_run(settings: IngestSettings) -> None:
    """For a run of a deployment (not one started in this process by the CLI or a test):
    refuse, before anything is read or written, a source or report folder outside the
    deployment's own, and a ledger or report location that would not outlive the run."""
    context = FlowRunContext.get()
    deployment_id = context.flow_run.deployment_id if context and context.flow_run else None
    if deployment_id is None:
        return
    with get_client(sync_client=True) as client:
        # The deployment's own parameters, not this run's: a flow run may override those.
        defaults = (client.read_deployment(deployment_id).parameters or {}).get("settings") or {}
    watched = [str(defaults["source"])] if defaults.get("source") else []
    report_root = str(defaults.get("report_dir") or IngestSettings.from_environment().report_dir)
    check_durable(settings, working_dir=Path.cwd())
    check_confined(settings, sources=watched + allowed_sources(), report_root=report_root)
