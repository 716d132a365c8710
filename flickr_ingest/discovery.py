"""Discovery: list a source and learn what each file is from its first bytes only (for a
remote source, from a name that says it; the upload step checks the content)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypedDict

from flickr_ingest.filetypes import PHOTO, SNIFF_BYTES, VIDEO, from_name, movie_seconds, sniff
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
        return _with_durations(source, _with_copies_marked(source, candidates, pool), pool)


#: What is read of each file whose size another file shares, at its start, middle and end.
SAMPLE_BYTES = 64 * 1024


def _with_copies_marked(
    source: Source, candidates: list[Candidate], pool: ThreadPoolExecutor
) -> list[Candidate]:
    """Files that may hold the same bytes get the same `copies_key`, so that the plan, not
    timing, decides which of them goes (`planning.upload_groups`). Only files whose size
    another file to upload shares are looked at, and then only three samples of each
    (head, middle, tail): equal samples put them in one group; the upload's SHA-256 then
    tells the copies apart from look-alikes."""
    sizes = Counter(c.size for c in candidates if _to_send(c))
    shared = [i for i, c in enumerate(candidates) if _to_send(c) and sizes[c.size] > 1]
    keys = pool.map(lambda i: _sample_key(source, candidates[i]), shared)
    marked = list(candidates)
    for index, key in zip(shared, keys, strict=True):
        if key is not None:
            marked[index] = replace(candidates[index], copies_key=key)
    return marked


_STILLS = ("jpg", "jpeg", "heic", "heif")


def _stem(relative_path: str) -> tuple[str, str, str]:
    folder, _, name = relative_path.rpartition("/")
    stem, _, extension = name.rpartition(".")
    return folder, stem.lower(), extension.lower()


def _with_durations(
    source: Source, candidates: list[Candidate], pool: ThreadPoolExecutor
) -> list[Candidate]:
    """Videos that may be a Live Photo's (a still of the same stem beside them) get their
    length from their movie header, for the plan to tell (a few small reads each)."""
    stills = {
        _stem(c.relative_path)[:2]
        for c in candidates
        if _stem(c.relative_path)[2] in _STILLS and not c.problem
    }
    videos = [
        i
        for i, c in enumerate(candidates)
        if c.format in ("mov", "mp4") and _stem(c.relative_path)[:2] in stills and not c.problem
    ]
    lengths = pool.map(lambda i: _seconds(source, candidates[i]), videos)
    timed = list(candidates)
    for index, seconds in zip(videos, lengths, strict=True):
        timed[index] = replace(candidates[index], duration=seconds)
    return timed


def _seconds(source: Source, candidate: Candidate) -> float | None:
    item = SourceItem(candidate.uri, candidate.relative_path, candidate.size, candidate.version)
    try:
        return movie_seconds(lambda at, length: source.read_range(item, at, length), item.size)
    except Exception:  # unreadable now: not taken for a Live Photo's
        return None


def _to_send(candidate: Candidate) -> bool:
    return candidate.kind in (PHOTO, VIDEO) and not candidate.photo_id and not candidate.problem


def _sample_key(source: Source, candidate: Candidate) -> str | None:
    item = SourceItem(candidate.uri, candidate.relative_path, candidate.size, candidate.version)
    digest = hashlib.sha256(str(candidate.size).encode())
    middle = max(candidate.size // 2 - SAMPLE_BYTES // 2, 0)
    try:
        for start in (0, middle, max(candidate.size - SAMPLE_BYTES, 0)):
            digest.update(source.read_range(item, start, SAMPLE_BYTES))
    except Exception:  # unreadable now: its upload will say so
        return None
    return digest.hexdigest()[:32]


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


class _Listed(TypedDict):
    """What the listing says of a file, the start of each Candidate made of it."""

    uri: str
    relative_path: str
    size: int
    version: str


def _described(source: Source, item: SourceItem, ledger: Ledger | None, account: str) -> Candidate:
    base: _Listed = {
        "uri": item.uri,
        "relative_path": item.relative_path,
        "size": item.size,
        "version": item.version,
    }
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
