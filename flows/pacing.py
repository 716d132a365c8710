"""One Flickr API rate limit for every task, worker and machine.

A Prefect global concurrency limit with slot decay (a token bucket on the server) holds
across processes; it is created here, because Prefect silently skips a limit that does
not exist. Asking the server for every single call is slow when many threads contend
(each refusal makes a thread wait about a second), so each process takes slots in small
batches and hands them out locally, evenly paced. The bucket refills at
(calls_per_hour - batch)/3600 per second, so that a full hour never exceeds the limit.
"""

from __future__ import annotations

import threading
import time

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import rate_limit

from flickr_ingest.flickr import FlickrClient

LIMIT_NAME = "flickr-api"


def batch_size(calls_per_hour: int) -> int:
    return max(1, min(10, calls_per_hour // 360))


def ensure_rate_limit(calls_per_hour: int, name: str = LIMIT_NAME) -> None:
    """Create or update the server-side bucket for `calls_per_hour`."""
    batch = batch_size(calls_per_hour)
    refill = max(calls_per_hour - batch, 1) / 3600
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(
            name, limit=batch, slot_decay_per_second=refill
        )


class SharedRateLimit:
    """Blocks each caller until it may make one Flickr call."""

    def __init__(self, calls_per_hour: int, name: str = LIMIT_NAME) -> None:
        self.name = name
        self.batch = batch_size(calls_per_hour)
        self.interval = 3600 / calls_per_hour
        self._tokens = 0
        self._next_call = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:  # callers queue here, so the server sees one request at a time
            if self._tokens == 0:
                rate_limit(self.name, occupy=self.batch, strict=True)
                self._tokens = self.batch
            self._tokens -= 1
            now = time.monotonic()
            wait = self._next_call - now
            self._next_call = max(now, self._next_call) + self.interval
        if wait > 0:
            time.sleep(wait)


def use_shared_rate_limit(
    flickr: FlickrClient, calls_per_hour: int, name: str = LIMIT_NAME
) -> None:
    """Make every request of `flickr` wait for its turn under the shared limit."""
    ensure_rate_limit(calls_per_hour, name)
    flickr.before_request = SharedRateLimit(calls_per_hour, name).acquire
