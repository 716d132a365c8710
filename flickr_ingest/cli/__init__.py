"""The `flickr-ingest` command: parse, call the core, format. Domain errors become one
`Error: …` line and a non-zero exit. Text from outside (a server's answers, file names,
titles) is printed through `terminal_text`: its escapes shown, never obeyed."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from flickr_ingest.cli import auth, prefect_server, relay, run, sandbox, setup
from flickr_ingest.errors import FlickrIngestError
from flickr_ingest.report.escaping import terminal_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flickr-ingest",
        description="Move a photo archive onto Flickr exactly once, with an audit report.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="on an error, show the traceback as well"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.add_parsers(commands)
    auth.add_parser(commands)
    relay.add_parser(commands)
    sandbox.add_parser(commands)
    setup.add_parser(commands)
    prefect_server.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except FlickrIngestError as error:
        if args.debug:
            traceback.print_exc()
        print(f"Error: {terminal_text(error)}", file=sys.stderr)  # may quote a server
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
