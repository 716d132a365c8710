"""What a CLI run shows while it works: a progress bar on a terminal (files and bytes done
of the total, the rate, the time left, counts per status), or a plain line every
`PLAIN_EVERY_SECONDS` when the output is a file or a pipe; and one line per failed file.

It listens to the run (`flickr_ingest.progress`); Prefect's own per-task lines stay off
the terminal (they still go to the Prefect API and the dashboard) unless `--verbose`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TextIO, TypedDict

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from flickr_ingest.content import DAMAGED
from flickr_ingest.outcomes import Status
from flickr_ingest.planning import Decision
from flickr_ingest.progress import RunListener, Tally
from flickr_ingest.report.escaping import terminal_text
from flickr_ingest.report.model import FileRecord

#: How often a plain (not a terminal) display prints its line.
PLAIN_EVERY_SECONDS = 10.0


class _BarFields(TypedDict):
    """The bar's own columns (`task.fields[...]`), as rich takes them: keyword arguments."""

    sizes: str
    rate: str
    left: str
    counts: str


def size_text(size: float) -> str:
    """Bytes in the unit that fits: 512 B, 38.2 KB, 117.0 MB, 1.4 GB (1,024 each)."""
    units = ("B", "KB", "MB", "GB")
    power = 0
    while size >= 1024 and power < len(units) - 1:
        size, power = size / 1024, power + 1
    return f"{size:,.0f} B" if power == 0 else f"{size:,.1f} {units[power]}"


def _left_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, seconds = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d} left" if hours else f"{minutes}:{seconds:02d} left"


def counts_text(tally: Tally) -> str:
    return ", ".join(
        f"{n:,} {status.replace('_', ' ')}" for status, n in sorted(tally.by_status.items())
    )


def plain_line(tally: Tally) -> str:
    """One line of where the run stands, for logs and pipes."""
    line = f"{tally.files_done:,} of {tally.files_total:,} files"
    if tally.upload_files:
        line += f"; uploads {size_text(tally.bytes_progress)} of {size_text(tally.upload_bytes)}"
        rate, left = tally.rate(), tally.seconds_left()
        if rate:
            line += f" at {size_text(rate)}/s"
        if left is not None and tally.uploads_done < tally.upload_files:
            line += f", about {left:,.0f} s left"
    counts = counts_text(tally)
    return f"{line}: {counts}" if counts else line


class ProgressDisplay(RunListener):
    """A run listener that draws the run's progress on `stream`."""

    def __init__(self, stream: TextIO, *, terminal: bool | None = None) -> None:
        self.stream = stream
        self.terminal = stream.isatty() if terminal is None else terminal
        self.tally = Tally()
        self._lock = threading.Lock()
        self._last_plain = 0.0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    # -- the run's announcements ----------------------------------------------------------

    def said(self, line: str) -> None:
        self._print(terminal_text(line))

    def planned(self, decisions: Sequence[Decision]) -> None:
        self.tally.plan(decisions)
        if not self.terminal:
            self._print(
                f"Planned {self.tally.files_total:,} files: {self.tally.upload_files:,} to"
                f" upload ({size_text(self.tally.upload_bytes)})"
            )
            self._last_plain = time.monotonic()
            return
        # Sizes, rate and time left are the tally's (the wire's recent rate), not rich's
        # own estimate from the bar, which jumps when a file known already is counted.
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[sizes]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[left]}"),
            TextColumn("{task.fields[counts]}"),
            console=Console(file=self.stream),
            transient=False,
        )
        self._task = self._bar.add_task(
            self._description(), total=max(self.tally.upload_bytes, 1), **self._fields()
        )
        self._bar.start()

    def sent(self, uri: str, size: int) -> None:
        self.tally.sent(uri, size)
        self._redraw()

    def finished(self, record: FileRecord) -> None:
        self.tally.add(record)
        if record.status == Status.FAILED:
            why = f" (error {record.error_code})" if record.error_code is not None else ""
            self._print(
                f"failed: {terminal_text(record.relative_path)}{why}:"
                f" {terminal_text(record.reason or 'no reason given')}"
            )
        elif record.reason and record.reason.startswith(DAMAGED):
            self._print(
                f"damaged: {terminal_text(record.relative_path)} ({record.status}):"
                f" {terminal_text(record.reason.removeprefix(DAMAGED))}"
            )
        self._redraw()

    def _redraw(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                completed=self.tally.bytes_progress,
                description=self._description(),
                **self._fields(),
            )
        elif not self.terminal and time.monotonic() - self._last_plain >= PLAIN_EVERY_SECONDS:
            self._last_plain = time.monotonic()
            self._print(plain_line(self.tally))

    def close(self) -> None:
        """Stop the bar (it stays on screen, final) or print the last plain line."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self.tally.started is not None:
            self._print(plain_line(self.tally))

    # -- drawing -----------------------------------------------------------------------

    def _fields(self) -> _BarFields:
        tally = self.tally
        rate = tally.rate()
        done = tally.uploads_done >= tally.upload_files
        return {
            "sizes": f"{size_text(tally.bytes_progress)} of {size_text(tally.upload_bytes)}",
            "rate": f"{size_text(rate)}/s" if rate else "",
            "left": "" if done else _left_text(tally.seconds_left()),
            "counts": counts_text(tally),
        }

    def _description(self) -> str:
        return f"{self.tally.files_done:,}/{self.tally.files_total:,} files"

    def _print(self, line: str) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                print(line, file=self.stream, flush=True)
