"""One pass over a file's bytes: its identity (SHA-256), its size, and for a JPEG whether
its image data looks damaged or truncated."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from flickr_ingest.metadata.jpeg import ScanChecker

_CHUNK = 1024 * 1024
#: The machine tag that names a photo's bytes on Flickr; the hash follows it.
CHECKSUM_TAG_PREFIX = "checksum:sha256="
#: How a record's reason starts when the file's image data is damaged (the terminal,
#: report.md and the dashboard's table show reasons).
DAMAGED = "damaged: "


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    warnings: tuple[str, ...] = ()  # the image data is damaged: how

    @property
    def damage(self) -> str | None:
        """What a record's reason says of damaged image data, if it is damaged."""
        return DAMAGED + "; ".join(self.warnings) if self.warnings else None

    @property
    def machine_tag(self) -> str:
        """The tag that finds this content on Flickr again: `checksum:sha256=<hex>`."""
        return CHECKSUM_TAG_PREFIX + self.sha256


def fingerprint(
    stream: BinaryIO, *, check_jpeg: bool = False, copy_to: BinaryIO | None = None
) -> Fingerprint:
    """Read `stream` to its end once, in chunks (constant memory); optionally copy it."""
    sha256 = hashlib.sha256()
    checker = ScanChecker() if check_jpeg else None
    size = 0
    while chunk := stream.read(_CHUNK):
        sha256.update(chunk)
        size += len(chunk)
        if checker is not None:
            checker.feed(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    warnings = tuple(checker.warnings()) if checker is not None and size else ()
    return Fingerprint(sha256.hexdigest(), size, warnings)
