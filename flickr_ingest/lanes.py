"""Uploads in lanes: the plan's uploads in small groups (`planning.upload_groups`), at
most `lanes` groups at work at once, each sent by one lane, file after file.

A group keeps the records of its files that finished across its attempts, so a retry
sends only what has not, and each file is sent and recorded once. A run that stops
uploading (quota, credentials: the run's stop signal) starts no new group: the files of
groups not started are deferred with the reason, and the groups at work finish.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from flickr_ingest.file_records import failed_record, record_for
from flickr_ingest.flickr import errors
from flickr_ingest.outcomes import Status
from flickr_ingest.planning import Decision
from flickr_ingest.report.model import FileRecord

#: Uploads one file: (decision, attempt) -> its record; raises a retryable error.
UploadOne = Callable[[Decision, int], FileRecord]


class GroupUpload:
    """A group of files sent one after another, across the group's attempts."""

    def __init__(self, decisions: Sequence[Decision], upload: UploadOne) -> None:
        self.decisions = list(decisions)
        self._upload = upload
        self._finished: dict[str, FileRecord] = {}
        self._last_errors: dict[str, Exception] = {}

    @property
    def name(self) -> str:
        """How people see the group (a task run's name): its first file, and how many more."""
        first, more = self.decisions[0].candidate.relative_path, len(self.decisions) - 1
        return f"upload {first}" + (f" and {more} more" if more else "")

    def attempt(self, attempt: int) -> list[FileRecord]:
        """Send the files not finished yet; their records, or one TransientError (after
        every file was tried) to have the group retried.

        A transient failure of one file does not hold up the others. A file whose bytes
        are another's of the group that hit a transient error waits for that one."""
        transient: list[Exception] = []
        waiting: set[str] = set()
        for decision in self.decisions:
            uri, copies = decision.candidate.uri, decision.candidate.copies_key
            if uri in self._finished or copies in waiting:
                continue
            try:
                record = self._upload(decision, attempt)
            except Exception as error:  # one file's problem never fails the group
                if errors.is_retryable(error):
                    transient.append(error)
                    self._last_errors[uri] = error
                    if copies is not None:
                        waiting.add(copies)
                    continue
                record = failed_record(decision, error, attempts=attempt)
            self._finished[uri] = record
        if transient:
            raise errors.TransientError(
                f"{len(transient)} of {len(self.decisions)} file(s) hit transient errors,"
                f" e.g. {transient[0]}"
            )
        return [self._finished[d.candidate.uri] for d in self.decisions]

    def finished(self, uri: str) -> FileRecord | None:
        """The record of a file of this group that finished (a run stopped mid-group
        still accounts for it)."""
        return self._finished.get(uri)

    def gave_up(self, error: BaseException, attempts: int) -> list[FileRecord]:
        """The records of the group once its retries are spent: what finished, and
        failures with each file's own last error."""
        return [
            self._finished.get(d.candidate.uri)
            or failed_record(d, self._last_errors.get(d.candidate.uri, error), attempts)
            for d in self.decisions
        ]


class Lanes:
    """Runs the groups, `lanes` at once, each in a thread of its own: `send(group)`
    uploads a group with the run's retries (or raises when they are spent)."""

    def __init__(
        self,
        send: Callable[[GroupUpload], list[FileRecord]],
        *,
        lanes: int,
        attempts: int,
        stopped: Callable[[], str | None],
        account: Callable[[FileRecord], None],
    ) -> None:
        self.send, self.lanes, self.attempts = send, lanes, attempts
        self.stopped, self.account = stopped, account
        self._at_work: dict[str, GroupUpload] = {}  # uri -> its group, while at work

    def run(self, groups: Sequence[Sequence[Decision]], upload: UploadOne) -> None:
        """Upload every group; each file's record goes to `account` as its group ends."""
        pending = deque(groups)
        pool = ThreadPoolExecutor(self.lanes, thread_name_prefix="upload-lane")
        in_flight: dict[Future[list[FileRecord]], GroupUpload] = {}
        finished_normally = False
        try:
            while pending or in_flight:
                stopped = self.stopped()
                while pending and len(in_flight) < self.lanes and not stopped:
                    group = GroupUpload(pending.popleft(), upload)
                    self._at_work.update((d.candidate.uri, group) for d in group.decisions)
                    # The lane runs in a copy of this context (Prefect finds its flow run there).
                    context = contextvars.copy_context()
                    in_flight[pool.submit(context.run, self.send, group)] = group
                if stopped and pending:  # a quota or auth failure: no new uploads
                    for decision in (d for group in pending for d in group):
                        why = f"not attempted: {stopped}"
                        self.account(record_for(decision, Status.DEFERRED, reason=why))
                    pending.clear()
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    self._ended(in_flight.pop(future), future)
            finished_normally = True
        finally:  # interrupted: the groups at work are not waited for
            pool.shutdown(wait=finished_normally, cancel_futures=True)

    def finished(self, uri: str) -> FileRecord | None:
        """The record of a file that finished in a group still at work."""
        group = self._at_work.get(uri)
        return group.finished(uri) if group is not None else None

    def _ended(self, group: GroupUpload, future: Future[list[FileRecord]]) -> None:
        try:
            records = future.result()
        except Exception as error:  # retries spent, or a bug: these files failed, the run goes on
            records = group.gave_up(error, self.attempts)
        for record in records:
            self.account(record)
        for decision in group.decisions:
            del self._at_work[decision.candidate.uri]
