"""A loopback port where nothing listens, for tests of unreachable servers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections for as long as the block runs: this
    process holds it bound but never listens, so no other process can take it meanwhile
    (a port probed and released could be taken by the next server to start)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]
