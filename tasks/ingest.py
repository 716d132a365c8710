"""The ingest flow's tasks: each wraps one core step of `flickr_ingest.runs.Run`.

Tasks take and return plain values (ids, settings, frozen dataclasses); the live client,
source and ledger stay in the process, found by run id.
"""

from __future__ import annotations

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import task_run
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote

from flickr_ingest.flickr.errors import TransportError, is_retryable
from flickr_ingest.planning import Candidate, Decision, Quota
from flickr_ingest.report.model import AlbumRecord, FileRecord
from flickr_ingest.runs import Run, get_run, open_run
from flickr_ingest.settings import IngestSettings


def _run(run_id: str, settings: IngestSettings) -> Run:
    return get_run(run_id) or open_run(settings, run_id=run_id)


def with_retries(flickr_task: Task, settings: IngestSettings) -> Task:
    """The task with the run's retry policy: exponential backoff with jitter; whether to
    retry at all is `retry_if_transient`'s call."""
    return flickr_task.with_options(
        retries=settings.retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=settings.retry_backoff_seconds),
        retry_jitter_factor=0.5,
    )


#: Tries of a run's first call when Flickr cannot be reached at all: a server nobody can
#: connect to at the start is down or mistyped; say so in seconds, not minutes (nightly
#: runs and triggers try again). Other transient failures get the run's full retries.
UNREACHABLE_TRIES = 3


def retry_connect_if_transient(task, task_run, state) -> bool:
    """The connect task's retry_condition_fn: as `retry_if_transient`, but an unreachable
    server is tried `UNREACHABLE_TRIES` times at most."""
    try:
        state.result()
    except TransportError as error:
        return not (error.unreachable and task_run.run_count >= UNREACHABLE_TRIES)
    except Exception as error:
        return is_retryable(error)
    return False


def retry_if_transient(task, task_run, state) -> bool:
    """Prefect's retry_condition_fn: retry transient Flickr failures only."""
    try:
        state.result()
    except Exception as error:
        return is_retryable(error)
    return False


@task(
    name="connect",
    cache_policy=NO_CACHE,
    persist_result=False,
    retry_condition_fn=retry_connect_if_transient,
)
def connect(run_id: str, settings: IngestSettings) -> Quota:
    """Check the credentials with Flickr; returns the account's quota."""
    return _run(run_id, settings).connect()


@task(name="discover", cache_policy=NO_CACHE, persist_result=False)  # S3 retries inside
def discover_files(run_id: str, settings: IngestSettings) -> list[Candidate]:
    return _run(run_id, settings).discover()


def _group_name() -> str:
    decisions = task_run.parameters["decisions"]
    if isinstance(decisions, quote):  # the flow passes them quoted (not walked by Prefect)
        decisions = decisions.unquote()
    first = decisions[0].candidate.relative_path
    return f"upload {first}" + (f" and {len(decisions) - 1} more" if len(decisions) > 1 else "")


@task(
    name="upload",
    task_run_name=_group_name,
    cache_policy=NO_CACHE,
    persist_result=False,
    retry_condition_fn=retry_if_transient,
)
def upload_files(
    decisions: list[Decision], run_id: str, settings: IngestSettings
) -> list[FileRecord]:
    """Upload one file, or a group of small ones (one task run each costs Prefect more
    than a small upload does); a retry sends only what has not finished."""
    context = TaskRunContext.get()
    attempt = context.task_run.run_count if context else 1
    return _run(run_id, settings).upload_group(decisions, attempt=attempt)


@task(
    name="arrange-albums",
    cache_policy=NO_CACHE,
    persist_result=False,
    retry_condition_fn=retry_if_transient,
)
def arrange_albums(
    run_id: str, settings: IngestSettings, members: dict[str, list[str]]
) -> list[AlbumRecord]:
    """Put in any photo the uploads missed and order each album by date taken."""
    return _run(run_id, settings).arrange_albums(members)
