"""Where a run's report is written, and the report of a run that could not start."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flickr_ingest.paths import child
from flickr_ingest.report.model import RunReport
from flickr_ingest.report.publish import publish
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.writers import write_report
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources.s3 import make_client


def now_text() -> str:
    """The time now as reports say it (UTC, to the second)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def report_folder(settings: IngestSettings, run_id: str) -> Path:
    """The local folder the report is written in (for an s3:// report_dir, a staging
    folder under the state folder, copied to S3 at the end)."""
    if settings.report_dir.startswith("s3://"):
        return child(settings.state_path / "reports", run_id)
    # Absolute: the paths printed and put in the dashboard's artifacts work from anywhere.
    return child(Path(settings.report_dir).expanduser().absolute(), run_id)


def save_report(
    report: RunReport, settings: IngestSettings, *, s3_client: Any = None
) -> dict[str, str]:
    """Write the report and put it where `report_dir` says; returns where each file is."""
    folder = report_folder(settings, report.run_id)
    write_report(report, folder)
    if settings.report_dir.startswith("s3://") and s3_client is None:
        s3_client = make_client(settings.s3_endpoint_url)
    return publish(folder, settings.report_dir, report.run_id, s3_client=s3_client)


def unopened_report(settings: IngestSettings, run_id: str, error: BaseException) -> RunReport:
    """The report of a run that could not even start (no connection, bad credentials)."""
    return RunReport(
        run_id=run_id,
        started_at=now_text(),
        finished_at=now_text(),
        source=settings.source,
        sandbox=False,
        account="(not connected)",
        files=RecordLog.of(()),
        notes=(f"The run could not start: {error}", "Nothing was uploaded or marked done."),
        dry_run=settings.dry_run,
    )
