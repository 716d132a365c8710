"""The one rule for trying a Flickr step again, and the local way of applying it.

Whether a failure is worth another try is `errors.is_retryable`'s call, with one
exception: a server nobody can connect to at the very start of a run is down or
mistyped, so the first call gives up after UNREACHABLE_TRIES (nightly runs and triggers
try again later). The Prefect steps hand this rule to Prefect's task retries
(`tasks/ingest.py`); the local steps (`pipeline.LocalSteps`) apply it here, with the same
backoff and jitter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from flickr_ingest.flickr.errors import TransportError, is_retryable
from flickr_ingest.settings import IngestSettings

T = TypeVar("T")

#: Tries of a run's first call when Flickr cannot be reached at all.
UNREACHABLE_TRIES = 3
#: Each wait is stretched or shrunk by up to this share of itself, so that lanes that
#: failed together do not come back together.
JITTER = 0.5


def worth_another_try(error: BaseException, tries: int, *, first_call: bool = False) -> bool:
    """Whether a step that failed with `error` after `tries` tries is tried again (the
    run's `retries` cap the count separately)."""
    if first_call and isinstance(error, TransportError) and error.unreachable:
        return tries < UNREACHABLE_TRIES
    return isinstance(error, Exception) and is_retryable(error)


def backoff_seconds(settings: IngestSettings) -> list[float]:
    """The wait before each retry: doubling from `retry_backoff_seconds` (Prefect's
    `exponential_backoff`)."""
    return [settings.retry_backoff_seconds * 2**n for n in range(settings.retries)]


def tries_said(error: Exception, tries: int, seconds: float) -> Exception:
    """A Flickr nobody could connect to, said with how hard the run tried; other errors
    as they are."""
    if not (isinstance(error, TransportError) and error.unreachable):
        return error
    return TransportError(f"{error} ({tries} tries over {seconds:.0f} s)", unreachable=True)


def call_with_retries(
    step: Callable[[int], T],
    settings: IngestSettings,
    *,
    first_call: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`step(attempt)` until it succeeds, gives up for good, or the run's retries are
    spent; the last error is raised."""
    waits = backoff_seconds(settings)
    attempt = 1
    while True:
        try:
            return step(attempt)
        except Exception as error:
            if attempt > len(waits) or not worth_another_try(error, attempt, first_call=first_call):
                raise
            wait = waits[attempt - 1]
            sleep(max(0.0, wait + random.uniform(-JITTER, JITTER) * wait))
            attempt += 1
