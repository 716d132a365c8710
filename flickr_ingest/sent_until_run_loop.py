"""TEMPORARY (issue 31): the bytes an upload sends, told to `progress`'s process-wide
listeners, for as long as runs.py builds `UploadContext` without `sent`.

`UploadContext.sent` defaults to this; once the run loop hands its listener to the
context (`UploadContext(..., sent=listener.sent)`), make the default a no-op and delete
this module. uploading.py and syncing.py do not
import `progress` themselves."""

from __future__ import annotations

from flickr_ingest import progress


def announce_sent(uri: str, size: int) -> None:
    progress.announce_sent(uri, size)
