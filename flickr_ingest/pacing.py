"""Pacing calls to Flickr: two budgets, as Flickr itself keeps them.

- **REST calls** (`flickr.*` methods) share the API key's budget: Flickr asks for at most
  3,600 queries an hour across every user of a key. It is a budget with a burst, not a
  metronome: a run that needs a few hundred calls makes them at once, and a long run
  keeps to the hourly figure on average (`burst_for`, `refill_per_second`; the Prefect
  shell keeps the bucket on the Prefect server, so it holds across processes and
  machines, and hands its `acquire` to `Pacing` as the REST budget).
- **Uploads and replaces** go to their own endpoint, which Flickr throttles with its own
  signals: upload error 14 with `non_pro_desktop_upload_wait_time`, HTTP 429 or 503,
  `Retry-After`. `UploadGate` obeys them: on a signal every upload on the key waits out
  the named time, then the number allowed in flight is halved and grows back over
  `recovery_seconds`. The episode is kept on a `ThrottleBoard`, which the Prefect shell
  shares between workers, so one worker's signal slows them all. An optional hard cap
  (`uploads_per_hour`) is one more bucket (`cap`).

Nothing here retries: a throttled upload still fails, and the one retry layer (the
Prefect task) sends it again, after the gate lets it through. No wait is longer than
`errors.MAX_WAIT_SECONDS`: an episode that ends later (a broken server's ask is refused
by the client; a planted board) is not waited, and the upload fails with `WaitTooLong`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from flickr_ingest.bandwidth import ByteBudget
from flickr_ingest.flickr import errors
from flickr_ingest.numbers import parse_seconds

#: Waited when a throttle signal names no time.
DEFAULT_THROTTLE_SECONDS = 2.0
#: After a throttle episode, the time for uploads in flight to grow back to the full number.
RECOVERY_SECONDS = 60.0
_MIN_LEVEL = 1 / 64


def burst_for(calls_per_hour: int) -> int:
    """The calls a bucket can hand out at once: an eighth of the hour's budget (450 of
    3,600), so a few hundred calls never wait and a full hour still keeps to the budget."""
    return max(1, calls_per_hour // 8)


def refill_per_second(calls_per_hour: int) -> float:
    """The refill that keeps burst + an hour of refill within `calls_per_hour`."""
    return max(calls_per_hour - burst_for(calls_per_hour), 1) / 3600


@dataclass(frozen=True)
class Throttle:
    """One throttle episode: uploads wait until `until` (epoch seconds), then start again
    at `level` (a share of the uploads allowed in flight)."""

    until: float = 0.0
    level: float = 1.0

    def level_at(self, now: float, recovery_seconds: float) -> float:
        """The share allowed at `now`: `level` at the end of the wait, back to 1 over
        `recovery_seconds`."""
        if now < self.until:
            return self.level
        return min(1.0, self.level + (now - self.until) / recovery_seconds * (1 - self.level))

    def after_signal(self, now: float, wait: float, recovery_seconds: float) -> Throttle:
        """The episode after a new throttle signal. Signals inside a running wait (every
        upload in flight hears the same "slow down") extend it without halving again."""
        until = max(self.until, now + wait)
        if now < self.until:
            return Throttle(until, self.level)
        return Throttle(until, max(_MIN_LEVEL, self.level_at(now, recovery_seconds) / 2))


def throttle_from(stored: object) -> Throttle:
    """The episode a board stored as `{"until": epoch seconds, "level": share}`; no
    episode for anything else (anyone who can write the board may write anything)."""
    if not isinstance(stored, dict):
        return Throttle()
    until, level = _seconds(stored.get("until")), _seconds(stored.get("level"))
    if until is None or level is None:
        return Throttle()
    return Throttle(until, min(1.0, max(_MIN_LEVEL, level)))


def _seconds(value: object) -> float | None:
    """A non-negative, finite number, as JSON gives it or as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if 0 <= value < float("inf") else None
    return parse_seconds(value) if isinstance(value, str) else None


class ThrottleBoard(Protocol):
    """Where upload throttle episodes are kept for everyone uploading on one key."""

    def read(self) -> Throttle: ...

    def write(self, update: Callable[[Throttle], Throttle]) -> Throttle: ...


class LocalThrottleBoard:
    """A board for one process."""

    def __init__(self) -> None:
        self._throttle = Throttle()
        self._lock = threading.Lock()

    def read(self) -> Throttle:
        return self._throttle

    def write(self, update: Callable[[Throttle], Throttle]) -> Throttle:
        with self._lock:
            self._throttle = update(self._throttle)
            return self._throttle


def throttle_wait(error: BaseException) -> float | None:
    """The seconds Flickr asked us to slow down for, if `error` is a throttle signal:
    upload error 14, HTTP 429 or 503, or any answer that named a Retry-After."""
    if not isinstance(error, errors.TransientError):
        return None
    named = error.retry_after
    status = getattr(error, "status", None)
    if named is not None or error.code == 14 or status in (429, 503):
        return named if named is not None else DEFAULT_THROTTLE_SECONDS
    return None


class UploadGate:
    """Lets uploads through as fast as Flickr allows: no pace of its own until Flickr
    sends a throttle signal (see the module docstring)."""

    def __init__(
        self,
        max_in_flight: int,
        *,
        board: ThrottleBoard | None = None,
        cap: Callable[[], None] | None = None,
        recovery_seconds: float = RECOVERY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_in_flight = max_in_flight
        self.board = board or LocalThrottleBoard()
        self.recovery_seconds = recovery_seconds
        self._cap = cap  # blocks until the hard cap on uploads allows one more
        self._clock = clock
        self._in_flight = 0
        self._changed = threading.Condition()
        self.signals = 0  # throttle signals this process heard

    def allowed_now(self) -> tuple[int, float]:
        """(uploads allowed in flight now, seconds to wait before any may start)."""
        throttle, now = self.board.read(), self._clock()
        level = throttle.level_at(now, self.recovery_seconds)
        return max(1, int(self.max_in_flight * level)), max(0.0, throttle.until - now)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one upload slot while sending; a throttle signal raised inside is noted."""
        if self._cap is not None:
            self._cap()
        with self._changed:
            while True:
                allowed, wait = self.allowed_now()
                if wait > errors.MAX_WAIT_SECONDS:
                    raise errors.WaitTooLong("the shared upload throttle", wait=wait)
                if wait <= 0 and self._in_flight < allowed:
                    break
                # The board may change under us (another worker's signal): look again soon.
                self._changed.wait(timeout=min(wait, 1.0) if wait > 0 else 0.5)
            self._in_flight += 1
        try:
            yield
        except errors.FlickrError as error:
            asked_to_wait = throttle_wait(error)
            if asked_to_wait is not None:
                self.throttled(asked_to_wait)
            raise
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    def throttled(self, wait: float) -> None:
        now = self._clock()
        self.signals += 1
        self.board.write(lambda throttle: throttle.after_signal(now, wait, self.recovery_seconds))
        with self._changed:
            self._changed.notify_all()


class Pacing:
    """What the client waits for: `before_rest_call()` before each REST call (the key's
    budget, and any Retry-After a REST answer named), `upload_slot()` around each upload
    or replace (the upload gate), `sending(n)` before each piece of an upload's body (the
    bandwidth cap)."""

    def __init__(
        self,
        rest_budget: Callable[[], None] | None = None,
        uploads: UploadGate | None = None,
        bandwidth: ByteBudget | None = None,
    ) -> None:
        self.rest_budget = rest_budget
        self.uploads = uploads or UploadGate(max_in_flight=64)
        self.bandwidth = bandwidth  # the cap on upload bytes a second (--bwlimit), if any
        self._rest_paused_until = 0.0  # monotonic

    def sending(self, size: int) -> None:
        """`size` more bytes of an upload are about to go: within the bandwidth cap."""
        if self.bandwidth is not None:
            self.bandwidth.take(size)

    def before_rest_call(self) -> None:
        wait = self._rest_paused_until - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if self.rest_budget is not None:
            self.rest_budget()

    def rest_throttled(self, error: BaseException) -> None:
        """A REST answer asked us to slow down: the next REST calls wait that long."""
        wait = throttle_wait(error)
        if wait is not None:
            self._rest_paused_until = max(self._rest_paused_until, time.monotonic() + wait)

    @contextmanager
    def upload_slot(self) -> Iterator[None]:
        with self.uploads.slot():
            yield
