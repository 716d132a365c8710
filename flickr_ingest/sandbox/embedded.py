"""The sandbox as a run's Flickr when there are no credentials: started in the run's
process, its photos and accounts kept in the state folder so that a later run (and
`flickr-ingest sandbox`) sees the same account and photos."""

from __future__ import annotations

from pathlib import Path

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr import Credentials, Endpoints
from flickr_ingest.sandbox.server import SandboxServer

#: Ids and faults reproducible; its credentials are random, kept in its state.
SEED = 20190


def start_embedded(state_dir: Path, port: int) -> tuple[SandboxServer, Credentials, Endpoints]:
    """Start the sandbox on `port` (any free port if that one is taken, e.g. by another
    run's sandbox); returns it with the credentials and endpoints that reach it."""
    try:
        server = SandboxServer(state_dir=state_dir, port=port, seed=SEED)
    except ConfigurationError:
        server = SandboxServer(state_dir=state_dir, seed=SEED)
    account = server.start()
    credentials = Credentials(
        account.api_key, account.api_secret, account.oauth_token, account.oauth_token_secret
    )
    return server, credentials, Endpoints.at(account.url)
