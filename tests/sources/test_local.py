from __future__ import annotations

import os
from pathlib import Path

import pytest

from flickr_ingest.sources import LocalSource, PathFilter, SourceError, open_source


def _tree(root: Path) -> None:
    for relative in [
        "a.jpg",
        "sub/b.jpg",
        "sub/deeper/c.png",
        ".DS_Store",
        "sub/._b.jpg",
        "@eaDir/thumb.jpg",
        ".hidden/d.jpg",
        "sub/Thumbs.db",
        ".git/config",
        "e f + ü.jpg",
    ]:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8\xff" + relative.encode())


def test_walk_skips_junk_and_hidden_folders(tmp_path: Path) -> None:
    _tree(tmp_path)
    listed = [item.relative_path for item in LocalSource(tmp_path).list()]
    assert listed == ["a.jpg", "e f + ü.jpg", "sub/b.jpg", "sub/deeper/c.png"]


def test_items_carry_size_version_and_uri(tmp_path: Path) -> None:
    _tree(tmp_path)
    source = open_source(str(tmp_path))
    item = next(i for i in source.list() if i.name == "e f + ü.jpg")
    assert item.size == (tmp_path / "e f + ü.jpg").stat().st_size
    stat = (tmp_path / "e f + ü.jpg").stat()
    assert item.version == f"{stat.st_mtime_ns}:{stat.st_size}"
    # An edit that keeps the mtime (exiftool -P) still changes the version.
    (tmp_path / "e f + ü.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 50)
    os.utime(tmp_path / "e f + ü.jpg", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    edited = next(i for i in source.list() if i.name == "e f + ü.jpg")
    assert edited.version != item.version
    assert item.uri.startswith("file://") and "%20" in item.uri
    assert source.read_head(item, 3) == b"\xff\xd8\xff"
    with source.open(item) as stream:
        assert stream.read() == (tmp_path / "e f + ü.jpg").read_bytes()


def test_symlink_loops_do_not_loop(tmp_path: Path) -> None:
    _tree(tmp_path)
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    os.symlink(tmp_path / "missing.jpg", tmp_path / "broken.jpg")
    items = list(LocalSource(tmp_path).list())
    assert len([i for i in items if i.name == "a.jpg"]) == 1
    broken = next(i for i in items if i.name == "broken.jpg")
    assert broken.problem and "cannot read" in broken.problem


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    _tree(tmp_path)
    source = LocalSource(tmp_path, path_filter=PathFilter(include=("*.jpg",), exclude=("sub/*",)))
    assert [i.relative_path for i in source.list()] == ["a.jpg", "e f + ü.jpg"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such folder"):
        open_source(str(tmp_path / "nope"))


def test_a_single_file_is_a_source_of_one(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert [i.relative_path for i in LocalSource(tmp_path / "a.jpg").list()] == ["a.jpg"]


def test_keys_pick_files_by_relative_path_and_never_leave_the_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "two.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path.parent / "outside.jpg").write_bytes(b"x")
    source = LocalSource(
        tmp_path, keys=["a/one.jpg", "two.jpg", "../outside.jpg", "/etc/passwd", "gone.jpg"]
    )
    items = {item.relative_path: item for item in source.list()}
    assert items["a/one.jpg"].problem is None and items["a/one.jpg"].size == 3
    assert items["two.jpg"].problem is None
    assert items["../outside.jpg"].problem == "not a path inside the source folder"
    assert items["/etc/passwd"].problem == "not a path inside the source folder"
    assert items["gone.jpg"].problem  # a file that vanished since it was planned


def test_links_leading_outside_the_folder_are_reported_not_followed(tmp_path: Path) -> None:
    """Hardening #5: a shared drop folder must not publish what the service can read
    elsewhere."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.jpg").write_bytes(b"\xff\xd8secret")
    drop = tmp_path / "drop"
    (drop / "inside").mkdir(parents=True)
    (drop / "inside" / "ok.jpg").write_bytes(b"\xff\xd8ok")
    os.symlink(private, drop / "outside_dir")
    os.symlink(private / "secret.jpg", drop / "photo.jpg")
    os.symlink(drop / "inside" / "ok.jpg", drop / "alias.jpg")  # inside: followed
    items = {item.relative_path: item for item in LocalSource(drop).list()}
    assert items["alias.jpg"].problem is None and items["inside/ok.jpg"].problem is None
    for name in ("outside_dir", "photo.jpg"):
        assert items[name].problem and "outside the source folder" in items[name].problem
    assert "outside_dir/secret.jpg" not in items
    keyed = list(LocalSource(drop, keys=["outside_dir/secret.jpg", "photo.jpg"]).list())
    assert all(item.problem and "outside" in item.problem for item in keyed)
    followed = {i.relative_path for i in LocalSource(drop, follow_links=True).list()}
    assert {"outside_dir/secret.jpg", "photo.jpg"} <= followed
