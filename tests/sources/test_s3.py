"""S3 sources against moto's server over HTTP: a real S3 API."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest

from flickr_ingest.metadata import head_for_metadata, read_metadata
from flickr_ingest.sources import SourceError, open_source
from flickr_ingest.sources.s3 import parse_s3_uri
from tests.photos import jpeg_bytes


def test_listing_paginates_past_1000_keys(s3, bucket: str) -> None:
    keys = [f"inbox/{i:04d}.jpg" for i in range(1105)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))
    s3.put_object(Bucket=bucket, Key="inbox-old/other.jpg", Body=b"x")
    source = open_source(f"s3://{bucket}/inbox/", s3_client=s3)
    items = list(source.list())
    assert [i.relative_path for i in items] == [k.removeprefix("inbox/") for k in keys]
    assert source.api_calls >= 2  # more than one page


def test_odd_keys_round_trip(s3, bucket: str) -> None:
    odd = ["a b.jpg", "plus+sign.jpg", "ünï/cödé.jpg", "../escape.jpg", "q?x=1#y.jpg", "dir/"]
    for key in odd:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s3.put_object(Bucket=bucket, Key=".DS_Store", Body=b"junk")
    source = open_source(f"s3://{bucket}", s3_client=s3)
    items = {i.relative_path: i for i in source.list()}
    assert sorted(items) == sorted(k for k in odd if not k.endswith("/"))
    for key, item in items.items():
        with source.open(item) as stream:
            assert stream.read() == key.encode()
        assert item.version  # the ETag


def test_explicit_keys_and_a_missing_one(s3, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="new/a b.jpg", Body=b"abc")
    source = open_source(f"s3://{bucket}/new/", s3_client=s3, keys=["new/a b.jpg", "new/gone.jpg"])
    items = list(source.list())
    assert items[0].relative_path == "a b.jpg" and items[0].size == 3 and not items[0].problem
    assert items[1].problem and "cannot read object" in items[1].problem


def test_missing_bucket_is_a_clear_error(s3) -> None:
    with pytest.raises(SourceError, match="no such bucket"):
        list(open_source("s3://no-such-bucket-here/x", s3_client=s3).list())


def test_metadata_of_a_20_mb_object_reads_well_under_1_mb(s3, bucket: str) -> None:
    photo = jpeg_bytes(1, taken="2019:03:28 10:15:00")  # our own: the check always runs
    body = photo[:-2] + b"\x00" * (20 * 1024 * 1024 - len(photo)) + b"\xff\xd9"
    s3.upload_fileobj(io.BytesIO(body), bucket, "big.jpg")
    source = open_source(f"s3://{bucket}", s3_client=s3)
    item = next(iter(source.list()))
    head = head_for_metadata(
        lambda start, length: source.read_range(item, start, length), item.size
    )
    metadata = read_metadata(head, size=item.size)
    assert source.bytes_read < 512 * 1024
    assert metadata.date_taken is not None and metadata.date_taken.startswith("2019-03-28")


def test_object_keys_cannot_steer_the_temporary_copy(s3, bucket: str, tmp_path) -> None:
    from types import SimpleNamespace

    from flickr_ingest.uploading import _local_copy

    key = "../../../../etc/cron.d/x/../evil.jpg"
    s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xffdata")
    source = open_source(f"s3://{bucket}", s3_client=s3)
    item = next(iter(source.list()))
    work_dir = tmp_path / "work"
    context = SimpleNamespace(source=source, work_dir=work_dir)
    with _local_copy(context, item) as path:
        assert path.parent == work_dir and path.suffix == ".jpg"
        assert path.read_bytes() == b"\xff\xd8\xffdata"
    assert not path.exists() and list(work_dir.iterdir()) == []


def test_discovery_goes_by_names_without_reading_objects(s3, bucket: str) -> None:
    from flickr_ingest.discovery import discover

    for key, body in (("p/a.JPG", b"\xff\xd8\xff" + b"x" * 5000), ("p/clip.mov", b"y" * 900)):
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.put_object(Bucket=bucket, Key="p/no-extension", Body=b"\xff\xd8\xff" + b"z" * 100)
    source = open_source(f"s3://{bucket}/p/", s3_client=s3)
    kinds = {c.relative_path: (c.kind, c.format) for c in discover(source)}
    assert kinds == {
        "a.JPG": ("photo", "jpeg"),
        "clip.mov": ("video", "mov"),
        "no-extension": ("photo", "jpeg"),  # a name that says nothing: the head is read
    }
    assert source.bytes_read == 103  # only the object without an extension was read


def test_every_key_is_itself(s3, bucket: str) -> None:
    """Issue #29: a leading "/", "//", "./" or "../" is part of the key: each names its
    own object, by URI too, and one that exists only with the "/" is read."""
    keys = ["cat.jpg", "/cat.jpg", "//cat.jpg", "./cat.jpg", "../cat.jpg", "/only-with-slash.jpg"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=f"bytes of {key}".encode())
    source = open_source(f"s3://{bucket}", s3_client=s3)
    items = {item.relative_path: item for item in source.list()}
    assert sorted(items) == sorted(keys)
    for key, item in items.items():
        assert source.read_head(item, 100) == f"bytes of {key}".encode()
        with source.open(item) as stream:
            assert stream.read() == f"bytes of {key}".encode()
        assert source.holds(item.uri) is True
        assert parse_s3_uri(item.uri) == (bucket, key)
    assert len({item.uri for item in items.values()}) == len(keys)
    assert source.holds(f"s3://{bucket}//gone.jpg") is False
    s3.delete_object(Bucket=bucket, Key="cat.jpg")
    assert source.holds(items["cat.jpg"].uri) is False
    assert source.holds(items["/cat.jpg"].uri) is True
