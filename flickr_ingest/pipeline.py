"""One ingest run, start to end, as library code: open the run, connect, discover and
plan, upload in lanes, complete the albums, look for files gone from the source, and
write a report that accounts for every file, whatever happens on the way.

How each step runs is the `Steps`' business: `LocalSteps` here (threads, and the run's
retry rule from `retrying.py`), or `flows.steps.PrefectSteps` (each step a Prefect task,
Prefect's retries with the same rule, chunk runs on a work pool). What a run tells people
as it goes, it tells the `RunListener` it is given.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any, Protocol

from flickr_ingest.albums import AlbumFiling, Albums
from flickr_ingest.claims import RunIdInUse
from flickr_ingest.file_records import record_for
from flickr_ingest.flickr import Credentials
from flickr_ingest.lanes import GroupUpload, Lanes
from flickr_ingest.outcomes import Status
from flickr_ingest.planning import UPLOAD, Candidate, Decision, plan, twin_reason, upload_groups
from flickr_ingest.progress import RunListener
from flickr_ingest.report.model import SANDBOX_NOTICE, AlbumRecord, FileRecord, RunReport
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.saving import now_text, save_report, unopened_report
from flickr_ingest.report.writers import RECORDS_FILE
from flickr_ingest.retrying import UNREACHABLE_TRIES, call_with_retries, tries_said
from flickr_ingest.runs import Account, OpenRun, open_run
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources.base import ignored_line
from flickr_ingest.syncing import missing_records, would_replace
from flickr_ingest.uploading import upload_file


class Steps(Protocol):
    """How a run's steps are carried out; each applies the run's retry rule."""

    def connect(self) -> Account: ...

    def discover(self, account: Account) -> list[Candidate]: ...

    def upload_group(self, group: GroupUpload) -> list[FileRecord]:
        """Send a group with its retries; raises once they are spent."""
        ...

    def upload_elsewhere(
        self, decisions: list[Decision], account: Callable[[FileRecord], None]
    ) -> Counter[str] | None:
        """Upload the plan's files in runs of their own (chunk runs), each record to
        `account`; the Flickr calls those runs made, or None when this run uploads."""
        ...

    def arrange_albums(
        self, albums: Albums, members: dict[str, list[str]]
    ) -> list[AlbumRecord]: ...


#: Makes a run's steps once it is open; they end with it (the Prefect steps settle the
#: shared REST budget then).
StepsFor = Callable[[OpenRun], AbstractContextManager[Steps]]


class LocalSteps:
    """The steps in this process: threads, and the run's retry rule (`retrying.py`)."""

    def __init__(self, run: OpenRun) -> None:
        self.run, self.settings = run, run.settings

    def connect(self) -> Account:
        return call_with_retries(lambda _: self.run.connect(), self.settings, first_call=True)

    def discover(self, account: Account) -> list[Candidate]:
        return self.run.discover(account)  # its S3 listing retries by itself

    def upload_group(self, group: GroupUpload) -> list[FileRecord]:
        return call_with_retries(group.attempt, self.settings)

    def upload_elsewhere(
        self, decisions: list[Decision], account: Callable[[FileRecord], None]
    ) -> Counter[str] | None:
        return None  # chunk runs need a work pool: local steps upload everything here

    def arrange_albums(self, albums: Albums, members: dict[str, list[str]]) -> list[AlbumRecord]:
        return call_with_retries(lambda _: albums.arrange(members), self.settings)


@contextmanager
def local_steps(run: OpenRun) -> Iterator[Steps]:
    yield LocalSteps(run)


def ingest(
    settings: IngestSettings,
    run_id: str,
    *,
    steps: StepsFor = local_steps,
    listener: RunListener | None = None,
    stored_credentials: Credentials | None = None,
    s3_client: Any = None,
) -> tuple[RunReport, dict[str, str]]:
    """Upload every photo and video of the source to Flickr exactly once, file them into
    albums, and write the report; returns it, with where each of its files is. A run
    that cannot start still writes a report saying why, and raises."""
    listener = listener or RunListener()
    try:
        run = open_run(settings, run_id, stored_credentials=stored_credentials, s3_client=s3_client)
    except RunIdInUse:  # that id's report folder is the other run's: nothing written
        raise
    except Exception as error:  # no connection, bad credentials: say so, in a report too
        try:
            save_report(unopened_report(settings, run_id, error), settings)
        except Exception:  # e.g. the report folder is what is wrong: the error says so
            listener.said("The report of a run that could not start was not written")
        raise
    with run, steps(run) as run_steps:
        return _Ingest(run, run_steps, listener).go()


class _Ingest:
    """One open run's way from connecting to its report."""

    def __init__(self, run: OpenRun, steps: Steps, listener: RunListener) -> None:
        self.run, self.steps, self.listener = run, steps, listener
        self.settings = run.settings
        # Every file's record, on disk as it is made (moved into the report folder at the
        # end when report.json does not list them itself).
        self.records = RecordLog(run.work_dir / RECORDS_FILE)
        self.notes: list[str] = []
        self.albums: list[AlbumRecord] = []
        self.calls_elsewhere: Counter[str] = Counter()
        self.account: Account | None = None
        self.lanes: Lanes | None = None
        self.filing = AlbumFiling.of(self.settings)

    def go(self) -> tuple[RunReport, dict[str, str]]:
        decisions: list[Decision] = []
        planned_done = False  # every planned file has its record (uploaded, failed, deferred…)
        try:
            account = self.account = self._connect()
            for line in (*self.run.opening_notes, account.destination):  # before anything is sent
                self.listener.said(line)
            self.notes.extend(self.run.opening_notes)
            decisions = self._plan(account)
            if self.settings.dry_run:
                self._preview(decisions, account)
            else:
                self._upload(decisions, account)
            self._account_for_twins(decisions)
            planned_done = True
            if self.filing is not None and not self.settings.dry_run:
                self.albums = self._arrange_albums(account)
            for record in self._missing(decisions, account):
                self.records.add(record)
            stopped = self.run.stop.reason()
            if stopped:
                self.notes.append(f"Uploading stopped early: {stopped}")
                self.listener.stopped_early(stopped)
        except BaseException as error:
            if not self.notes:
                self.notes.append(f"The run failed: {type(error).__name__}: {error}")
            if decisions and not planned_done:  # stopped mid-upload: account for every file
                self._so_far(decisions)
            raise
        finally:
            report = self._report()
            where = save_report(report, self.settings, s3_client=self.run.s3_client)
            self.listener.reported(report, where)
        return self._outliving_the_run(report), where

    def _outliving_the_run(self, report: RunReport) -> RunReport:
        """The report with its records in memory where they are still in the run's
        temporary folder, which goes when the run closes (report.json lists them: a few
        thousand at most); a big run's records were moved into the report folder."""
        path = report.files.path
        if path is not None and path.is_relative_to(self.run.work_dir):
            return replace(report, files=RecordLog.of(list(report.files)))
        return report

    def _account_for(self, record: FileRecord) -> None:
        """A file is accounted for: its record is kept and the listener hears of it."""
        self.records.add(record)
        self.listener.finished(record)

    def _connect(self) -> Account:
        started = time.monotonic()
        try:
            return self.steps.connect()
        except Exception as error:
            tries = min(self.settings.retries + 1, UNREACHABLE_TRIES)
            said = tries_said(error, tries, time.monotonic() - started)
            self.notes += [
                f"The run could not start: {said}",
                "Nothing was uploaded or marked done.",
            ]
            if said is error:
                raise
            raise said from error

    def _plan(self, account: Account) -> list[Decision]:
        """Discover and plan; every file the plan settles (skipped, deferred, already
        uploaded) is accounted for at once, but a twin's, which waits for its twin."""
        candidates = self.steps.discover(account)
        ignored = ignored_line(self.run.source.ignored)
        if ignored:
            self.notes.append(ignored)
        decisions = plan(
            candidates,
            account.quota,
            raw=self.settings.raw,
            live_photo_videos=self.settings.live_photo_videos,
        )
        self.listener.planned(decisions)
        for d in decisions:
            if d.action != UPLOAD and d.twin is None:
                self._account_for(record_for(d, d.action, reason=d.reason))
        return decisions

    def _preview(self, decisions: list[Decision], account: Account) -> None:
        """A dry run's word on each planned upload. It reads no bytes: a path sent before
        whose version changed is said with what would become of it."""
        for d in decisions:
            if d.action == UPLOAD:
                reason = would_replace(
                    self.run.ledger, account.ledger_name, d.candidate.uri, self.settings.on_change
                )
                self._account_for(record_for(d, Status.PLANNED, reason=reason))

    def _upload(self, decisions: list[Decision], account: Account) -> None:
        elsewhere = self.steps.upload_elsewhere(decisions, self._account_for)
        if elsewhere is not None:
            self.calls_elsewhere += elsewhere
            self.notes.append(f"Uploaded in chunk runs of up to {self.settings.chunk_size} files.")
            return
        context = self.run.upload_context(account, sent=self.listener.sent)
        uploads = [d for d in decisions if d.action == UPLOAD]
        self.lanes = Lanes(
            self.steps.upload_group,
            lanes=self.settings.concurrency,
            attempts=self.settings.retries + 1,
            stopped=self.run.stop.reason,
            account=self._account_for,
        )
        groups = [
            [uploads[i] for i in group]
            for group in upload_groups(uploads, self.settings.concurrency)
        ]
        self.lanes.run(
            groups, lambda decision, attempt: upload_file(decision, context, attempt=attempt)
        )

    def _so_far(self, decisions: list[Decision]) -> None:
        """Every file of a run that stopped mid-upload gets its record: what finished in
        groups still at work, and the rest, which the next run completes (a file sent
        just before the stop is found there by its checksum)."""
        why = "not finished: the run stopped before this file was done; the next run completes it"
        accounted = {record.source for record in self.records}  # read back from disk, once
        for decision in decisions:
            uri = decision.candidate.uri
            if uri not in accounted:
                finished = self.lanes.finished(uri) if self.lanes is not None else None
                self._account_for(finished or record_for(decision, Status.DEFERRED, reason=why))

    def _account_for_twins(self, decisions: list[Decision]) -> None:
        """The records of files skipped for a twin beside them (a RAW's or a HEIC's JPEG,
        a Live Photo's still), which name the photo their twin became."""
        waiting = [d for d in decisions if d.twin is not None]
        if not waiting:
            return
        twins = {d.twin for d in waiting}
        done = {r.source: r for r in self.records if r.source in twins}
        for d in waiting:
            twin = done.get(d.twin or "")
            reason = twin_reason(d, twin.status if twin else None, twin.photo_id if twin else None)
            self._account_for(record_for(d, d.action, reason=reason))

    def _arrange_albums(self, account: Account) -> list[AlbumRecord]:
        """Complete and order the albums; if Flickr refuses, the uploads still stand."""
        assert self.filing is not None
        albums = Albums(
            self.run.client, self.run.ledger, account.ledger_name, account.nsid, self.run.run_id
        )
        try:
            return self.steps.arrange_albums(albums, self.filing.members(self.records))
        except Exception as error:
            self.notes.append(f"Albums were not completed ({error}); the next run completes them.")
            return []

    def _missing(self, decisions: list[Decision], account: Account) -> list[FileRecord]:
        """Files sent from this source before and no longer in it; only a run that listed
        the whole source (no keys, no filters) can tell. The uploads stand if this fails."""
        settings = self.settings
        if settings.keys is not None or settings.include or settings.exclude:
            return []
        listed = {d.candidate.uri: d.candidate.photo_id for d in decisions}
        try:
            return missing_records(self.run.ledger, account.ledger_name, self.run.source, listed)
        except Exception as error:  # a ledger that cannot be listed: say so, keep the run
            self.notes.append(f"Files gone from the source were not looked for: {error}")
            return []

    def _report(self) -> RunReport:
        records = self.records
        if self.filing is not None and self.account is not None:
            records = self.filing.placed(records, self.albums)
        notes = list(self.notes)
        if self.run.sandbox is not None:
            folder = self.settings.state_path / "sandbox"
            notes.insert(0, f"{SANDBOX_NOTICE} (the sandbox keeps its photos in {folder})")
        client = self.run.client
        return RunReport(
            run_id=self.run.run_id,
            started_at=self.run.started_at,
            finished_at=now_text(),
            source=self.settings.source,
            sandbox=self.run.sandbox is not None,
            account=self.account.shown if self.account else "(not connected)",
            files=records,
            organize_urls=tuple(client.endpoints.organize_urls(records.uploaded_photo_ids)),
            notes=tuple(notes),
            dry_run=self.settings.dry_run,
            albums=tuple(self.albums),
            api_calls=dict(client.calls + self.calls_elsewhere),
        )
