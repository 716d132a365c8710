"""What the ingest flow shows on its run's page in the Prefect dashboard."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from prefect import get_run_logger
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from flickr_ingest.planning import Decision
from flickr_ingest.progress import RunListener
from flickr_ingest.report.escaping import markdown_text
from flickr_ingest.report.model import FileRecord, RunReport
from flickr_ingest.report.writers import listed_files, summary_line, to_markdown
from flows.notifications import say_stopped_early


class Progress:
    """A progress artifact, kept up to date by a thread of its own: the flow's loop never
    waits on Prefect's API (a server busy with an earlier run's events took 0.1 s and more
    an update, while the lanes that had finished waited for their next group).
    Sends at most one update every `interval` seconds, and the last one on `close`."""

    def __init__(self, total: int, interval: float = 2.0) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.interval = interval
        self._description = f"{total} file(s) to account for"
        self._changed = threading.Event()
        self._closed = threading.Event()
        # Prefect finds the flow run an artifact belongs to in the context of the caller.
        context = contextvars.copy_context()
        self._sender = threading.Thread(
            target=context.run, args=(self._send,), name="ingest-progress", daemon=True
        )
        self._sender.start()

    def advance(self) -> None:
        self.done += 1
        self._changed.set()

    def close(self) -> None:
        """Send the final figure and stop the thread."""
        self._closed.set()
        self._changed.set()
        self._sender.join()

    def _send(self) -> None:
        try:
            artifact_id = create_progress_artifact(
                progress=0.0, key="ingest-progress", description=self._description
            )
            sent = 0
            while True:
                self._changed.wait()
                self._changed.clear()
                done, closed = self.done, self._closed.is_set()
                if done != sent:
                    update_progress_artifact(artifact_id, progress=100.0 * done / self.total)
                    sent = done
                if closed:
                    return
                self._closed.wait(self.interval)  # at most one update an interval
        except Exception as error:  # the dashboard's gauge is not worth failing a run for
            get_run_logger().warning("The progress artifact was not kept up to date: %s", error)


def table_rows(report: RunReport) -> list[dict[str, object]]:
    """The files table: the files the report lists (those that need a look first, a
    thousand at most; report.json or records.jsonl has them all). Prefect's dashboard
    renders every string cell as Markdown, so each one is escaped."""
    return [
        {
            "file": markdown_text(r.relative_path),
            "status": r.status,
            "photo_id": markdown_text(r.photo_id or r.duplicate_of or ""),
            "reason": markdown_text(r.reason or ""),
            "attempts": r.attempts,
            "title": markdown_text(r.title or ""),
        }
        for r in listed_files(report)[0]
    ]


def publish(report: RunReport, paths: dict[str, str]) -> None:
    """The run's artifacts; `paths` says where the report's files are (a folder or S3).
    Sent at once, each from a thread of its own: the run ends when the slowest is in,
    not after the sum of them."""
    where = "\n".join(f"- {kind}: {markdown_text(path)}" for kind, path in sorted(paths.items()))
    sends: list[Callable[[], object]] = [
        partial(
            create_table_artifact,
            table_rows(report),
            key="ingest-files",
            description=markdown_text(summary_line(report)),
        ),
        partial(
            create_markdown_artifact,
            f"**Report files**\n\n{where}\n\n{to_markdown(report)}",
            key="ingest-report",
            description=markdown_text(f"audit report: {paths.get('html', '')}"),
        ),
    ]
    for number, url in enumerate(report.organize_urls, start=1):
        sends.append(
            partial(
                create_link_artifact,
                url,
                link_text=f"Organize on Flickr ({number}/{len(report.organize_urls)})",
                key="organize-on-flickr" if number == 1 else None,
            )
        )
    # Prefect finds the flow run an artifact belongs to in the caller's context.
    with ThreadPoolExecutor(max_workers=min(len(sends), 8)) as pool:
        for sent in [pool.submit(contextvars.copy_context().run, send) for send in sends]:
            sent.result()  # an artifact that could not be made fails the step, as before


class DashboardListener(RunListener):
    """What the run shows on its page in the dashboard as it goes: its lines in the
    run's log, a progress gauge of the files accounted for, the stopped-early event
    (automations notify on it), and the report's artifacts at the end."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.logger = get_run_logger()
        self.progress: Progress | None = None

    def said(self, line: str) -> None:
        self.logger.info("%s", line)

    def planned(self, decisions: Sequence[Decision]) -> None:
        self.progress = Progress(len(decisions))

    def finished(self, record: FileRecord) -> None:
        if self.progress is not None:
            self.progress.advance()

    def stopped_early(self, reason: str) -> None:
        say_stopped_early(self.run_id, reason)

    def reported(self, report: RunReport, where: dict[str, str]) -> None:
        self.close()
        publish(report, where)
        self.logger.info("%s; report: %s", summary_line(report), where.get("html", ""))

    def close(self) -> None:
        """Send the gauge's last figure and stop its thread."""
        if self.progress is not None:
            self.progress.close()
            self.progress = None
