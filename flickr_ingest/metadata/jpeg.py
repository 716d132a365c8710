"""JPEG structure without decoding pixels: where the metadata segments are, the IPTC
record inside Photoshop's APP13, and the scan data's integrity."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length
_IPTC_DATASETS = {5: "object_name", 120: "caption", 25: "keywords"}


@dataclass(frozen=True)
class Segment:
    marker: int
    start: int  # offset of the payload
    length: int  # payload length

    @property
    def end(self) -> int:
        return self.start + self.length


#: Markers walked at most before the image data. Cameras write a dozen; a file with
#: thousands (say a megabyte of tiny comment segments) is built to waste time.
MAX_MARKERS = 10_000
_FILL = re.compile(rb"\xff+")


class SegmentWalker:
    """Walks the marker segments before a JPEG's image data, over a prefix of its bytes
    that may grow: walking a longer prefix resumes where the last walk stopped, so every
    byte is looked at once. Stops at SOS, at bytes that are not a marker, or after
    `limit` markers (`too_many`)."""

    def __init__(self, limit: int = MAX_MARKERS) -> None:
        self.segments: list[Segment] = []
        self.position = 2  # where the next marker starts (past the data seen: read more)
        self.finished = False  # reached the image data or the end of the structure
        self.too_many = False
        self._limit = limit
        self._markers = 0

    def walk(self, data: bytes | bytearray) -> None:
        if self.finished or len(data) < 2:
            return
        if not data.startswith(b"\xff\xd8"):
            self.finished = True
            return
        position, size = self.position, len(data)
        while position + 4 <= size:
            if data[position] != 0xFF:
                self.finished = True
                break
            marker = data[position + 1]
            if marker == 0xFF:  # fill bytes: skip the whole run at once
                fill = _FILL.match(data, position + 1)
                position = fill.end() - 1 if fill else position + 1
                continue
            self._markers += 1
            if self._markers > self._limit:
                self.finished = self.too_many = True
                break
            if marker in _STANDALONE:
                position += 2
                continue
            length = int.from_bytes(data[position + 2 : position + 4], "big")
            if length < 2:
                self.finished = True
                break
            self.segments.append(Segment(marker, position + 4, length - 2))
            position += 2 + length
            if marker == 0xDA:  # start of scan: the metadata is behind us
                self.finished = True
                break
        self.position = position

    @property
    def metadata_end(self) -> int:
        """Where the last segment before the image data ends (2: none)."""
        for segment in reversed(self.segments):
            if segment.marker != 0xDA:
                return segment.end
        return 2

    @property
    def scan_start(self) -> int | None:
        """Where the image data starts, once the walk has reached it."""
        last = self.segments[-1] if self.segments else None
        return last.end if last is not None and last.marker == 0xDA else None


def walk(data: bytes | bytearray) -> SegmentWalker:
    """The segments of a JPEG whose first bytes are `data` (none if it is not a JPEG)."""
    walker = SegmentWalker()
    walker.walk(data)
    return walker


def segments(data: bytes) -> Iterator[Segment]:
    """The marker segments before the image data (stops at SOS or where `data` ends)."""
    yield from walk(data).segments


def metadata_end(data: bytes) -> int | None:
    """Offset where the last metadata segment ends (None if not a JPEG): how much of the
    file must be read to see all its EXIF, XMP and IPTC."""
    if not data.startswith(b"\xff\xd8"):
        return None
    return walk(data).metadata_end


_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def frame_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the start-of-frame segment, if it lies within `data`."""
    for segment in segments(data):
        if segment.marker in _FRAME_MARKERS and segment.end <= len(data) and segment.length >= 5:
            height = int.from_bytes(data[segment.start + 1 : segment.start + 3], "big")
            width = int.from_bytes(data[segment.start + 3 : segment.start + 5], "big")
            return width, height
    return None


def iptc_fields(data: bytes, found_segments: list[Segment] | None = None) -> dict[str, list[str]]:
    """IPTC-IIM ObjectName, Caption-Abstract and Keywords from Photoshop's APP13 (give
    `found_segments` when `data` has been walked already)."""
    found: dict[str, list[str]] = {}
    for segment in walk(data).segments if found_segments is None else found_segments:
        payload = data[segment.start : segment.end]
        if segment.marker != 0xED or not payload.startswith(b"Photoshop 3.0\x00"):
            continue
        for resource_id, block in _photoshop_resources(payload[14:]):
            if resource_id == 0x0404:
                for name, value in _iim_records(block):
                    found.setdefault(name, []).append(value)
    return found


def _photoshop_resources(data: bytes) -> Iterator[tuple[int, bytes]]:
    position = 0
    while position + 12 <= len(data) and data[position : position + 4] == b"8BIM":
        resource_id = int.from_bytes(data[position + 4 : position + 6], "big")
        name_length = data[position + 6]
        position += 7 + name_length
        position += position % 2  # the Pascal name is padded to an even length
        if position + 4 > len(data):
            return
        size = int.from_bytes(data[position : position + 4], "big")
        position += 4
        yield resource_id, data[position : position + size]
        position += size + size % 2


def _iim_records(block: bytes) -> Iterator[tuple[str, str]]:
    position = 0
    while position + 5 <= len(block) and block[position] == 0x1C:
        record, dataset = block[position + 1], block[position + 2]
        size = int.from_bytes(block[position + 3 : position + 5], "big")
        if size & 0x8000:  # extended length: not used for text fields; stop safely
            return
        value = block[position + 5 : position + 5 + size]
        position += 5 + size
        if record == 2 and dataset in _IPTC_DATASETS:
            yield _IPTC_DATASETS[dataset], _decode(value)


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


_RESTART_OR_SCAN = re.compile(rb"\xff([\xd0-\xd7\xda])")
_IN_ORDER = bytes(range(0xD0, 0xD8)) * 2
_HEADER_LIMIT = 4 * 1024 * 1024


class ScanChecker:
    """Checks a JPEG's bytes as they stream past (during hashing): restart markers in
    order, and the file ending with the end-of-image marker. No pixels are decoded, and
    the image data is searched for markers by the regex engine, never byte by byte."""

    def __init__(self) -> None:
        self._walker: SegmentWalker | None = SegmentWalker()
        self._header = bytearray()
        self._scanning = False
        self._skip = 0
        self._previous_restart: int | None = None
        self._pending_ff = False
        self.restart_breaks = 0
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        self._tail = (self._tail + chunk[-2:])[-2:]
        if self._walker is not None:  # still in the segments before the image data
            self._header += chunk
            self._walker.walk(self._header)
            scan_start = self._walker.scan_start
            if scan_start is None:
                # Not a JPEG, broken, too many segments, or no scan in 4 MB: stop looking
                # (the end-of-image check still applies).
                if self._walker.finished or len(self._header) > _HEADER_LIMIT:
                    self._walker, self._header = None, bytearray()
                return
            chunk = bytes(self._header[scan_start:])
            self._skip = max(0, scan_start - len(self._header))  # SOS split across chunks
            self._walker, self._header = None, bytearray()
            self._scanning = True
        elif self._skip:
            skipped = min(self._skip, len(chunk))
            chunk, self._skip = chunk[skipped:], self._skip - skipped
        if self._scanning:
            self._check_restarts(chunk)

    def _check_restarts(self, chunk: bytes) -> None:
        if self._pending_ff and chunk:
            self._marker(chunk[0])
        self._pending_ff = chunk.endswith(b"\xff")
        markers = b"".join(_RESTART_OR_SCAN.findall(chunk))
        if not markers:
            return
        previous = self._previous_restart
        expected_first = markers[0] if previous is None else 0xD0 + (previous + 1) % 8
        if markers[0] == expected_first and _in_order(markers):  # the usual case, at C speed
            self._previous_restart = markers[-1] - 0xD0
            return
        for marker in markers:
            self._marker(marker)

    def _marker(self, marker: int) -> None:
        if marker == 0xDA:  # a progressive JPEG's next scan numbers its restarts anew
            self._previous_restart = None
        elif 0xD0 <= marker <= 0xD7:
            number = marker - 0xD0
            if self._previous_restart is not None and number != (self._previous_restart + 1) % 8:
                self.restart_breaks += 1
            self._previous_restart = number

    def warnings(self) -> list[str]:
        found = []
        if self.restart_breaks:
            places = self.restart_breaks
            found.append(f"image data damaged: restart markers out of order in {places} place(s)")
        if self._tail != b"\xff\xd9":
            found.append("JPEG is truncated: the end-of-image marker is missing")
        return found


def _in_order(markers: bytes) -> bool:
    """Whether restart markers (RST0..RST7 bytes) follow each other 0, 1, .., 7, 0, .."""
    offset = markers[0] - 0xD0
    if not 0 <= offset < 8:
        return False
    pattern = _IN_ORDER[offset : offset + 8]
    return markers == pattern * (len(markers) // 8) + pattern[: len(markers) % 8]
