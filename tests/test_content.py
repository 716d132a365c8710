"""content.fingerprint: hashes and the JPEG integrity check, whatever the chunking."""

from __future__ import annotations

import hashlib
import io
import random
import time

import pytest
from PIL import Image

from flickr_ingest.content import fingerprint
from flickr_ingest.metadata import jpeg
from flickr_ingest.metadata.jpeg import ScanChecker


def _noisy_jpeg(seed: int = 0, size: tuple[int, int] = (320, 240), **options: object) -> bytes:
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def _naive_breaks(data: bytes) -> int:
    """Out-of-order restart markers, counted byte by byte (the reference)."""
    start = jpeg.walk(data).scan_start
    assert start is not None
    breaks, previous = 0, None
    for position in range(start, len(data) - 1):
        if data[position] == 0xFF and 0xD0 <= data[position + 1] <= 0xD7:
            number = data[position + 1] - 0xD0
            if previous is not None and number != (previous + 1) % 8:
                breaks += 1
            previous = number
    return breaks


def _check(data: bytes, chunk: int) -> ScanChecker:
    checker = ScanChecker()
    for start in range(0, len(data), chunk):
        checker.feed(data[start : start + chunk])
    return checker


def _damaged(data: bytes) -> bytes:
    """`data` with its third restart marker renumbered."""
    start = jpeg.walk(data).scan_start
    assert start is not None
    spots = [
        p for p in range(start, len(data) - 1) if data[p] == 0xFF and 0xD0 <= data[p + 1] <= 0xD7
    ]
    spot = spots[2] + 1
    return data[:spot] + bytes([0xD0 + (data[spot] - 0xD0 + 4) % 8]) + data[spot + 1 :]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 255, 4096, 1 << 20])
def test_restart_checks_do_not_depend_on_chunking(chunk: int) -> None:
    intact = _noisy_jpeg(1, restart_marker_rows=1)
    damaged = _damaged(intact)
    assert _check(intact, chunk).warnings() == []
    checker = _check(damaged, chunk)
    assert checker.restart_breaks == _naive_breaks(damaged) == 2
    assert "image data damaged" in checker.warnings()[0]


def test_a_progressive_jpeg_numbers_restarts_anew_in_each_scan() -> None:
    data = _noisy_jpeg(2, progressive=True, restart_marker_rows=1)
    assert fingerprint(io.BytesIO(data), check_jpeg=True).warnings == ()


def test_a_truncated_jpeg_is_flagged() -> None:
    data = _noisy_jpeg(3)
    print_ = fingerprint(io.BytesIO(data[: len(data) // 2]), check_jpeg=True)
    assert any("truncated" in warning for warning in print_.warnings)


def test_hash_and_size() -> None:
    data = _noisy_jpeg(4) * 5
    print_ = fingerprint(io.BytesIO(data), check_jpeg=True)
    assert print_.sha256 == hashlib.sha256(data).hexdigest()
    assert print_.size == len(data)


def test_the_scan_check_never_walks_image_data_byte_by_byte() -> None:
    # 8 MB of image data with an escaped 0xFF every 4 bytes: 2 million candidate markers.
    photo = _noisy_jpeg(5, size=(64, 48))
    start = jpeg.walk(photo).scan_start
    assert start is not None
    data = photo[:start] + b"\x12\xff\x00\x34" * (2 * 1024 * 1024) + b"\xff\xd9"
    started = time.thread_time()
    print_ = fingerprint(io.BytesIO(data), check_jpeg=True)
    assert time.thread_time() - started < 0.5
    assert print_.warnings == ()
