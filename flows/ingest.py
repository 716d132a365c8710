"""The `ingest` flow: the Prefect shell around `flickr_ingest.pipeline`.

It reads as a table of contents: the run's settings, a deployment run's confinement,
the pipeline with Prefect's steps (`flows/steps.py`), and a summary. What the run tells
people goes to the dashboard (`flows/artifacts.py`) and, for a run started at a
terminal, to that terminal's display too.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.task_runners import ThreadPoolTaskRunner

from flickr_ingest import pipeline
from flickr_ingest.paths import check_run_id, new_run_id
from flickr_ingest.progress import Listeners, RunListener
from flickr_ingest.report.model import RunReport
from flickr_ingest.settings import IngestSettings
from flows.artifacts import DashboardListener
from flows.confinement import confine_deployment_run
from flows.credentials import load_secret_credentials, s3_client_from_block
from flows.run_states import cancelled_if_interrupted
from flows.steps import prefect_steps

#: The display of a run started at a terminal (`ingest_in_this_process`), if any.
_terminal: ContextVar[RunListener | None] = ContextVar("terminal_listener", default=None)


def _run_name() -> str:
    """A flow run is named by its run id: the one it was given, else a new one."""
    given = flow_run.parameters.get("run_id")
    return given if isinstance(given, str) and given else new_run_id()


@flow(name="ingest", flow_run_name=_run_name, task_runner=ThreadPoolTaskRunner(max_workers=64))
def ingest(settings: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
    """Upload every photo and video of the settings' `source` (a folder or
    s3://bucket/prefix, or just `keys` of it) to Flickr exactly once, file them into
    albums, and write an audit report. `settings` are the run's settings by name
    (flickr_ingest/settings.py; those not given come from the worker's FLICKR_INGEST_*
    environment, then the defaults). `run_id` names the run and its report; without one,
    the run is named by a new id."""
    run_settings = IngestSettings.from_parameters(settings)
    run_id = check_run_id(run_id or flow_run.name or new_run_id())
    confine_deployment_run(run_settings)  # a deployment's run: before anything is touched
    dashboard, terminal = DashboardListener(run_id), _terminal.get()
    if terminal is not None:  # where its person can follow the run, and find it again
        terminal.said(f"This run in the Prefect dashboard: {flow_run.ui_url}")
    try:
        report, where = pipeline.ingest(
            run_settings,
            run_id,
            steps=prefect_steps,
            listener=Listeners(dashboard, *filter(None, [terminal])),
            stored_credentials=load_secret_credentials(run_settings.secret_block),
            s3_client=s3_client_from_block(run_settings.aws_credentials_block),
        )
    finally:
        dashboard.close()
    return _summary(report, where)


def ingest_in_this_process(listener: RunListener, **parameters: Any) -> dict[str, Any]:
    """The ingest flow run here, as `flickr-ingest run` starts it, `listener` hearing it
    as it goes; without flow-run heartbeats. They serve automations that mark runs whose
    process vanished; a run in a terminal has its person watching, and Prefect ends every
    run with heartbeats by waiting out its heartbeat thread's one-second sleep. A run its
    person stops with Ctrl-C ends Cancelled, not Crashed."""
    token = _terminal.set(listener)
    try:
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            return ingest.with_options(on_crashed=[cancelled_if_interrupted])(**parameters)
    finally:
        _terminal.reset(token)


def _summary(report: RunReport, where: dict[str, str]) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "ok": report.ok,
        "totals": report.totals,
        "sandbox": report.sandbox,
        "organize_urls": list(report.organize_urls),
        "albums": [album.to_json() for album in report.albums],
        "api_calls": report.api_calls,
        "report": dict(where),
    }
