"""Metadata built to hurt: it costs little CPU and never raises."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flickr_ingest.metadata import head_for_metadata, jpeg, read_file_metadata, read_metadata
from flickr_ingest.metadata.xmp import read_xmp
from flickr_ingest.numbers import parse_count, parse_seconds
from tests.photos import jpeg_bytes

_COMMENT = b"\xff\xfe\x00\x06abcd"  # an 8-byte COM segment


def _with_comments(total: int) -> bytes:
    photo = jpeg_bytes(3, taken="2020:01:02 03:04:05")
    return photo[:2] + _COMMENT * (total // len(_COMMENT)) + photo[2:]


def test_a_megabyte_of_tiny_segments_reads_quickly(tmp_path: Path) -> None:
    data = _with_comments(1024 * 1024)  # 131,072 segments
    path = tmp_path / "comments.jpg"
    path.write_bytes(data)
    started = time.thread_time()
    metadata = read_file_metadata(path, len(data))
    # Linear: ~1 s of CPU on a loaded 2-core machine; the quadratic walk took 6-17 s.
    assert time.thread_time() - started < 3.0
    assert any("segments" in warning for warning in metadata.warnings)


def test_the_segment_walk_stops_after_its_cap() -> None:
    data = _with_comments(200_000)
    walker = jpeg.walk(data)
    assert walker.too_many and walker.finished
    assert len(walker.segments) == jpeg.MAX_MARKERS


def test_segments_within_the_cap_are_all_read() -> None:
    data = _with_comments(8 * 1000)  # 1,000 comments, then the photo's own segments
    head = head_for_metadata(lambda start, length: data[start : start + length], len(data))
    metadata = read_metadata(head, size=len(data))
    assert metadata.date_taken == "2020-01-02T03:04:05"
    assert metadata.warnings == ()


def test_a_growing_prefix_is_walked_once() -> None:
    data = _with_comments(8 * 1000)
    whole = jpeg.walk(data)
    walker = jpeg.SegmentWalker()
    for end in range(0, len(data) + 1000, 1000):
        walker.walk(data[:end])
    assert walker.segments == whole.segments
    assert walker.scan_start == whole.scan_start is not None


def test_fill_bytes_between_segments() -> None:
    photo = jpeg_bytes(4)
    data = photo[:2] + b"\xff" * 100_000 + photo[2:]
    assert jpeg.walk(data).scan_start == jpeg.walk(photo).scan_start + 100_000


def _xmp_with_pixels(width: str, height: str = "600") -> bytes:
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        ' xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        f' exif:PixelXDimension="{width}" exif:PixelYDimension="{height}"'
        ' photoshop:DateCreated="²０²３-01-02T03:04:05"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()
    segment = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    photo = jpeg_bytes(5)
    return photo[:2] + b"\xff\xe1" + (len(segment) + 2).to_bytes(2, "big") + segment + photo[2:]


@pytest.mark.parametrize(
    "odd", ["²", "١٢٣", "12a", " 12 ", "", "-5", "1e3", pytest.param("9" * 5000, id="5000 nines")]
)
def test_odd_digits_in_xmp_are_ignored(odd: str) -> None:
    data = _xmp_with_pixels(odd)
    xmp = read_xmp(data)
    assert xmp is not None and xmp.pixel_size is None
    metadata = read_metadata(data, size=len(data))  # no exception
    assert metadata.date_taken is None  # nor a date in superscript digits


def test_plain_digits_in_xmp_are_read() -> None:
    xmp = read_xmp(_xmp_with_pixels("800"))
    assert xmp is not None and xmp.pixel_size == (800, 600)


@pytest.mark.parametrize(
    ("text", "number"), [("0", 0), ("12", 12), ("²", None), ("١٢٣", None), (" 12 ", None)]
)
def test_parse_count(text: str, number: int | None) -> None:
    assert parse_count(text) == number


def test_parse_count_refuses_more_digits_than_allowed() -> None:
    assert parse_count("1" * 19) is None
    assert parse_count("123", max_digits=2) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5", 5.0), ("2.5", 2.5), ("²", None), ("1e400", None), ("nan", None), ("-1", None)],
)
def test_parse_seconds(text: str, seconds: float | None) -> None:
    assert parse_seconds(text) == seconds
