"""Steps `prefect deploy` runs (deployments/prefect.yaml's `build` section) before it
creates the deployments."""

from __future__ import annotations

from prefect.variables import Variable

from flickr_ingest.confinement import checked_report_location
from flickr_ingest.relay import watched_prefix

WATCH_VARIABLE = "flickr_ingest_watch"
REPORTS_VARIABLE = "flickr_ingest_reports"


def watched_location() -> dict[str, str]:
    """The prefix to watch and sweep, read from the Prefect Variable when deploying and
    checked: unset, empty or malformed, the deploy stops with what to set. The deployments
    keep the value they were deployed with: after changing the Variable, deploy again."""
    value = Variable.get(WATCH_VARIABLE, default="")
    return {
        "location": watched_prefix(
            str(value or ""), setting=f"the Prefect Variable {WATCH_VARIABLE}"
        )
    }


def report_location() -> dict[str, str]:
    """Where the deployments' runs write their reports, read from the Prefect Variable
    when deploying and checked (`checked_report_location`)."""
    value = Variable.get(REPORTS_VARIABLE, default="")
    return {
        "location": checked_report_location(
            str(value or ""),
            setting=f"the Prefect Variable {REPORTS_VARIABLE}",
            watched=watched_location()["location"],
        )
    }
