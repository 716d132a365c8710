"""The audit report's data: one record per file, the run's totals and links."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from flickr_ingest.outcomes import Status

if TYPE_CHECKING:
    from flickr_ingest.report.records import RecordLog

#: Version of report.json's layout; bump on any change a reader must know about.
#: 3: statuses replaced, changed and missing; files[].replaced_sha256.
SCHEMA_VERSION = 3  # 2: albums (and api_calls: readers ignore unknown members)


#: Said wherever a run went to a sandbox, so nobody takes it for flickr.com.
SANDBOX_NOTICE = "sandbox: nothing was sent to flickr.com"


@dataclass(frozen=True, slots=True)
class FileRecord:
    source: str
    relative_path: str
    size: int
    kind: str
    status: Status
    sha256: str | None = None
    photo_id: str | None = None
    duplicate_of: str | None = None
    reason: str | None = None
    error_code: int | None = None
    attempts: int = 0
    title: str | None = None
    tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    thumbnail: str | None = None  # path inside the report folder
    album: str | None = None  # the album title the file belongs in
    album_id: str | None = None
    replaced_sha256: str | None = None  # replaced: the bytes the photo held before

    def to_json(self) -> dict[str, Any]:
        # Field by field, not dataclasses.asdict: every record of a run passes through
        # here as it is made, and asdict's deep copy was most of the cost.
        data = {name: getattr(self, name) for name in _FILE_RECORD_FIELDS}
        data["tags"] = list(self.tags)
        data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileRecord:
        known = {f.name for f in fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        return cls(
            **{
                **values,
                "status": Status(data["status"]),
                "tags": tuple(data.get("tags", ())),
                "warnings": tuple(data.get("warnings", ())),
            }
        )


_FILE_RECORD_FIELDS = tuple(f.name for f in fields(FileRecord))


@dataclass(frozen=True, slots=True)
class AlbumRecord:
    """An album the run touched, as the run left it."""

    title: str
    album_id: str
    url: str
    photo_count: int  # photos in the album now
    added: int  # photos this run put in (the first one too, when it made the album)
    reordered: bool  # the album was put in date-taken order
    problems: tuple[str, ...] = ()
    created: bool = False  # this run made the album

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "problems": list(self.problems)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlbumRecord:
        return cls(**{**data, "problems": tuple(data.get("problems", ()))})


@dataclass(frozen=True)
class RunReport:
    run_id: str
    started_at: str
    finished_at: str
    source: str
    sandbox: bool
    account: str
    #: Every file's record (`RecordLog.of(records)` holds a few in memory).
    files: RecordLog
    organize_urls: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # run-level messages (stopped early, …)
    dry_run: bool = False
    albums: tuple[AlbumRecord, ...] = ()
    #: Requests to Flickr by REST method ("upload"/"replace" for those endpoints)
    api_calls: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        """Files per status ("planned" only in dry runs)."""
        counts = self.files.totals
        shown = [status for status in Status if self.dry_run or status != Status.PLANNED]
        return {status: counts.get(status, 0) for status in shown}

    @property
    def ok(self) -> bool:
        return self.files.ok

    def to_json(self, *, with_files: bool = True) -> dict[str, Any]:
        """report.json's content; without `files` when they are written apart (with
        them, in path order)."""
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "source": self.source,
            "sandbox": self.sandbox,
            "account": self.account,
            "dry_run": self.dry_run,
            "totals": self.totals,
            "organize_urls": list(self.organize_urls),
            "notes": list(self.notes),
            "albums": [album.to_json() for album in self.albums],
            "api_calls": dict(sorted(self.api_calls.items())),
        }
        if with_files:
            ordered = sorted(self.files, key=lambda record: record.relative_path)
            data["files"] = [record.to_json() for record in ordered]
        return data


def files_and_albums(report_json: dict[str, Any]) -> tuple[list[FileRecord], list[AlbumRecord]]:
    """The file and album records of a report.json (how a run reads its chunks' reports)."""
    return (
        [FileRecord.from_json(entry) for entry in report_json.get("files", [])],
        [AlbumRecord.from_json(entry) for entry in report_json.get("albums", [])],
    )
