"""`flickr-ingest auth login|status`: get an access token, keep it safely, show who it is.

The Flickr client and the OAuth library are imported when a command runs, not when the
command line is parsed."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.report.escaping import terminal_text
from flickr_ingest.settings import IngestSettings

if TYPE_CHECKING:
    from flickr_ingest.cli import Commands


def _secret_blocks_trusted(*, block_named: bool = False) -> bool:
    from flows.credentials import secret_blocks_trusted

    return secret_blocks_trusted(block_named=block_named)


def _login(args: argparse.Namespace) -> int:
    from flickr_ingest.flickr import FlickrClient
    from flickr_ingest.flickr import credentials as stored
    from flickr_ingest.flickr.login import OAuthLogin, catch_callback

    api_key = args.api_key or os.environ.get("FLICKR_API_KEY") or input("API key: ").strip()
    if args.api_secret:  # other users of this machine can read a command line (`ps`)
        print(
            "Warning: --api-secret is visible to other users in the process list; set"
            " FLICKR_API_SECRET or leave it out to be asked for it.",
            file=sys.stderr,
        )
    api_secret = (
        args.api_secret
        or os.environ.get("FLICKR_API_SECRET")
        or getpass.getpass("Flickr API secret (not shown): ").strip()
    )
    if not api_key or not api_secret:
        raise ConfigurationError(
            "an API key and secret are needed (https://www.flickr.com/services/apps/create/)"
        )
    login = OAuthLogin(api_key, api_secret)
    if args.callback:
        callback, arrived, received = catch_callback(args.callback_port)
        authorization = login.start(perms=args.perms, callback=callback)
        print(f"Open this page and approve flickr-ingest:\n  {authorization.url}")
        if not arrived.wait(timeout=600):
            raise ConfigurationError("no answer from the browser within 10 minutes")
        verifier = received.get("oauth_verifier", "")
    else:
        authorization = login.start(perms=args.perms)
        print("Open this page, approve flickr-ingest, and type the code it shows:")
        print(f"  {authorization.url}")
        verifier = input("Code: ")
    credentials, _ = login.finish(authorization, verifier)
    with FlickrClient(credentials) as client:
        checked = client.test_login()
    block = args.block_name or IngestSettings.from_environment().secret_block
    if _secret_blocks_trusted(block_named=bool(args.block_name)) and not args.file:
        from flows.credentials import save_secret_credentials

        save_secret_credentials(credentials, block)
        where = f"the Prefect Secret block {block!r}"
    else:
        where = str(stored.save_file(credentials))
    print(
        f"Logged in as {terminal_text(checked.username)} ({terminal_text(checked.user_nsid)})"
        f" with {args.perms} permission; credentials kept in {terminal_text(where)}."
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    from flickr_ingest.flickr import FlickrClient
    from flickr_ingest.flickr.credentials import resolve as resolve_credentials

    stored_block = None
    if _secret_blocks_trusted():
        from flows.credentials import load_secret_credentials

        stored_block = load_secret_credentials(IngestSettings.from_environment().secret_block)
    credentials = resolve_credentials(stored_block)
    if credentials is None:
        print("Not logged in: runs use the embedded sandbox. Run `flickr-ingest auth login`.")
        return 1
    with FlickrClient(credentials) as client:
        token = client.check_token()
    who = f"{token.username} ({token.user_nsid}) with {token.perms} permission"
    where = f"{client.endpoints.rest.split('/')[2]} (API key {credentials.api_key})"
    print(f"Logged in as {terminal_text(who)} on {terminal_text(where)}.")  # a server's text
    return 0


def add_parser(commands: Commands) -> None:
    auth = commands.add_parser(
        "auth",
        help="log in to Flickr, or show who is logged in",
        description="Manage the Flickr credentials flickr-ingest uses.",
    )
    actions = auth.add_subparsers(dest="action", required=True, metavar="ACTION")
    login = actions.add_parser(
        "login",
        help="authorize flickr-ingest on a Flickr account (OAuth)",
        description="Run Flickr's OAuth dance and keep the token in a Prefect Secret block "
        "(on a Prefect API you configured, or when --block-name names it) or a file only "
        "you can read.",
    )
    login.add_argument("--api-key", help="your app's key (default: FLICKR_API_KEY or a prompt)")
    login.add_argument(
        "--api-secret",
        help="your app's secret (default: FLICKR_API_SECRET or a hidden prompt; on the"
        " command line other users can see it in `ps`)",
    )
    login.add_argument(
        "--perms", choices=["write", "delete"], default="write", help="permission to ask"
    )
    login.add_argument(
        "--callback",
        action="store_true",
        help="catch the browser's redirect on a local port instead of typing a code",
    )
    login.add_argument(
        "--callback-port", type=int, default=0, help="port for --callback (default: free)"
    )
    login.add_argument("--block-name", help="the Prefect Secret block's name")
    login.add_argument(
        "--file", action="store_true", help="keep the token in the file even with Prefect"
    )
    login.set_defaults(handler=_login)
    status = actions.add_parser(
        "status",
        help="who is logged in, with which permission",
        description="Check the stored token with Flickr; prints no secret.",
    )
    status.set_defaults(handler=_status)
