"""A run's progress as it happens: who hears of it, and the arithmetic a display needs.

A run (`pipeline.py`) tells the listener it is given where it sends, its plan, the bytes
as they go, each file as it is accounted for, an early stop and its report. `Tally` turns
what was heard into files and bytes done of the total, a rate and the time left. Nothing
here draws anything: `flickr_ingest/cli/progress.py` and the dashboard's artifacts
(`flows/artifacts.py`) do.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flickr_ingest.planning import UPLOAD, Decision
from flickr_ingest.report.model import FileRecord, RunReport


class RunListener:
    """Hears a run as it happens. Each method does nothing here: a listener overrides
    what it shows. Called from the run's lanes too, so an override must be thread-safe."""

    def said(self, line: str) -> None:
        """A line to show as it is (where the run sends, a ledger merged)."""

    def planned(self, decisions: Sequence[Decision]) -> None:
        """The plan, once, before the first upload."""

    def sent(self, uri: str, size: int) -> None:
        """`size` more bytes of the file at `uri` went onto the wire (a streaming upload
        says so as it reads them)."""

    def finished(self, record: FileRecord) -> None:
        """A file is accounted for (its record is kept)."""

    def stopped_early(self, reason: str) -> None:
        """The run stopped uploading before its plan was done (quota, credentials)."""

    def reported(self, report: RunReport, where: dict[str, str]) -> None:
        """The report is written; `where` says where each of its files is."""


class Listeners(RunListener):
    """Several listeners heard as one, in order."""

    def __init__(self, *listeners: RunListener) -> None:
        self.listeners = listeners

    def said(self, line: str) -> None:
        for listener in self.listeners:
            listener.said(line)

    def planned(self, decisions: Sequence[Decision]) -> None:
        for listener in self.listeners:
            listener.planned(decisions)

    def sent(self, uri: str, size: int) -> None:
        for listener in self.listeners:
            listener.sent(uri, size)

    def finished(self, record: FileRecord) -> None:
        for listener in self.listeners:
            listener.finished(record)

    def stopped_early(self, reason: str) -> None:
        for listener in self.listeners:
            listener.stopped_early(reason)

    def reported(self, report: RunReport, where: dict[str, str]) -> None:
        for listener in self.listeners:
            listener.reported(report, where)


#: The rate shown is the wire's over the last this many seconds, not since the start: a
#: run that waited on Flickr, or whose first files were all known already, would
#: otherwise promise what the link cannot do.
RATE_WINDOW_SECONDS = 10.0


@dataclass
class Tally:
    """Files and bytes accounted for, of the plan's, and bytes on the wire as they are
    sent; thread-safe."""

    clock: Callable[[], float] = time.monotonic
    files_total: int = 0
    upload_files: int = 0
    upload_bytes: int = 0
    files_done: int = 0
    uploads_done: int = 0
    bytes_done: int = 0  # of planned uploads that are accounted for
    by_status: Counter[str] = field(default_factory=Counter)
    started: float | None = None
    _uploads: dict[str, int] = field(default_factory=dict, repr=False)  # the plan's sizes
    _in_flight: dict[str, int] = field(default_factory=dict, repr=False)  # bytes sent so far
    _wire: deque[tuple[float, int]] = field(default_factory=deque, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def plan(self, decisions: Sequence[Decision]) -> None:
        with self._lock:
            uploads = [d for d in decisions if d.action == UPLOAD]
            self._uploads = {d.candidate.uri: d.candidate.size for d in uploads}
            self.files_total = len(decisions)
            self.upload_files = len(uploads)
            self.upload_bytes = sum(self._uploads.values())
            self.started = self.clock()

    def sent(self, uri: str, size: int) -> None:
        """Bytes of a file on the wire (a retry sends them again: the wire's rate counts
        them, the progress only up to the file's size)."""
        with self._lock:
            now = self.clock()
            self._wire.append((now, size))
            while self._wire and self._wire[0][0] < now - RATE_WINDOW_SECONDS:
                self._wire.popleft()
            if uri in self._uploads:
                self._in_flight[uri] = min(self._in_flight.get(uri, 0) + size, self._uploads[uri])

    def add(self, record: FileRecord) -> None:
        """Count a file; one the plan had to upload counts towards the bytes done,
        whatever became of it."""
        with self._lock:
            self.files_done += 1
            self.by_status[record.status] += 1
            if record.source in self._uploads:
                self.uploads_done += 1
                self.bytes_done += self._uploads[record.source]
                self._in_flight.pop(record.source, None)

    @property
    def bytes_progress(self) -> int:
        """Bytes of the planned uploads done or on their way: finished files whole, the
        others as far as they have been sent."""
        with self._lock:
            return self.bytes_done + sum(self._in_flight.values())

    def rate(self) -> float | None:
        """Bytes a second on the wire over the last RATE_WINDOW_SECONDS, or None before
        a second of sending gives a figure."""
        with self._lock:
            if self.started is None or not self._wire:
                return None
            now = self.clock()
            window = min(RATE_WINDOW_SECONDS, now - self.started)
            recent = sum(size for when, size in self._wire if when >= now - window)
            return recent / window if window >= 1.0 and recent else None

    def seconds_left(self) -> float | None:
        """The time the bytes left take at the wire's recent rate (by files, at the
        rate so far, when nothing was streamed)."""
        rate = self.rate()
        left = self.upload_bytes - self.bytes_progress
        if rate:
            return left / rate
        if self.started is None or self.uploads_done == 0:
            return None
        elapsed = self.clock() - self.started
        return elapsed * (self.upload_files - self.uploads_done) / self.uploads_done
