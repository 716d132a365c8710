"""What a Prefect server needs before ingest runs go to workers: the work pool, the
Flickr REST budget every worker shares (Prefect skips a limit that does not exist, so
it is created here, and again by every run), and the block types that hold credentials
(the local server does not register every type at start; the dashboard then offers
these)."""

from __future__ import annotations

from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists
from prefect_aws import AwsCredentials

from flows.pacing import LIMIT_NAME, ensure_budget


def setup(work_pool: str, calls_per_hour: int) -> list[str]:
    """Create the work pool (process type) if missing and set the rate limit; returns
    what was done, for people."""
    done = []
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=work_pool, type="process"))
            done.append(f"created work pool {work_pool!r} (process)")
        except ObjectAlreadyExists:
            done.append(f"work pool {work_pool!r} exists")
    for block in (Secret, AwsCredentials):
        block.register_type_and_schema()
    done.append("block types Secret and AWS Credentials registered")
    if calls_per_hour:
        ensure_budget(calls_per_hour)
        done.append(f"REST budget {LIMIT_NAME!r}: {calls_per_hour} Flickr API calls per hour")
    else:
        done.append("no REST budget (api_calls_per_hour is 0)")
    return done
