"""What the ingest flow shows on its run's page in the Prefect dashboard."""

from __future__ import annotations

import time
from uuid import UUID

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from flickr_ingest.report.escaping import markdown_text
from flickr_ingest.report.model import RunReport
from flickr_ingest.report.writers import summary_line, to_markdown

#: The dashboard's table shows at most this many rows; report.json has them all.
TABLE_ROWS = 2000


class Progress:
    """A progress artifact, updated at most every `interval` seconds."""

    def __init__(self, total: int, interval: float = 2.0) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.interval = interval
        self._last = 0.0
        self._id: UUID = create_progress_artifact(
            progress=0.0, key="ingest-progress", description=f"{total} file(s) to upload"
        )

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done == self.total or now - self._last >= self.interval:
            self._last = now
            update_progress_artifact(self._id, progress=100.0 * self.done / self.total)


def table_rows(report: RunReport) -> list[dict[str, object]]:
    """The files table; Prefect's dashboard renders every string cell as Markdown, so
    each one is escaped."""
    return [
        {
            "file": markdown_text(r.relative_path),
            "status": r.status,
            "photo_id": markdown_text(r.photo_id or r.duplicate_of or ""),
            "reason": markdown_text(r.reason or ""),
            "attempts": r.attempts,
            "title": markdown_text(r.title or ""),
        }
        for r in report.files[:TABLE_ROWS]
    ]


def publish(report: RunReport, paths: dict[str, str]) -> None:
    """The run's artifacts; `paths` says where the report's files are (a folder or S3)."""
    rows = table_rows(report)
    create_table_artifact(rows, key="ingest-files", description=markdown_text(summary_line(report)))
    where = "\n".join(f"- {kind}: {markdown_text(path)}" for kind, path in sorted(paths.items()))
    create_markdown_artifact(
        f"**Report files**\n\n{where}\n\n{to_markdown(report)}",
        key="ingest-report",
        description=markdown_text(f"audit report: {paths.get('html', '')}"),
    )
    for number, url in enumerate(report.organize_urls, start=1):
        create_link_artifact(
            url,
            link_text=f"Organize on Flickr ({number}/{len(report.organize_urls)})",
            key="organize-on-flickr" if number == 1 else None,
        )
