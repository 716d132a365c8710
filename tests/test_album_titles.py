"""Which album a file belongs in, for each `album` setting."""

from __future__ import annotations

import pytest

from flickr_ingest.albums import album_title, source_root_name
from flickr_ingest.errors import ConfigurationError


@pytest.mark.parametrize(
    ("setting", "relative_path", "expected"),
    [
        ("none", "2019/Trip/a.jpg", None),
        ("", "a.jpg", None),
        ("folder", "2019/Trip/a.jpg", "Trip"),
        ("folder", "a.jpg", "Archive"),  # top-level files: the source's own name
        ("path", "2019/Trip/a.jpg", "2019 / Trip"),
        ("path", "a.jpg", "Archive"),
        ("Family scans", "2019/Trip/a.jpg", "Family scans"),
        ("name:folder", "2019/Trip/a.jpg", "folder"),  # a fixed album called "folder"
        ("FOLDER", "x/y.jpg", "x"),
    ],
)
def test_album_title(setting: str, relative_path: str, expected: str | None) -> None:
    assert album_title(relative_path, setting, root_name="Archive", separator=" / ") == expected


def test_separator_and_long_titles() -> None:
    assert album_title("a/b/c.jpg", "path", root_name="r", separator="-") == "a-b"
    long = "x" * 300
    assert album_title(f"{long}/c.jpg", "folder", root_name="r", separator="/") == "x" * 255
    with pytest.raises(ConfigurationError, match="empty album title"):
        album_title("a.jpg", "name:  ", root_name="r", separator="/")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/home/me/Photos/Trip", "Trip"),
        ("/home/me/Photos/Trip/", "Trip"),
        ("s3://bucket", "bucket"),
        ("s3://bucket/archive/2019/", "2019"),
    ],
)
def test_source_root_name(location: str, expected: str) -> None:
    assert source_root_name(location) == expected


def test_album_order_survives_photo_ids_that_are_no_numbers() -> None:
    """A server's photo id '²' passed `isdigit()` and then crashed `int()`."""
    from flickr_ingest.albums import _by_date_taken
    from flickr_ingest.flickr.responses import AlbumPhoto

    photos = [
        AlbumPhoto("12", "2020-01-01 00:00:00", False),
        AlbumPhoto("²", "2020-01-01 00:00:00", False),
        AlbumPhoto("3", "2019-01-01 00:00:00", False),
    ]
    assert [p.photo_id for p in sorted(photos, key=_by_date_taken)] == ["3", "²", "12"]
