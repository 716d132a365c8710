"""A run's progress as it happens: who hears of it, and the arithmetic a display needs.

The flow says where it sends (`announce`), announces its plan once (`announce_plan`) and
each file as it is accounted for (`account_for`, which also keeps its record); listeners in
the same process (the CLI's display) hear all three. `Tally` turns what was heard into
files and bytes done of the total, a rate and the time left. Nothing here draws anything:
`flickr_ingest/cli/progress.py` does.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from flickr_ingest.planning import UPLOAD, Decision
from flickr_ingest.report.model import FileRecord
from flickr_ingest.report.records import RecordLog


class RunListener(Protocol):
    def said(self, line: str) -> None: ...

    def planned(self, decisions: Sequence[Decision]) -> None: ...

    def finished(self, record: FileRecord) -> None: ...


_LISTENERS: list[RunListener] = []
_LOCK = threading.Lock()


def add_listener(listener: RunListener) -> None:
    with _LOCK:
        _LISTENERS.append(listener)


def remove_listener(listener: RunListener) -> None:
    with _LOCK:
        if listener in _LISTENERS:
            _LISTENERS.remove(listener)


def _listeners() -> list[RunListener]:
    with _LOCK:
        return list(_LISTENERS)


def announce(line: str) -> None:
    """A line every listener shows as it is (where the run sends, a ledger merged)."""
    for listener in _listeners():
        listener.said(line)


def announce_plan(decisions: Sequence[Decision]) -> None:
    for listener in _listeners():
        listener.planned(decisions)


def account_for(records: RecordLog, record: FileRecord) -> None:
    """A file is accounted for: its record is kept and every listener hears of it."""
    records.add(record)
    for listener in _listeners():
        listener.finished(record)


@dataclass
class Tally:
    """Files and bytes accounted for, of the plan's; thread-safe."""

    clock: Callable[[], float] = time.monotonic
    files_total: int = 0
    upload_files: int = 0
    upload_bytes: int = 0
    files_done: int = 0
    uploads_done: int = 0
    bytes_done: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    started: float | None = None
    _uploads: set[str] = field(default_factory=set, repr=False)  # the plan's, by URI
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def plan(self, decisions: Sequence[Decision]) -> None:
        with self._lock:
            uploads = [d for d in decisions if d.action == UPLOAD]
            self._uploads = {d.candidate.uri for d in uploads}
            self.files_total = len(decisions)
            self.upload_files = len(uploads)
            self.upload_bytes = sum(d.candidate.size for d in uploads)
            self.started = self.clock()

    def add(self, record: FileRecord) -> None:
        """Count a file; one the plan had to upload counts towards the rate, whatever
        became of it."""
        with self._lock:
            self.files_done += 1
            self.by_status[record.status] += 1
            if record.source in self._uploads:
                self.uploads_done += 1
                self.bytes_done += record.size

    def rate(self) -> float | None:
        """Bytes a second of planned uploads so far, or None before there is a figure."""
        if self.started is None or self.bytes_done == 0:
            return None
        elapsed = self.clock() - self.started
        return self.bytes_done / elapsed if elapsed > 0 else None

    def seconds_left(self) -> float | None:
        """The time left at the rate so far (by bytes; by files when they have none)."""
        if self.started is None or self.uploads_done == 0:
            return None
        elapsed = self.clock() - self.started
        if self.upload_bytes and self.bytes_done:
            return elapsed * (self.upload_bytes - self.bytes_done) / self.bytes_done
        return elapsed * (self.upload_files - self.uploads_done) / self.uploads_done
