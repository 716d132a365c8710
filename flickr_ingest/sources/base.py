"""What every source gives the pipeline: items to list, heads to sniff, streams to upload."""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from flickr_ingest.errors import FlickrIngestError

#: Names that are never photos: OS and NAS housekeeping.
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "@eaDir", ".git", "#recycle"})


class SourceError(FlickrIngestError):
    """A source cannot be listed or read (missing folder, no such bucket, no access)."""


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One file of a source. `problem` says why it cannot be read, if it cannot."""

    uri: str  # file:///abs/path or s3://bucket/key
    relative_path: str  # below the source's root, with "/" separators
    size: int
    version: str  # mtime in ns for files, ETag (and version id) for objects
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.relative_path.rsplit("/", 1)[-1]


class Source(Protocol):
    location: str
    bytes_read: int  # what this source has read so far (for the benchmarks)
    ignored: Counter[str]  # housekeeping the listing left out, by kind (junk_kind)
    remote: bool  # each read is a request (S3): discovery goes by names where it can

    def list(self) -> Iterator[SourceItem]: ...

    def read_head(self, item: SourceItem, length: int) -> bytes: ...

    def read_range(self, item: SourceItem, start: int, length: int) -> bytes: ...

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]: ...

    @property
    def root_uri(self) -> str:
        """The URI every item's URI starts with."""
        ...

    def holds(self, uri: str) -> bool | None:
        """Whether a file is at `uri` now (any URI of this kind of source, inside the
        root or not); None when that cannot be told."""
        ...


def shown_text(text: str) -> str:
    """`text` as reports, terminals and JSON can carry it: bytes of a name that are not
    UTF-8 (Python keeps them as lone surrogates, `os.fsdecode`) escaped as `\\xNN`, so
    `Ge\\xf6rg.jpg` for a Latin-1 "Georg" with an umlaut. The raw bytes stay in the URI."""
    if text.isascii():
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name holds: escape it as it is
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


_ESCAPED_BYTE = re.compile(r"\\x[89a-f][0-9a-f]")


def readable_text(shown: str) -> str:
    """A `shown_text` name for titles and album names: each escaped byte a replacement
    character ("Ge\ufffdrg"), as a UTF-8 decoder shows it."""
    return _ESCAPED_BYTE.sub("\ufffd", shown) if "\\x" in shown else shown


def junk_kind(relative_path: str) -> str | None:
    """What kind of housekeeping a path is (a file, or anything inside such a folder or
    a hidden one), as the report counts them; None for a file of the archive."""
    parts = relative_path.split("/")
    for part in parts[:-1]:
        if part in JUNK_NAMES or (part.startswith(".") and part not in (".", "..")):
            return f"in {part}/"
    name = parts[-1]
    if name in JUNK_NAMES:
        return name
    if name.startswith("._"):
        return "._* (macOS resource forks)"
    return None


def ignored_line(ignored: Counter[str]) -> str | None:
    """The report's line for the housekeeping files a listing left out, by kind."""
    if not ignored:
        return None
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(ignored.items()))
    total = sum(ignored.values())
    return f"Left out {total:,} housekeeping item(s), not photos: {kinds}"


@dataclass(frozen=True, slots=True)
class PathFilter:
    """Include/exclude globs, matched against the relative path and against the name."""

    include: Sequence[str] = ()
    exclude: Sequence[str] = ()

    def wants(self, relative_path: str) -> bool:
        name = relative_path.rsplit("/", 1)[-1]

        def matches(pattern: str) -> bool:
            return fnmatch.fnmatch(relative_path, pattern) or fnmatch.fnmatch(name, pattern)

        if self.include and not any(matches(p) for p in self.include):
            return False
        return not any(matches(p) for p in self.exclude)
