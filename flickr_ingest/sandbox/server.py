"""Run the sandbox on a loopback port: in a thread for tests and the demo, or as a process.

`running_sandbox()` is the in-process fixture; `SandboxServer.start()` returns the demo
account (URL, keys, a ready write token and the admin token) that `flickr-ingest sandbox`
prints as JSON. The control endpoints under `/sandbox/` always want the admin token: on a
shared machine any local user reaches a loopback port. Bound beyond loopback, it warns.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import uvicorn

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.sandbox.connections import ConnectionLimits, guarded_protocol
from flickr_ingest.sandbox.guard import Access
from flickr_ingest.sandbox.http import SandboxApp
from flickr_ingest.sandbox.state import SandboxState
from flickr_ingest.sandbox.traffic import Traffic, TrafficSettings

logger = logging.getLogger(__name__)

#: h11's own default, said out loud: request line and headers together stay under 16 KiB.
_MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class DemoAccount:
    """Everything a client needs to use the sandbox's ready-made account."""

    url: str
    api_key: str
    api_secret: str = field(repr=False)
    oauth_token: str
    oauth_token_secret: str = field(repr=False)
    user_nsid: str
    username: str
    #: For the control endpoints under `/sandbox/` (all but `/sandbox/health`).
    admin_token: str = field(repr=False)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class _QuietDroppedAnswers(logging.Filter):
    """Dropped connections are injected on purpose; uvicorn need not complain of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


class SandboxServer:
    """A sandbox bound to `host:port` (port 0 = a free one), serving from a thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: Path | str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        plan: str = "pro",
        auto_approve: bool = True,
        traffic: TrafficSettings | None = None,
        seed: int | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        # Bind first: a taken port fails here, before any state is opened.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except (OSError, OverflowError) as error:
            self._socket.close()
            reason = getattr(error, "strerror", None) or str(error)
            raise ConfigurationError(
                f"the sandbox cannot listen on {host}:{port}: {reason}"
            ) from None
        bound_host, bound_port = self._socket.getsockname()[:2]
        limits = limits or ConnectionLimits()
        self.admin_token = secrets.token_urlsafe(32)
        if not ipaddress.ip_address(bound_host).is_loopback:
            logger.warning(
                "the Flickr sandbox listens on %s:%d, beyond this machine: anyone who reaches "
                "it can use its demo account (its control endpoints want the admin_token)",
                bound_host,
                bound_port,
            )
        access = Access.for_bind(
            (host, bound_host),
            bound_port,
            admin_token=self.admin_token,
            body_timeout=limits.body_timeout,
        )
        self.state = SandboxState(state_dir, seed=seed)
        self.traffic = Traffic(traffic, seed=seed)
        api_key, api_secret, nsid, token = self.state.accounts.ensure_demo_account(
            api_key, api_secret, plan=plan
        )
        self.app = SandboxApp(
            self.state,
            self.traffic,
            demo_api_key=api_key,
            demo_nsid=nsid,
            auto_approve=auto_approve,
            access=access,
        )
        self.url = f"http://{bound_host}:{bound_port}"
        self.state.site_url = self.url
        self.account = DemoAccount(
            url=self.url,
            api_key=api_key,
            api_secret=api_secret,
            oauth_token=token.token,
            oauth_token_secret=token.secret,
            user_nsid=nsid,
            username=self.state.accounts.account(nsid)["username"],
            admin_token=self.admin_token,
        )
        config = uvicorn.Config(
            self.app,
            log_config=None,  # never reconfigure the host process's logging
            log_level="warning",
            http=guarded_protocol(limits),  # h11 with a header deadline and a connection cap
            lifespan="off",
            access_log=False,
            timeout_keep_alive=30,
            h11_max_incomplete_event_size=_MAX_HEADER_BYTES,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        logging.getLogger("uvicorn.error").addFilter(_QuietDroppedAnswers())

    @property
    def admin_headers(self) -> dict[str, str]:
        """The header the control endpoints under `/sandbox/` want."""
        return {"Authorization": f"Bearer {self.admin_token}"}

    def address(self) -> tuple[str, int]:
        host, port = self._socket.getsockname()[:2]
        return host, port

    def start(self, timeout: float = 10.0) -> DemoAccount:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name="flickr-sandbox",
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Flickr sandbox did not start")
            time.sleep(0.01)
        return self.account

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C or `stop()` from another thread)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._socket.close()
        self.state.close()


@contextmanager
def running_sandbox(**options: object) -> Iterator[SandboxServer]:
    """A started sandbox for the duration of a `with` block."""
    server = SandboxServer(**options)  # type: ignore[arg-type]
    server.start()
    try:
        yield server
    finally:
        server.stop()
