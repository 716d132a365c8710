"""Where photos come from: a local folder or an S3 prefix, behind one interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flickr_ingest.sources.base import PathFilter, Source, SourceError, SourceItem
from flickr_ingest.sources.local import LocalSource
from flickr_ingest.sources.s3 import S3Source

__all__ = [
    "LocalSource",
    "PathFilter",
    "S3Source",
    "Source",
    "SourceError",
    "SourceItem",
    "open_source",
]


def open_source(
    location: str,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    keys: Sequence[str] | None = None,
    s3_client: Any = None,
    follow_links: bool = False,
) -> Source:
    """`s3://bucket/prefix` or a local folder; optionally just `keys` of it (object keys,
    or paths relative to the folder)."""
    path_filter = PathFilter(tuple(include), tuple(exclude))
    if location.startswith("s3://"):
        return S3Source(location, client=s3_client, keys=keys, path_filter=path_filter)
    return LocalSource(location, path_filter=path_filter, keys=keys, follow_links=follow_links)
