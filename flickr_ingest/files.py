"""Reading a file that may change or be swapped while we work on it.

- `open_regular` opens without blocking and refuses anything that is not a regular file
  now: a FIFO put where a photo was would otherwise hang its upload for ever. Confined
  to a folder, it also refuses a file that became a link (`O_NOFOLLOW`) or that is
  outside the folder once opened (the descriptor's own path: a parent folder swapped
  for a link after listing): anyone who can write to a drop folder could otherwise have
  a private file uploaded.
- `CheckedReader` hands the upload the bytes it reads while hashing them and keeping a
  deadline: after sending, the hash says whether the bytes sent are the bytes the ledger
  and the checksum tag were given (a file rewritten mid-run is caught), and a send slower
  than a minimum rate is abandoned instead of holding a worker.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
import time
from pathlib import Path
from typing import BinaryIO

from flickr_ingest.errors import FlickrIngestError
from flickr_ingest.flickr import errors

#: The slowest upload worth waiting for, and the fixed allowance on top.
MIN_BYTES_PER_SECOND = 32 * 1024
BASE_SECONDS = 120.0


class NotARegularFile(FlickrIngestError):
    """The path holds a FIFO, a device, a socket or a folder, not a file."""


class OutsideTheSource(NotARegularFile):
    """The file became a link, or is outside its folder now (moved, or a folder on its
    way swapped for a link)."""


#: Why a confined file is refused; `--follow-links` is the way to allow links.
BECAME_A_LINK = "a symbolic link since it was listed (not followed; --follow-links allows it)"
OUTSIDE_NOW = (
    "outside the source folder since it was listed (a folder on its way became a link;"
    " not followed; --follow-links allows it)"
)


def open_regular(path: Path, *, within: Path | None = None) -> BinaryIO:
    """`path` opened for reading, if it is a regular file at the moment of opening; with
    `within` (a folder, links resolved), only if it is no link and lies inside it."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_NOFOLLOW if within else 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if within is not None and error.errno == errno.ELOOP:
            raise OutsideTheSource(BECAME_A_LINK) from None
        raise NotARegularFile(f"cannot open: {error.strerror}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(f"not a regular file ({_kind(mode)})")
        if within is not None and not _opened_path(descriptor, path).is_relative_to(within):
            raise OutsideTheSource(OUTSIDE_NOW)
    except BaseException:
        os.close(descriptor)
        raise
    os.set_blocking(descriptor, True)  # a regular file: plain reads from here on
    return os.fdopen(descriptor, "rb")


def _opened_path(descriptor: int, path: Path) -> Path:
    """Where the open file is, as the kernel knows it (not what the name says now)."""
    if sys.platform == "darwin":
        import fcntl

        name = fcntl.fcntl(descriptor, fcntl.F_GETPATH, b"\0" * 1024)
        return Path(os.fsdecode(name.rstrip(b"\0")))
    try:
        return Path(os.readlink(f"/proc/self/fd/{descriptor}"))
    except OSError:  # no /proc: the name's own resolution, a moment later
        return path.resolve()


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return name
    return "not a file"


def send_deadline_seconds(size: int, slowest: float = MIN_BYTES_PER_SECOND) -> float:
    """How long sending `size` bytes may take: `slowest` is the rate below which the link
    is taken for stalled (lower under a bandwidth cap, which slows every lane on purpose)."""
    return BASE_SECONDS + size / min(slowest, MIN_BYTES_PER_SECOND)


class CheckedReader:
    """A read-only view of the first `size` bytes of `stream` for the upload: SHA-256 of
    what was read, and a deadline. The body's length is declared before sending, so a
    file that shrinks mid-send fails the send (as a transport error, retried) rather
    than leaving the server waiting; bytes beyond `size` are never sent."""

    def __init__(
        self, stream: BinaryIO, size: int, *, slowest: float = MIN_BYTES_PER_SECOND
    ) -> None:
        self._stream = stream
        self._size = size
        self._sha256 = hashlib.sha256()
        self.bytes_read = 0
        self.name = "photo"  # the upload names the file itself
        self._allowed = send_deadline_seconds(size, slowest)
        self._deadline = time.monotonic() + self._allowed

    @property
    def len(self) -> int:  # what requests-toolbelt asks of a part still to be sent
        return self._size - self.bytes_read

    def read(self, size: int = -1) -> bytes:
        if time.monotonic() > self._deadline:
            raise errors.TransportError(
                f"sending took longer than {self._allowed:.0f} s"
                f" (slower than {MIN_BYTES_PER_SECOND // 1024} KB/s); given up"
            )
        left = self._size - self.bytes_read
        chunk = self._stream.read(left if size < 0 else min(size, left))
        if not chunk and left > 0:
            raise errors.TransportError("the file shrank while it was being sent")
        self._sha256.update(chunk)
        self.bytes_read += len(chunk)
        return chunk

    def sha256(self) -> str:
        return self._sha256.hexdigest()
