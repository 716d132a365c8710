"""File records for report tests: file number `number` of an archive, in `status`."""

from __future__ import annotations

from flickr_ingest.report.model import FileRecord


def file_record(number: int, status: str) -> FileRecord:
    return FileRecord(
        source=f"file:///archive/{number:06d}.jpg",
        relative_path=f"{number:06d}.jpg",
        size=1000 + number,
        kind="photo",
        status=status,
        photo_id=str(50_000 + number) if status == "uploaded" else None,
        reason=None if status == "uploaded" else f"{status} because of <{number}>",
    )
