"""One run at a time per run id on a machine.

A run's temporary folder, record journal and stop flag are named by its id. A second run
with the same id (a fixed `run_id` parameter on runs that overlap) would truncate the
first one's records as they are written and delete its folder when it ended. So a run
claims its id: an exclusive `flock` on a file named by the id. The kernel drops the lock
when the process dies, so a killed run leaves no claim behind.
"""

from __future__ import annotations

import fcntl  # POSIX, as the local Prefect server's start is
import os
import threading
from pathlib import Path

from flickr_ingest.errors import ConfigurationError
from flickr_ingest.paths import child


class RunIdInUse(ConfigurationError):
    """Another run holds this run id; nothing of it was touched."""

    def __init__(self, run_id: str, where: str) -> None:
        super().__init__(
            f"run id {run_id!r} is in use by another run {where}: give each run an id of"
            " its own, or none (each run then gets a new one)"
        )


class RunClaim:
    """This process's hold on a run id, until `release` (or the process ends)."""

    def __init__(self, folder: Path, run_id: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = child(folder, run_id)
        self._fd: int | None = None
        with _HELD_LOCK:  # flock on some file systems (NFS) lets one process in twice
            if self.path in _HELD:
                raise RunIdInUse(run_id, "in this process")
            self._fd = _lock(self.path, run_id)
            _HELD.add(self.path)

    def release(self) -> None:
        """Give the id back (removing the file first, while it is still held)."""
        with _HELD_LOCK:
            if self._fd is None:
                return
            try:
                self.path.unlink(missing_ok=True)
            finally:
                os.close(self._fd)
                self._fd = None
                _HELD.discard(self.path)


#: The claims this process holds, by path.
_HELD: set[Path] = set()
_HELD_LOCK = threading.Lock()


def _lock(path: Path, run_id: str) -> int:
    """An open descriptor of `path` holding its exclusive lock."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The run before us may have removed the file between our open and our lock
            # (release unlinks it): a lock on that file guards nothing; take a new one.
            if _same_file(fd, path):
                return fd
        except BlockingIOError:
            os.close(fd)
            raise RunIdInUse(run_id, "on this machine") from None
        except OSError as error:  # e.g. ENOLCK: a file system without locks
            os.close(fd)
            raise ConfigurationError(
                f"the state folder cannot hold a run's claim on its id ({path.parent}:"
                f" {error.strerror}); put the state folder (--state-dir) on a local disk"
            ) from error
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
