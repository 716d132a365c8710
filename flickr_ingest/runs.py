"""A run's resources: what it opens before its first step and closes after its last.

`open_run` checks where the run reads and writes, claims its id, and opens its source,
ledger and Flickr client (or starts the embedded sandbox when there are no credentials);
closing it lets all of them go. `OpenRun.connect` asks Flickr who the credentials are and
returns that as a frozen `Account`. What a run does with these is `pipeline.py`'s.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flickr_ingest.audience import destination
from flickr_ingest.bandwidth import ByteBudget, Timetable
from flickr_ingest.claims import RunClaim
from flickr_ingest.discovery import discover
from flickr_ingest.errors import ConfigurationError
from flickr_ingest.flickr import Credentials, Endpoints, FlickrClient
from flickr_ingest.flickr import credentials as stored
from flickr_ingest.flickr.endpoints import FLICKR_BASE_URL_VARIABLE
from flickr_ingest.ledger import Ledger, open_ledger
from flickr_ingest.pacing import Pacing, UploadGate
from flickr_ingest.paths import check_run_id, child, writable_folder
from flickr_ingest.planning import Candidate, Quota
from flickr_ingest.report.saving import now_text, report_folder
from flickr_ingest.settings import IngestSettings
from flickr_ingest.sources import Source, open_source
from flickr_ingest.sources.s3 import make_client
from flickr_ingest.state import merge_legacy_state
from flickr_ingest.uploading import StopSignal, UploadContext

if TYPE_CHECKING:  # the sandbox's server code is imported only when a run needs it
    from flickr_ingest.sandbox import SandboxServer


@dataclass(frozen=True)
class Account:
    """Who the credentials are, as Flickr said when the run connected."""

    ledger_name: str  # "nsid@host": whose uploads the ledger's records are
    shown: str  # "name (nsid)", and " on the sandbox" there: for people
    nsid: str
    is_pro: bool  # only Pro accounts may replace photos
    quota: Quota
    destination: str  # where the run sends, as whom, and who will see new photos


@dataclass
class OpenRun:
    """A run's open resources in this process; a context manager that closes them."""

    run_id: str
    settings: IngestSettings
    client: FlickrClient
    source: Source
    ledger: Ledger
    claim: RunClaim  # this run's hold on its id (its folders are named by it)
    stop: StopSignal  # "stop uploading", seen by every lane and worker of the run
    sandbox: SandboxServer | None = None  # the embedded sandbox, when there are no credentials
    s3_client: Any = None
    opening_notes: tuple[str, ...] = ()  # what opening the run did that people should know
    started_at: str = field(default_factory=now_text)

    @property
    def work_dir(self) -> Path:
        """Temporary copies of remote objects, deleted when the run closes."""
        return child(self.settings.state_path / "tmp", self.run_id)

    def connect(self) -> Account:
        """Ask Flickr whose the credentials are and what the account may upload: one
        flickr.people.getUploadStatus answers both (flickr.test.login would cost a call
        and prove no more). Raises the client's errors (the steps retry transient ones)."""
        status = self.client.upload_status()
        endpoints = self.client.endpoints
        host = (
            "sandbox"
            if self.sandbox
            else ("flickr.com" if endpoints.is_flickr else _host(endpoints))
        )
        name = f"{status.username} ({status.user_nsid})"
        return Account(
            ledger_name=f"{status.user_nsid}@{host}",
            shown=name + (" on the sandbox" if self.sandbox else ""),
            nsid=status.user_nsid,
            is_pro=bool(status.is_pro),
            quota=Quota.from_status(status),
            destination=destination(
                self.client, self.settings, name, sandbox=self.sandbox is not None
            ),
        )

    def discover(self, account: Account) -> list[Candidate]:
        return discover(
            self.source,
            ledger=self.ledger,
            account=account.ledger_name,
            workers=self.settings.concurrency,
        )

    def upload_context(
        self, account: Account, sent: Callable[[str, int], None] | None = None
    ) -> UploadContext:
        """What the uploads of this run share; `sent(uri, size)` hears bytes go out."""
        return UploadContext(
            run_id=self.run_id,
            client=self.client,
            source=self.source,
            ledger=self.ledger,
            account=account.ledger_name,
            settings=self.settings,
            work_dir=self.work_dir,
            thumbs_dir=report_folder(self.settings, self.run_id) / "thumbs",
            stop=self.stop,
            account_is_pro=account.is_pro,
            **({"sent": sent} if sent is not None else {}),
        )

    def __enter__(self) -> OpenRun:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.client.close()
            self.ledger.close()
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.stop.clear()
            if self.sandbox is not None:
                self.sandbox.stop()
        finally:
            self.claim.release()  # last: the id's folders are no longer in use


def _host(endpoints: Endpoints) -> str:
    return urlsplit(endpoints.rest).netloc


def check_folders(settings: IngestSettings) -> None:
    """Where a run writes, checked before anything is sent: a run must be able to record
    what it uploads and report it."""
    writable_folder(settings.state_path, "the state folder (--state-dir)")
    if not settings.report_dir.startswith("s3://"):
        writable_folder(Path(settings.report_dir).expanduser(), "the report folder (--report-dir)")


def open_run(
    settings: IngestSettings,
    run_id: str,
    *,
    stored_credentials: Credentials | None = None,
    s3_client: Any = None,
) -> OpenRun:
    """Claim the run id and open everything a run needs; with no credentials at all,
    start the embedded sandbox. A second run of an id held anywhere on this machine is
    refused (`RunIdInUse`) before anything of it is touched."""
    run_id = check_run_id(run_id)
    if not settings.source:
        raise ConfigurationError("no source given: a folder or s3://bucket/prefix")
    # The id first: while another run holds it, its folders and report are that run's.
    writable_folder(settings.state_path, "the state folder (--state-dir)")
    claim = RunClaim(settings.state_path / "claims", run_id)
    credentials = stored.resolve(stored_credentials)
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
            from flickr_ingest.sandbox.embedded import start_embedded  # only when needed

            sandbox, credentials, endpoints = start_embedded(
                settings.state_path / "sandbox", settings.sandbox_port
            )
        else:
            endpoints = Endpoints.from_environment(credentials.base_url)
        client = FlickrClient(
            credentials, endpoints=endpoints, pool_size=max(8, settings.concurrency * 2)
        )
        # Uploads obey Flickr's own "slow down" (the Prefect shell shares it between workers).
        bandwidth = ByteBudget(Timetable.parse(settings.bwlimit)) if settings.bwlimit else None
        client.pacing = Pacing(uploads=UploadGate(settings.concurrency), bandwidth=bandwidth)
        state = settings.state_path
        opening_notes: tuple[str, ...] = ()
        if not settings.state_dir and not settings.ledger:  # the per-user default ledger
            merged = merge_legacy_state(state, Path.cwd())
            opening_notes = (merged,) if merged else ()
        ledger = open_ledger(settings.ledger, state_dir=state, s3_client=s3_client)
        stop = StopSignal(child(state / "stop", run_id))
        # A flag left by an earlier run of this id (a retry after a quota stop) is not
        # this run's: it asks Flickr afresh. The claim makes sure no live run set it.
        stop.clear()
        return OpenRun(
            run_id=run_id,
            settings=settings,
            client=client,
            source=source,
            ledger=ledger,
            claim=claim,
            stop=stop,
            sandbox=sandbox,
            s3_client=s3_client,
            opening_notes=opening_notes,
        )
    except BaseException:
        try:
            if sandbox is not None:
                sandbox.stop()
        finally:
            claim.release()
        raise


def _s3_client_for(settings: IngestSettings) -> Any:
    locations = (settings.source, settings.report_dir, settings.ledger)
    if any(location.startswith("s3://") for location in locations):
        return make_client(settings.s3_endpoint_url)
    return None
