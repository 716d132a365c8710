"""The sandbox's network: injected faults, latency, bandwidth caps, a rate limit, a log.

Everything here is about how requests travel, not about Flickr's data, so it stays out of
the state model. Settings change while the server runs (the `/sandbox/faults` endpoint).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from flickr_ingest.numbers import parse_seconds

#: Fault names accepted in a fault spec, and what each does.
FAULTS = {
    "lost": "the request is carried out, then the connection drops before the answer",
    "stalled": "the upload is carried out, then its answer waits `stall_seconds` (a client"
    " killed meanwhile never hears that Flickr has the photo)",
    "reset": "the connection drops while the request body is being received",
    "3": "Flickr error 3, General upload failure",
    "14": "Flickr error 14, Server at capacity (with a wait time)",
    "105": "Flickr error 105, Service currently unavailable",
    "106": "Flickr error 106, Write operation failed",
    "429": "HTTP 429 Too Many Requests with Retry-After",
    "500": "HTTP 500 with an HTML page",
    "502": "HTTP 502 with an HTML page",
    "503": "HTTP 503 with an HTML page",
    "504": "HTTP 504, CloudFront's gateway timeout page",
}


UPLOAD_ONLY_FAULTS = frozenset({"3", "14", "stalled"})


def parse_fault_spec(spec: str) -> dict[str, float]:
    """`"lost=0.1,reset=0.05,105=0.05"` -> {"lost": 0.1, ...}; ValueError on anything else."""
    rates: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in FAULTS:
            names = ", ".join(FAULTS)
            raise ValueError(f"bad fault {item!r}: expected NAME=PROBABILITY, NAME one of {names}")
        rate = parse_seconds(value)  # a plain decimal: no '1e-3', 'nan' or '٠.٥'
        if rate is None:
            raise ValueError(f"bad fault {item!r}: {value!r} is not a probability")
        if not 0 <= rate <= 1:
            raise ValueError(f"bad fault {item!r}: a probability lies between 0 and 1")
        rates[name] = rate
    if sum(rates.values()) > 1:
        raise ValueError("fault probabilities add up to more than 1")
    return rates


@dataclass(frozen=True)
class TrafficSettings:
    faults: dict[str, float] = field(default_factory=dict)
    # Faults for the next requests, in order, before any drawn: one request each (a test
    # that needs "exactly one upload is throttled" queues one). Errors 3 and 14 and stalls
    # wait for an upload.
    next_faults: tuple[str, ...] = ()
    # Faults for the next uploads (and replaces), in order; REST calls pass them by.
    next_upload_faults: tuple[str, ...] = ()
    latency_ms: float = 0.0
    bandwidth_mbps: float | None = None  # all connections together
    per_connection_mbps: float | None = None
    rate_limit_calls: int | None = None  # None = no API-key rate limit
    rate_limit_seconds: float = 3600.0
    retry_after_seconds: int = 1  # sent with injected HTTP 429s
    capacity_wait_seconds: int = 1  # sent with injected error 14
    stall_seconds: float = 30.0  # how long a stalled answer waits
    max_body_bytes: int = 1200 * 1024 * 1024

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BodyTooLarge(Exception):
    """A request body went past `max_body_bytes`."""


class Traffic:
    """Decides faults and paces bytes; shared by every request of one server."""

    def __init__(self, settings: TrafficSettings | None = None, *, seed: int | None = None) -> None:
        self.settings = settings or TrafficSettings()
        self._seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._aggregate_free_at = 0.0  # when the shared link is next free (monotonic clock)
        self._calls: dict[str, deque[float]] = {}
        self.log: deque[dict[str, Any]] = deque(maxlen=200_000)
        self._logged = 0
        self.counters: dict[str, int] = {}

    def update(self, **changes: Any) -> TrafficSettings:
        if "faults" in changes and isinstance(changes["faults"], str):
            changes["faults"] = parse_fault_spec(changes["faults"])
        for queue in ("next_faults", "next_upload_faults"):
            if queue in changes:
                queued = tuple(str(name) for name in changes[queue])
                unknown = [name for name in queued if name not in FAULTS]
                if unknown:
                    raise ValueError(
                        f"unknown fault(s) {unknown}: expected some of {', '.join(FAULTS)}"
                    )
                changes[queue] = queued
        with self._lock:
            self.settings = replace(self.settings, **changes)
            return self.settings

    # -- faults --------------------------------------------------------------------------

    def draw_fault(self, *, upload: bool) -> str | None:
        """Pick at most one fault for a request, each with its configured probability.
        Errors 3 and 14 (and stalls) are for uploads: REST calls never get them."""
        with self._lock:
            for_upload = self.settings.next_upload_faults
            if upload and for_upload:
                self.settings = replace(self.settings, next_upload_faults=for_upload[1:])
                self._count(f"fault:{for_upload[0]}")
                return for_upload[0]
            queued = self.settings.next_faults
            if queued and (upload or queued[0] not in UPLOAD_ONLY_FAULTS):
                self.settings = replace(self.settings, next_faults=queued[1:])
                self._count(f"fault:{queued[0]}")
                return queued[0]
            roll = self._random.random()
            for name, rate in self.settings.faults.items():
                if name in UPLOAD_ONLY_FAULTS and not upload:
                    continue
                if roll < rate:
                    self._count(f"fault:{name}")
                    return name
                roll -= rate
        return None

    def over_rate_limit(self, api_key: str) -> float | None:
        """Seconds to wait if this call breaks the API key's rate limit, else None (and the
        call is counted)."""
        settings = self.settings
        if settings.rate_limit_calls is None:
            return None
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(api_key, deque())
            while calls and calls[0] <= now - settings.rate_limit_seconds:
                calls.popleft()
            if len(calls) >= settings.rate_limit_calls:
                self._count("rate_limited")
                return calls[0] + settings.rate_limit_seconds - now
            calls.append(now)
        return None

    # -- pacing --------------------------------------------------------------------------

    async def add_latency(self) -> None:
        if self.settings.latency_ms > 0:
            await asyncio.sleep(self.settings.latency_ms / 1000)

    async def pace(self, started: float, received: int, chunk: int) -> None:
        """Sleep so that this connection and all of them together stay under their caps."""
        settings = self.settings
        delays = [0.0]
        now = time.monotonic()
        if settings.per_connection_mbps:
            due = started + (received * 8) / (settings.per_connection_mbps * 1e6)
            delays.append(due - now)
        if settings.bandwidth_mbps:
            with self._lock:
                start = max(now, self._aggregate_free_at)
                self._aggregate_free_at = start + (chunk * 8) / (settings.bandwidth_mbps * 1e6)
                delays.append(self._aggregate_free_at - now)
        delay = max(delays)
        if delay > 0.001:
            await asyncio.sleep(delay)

    # -- the request log -----------------------------------------------------------------

    def _count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._logged += 1
            self.log.append({"seq": self._logged, **entry})
            self._count(f"path:{entry.get('path', '')}")
            if entry.get("api_method"):
                self._count(f"method:{entry['api_method']}")

    def entries_since(self, seq: int) -> list[dict[str, Any]]:
        with self._lock:
            return [entry for entry in self.log if entry["seq"] > seq]

    def reset(self) -> None:
        """Forget the log, counters and rate-limit windows, and start the fault draws again
        from the seed: after a reset, the same requests meet the same faults."""
        with self._lock:
            self._random = random.Random(self._seed)
            self.log.clear()
            self.counters.clear()
            self._calls.clear()
