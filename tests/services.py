"""This machine's services (PostgreSQL, Redis) for the tests that need them: where one
is absent, those tests are skipped, saying which and where, instead of failing."""

from __future__ import annotations

import socket

import pytest

#: A service on loopback answers a connect at once; a refused or filtered port is no service.
CONNECT_SECONDS = 1.0


def require_listening(service: str, port: int, *, host: str = "127.0.0.1", why: str) -> None:
    """Skip the running test unless something accepts connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            return
    except OSError as error:
        pytest.skip(f"{service} is not reachable at {host}:{port} ({error}); {why}")
