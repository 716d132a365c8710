"""Files only their owner may read, whatever the umask: a run's reports, thumbnails and
records name private files and show private photos (a umask of 022 made them readable by
every local user). Files are 0600; folders made here are 0700. Folders that exist are
left as their owner set them: sharing a report folder is a choice made with chmod.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> Path:
    """`folder`, made if missing, each folder made here owner-only."""
    missing: list[Path] = []
    path = folder
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another task or run: theirs
        os.chmod(path, FOLDER_MODE)  # mkdir's mode passes through the umask
    return folder


@overload
def open_private(
    path: Path, mode: Literal["w"] = "w", *, encoding: str | None = None, errors: str | None = None
) -> TextIO: ...
@overload
def open_private(path: Path, mode: Literal["wb"]) -> BinaryIO: ...
def open_private(
    path: Path, mode: str = "w", *, encoding: str | None = None, errors: str | None = None
) -> IO[Any]:
    """`open(path, mode)` for writing a new or truncated file that is owner-only."""
    if mode not in ("w", "wb"):
        raise ValueError(f"open_private writes ('w' or 'wb'), not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)  # an existing file keeps its old mode otherwise
        return os.fdopen(descriptor, mode, encoding=encoding, errors=errors)
    except BaseException:
        os.close(descriptor)
        raise


def write_private_text(path: Path, text: str) -> None:
    """UTF-8; a lone surrogate (a name's byte that is not UTF-8) is written as its
    escape, `\\udcf6`, which reads back and is still valid JSON inside a string."""
    with open_private(path, "w", encoding="utf-8", errors="backslashreplace") as file:
        file.write(text)


def make_private(path: Path) -> None:
    """Make an existing file owner-only (one copied in by a tool that does not ask)."""
    os.chmod(path, FILE_MODE)
