"""Who may talk to the sandbox, and how slowly: the checks every request passes first.

- `Host` names this machine (a loopback name, or the bound host), so that a web page whose
  domain is rebound to 127.0.0.1 (DNS rebinding) is refused on every path.
- `Origin` is absent or the sandbox's own, so that a page elsewhere cannot drive it from a
  browser.
- Under `/sandbox/`: requests a browser marks cross-site are refused (`Sec-Fetch-Site`);
  a write must say `Content-Type: application/json`, which a form or a `text/plain`
  fetch cannot without a CORS preflight the sandbox never grants; and the admin token is
  required (a loopback port is open to every local user), except by `/sandbox/health`.
- A request body may not stay silent longer than the body timeout; an answer sent before
  the body was read closes the connection rather than reading the rest.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flickr_ingest.numbers import parse_count

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
#: Answers the liveness probe of an orchestrator, which carries no token.
_OPEN_PATHS = frozenset({"/sandbox/health"})
_SAFE_METHODS = frozenset({"GET", "HEAD"})
_CLOSE = (b"connection", b"close")


class BodyTimeout(Exception):
    """A request body stayed silent longer than the body timeout."""


@dataclass(frozen=True)
class Access:
    """What the guard lets through."""

    port: int
    #: Lower-case host names accepted in `Host` and `Origin` (IPv6 in brackets).
    host_names: frozenset[str] = LOOPBACK_NAMES
    #: A wildcard bind: the address a connection reached counts as a host name too.
    any_local_address: bool = False
    #: Required by `/sandbox/` (as `Authorization: Bearer …` or `X-Sandbox-Admin`).
    admin_token: str = ""
    body_timeout: float = 30.0

    @classmethod
    def for_bind(
        cls,
        bind_hosts: tuple[str, ...],
        port: int,
        *,
        admin_token: str,
        body_timeout: float,
    ) -> Access:
        """`bind_hosts`: the host as given (a name or an address) and the address bound."""
        bound = {_bracketed(host.lower()) for host in bind_hosts if host}
        return cls(
            port=port,
            host_names=LOOPBACK_NAMES | bound,
            any_local_address=bool(bound & {"0.0.0.0", "[::]"}),  # noqa: S104  (recognising it)
            admin_token=admin_token,
            body_timeout=body_timeout,
        )

    def host_allowed(self, value: str | None, local_address: str | None) -> bool:
        parsed = _host_and_port(value or "")
        if parsed is None:
            return False
        name, port = parsed
        return self._name_allowed(name, local_address) and port in (None, str(self.port))

    def origin_allowed(self, value: str, local_address: str | None) -> bool:
        """Same-origin only: `http://` and an allowed host with the bound port (no port
        only on port 80, as browsers drop the default port)."""
        if not value.startswith("http://"):
            return False
        parsed = _host_and_port(value.removeprefix("http://"))
        if parsed is None:
            return False
        name, port = parsed
        expected_port = None if self.port == 80 else str(self.port)
        return self._name_allowed(name, local_address) and port == expected_port

    def _name_allowed(self, name: str, local_address: str | None) -> bool:
        if name in self.host_names:
            return True
        return self.any_local_address and local_address is not None and name == local_address


class RequestGuard:
    """ASGI middleware: refuses what `Access` does not allow, and times request bodies."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body_pending = _has_body(headers)
        timeout = self.access.body_timeout

        async def timed_receive() -> Message:
            nonlocal body_pending
            if not body_pending:
                return await receive()  # e.g. a response listening for a disconnect
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise BodyTimeout() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_pending = False
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and body_pending:
                # uvicorn would otherwise read and discard the rest of the body to keep the
                # connection: for a refused 300 MB upload that is 300 MB read for nothing.
                message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
            await send(message)

        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, timed_receive, closing_send)
            return
        await self.app(scope, timed_receive, closing_send)

    def _refusal(self, scope: Scope, headers: Headers) -> PlainTextResponse | None:
        access = self.access
        server = scope.get("server")
        local = _bracketed(server[0]) if server else None
        if not access.host_allowed(headers.get("host"), local):
            return PlainTextResponse("Host not allowed", status_code=403)
        origin = headers.get("origin")
        if origin is not None and not access.origin_allowed(origin, local):
            return PlainTextResponse("Origin not allowed", status_code=403)
        path = scope["path"]
        if not path.startswith("/sandbox/"):
            return None
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return PlainTextResponse("Cross-site requests not allowed", status_code=403)
        token = access.admin_token
        if path not in _OPEN_PATHS and not (token and _token_matches(headers, token)):
            return PlainTextResponse(
                "Admin token required",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="sandbox"'},
            )
        if scope["method"] not in _SAFE_METHODS and not _json_or_empty(headers):
            return PlainTextResponse("Content-Type must be application/json", status_code=415)
        return None


def _has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0") not in ("", "0")


def _json_or_empty(headers: Headers) -> bool:
    """JSON, or nothing at all: a POST with no body and no type (`requests.post(url)`)
    stays allowed, as no browser sends one cross-origin without an `Origin`."""
    content_type = headers.get("content-type")
    if content_type is None:
        return not _has_body(headers)
    return content_type.partition(";")[0].strip().lower() == "application/json"


def _token_matches(headers: Headers, token: str) -> bool:
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    offered = bearer.strip() if scheme.lower() == "bearer" else headers.get("x-sandbox-admin", "")
    return hmac.compare_digest(offered.encode(), token.encode())


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _host_and_port(value: str) -> tuple[str, str | None] | None:
    """`name[:port]` → (lower-case name, port or None); None if it is not that shape."""
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[: end + 1], value[end + 1 :]
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
    if not name:
        return None
    if not rest:
        return name.lower(), None
    if not rest.startswith(":") or parse_count(rest[1:], max_digits=5) is None:
        return None
    return name.lower(), rest[1:]
