"""The pacing of `flickr_ingest.pacing`, shared through the Prefect server by every task,
worker and machine that uses one Flickr API key.

- The REST budget is a Prefect global concurrency limit with slot decay: a token bucket
  on the server whose size is the burst and whose decay is the refill. Prefect silently
  skips a limit that does not exist, so it is created here, and a take of a missing one
  is an error.
  Each process takes slots a few at a time and hands them out at once (no pacing of its
  own: the bucket is the budget).
- The optional upload cap (`uploads_per_hour`) is a second such bucket.
- Upload throttle episodes (Flickr's "slow down") are kept in a Prefect Variable, read at
  most once a second per process, so one worker's signal slows every worker.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectAlreadyExists, PrefectHTTPStatusError
from prefect.variables import Variable

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr import FlickrClient
from flickr_ingest.flickr.errors import MAX_WAIT_SECONDS
from flickr_ingest.numbers import parse_seconds
from flickr_ingest.pacing import (
    Pacing,
    Throttle,
    UploadGate,
    burst_for,
    refill_per_second,
    throttle_from,
)
from flickr_ingest.settings import IngestSettings

LIMIT_NAME = "flickr-api"
UPLOAD_LIMIT_NAME = "flickr-uploads"
#: Slots a process takes from the server at once (fewer round trips to the server).
BATCH = 10
_BOARD_READ_SECONDS = 1.0
#: How long a run waits at its end for the Prefect server to confirm its first batch (a
#: busy server took 3 s; the payment goes on while the process lives).
SETTLE_SECONDS = 2.0

logger = logging.getLogger(__name__)


def ensure_budget(calls_per_hour: int, name: str = LIMIT_NAME) -> None:
    """Create or update the server-side bucket for `calls_per_hour`. Prefect's upsert is
    not atomic: when workers start together, one creates and the others' creates
    conflict; they then update what the winner made."""
    with get_client(sync_client=True) as client:
        for attempt in (1, 2):
            try:
                client.upsert_global_concurrency_limit_by_name(
                    name,
                    limit=burst_for(calls_per_hour),
                    slot_decay_per_second=refill_per_second(calls_per_hour),
                )
                return
            except ObjectAlreadyExists:
                if attempt == 2:
                    raise


def take_slots(name: str, slots: int) -> None:
    """Take `slots` from the server's bucket `name`, waiting while it is empty (the server
    answers 423 with Retry-After). Prefect's `rate_limit` does the same and also emits an
    event per take, from a service that stops at exit, where a take still in flight then
    fails loudly; so the budget talks to the API itself."""
    with get_client(sync_client=True) as client:
        while True:
            try:
                answer = client.increment_concurrency_slots(
                    names=[name], slots=slots, mode="rate_limit"
                )
            except PrefectHTTPStatusError as error:
                if error.response.status_code != 423:
                    raise
                # The server's wait, read strictly and never more than the cap: ask again.
                named = parse_seconds(error.response.headers.get("Retry-After"))
                time.sleep(min(named if named is not None else 1.0, MAX_WAIT_SECONDS))
                continue
            if not answer.json():  # Prefect answers [] for a limit that does not exist
                raise ConfigurationError(f"the Prefect global concurrency limit {name!r} is gone")
            return


class SharedBudget:
    """Blocks a caller until the shared bucket grants it one call.

    A process starts with one batch on credit, paid for in the background: the server
    answers slowly while it records a run's task events (seconds, on SQLite, just after a
    run), and a run's first calls should not wait for that. The payment is made before the
    next batch is taken, so the budget holds on average and each process is at most one
    batch ahead of it; a run that ends first waits for it a moment (`settle`), then leaves
    it to finish on its own."""

    def __init__(self, calls_per_hour: int, name: str = LIMIT_NAME) -> None:
        self.name = name
        self.batch = min(BATCH, burst_for(calls_per_hour))
        self._tokens = self.batch
        self._lock = threading.Lock()
        self._payment_error: BaseException | None = None
        self._payment = threading.Thread(target=self._pay_for_credit, daemon=True)
        self._payment.start()

    def acquire(self) -> None:
        with self._lock:  # callers queue here, so the server sees one request at a time
            if self._tokens == 0:
                self._payment.join()  # the credit is settled before more is taken
                if self._payment_error is not None:
                    raise self._payment_error
                take_slots(self.name, self.batch)
                self._tokens = self.batch
            self._tokens -= 1

    def settle(self, timeout: float = SETTLE_SECONDS) -> None:
        """Give the credit's payment a moment to be made before the process ends."""
        self._payment.join(timeout)
        if self._payment.is_alive():
            logger.debug("the REST budget's credit of %d calls is still being paid", self.batch)

    def _pay_for_credit(self) -> None:
        try:
            take_slots(self.name, self.batch)
        except BaseException as error:  # e.g. the limit is gone: the next batch says so
            self._payment_error = error


class VariableThrottleBoard:
    """Upload throttle episodes in a Prefect Variable, one per API key. Two workers that
    hear a signal at the same moment may each write: the later one stands, and both
    episodes are "wait, then slow down", so nothing is lost that matters."""

    def __init__(self, api_key: str) -> None:
        digest = hashlib.sha256(api_key.encode()).hexdigest()[:16]  # no key in the UI
        self.name = f"flickr_ingest_upload_throttle_{digest}"
        self._cached = Throttle()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def read(self) -> Throttle:
        with self._lock:
            if time.monotonic() - self._read_at >= _BOARD_READ_SECONDS:
                self._cached = throttle_from(Variable.get(self.name, default=None))
                self._read_at = time.monotonic()
            return self._cached

    def write(self, update: Callable[[Throttle], Throttle]) -> Throttle:
        with self._lock:
            throttle = update(throttle_from(Variable.get(self.name, default=None)))
            Variable.set(self.name, asdict(throttle), overwrite=True)
            self._cached, self._read_at = throttle, time.monotonic()
            return throttle


def use_shared_pacing(flickr: FlickrClient, settings: IngestSettings) -> Callable[[], None]:
    """Make `flickr` keep the key's REST budget and upload signals with every worker.
    Returns what settles the budgets' credit: call it before the run ends."""
    rest_budget = upload_cap = None
    if settings.api_calls_per_hour:
        ensure_budget(settings.api_calls_per_hour)
        rest_budget = SharedBudget(settings.api_calls_per_hour)
    if settings.uploads_per_hour:
        ensure_budget(settings.uploads_per_hour, UPLOAD_LIMIT_NAME)
        upload_cap = SharedBudget(settings.uploads_per_hour, UPLOAD_LIMIT_NAME)
    gate = UploadGate(
        settings.concurrency,
        board=VariableThrottleBoard(flickr.credentials.api_key),
        cap=upload_cap.acquire if upload_cap else None,
    )
    # The bandwidth cap is this process's (the run's lanes share it); not yet the key's.
    flickr.pacing = Pacing(
        rest_budget.acquire if rest_budget else None, gate, bandwidth=flickr.pacing.bandwidth
    )
    budgets = [budget for budget in (rest_budget, upload_cap) if budget is not None]

    def settle() -> None:
        for budget in budgets:
            budget.settle()

    return settle
