"""Steps `prefect deploy` runs (deployments/prefect.yaml's `build` section) before it
creates the deployments."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

from prefect.variables import Variable

from flickr_ingest.confinement import checked_report_location
from flickr_ingest.errors import ConfigurationError
from flickr_ingest.relay import watched_prefix

WATCH_VARIABLE = "flickr_ingest_watch"
REPORTS_VARIABLE = "flickr_ingest_reports"


def _refusal_in_one_line(step: Callable[[], dict[str, str]]) -> Callable[[], dict[str, str]]:
    """A refused setting ends `prefect deploy` with one `Error:` line, not the two
    tracebacks Prefect prints around any exception a step raises (it lets SystemExit
    through as it is)."""

    @functools.wraps(step)
    def checked() -> dict[str, str]:
        try:
            return step()
        except ConfigurationError as error:
            print(f"Error: {error}", file=sys.stderr)
            raise SystemExit(1) from None

    return checked


@_refusal_in_one_line
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


@_refusal_in_one_line
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


def keep_reports_in(location: str) -> str:
    """Set the report location the deployments are made with (checked as the deploy
    checks it: absolute or s3://, not under the watched prefix when one is set)."""
    watched = str(Variable.get(WATCH_VARIABLE, default="") or "") or None
    checked = checked_report_location(location, setting="--reports", watched=watched)
    Variable.set(REPORTS_VARIABLE, checked, overwrite=True)
    return (
        f"reports: deployment runs keep them in {checked} (the Prefect Variable"
        f" {REPORTS_VARIABLE}; deploy again after changing it)"
    )
