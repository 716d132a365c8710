"""Housekeeping files are left out of a run, and counted by kind (issue #34): 36 files
in, 32 in the report, and nobody said why."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flickr_ingest.sources import open_source
from flickr_ingest.sources.base import ignored_line
from tests.photos import jpeg_bytes


def test_a_folder_and_a_bucket_count_what_they_leave_out(tmp_path: Path, s3, bucket: str) -> None:
    files = {
        "a.jpg": jpeg_bytes(1),
        ".DS_Store": b"x",
        "2019/.DS_Store": b"x",
        "2019/._a.jpg": b"x",
        "2019/Thumbs.db": b"x",
        "2019/b.jpg": jpeg_bytes(2),
        "@eaDir/a.jpg/SYNOPHOTO_THUMB_M.jpg": jpeg_bytes(3),
        ".git/HEAD": b"x",
    }
    for name, body in files.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_bytes(body)
        s3.put_object(Bucket=bucket, Key=f"in/{name}", Body=body)
    local = open_source(str(tmp_path / "in"))
    assert sorted(item.relative_path for item in local.list()) == ["2019/b.jpg", "a.jpg"]
    assert local.ignored == Counter(
        {
            ".DS_Store": 2,
            "._* (macOS resource forks)": 1,
            "Thumbs.db": 1,
            "in @eaDir/": 1,
            "in .git/": 1,
        }
    )
    remote = open_source(f"s3://{bucket}/in/", s3_client=s3)
    assert sorted(item.relative_path for item in remote.list()) == ["2019/b.jpg", "a.jpg"]
    assert remote.ignored["in @eaDir/"] == 1 and remote.ignored[".DS_Store"] == 2
    line = ignored_line(local.ignored)
    assert line == (
        "Left out 6 housekeeping item(s), not photos: 2 .DS_Store, 1 ._* (macOS resource"
        " forks), 1 Thumbs.db, 1 in .git/, 1 in @eaDir/"
    )
    assert ignored_line(Counter()) is None
