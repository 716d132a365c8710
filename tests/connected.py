"""A run opened and connected by a test, to drive the library's steps one at a time
(discover, plan, upload one file or a group) against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flickr_ingest.lanes import GroupUpload
from flickr_ingest.planning import Candidate, Decision, plan
from flickr_ingest.report.model import FileRecord
from flickr_ingest.runs import Account, OpenRun, open_run
from flickr_ingest.settings import IngestSettings
from flickr_ingest.uploading import UploadContext, upload_file


@dataclass
class Connected:
    run: OpenRun
    account: Account

    @property
    def settings(self) -> IngestSettings:
        return self.run.settings

    @property
    def context(self) -> UploadContext:
        return self.run.upload_context(self.account)

    def discover(self) -> list[Candidate]:
        return self.run.discover(self.account)

    def plan(self) -> list[Decision]:
        return plan(self.discover(), self.account.quota)

    def upload(self, decision: Decision, *, attempt: int = 1) -> FileRecord:
        return upload_file(decision, self.context, attempt=attempt)

    def upload_group(self, decisions: list[Decision]) -> list[FileRecord]:
        context = self.context
        group = GroupUpload(decisions, lambda d, attempt: upload_file(d, context, attempt=attempt))
        return group.attempt(1)


@contextmanager
def connected(settings: IngestSettings, run_id: str) -> Iterator[Connected]:
    with open_run(settings, run_id) as run:
        yield Connected(run, run.connect())
