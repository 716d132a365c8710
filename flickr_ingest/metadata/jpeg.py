"""JPEG structure without decoding pixels: where the metadata segments are, the IPTC
record inside Photoshop's APP13, and the scan data's integrity."""

from __future__ import annotations

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


def segments(data: bytes) -> Iterator[Segment]:
    """The marker segments before the image data (stops at SOS or where `data` ends)."""
    if not data.startswith(b"\xff\xd8"):
        return
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            return
        yield Segment(marker, position + 4, length - 2)
        if marker == 0xDA:  # start of scan: the metadata is behind us
            return
        position += 2 + length


def metadata_end(data: bytes) -> int | None:
    """Offset where the last metadata segment ends (None if not a JPEG): how much of the
    file must be read to see all its EXIF, XMP and IPTC."""
    if not data.startswith(b"\xff\xd8"):
        return None
    end = 2
    for segment in segments(data):
        if segment.marker == 0xDA:
            break
        end = segment.end
    return end


_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def frame_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the start-of-frame segment, if it lies within `data`."""
    for segment in segments(data):
        if segment.marker in _FRAME_MARKERS and segment.end <= len(data) and segment.length >= 5:
            height = int.from_bytes(data[segment.start + 1 : segment.start + 3], "big")
            width = int.from_bytes(data[segment.start + 3 : segment.start + 5], "big")
            return width, height
    return None


def iptc_fields(data: bytes) -> dict[str, list[str]]:
    """IPTC-IIM ObjectName, Caption-Abstract and Keywords from Photoshop's APP13."""
    found: dict[str, list[str]] = {}
    for segment in segments(data):
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


class ScanChecker:
    """Checks a JPEG's bytes as they stream past (during hashing): restart markers in
    order, and the file ending with the end-of-image marker. No pixels are decoded."""

    def __init__(self) -> None:
        self._in_scan = False
        self._header = bytearray()
        self._previous_restart: int | None = None
        self._pending_ff = False
        self.restart_breaks = 0
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        self._tail = (self._tail + chunk)[-2:]
        if not self._in_scan:
            self._header += chunk
            scan_start = _scan_start(bytes(self._header))
            if scan_start is None:
                if len(self._header) > 4 * 1024 * 1024:  # no scan in 4 MB: give up quietly
                    self._header = bytearray()
                return
            chunk = bytes(self._header[scan_start:])
            self._header = bytearray()
            self._in_scan = True
        self._check_restarts(chunk)

    def _check_restarts(self, chunk: bytes) -> None:
        start = 0
        if self._pending_ff and chunk:
            self._restart(chunk[0])
            start = 1
        self._pending_ff = False
        position = chunk.find(b"\xff", start)
        while position != -1:
            if position + 1 >= len(chunk):
                self._pending_ff = True
                return
            self._restart(chunk[position + 1])
            position = chunk.find(b"\xff", position + 2)

    def _restart(self, marker: int) -> None:
        if 0xD0 <= marker <= 0xD7:
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


def _scan_start(data: bytes) -> int | None:
    for segment in segments(data):
        if segment.marker == 0xDA:
            return segment.end if segment.end <= len(data) else None
    return None
