"""A local folder as a source: a recursive walk that survives symlink loops and junk.

A symbolic link that leads outside the folder is not followed unless the user says so
(`follow_links`): anyone who can write into a shared drop folder could otherwise publish
any image the service can read (`photo.jpg -> /home/me/secret.jpg`). Such a link is
reported with its reason, like any file that is not uploaded.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote, unquote_to_bytes, urlsplit

from flickr_ingest.files import open_regular
from flickr_ingest.sources.base import PathFilter, SourceError, SourceItem, junk_kind, shown_text


def path_to_uri(path: Path) -> str:
    """The path's raw bytes, %-encoded: any name (Latin-1 from an old Windows share, say)
    has a URI, the same in every run, that leads back to its file."""
    return "file://" + quote(os.fsencode(path), safe="/")


def uri_to_path(uri: str) -> Path:
    return Path(os.fsdecode(unquote_to_bytes(urlsplit(uri).path)))


class LocalSource:
    def __init__(
        self,
        root: Path | str,
        *,
        path_filter: PathFilter | None = None,
        keys: Sequence[str] | None = None,
        follow_links: bool = False,
    ) -> None:
        self.root = Path(root).expanduser().absolute()
        self.follow_links = follow_links
        self.location = str(self.root)
        self.path_filter = path_filter or PathFilter()
        self.keys = list(keys) if keys is not None else None  # relative paths, for chunks
        self.bytes_read = 0
        self.remote = False
        self.ignored: Counter[str] = Counter()
        if not self.root.exists():
            raise SourceError(f"no such folder: {self.root}")
        self._real_root = self.root.resolve()

    def list(self) -> Iterator[SourceItem]:
        """Every file below the root, in a stable order (sorted per folder); or just the
        files named by `keys`."""
        if self.keys is not None:
            yield from (self._keyed_item(key) for key in self.keys)
            return
        if self.root.is_file():  # a single file is a source of one
            yield self._item(self.root, self.root.name)
            return
        seen_folders: set[tuple[int, int]] = set()
        yield from self._walk(self.root, "", seen_folders)

    def _walk(self, folder: Path, prefix: str, seen: set[tuple[int, int]]) -> Iterator[SourceItem]:
        try:
            identity = folder.stat()
        except OSError as error:
            yield _problem(folder, prefix.rstrip("/"), _why(error))
            return
        key = (identity.st_dev, identity.st_ino)
        if key in seen:  # a symlink back to a folder already walked: a loop
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            yield _problem(folder, prefix.rstrip("/") or ".", _why(error))
            return
        for entry in entries:
            relative = prefix + entry.name
            path = Path(entry.path)
            try:
                is_folder = entry.is_dir()
                kind = junk_kind(relative + "/x" if is_folder else relative)
                if kind is not None:  # a folder of them counts once: it is not walked
                    self.ignored[kind] += 1
                    continue
                if entry.is_symlink() and not self._inside(path):
                    yield _problem(path, relative, _OUTSIDE)
                    continue
                walk_into = entry.is_dir(follow_symlinks=True)
            except Exception as error:  # one entry's trouble is that entry's, not the run's
                yield _problem(path, relative, _why(error))
                continue
            if walk_into:
                yield from self._walk(path, relative + "/", seen)
            elif self.path_filter.wants(relative):
                yield self._item(path, relative)

    def _keyed_item(self, key: str) -> SourceItem:
        if key.startswith("file://"):  # a name that is not UTF-8 goes by its URI (planning)
            key = os.fsdecode(uri_to_path(key).relative_to(self.root)) if self._under(key) else key
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            uri = path_to_uri(self.root) + "/" + quote(os.fsencode(key))
            return SourceItem(uri, shown_text(key), 0, "", "not a path inside the source folder")
        path = self.root.joinpath(*relative.parts)
        try:
            if not self._inside(path):  # a linked folder or file on the way leads elsewhere
                return _problem(path, relative.as_posix(), _OUTSIDE)
        except Exception as error:
            return _problem(path, relative.as_posix(), _why(error))
        return self._item(path, relative.as_posix())

    def _under(self, uri: str) -> bool:
        return uri_to_path(uri).is_relative_to(self.root)

    def _inside(self, path: Path) -> bool:
        """Whether `path`, links resolved, stays in the folder (always, with follow_links)."""
        return self.follow_links or path.resolve().is_relative_to(self._real_root)

    def _item(self, path: Path, relative: str) -> SourceItem:
        """`relative` as the report shows it (`shown_text`); the URI keeps the raw bytes."""
        try:
            stat = path.stat()
        except OSError as error:  # a broken symlink, a vanished file
            return _problem(path, relative, _why(error))
        if not path.is_file():
            return _problem(path, relative, "not a regular file")
        # The version says whether the bytes may have changed since a run last hashed
        # them: size and mtime, as rsync decides (an edit that keeps the mtime, as
        # `exiftool -P` does, still changes the size).
        version = f"{stat.st_mtime_ns}:{stat.st_size}"
        return SourceItem(path_to_uri(path), shown_text(relative), stat.st_size, version)

    def read_head(self, item: SourceItem, length: int) -> bytes:
        return self.read_range(item, 0, length)

    def read_range(self, item: SourceItem, start: int, length: int) -> bytes:
        with self.open(item) as stream:
            stream.seek(start)
            data = stream.read(length)
        self.bytes_read += len(data)
        return data

    def open(self, item: SourceItem) -> AbstractContextManager[BinaryIO]:
        return open_regular(uri_to_path(item.uri), within=self.confined_to)

    @property
    def confined_to(self) -> Path | None:
        """The folder (links resolved) every file must be inside when it is opened, as it
        was when listed: None with `follow_links`."""
        return None if self.follow_links else self._real_root

    @property
    def root_uri(self) -> str:
        """The folder's URI with its closing "/" (so that `a/` is no prefix of `ab/`);
        a single file's own URI."""
        uri = path_to_uri(self.root)
        return uri if self.root.is_file() or uri.endswith("/") else uri + "/"

    def holds(self, uri: str) -> bool | None:
        if not uri.startswith("file://"):
            return None
        try:
            return uri_to_path(uri).is_file()
        except OSError:
            return None


_OUTSIDE = "a link leading outside the source folder (not followed; --follow-links allows it)"


def _problem(path: Path, relative: str, why: str) -> SourceItem:
    """The item of a file that cannot be listed as one: its reason, and a URI to find it."""
    return SourceItem(path_to_uri(path), shown_text(relative), 0, "", why)


def _why(error: Exception) -> str:
    if isinstance(error, OSError):
        return f"cannot read: {error.strerror or type(error).__name__}"
    return f"cannot list: {type(error).__name__}: {shown_text(str(error))}"
