"""Connection-level limits uvicorn lacks: a deadline for request headers and a cap on
open connections.

uvicorn's own `limit_concurrency` answers 503 only once a request's headers have arrived
and never closes a connection that sends nothing, so it neither stops a client that
trickles its headers nor frees the file descriptors of idle connections. Both guards live
in a subclass of uvicorn's h11 protocol, handed to `uvicorn.Config(http=…)`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

# Written raw: before a request has been parsed, h11 has no response to send.
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_FULL = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take and how many connections it may hold."""

    #: Open connections at most; past it, a new one replaces the one that has waited
    #: longest for a request, or is refused when every connection is busy.
    max_connections: int = 512
    #: Seconds from a connection's start (or a kept-alive connection's next first byte)
    #: until the request's headers are complete.
    header_timeout: float = 30.0
    #: Seconds a request body may stay silent between two chunks (see `guard`).
    body_timeout: float = 30.0


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()
    _header_deadline: asyncio.TimerHandle | None = None
    _waiting_since: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._waiting_since = self.loop.time()
        super().connection_made(transport)
        if self._open_count() > self.limits.max_connections and not self._evict_a_waiting_one():
            logger.info("connection refused: %d open", self.limits.max_connections)
            self._close_with(_FULL)
            return
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._header_deadline is None and self._awaiting_headers():
            # A kept-alive connection starts its next request: its headers get a deadline
            # too (uvicorn drops its keep-alive timer at the first byte).
            self._waiting_since = self.loop.time()
            self._arm_header_deadline()
        super().data_received(data)
        if not self._awaiting_headers():
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm_header_deadline()
        self._waiting_since = self.loop.time()
        if self._awaiting_headers() and self.conn.trailing_data[0]:
            self._arm_header_deadline()  # part of a pipelined request is already here

    # -- the header deadline -------------------------------------------------------------

    def _awaiting_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(
            self.limits.header_timeout, self._headers_timed_out
        )

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_timed_out(self) -> None:
        self._header_deadline = None
        if self._awaiting_headers() and not self.transport.is_closing():
            self._close_with(_TIMED_OUT)

    # -- the connection cap --------------------------------------------------------------

    def _open_count(self) -> int:
        return sum(1 for c in self.connections if not _closing(c))

    def _evict_a_waiting_one(self) -> bool:
        """Close the connection that has waited longest for a request (a slow or idle
        client), so that an idle crowd cannot lock a working client out."""
        waiting = [
            c
            for c in self.connections
            if c is not self
            and isinstance(c, GuardedH11Protocol)
            and not _closing(c)
            and c._awaiting_headers()
        ]
        if not waiting:
            return False
        min(waiting, key=lambda c: c._waiting_since)._close_with(_TIMED_OUT)
        return True

    def _close_with(self, answer: bytes) -> None:
        self._disarm_header_deadline()
        self.transport.write(answer)
        self.transport.close()


def _closing(connection: object) -> bool:
    transport = getattr(connection, "transport", None)
    return transport is None or transport.is_closing()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedH11Protocol]:
    """The protocol class for one server (uvicorn builds it with a fixed signature, so the
    limits ride on the class)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})
