"""Read a photo's metadata from its first bytes only: EXIF, XMP and IPTC merged into one
typed result. Broken metadata never raises: it falls back and says why in `warnings`."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flickr_ingest.metadata import jpeg
from flickr_ingest.metadata.exif import ExifFields, read_exif
from flickr_ingest.metadata.xmp import XmpFields, read_xmp

logger = logging.getLogger(__name__)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")

#: What is read first. A JPEG's segments then say exactly how much holds its metadata
#: (read up to MAX_HEAD_BYTES); other formats are read up to HEAD_BYTES.
FIRST_READ_BYTES = 16 * 1024
HEAD_BYTES = 256 * 1024
MAX_HEAD_BYTES = 1024 * 1024

# Texts cameras write into ImageDescription by themselves: not a caption.
_BOILERPLATE = {
    "olympus digital camera",
    "sony dsc",
    "konica minolta digital camera",
    "minolta digital camera",
    "digital camera",
    "default",
    "camera",
    "image",
    "kodak digital still camera",
    "samsung digital camera",
    "exif_jpeg_picture",
    "lg digital camera",
    "hp digital camera",
    "vivitar",
    "sanyo digital camera",
    "picasa",
    "untitled",
    "no title",
    "description",
}


@dataclass(frozen=True)
class PhotoMetadata:
    title: str | None = None  # XMP dc:title, else IPTC ObjectName
    caption: str | None = None  # XMP dc:description, else IPTC Caption-Abstract
    camera_description: str | None = None  # EXIF ImageDescription, boilerplate removed
    keywords: tuple[str, ...] = ()
    date_taken: str | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    orientation: int | None = None
    warnings: tuple[str, ...] = ()


def head_for_metadata(read_range: Callable[[int, int], bytes], size: int) -> bytes:
    """The first bytes of a file, enough for its metadata and no more: for a JPEG up to
    the end of its metadata segments (at most MAX_HEAD_BYTES), else HEAD_BYTES."""
    head = bytearray(read_range(0, min(size, FIRST_READ_BYTES)))
    if not head.startswith(b"\xff\xd8"):
        if len(head) < min(HEAD_BYTES, size):
            head += read_range(len(head), min(HEAD_BYTES, size) - len(head))
        return bytes(head)
    # Each read continues the segment walk where the last one stopped (linear however many
    # segments), until it reaches the image data or the cap.
    walker = jpeg.SegmentWalker()
    walker.walk(head)
    limit = min(MAX_HEAD_BYTES, size)
    while not walker.finished and len(head) < limit:
        # At least 8 KiB a read: fewer round trips while walking many small segments.
        until = min(max(walker.position + 4, len(head) + 8 * 1024), limit)
        more = read_range(len(head), until - len(head))
        if not more:
            break
        head += more
        walker.walk(head)
    return bytes(head)


def read_file_metadata(file: Path | BinaryIO, size: int) -> PhotoMetadata:
    """The metadata of a local file (a path, or a file already open) of `size` bytes,
    reading only its head."""
    if not isinstance(file, Path):
        return _read_open_metadata(file, size)
    with open(file, "rb") as stream:
        return _read_open_metadata(stream, size)


def _read_open_metadata(stream: BinaryIO, size: int) -> PhotoMetadata:
    def read_range(start: int, length: int) -> bytes:
        stream.seek(start)
        return stream.read(length)

    return read_metadata(head_for_metadata(read_range, size), size=size)


def read_metadata(head: bytes, *, size: int | None = None) -> PhotoMetadata:
    warnings: list[str] = []
    structure = jpeg.walk(head) if head.startswith(b"\xff\xd8") else None
    exif = _exif(head, structure, warnings) if _carries_exif(head) else ExifFields()
    xmp = _xmp(head, warnings)
    iptc = jpeg.iptc_fields(head, structure.segments) if structure is not None else {}
    if structure is not None and structure.too_many:
        warnings.append(
            f"more than {jpeg.MAX_MARKERS:,} JPEG segments before the image data;"
            " the rest was not read"
        )
    elif (
        structure is not None
        and structure.metadata_end > len(head)
        and (size is None or len(head) < size)
    ):
        warnings.append(f"metadata runs past the first {len(head):,} bytes; the rest was not read")
    keywords = list(xmp.keywords) + [path.split("|")[-1] for path in xmp.hierarchical_keywords]
    keywords += iptc.get("keywords", [])
    return PhotoMetadata(
        title=_clean(xmp.title) or _clean(_first(iptc.get("object_name"))),
        caption=_clean(xmp.description) or _clean(_first(iptc.get("caption"))),
        camera_description=_meaningful_description(exif),
        keywords=tuple(dict.fromkeys(k.strip() for k in keywords if k and k.strip())),
        date_taken=exif.date_taken or _xmp_date(xmp.date_created),
        make=exif.make,
        model=exif.model,
        lens=exif.lens or xmp.lens,
        latitude=exif.latitude,
        longitude=exif.longitude,
        orientation=exif.orientation,
        warnings=tuple(warnings),
    )


def _xmp(head: bytes, warnings: list[str]) -> XmpFields:
    try:
        xmp = read_xmp(head) or XmpFields()
    except Exception as error:  # a parser's surprise on hostile input is a warning too
        logger.debug("XMP reading failed", exc_info=True)
        warnings.append(f"XMP unreadable ({type(error).__name__}); metadata from EXIF/IPTC only")
        return XmpFields()
    warnings += xmp.warnings
    return xmp


def _exif(head: bytes, structure: jpeg.SegmentWalker | None, warnings: list[str]) -> ExifFields:
    exif_bytes = _exif_bytes(head, structure)
    if exif_bytes is None:
        warnings.append("no EXIF metadata: no camera, date taken or position")
        return ExifFields()
    try:
        exif = read_exif(exif_bytes)
    except Exception as error:  # exifread fails in many ways on hostile input
        logger.debug("exifread failed", exc_info=True)
        warnings.append(f"EXIF unreadable ({type(error).__name__}); metadata from XMP/IPTC only")
        return ExifFields()
    if exif.tag_count == 0:
        warnings.append("EXIF block present but unreadable; metadata from XMP/IPTC only")
    return exif


def _carries_exif(head: bytes) -> bool:
    """Formats whose files normally carry EXIF (JPEG, TIFF, HEIF)."""
    return (
        head.startswith(b"\xff\xd8")
        or head[:4] in (b"II*\x00", b"MM\x00*")
        or (head[4:8] == b"ftyp")
    )


def _exif_bytes(head: bytes, structure: jpeg.SegmentWalker | None) -> bytes | None:
    """What exifread should read: for a JPEG, its EXIF segment alone (exifread gives up on
    files whose first APP1 segment is XMP, and so misses an EXIF segment behind it)."""
    if structure is not None:
        for segment in structure.segments:
            if (
                segment.marker == 0xE1
                and head[segment.start : segment.start + 6] == b"Exif\x00\x00"
            ):
                return b"\xff\xd8" + head[segment.start - 4 : segment.end]
        return None
    return head  # TIFF and HEIF: exifread walks their structure itself


def _meaningful_description(exif: ExifFields) -> str | None:
    text = _clean(exif.description)
    if not text:
        return None
    lowered = text.lower()
    camera_names = {(exif.make or "").strip().lower(), (exif.model or "").strip().lower()}
    if lowered in _BOILERPLATE or lowered in camera_names:
        return None
    return text


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    return text or None


def _xmp_date(value: str | None) -> str | None:
    """'2005-09-07T15:07:40-07:00' -> '2005-09-07T15:07:40' (local time, as EXIF)."""
    if not value or len(value) < 10:
        return None
    date = value[:10]
    time = value[11:19] if len(value) >= 19 and value[10] == "T" else "00:00:00"
    if not _DATE.fullmatch(date):  # ASCII digits only: str.isdigit() also takes '²'
        return None
    return f"{date}T{time}" if _TIME.fullmatch(time) else f"{date}T00:00:00"
