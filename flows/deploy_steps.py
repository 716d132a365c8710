"""Steps `prefect deploy` runs (deployments/prefect.yaml's `build` section) before it
creates the deployments."""

from __future__ import annotations

from prefect.variables import Variable

from flickr_ingest.relay import watched_prefix

WATCH_VARIABLE = "flickr_ingest_watch"


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
