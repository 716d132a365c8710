"""The ingest flow's tasks: each carries out one step of `flickr_ingest.pipeline` as a
Prefect task run, with Prefect's retries under the run's one retry rule
(`flickr_ingest.retrying`).

A task is handed what its step works on (the open run, a group of files; quoted by the
caller, so that Prefect does not walk them): nothing is looked up by id.
"""

from __future__ import annotations

from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.context import TaskRunContext
from prefect.runtime import task_run
from prefect.states import State
from prefect.tasks import exponential_backoff

from flickr_ingest.albums import Albums
from flickr_ingest.lanes import GroupUpload
from flickr_ingest.planning import Candidate
from flickr_ingest.report.model import AlbumRecord, FileRecord
from flickr_ingest.retrying import JITTER, worth_another_try
from flickr_ingest.runs import Account, OpenRun
from flickr_ingest.settings import IngestSettings


def with_retries(flickr_task: Task[Any, Any], settings: IngestSettings) -> Task[Any, Any]:
    """The task with the run's retries: exponential backoff with jitter; whether to
    retry at all is the retry rule's call."""
    return flickr_task.with_options(
        retries=settings.retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=settings.retry_backoff_seconds),
        retry_jitter_factor=JITTER,
    )


def _failed_with(state: State[Any]) -> BaseException | None:
    try:
        state.result()
    except BaseException as error:
        return error
    return None


def retry_first_call(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """The connect task's retry_condition_fn: the retry rule for a run's first call."""
    error = _failed_with(state)
    return error is not None and worth_another_try(error, task_run.run_count, first_call=True)


def retry_if_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """The other tasks' retry_condition_fn: the retry rule."""
    error = _failed_with(state)
    return error is not None and worth_another_try(error, task_run.run_count)


@task(
    name="connect",
    cache_policy=NO_CACHE,
    persist_result=False,
    retry_condition_fn=retry_first_call,
)
def connect(run: OpenRun) -> Account:
    """Check the credentials with Flickr: who they are, the account's quota."""
    return run.connect()


@task(name="discover", cache_policy=NO_CACHE, persist_result=False)  # S3 retries inside
def discover_files(run: OpenRun, account: Account) -> list[Candidate]:
    return run.discover(account)


def _group_name() -> str:
    group = task_run.parameters["group"]
    return str(group.name)


@task(
    name="upload",
    task_run_name=_group_name,
    cache_policy=NO_CACHE,
    persist_result=False,
    retry_condition_fn=retry_if_transient,
)
def upload_files(group: GroupUpload) -> list[FileRecord]:
    """Upload one file, or a group of small ones (one task run each costs Prefect more
    than a small upload does); a retry sends only what has not finished."""
    context = TaskRunContext.get()
    return group.attempt(context.task_run.run_count if context else 1)


@task(
    name="arrange-albums",
    cache_policy=NO_CACHE,
    persist_result=False,
    retry_condition_fn=retry_if_transient,
)
def arrange_albums(albums: Albums, members: dict[str, list[str]]) -> list[AlbumRecord]:
    """Put in any photo the uploads missed and order each album by date taken."""
    return albums.arrange(members)
