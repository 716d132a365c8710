"""The OAuth 1.0a dance that gives flickr-ingest an access token (requests-oauthlib)."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from requests_oauthlib import OAuth1Session

from flickr_ingest.flickr import errors
from flickr_ingest.flickr.credentials import Credentials
from flickr_ingest.flickr.endpoints import Endpoints


@dataclass(frozen=True)
class Authorization:
    """A started dance: the user opens `url`; the verifier comes back to `finish`."""

    url: str
    request_token: str
    request_token_secret: str


class OAuthLogin:
    def __init__(
        self, api_key: str, api_secret: str, *, endpoints: Endpoints | None = None
    ) -> None:
        self.api_key, self.api_secret = api_key, api_secret
        self.endpoints = endpoints or Endpoints.from_environment()

    def start(self, *, perms: str = "write", callback: str = "oob") -> Authorization:
        session = OAuth1Session(self.api_key, client_secret=self.api_secret, callback_uri=callback)
        try:
            token = session.fetch_request_token(self.endpoints.request_token, timeout=30)
        except Exception as error:
            raise errors.AuthError(
                f"Flickr refused the request token: {type(error).__name__}"
            ) from None
        url = f"{self.endpoints.authorize}?oauth_token={token['oauth_token']}&perms={perms}"
        return Authorization(url, token["oauth_token"], token["oauth_token_secret"])

    def finish(
        self, authorization: Authorization, verifier: str
    ) -> tuple[Credentials, dict[str, str]]:
        """Exchange the verifier for an access token: (credentials, Flickr's user fields)."""
        session = OAuth1Session(
            self.api_key,
            client_secret=self.api_secret,
            resource_owner_key=authorization.request_token,
            resource_owner_secret=authorization.request_token_secret,
            verifier=verifier.strip(),
        )
        try:
            answer = session.fetch_access_token(self.endpoints.access_token, timeout=30)
        except Exception as error:
            raise errors.AuthError(f"Flickr refused the verifier: {type(error).__name__}") from None
        credentials = Credentials(
            self.api_key,
            self.api_secret,
            answer["oauth_token"],
            answer["oauth_token_secret"],
            base_url=self.endpoints.base_url,  # kept with the token: it is only good there
        )
        user = {name: answer.get(name, "") for name in ("user_nsid", "username", "fullname")}
        return credentials, user


def catch_callback(port: int = 0) -> tuple[str, threading.Event, dict[str, str]]:
    """A one-shot local web server for the OAuth callback: (its URL, an event set when
    the browser arrives, the query it brought)."""
    arrived, received = threading.Event(), {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.update({k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"flickr-ingest is authorized. You can close this window.")
            arrived.set()

        def log_message(self, *args: object) -> None:  # keep the terminal quiet
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)

    def serve_once() -> None:
        server.handle_request()
        server.server_close()

    threading.Thread(target=serve_once, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", arrived, received
