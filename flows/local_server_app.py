"""The app the local Prefect server serves: Prefect's own, behind a check of `Host`.

Prefect has settings for API auth, CORS and CSRF (`flows/local_server.py` sets them), but
none for the `Host` header: its server answers any name. A web page can rename its own
host to 127.0.0.1 (DNS rebinding) and then read and write the API as a same-origin page
would; its requests still name the page's host. So a request whose `Host` is not a
loopback name with the port it reached is refused before Prefect sees it.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

#: The names the server is reached by: it listens on 127.0.0.1 only.
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class LoopbackHostOnly:
    """Refuse HTTP and WebSocket requests whose `Host` is not `<loopback name>:<port>`,
    the port being the one the request reached (the server's own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
            port = (scope.get("server") or ("", None))[1]
            if port is None or host not in {f"{name}:{port}" for name in LOOPBACK_NAMES}:
                await PlainTextResponse("Host not allowed", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app() -> ASGIApp:
    """uvicorn's factory (`--factory flows.local_server_app:create_app`)."""
    from prefect.server.api.server import create_app as create_prefect_app

    return LoopbackHostOnly(create_prefect_app())
