"""One ingest run, end to end, as plain library code: connect, discover, plan, upload each
file, report. The Prefect flow calls these steps; so could anything else."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flickr_ingest.albums import Albums, album_title, source_root_name, wants_albums
from flickr_ingest.audience import Audience, destination_line
from flickr_ingest.bandwidth import ByteBudget, Timetable
from flickr_ingest.claims import RunClaim
from flickr_ingest.discovery import discover
from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient, errors
from flickr_ingest.flickr import credentials as stored
from flickr_ingest.flickr.endpoints import FLICKR_BASE_URL_VARIABLE
from flickr_ingest.ledger import open_ledger
from flickr_ingest.pacing import Pacing, UploadGate
from flickr_ingest.paths import check_run_id, child, new_run_id, writable_folder
from flickr_ingest.planning import Candidate, Decision, Quota
from flickr_ingest.report.model import (
    ALREADY_UPLOADED,
    DUPLICATE,
    PLANNED,
    REPLACED,
    SANDBOX_NOTICE,
    UPLOADED,
    AlbumRecord,
    FileRecord,
    RunReport,
)
from flickr_ingest.report.publish import publish
from flickr_ingest.report.records import RecordLog
from flickr_ingest.report.writers import RECORDS_FILE, write_report
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources import open_source
from flickr_ingest.sources.base import readable_text
from flickr_ingest.sources.s3 import make_client
from flickr_ingest.state import merge_legacy_state
from flickr_ingest.uploading import StopSignal, UploadContext, failed_record, upload_file

logger = logging.getLogger(__name__)

_SANDBOX_SEED = 20190  # ids and faults reproducible; its credentials are random, kept in its state


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def report_folder(settings: IngestSettings, run_id: str) -> Path:
    """The local folder the report is written in (for an s3:// report_dir, a staging
    folder under the state folder, copied to S3 at the end)."""
    if settings.report_dir.startswith("s3://"):
        return child(settings.state_path / "reports", run_id)
    # Absolute: the paths printed and put in the dashboard's artifacts work from anywhere.
    return child(Path(settings.report_dir).expanduser().absolute(), run_id)


def save_report(
    report: RunReport, settings: IngestSettings, *, s3_client: Any = None
) -> dict[str, str]:
    """Write the report and put it where `report_dir` says; returns where each file is."""
    folder = report_folder(settings, report.run_id)
    write_report(report, folder)
    if settings.report_dir.startswith("s3://") and s3_client is None:
        s3_client = make_client(settings.s3_endpoint_url)
    return publish(folder, settings.report_dir, report.run_id, s3_client=s3_client)


def unopened_report(settings: IngestSettings, run_id: str, error: BaseException) -> RunReport:
    """The report of a run that could not even start (no connection, bad credentials)."""
    return RunReport(
        run_id=run_id,
        started_at=_now(),
        finished_at=_now(),
        source=settings.source,
        sandbox=False,
        account="(not connected)",
        files=RecordLog.of(()),
        notes=(f"The run could not start: {error}", "Nothing was uploaded or marked done."),
        dry_run=settings.dry_run,
    )


@dataclass
class Run:
    """A run's live parts in this process: client, source, ledger, maybe a sandbox."""

    run_id: str
    settings: IngestSettings
    client: FlickrClient
    account: str  # who we upload as, for people
    ledger_account: str  # whose uploads the ledger's records are
    sandbox: object | None  # the embedded SandboxServer, when there are no credentials
    context: UploadContext
    claim: RunClaim  # this run's hold on its id (its folders are named by it)
    s3_client: Any = None
    albums: Albums | None = None  # when the run files photos into albums (after connect)
    # Where the run sends, as whom, and who will see new photos (after connect)
    destination: str = ""
    opening_notes: tuple[str, ...] = ()  # what opening the run did that people should know
    _finished: dict[str, FileRecord] = field(default_factory=dict)  # groups being retried
    _last_errors: dict[str, Exception] = field(default_factory=dict)
    started_at: str = field(default_factory=_now)

    @property
    def report_folder(self) -> Path:
        return report_folder(self.settings, self.run_id)

    @property
    def uses_sandbox(self) -> bool:
        return self.sandbox is not None

    # -- the steps -----------------------------------------------------------------------

    def connect(self) -> Quota:
        """Ask Flickr whose the credentials are and what the account may upload: one
        flickr.people.getUploadStatus answers both (flickr.test.login would cost a call
        and prove no more: both need the same read permission). The answer names the
        ledger's account. Raises the client's errors (the caller retries transient ones)."""
        status = self.client.upload_status()
        endpoints = self.client.endpoints
        host = (
            "sandbox"
            if self.sandbox is not None
            else ("flickr.com" if endpoints.is_flickr else endpoints.rest.split("/")[2])
        )
        self.ledger_account = self.context.account = f"{status.user_nsid}@{host}"
        self.context.account_is_pro = bool(status.is_pro)
        self.account = f"{status.username} ({status.user_nsid})" + (
            " on the sandbox" if self.sandbox is not None else ""
        )
        self.destination = destination_line(
            where=self._where(),
            account=f"{status.username} ({status.user_nsid})",
            audience=self._audience(),
            dry_run=self.settings.dry_run,
        )
        if wants_albums(self.settings.album):
            self.albums = Albums(
                self.client, self.context.ledger, self.ledger_account, status.user_nsid, self.run_id
            )
        return Quota.from_status(status)

    def _where(self) -> str:
        endpoints = self.client.endpoints
        if self.sandbox is not None:
            return f"the embedded sandbox at {_origin(endpoints.upload)} (not flickr.com)"
        if endpoints.is_flickr:
            return f"flickr.com ({_origin(endpoints.upload)})"
        return f"{_origin(endpoints.upload)} (a Flickr-compatible server, not flickr.com)"

    def _audience(self) -> str:
        """Who will see new photos: the run's settings, else the account's default (one
        flickr.prefs.getPrivacy call, asked only then)."""
        audience = Audience(
            self.settings.is_public, self.settings.is_friend, self.settings.is_family
        )
        if not audience.left_to_account:
            return audience.describe(None)
        try:
            default = self.client.default_privacy()
        except errors.FlickrError as error:
            if errors.is_retryable(error):
                raise
            logger.info("Flickr did not say the account's default privacy: %s", error)
            default = None
        return audience.describe(default)

    def discover(self) -> list[Candidate]:
        return discover(
            self.context.source,
            ledger=self.context.ledger,
            account=self.ledger_account,
            workers=self.settings.concurrency,
        )

    def upload(self, decision: Decision, *, attempt: int = 1) -> FileRecord:
        return upload_file(decision, self.context, attempt=attempt)

    def upload_group(self, decisions: list[Decision], *, attempt: int = 1) -> list[FileRecord]:
        """Upload a group of files one after another (the task behind many small files).

        A transient failure of one file does not hold up the others: they are all tried,
        then one TransientError asks for the group to be retried. Records of files that
        finished are kept for that retry, so each file is sent and recorded once."""
        transient: list[Exception] = []
        waiting: set[str] = set()  # copies whose first was not sent: they wait for it
        for decision in decisions:
            uri, copies = decision.candidate.uri, decision.candidate.copies_key
            if uri in self._finished or copies in waiting:
                continue
            try:
                record = self.upload(decision, attempt=attempt)
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
                f"{len(transient)} of {len(decisions)} file(s) hit transient errors,"
                f" e.g. {transient[0]}"
            )
        for decision in decisions:
            self._last_errors.pop(decision.candidate.uri, None)
        return [self._finished.pop(d.candidate.uri) for d in decisions]

    def finished_in_a_group(self, uri: str) -> FileRecord | None:
        """The record of a file whose group has not come back yet (a run stopped mid-group
        still accounts for it)."""
        return self._finished.get(uri)

    def group_gave_up(self, decisions: list[Decision], error: BaseException) -> list[FileRecord]:
        """The records of a group whose retries are spent: what finished, and failures."""
        attempts = self.settings.retries + 1
        records = []
        for decision in decisions:
            uri = decision.candidate.uri
            last_error = self._last_errors.pop(uri, error)
            records.append(
                self._finished.pop(uri, None) or failed_record(decision, last_error, attempts)
            )
        return records

    # -- albums --------------------------------------------------------------------------

    def album_title(self, relative_path: str) -> str | None:
        return album_title(
            readable_text(relative_path),  # a name's bytes that are not UTF-8: "\ufffd"
            self.settings.album,
            root_name=source_root_name(self.settings.source),
            separator=self.settings.album_separator,
        )

    def album_members(self, records: Iterable[FileRecord]) -> dict[str, list[str]]:
        """Album title -> the photo ids of this run that belong in it."""
        members: dict[str, list[str]] = {}
        for record in records:
            title = self.album_title(record.relative_path)
            if title is not None and _on_flickr(record) and record.photo_id:
                members.setdefault(title, []).append(record.photo_id)
        return members

    def arrange_albums(self, members: dict[str, list[str]]) -> list[AlbumRecord]:
        return self.albums.arrange(members) if self.albums is not None else []

    def with_albums(self, records: RecordLog, albums: list[AlbumRecord]) -> RecordLog:
        """The records with their album title (and id, where the album exists)."""
        if self.albums is None:  # no album setting (or never connected)
            return records
        ids = {album.title: album.album_id for album in albums}

        def placed(record: FileRecord) -> FileRecord:
            title = self.album_title(record.relative_path)
            if title is None or not (_on_flickr(record) or record.status == PLANNED):
                return record
            return replace(record, album=title, album_id=ids.get(title))

        return records.rewritten(placed)

    def record_log(self) -> RecordLog:
        """Where this run's records go as they are made (moved into the report folder
        at the end when report.json does not list them itself)."""
        return RecordLog(self.context.work_dir / RECORDS_FILE)

    def stop_reason(self) -> str | None:
        return self.context.stop.reason()

    def report(
        self,
        records: RecordLog,
        *,
        notes: list[str],
        dry_run: bool = False,
        albums: list[AlbumRecord] | None = None,
        more_calls: dict[str, int] | None = None,
    ) -> RunReport:
        photo_ids = records.uploaded_photo_ids
        notes = list(notes)
        if self.uses_sandbox:
            notes.insert(
                0, f"{SANDBOX_NOTICE} (the sandbox keeps its photos in {self._sandbox_dir()})"
            )
        return RunReport(
            run_id=self.run_id,
            started_at=self.started_at,
            finished_at=_now(),
            source=self.settings.source,
            sandbox=self.uses_sandbox,
            account=self.account,
            files=records,
            organize_urls=tuple(self.client.endpoints.organize_urls(photo_ids)),
            notes=tuple(notes),
            dry_run=dry_run,
            albums=tuple(albums or ()),
            api_calls=dict(self.client.calls + Counter(more_calls or {})),
        )

    def save(self, report: RunReport) -> dict[str, str]:
        return save_report(report, self.settings, s3_client=self.s3_client)

    def close(self) -> None:
        try:
            self.client.close()
            self.context.ledger.close()
            shutil.rmtree(self.context.work_dir, ignore_errors=True)
            self.context.stop.clear()
            if self.sandbox is not None:
                self.sandbox.stop()  # type: ignore[attr-defined]
        finally:
            self.claim.release()  # last: the id's folders are no longer in use

    def _sandbox_dir(self) -> Path:
        return self.settings.state_path / "sandbox"


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _on_flickr(record: FileRecord) -> bool:
    """Whether the file is on Flickr as `photo_id` now (and so belongs in its album)."""
    on_flickr = (UPLOADED, REPLACED, DUPLICATE, ALREADY_UPLOADED)
    return record.status in on_flickr and bool(record.photo_id)


# -- opening a run ------------------------------------------------------------------------

_RUNS: dict[str, Run] = {}
_RUNS_LOCK = threading.Lock()


def resolve_credentials(stored_credentials: Credentials | None = None) -> Credentials | None:
    """FLICKR_* environment variables, else what `auth login` stored (a Prefect Secret
    block, passed in by the Prefect shell, or the credentials file), else None."""
    return stored.from_environment() or stored_credentials or stored.load_file()


def check_folders(settings: IngestSettings) -> None:
    """Where a run writes, checked before anything is sent: a run must be able to record
    what it uploads and report it."""
    writable_folder(settings.state_path, "the state folder (--state-dir)")
    if not settings.report_dir.startswith("s3://"):
        writable_folder(Path(settings.report_dir).expanduser(), "the report folder (--report-dir)")


def open_run(
    settings: IngestSettings,
    *,
    run_id: str | None = None,
    stored_credentials: Credentials | None = None,
    s3_client: Any = None,
) -> Run:
    """Connect and get everything a run needs; with no credentials at all, start the
    embedded sandbox. Registered so that tasks in this process find it by id."""
    run_id = check_run_id(run_id) if run_id is not None else new_run_id()
    with _RUNS_LOCK:  # a second run of an id held here is refused by its claim
        run = _open(settings, run_id, resolve_credentials(stored_credentials), s3_client)
        _RUNS[run_id] = run
        return run


def get_run(run_id: str) -> Run | None:
    with _RUNS_LOCK:
        return _RUNS.get(run_id)


def close_run(run_id: str) -> None:
    with _RUNS_LOCK:
        run = _RUNS.pop(run_id, None)
    if run is not None:
        run.close()


def _open(
    settings: IngestSettings, run_id: str, credentials: Credentials | None, s3_client: Any
) -> Run:
    if not settings.source:
        raise ConfigurationError("no source given: a folder or s3://bucket/prefix")
    # The id first: while another run holds it, its folders and report are that run's.
    writable_folder(settings.state_path, "the state folder (--state-dir)")
    claim = RunClaim(settings.state_path / "claims", run_id)
    opening_notes: tuple[str, ...] = ()
    sandbox = None
    try:
        s3_client = s3_client or _s3_client_for(settings)
        # The source next: a missing folder fails before anything is started.
        source = open_source(
            settings.source,
            include=settings.include,
            exclude=settings.exclude,
            keys=settings.keys,
            s3_client=s3_client,
            follow_links=settings.follow_links,
        )
        check_folders(settings)
        if settings.sandbox:
            credentials = None
        elif credentials is None and os.environ.get(FLICKR_BASE_URL_VARIABLE):
            raise ConfigurationError(
                f"{FLICKR_BASE_URL_VARIABLE} is set but no Flickr credentials are: set "
                "FLICKR_API_KEY, FLICKR_API_SECRET, FLICKR_OAUTH_TOKEN, FLICKR_OAUTH_TOKEN_SECRET"
            )
        if credentials is None:
            sandbox, credentials, endpoints = _embedded_sandbox(settings)
        else:
            endpoints = Endpoints.from_environment(credentials.base_url)
        client = FlickrClient(
            credentials, endpoints=endpoints, pool_size=max(8, settings.concurrency * 2)
        )
        # Uploads obey Flickr's own "slow down" (the Prefect shell shares it between workers).
        client.pacing = Pacing(
            uploads=UploadGate(settings.concurrency), bandwidth=bandwidth_budget(settings)
        )
        state = settings.state_path
        if not settings.state_dir and not settings.ledger:  # the per-user default ledger
            merged = merge_legacy_state(state, Path.cwd())
            opening_notes = (merged,) if merged else ()
        ledger = open_ledger(settings.ledger, state_dir=state, s3_client=s3_client)
        folder = report_folder(settings, run_id)
        context = UploadContext(
            run_id=run_id,
            client=client,
            source=source,
            ledger=ledger,
            account="",  # known once connect() has asked Flickr who we are
            settings=settings,
            work_dir=child(state / "tmp", run_id),
            thumbs_dir=folder / "thumbs",
            stop=StopSignal(child(state / "stop", run_id)),
        )
        # A flag left by an earlier run of this id (a retry after a quota stop) is not
        # this run's: it asks Flickr afresh. The claim makes sure no live run set it.
        context.stop.clear()
        return Run(
            run_id=run_id,
            settings=settings,
            client=client,
            account="(not connected)",
            ledger_account="",
            sandbox=sandbox,
            context=context,
            claim=claim,
            s3_client=s3_client,
            opening_notes=opening_notes,
        )
    except BaseException:
        try:
            if sandbox is not None:
                sandbox.stop()  # type: ignore[attr-defined]
        finally:
            claim.release()
        raise


def bandwidth_budget(settings: IngestSettings) -> ByteBudget | None:
    """The byte bucket every upload lane of this run draws from, under `--bwlimit`."""
    return ByteBudget(Timetable.parse(settings.bwlimit)) if settings.bwlimit else None


def _s3_client_for(settings: IngestSettings) -> Any:
    locations = (settings.source, settings.report_dir, settings.ledger)
    if any(location.startswith("s3://") for location in locations):
        return make_client(settings.s3_endpoint_url)
    return None


def _embedded_sandbox(settings: IngestSettings) -> tuple[object, Credentials, Endpoints]:
    from flickr_ingest.sandbox import SandboxServer

    state_dir = settings.state_path / "sandbox"
    try:
        server = SandboxServer(state_dir=state_dir, port=settings.sandbox_port, seed=_SANDBOX_SEED)
    except ConfigurationError:  # the port is taken (another run's sandbox?): any free one
        server = SandboxServer(state_dir=state_dir, seed=_SANDBOX_SEED)
    account = server.start()
    credentials = Credentials(
        account.api_key, account.api_secret, account.oauth_token, account.oauth_token_secret
    )
    return server, credentials, Endpoints.at(account.url)
