"""The `flickr-ingest` command: parse, call the core, format. Domain errors become one
`Error: …` line and a non-zero exit. Text from outside (a server's answers, file names,
titles) is printed through `terminal_text`: its escapes shown, never obeyed."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence

from flickr_ingest import __version__
from flickr_ingest.cli import Parser, UsageError, sandbox
from flickr_ingest.errors import FlickrIngestError
from flickr_ingest.report.escaping import terminal_text
from flows.cli import auth, prefect_server, relay, run, setup

_DEBUG_HELP = "on an error, show the traceback as well"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="flickr-ingest",
        description="Move a photo archive onto Flickr exactly once, with an audit report.",
    )
    parser.add_argument("--version", action="version", version=f"flickr-ingest {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.add_parsers(commands)
    auth.add_parser(commands)
    relay.add_parser(commands)
    sandbox.add_parser(commands)
    setup.add_parser(commands)
    prefect_server.add_parser(commands)
    for command in _commands(parser):  # `--debug` after the command works too
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
    return parser


def _commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every (sub)command's parser below `parser`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # aliases once
                yield command
                yield from _commands(command)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
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
