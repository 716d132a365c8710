"""The parts of the `flickr-ingest` command that need no Prefect: its parser's way with
usage mistakes, a run's display (`progress.py`) and the `sandbox` command. The command
itself, which starts Prefect and runs the flow, is the shell's: `flows/cli/`."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeAlias

from flickr_ingest.errors import FlickrIngestError


class UsageError(FlickrIngestError):
    """The command line itself is wrong: an unknown option, a value of the wrong kind."""


class Parser(argparse.ArgumentParser):
    """Usage mistakes end as every other error does: one `Error:` line (with where to
    look) and exit status 1, not argparse's usage block and its exit 2 (which this
    command uses for "some files failed")."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


#: What each command module's `add_parser` is given: the command's subcommands (their
#: parsers are `Parser`s too). A string: argparse's class takes no type argument at run time.
Commands: TypeAlias = "argparse._SubParsersAction[Parser]"
