"""The pipeline's steps as Prefect task runs (`flickr_ingest.pipeline.Steps`): each step
a task with Prefect's retries under the run's retry rule, the REST budget and upload
signals shared through the Prefect server, and big plans split into chunk runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prefect.utilities.annotations import quote

from flickr_ingest.albums import Albums
from flickr_ingest.lanes import GroupUpload
from flickr_ingest.pipeline import Steps
from flickr_ingest.planning import UPLOAD, Candidate, Decision
from flickr_ingest.report.model import AlbumRecord, FileRecord
from flickr_ingest.runs import Account, OpenRun
from flows.chunks import upload_in_chunks
from flows.pacing import use_shared_pacing
from tasks.ingest import arrange_albums, connect, discover_files, upload_files, with_retries


class PrefectSteps:
    def __init__(self, run: OpenRun) -> None:
        self.run, self.settings = run, run.settings
        self._upload = with_retries(upload_files, self.settings)

    def connect(self) -> Account:
        return with_retries(connect, self.settings)(quote(self.run))

    def discover(self, account: Account) -> list[Candidate]:
        return discover_files(quote(self.run), account)

    def upload_group(self, group: GroupUpload) -> list[FileRecord]:
        return self._upload(group)  # a task run in the calling lane's thread

    def upload_elsewhere(
        self, decisions: list[Decision], account: Callable[[FileRecord], None]
    ) -> Counter[str] | None:
        """Chunk runs, when the plan has more uploads than `chunk_size`."""
        size = self.settings.chunk_size
        if not size or sum(1 for d in decisions if d.action == UPLOAD) <= size:
            return None
        return upload_in_chunks(
            decisions, self.run.run_id, self.settings, account, s3_client=self.run.s3_client
        )

    def arrange_albums(self, albums: Albums, members: dict[str, list[str]]) -> list[AlbumRecord]:
        return with_retries(arrange_albums, self.settings)(quote(albums), members)


@contextmanager
def prefect_steps(run: OpenRun) -> Iterator[Steps]:
    """The Prefect steps of an open run; the run's share of the REST budget is settled
    when they end (before this process may)."""
    settle_budget = use_shared_pacing(run.client, run.settings)
    try:
        yield PrefectSteps(run)
    finally:
        settle_budget()
