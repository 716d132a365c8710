"""A run's file records, written to disk as they are made (one JSON record a line), with
what the report needs counted as they pass: totals, the photo ids uploaded, and the few
records report.md and report.html list. A run of a million files holds no list of them.

Each line is handed to the kernel as it is written (a killed run keeps it), and the
file is fsynced every SYNC_EVERY records or at the first record after SYNC_SECONDS (a
machine that loses power keeps all but the last few). So a run that dies leaves the
records of what it did: the next run's ledger makes sure nothing is sent twice; this file
says what the dead run had done.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

from flickr_ingest.content import DAMAGED
from flickr_ingest.outcomes import OK_STATUSES, Status
from flickr_ingest.private_files import (
    make_private,
    open_private,
    private_folder,
    write_private_text,
)
from flickr_ingest.report.model import FileRecord

SYNC_EVERY = 1000
SYNC_SECONDS = 1.0
#: report.md and report.html list every file up to this many; above, the files that
#: need a look first, then the first of the others, this many in all.
LISTED_FILES = 1000
#: Statuses that need no look: the file is on Flickr as it should be (or would be).
QUIET = frozenset({Status.UPLOADED, Status.ALREADY_UPLOADED, Status.REPLACED, Status.PLANNED})


class RecordLog:
    """Every file's record of one run. With a `path`, the records are lines of that file
    (created empty); without one, lines in memory (small reports, tests)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lines: list[str] = []
        self._file: TextIO | None = None
        if path is not None:
            private_folder(path.parent)
            self._file = open_private(path, "w", encoding="utf-8", errors="backslashreplace")
        self.totals: Counter[str] = Counter()
        self._uploaded: dict[str, None] = {}  # photo ids, in upload order, once each
        self._attention: list[FileRecord] = []  # the first LISTED_FILES that need a look
        self._quiet: list[FileRecord] = []  # the first LISTED_FILES of the others
        self._unsynced = 0
        self._synced_at = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, records: Iterable[FileRecord], path: Path | None = None) -> RecordLog:
        log = cls(path)
        for record in records:
            log.add(record)
        log.close()
        return log

    def add(self, record: FileRecord) -> None:
        line = json.dumps(record.to_json(), ensure_ascii=False)
        with self._lock:
            if self._file is None and self.path is not None:
                raise ValueError(f"{self.path} is closed: no record can be added")
            if self._file is None:
                self._lines.append(line)
            else:
                self._file.write(line + "\n")
                self._file.flush()  # in the kernel's hands now: a killed run keeps it
                self._unsynced += 1
                if (
                    self._unsynced >= SYNC_EVERY
                    or time.monotonic() - self._synced_at >= SYNC_SECONDS
                ):
                    self._sync()
            self.totals[record.status] += 1
            if record.status == Status.UPLOADED and record.photo_id:
                self._uploaded[record.photo_id] = None
            quiet = record.status in QUIET and not (record.reason or "").startswith(DAMAGED)
            kept = self._quiet if quiet else self._attention
            if len(kept) < LISTED_FILES:
                kept.append(record)

    def close(self) -> None:
        """No more records: the file is synced and closed (it can still be read)."""
        with self._lock:
            if self._file is not None:
                try:
                    self._sync()
                finally:  # a full disk still leaves a closed log that can be read
                    self._file.close()
                    self._file = None

    def _sync(self) -> None:  # with the lock held
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._unsynced = 0
        self._synced_at = time.monotonic()

    def __len__(self) -> int:
        return sum(self.totals.values())

    def __iter__(self) -> Iterator[FileRecord]:
        """Every record, in the order they were added (read back from the file)."""
        if self.path is None:
            lines: Iterable[str] = list(self._lines)
            yield from (FileRecord.from_json(json.loads(line)) for line in lines)
            return
        with self._lock:
            if self._file is not None:
                self._file.flush()
        with self.path.open(encoding="utf-8") as file:
            for line in file:
                yield FileRecord.from_json(json.loads(line))

    @property
    def ok(self) -> bool:
        return all(status in OK_STATUSES for status in self.totals)

    @property
    def uploaded_photo_ids(self) -> list[str]:
        return list(self._uploaded)

    def listing(self) -> tuple[list[FileRecord], int]:
        """The records report.md and report.html list (those that need a look, then
        others, LISTED_FILES in all, each part by path) and how many are left out."""
        attention = sorted(self._attention, key=_by_path)
        quiet = sorted(self._quiet, key=_by_path)[: LISTED_FILES - len(attention)]
        return attention + quiet, len(self) - len(attention) - len(quiet)

    def rewritten(self, change: Callable[[FileRecord], FileRecord]) -> RecordLog:
        """A log of every record changed by `change`, in the place of this one."""
        self.close()
        if self.path is None:
            return RecordLog.of(change(record) for record in self)
        new_path = self.path.with_name(self.path.name + ".new")
        new = RecordLog.of((change(record) for record in self), new_path)
        os.replace(new_path, self.path)
        new.path = self.path
        return new

    def move_to(self, path: Path) -> None:
        """Write the records at `path` (the log reads from there from now on)."""
        self.close()
        if self.path is None:
            write_private_text(path, "".join(line + "\n" for line in self._lines))
            return
        if self.path != path:
            # A rename on one file system, else a copy of the bytes only (copying modes
            # and times fails on some network mounts after the data is across).
            shutil.move(self.path, path, copy_function=shutil.copyfile)
            make_private(path)  # a copy is made with the umask's mode
            self.path = path


def _by_path(record: FileRecord) -> str:
    return record.relative_path
