"""Discovery: list a source and learn what each file is from its first bytes only (for a
remote source, from a name that says it; the upload step checks the content)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from flickr_ingest.filetypes import SNIFF_BYTES, from_name, sniff
from flickr_ingest.ledger import Ledger
from flickr_ingest.planning import Candidate
from flickr_ingest.sources import Source, SourceItem
from flickr_ingest.sources.base import shown_text

#: Files looked at together; memory holds this many in flight, not the whole listing.
BATCH = 1000


def discover(
    source: Source, *, ledger: Ledger | None = None, account: str = "", workers: int = 8
) -> list[Candidate]:
    """Every listed file as a Candidate, in listing order. A file whose exact version an
    earlier run already uploaded is recognised from the ledger without reading it."""
    candidates: list[Candidate] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # In batches: `map` over the whole listing would queue a future per file at once
        # (100,000 files took 180 MB more than the candidates themselves).
        for batch in _batches(source.list(), BATCH):
            candidates += pool.map(lambda item: _candidate(source, item, ledger, account), batch)
    return candidates


def _batches(items: Iterable[SourceItem], size: int) -> Iterator[list[SourceItem]]:
    batch: list[SourceItem] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _candidate(source: Source, item: SourceItem, ledger: Ledger | None, account: str) -> Candidate:
    """What the file is; whatever goes wrong finding out is the file's problem (it is
    skipped with it), never the run's."""
    try:
        return _described(source, item, ledger, account)
    except Exception as error:
        return Candidate(
            uri=item.uri,
            relative_path=item.relative_path,
            size=item.size,
            version=item.version,
            kind="unsupported",
            format="unknown",
            problem=f"cannot read: {type(error).__name__}: {shown_text(str(error))}",
        )


def _described(source: Source, item: SourceItem, ledger: Ledger | None, account: str) -> Candidate:
    base = dict(
        uri=item.uri, relative_path=item.relative_path, size=item.size, version=item.version
    )
    if item.problem:
        return Candidate(**base, kind="unsupported", format="unknown", problem=item.problem)
    sha256 = ledger.known_hash(item.uri, item.version) if ledger else None
    photo_id = ledger.known_photo_id(account, sha256) if ledger and sha256 else None
    if photo_id is not None:  # nothing to read: the ledger knows these bytes
        return Candidate(**base, kind="known", format="known", sha256=sha256, photo_id=photo_id)
    if item.size == 0:
        return Candidate(**base, kind="unsupported", format="empty")
    named = from_name(item.name) if source.remote else None
    if named is not None:  # a request per object costs more than it tells: upload checks
        return Candidate(**base, kind=named.kind, format=named.format, sha256=sha256)
    file_type = sniff(source.read_head(item, SNIFF_BYTES))
    return Candidate(
        **base,
        kind=file_type.kind,
        format=file_type.format,
        sha256=sha256,
    )
